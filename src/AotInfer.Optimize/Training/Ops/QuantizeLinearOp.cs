using System;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Quantization;

namespace AotInfer.Optimize.Training.Ops;

/// <summary>
/// QuantizeLinear of an activation, per tensor: q = clamp(round(x / scale) + zero point, qmin, qmax), held as float.
/// Backward is the straight-through estimator: dx = dy / scale where x fell inside the representable range, 0 where it
/// was clamped (with <see cref="DequantizeLinearOp"/>'s dx = dy·scale the pair passes the gradient through unchanged
/// inside the range).
/// </summary>
/// <remarks>
/// Training a graph with QuantizeLinear is quantisation-aware training: in training mode the op follows the range of
/// its input with an exponential moving average of each batch's minimum and maximum (the first batch sets it) and
/// rewrites its scale and zero point from that range as <see cref="StaticQuantizer.ActivationParameters"/> does
/// (asymmetric, including 0), so the values the graph holds are the ones a QDQ export stores. In evaluation mode the
/// stored scale and zero point are used as they are.
/// </remarks>
public sealed class QuantizeLinearOp : TrainingOp
{
    /// <summary>Weight of the history in the moving average of the range (PyTorch's observers use 0.99 as well).</summary>
    public const float RangeMomentum = 0.99f;

    readonly int _qmin, _qmax;
    readonly bool _signed;
    readonly float _initialZeroPoint;
    float[] _inRange = Array.Empty<float>();
    float _usedScale = 1;
    float _low, _high;
    bool _observed;

    /// <summary>Wraps <paramref name="node"/>; the scale and zero point must be constant scalars.</summary>
    public QuantizeLinearOp(NodeProto node, OpSetup setup) : base(node)
    {
        if (node.Input.Count < 2 || setup.Constant(node.Input[1]) is not { } scale || scale.Length != 1)
            throw new InvalidOperationException($"{Description}: training needs a constant scalar scale (per-tensor quantisation)");
        var zeroPoint = node.Input.Count > 2 && node.Input[2].Length > 0 ? setup.Constant(node.Input[2]) : null;
        if (node.Input.Count > 2 && node.Input[2].Length > 0 && (zeroPoint is null || zeroPoint.Length != 1))
            throw new InvalidOperationException($"{Description}: training needs a constant scalar zero point");
        if (zeroPoint is not null && zeroPoint.Type is not (DataType.UInt8 or DataType.Int8))
            throw new InvalidOperationException($"{Description}: training supports uint8 and int8 quantisation, not {zeroPoint.Type}");
        _signed = zeroPoint?.Type == DataType.Int8;
        (_qmin, _qmax) = _signed ? (-128, 127) : (0, 255);
        _initialZeroPoint = zeroPoint is null ? 0 : (float)zeroPoint.ToDouble()[0];
    }

    /// <summary>The name the zero point lives under in the context (a float copy of the initializer, or a private one when absent).</summary>
    string ZeroPointName => Inputs.Count > 2 && Inputs[2].Length > 0 ? Inputs[2] : Outputs[0] + "::zero_point";

    /// <inheritdoc />
    public override void Forward(TrainingContext context)
    {
        var x = context.Value(Inputs[0]);
        if (!context.HasValue(ZeroPointName)) context.Define(ZeroPointName, new TrainingTensor(Array.Empty<int>(), new[] { _initialZeroPoint }));
        Span<float> scale = context.Value(Inputs[1]).Span, zeroPoint = context.Value(ZeroPointName).Span;
        if (context.Training) Observe(x.Span, scale, zeroPoint);
        float s = scale[0], z = zeroPoint[0];
        if (!(s > 0)) throw Error($"scale {s} must be positive");
        _usedScale = s;
        Span<float> input = x.Span, output = context.Output(Outputs[0], x.Shape).Span;
        if (_inRange.Length < input.Length) _inRange = new float[input.Length];
        for (int i = 0; i < input.Length; i++)
        {
            float q = MathF.Round(input[i] / s) + z;
            _inRange[i] = q >= _qmin && q <= _qmax ? 1f : 0f;
            output[i] = Math.Clamp(q, _qmin, _qmax);
        }
    }

    void Observe(ReadOnlySpan<float> x, Span<float> scale, Span<float> zeroPoint)
    {
        float low = float.PositiveInfinity, high = float.NegativeInfinity;
        foreach (float v in x)
        {
            low = MathF.Min(low, v);
            high = MathF.Max(high, v);
        }
        if (x.Length == 0) return;
        if (!_observed) (_low, _high, _observed) = (low, high, true);
        else
        {
            _low = RangeMomentum * _low + (1 - RangeMomentum) * low;
            _high = RangeMomentum * _high + (1 - RangeMomentum) * high;
        }
        var (s, z) = StaticQuantizer.ActivationParameters((_low, _high), symmetric: false, signed: _signed);
        scale[0] = s;
        zeroPoint[0] = z;
    }

    /// <inheritdoc />
    public override void Backward(TrainingContext context)
    {
        if (!context.RequiresGradient(Inputs[0]) || context.Gradient(Outputs[0]) is not { } dy) return;
        Span<float> dyv = dy.Span, dx = context.GradientTarget(Inputs[0], out bool accumulate);
        float inverse = 1 / _usedScale;
        for (int i = 0; i < dyv.Length; i++)
        {
            float g = dyv[i] * inverse * _inRange[i];
            dx[i] = accumulate ? dx[i] + g : g;
        }
    }
}
