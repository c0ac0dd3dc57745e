using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AotInfer.Kernels.Linear;

/// <summary>
/// The B operand of a GEMM laid out once for the micro-kernel of one tier: depth block after depth block, each a row
/// of NR-wide slivers (zero padded). Generated code builds one per constant weight matrix at type initialisation
/// (the layout depends on the CPU, so it cannot be baked in at build time); then no call re-lays out the weights.
/// </summary>
public sealed unsafe class PackedMatrix
{
    readonly float[] _data;
    readonly int _offset;

    PackedMatrix(int rows, int columns, int paddedColumns, GemmTier tier, float[] data, int offset)
    {
        Rows = rows;
        Columns = columns;
        PaddedColumns = paddedColumns;
        Tier = tier;
        _data = data;
        _offset = offset;
    }

    /// <summary>K: rows of the logical B.</summary>
    public int Rows { get; }

    /// <summary>N: columns of the logical B.</summary>
    public int Columns { get; }

    /// <summary>The tier whose micro-kernel this layout feeds.</summary>
    public GemmTier Tier { get; }

    internal int PaddedColumns { get; }

    internal float* Pointer => (float*)Unsafe.AsPointer(ref _data[_offset]);

    /// <summary>
    /// Packs B[k×n] (stored n×k when <paramref name="transposed"/>) with row stride <paramref name="ldb"/> for the
    /// current <see cref="MatrixMultiply.Tier"/>.
    /// </summary>
    public static PackedMatrix Pack(ReadOnlySpan<float> b, int ldb, bool transposed, int k, int n)
    {
        MatrixMultiply.CheckOperands(b.Length, ldb, transposed, k, n, nameof(b));
        var tier = MatrixMultiply.Tier;
        int nr = tier switch
        {
            GemmTier.Avx512 => GemmKernelAvx512.Columns,
            GemmTier.Fma256 => GemmKernelFma256.Columns,
            GemmTier.Vector128 => GemmKernelVector128.Columns,
            _ => GemmKernelScalar.Columns,
        };
        int padded = (n + nr - 1) / nr * nr;
        // Pinned so that Pointer stays valid; 16 spare floats let the start be 64-byte aligned.
        var data = GC.AllocateArray<float>(Math.Max(1, k * padded) + 16, pinned: true);
        nuint address = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(data));
        int offset = (int)(((address + 63) & ~(nuint)63) - address) / sizeof(float);
        var packed = new PackedMatrix(k, n, padded, tier, data, offset);
        if (k == 0 || n == 0) return packed;
        int rs = transposed ? 1 : ldb, cs = transposed ? ldb : 1;
        fixed (float* pb = b)
        {
            float* dst = packed.Pointer;
            switch (tier)
            {
                case GemmTier.Avx512: PackAll<GemmKernelAvx512>(pb, rs, cs, k, n, padded, dst); break;
                case GemmTier.Fma256: PackAll<GemmKernelFma256>(pb, rs, cs, k, n, padded, dst); break;
                case GemmTier.Vector128: PackAll<GemmKernelVector128>(pb, rs, cs, k, n, padded, dst); break;
                default: PackAll<GemmKernelScalar>(pb, rs, cs, k, n, padded, dst); break;
            }
        }
        return packed;
    }

    static void PackAll<TKernel>(float* b, int rowStride, int columnStride, int k, int n, int padded, float* dst) where TKernel : struct, IGemmMicroKernel
    {
        for (int pc = 0; pc < k; pc += TKernel.DepthBlock)
        {
            int kb = Math.Min(TKernel.DepthBlock, k - pc);
            GemmDriver<TKernel>.PackB(b + (long)pc * rowStride, rowStride, columnStride, kb, n, dst + (long)pc * padded);
        }
    }
}
