namespace AotInfer.Compiler.Ops.Shape;

/// <summary>Flatten: a 2-D view [product of dims before axis, product of the rest]; axis in [-rank, rank] (negative from opset 11).</summary>
public sealed class FlattenLowering : ViewLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "Flatten" };

    /// <inheritdoc/>
    protected override int[] OutputShape(OpContext op)
    {
        int[] input = op.Shape(0);
        long axis = op.Attributes.Int("axis", 1);
        if (axis < 0 && op.Opset < 11) throw op.Fail($"negative axis {axis} is allowed from opset 11");
        if (axis < 0) axis += input.Length;
        if (axis < 0 || axis > input.Length) throw op.Fail($"axis {op.Attributes.Int("axis", 1)} is out of range for rank {input.Length}");
        return new[] { ConstantData.Product(input, 0, (int)axis), ConstantData.Product(input, (int)axis, input.Length) };
    }
}
