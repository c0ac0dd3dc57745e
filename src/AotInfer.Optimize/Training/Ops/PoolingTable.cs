using System;
using AotInfer.Kernels.Convolution;

namespace AotInfer.Optimize.Training.Ops;

/// <summary>
/// For one pooling geometry, the input position each tap of each window reads: <c>Taps[o·K + t]</c> is the offset in
/// the input plane, <see cref="Padding"/> for a tap in the declared padding, <see cref="Outside"/> for a tap past it
/// (ceil_mode). Built once per geometry, it makes max-pool argmax and the backward scatter of both pools one table
/// walk for any rank, stride and dilation.
/// </summary>
public sealed class PoolingTable
{
    /// <summary>Marks a tap inside the declared padding.</summary>
    public const int Padding = -1;

    /// <summary>Marks a tap beyond the declared padding.</summary>
    public const int Outside = -2;

    /// <summary>Builds the table of <paramref name="geometry"/> (packed as <see cref="Window"/> reads it).</summary>
    public PoolingTable(int[] geometry)
    {
        Geometry = geometry;
        var window = new Window(geometry);
        int rank = window.Rank;
        Positions = window.OutputSize;
        TapsPerWindow = window.KernelSize;
        InputSize = window.InputSize;
        Taps = new int[Positions * TapsPerWindow];
        Span<int> position = stackalloc int[rank];
        Span<int> tap = stackalloc int[rank];
        int at = 0;
        for (int o = 0; o < Positions; o++)
        {
            tap.Clear();
            for (int t = 0; t < TapsPerWindow; t++)
            {
                int offset = 0, kind = 0;
                for (int d = 0; d < rank; d++)
                {
                    int coordinate = position[d] * window.Stride(d) + tap[d] * window.Dilation(d) - window.PadBegin(d);
                    if (coordinate < -window.PadBegin(d) || coordinate >= window.Input(d) + window.PadEnd(d)) kind = Outside;
                    else if ((coordinate < 0 || coordinate >= window.Input(d)) && kind == 0) kind = Padding;
                    offset = offset * window.Input(d) + Math.Clamp(coordinate, 0, window.Input(d) - 1);
                }
                Taps[at++] = kind == 0 ? offset : kind;
                Step(tap, window, kernel: true);
            }
            Step(position, window, kernel: false);
        }
    }

    /// <summary>The geometry the table was built for.</summary>
    public int[] Geometry { get; }

    /// <summary>Window positions per plane.</summary>
    public int Positions { get; }

    /// <summary>Taps per window.</summary>
    public int TapsPerWindow { get; }

    /// <summary>Input positions per plane.</summary>
    public int InputSize { get; }

    /// <summary>Input offset (or <see cref="Padding"/> / <see cref="Outside"/>) of each tap of each window.</summary>
    public int[] Taps { get; }

    /// <summary>The table for <paramref name="geometry"/>: <paramref name="cached"/> when it matches, else a new one.</summary>
    public static PoolingTable For(PoolingTable? cached, int[] geometry) =>
        cached is not null && cached.Geometry.AsSpan().SequenceEqual(geometry) ? cached : new PoolingTable(geometry);

    static void Step(Span<int> index, Window window, bool kernel)
    {
        for (int d = index.Length - 1; d >= 0; d--)
        {
            if (++index[d] < (kernel ? window.Kernel(d) : window.Output(d))) return;
            index[d] = 0;
        }
    }
}
