using System.Collections.Generic;

namespace AotInfer.Compiler.Ops.Quantization;

/// <summary>
/// Registers the quantisation ops: QuantizeLinear / DequantizeLinear / DynamicQuantizeLinear, and the integer
/// matrix products and convolutions (ONNX and com.microsoft) that share the int8 GEMM.
/// </summary>
public static class QuantizationFamily
{
    /// <summary>All lowerings of the family.</summary>
    public static IEnumerable<OpLowering> All()
    {
        yield return new LinearQuantizationLowering(quantize: true);
        yield return new LinearQuantizationLowering(quantize: false);
        yield return new DynamicQuantizeLinearLowering();
        yield return new QuantizedMatMulLowering(QuantizedMatMulKind.MatMulInteger);
        yield return new QuantizedMatMulLowering(QuantizedMatMulKind.QLinearMatMul);
        yield return new QuantizedMatMulLowering(QuantizedMatMulKind.MatMulIntegerToFloat);
        yield return new QuantizedMatMulLowering(QuantizedMatMulKind.DynamicQuantizeMatMul);
        yield return new QuantizedMatMulLowering(QuantizedMatMulKind.QGemm);
        yield return new QuantizedConvLowering(requantize: false);
        yield return new QuantizedConvLowering(requantize: true);
    }
}
