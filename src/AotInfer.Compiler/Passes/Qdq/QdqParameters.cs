using System.Linq;
using AotInfer.Compiler.IR;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Passes.Qdq;

/// <summary>
/// The operands of one DequantizeLinear or QuantizeLinear node of a QDQ pattern: the integer tensor, its scale and
/// zero point (values of the graph, reused as inputs of the integer node that replaces the pattern) and the axis
/// the scale runs along. Reading fails with a reason (null + <c>reason</c>) for what an integer kernel cannot take:
/// run-time scales, blocked quantisation, non-float scales.
/// </summary>
internal sealed class QdqParameters
{
    QdqParameters(Node source, Value data, Value scale, Value? zeroPoint, int axis, DataType integerType)
    {
        Source = source;
        Data = data;
        Scale = scale;
        ZeroPoint = zeroPoint;
        Axis = axis;
        IntegerType = integerType;
    }

    /// <summary>The DequantizeLinear or QuantizeLinear node.</summary>
    public Node Source { get; }

    /// <summary>The integer side: DequantizeLinear's input, or QuantizeLinear's output.</summary>
    public Value Data { get; }

    /// <summary>The constant float scale (one value, or one per slice along <see cref="Axis"/>).</summary>
    public Value Scale { get; }

    /// <summary>The constant zero point, or null when the node omits it (zero).</summary>
    public Value? ZeroPoint { get; }

    /// <summary>The normalised axis of per-axis parameters, or −1 when they are per tensor.</summary>
    public int Axis { get; }

    /// <summary>The integer element type.</summary>
    public DataType IntegerType { get; }

    /// <summary>True when one scale and zero point cover the whole tensor.</summary>
    public bool PerTensor => Axis < 0;

    /// <summary>True for int8 and uint8, the types the integer kernels take.</summary>
    public bool IsEightBit => IntegerType is DataType.Int8 or DataType.UInt8;

    /// <summary>The scale values.</summary>
    public float[] Scales => Scale.Constant!.As<float>();

    /// <summary>The zero-point values (one 0 when absent).</summary>
    public long[] ZeroPoints => ZeroPoint?.Constant!.ToInt64() ?? new long[] { 0 };

    /// <summary>For <c>inspect</c>: "int8 per tensor" or "int8 per axis 0".</summary>
    public override string ToString() => $"{IntegerType} {(PerTensor ? "per tensor" : $"per axis {Axis}")}";

    /// <summary>Same type, scales and zero points, so a value dequantised by one and quantised by the other is unchanged.</summary>
    public bool SameQuantization(QdqParameters other) =>
        IntegerType == other.IntegerType && PerTensor && other.PerTensor &&
        Scales.SequenceEqual(other.Scales) && ZeroPoints.SequenceEqual(other.ZeroPoints);

    /// <summary>The parameters of a DequantizeLinear node (live, or folded into a constant by shape inference).</summary>
    public static QdqParameters? OfDequantize(Node node, out string reason) =>
        Read(node, node.Input(0), node.Input(0)?.Type ?? DataType.Undefined, out reason);

    /// <summary>The parameters of a QuantizeLinear node.</summary>
    public static QdqParameters? OfQuantize(Node node, out string reason) =>
        Read(node, node.Outputs[0], node.Outputs[0].Type, out reason);

    static QdqParameters? Read(Node node, Value? data, DataType integerType, out string reason)
    {
        reason = "";
        var scale = node.Input(1);
        var zeroPoint = node.Input(2);
        if (data?.Shape is null || scale?.Shape is null)
            reason = $"{node} has no inferred data or scale";
        else if (scale.Constant is not { Type: DataType.Float } scaleValue)
            reason = $"{node}'s scale is not a float constant";
        else if (scaleValue.As<float>().Any(s => !(s > 0) || float.IsInfinity(s)))
            reason = $"{node}'s scale is not positive and finite";
        else if (zeroPoint is not null && zeroPoint.Constant is null)
            reason = $"{node}'s zero point is computed at run time";
        else if (node.Attributes.Int("block_size", 0) != 0)
            reason = $"{node} uses blocked quantisation";
        if (reason.Length > 0) return null;

        if (scale!.Constant!.Length == 1) return new QdqParameters(node, data!, scale, zeroPoint, -1, integerType);
        int rank = data!.Shape!.Length;
        long raw = node.Attributes.Int("axis", 1);
        long axis = raw < 0 ? raw + rank : raw;
        if (scale.Shape!.Length != 1 || axis < 0 || axis >= rank || data.Shape[axis] != scale.Shape[0])
        {
            reason = $"{node}'s scale {scale} does not run along axis {raw} of {data}";
            return null;
        }
        return new QdqParameters(node, data, scale, zeroPoint, (int)axis, integerType);
    }
}
