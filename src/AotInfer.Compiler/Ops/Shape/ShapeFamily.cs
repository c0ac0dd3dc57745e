using System.Collections.Generic;

namespace AotInfer.Compiler.Ops.Shape;

/// <summary>Registers the shape and data-movement ops: they fold at compile time and copy spans at run time.</summary>
public static class ShapeFamily
{
    /// <summary>All lowerings of the family.</summary>
    public static IEnumerable<OpLowering> All()
    {
        yield return new ConstantLowering();
        yield return new ConstantOfShapeLowering();
        yield return new ShapeOfLowering();
        yield return new ReshapeLowering();
        yield return new FlattenLowering();
        yield return new SqueezeLowering();
        yield return new IdentityLowering();
        yield return new TransposeLowering();
        yield return new ConcatLowering();
        yield return new SplitLowering();
        yield return new SliceLowering();
        yield return new CastLowering();
        yield return new RangeLowering();
        yield return new ExpandLowering();
        yield return new TileLowering();
    }
}
