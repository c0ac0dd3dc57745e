using System.Linq;

namespace AotInfer.Compiler.Ops;

/// <summary>The list of op families; each family file registers its own lowerings.</summary>
internal static partial class OpFamilies
{
    internal static void RegisterAll(OpRegistry registry)
    {
        // One line per family; each family lives in its own folder under Ops/.
        foreach (var lowering in Elementwise.ElementwiseFamily.All()) registry.Add(lowering);
        foreach (var lowering in Loss.ClassificationLossLowering.All()) registry.Add(lowering);
        foreach (var lowering in Sampling.GridSampleLowering.All()) registry.Add(lowering);
        foreach (var lowering in Signal.WindowFunctionLowering.All()) registry.Add(lowering);
        foreach (var lowering in Reduction.ReductionFamily.All()) registry.Add(lowering);
        foreach (var lowering in Normalization.NormalizationFamily.All()) registry.Add(lowering);
        foreach (var lowering in Transformer.TransformerFamily.All()) registry.Add(lowering);
        foreach (var lowering in Indexing.IndexingFamily.All()) registry.Add(lowering);
        foreach (var lowering in Misc.MiscFamily.All()) registry.Add(lowering);
        foreach (var lowering in Convolution.ConvolutionFamily.All().Concat(Pooling.PoolingFamily.All())) registry.Add(lowering);
        foreach (var lowering in Linear.LinearFamily.All()) registry.Add(lowering);
        foreach (var lowering in Shape.ShapeFamily.All()) registry.Add(lowering);
        foreach (var lowering in Resize.ResizeFamily.All()) registry.Add(lowering);
        foreach (var lowering in Matrix.MatrixFamily.All()) registry.Add(lowering);
        foreach (var lowering in Quantization.ContribQuantizationFamily.All()) registry.Add(lowering);
        foreach (var lowering in Quantization.QuantizationFamily.All()) registry.Add(lowering);
        foreach (var lowering in Bitwise.BitwiseFamily.All()) registry.Add(lowering);
        foreach (var lowering in Recurrent.RecurrentFamily.All()) registry.Add(lowering);
    }
}
