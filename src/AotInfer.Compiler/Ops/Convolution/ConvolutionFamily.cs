using System.Collections.Generic;

namespace AotInfer.Compiler.Ops.Convolution;

/// <summary>Registers the convolution ops: Conv and ConvTranspose.</summary>
public static class ConvolutionFamily
{
    /// <summary>All lowerings of the family.</summary>
    public static IEnumerable<OpLowering> All()
    {
        yield return new ConvLowering();
        yield return new ConvTransposeLowering();
    }
}
