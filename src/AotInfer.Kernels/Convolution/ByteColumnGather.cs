using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace AotInfer.Kernels.Convolution;

/// <summary>
/// The 2-D im2col of one-byte (quantised) images through a padded copy of each channel plane: once the padding is
/// part of the plane, every output row of every (ky, kx) column row is one contiguous (or stride-2) run with no edge
/// cases, copied with a few overlapping vector moves. The small planes of int8 models (8×8 to 32×32) made the
/// per-segment bookkeeping and short <c>memmove</c> calls of the general gather cost as much as the GEMM itself.
/// </summary>
internal static class ByteColumnGather
{
    /// <summary>Largest padded plane (bytes, stack scratch) this gather takes; larger layers use the general one.</summary>
    const int MaxPlane = 16384;

    /// <summary>Bytes read past a padded plane's last element by <see cref="GatherEven"/>'s vector loads.</summary>
    const int Slack = 32;

    /// <summary>
    /// columns[(c·K + ky·KW + kx)·P + oy·OW + ox] = padded[c, oy·sy + ky·dy, ox·sx + kx·dx], where padded is the
    /// plane with <paramref name="padding"/> around it. Returns false (nothing written) when the padded plane would not
    /// fit <see cref="MaxPlane"/>.
    /// </summary>
    public static bool TryGather(ReadOnlySpan<byte> image, int channels, Window window, Span<byte> columns, byte padding)
    {
        int inputHeight = window.Input(0), inputWidth = window.Input(1), outputHeight = window.Output(0), outputWidth = window.Output(1);
        int kernelHeight = window.Kernel(0), kernelWidth = window.Kernel(1), strideY = window.Stride(0), strideX = window.Stride(1);
        int dilationY = window.Dilation(0), dilationX = window.Dilation(1);
        // Every position the windows read, padding included: top-left is (−padTop, −padLeft).
        int paddedHeight = (outputHeight - 1) * strideY + (kernelHeight - 1) * dilationY + 1;
        int paddedWidth = (outputWidth - 1) * strideX + (kernelWidth - 1) * dilationX + 1;
        if (paddedHeight * paddedWidth + Slack > MaxPlane) return false;
        Span<byte> plane = stackalloc byte[paddedHeight * paddedWidth + Slack];
        int top = window.PadBegin(0), left = window.PadBegin(1), inputSize = inputHeight * inputWidth, outputSize = outputHeight * outputWidth;
        int row = 0;
        for (int c = 0; c < channels; c++)
        {
            FillPlane(image.Slice(c * inputSize, inputSize), inputHeight, inputWidth, top, left, padding, plane, paddedHeight, paddedWidth);
            ref byte p0 = ref MemoryMarshal.GetReference(plane);
            for (int ky = 0; ky < kernelHeight; ky++)
            {
                for (int kx = 0; kx < kernelWidth; kx++, row++)
                {
                    ref byte destination = ref columns[row * outputSize];
                    for (int oy = 0; oy < outputHeight; oy++)
                    {
                        ref byte source = ref Unsafe.Add(ref p0, (oy * strideY + ky * dilationY) * paddedWidth + kx * dilationX);
                        ref byte target = ref Unsafe.Add(ref destination, oy * outputWidth);
                        if (strideX == 1) Copy(ref source, ref target, outputWidth);
                        else if (strideX == 2) GatherEven(ref source, ref target, outputWidth);
                        else for (int ox = 0; ox < outputWidth; ox++) Unsafe.Add(ref target, ox) = Unsafe.Add(ref source, ox * strideX);
                    }
                }
            }
        }
        return true;
    }

    /// <summary>The padded plane: <paramref name="padding"/> everywhere, then the image rows that fall inside it.</summary>
    static void FillPlane(ReadOnlySpan<byte> image, int height, int width, int top, int left, byte padding, Span<byte> plane, int paddedHeight, int paddedWidth)
    {
        plane.Fill(padding);
        // Image column x sits at padded column x + left; negative pads (cropping) clip the image instead.
        int x0 = Math.Max(0, -left), x1 = Math.Min(width, paddedWidth - left);
        if (x1 <= x0) return;
        for (int y = Math.Max(0, -top); y < height && y + top < paddedHeight; y++)
            image.Slice(y * width + x0, x1 - x0).CopyTo(plane.Slice((y + top) * paddedWidth + x0 + left, x1 - x0));
    }

    /// <summary>
    /// Copies <paramref name="length"/> bytes with two overlapping moves of the largest width that fits (or a vector
    /// loop): output rows are short, and a <c>memmove</c> call per row cost more than the copy.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Copy(ref byte source, ref byte destination, int length)
    {
        if (length >= 16)
        {
            int i = 0;
            for (; i + 16 < length; i += 16) Vector128.LoadUnsafe(ref source, (nuint)i).StoreUnsafe(ref destination, (nuint)i);
            Vector128.LoadUnsafe(ref source, (nuint)(length - 16)).StoreUnsafe(ref destination, (nuint)(length - 16));
        }
        else if (length >= 8)
        {
            Unsafe.WriteUnaligned(ref destination, Unsafe.ReadUnaligned<ulong>(ref source));
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref destination, length - 8), Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref source, length - 8)));
        }
        else if (length >= 4)
        {
            Unsafe.WriteUnaligned(ref destination, Unsafe.ReadUnaligned<uint>(ref source));
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref destination, length - 4), Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref source, length - 4)));
        }
        else
        {
            for (int i = 0; i < length; i++) Unsafe.Add(ref destination, i) = Unsafe.Add(ref source, i);
        }
    }

    /// <summary>
    /// destination[i] = source[2·i] for <paramref name="length"/> bytes, 8 at a time: 16 bytes read as 8 words keep
    /// the even byte in each word's low half, which narrowing keeps (may read up to <see cref="Slack"/> bytes past the
    /// last one used, inside the plane's slack).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void GatherEven(ref byte source, ref byte destination, int length)
    {
        int i = 0;
        for (; i + 16 <= length; i += 16)
        {
            var low = Vector128.LoadUnsafe(ref source, (nuint)(2 * i)).AsUInt16();
            var high = Vector128.LoadUnsafe(ref source, (nuint)(2 * i + 16)).AsUInt16();
            Vector128.Narrow(low, high).StoreUnsafe(ref destination, (nuint)i);
        }
        for (; i + 8 <= length; i += 8)
        {
            var words = Vector128.LoadUnsafe(ref source, (nuint)(2 * i)).AsUInt16();
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref destination, i), Vector128.Narrow(words, words).AsUInt64().ToScalar());
        }
        for (; i < length; i++) Unsafe.Add(ref destination, i) = Unsafe.Add(ref source, 2 * i);
    }
}
