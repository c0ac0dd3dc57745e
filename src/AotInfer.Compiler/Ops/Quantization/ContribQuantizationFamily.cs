using System.Collections.Generic;

namespace AotInfer.Compiler.Ops.Quantization;

/// <summary>
/// Registers ONNX Runtime's com.microsoft quantized element-wise and pooling ops (QLinearAdd, QLinearMul,
/// QLinearSigmoid, QLinearLeakyRelu, QLinearAveragePool, QLinearGlobalAveragePool, QLinearConcat).
/// </summary>
public static class ContribQuantizationFamily
{
    /// <summary>All lowerings of the family.</summary>
    public static IEnumerable<OpLowering> All()
    {
        yield return new ContribQLinearBinaryLowering("QLinearAdd", "QLinearAddOperator");
        yield return new ContribQLinearBinaryLowering("QLinearMul", "QLinearMulOperator");
        yield return new ContribQLinearLookupLowering("QLinearSigmoid");
        yield return new ContribQLinearLookupLowering("QLinearLeakyRelu");
        yield return new ContribQLinearPoolLowering(global: false);
        yield return new ContribQLinearPoolLowering(global: true);
        yield return new ContribQLinearConcatLowering();
    }
}
