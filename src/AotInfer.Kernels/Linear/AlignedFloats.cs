using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AotInfer.Kernels.Linear;

/// <summary>Pinned float storage whose used part starts on a 64-byte boundary (one cache line, one zmm load).</summary>
internal static unsafe class AlignedFloats
{
    /// <summary>
    /// A pinned array of at least <paramref name="count"/> + 16 floats, and the index of its first 64-byte aligned
    /// element: pinned so that pointers into it stay valid, 16 spare floats so that the aligned start fits.
    /// </summary>
    public static float[] Allocate(int count, out int offset)
    {
        var data = GC.AllocateArray<float>(count + 16, pinned: true);
        nuint address = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(data));
        offset = (int)(((address + 63) & ~(nuint)63) - address) / sizeof(float);
        return data;
    }
}
