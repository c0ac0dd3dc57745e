using System;
using System.Runtime.Intrinsics;
using AotInfer.Kernels.Linear;

namespace AotInfer.Kernels.Convolution;

/// <summary>
/// Depthwise 2-D convolution (one input and one output channel per group) with stride 1 whose output rows are as
/// wide as its input rows, such as 3×3 with padding 1, the depthwise layer of MobileNet and DS-CNN. Because the widths
/// match, output element <c>p</c> of a plane reads input element <c>p + kh·dh·W + kw·dw − padLeft</c> for every tap:
/// the whole plane is one flat vector loop with every lane busy, however narrow the rows (DS-CNN's are 5 wide, where
/// a loop per row wastes most of each vector). Taps that wrap into the neighbouring row are the left and right
/// padding: a per-column mask zeroes them, once per kernel column. Rows above and below come from zero rows around a
/// copy of the channel.
/// </summary>
public static class DepthwiseSameWidth
{
    /// <summary>True for geometries this kernel computes: rank 2, stride 1, output width equal to input width.</summary>
    public static bool Supports(int[] geometry)
    {
        var w = new Window(geometry);
        return w.Rank == 2 && w.Stride(0) == 1 && w.Stride(1) == 1 && w.Output(1) == w.Input(1);
    }

    /// <summary>
    /// Floats of scratch <see cref="Convolve"/> needs: the zero-bordered channel (OH + (KH−1)·dh rows of W, plus
    /// <c>lead</c> floats each side) and one column mask of OH·W per kernel column.
    /// </summary>
    public static int ScratchSize(int[] geometry)
    {
        var w = new Window(geometry);
        int rows = w.Output(0) + (w.Kernel(0) - 1) * w.Dilation(0), width = w.Input(1);
        return rows * width + 2 * Lead(w) + w.Kernel(1) * w.Output(0) * width;
    }

    /// <summary>Zero floats before and after the bordered channel: the farthest any tap shifts along a row.</summary>
    static int Lead(Window w) => Math.Max(w.PadBegin(1), (w.Kernel(1) - 1) * w.Dilation(1) - w.PadBegin(1));

    /// <summary>
    /// y[c] = activation(bias[c] + Σ taps w[c, kh, kw] · x[c] shifted) for each of <paramref name="channels"/> channels
    /// of each image; weights in ONNX layout <c>[C, 1, KH, KW]</c>, an empty bias means none.
    /// </summary>
    public static unsafe void Convolve(ReadOnlySpan<float> x, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> y, Span<float> scratch,
        int batch, int channels, int[] geometry, FusedActivation activation = default)
    {
        if (!Supports(geometry)) throw new ArgumentException("the geometry is not a stride-1 convolution with output rows as wide as input rows", nameof(geometry));
        var window = new Window(geometry);
        int height = window.Input(0), width = window.Input(1), outHeight = window.Output(0);
        int kernelHeight = window.Kernel(0), kernelWidth = window.Kernel(1), padTop = window.PadBegin(0), padLeft = window.PadBegin(1);
        int rows = outHeight + (kernelHeight - 1) * window.Dilation(0), lead = Lead(window);
        int inputSize = height * width, outputSize = outHeight * width, taps = kernelHeight * kernelWidth;
        if (scratch.Length < ScratchSize(geometry)) throw new ArgumentException($"scratch has {scratch.Length} elements, fewer than {ScratchSize(geometry)}", nameof(scratch));
        if (weights.Length != channels * taps) throw new ArgumentException($"weights have {weights.Length} elements, expected {channels}×{taps}", nameof(weights));
        if (x.Length < batch * channels * inputSize || y.Length < batch * channels * outputSize)
            throw new ArgumentException($"x or y is too short for {batch} images of {channels} channels");
        // Input rows [0, copied) land at bordered rows padTop…; the rest of the bordered rows stay zero.
        int copied = Math.Max(0, Math.Min(height, rows - padTop));
        Span<float> bordered = scratch.Slice(0, rows * width + 2 * lead);
        bordered.Clear();
        Span<float> masks = scratch.Slice(bordered.Length, kernelWidth * outputSize);
        Span<int> shifts = stackalloc int[kernelWidth];
        for (int kw = 0; kw < kernelWidth; kw++)
        {
            shifts[kw] = kw * window.Dilation(1) - padLeft;
            // All ones where column + shift stays in the row; as float bits, so that one AND keeps or zeroes a lane.
            Span<int> mask = System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(masks.Slice(kw * outputSize, outputSize));
            for (int p = 0; p < outputSize; p++)
            {
                int column = p % width + shifts[kw];
                mask[p] = column >= 0 && column < width ? -1 : 0;
            }
        }
        bool vector = MatrixMultiply.Tier >= GemmTier.Fma256 && Vector256.IsHardwareAccelerated && outputSize >= Vector256<float>.Count;
        int rowStep = window.Dilation(0) * width;
        fixed (float* px = x)
        fixed (float* pw = weights)
        fixed (float* py = y)
        fixed (float* pb = bordered)
        fixed (float* pm = masks)
        {
            float* image = pb + lead;
            for (int n = 0; n < batch; n++)
            {
                for (int c = 0; c < channels; c++)
                {
                    new ReadOnlySpan<float>(px + (long)(n * channels + c) * inputSize, copied * width).CopyTo(new Span<float>(image + padTop * width, copied * width));
                    float* filter = pw + (long)c * taps, output = py + (long)(n * channels + c) * outputSize;
                    float start = bias.IsEmpty ? 0f : bias[c];
                    bool relu = activation.Kind == ActivationKind.Relu;
                    if (vector && taps == 9 && kernelHeight == 3) Plane3x3Vector256(image, filter, start, output, pm, shifts, outputSize, rowStep, relu);
                    else if (vector) PlaneVector256(image, filter, start, output, pm, shifts, outputSize, kernelHeight, rowStep);
                    else PlaneScalar(image, filter, start, output, pm, shifts, outputSize, kernelHeight, rowStep);
                    bool applied = vector && taps == 9 && kernelHeight == 3 && relu;
                    if (activation.Kind != ActivationKind.None && !applied) activation.Apply(new Span<float>(output, outputSize));
                }
            }
        }
    }

    /// <summary>
    /// The 3×3 case (MobileNet's and DS-CNN's): the nine weights and three column masks stay in registers, a Relu is
    /// applied before the store. The last vector overlaps the one before when the plane is not a multiple of 8.
    /// </summary>
    static unsafe void Plane3x3Vector256(float* image, float* filter, float start, float* output, float* masks, ReadOnlySpan<int> shifts,
        int size, int rowStep, bool relu)
    {
        Vector256<float> w0 = Vector256.Create(filter[0]), w1 = Vector256.Create(filter[1]), w2 = Vector256.Create(filter[2]);
        Vector256<float> w3 = Vector256.Create(filter[3]), w4 = Vector256.Create(filter[4]), w5 = Vector256.Create(filter[5]);
        Vector256<float> w6 = Vector256.Create(filter[6]), w7 = Vector256.Create(filter[7]), w8 = Vector256.Create(filter[8]);
        float* left = image + shifts[0], middle = image + shifts[1], right = image + shifts[2];
        float* leftMask = masks, middleMask = masks + size, rightMask = masks + 2 * size;
        var bias = Vector256.Create(start);
        var floor = relu ? Vector256<float>.Zero : Vector256.Create(float.NegativeInfinity);
        int down = rowStep, twoDown = 2 * rowStep;
        for (int p = 0; ; p += Vector256<float>.Count)
        {
            if (p > size - Vector256<float>.Count) p = size - Vector256<float>.Count;
            var l = Vector256.FusedMultiplyAdd(w0, Vector256.Load(left + p), Vector256.FusedMultiplyAdd(w3, Vector256.Load(left + p + down), w6 * Vector256.Load(left + p + twoDown)));
            var m = Vector256.FusedMultiplyAdd(w1, Vector256.Load(middle + p), Vector256.FusedMultiplyAdd(w4, Vector256.Load(middle + p + down), w7 * Vector256.Load(middle + p + twoDown)));
            var r = Vector256.FusedMultiplyAdd(w2, Vector256.Load(right + p), Vector256.FusedMultiplyAdd(w5, Vector256.Load(right + p + down), w8 * Vector256.Load(right + p + twoDown)));
            var sum = bias + (l & Vector256.Load(leftMask + p)) + (m & Vector256.Load(middleMask + p)) + (r & Vector256.Load(rightMask + p));
            Vector256.Store(Vector256.Max(sum, floor), output + p);
            if (p == size - Vector256<float>.Count) break;
        }
    }

    /// <summary>One channel, 8 outputs at a time; the last vector overlaps the one before when the plane is not a multiple of 8.</summary>
    static unsafe void PlaneVector256(float* image, float* filter, float start, float* output, float* masks, ReadOnlySpan<int> shifts,
        int size, int kernelHeight, int rowStep)
    {
        int kernelWidth = shifts.Length;
        var bias = Vector256.Create(start);
        for (int p = 0; ; p += Vector256<float>.Count)
        {
            if (p > size - Vector256<float>.Count) p = size - Vector256<float>.Count;
            var sum = bias;
            for (int kw = 0; kw < kernelWidth; kw++)
            {
                float* column = image + p + shifts[kw];
                var part = Vector256<float>.Zero;
                for (int kh = 0; kh < kernelHeight; kh++)
                    part = Vector256.FusedMultiplyAdd(Vector256.Create(filter[kh * kernelWidth + kw]), Vector256.Load(column + kh * rowStep), part);
                sum += shifts[kw] == 0 ? part : part & Vector256.Load(masks + kw * size + p);
            }
            Vector256.Store(sum, output + p);
            if (p == size - Vector256<float>.Count) break;
        }
    }

    /// <summary>The same sums one output at a time: the portable reference tier.</summary>
    static unsafe void PlaneScalar(float* image, float* filter, float start, float* output, float* masks, ReadOnlySpan<int> shifts,
        int size, int kernelHeight, int rowStep)
    {
        int kernelWidth = shifts.Length;
        for (int p = 0; p < size; p++)
        {
            float sum = start;
            for (int kw = 0; kw < kernelWidth; kw++)
            {
                if (((int*)masks)[kw * size + p] == 0) continue;
                float* column = image + p + shifts[kw];
                for (int kh = 0; kh < kernelHeight; kh++) sum = MathF.FusedMultiplyAdd(filter[kh * kernelWidth + kw], column[kh * rowStep], sum);
            }
            output[p] = sum;
        }
    }
}
