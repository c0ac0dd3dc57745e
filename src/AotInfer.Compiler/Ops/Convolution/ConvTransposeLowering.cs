using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Convolution;

/// <summary>
/// ConvTranspose (opsets 1 and 11) over float tensors: groups, dilations, strides, output_padding, output_shape,
/// explicit or automatic padding, optional bias. Computed as a GEMM with the transposed weight followed by a
/// col2im scatter (<c>gemm+col2im</c>); a constant weight is transposed once at build time.
/// </summary>
public sealed class ConvTransposeLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "ConvTranspose" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var layer = Describe(op);
        op.Node.Annotations["kernel"] = "gemm+col2im";
        op.Node.Annotations["window"] = layer.Geometry.ToString();
        op.SetOutput(0, DataType.Float, new[] { layer.Batch, layer.OutChannels }.Concat(layer.Geometry.Input).ToArray());
    }

    /// <inheritdoc/>
    public override bool ReadsInputAtRunTime(OpContext op, int inputIndex) => inputIndex != 1 || op.Input(1).Constant is null;

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var layer = Describe(op);
        int groupIn = layer.InChannels / layer.Groups;
        int rows = layer.OutChannels / layer.Groups * layer.Geometry.KernelSize;
        string kernels = $"{EmitContext.Kernels}.Convolution.Convolution";
        string weights;
        if (op.Input(1).Constant is { } constant)
        {
            weights = code.Constant(TransposeWeights(constant, layer.Groups, groupIn, rows), op.Input(1).Name + " (transposed per group for the GEMM)");
        }
        else
        {
            // A weight fed at run time is re-laid out on every run; constant weights never are.
            weights = "transposedWeights";
            code.Writer.Line($"var transposedWeights = {code.Scratch(DataType.Float, op.Input(1).ElementCount)};");
            code.Writer.Line($"{kernels}.TransposeWeights({code.In(1)}, transposedWeights, {layer.Groups}, {groupIn}, {rows});");
        }
        string bias = op.HasInput(2) ? code.In(2) : "global::System.ReadOnlySpan<float>.Empty";
        string columns = code.Scratch(DataType.Float, rows * layer.Geometry.OutputSize);
        code.Writer.Line($"{kernels}.Transposed({code.In(0)}, {weights}, {bias}, {code.Out(0)}, {columns}, " +
                         $"{layer.Batch}, {layer.InChannels}, {layer.OutChannels}, {layer.Groups}, {code.IntArray(layer.Geometry.Packed())});");
    }

    /// <summary>Per group, the <c>[C/group, rows]</c> block of the ONNX weight becomes its <c>[rows, C/group]</c> transpose.</summary>
    static Tensor TransposeWeights(Tensor weights, int groups, int groupIn, int rows)
    {
        float[] source = weights.As<float>();
        var result = new float[source.Length];
        for (int g = 0; g < groups; g++)
        {
            int offset = g * groupIn * rows;
            for (int c = 0; c < groupIn; c++)
                for (int r = 0; r < rows; r++)
                    result[offset + r * groupIn + c] = source[offset + c * rows + r];
        }
        return new Tensor(DataType.Float, new[] { groups * rows, groupIn }, result);
    }

    /// <summary>Everything the emitter needs about one ConvTranspose node, validated.</summary>
    sealed record Layer(int Batch, int InChannels, int OutChannels, int Groups, WindowGeometry Geometry);

    static Layer Describe(OpContext op)
    {
        var x = op.Input(0);
        var w = op.Input(1);
        if (x.Type != DataType.Float) throw op.Fail($"input X has element type {x.Type}; ConvTranspose is implemented for float only");
        if (w.Type != DataType.Float) throw op.Fail($"input W has element type {w.Type}, expected float like X");
        int[] xs = x.Shape!, ws = w.Shape!;
        if (xs.Length < 3) throw op.Fail($"input X must have rank 3 or more (N, C, spatial...), got rank {xs.Length}");
        if (ws.Length != xs.Length) throw op.Fail($"input W has rank {ws.Length}, expected {xs.Length} like X");
        long group = op.Attributes.Int("group", 1);
        if (group <= 0 || xs[1] % group != 0) throw op.Fail($"attribute group {group} must be positive and divide the input channels {xs[1]}");
        if (ws[0] != xs[1]) throw op.Fail($"input W has {ws[0]} input channels, expected {xs[1]} like X");
        int groups = (int)group, outChannels = ws[1] * groups;
        if (op.HasInput(2))
        {
            var b = op.Input(2);
            if (b.Type != DataType.Float || b.Shape!.Length != 1 || b.Shape[0] != outChannels)
                throw op.Fail($"input B must be float[{outChannels}], got {b.Type}[{string.Join(",", b.Shape!)}]");
        }
        int rank = xs.Length - 2;
        int[] kernel = WindowGeometry.KernelShape(op, rank, ws.Skip(2).ToArray());
        var geometry = WindowGeometry.ForTransposedConvolution(op, xs.Skip(2).ToArray(), kernel);
        return new Layer(xs[0], xs[1], outChannels, groups, geometry);
    }
}
