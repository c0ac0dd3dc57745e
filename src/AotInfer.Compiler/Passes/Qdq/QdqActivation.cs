using AotInfer.Compiler.IR;
using AotInfer.Compiler.Ops.Quantization;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Passes.Qdq;

/// <summary>
/// Whether a Relu or Clip between an op and its QuantizeLinear changes anything. QuantizeLinear is monotone, so
/// Q(clip(y, lo, hi)) = clamp(Q(y), Q(lo), Q(hi)); when Q(lo) and Q(hi) are already the ends of the integer range the
/// saturation of the integer kernel does the clipping and the activation can go (ONNX Runtime's rule too).
/// </summary>
internal static class QdqActivation
{
    /// <summary>True when <paramref name="activation"/> (Relu or Clip with constant bounds) is implied by <paramref name="output"/>'s range.</summary>
    public static bool IsRedundant(Node activation, QdqParameters output)
    {
        if (!output.IsEightBit) return false;
        var q = new QuantizationParameters(output.Scales[0], (int)output.ZeroPoints[0]);
        var (min, max) = ContribQuantization.Range(output.IntegerType);
        if (!Bounds(activation, out float low, out float high)) return false;
        bool lowImplied = float.IsNegativeInfinity(low) || ContribQuantization.Quantize(low, q, output.IntegerType) <= min;
        bool highImplied = float.IsPositiveInfinity(high) || ContribQuantization.Quantize(high, q, output.IntegerType) >= max;
        return lowImplied && highImplied;
    }

    static bool Bounds(Node activation, out float low, out float high)
    {
        low = float.NegativeInfinity;
        high = float.PositiveInfinity;
        if (activation.OpType == "Relu") { low = 0; return true; }
        if (activation.Opset < 11)
        {
            low = activation.Attributes.Float("min", low);
            high = activation.Attributes.Float("max", high);
            return true;
        }
        return Bound(activation.Input(1), ref low) && Bound(activation.Input(2), ref high);
    }

    static bool Bound(Value? input, ref float bound)
    {
        if (input is null) return true;
        if (FusionGraph.FloatConstant(input) is not { Length: 1 } value || float.IsNaN(value[0])) return false;
        bound = value[0];
        return true;
    }
}
