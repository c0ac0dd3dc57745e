using System;
using System.Runtime.Intrinsics;
using AotInfer.Kernels.Linear;

namespace AotInfer.Kernels.Convolution;

/// <summary>
/// Float convolution kernels over NC(spatial) tensors. The compiler picks one per layer at build time:
/// <see cref="PackedGemm"/> for 2-D convolutions with constant weights, <see cref="Im2ColGemm"/> in general, <c>Pointwise</c> for 1×1 stride-1 unpadded convolutions (the
/// image already is the column matrix; constant weights come pre-packed), <see cref="Depthwise2D"/> when every group has one input and one output
/// channel. Weights are in ONNX layout <c>[M, C/group, k...]</c>, i.e. per group a row-major <c>[M/group, C/group·K]</c>
/// matrix, so the GEMM reads them as they are. An empty <c>bias</c> means no bias. A non-empty <c>residual</c> (laid out
/// like <c>y</c>) is added before the fused activation: the compiler's fused residual Add (ResNet shortcuts).
/// </summary>
public static class Convolution
{
    /// <summary>
    /// y = W ⊛ x + b through an im2col column matrix in <paramref name="columns"/>
    /// (at least <c>C/group · K · OutputSize</c> elements) and <see cref="MatrixMultiply"/>.
    /// </summary>
    public static void Im2ColGemm(ReadOnlySpan<float> x, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> y, Span<float> columns,
        int batch, int inChannels, int outChannels, int groups, int[] geometry, FusedActivation activation = default, ReadOnlySpan<float> residual = default)
    {
        var window = new Window(geometry);
        int groupIn = inChannels / groups, groupOut = outChannels / groups;
        int inputSize = window.InputSize, outputSize = window.OutputSize, depth = groupIn * window.KernelSize;
        for (int n = 0; n < batch; n++)
        {
            for (int g = 0; g < groups; g++)
            {
                ColumnBuffer.Gather(x.Slice((n * inChannels + g * groupIn) * inputSize, groupIn * inputSize), groupIn, window, columns);
                Span<float> yGroup = y.Slice((n * outChannels + g * groupOut) * outputSize, groupOut * outputSize);
                MatrixMultiply.Multiply(weights.Slice(g * groupOut * depth, groupOut * depth), depth, columns, outputSize, yGroup, outputSize, groupOut, outputSize, depth);
                AddBias(yGroup, bias, g * groupOut, groupOut, outputSize, activation, ResidualSlice(residual, (n * outChannels + g * groupOut) * outputSize, yGroup.Length));
            }
        }
    }

    /// <summary>
    /// y = W ⊛ x + b for a 2-D convolution with constant weights pre-packed at type initialisation: per group one GEMM
    /// whose B operand is gathered from the image straight into the micro-kernel's panel layout (no im2col buffer,
    /// no weight packing per call). Also serves 1×1 convolutions, where the gather is a plain copy.
    /// <paramref name="padded"/> is scratch for one group's zero-bordered image (<see cref="PackedGemmScratchSize"/>;
    /// empty for 1×1 stride-1 unpadded windows, which read the image in place).
    /// </summary>
    public static unsafe void PackedGemm(ReadOnlySpan<float> x, PackedFilter filter, ReadOnlySpan<float> bias, Span<float> y, Span<float> padded,
        int batch, int inChannels, int[] geometry, FusedActivation activation = default, ReadOnlySpan<float> residual = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var window = new Window2D(new Window(geometry));
        int groups = filter.Groups, groupIn = inChannels / groups, groupOut = filter.GroupOut, outChannels = groups * groupOut;
        int inputSize = window.InputHeight * window.InputWidth, outputSize = window.OutputHeight * window.OutputWidth;
        if (groupIn * groups != inChannels || groupIn * window.Taps != filter.Depth)
            throw new ArgumentException($"the filter's depth {filter.Depth} does not match {inChannels} input channels in {groups} groups of {window.Taps} taps", nameof(filter));
        if (x.Length < batch * inChannels * inputSize) throw new ArgumentException($"x has {x.Length} elements, fewer than {batch}×{inChannels}×{inputSize}", nameof(x));
        if (y.Length < batch * outChannels * outputSize) throw new ArgumentException($"y has {y.Length} elements, fewer than {batch}×{outChannels}×{outputSize}", nameof(y));
        bool inPlace = window.ReadsImageInPlace;
        if (!inPlace && padded.Length < Window2D.PaddedSize(groupIn, window.PaddedHeight, window.PaddedWidth))
            throw new ArgumentException($"padded scratch has {padded.Length} elements, fewer than {PackedGemmScratchSize(inChannels, groups, geometry)}", nameof(padded));
        fixed (float* px = x)
        fixed (float* py = y)
        fixed (float* pp = padded)
        {
            float* panel = MatrixMultiply.Scratch.B;
            for (int n = 0; n < batch; n++)
            {
                for (int g = 0; g < groups; g++)
                {
                    float* image = px + (long)(n * inChannels + g * groupIn) * inputSize;
                    if (!inPlace)
                    {
                        window.Pad(image, groupIn, pp);
                        image = pp;
                    }
                    float* output = py + (long)(n * outChannels + g * groupOut) * outputSize;
                    float* weights = filter.Group(g);
                    switch (filter.Tier)
                    {
                        case GemmTier.Avx512: PackedConvolutionDriver<GemmKernelAvx512>.Multiply(image, groupIn, window, weights, groupOut, filter.PaddedRows, output, panel); break;
                        case GemmTier.Fma256: PackedConvolutionDriver<GemmKernelFma256>.Multiply(image, groupIn, window, weights, groupOut, filter.PaddedRows, output, panel); break;
                        case GemmTier.Vector128: PackedConvolutionDriver<GemmKernelVector128>.Multiply(image, groupIn, window, weights, groupOut, filter.PaddedRows, output, panel); break;
                        default: PackedConvolutionDriver<GemmKernelScalar>.Multiply(image, groupIn, window, weights, groupOut, filter.PaddedRows, output, panel); break;
                    }
                    int first = (n * outChannels + g * groupOut) * outputSize;
                    AddBias(y.Slice(first, groupOut * outputSize), bias, g * groupOut, groupOut, outputSize, activation, ResidualSlice(residual, first, groupOut * outputSize));
                }
            }
        }
    }

    /// <summary>Floats of the <c>padded</c> scratch <see cref="PackedGemm"/> needs (0 when it reads the image in place).</summary>
    public static int PackedGemmScratchSize(int inChannels, int groups, int[] geometry)
    {
        var window = new Window2D(new Window(geometry));
        return window.ReadsImageInPlace ? 0 : Window2D.PaddedSize(inChannels / groups, window.PaddedHeight, window.PaddedWidth);
    }

    /// <summary>y = W · x + b for a 1×1, stride-1, unpadded convolution: each image is already the column matrix.</summary>
    public static void Pointwise(ReadOnlySpan<float> x, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> y,
        int batch, int inChannels, int outChannels, int groups, int size, FusedActivation activation = default, ReadOnlySpan<float> residual = default)
    {
        int groupIn = inChannels / groups, groupOut = outChannels / groups;
        for (int n = 0; n < batch; n++)
        {
            for (int g = 0; g < groups; g++)
            {
                Span<float> yGroup = y.Slice((n * outChannels + g * groupOut) * size, groupOut * size);
                MatrixMultiply.Multiply(weights.Slice(g * groupOut * groupIn, groupOut * groupIn), groupIn,
                    x.Slice((n * inChannels + g * groupIn) * size, groupIn * size), size, yGroup, size, groupOut, size, groupIn);
                AddBias(yGroup, bias, g * groupOut, groupOut, size, activation, ResidualSlice(residual, (n * outChannels + g * groupOut) * size, yGroup.Length));
            }
        }
    }

    /// <summary>
    /// y = W · x + b for a 1×1, stride-1, unpadded convolution with constant weights pre-packed at type initialisation
    /// (<see cref="PackedFilter.Pack"/> with depth C/group): per group one GEMM over the image in place, with the bias,
    /// the fused residual and the activation applied to each output tile as soon as it is final (see
    /// <see cref="PointwiseDriver{TKernel}"/>) instead of in a second pass over y.
    /// </summary>
    public static unsafe void Pointwise(ReadOnlySpan<float> x, PackedFilter filter, ReadOnlySpan<float> bias, Span<float> y,
        int batch, int inChannels, int size, FusedActivation activation = default, ReadOnlySpan<float> residual = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        int groups = filter.Groups, groupIn = inChannels / groups, groupOut = filter.GroupOut, outChannels = groups * groupOut;
        if (groupIn * groups != inChannels || groupIn != filter.Depth)
            throw new ArgumentException($"the filter's depth {filter.Depth} does not match {inChannels} input channels in {groups} groups", nameof(filter));
        if (x.Length < batch * inChannels * size) throw new ArgumentException($"x has {x.Length} elements, fewer than {batch}×{inChannels}×{size}", nameof(x));
        if (y.Length < batch * outChannels * size) throw new ArgumentException($"y has {y.Length} elements, fewer than {batch}×{outChannels}×{size}", nameof(y));
        if (!bias.IsEmpty && bias.Length < outChannels) throw new ArgumentException($"bias has {bias.Length} elements, fewer than {outChannels}", nameof(bias));
        ResidualSlice(residual, 0, batch * outChannels * size);
        delegate*<float*, int, int, float*, int, int, float*, float*, in TileEpilogue, void> multiply = filter.Tier switch
        {
            GemmTier.Avx512 => &PointwiseDriver<GemmKernelAvx512>.Multiply,
            GemmTier.Fma256 => &PointwiseDriver<GemmKernelFma256>.Multiply,
            GemmTier.Vector128 => &PointwiseDriver<GemmKernelVector128>.Multiply,
            _ => &PointwiseDriver<GemmKernelScalar>.Multiply,
        };
        fixed (float* px = x)
        fixed (float* py = y)
        fixed (float* pb = bias)
        fixed (float* pr = residual)
        {
            float* panel = MatrixMultiply.Scratch.B;
            for (int n = 0; n < batch; n++)
            {
                for (int g = 0; g < groups; g++)
                {
                    float* image = px + (long)(n * inChannels + g * groupIn) * size, weights = filter.Group(g);
                    long first = (long)(n * outChannels + g * groupOut) * size;
                    var epilogue = new TileEpilogue(pb == null ? null : pb + g * groupOut, pr == null ? null : pr + first, activation);
                    multiply(image, groupIn, size, weights, groupOut, filter.PaddedRows, py + first, panel, epilogue);
                }
            }
        }
    }

    /// <summary>
    /// A 2-D convolution where each channel has its own k×k filter (group = C = M). The channel's padded image is split
    /// into stride×stride phase planes (<see cref="Window2D.SplitPhases"/>), so every tap reads one contiguous shifted
    /// slice, and the whole output plane (on a grid of the planes' pitch, the extra columns dropped afterwards) is one
    /// vector loop of taps fused multiply-adds: no per-row calls, whatever the width or stride.
    /// <paramref name="scratch"/> holds <see cref="Depthwise2DScratchSize"/> floats.
    /// </summary>
    public static unsafe void Depthwise2D(ReadOnlySpan<float> x, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> y, Span<float> scratch,
        int batch, int channels, int[] geometry, FusedActivation activation = default)
    {
        var window = new Window2D(new Window(geometry));
        int inputSize = window.InputHeight * window.InputWidth, outputSize = window.OutputHeight * window.OutputWidth, taps = window.Taps;
        DepthwisePlanes(window, out int rows, out int pitch, out int planesSize, out int gridSize);
        if (scratch.Length < planesSize + gridSize)
            throw new ArgumentException($"scratch has {scratch.Length} elements, fewer than {planesSize + gridSize}", nameof(scratch));
        if (weights.Length != channels * taps) throw new ArgumentException($"weights have {weights.Length} elements, expected {channels}×{taps}", nameof(weights));
        if (x.Length < batch * channels * inputSize || y.Length < batch * channels * outputSize)
            throw new ArgumentException($"x or y is too short for {batch} images of {channels} channels");
        int* offsets = stackalloc int[taps];
        int sy = window.StrideHeight, sx = window.StrideWidth;
        for (int kh = 0, t = 0; kh < window.KernelHeight; kh++)
        {
            for (int kw = 0; kw < window.KernelWidth; kw++, t++)
            {
                int ry = kh * window.DilationHeight, rx = kw * window.DilationWidth;
                offsets[t] = ((ry % sy) * sx + rx % sx) * rows * pitch + ry / sy * pitch + rx / sx;
            }
        }
        int gridCount = window.OutputHeight * pitch;
        fixed (float* px = x)
        fixed (float* pw = weights)
        fixed (float* py = y)
        fixed (float* planes = scratch)
        {
            float* grid = planes + planesSize;
            new Span<float>(planes + planesSize - DepthwiseMargin, DepthwiseMargin).Clear();
            for (int n = 0; n < batch; n++)
            {
                for (int c = 0; c < channels; c++)
                {
                    Window2D.SplitPhases(px + (long)(n * channels + c) * inputSize, window.InputHeight, window.InputWidth, window.PadTop, window.PadLeft,
                        sy, sx, rows, pitch, planes);
                    float* filter = pw + (long)c * taps;
                    var start = Vector256.Create(bias.IsEmpty ? 0f : bias[c]);
                    for (int p = 0; p < gridCount; p += Vector256<float>.Count)
                    {
                        var sum = start;
                        for (int t = 0; t < taps; t++) sum = Vector256.FusedMultiplyAdd(Vector256.Create(filter[t]), Vector256.Load(planes + offsets[t] + p), sum);
                        Vector256.Store(sum, grid + p);
                    }
                    Span<float> output = y.Slice((n * channels + c) * outputSize, outputSize);
                    float* target = py + (long)(n * channels + c) * outputSize;
                    for (int oh = 0; oh < window.OutputHeight; oh++)
                        Window2D.CopyRow(grid + (long)oh * pitch, target + (long)oh * window.OutputWidth, window.OutputWidth);
                    if (activation.Kind != ActivationKind.None) activation.Apply(output);
                }
            }
        }
    }

    /// <summary>Spare zeroed floats after the phase planes: the vector loop reads up to one vector past the grid.</summary>
    const int DepthwiseMargin = 8;

    /// <summary>Floats of the scratch <see cref="Depthwise2D"/> needs.</summary>
    public static int Depthwise2DScratchSize(int[] geometry)
    {
        DepthwisePlanes(new Window2D(new Window(geometry)), out _, out _, out int planesSize, out int gridSize);
        return planesSize + gridSize;
    }

    /// <summary>
    /// The phase planes cover every tap of every output: rows = OH + ⌊(KH−1)·dh / sh⌋, pitch = OW + ⌊(KW−1)·dw / sw⌋;
    /// the grid is OH × pitch rounded up to whole vectors.
    /// </summary>
    static void DepthwisePlanes(in Window2D window, out int rows, out int pitch, out int planesSize, out int gridSize)
    {
        rows = window.OutputHeight + (window.KernelHeight - 1) * window.DilationHeight / window.StrideHeight;
        pitch = window.OutputWidth + (window.KernelWidth - 1) * window.DilationWidth / window.StrideWidth;
        planesSize = window.StrideHeight * window.StrideWidth * rows * pitch + DepthwiseMargin;
        gridSize = (window.OutputHeight * pitch + 7) / 8 * 8;
    }

    /// <summary>
    /// Transposed convolution: per group, columns[M/group·K, inputSize] = Wᵀ · x, then the columns are scattered
    /// (col2im) onto the output, which starts at the bias. <paramref name="transposedWeights"/> holds, per group, the
    /// row-major <c>[M/group·K, C/group]</c> transpose of the ONNX weight (see <see cref="TransposeWeights"/>).
    /// The geometry's "input" is the output image and its "output" the input grid.
    /// </summary>
    public static void Transposed(ReadOnlySpan<float> x, ReadOnlySpan<float> transposedWeights, ReadOnlySpan<float> bias, Span<float> y, Span<float> columns,
        int batch, int inChannels, int outChannels, int groups, int[] geometry)
    {
        var window = new Window(geometry);
        int groupIn = inChannels / groups, groupOut = outChannels / groups;
        int inputSize = window.OutputSize, outputSize = window.InputSize, rows = groupOut * window.KernelSize;
        for (int n = 0; n < batch; n++)
        {
            for (int g = 0; g < groups; g++)
            {
                MatrixMultiply.Multiply(transposedWeights.Slice(g * rows * groupIn, rows * groupIn), groupIn,
                    x.Slice((n * inChannels + g * groupIn) * inputSize, groupIn * inputSize), inputSize, columns, inputSize, rows, inputSize, groupIn);
                Span<float> yGroup = y.Slice((n * outChannels + g * groupOut) * outputSize, groupOut * outputSize);
                for (int m = 0; m < groupOut; m++) yGroup.Slice(m * outputSize, outputSize).Fill(bias.IsEmpty ? 0f : bias[g * groupOut + m]);
                ColumnBuffer.ScatterAdd(columns, groupOut, window, yGroup);
            }
        }
    }

    /// <summary>
    /// Re-lays a ConvTranspose weight <c>[C, M/group, k...]</c> as per-group <c>[M/group·K, C/group]</c> matrices.
    /// The compiler does this at build time for constant weights; generated code calls it only for weights that
    /// are model inputs.
    /// </summary>
    public static void TransposeWeights(ReadOnlySpan<float> weights, Span<float> transposed, int groups, int groupIn, int rows)
    {
        for (int g = 0; g < groups; g++)
        {
            int baseOffset = g * groupIn * rows;
            for (int c = 0; c < groupIn; c++)
                for (int r = 0; r < rows; r++)
                    transposed[baseOffset + r * groupIn + c] = weights[baseOffset + c * rows + r];
        }
    }

    /// <summary>
    /// Row m of <paramref name="rows"/> becomes activation(row + bias[first + m] + residual row m) (no bias or residual
    /// when empty): the fused epilogue, row by row while each row is still in cache, so a residual Add and the Relu
    /// after it cost one more read stream here instead of two extra passes over the whole tensor.
    /// </summary>
    internal static void AddBias(Span<float> rows, ReadOnlySpan<float> bias, int first, int count, int length, FusedActivation activation,
        ReadOnlySpan<float> residual = default)
    {
        if (bias.IsEmpty && activation.Kind == ActivationKind.None && residual.IsEmpty) return;
        for (int m = 0; m < count; m++)
        {
            Span<float> row = rows.Slice(m * length, length);
            if (!residual.IsEmpty) VectorMath.Add(row, residual.Slice(m * length, length));
            activation.Apply(row, bias.IsEmpty ? 0f : bias[first + m]);
        }
    }

    /// <summary>
    /// The part of a fused residual operand (laid out like the output y) that lines up with y[first .. first + length];
    /// empty when there is no residual.
    /// </summary>
    internal static ReadOnlySpan<float> ResidualSlice(ReadOnlySpan<float> residual, int first, int length)
    {
        if (residual.IsEmpty) return residual;
        if (residual.Length < first + length)
            throw new ArgumentException($"residual has {residual.Length} elements, fewer than the output's {first + length}", nameof(residual));
        return residual.Slice(first, length);
    }
}
