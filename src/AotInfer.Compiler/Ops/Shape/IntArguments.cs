using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Shape;

/// <summary>
/// Reads integer lists (axes, shapes, splits) that ONNX moved from attributes to inputs in later opsets: before
/// the switch they come from the attribute, after it from a constant input.
/// </summary>
internal static class IntArguments
{
    /// <summary>
    /// The list from attribute <paramref name="name"/> when <c>opset &lt; inputSince</c>, else from constant input
    /// <paramref name="inputIndex"/>; null when the one that applies is absent.
    /// </summary>
    public static long[]? Read(OpContext op, string name, int inputIndex, int inputSince)
    {
        if (op.Opset < inputSince)
        {
            if (op.HasInput(inputIndex)) throw op.Fail($"'{name}' is an attribute before opset {inputSince}, not input {inputIndex}");
            return op.Attributes.Ints(name);
        }
        if (op.Attributes.Has(name)) throw op.Fail($"'{name}' is input {inputIndex} from opset {inputSince}, not an attribute");
        return op.OptionalConstantInput(inputIndex, name)?.ToInt64();
    }

    /// <summary>The elements of a constant integer tensor, failing for other element types.</summary>
    public static long[] Values(OpContext op, Tensor tensor, string role)
    {
        if (!DataTypes.IsInteger(tensor.Type)) throw op.Fail($"{role} must be an integer tensor, got {tensor.Type}");
        return tensor.ToInt64();
    }

    /// <summary>Normalises and checks a list of axes: each in range, none twice.</summary>
    public static int[] Axes(OpContext op, long[] axes, int rank, string what = "axes")
    {
        var result = new int[axes.Length];
        var seen = new bool[rank];
        for (int i = 0; i < axes.Length; i++)
        {
            result[i] = op.Axis(axes[i], rank, what);
            if (seen[result[i]]) throw op.Fail($"{what} lists axis {axes[i]} twice");
            seen[result[i]] = true;
        }
        return result;
    }
}
