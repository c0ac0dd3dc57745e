using System.Linq;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Shape;

/// <summary>
/// Reshape: the target shape is the <c>shape</c> attribute before opset 5 and a constant int64 input from opset 5.
/// A 0 copies the input's dimension at that position unless <c>allowzero</c>=1 (opset 14), where it means an
/// empty dimension; at most one -1 is inferred from the element count.
/// </summary>
public sealed class ReshapeLowering : ViewLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "Reshape" };

    /// <inheritdoc/>
    protected override int[] OutputShape(OpContext op)
    {
        long[] requested = op.Opset < 5
            ? op.Attributes.Ints("shape") ?? throw op.Fail("attribute 'shape' is required before opset 5")
            : IntArguments.Values(op, op.ConstantInput(1, "shape"), "input 1 (shape)");
        bool allowZero = op.Attributes.Int("allowzero", 0) != 0;
        if (allowZero && op.Opset < 14) throw op.Fail("attribute 'allowzero' exists from opset 14");
        int[] input = op.Shape(0);
        var shape = new int[requested.Length];
        int inferred = -1;
        long known = 1;
        for (int i = 0; i < requested.Length; i++)
        {
            long d = requested[i];
            if (d == -1)
            {
                if (inferred >= 0) throw op.Fail($"shape [{string.Join(",", requested)}] has more than one -1");
                inferred = i;
                continue;
            }
            if (d == 0 && !allowZero)
            {
                if (i >= input.Length) throw op.Fail($"shape [{string.Join(",", requested)}] copies dimension {i} (a 0) but the input has rank {input.Length}");
                d = input[i];
            }
            if (d < 0 || d > ShapeMath.MaxElements) throw op.Fail($"shape [{string.Join(",", requested)}] has invalid dimension {d}");
            shape[i] = (int)d;
            known *= d;
        }
        if (allowZero && inferred >= 0 && requested.Contains(0))
            throw op.Fail("with allowzero=1 the shape may not contain both 0 and -1");
        if (inferred >= 0)
        {
            long total = op.Input(0).ElementCount;
            if (known == 0 || total % known != 0)
                throw op.Fail($"cannot infer the -1 in shape [{string.Join(",", requested)}] for an input of {total} elements");
            shape[inferred] = (int)(total / known);
        }
        return shape;
    }
}
