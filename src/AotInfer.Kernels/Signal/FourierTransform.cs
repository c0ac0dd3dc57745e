using System;

namespace AotInfer.Kernels.Signal;

/// <summary>
/// ONNX DFT: the input is viewed as [outer, length, inner, components] (components 1 = real, 2 = complex) and each
/// line along the transformed axis becomes a complex line of <c>outputLength</c> frequencies, computed directly
/// (O(n·k), in double, with exact twiddle angles from (k·n) mod N). Inverse transforms divide by the DFT length.
/// </summary>
public static class FourierTransform
{
    /// <summary>Transforms every line.</summary>
    public static void Transform(ReadOnlySpan<float> x, Span<float> y, int outer, int inputLength, int inner, int components,
        int dftLength, int outputLength, bool inverse)
    {
        double sign = inverse ? 1 : -1;
        double scale = inverse ? 1.0 / dftLength : 1;
        int used = Math.Min(inputLength, dftLength); // the signal is truncated or zero-padded to the DFT length
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                for (int k = 0; k < outputLength; k++)
                {
                    double re = 0, im = 0;
                    for (int n = 0; n < used; n++)
                    {
                        int at = ((o * inputLength + n) * inner + i) * components;
                        double xr = x[at], xi = components == 2 ? x[at + 1] : 0;
                        double angle = sign * 2 * Math.PI * ((long)k * n % dftLength) / dftLength;
                        double c = Math.Cos(angle), s = Math.Sin(angle);
                        re += xr * c - xi * s;
                        im += xr * s + xi * c;
                    }
                    int to = ((o * outputLength + k) * inner + i) * 2;
                    y[to] = (float)(re * scale);
                    y[to + 1] = (float)(im * scale);
                }
            }
        }
    }
}
