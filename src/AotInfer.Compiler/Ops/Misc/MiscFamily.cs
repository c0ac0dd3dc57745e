using System.Collections.Generic;

namespace AotInfer.Compiler.Ops.Misc;

/// <summary>Registers the miscellaneous ops: Where, OneHot, Clip, CumSum, CumProd, Sum/Mean/Max/Min, Mod and Gelu.</summary>
public static class MiscFamily
{
    /// <summary>All lowerings of the family.</summary>
    public static IEnumerable<OpLowering> All()
    {
        yield return new WhereLowering();
        yield return new OneHotLowering();
        yield return new ClipLowering();
        yield return new CumulativeLowering(product: false);
        yield return new CumulativeLowering(product: true);
        yield return new VariadicLowering();
        yield return new ModLowering();
        yield return new GeluLowering();
    }
}
