using System;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using AotInfer.Kernels.Linear;

namespace AotInfer.Kernels.Convolution;

/// <summary>
/// A 2-D convolution of an image with few channels (the RGB first layer of ImageNet models, the one-channel first
/// layer of MNIST-style models) without dilation, at any stride, vectorised along the output rows: each padded input
/// row is split once into its stride phases (at stride 2, even and odd columns), so every tap of a vector of output
/// positions is one contiguous load, which is multiplied into the accumulators of eight output channels on two output
/// rows (weights as broadcast scalars). Bias, Relu and Clip are applied in registers and each vector goes straight to its NCHW plane.
/// Weights stay in ONNX layout <c>[M, C, KH, KW]</c>; an empty bias means none.
/// </summary>
/// <remarks>
/// Why: with 3 input channels an output needs only 27 multiply-adds, so the channel-vectorised kernel spends its time
/// transposing 16-channel tiles back to NCHW and the output (3.2 MB for squeezenet's 3→64 at 111×111) is written
/// through those transposes; here the stores are whole vectors of one plane and nothing is transposed.
/// </remarks>
public static unsafe class FewChannelConvolution
{
    /// <summary>Output channels whose accumulators one pass over a vector of output positions keeps in registers.</summary>
    const int ChannelsPerPass = 8;

    /// <summary>True when the geometry is one this kernel computes: 2-D without dilation.</summary>
    public static bool Supports(int[] geometry) => Supports(new Window(geometry));

    static bool Supports(Window window) => window.Rank == 2 && window.Dilation(0) == 1 && window.Dilation(1) == 1;

    /// <summary>Floats of the <c>phases</c> scratch <see cref="Convolve"/> needs: the padded image split into column phases.</summary>
    public static int ScratchSize(int inChannels, int[] geometry) => ScratchSize(inChannels, new Window2D(new Window(geometry)));

    static int ScratchSize(int inChannels, in Window2D window) => inChannels * window.StrideWidth * window.PaddedHeight * PhasePitch(window) + Window2D.Margin;

    /// <summary>Floats per row of one column phase: ⌈padded width / stride⌉.</summary>
    static int PhasePitch(in Window2D window) => (window.PaddedWidth + window.StrideWidth - 1) / window.StrideWidth;

    /// <summary>
    /// y = act(W ⊛ x + b) for <paramref name="batch"/> images of <paramref name="inChannels"/> channels;
    /// <paramref name="phases"/> holds <see cref="ScratchSize(int, int[])"/> floats.
    /// </summary>
    public static void Convolve(ReadOnlySpan<float> x, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> y, Span<float> phases,
        int batch, int inChannels, int outChannels, int[] geometry, FusedActivation activation = default)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        var plain = new Window(geometry);
        if (!Supports(plain)) throw new ArgumentException("the few-channel kernel computes 2-D convolutions without dilation", nameof(geometry));
        var window = new Window2D(plain);
        int inputSize = window.InputHeight * window.InputWidth, outputSize = window.OutputHeight * window.OutputWidth, taps = inChannels * window.Taps;
        if (x.Length < batch * inChannels * inputSize) throw new ArgumentException($"x has {x.Length} elements, fewer than {batch}×{inChannels}×{inputSize}", nameof(x));
        if (y.Length < batch * outChannels * outputSize) throw new ArgumentException($"y has {y.Length} elements, fewer than {batch}×{outChannels}×{outputSize}", nameof(y));
        if (weights.Length != outChannels * taps) throw new ArgumentException($"weights have {weights.Length} elements, expected {outChannels}×{taps}", nameof(weights));
        if (!bias.IsEmpty && bias.Length != outChannels) throw new ArgumentException($"bias has {bias.Length} elements, expected {outChannels}", nameof(bias));
        int scratchSize = ScratchSize(inChannels, window);
        if (phases.Length < scratchSize) throw new ArgumentException($"phases scratch has {phases.Length} elements, fewer than {scratchSize}", nameof(phases));
        // Relu, Clip or no activation are a clamp applied in registers; the others run over the finished planes.
        bool clamps = activation.Kind is ActivationKind.None or ActivationKind.Relu or ActivationKind.Clip;
        var pass = new PassArguments(window, inChannels, outChannels, bias,
            activation.Kind == ActivationKind.Relu ? 0f : activation.Kind == ActivationKind.Clip ? activation.Alpha : float.NegativeInfinity,
            activation.Kind == ActivationKind.Clip ? activation.Beta : float.PositiveInfinity);
        int width = window.OutputWidth, pitch = PhasePitch(window), planeSize = window.PaddedHeight * pitch;
        var tier = MatrixMultiply.Tier;
        fixed (float* px = x)
        fixed (float* pw = weights)
        fixed (float* py = y)
        fixed (float* pp = phases)
        {
            int* offsets = stackalloc int[taps];
            for (int t = 0; t < taps; t++)
            {
                int c = t / window.Taps, kh = t % window.Taps / window.KernelWidth, kw = t % window.KernelWidth;
                offsets[t] = (c * window.StrideWidth + kw % window.StrideWidth) * planeSize + kh * pitch + kw / window.StrideWidth;
            }
            for (int n = 0; n < batch; n++)
            {
                float* image = px + (long)n * inChannels * inputSize;
                for (int c = 0; c < inChannels; c++)
                    Window2D.SplitPhases(image + (long)c * inputSize, window.InputHeight, window.InputWidth, window.PadTop, window.PadLeft,
                        1, window.StrideWidth, window.PaddedHeight, pitch, pp + (long)c * window.StrideWidth * planeSize);
                float* output = py + (long)n * outChannels * outputSize;
                if (tier == GemmTier.Avx512 && Avx512F.IsSupported && width >= Vector512<float>.Count)
                    Rows<Lanes512, Vector512<float>>(pp, pitch, offsets, pw, pass, output);
                else if (tier >= GemmTier.Fma256 && Avx2.IsSupported && Fma.IsSupported && width >= Vector256<float>.Count)
                    Rows<Lanes256, Vector256<float>>(pp, pitch, offsets, pw, pass, output);
                else
                    Scalar(pp, pitch, offsets, pw, pass, output);
                if (!clamps) activation.Apply(y.Slice(n * outChannels * outputSize, outChannels * outputSize));
            }
        }
    }

    /// <summary>What every pass over the output rows shares.</summary>
    readonly ref struct PassArguments
    {
        public readonly int Height, Width, RowStep, Taps, OutChannels;
        public readonly ReadOnlySpan<float> Bias;
        public readonly float Low, High;

        public PassArguments(in Window2D window, int inChannels, int outChannels, ReadOnlySpan<float> bias, float low, float high)
        {
            Height = window.OutputHeight;
            Width = window.OutputWidth;
            RowStep = window.StrideHeight;
            Taps = inChannels * window.Taps;
            OutChannels = outChannels;
            Bias = bias;
            Low = low;
            High = high;
        }

        public float BiasOf(int channel) => Bias.IsEmpty || channel >= OutChannels ? 0f : Bias[channel];
    }

    /// <summary>
    /// Every output row in vectors (the last vector of a row overlaps the one before rather than running past it), all
    /// channel passes of a row before the next row so the row's input phases stay in L1; channels past the last are
    /// computed on zero weights and not stored.
    /// </summary>
    static void Rows<TLanes, TVector>(float* phases, int pitch, int* offsets, float* weights, in PassArguments pass, float* y)
        where TLanes : struct, IFloatLanes<TVector> where TVector : struct
    {
        int lanes = TLanes.Count, taps = pass.Taps, width = pass.Width, outputSize = pass.Height * width, outChannels = pass.OutChannels;
        int passes = (outChannels + ChannelsPerPass - 1) / ChannelsPerPass;
        float* blocks = stackalloc float[passes * ChannelsPerPass * taps];
        float* biases = stackalloc float[passes * ChannelsPerPass];
        PackPasses(weights, pass.Bias, outChannels, taps, ChannelsPerPass, blocks, biases);
        TVector low = TLanes.Broadcast(pass.Low), high = TLanes.Broadcast(pass.High);
        // Two output rows per step (the last pair of an odd height overlaps the one before, like the last vector of a
        // row): 16 accumulators, so each broadcast weight feeds two multiply-adds and the FMA latency stays covered.
        for (int row = 0; ; row += 2)
        {
            if (row > pass.Height - 2) row = Math.Max(pass.Height - 2, 0);
            int next = Math.Min(row + 1, pass.Height - 1);
            float* upper = phases + (long)row * pass.RowStep * pitch, lower = phases + (long)next * pass.RowStep * pitch;
            for (int p = 0; p < passes; p++)
            {
                int first = p * ChannelsPerPass, count = Math.Min(ChannelsPerPass, outChannels - first);
                float* block = blocks + (long)p * taps * ChannelsPerPass, bias = biases + first;
                for (int column = 0; ; column += lanes)
                {
                    if (column > width - lanes) column = width - lanes;
                    TVector a0 = TLanes.Broadcast(bias[0]), a1 = TLanes.Broadcast(bias[1]), a2 = TLanes.Broadcast(bias[2]), a3 = TLanes.Broadcast(bias[3]);
                    TVector a4 = TLanes.Broadcast(bias[4]), a5 = TLanes.Broadcast(bias[5]), a6 = TLanes.Broadcast(bias[6]), a7 = TLanes.Broadcast(bias[7]);
                    TVector b0 = a0, b1 = a1, b2 = a2, b3 = a3, b4 = a4, b5 = a5, b6 = a6, b7 = a7;
                    float* w = block;
                    for (int t = 0; t < taps; t++, w += ChannelsPerPass)
                    {
                        TVector u = TLanes.Load(upper + column + offsets[t]), v = TLanes.Load(lower + column + offsets[t]), weight;
                        weight = TLanes.Broadcast(w[0]); a0 = TLanes.MultiplyAdd(weight, u, a0); b0 = TLanes.MultiplyAdd(weight, v, b0);
                        weight = TLanes.Broadcast(w[1]); a1 = TLanes.MultiplyAdd(weight, u, a1); b1 = TLanes.MultiplyAdd(weight, v, b1);
                        weight = TLanes.Broadcast(w[2]); a2 = TLanes.MultiplyAdd(weight, u, a2); b2 = TLanes.MultiplyAdd(weight, v, b2);
                        weight = TLanes.Broadcast(w[3]); a3 = TLanes.MultiplyAdd(weight, u, a3); b3 = TLanes.MultiplyAdd(weight, v, b3);
                        weight = TLanes.Broadcast(w[4]); a4 = TLanes.MultiplyAdd(weight, u, a4); b4 = TLanes.MultiplyAdd(weight, v, b4);
                        weight = TLanes.Broadcast(w[5]); a5 = TLanes.MultiplyAdd(weight, u, a5); b5 = TLanes.MultiplyAdd(weight, v, b5);
                        weight = TLanes.Broadcast(w[6]); a6 = TLanes.MultiplyAdd(weight, u, a6); b6 = TLanes.MultiplyAdd(weight, v, b6);
                        weight = TLanes.Broadcast(w[7]); a7 = TLanes.MultiplyAdd(weight, u, a7); b7 = TLanes.MultiplyAdd(weight, v, b7);
                    }
                    float* target = y + (long)first * outputSize + row * width + column;
                    long down = (long)(next - row) * width;
                    Store(a0, b0, target, down, low, high);
                    if (count > 1) Store(a1, b1, target + outputSize, down, low, high);
                    if (count > 2) Store(a2, b2, target + 2 * outputSize, down, low, high);
                    if (count > 3) Store(a3, b3, target + 3 * outputSize, down, low, high);
                    if (count > 4) Store(a4, b4, target + 4 * outputSize, down, low, high);
                    if (count > 5) Store(a5, b5, target + 5 * outputSize, down, low, high);
                    if (count > 6) Store(a6, b6, target + 6 * outputSize, down, low, high);
                    if (count > 7) Store(a7, b7, target + 7 * outputSize, down, low, high);
                    if (column == width - lanes) break;
                }
            }
            if (next == pass.Height - 1) break;
        }

        // The upper row's vector, then the lower row's (the same row again when the height is one: the same values).
        static void Store(TVector upper, TVector lower, float* target, long down, TVector low, TVector high)
        {
            TLanes.Store(TLanes.Clamp(upper, low, high), target);
            TLanes.Store(TLanes.Clamp(lower, low, high), target + down);
        }
    }

    /// <summary>
    /// Tap-major weights per pass of <paramref name="channelsPerPass"/> channels (blocks[p][t·channelsPerPass + c]) and
    /// the bias per pass, zero for channels past the last (and without bias), so one loop serves every pass; blocks
    /// holds ⌈M / channelsPerPass⌉·channelsPerPass·taps floats, biases ⌈M / channelsPerPass⌉·channelsPerPass.
    /// </summary>
    internal static void PackPasses(float* weights, ReadOnlySpan<float> bias, int outChannels, int taps, int channelsPerPass, float* blocks, float* biases)
    {
        int passes = (outChannels + channelsPerPass - 1) / channelsPerPass;
        for (int p = 0; p < passes; p++)
            for (int c = 0; c < channelsPerPass; c++)
            {
                int channel = p * channelsPerPass + c;
                biases[p * channelsPerPass + c] = bias.IsEmpty || channel >= outChannels ? 0f : bias[channel];
                for (int t = 0; t < taps; t++)
                    blocks[(p * taps + t) * channelsPerPass + c] = channel < outChannels ? weights[(long)channel * taps + t] : 0f;
            }
    }

    /// <summary>The scalar reference (and rows narrower than a vector): the bias, then the taps of each output in order.</summary>
    static void Scalar(float* phases, int pitch, int* offsets, float* weights, in PassArguments pass, float* y)
    {
        int taps = pass.Taps, height = pass.Height, width = pass.Width;
        for (int c = 0; c < pass.OutChannels; c++)
            for (int row = 0; row < height; row++)
                for (int column = 0; column < width; column++)
                {
                    float* source = phases + (long)row * pass.RowStep * pitch + column;
                    float sum = pass.BiasOf(c);
                    for (int t = 0; t < taps; t++)
                        sum = MathF.FusedMultiplyAdd(weights[(long)c * taps + t], source[offsets[t]], sum);
                    y[((long)c * height + row) * width + column] = MathF.Min(pass.High, MathF.Max(pass.Low, sum));
                }
    }
}
