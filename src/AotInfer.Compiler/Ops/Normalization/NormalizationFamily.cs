using System.Collections.Generic;

namespace AotInfer.Compiler.Ops.Normalization;

/// <summary>Registers the normalisations and the softmax family.</summary>
public static class NormalizationFamily
{
    /// <summary>All lowerings of the family.</summary>
    public static IEnumerable<OpLowering> All()
    {
        yield return new SoftmaxLowering("Softmax");
        yield return new SoftmaxLowering("LogSoftmax");
        yield return new SoftmaxLowering("Hardmax");
        yield return new BatchNormalizationLowering();
        yield return new RowNormalizationLowering(RowNormalizationKind.Layer);
        yield return new RowNormalizationLowering(RowNormalizationKind.RootMeanSquare);
        yield return new RowNormalizationLowering(RowNormalizationKind.Group);
        yield return new RowNormalizationLowering(RowNormalizationKind.Instance);
        yield return new LpNormalizationLowering();
        yield return new LrnLowering();
        yield return new MeanVarianceNormalizationLowering();
    }
}
