using System.Collections.Generic;

namespace AotInfer.Compiler.Ops.Resize;

/// <summary>Registers Resize and Upsample.</summary>
public static class ResizeFamily
{
    /// <summary>All lowerings of the family.</summary>
    public static IEnumerable<OpLowering> All()
    {
        yield return new ResizeLowering();
        yield return new UpsampleLowering();
    }
}
