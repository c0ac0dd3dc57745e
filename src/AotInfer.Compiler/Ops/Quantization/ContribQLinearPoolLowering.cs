using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Compiler.Ops.Convolution;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Quantization;

/// <summary>
/// com.microsoft QLinearAveragePool and QLinearGlobalAveragePool (X, X_scale, X_zero_point, Y_scale,
/// Y_zero_point). The global pool sums each plane exactly in int32 and requantises once, as MLAS does (NCHW or
/// channels_last). The windowed pool follows ONNX Runtime's kernel: dequantize to float, average each window
/// with ONNX Runtime's window rules (windows clipped to the input, the end padding only shapes the output), quantize.
/// </summary>
public sealed class ContribQLinearPoolLowering : OpLowering
{
    readonly bool _global;

    /// <summary>Creates the lowering of QLinearGlobalAveragePool (<paramref name="global"/>) or QLinearAveragePool.</summary>
    public ContribQLinearPoolLowering(bool global) => _global = global;

    /// <inheritdoc/>
    public override string[] OpTypes => new[] { _global ? "QLinearGlobalAveragePool" : "QLinearAveragePool" };

    /// <inheritdoc/>
    public override string Domain => "com.microsoft";

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var x = op.Input(0);
        ContribQuantization.CheckEightBit(op, x.Type, "input X");
        int[] shape = x.Shape!;
        if (shape.Length < 3) throw op.Fail($"input X must have rank 3 or more, got rank {shape.Length}");
        var (qx, qy) = Parameters(op);
        bool channelsLast = ChannelsLast(op);
        op.Node.Annotations["precision"] = "int8";
        op.Node.Annotations["quantization"] = $"X {qx}; Y {qy}";
        if (_global)
        {
            int[] output = channelsLast
                ? new[] { shape[0] }.Concat(Enumerable.Repeat(1, shape.Length - 2)).Concat(new[] { shape[shape.Length - 1] }).ToArray()
                : new[] { shape[0], shape[1] }.Concat(Enumerable.Repeat(1, shape.Length - 2)).ToArray();
            if (!channelsLast && shape.Skip(2).Aggregate(1L, (a, b) => a * b) >= 0x1000000) throw op.Fail("the image is too large (ONNX Runtime limits it to 2^24 elements)");
            op.SetOutput(0, x.Type, output);
            return;
        }
        if (channelsLast) throw op.Fail("attribute channels_last = 1 is not supported for QLinearAveragePool (NCHW only)");
        if (shape.Length > 5) throw op.Fail($"QLinearAveragePool supports 1 to 3 spatial dimensions, got {shape.Length - 2}");
        var geometry = Geometry(op);
        op.Node.Annotations["window"] = geometry.ToString();
        op.SetOutput(0, x.Type, new[] { shape[0], shape[1] }.Concat(geometry.Output).ToArray());
    }

    static bool ChannelsLast(OpContext op)
    {
        long value = op.Attributes.Int("channels_last", 0);
        if (value is not (0 or 1)) throw op.Fail($"attribute channels_last {value} must be 0 or 1");
        return value == 1;
    }

    static WindowGeometry Geometry(OpContext op)
    {
        int[] shape = op.Shape(0);
        long ceilMode = op.Attributes.Int("ceil_mode", 0);
        if (ceilMode is not (0 or 1)) throw op.Fail($"attribute ceil_mode {ceilMode} must be 0 or 1");
        if (op.Attributes.Has("dilations")) throw op.Fail("attribute dilations is not supported by QLinearAveragePool");
        int[] kernel = WindowGeometry.KernelShape(op, shape.Length - 2, null);
        return WindowGeometry.ForPooling(op, shape.Skip(2).ToArray(), kernel, ceilMode == 1);
    }

    static (QuantizationParameters X, QuantizationParameters Y) Parameters(OpContext op) =>
        (ContribQuantization.Read(op, 1, 2, op.Type(0), "X"), ContribQuantization.Read(op, 3, 4, op.Type(0), "Y"));

    /// <inheritdoc/>
    public override bool ReadsInputAtRunTime(OpContext op, int inputIndex) => inputIndex == 0;

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var (qx, qy) = Parameters(op);
        int[] shape = op.Shape(0);
        string t = code.InType(0);
        string k = EmitContext.Kernels;
        if (_global)
        {
            int size = shape.Skip(2).Aggregate(1, (a, b) => a * b);
            if (ChannelsLast(op))
            {
                int channels = shape[shape.Length - 1];
                size = shape.Skip(1).Take(shape.Length - 2).Aggregate(1, (a, b) => a * b);
                string sums = code.Scratch(DataType.Int32, channels);
                code.Writer.Line($"{k}.Quantization.QLinearPooling.GlobalAverageChannelsLast<{t}>({code.In(0)}, {qx.Arguments}, {code.Out(0)}, {qy.Arguments}, {shape[0]}, {size}, {channels}, {sums});");
                return;
            }
            code.Writer.Line($"{k}.Quantization.QLinearPooling.GlobalAverage<{t}>({code.In(0)}, {qx.Arguments}, {code.Out(0)}, {qy.Arguments}, {shape[0] * shape[1]}, {size});");
            return;
        }
        var geometry = Geometry(op);
        bool includePad = op.Attributes.Int("count_include_pad", 0) != 0;
        var packed = Enumerable.Range(0, geometry.Rank).SelectMany(d => new[]
            { geometry.Input[d], geometry.Output[d], geometry.Kernel[d], geometry.Strides[d], geometry.PadsBegin[d] });
        code.Writer.Line($"var dequantized = {code.Scratch(DataType.Float, op.Input(0).ElementCount)};");
        code.Writer.Line($"{k}.Quantization.QLinearPooling.Dequantize<{t}>({code.In(0)}, {qx.Arguments}, dequantized);");
        code.Writer.Line($"{k}.Quantization.QLinearPooling.Average<{t}>(dequantized, {code.Out(0)}, {shape[0] * shape[1]}, {code.IntArray(packed)}, " +
                         $"{(includePad ? "true" : "false")}, {qy.Arguments});");
    }
}
