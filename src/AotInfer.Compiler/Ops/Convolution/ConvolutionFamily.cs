using System.Collections.Generic;

namespace AotInfer.Compiler.Ops.Convolution;

/// <summary>Registers the convolution ops: Conv, ConvTranspose and Col2Im.</summary>
public static class ConvolutionFamily
{
    /// <summary>All lowerings of the family.</summary>
    public static IEnumerable<OpLowering> All()
    {
        yield return new ConvLowering();
        yield return new ConvTransposeLowering();
        yield return new Col2ImLowering();
    }
}
