using System;
using System.Numerics;
using System.Runtime.Intrinsics;
using AotInfer.Kernels.Convolution;

namespace AotInfer.Kernels.Pooling;

/// <summary>
/// Windowed pooling over NC(spatial) tensors, <c>planes</c> = N·C planes each of
/// <see cref="Window.InputSize"/> elements. Taps that fall in padding are skipped. 2-D pools without an index
/// output walk whole output rows per tap, vectorised when the stride is 1; everything else takes the N-D path.
/// </summary>
public static class Pooling
{
    /// <summary>
    /// Max over each window. When <paramref name="indices"/> is not empty it receives the flat index of each
    /// maximum in the whole input tensor, row-major or, with <paramref name="columnMajor"/>, column-major over the
    /// spatial dimensions (ONNX storage_order 1).
    /// </summary>
    public static void Max<T>(ReadOnlySpan<T> x, Span<T> y, Span<long> indices, int planes, int[] geometry, bool columnMajor)
        where T : INumber<T>, IMinMaxValue<T>
    {
        var window = new Window(geometry);
        if (indices.IsEmpty && window.Rank == 2)
        {
            Rows2D<T, MaxRow<T>>(x, y, planes, window);
            return;
        }
        var accumulator = new MaxAccumulator<T>();
        WindowsNd(x, y, indices, planes, window, columnMajor, ref accumulator);
    }

    /// <summary>
    /// Average over each window. Without <paramref name="countIncludePad"/> the divisor is the number of taps
    /// inside the input; with it, the number of taps inside the padded input (taps past the end padding, which
    /// ceil_mode can create, never count).
    /// </summary>
    public static void Average(ReadOnlySpan<float> x, Span<float> y, int planes, int[] geometry, bool countIncludePad)
    {
        var window = new Window(geometry);
        if (window.Rank == 2) Rows2D<float, SumRow>(x, y, planes, window);
        else
        {
            var accumulator = new SumAccumulator();
            WindowsNd(x, y, Span<long>.Empty, planes, window, false, ref accumulator);
        }
        Divide(y, planes, window, countIncludePad);
    }

    /// <summary>(Σ |x|^p)^(1/p) over each window; padding contributes nothing.</summary>
    public static void Lp(ReadOnlySpan<float> x, Span<float> y, int planes, int[] geometry, float p)
    {
        var accumulator = new LpAccumulator(p);
        WindowsNd(x, y, Span<long>.Empty, planes, new Window(geometry), false, ref accumulator);
    }

    /// <summary>Mean of each plane of <paramref name="size"/> elements.</summary>
    public static void GlobalAverage(ReadOnlySpan<float> x, Span<float> y, int planes, int size)
    {
        for (int plane = 0; plane < planes; plane++)
        {
            ReadOnlySpan<float> values = x.Slice(plane * size, size);
            float sum = 0;
            int i = 0;
            if (Vector.IsHardwareAccelerated && size >= Vector<float>.Count)
            {
                var acc = Vector<float>.Zero;
                for (; i <= size - Vector<float>.Count; i += Vector<float>.Count) acc += new Vector<float>(values.Slice(i));
                sum = Vector.Sum(acc);
            }
            for (; i < size; i++) sum += values[i];
            y[plane] = sum / size;
        }
    }

    /// <summary>
    /// Mean over the <paramref name="size"/> pixels of each channel of <paramref name="batch"/> NCHW16c images
    /// (<see cref="Nchw16c"/>) into NCHW [N, C]: a block's pixels are whole vectors of its 16 channels,
    /// summed as four 4-float vectors, so every tier with 128-bit vectors reads them at full width.
    /// </summary>
    public static void GlobalAverageNchw16c(ReadOnlySpan<float> x, Span<float> y, int batch, int channels, int size)
    {
        const int B = Nchw16c.Block;
        if (channels % B != 0) throw new ArgumentException($"{channels} channels are not a multiple of {B}", nameof(channels));
        if (x.Length < batch * channels * size || y.Length < batch * channels) throw new ArgumentException($"x or y is too short for {batch} images of {channels} channels");
        for (int block = 0; block < batch * channels / B; block++)
        {
            ReadOnlySpan<float> pixels = x.Slice(block * size * B, size * B);
            Vector128<float> s0 = Vector128<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
            for (int p = 0; p < pixels.Length; p += B)
            {
                s0 += Vector128.Create(pixels.Slice(p, 4));
                s1 += Vector128.Create(pixels.Slice(p + 4, 4));
                s2 += Vector128.Create(pixels.Slice(p + 8, 4));
                s3 += Vector128.Create(pixels.Slice(p + 12, 4));
            }
            Span<float> mean = y.Slice(block * B, B);
            (s0 / size).CopyTo(mean);
            (s1 / size).CopyTo(mean.Slice(4));
            (s2 / size).CopyTo(mean.Slice(8));
            (s3 / size).CopyTo(mean.Slice(12));
        }
    }

    /// <summary>Max of each plane of <paramref name="size"/> elements.</summary>
    public static void GlobalMax<T>(ReadOnlySpan<T> x, Span<T> y, int planes, int size) where T : INumber<T>
    {
        for (int plane = 0; plane < planes; plane++)
        {
            ReadOnlySpan<T> values = x.Slice(plane * size, size);
            T best = values[0];
            for (int i = 1; i < size; i++) if (values[i] > best || T.IsNaN(values[i])) best = values[i];
            y[plane] = best;
        }
    }

    /// <summary>(Σ |x|^p)^(1/p) of each plane of <paramref name="size"/> elements.</summary>
    public static void GlobalLp(ReadOnlySpan<float> x, Span<float> y, int planes, int size, float p)
    {
        var accumulator = new LpAccumulator(p);
        for (int plane = 0; plane < planes; plane++)
        {
            accumulator.Reset();
            ReadOnlySpan<float> values = x.Slice(plane * size, size);
            for (int i = 0; i < size; i++) accumulator.Add(values[i], 0);
            y[plane] = accumulator.Result;
        }
    }

    /// <summary>Divides every average by its tap count, the product of per-dimension counts.</summary>
    static void Divide(Span<float> y, int planes, Window window, bool countIncludePad)
    {
        int rank = window.Rank, outputSize = window.OutputSize, totalPositions = 0;
        for (int d = 0; d < rank; d++) totalPositions += window.Output(d);
        // counts[first[d] + p] = taps of window position p along dimension d that count towards the divisor.
        // Sums of output extents are small; only absurd shapes take the (allocating) heap branch.
        Span<int> counts = totalPositions <= 4096 ? stackalloc int[totalPositions] : new int[totalPositions];
        Span<int> first = stackalloc int[rank];
        for (int d = 0, at = 0; d < rank; at += window.Output(d), d++)
        {
            first[d] = at;
            int low = countIncludePad ? -window.PadBegin(d) : 0;
            int high = window.Input(d) + (countIncludePad ? window.PadEnd(d) : 0);
            for (int p = 0; p < window.Output(d); p++)
            {
                int start = p * window.Stride(d) - window.PadBegin(d), taps = 0;
                for (int k = 0; k < window.Kernel(d); k++)
                {
                    int coordinate = start + k * window.Dilation(d);
                    if (coordinate >= low && coordinate < high) taps++;
                }
                counts[at + p] = taps;
            }
        }
        Span<int> position = stackalloc int[rank];
        for (int plane = 0; plane < planes; plane++)
        {
            Span<float> output = y.Slice(plane * outputSize, outputSize);
            position.Clear();
            for (int o = 0; o < outputSize; o++)
            {
                int count = 1;
                for (int d = 0; d < rank; d++) count *= counts[first[d] + position[d]];
                output[o] = count == 0 ? float.NaN : output[o] / count;
                for (int d = rank - 1; d >= 0; d--)
                {
                    if (++position[d] < window.Output(d)) break;
                    position[d] = 0;
                }
            }
        }
    }

    /// <summary>
    /// 2-D pooling by rows: each output row starts at the identity and, for every tap inside the input, combines a
    /// whole (strided) input row into it.
    /// </summary>
    static void Rows2D<T, TRow>(ReadOnlySpan<T> x, Span<T> y, int planes, Window window) where TRow : struct, IRowCombiner<T>
    {
        int inputSize = window.InputSize, outputSize = window.OutputSize;
        int outHeight = window.Output(0), outWidth = window.Output(1), inWidth = window.Input(1);
        int kernelWidth = window.Kernel(1), stride = window.Stride(1);
        Span<int> begins = stackalloc int[kernelWidth];
        Span<int> ends = stackalloc int[kernelWidth];
        Span<int> offsets = stackalloc int[kernelWidth];
        for (int kw = 0; kw < kernelWidth; kw++) window.ValidRange(1, kw, out begins[kw], out ends[kw], out offsets[kw]);
        var combiner = default(TRow);
        for (int plane = 0; plane < planes; plane++)
        {
            ReadOnlySpan<T> input = x.Slice(plane * inputSize, inputSize);
            Span<T> output = y.Slice(plane * outputSize, outputSize);
            output.Fill(combiner.Identity);
            for (int oh = 0; oh < outHeight; oh++)
            {
                Span<T> row = output.Slice(oh * outWidth, outWidth);
                window.ValidTaps(0, oh, out int khBegin, out int khEnd, out int ihStart);
                for (int kh = khBegin; kh < khEnd; kh++)
                {
                    ReadOnlySpan<T> inputRow = input.Slice((ihStart + kh * window.Dilation(0)) * inWidth, inWidth);
                    for (int kw = 0; kw < kernelWidth; kw++)
                    {
                        int begin = begins[kw], end = ends[kw], offset = offsets[kw];
                        // A tap that lands in padding for every position has an offset past the row: slicing there throws.
                        if (end == begin) continue;
                        if (stride == 1) combiner.Combine(row.Slice(begin, end - begin), inputRow.Slice(begin + offset, end - begin));
                        else for (int ow = begin; ow < end; ow++) row[ow] = combiner.Combine(row[ow], inputRow[ow * stride + offset]);
                    }
                }
            }
        }
    }

    /// <summary>Any-rank pooling: visits every tap inside the input of every window.</summary>
    static void WindowsNd<T, TAccumulator>(ReadOnlySpan<T> x, Span<T> y, Span<long> indices, int planes, Window window, bool columnMajor, ref TAccumulator accumulator)
        where TAccumulator : struct, IWindowAccumulator<T>
    {
        int rank = window.Rank, inputSize = window.InputSize, outputSize = window.OutputSize;
        Span<int> position = stackalloc int[rank];
        Span<int> begin = stackalloc int[rank];
        Span<int> end = stackalloc int[rank];
        Span<int> start = stackalloc int[rank];
        Span<int> tap = stackalloc int[rank];
        Span<int> columnStrides = stackalloc int[rank];
        for (int d = 0, s = 1; d < rank; d++) { columnStrides[d] = s; s *= window.Input(d); }
        bool wantIndex = !indices.IsEmpty;
        for (int plane = 0; plane < planes; plane++)
        {
            ReadOnlySpan<T> input = x.Slice(plane * inputSize, inputSize);
            position.Clear();
            for (int o = 0; o < outputSize; o++)
            {
                bool empty = false;
                for (int d = 0; d < rank; d++)
                {
                    window.ValidTaps(d, position[d], out begin[d], out end[d], out start[d]);
                    empty |= begin[d] == end[d];
                    tap[d] = begin[d];
                }
                accumulator.Reset();
                while (!empty)
                {
                    int flat = 0, columnFlat = 0;
                    for (int d = 0; d < rank; d++)
                    {
                        int coordinate = start[d] + tap[d] * window.Dilation(d);
                        flat = flat * window.Input(d) + coordinate;
                        columnFlat += coordinate * columnStrides[d];
                    }
                    accumulator.Add(input[flat], wantIndex ? (columnMajor ? columnFlat : flat) : 0);
                    int dim = rank - 1;
                    for (; dim >= 0; dim--)
                    {
                        if (++tap[dim] < end[dim]) break;
                        tap[dim] = begin[dim];
                    }
                    if (dim < 0) break;
                }
                y[plane * outputSize + o] = accumulator.Result;
                if (wantIndex) indices[plane * outputSize + o] = (long)plane * inputSize + accumulator.Index;
                for (int d = rank - 1; d >= 0; d--)
                {
                    if (++position[d] < window.Output(d)) break;
                    position[d] = 0;
                }
            }
        }
    }

    interface IRowCombiner<T>
    {
        T Identity { get; }
        T Combine(T accumulated, T value);
        void Combine(Span<T> accumulated, ReadOnlySpan<T> values);
    }

    readonly struct MaxRow<T> : IRowCombiner<T> where T : INumber<T>, IMinMaxValue<T>
    {
        public T Identity => T.MinValue;
        public T Combine(T accumulated, T value) => value > accumulated || T.IsNaN(value) ? value : accumulated;
        public void Combine(Span<T> accumulated, ReadOnlySpan<T> values) => VectorMath.Max(accumulated, values);
    }

    readonly struct SumRow : IRowCombiner<float>
    {
        public float Identity => 0f;
        public float Combine(float accumulated, float value) => accumulated + value;
        public void Combine(Span<float> accumulated, ReadOnlySpan<float> values) => VectorMath.Add(accumulated, values);
    }

    interface IWindowAccumulator<T>
    {
        void Reset();
        void Add(T value, int index);
        T Result { get; }
        int Index { get; }
    }

    struct MaxAccumulator<T> : IWindowAccumulator<T> where T : INumber<T>, IMinMaxValue<T>
    {
        T _best;
        int _index;
        bool _any;
        public void Reset() { _best = T.MinValue; _index = 0; _any = false; }
        public void Add(T value, int index)
        {
            if (!_any || value > _best || (T.IsNaN(value) && !T.IsNaN(_best))) { _best = value; _index = index; _any = true; }
        }
        public readonly T Result => _best;
        public readonly int Index => _index;
    }

    struct SumAccumulator : IWindowAccumulator<float>
    {
        float _sum;
        public void Reset() => _sum = 0;
        public void Add(float value, int index) => _sum += value;
        public readonly float Result => _sum;
        public readonly int Index => 0;
    }

    struct LpAccumulator : IWindowAccumulator<float>
    {
        readonly float _p;
        float _sum;
        public LpAccumulator(float p) { _p = p; _sum = 0; }
        public void Reset() => _sum = 0;
        public void Add(float value, int index) => _sum += _p == 2f ? value * value : _p == 1f ? MathF.Abs(value) : MathF.Pow(MathF.Abs(value), _p);
        public readonly float Result => _p == 2f ? MathF.Sqrt(_sum) : _p == 1f ? _sum : MathF.Pow(_sum, 1f / _p);
        public readonly int Index => 0;
    }
}
