using System;
using System.Runtime.CompilerServices;
using AotInfer.Kernels.Linear;

namespace AotInfer.Kernels.Convolution;

/// <summary>
/// Constant convolution weights laid out once as the A operand of the GEMM micro-kernel of one tier, so that no
/// call re-packs them: per group, depth block (<see cref="DepthBlock"/>) after depth block, each a column of MR-high slivers stored
/// depth-major and zero padded past the last output channel. Generated code builds one per Conv layer at type
/// initialisation (the layout depends on the CPU, so it cannot be baked in at build time).
/// </summary>
public sealed unsafe class PackedFilter
{
    readonly float[] _data;
    readonly int _offset;

    PackedFilter(int groups, int groupOut, int depth, int paddedRows, GemmTier tier, float[] data, int offset)
    {
        Groups = groups;
        GroupOut = groupOut;
        Depth = depth;
        PaddedRows = paddedRows;
        Tier = tier;
        _data = data;
        _offset = offset;
    }

    /// <summary>Number of convolution groups.</summary>
    public int Groups { get; }

    /// <summary>Output channels per group (rows of each group's weight matrix).</summary>
    public int GroupOut { get; }

    /// <summary>Input channels per group × kernel taps (columns of each group's weight matrix).</summary>
    public int Depth { get; }

    /// <summary>The tier whose micro-kernel this layout feeds.</summary>
    public GemmTier Tier { get; }

    /// <summary>NR of the tier's micro-kernel: the width of the B slivers this filter multiplies.</summary>
    internal int SliverWidth => Tier switch
    {
        GemmTier.Avx512 => GemmKernelAvx512.Columns,
        GemmTier.Fma256 => GemmKernelFma256.Columns,
        GemmTier.Vector128 => GemmKernelVector128.Columns,
        _ => GemmKernelScalar.Columns,
    };

    /// <summary>Rows per group rounded up to the micro-kernel's MR.</summary>
    internal int PaddedRows { get; }

    /// <summary>The packed weights of group <paramref name="group"/>.</summary>
    internal float* Group(int group) => (float*)Unsafe.AsPointer(ref _data[_offset]) + (long)group * PaddedRows * Depth;

    /// <summary>
    /// Packs ONNX Conv weights <c>[M, C/group, k...]</c> (per group a row-major <c>[M/group, C/group·K]</c> matrix)
    /// for the current <see cref="MatrixMultiply.Tier"/>.
    /// </summary>
    public static PackedFilter Pack(ReadOnlySpan<float> weights, int groups, int groupOut, int depth)
    {
        if (groups <= 0 || groupOut <= 0 || depth <= 0)
            throw new ArgumentOutOfRangeException(nameof(groups), $"groups {groups}, rows {groupOut} and depth {depth} must be positive");
        if ((long)groups * groupOut * depth != weights.Length)
            throw new ArgumentException($"weights have {weights.Length} elements, expected {groups}×{groupOut}×{depth}", nameof(weights));
        var tier = MatrixMultiply.Tier;
        int mr = tier switch
        {
            GemmTier.Avx512 => GemmKernelAvx512.Rows,
            GemmTier.Fma256 => GemmKernelFma256.Rows,
            GemmTier.Vector128 => GemmKernelVector128.Rows,
            _ => GemmKernelScalar.Rows,
        };
        int paddedRows = (groupOut + mr - 1) / mr * mr;
        var data = AlignedFloats.Allocate(groups * paddedRows * depth, out int offset);
        var packed = new PackedFilter(groups, groupOut, depth, paddedRows, tier, data, offset);
        fixed (float* w = weights)
        {
            for (int g = 0; g < groups; g++)
            {
                float* source = w + (long)g * groupOut * depth, destination = packed.Group(g);
                switch (tier)
                {
                    case GemmTier.Avx512: PackGroup<GemmKernelAvx512>(source, groupOut, depth, paddedRows, destination); break;
                    case GemmTier.Fma256: PackGroup<GemmKernelFma256>(source, groupOut, depth, paddedRows, destination); break;
                    case GemmTier.Vector128: PackGroup<GemmKernelVector128>(source, groupOut, depth, paddedRows, destination); break;
                    default: PackGroup<GemmKernelScalar>(source, groupOut, depth, paddedRows, destination); break;
                }
            }
        }
        return packed;
    }

    /// <summary>
    /// The depth block (KC) convolutions use: the whole depth up to 192 (a 192×32 B sliver and a 6×192 A sliver fit
    /// Zen 4's 32 KB L1D), else equal blocks of at most 160, so that no pass over C is a short remainder (with the GEMM's
    /// fixed 128, a 3×3×16 depth of 144 would cost a second full load/store of every C tile for 16 steps).
    /// </summary>
    internal static int DepthBlock(int depth)
    {
        if (depth <= 192) return depth;
        int blocks = (depth + 159) / 160;
        return (depth + blocks - 1) / blocks;
    }

    /// <summary>Depth block pc of a group starts at pc × PaddedRows; within it sliver ir starts at ir × kb.</summary>
    static void PackGroup<TKernel>(float* weights, int rows, int depth, int paddedRows, float* packed) where TKernel : struct, IGemmMicroKernel
    {
        int depthBlock = DepthBlock(depth);
        for (int pc = 0; pc < depth; pc += depthBlock)
        {
            int kb = Math.Min(depthBlock, depth - pc);
            GemmDriver<TKernel>.PackA(weights + pc, depth, 1, rows, kb, packed + (long)pc * paddedRows);
        }
    }
}
