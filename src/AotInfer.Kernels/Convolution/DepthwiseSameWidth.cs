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
        bool vector = MatrixMultiply.Tier >= GemmTier.Fma256 && Vector256.IsHardwareAccelerated && outputSize >= Vector256<float>.Count;
        bool wide = MatrixMultiply.Tier == GemmTier.Avx512 && Vector512.IsHardwareAccelerated && outputSize >= Vector512<float>.Count;
        bool threeByThree = vector && taps == 9 && kernelHeight == 3;
        // The 3×3 loop goes row by row when rows hold at least two vectors: its masks then cover one row, where masks
        // for the whole plane (MobileNet's 112×112) are three more streams of the plane's size to read per channel.
        int lanes = wide ? Vector512<float>.Count : Vector256<float>.Count;
        int segment = threeByThree && width >= 2 * lanes ? width : outputSize;
        Span<float> masks = scratch.Slice(bordered.Length, kernelWidth * segment);
        Span<int> shifts = stackalloc int[kernelWidth];
        for (int kw = 0; kw < kernelWidth; kw++)
        {
            shifts[kw] = kw * window.Dilation(1) - padLeft;
            // All ones where column + shift stays in the row; as float bits, so that one AND keeps or zeroes a lane.
            Span<int> mask = System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(masks.Slice(kw * segment, segment));
            for (int p = 0, column = shifts[kw]; p < segment; p++, column++)
            {
                if (column == width + shifts[kw]) column = shifts[kw];
                mask[p] = column >= 0 && column < width ? -1 : 0;
            }
        }
        int rowStep = window.Dilation(0) * width;
        bool clamp = activation.IsClamp(out float low, out float high);
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
                    if (wide && threeByThree) Plane3x3<Lanes512, Vector512<float>>(image, filter, start, output, pm, shifts, outputSize, segment, rowStep, low, high);
                    else if (threeByThree) Plane3x3<Lanes256, Vector256<float>>(image, filter, start, output, pm, shifts, outputSize, segment, rowStep, low, high);
                    else if (vector) PlaneVector256(image, filter, start, output, pm, shifts, outputSize, kernelHeight, rowStep);
                    else PlaneScalar(image, filter, start, output, pm, shifts, outputSize, kernelHeight, rowStep);
                    bool applied = threeByThree && clamp;
                    if (activation.Kind != ActivationKind.None && !applied) activation.Apply(new Span<float>(output, outputSize));
                }
            }
        }
    }

    /// <summary>
    /// The 3×3 case (MobileNet's and DS-CNN's), one vector width (<see cref="Lanes256"/> or <see cref="Lanes512"/>, which
    /// halves the loop trips on MobileNet's wide planes and takes DS-CNN's 125-element planes in 8 vectors instead of
    /// 16): the nine weights and three column masks stay in registers, a Relu or Clip (MobileNet's Relu6) is applied
    /// before the store as a clamp to [low, high]. The plane goes in segments of <paramref name="segment"/> outputs
    /// (the whole plane, or one row), the masks covering one segment; a segment's last vector overlaps the one before
    /// when it is not a whole number of vectors.
    /// </summary>
    static unsafe void Plane3x3<TLanes, TVector>(float* image, float* filter, float start, float* output, float* masks, ReadOnlySpan<int> shifts,
        int size, int segment, int rowStep, float low, float high) where TLanes : struct, IFloatLanes<TVector> where TVector : struct
    {
        TVector w0 = TLanes.Broadcast(filter[0]), w1 = TLanes.Broadcast(filter[1]), w2 = TLanes.Broadcast(filter[2]);
        TVector w3 = TLanes.Broadcast(filter[3]), w4 = TLanes.Broadcast(filter[4]), w5 = TLanes.Broadcast(filter[5]);
        TVector w6 = TLanes.Broadcast(filter[6]), w7 = TLanes.Broadcast(filter[7]), w8 = TLanes.Broadcast(filter[8]);
        float* left = image + shifts[0], middle = image + shifts[1], right = image + shifts[2];
        float* leftMask = masks, middleMask = masks + segment, rightMask = masks + 2 * segment;
        TVector bias = TLanes.Broadcast(start), floor = TLanes.Broadcast(low), ceiling = TLanes.Broadcast(high);
        int down = rowStep, twoDown = 2 * rowStep, count = TLanes.Count;
        // In a row-long segment the vectors clear of both row ends read no padding: they skip the masks.
        int clearBegin = segment == size ? int.MaxValue : Math.Max(0, -shifts[0]), clearEnd = segment - Math.Max(0, shifts[2]);
        for (int first = 0; first < size; first += segment)
        {
            for (int q = 0; ; q += count)
            {
                if (q > segment - count) q = segment - count;
                int p = first + q;
                var l = TLanes.MultiplyAdd(w0, TLanes.Load(left + p), TLanes.MultiplyAdd(w3, TLanes.Load(left + p + down), TLanes.Multiply(w6, TLanes.Load(left + p + twoDown))));
                var m = TLanes.MultiplyAdd(w1, TLanes.Load(middle + p), TLanes.MultiplyAdd(w4, TLanes.Load(middle + p + down), TLanes.Multiply(w7, TLanes.Load(middle + p + twoDown))));
                var r = TLanes.MultiplyAdd(w2, TLanes.Load(right + p), TLanes.MultiplyAdd(w5, TLanes.Load(right + p + down), TLanes.Multiply(w8, TLanes.Load(right + p + twoDown))));
                TVector sum;
                if (q >= clearBegin && q + count <= clearEnd) sum = TLanes.Add(TLanes.Add(bias, l), TLanes.Add(m, r));
                else sum = TLanes.Add(TLanes.Add(bias, TLanes.And(l, TLanes.Load(leftMask + q))),
                    TLanes.Add(TLanes.And(m, TLanes.Load(middleMask + q)), TLanes.And(r, TLanes.Load(rightMask + q))));
                TLanes.Store(TLanes.Clamp(sum, floor, ceiling), output + p);
                if (q == segment - count) break;
            }
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
