using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AotInfer.Kernels.Linear;

/// <summary>
/// A constant weight matrix B[k×n] laid out for <see cref="VectorMatrixMultiply"/> (y = x·B with one row x, the
/// fully-connected layer at batch 1). The compiler re-lays the weights out at build time (<c>Ops/Linear/GemvLayout</c>),
/// so the generated code stores them in this order and no call, nor type initialisation, re-arranges them.
/// </summary>
/// <remarks>
/// Layout: the columns are cut into blocks of <see cref="WideBlock"/> columns, then the remaining columns into panels
/// of <see cref="NarrowBlock"/> (the last one zero padded). Each block is stored row after row (k rows of its width),
/// so the kernel reads every block front to back once, keeps its sums in registers and writes each output once. The
/// layout does not depend on the instruction set: 64 floats are four 512-bit or eight 256-bit vectors.
/// </remarks>
public sealed unsafe class GemvWeights
{
    /// <summary>Columns of a wide block (four 16-float vectors).</summary>
    public const int WideBlock = 64;

    /// <summary>Columns of a narrow panel (one 16-float vector), used after the wide blocks.</summary>
    public const int NarrowBlock = 16;

    readonly float[] _data;
    readonly int _offset;
    int _walks;

    /// <summary>Wraps weights already in the layout (see remarks); they are copied once to 64-byte aligned memory.</summary>
    /// <param name="laidOut">The weights in block order: <see cref="PackedLength"/>(k, n) floats.</param>
    /// <param name="k">Rows of B (the input length).</param>
    /// <param name="n">Columns of B (the output length).</param>
    public GemvWeights(ReadOnlySpan<float> laidOut, int k, int n)
    {
        if (k < 0 || n < 0) throw new ArgumentOutOfRangeException(k < 0 ? nameof(k) : nameof(n), "dimensions must not be negative");
        long expected = PackedLength(k, n);
        if (laidOut.Length != expected)
            throw new ArgumentException($"a {k}×{n} GEMV weight layout has {expected} floats, not {laidOut.Length}", nameof(laidOut));
        Rows = k;
        Columns = n;
        // Pinned so that Pointer stays valid; 16 spare floats let the start be 64-byte aligned (aligned 64-byte loads
        // never straddle two cache lines).
        _data = GC.AllocateUninitializedArray<float>(laidOut.Length + 16, pinned: true);
        nuint address = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_data));
        _offset = (int)(((address + 63) & ~(nuint)63) - address) / sizeof(float);
        laidOut.CopyTo(_data.AsSpan(_offset, laidOut.Length));
        AllFinite = true;
        foreach (float value in laidOut)
            if (!float.IsFinite(value)) { AllFinite = false; break; }
    }

    /// <summary>K: rows of B, the length of the input row.</summary>
    public int Rows { get; }

    /// <summary>N: columns of B, the length of the output row.</summary>
    public int Columns { get; }

    /// <summary>
    /// Whether every weight is finite, so that a zero input contributes exactly 0 and its row may be skipped
    /// (0·∞ and 0·NaN are NaN).
    /// </summary>
    public bool AllFinite { get; }

    /// <summary>Columns covered by wide blocks.</summary>
    internal int WideColumns => WideColumnsOf(Columns);

    internal float* Pointer => (float*)Unsafe.AsPointer(ref _data[_offset]);

    /// <summary>
    /// Alternates the direction in which the kernel walks the blocks, call after call (see
    /// <c>VectorMatrixMultiply</c>). Unsynchronised on purpose: a lost update between threads only repeats a direction.
    /// </summary>
    internal bool NextWalkIsBackwards() => (_walks++ & 1) != 0;

    /// <summary>Columns covered by wide blocks for <paramref name="n"/> columns.</summary>
    public static int WideColumnsOf(int n) => n / WideBlock * WideBlock;

    /// <summary>Floats in the layout of a k×n matrix: n rounded up to whole narrow panels, times k.</summary>
    public static long PackedLength(int k, int n) => (long)k * ((n + NarrowBlock - 1) / NarrowBlock * NarrowBlock);

    /// <summary>
    /// Decodes weights stored as 16-entry palettes straight into the layout: the compiler's
    /// <c>PaletteEncoder.TryEncodeColumns</c> writes <paramref name="palettes"/> palettes (1 for the whole matrix, or
    /// <paramref name="n"/>, one per column) of 16 entries of <paramref name="entryBytes"/> bytes (4: float32, 2: float16),
    /// then a 4-bit index (low nibble first) for each element of the layout in storage order, padding excepted (it is
    /// zero). Exact: each weight gets its entry's value.
    /// </summary>
    public static float[] DecodePalette(ReadOnlySpan<byte> base64Utf8, int k, int n, int palettes, int entryBytes)
    {
        if (k < 0 || n < 0 || (palettes != 1 && palettes != n) || entryBytes is not (2 or 4))
            throw new InvalidOperationException($"corrupt palette weight data: {k}×{n} GEMV weights with {palettes} palettes of {entryBytes}-byte entries");
        int paletteEntries = palettes * 16, paletteBytes = paletteEntries * entryBytes, columnStride = palettes == 1 ? 0 : 16;
        var bytes = WeightData.DecodeBase64(base64Utf8, paletteBytes + (int)(((long)k * n * 4 + 7) / 8));
        var entries = WeightData.ReadPalettes(bytes, paletteEntries, entryBytes);
        ReadOnlySpan<byte> indices = bytes.AsSpan(paletteBytes);
        var result = new float[PackedLength(k, n)];
        int position = 0, wideColumns = WideColumnsOf(n);
        for (int start = 0; start < n;)
        {
            int width = start < wideColumns ? WideBlock : NarrowBlock;
            long offset = BlockOffset(k, start);
            for (int p = 0; p < k; p++)
                for (int j = 0; j < width && start + j < n; j++, position++)
                {
                    result[offset + (long)p * width + j] = entries[(start + j) * columnStride + WeightData.Nibble(indices, position)];
                }
            start += width;
        }
        return result;
    }

    /// <summary>Element offset of the block that starts at column <paramref name="column"/> (a block boundary).</summary>
    internal static long BlockOffset(int k, int column) => (long)k * column;
}
