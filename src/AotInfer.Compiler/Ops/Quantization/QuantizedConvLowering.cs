using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Compiler.Ops.Convolution;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Quantization;

/// <summary>
/// ConvInteger (opset 10, int32 output) and QLinearConv (opset 10, requantised u8/s8 output) over u8/s8 images and
/// weights: im2col with the input zero point as padding, then the int8 GEMM with the weights as the A operand (packed
/// once at type initialisation, with their per-output-channel zero points, when constant), then for QLinearConv the
/// int32 bias and per-tensor or per-channel requantisation. Constant weights within ±127 of their zero points (every
/// ONNX Runtime quantiser's output) run the byte GEMM <c>Int8Gemm</c> (<c>vpmaddubsw</c>; bias and input zero point
/// folded into one offset per channel; 1×1 stride-1 layers skip im2col; QLinearConv requantises each block of output
/// positions while its int32 sums are in cache, <c>QuantizedConvolution.Im2ColGemmToBytes</c>); others the widening int16 GEMM.
/// Pointwise QLinearConv layers (1×1, no padding, one group; strides 1, or any in 2-D) run <c>Int8PointwiseConvolution</c>, k×k ones
/// of one group <c>Int8DirectConvolution</c> (both without im2col, requantised in the same pass), k×k ones of one input channel
/// <c>Int8SingleChannelConvolution</c> (see <see cref="Layer.SingleChannel"/>), and wide 3×3 stride-1 ones the
/// exact integer Winograd F(2×2, 3×3) <c>Int8WinogradF2x3</c> (see <see cref="Layer.Winograd"/>).
/// Depthwise 2-D layers run the direct kernel <c>QuantizedDepthwise</c> instead (float sums, exact; QLinearConv requantised
/// row by row inside it), and a dense layer in convolution form
/// (one output position whose window is the whole input, as a Gemm written as a 1×1 QLinearConv) the batch-1 GEMV
/// <c>Int8VectorMatrixMultiply</c>. Groups, strides, dilations, pads and auto_pad as Conv.
/// </summary>
public sealed class QuantizedConvLowering : OpLowering
{
    readonly bool _requantize;

    /// <summary>QLinearConv when <paramref name="requantize"/>, else ConvInteger.</summary>
    public QuantizedConvLowering(bool requantize) => _requantize = requantize;

    /// <inheritdoc/>
    public override string[] OpTypes => new[] { _requantize ? "QLinearConv" : "ConvInteger" };

    // Input indexes: ConvInteger(x, w, x_zero_point, w_zero_point); QLinearConv(x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B).
    int W => _requantize ? 3 : 1;
    int XZero => _requantize ? 2 : 2;
    int WZero => _requantize ? 5 : 3;

    /// <summary>A described layer; <paramref name="ByteGemm"/> names the <c>Int8Gemm</c> scheme, null for the widening GEMM.</summary>
    sealed record Layer(int Batch, int InChannels, int OutChannels, int Groups, WindowGeometry Geometry, DataType XType, DataType WType, DataType Output, bool ConstantWeights, bool Depthwise,
        string? ByteGemm, bool Pointwise, string WideningReason, bool DirectCandidate, bool PointwiseCandidate, bool WinogradCandidate, bool SingleChannelCandidate)
    {
        /// <summary>Constant weights (and weight zero points) of a layer that is not depthwise: packed once at type initialisation for the GEMM or the direct kernels.</summary>
        public bool PackedWeights => ConstantWeights && !Depthwise;

        /// <summary>
        /// A 2-D 3×3 layer of one group, strides and dilations 1, pads ≥ 0, at least 32 input and output channels and
        /// 16×16 output positions, whose int32 sums stay exact (<c>Int8WinogradF2x3.Exact</c>): the integer Winograd
        /// F(2×2, 3×3), 2.25× fewer multiplies than the direct window but int16 ones (<c>vpmaddwd</c>, half the products
        /// per instruction of <c>vpdpbusd</c>) and transforms per call, so it wins only where the transforms are small
        /// against the products (GemmBench int8conv, AVX-512, direct vs Winograd: 32→32 at 16×16 11.2 vs 9.3 µs; 16→16
        /// at 32×32 12.1 vs 15.0 µs and 64→64 at 8×8 11.3 vs 12.5 µs, the direct kernel wins).
        /// </summary>
        public bool Winograd => WinogradCandidate && !Dense;

        /// <summary>
        /// A 2-D QLinearConv of one input channel and one group, kernel larger than 1×1, whose centred weights fit a signed byte:
        /// <c>Int8SingleChannelConvolution</c>, a GEMM over horizontal tap quads in tiles of four channels × four vectors of
        /// output positions, requantised in registers. It wins on every such layer of the models, whatever the kernel width
        /// (GemmBench int8onechannel, AVX-512 with AVX-VNNI, µs, one-channel kernel vs <c>Int8DirectConvolution</c> on the same
        /// quads vs im2col + byte GEMM requantised per block: DS-CNN's stem 1→64 10×4 s2 on 49×10 1.68 vs 2.91 vs 7.18;
        /// lenet5's 1→20 5×5 on 28×28 2.26 vs 3.51 vs 4.64, 1→6 1.05 vs 1.77 vs 2.95; digits_cnn's 1→16 3×3 pad 1 on 8×8
        /// 0.20 vs 0.35 vs 0.44; on the AVX2 tier 2.57, 3.45, 1.96 and 0.29 µs, each the fastest): the zero taps that fill the
        /// last quad of a kernel row (5×5: 3 of 8) cost less than im2col's columns and their packing. The rule does not see the CPU: on AVX-512
        /// CPUs without AVX-VNNI the widening products make lenet5's 1→20 5×5 slower than im2col (VNNI turned off here: 5.64
        /// vs 4.89 µs) while the others still win (stem 4.07 vs 7.45, 1→6 2.43 vs 3.13, 3×3 0.28 vs 0.43 µs).
        /// </summary>
        public bool SingleChannel => SingleChannelCandidate && !Dense;

        /// <summary>
        /// A 2-D k×k layer (k·k &gt; 1) of one group, three input channels or more and output rows of four pixels or more, or one input
        /// channel and kernel rows a multiple of four wide (its weights packed as horizontal tap quads), whose centred weights fit a signed byte: the direct convolution
        /// <c>Int8DirectConvolution</c> (no im2col, requantised in the same pass).
        /// </summary>
        public bool Direct => DirectCandidate && !Dense;

        /// <summary>
        /// A QLinearConv of one group, 1×…×1 kernel without padding, unit strides or a 2-D layer (not <see cref="Dense"/>) whose centred weights
        /// fit a signed byte: the pointwise kernel <c>Int8PointwiseConvolution</c> (the plane as one row of pixels, requantised in registers).
        /// </summary>
        public bool PointwiseDirect => PointwiseCandidate && !Dense;

        /// <summary>
        /// One sample, one group and one output position whose window is the whole unpadded input (a Gemm written as a
        /// 1×1 QLinearConv on a 1×1 plane, or a kernel as large as the image): a dense layer, x·Wᵀ, run as the GEMV.
        /// </summary>
        public bool Dense => ByteGemm is not null && Batch == 1 && Groups == 1 && Geometry.OutputSize == 1 &&
                             Geometry.Kernel.SequenceEqual(Geometry.Input) && Geometry.Dilations.All(d => d == 1) &&
                             Geometry.PadsBegin.Concat(Geometry.PadsEnd).All(p => p == 0);
    }

    Layer Describe(OpContext op)
    {
        var xType = op.Type(0);
        var wType = op.Type(W);
        if (!(xType is DataType.UInt8 or DataType.Int8)) throw op.Fail($"input x has element type {xType}; uint8 and int8 are supported");
        if (!(wType is DataType.UInt8 or DataType.Int8)) throw op.Fail($"input w has element type {wType}; uint8 and int8 are supported");
        if (op.HasInput(XZero) && (op.Type(XZero) != xType || ShapeMath.ElementCount(op.Shape(XZero)) != 1))
            throw op.Fail($"input x_zero_point must be a single {xType}");
        int[] xs = op.Shape(0), ws = op.Shape(W);
        if (xs.Length < 3) throw op.Fail($"input x must have rank 3 or more (N, C, spatial...), got rank {xs.Length}");
        if (ws.Length != xs.Length) throw op.Fail($"input w has rank {ws.Length}, expected {xs.Length} like x");
        long group = op.Attributes.Int("group", 1);
        if (group <= 0 || xs[1] % group != 0 || ws[0] % group != 0)
            throw op.Fail($"attribute group {group} must be positive and divide both the input channels {xs[1]} and the output channels {ws[0]}");
        int groups = (int)group, outChannels = ws[0];
        if (ws[1] != xs[1] / groups) throw op.Fail($"input w has {ws[1]} input channels per group, expected {xs[1] / groups}");
        if (op.HasInput(WZero))
        {
            int count = ShapeMath.ElementCount(op.Shape(WZero));
            if (op.Type(WZero) != wType || (count != 1 && count != outChannels))
                throw op.Fail($"input w_zero_point must be {wType} with 1 or {outChannels} (output channels) elements");
        }
        DataType output = DataType.Int32;
        if (_requantize)
        {
            if (ShapeMath.ElementCount(op.Shape(1)) != 1) throw op.Fail("input x_scale must be a single value");
            if (ShapeMath.ElementCount(op.Shape(6)) != 1) throw op.Fail("input y_scale must be a single value");
            int scales = ShapeMath.ElementCount(op.Shape(4));
            if (scales != 1 && scales != outChannels) throw op.Fail($"input w_scale must have 1 or {outChannels} elements");
            foreach (int s in new[] { 1, 4, 6 })
                if (op.Type(s) != DataType.Float) throw op.Fail($"input {s} (scale) has element type {op.Type(s)}; float is supported");
            output = op.Type(7);
            if (!(output is DataType.UInt8 or DataType.Int8) || ShapeMath.ElementCount(op.Shape(7)) != 1)
                throw op.Fail($"input y_zero_point must be a single uint8 or int8, got {output}{Literals.Shape(op.Shape(7))}");
            if (op.HasInput(8) && (op.Type(8) != DataType.Int32 || op.Shape(8).Length != 1 || op.Shape(8)[0] != outChannels))
                throw op.Fail($"input B must be int32[{outChannels}], got {op.Type(8)}{Literals.Shape(op.Shape(8))}");
        }
        int rank = xs.Length - 2;
        int[] kernel = WindowGeometry.KernelShape(op, rank, ws.Skip(2).ToArray());
        var geometry = WindowGeometry.ForConvolution(op, xs.Skip(2).ToArray(), kernel);
        bool packed = op.Input(W).Constant is not null && (!op.HasInput(WZero) || op.Input(WZero).Constant is not null);
        bool depthwise = rank == 2 && groups == xs[1] && outChannels == groups;
        var (byteGemm, reason) = packed && !depthwise
            ? QuantizedPacking.ByteGemmChoice(op.Input(W).Constant!, op.HasInput(WZero) ? op.Input(WZero).Constant : null, outChannels, ws[1] * kernel.Aggregate(1, (a, b) => a * b), transposed: false)
            : (null, depthwise ? "depthwise" : "weights not constant");
        bool pointwise = kernel.All(k => k == 1) && geometry.Strides.All(s => s == 1) && geometry.PadsBegin.Concat(geometry.PadsEnd).All(p => p == 0);
        // A 1×1 kernel reads each input byte once anyway, and output rows of three pixels or fewer leave a quarter of each
        // vector (two rows per vector) empty: im2col's dense columns win there (GemmBench int8conv, im2col vs direct:
        // 3→16 3×3 at 32×32 7.3 vs 5.4 µs, 8→8 3×3 at 6×6 2.4 vs 0.9 µs, 32→64 3×3 at 4×4 3.6 vs 3.1 µs). One input
        // channel (ConvInteger here: QLinearConv takes Layer.SingleChannel first) packs four horizontal taps per quad and runs over flat output positions, any width, when the kernel
        // rows fill whole quads: other widths leave tap bytes empty and im2col's dense columns are as fast (kernel alone,
        // im2col vs direct: dscnn stem 1→64 10×4 s2 on 49×10 7.2 vs 3.9 µs; 1→20 5×5 at 28×28 4.7 vs 5.1 µs, 1→16 3×3 at 8×8 0.44 vs 0.51 µs).
        bool singleChannel = xs[1] == 1 && kernel[1] % 4 == 0, channelQuads = xs[1] >= 3 && geometry.Output[1] >= 4;
        bool direct = packed && !depthwise && rank == 2 && groups == 1 && (singleChannel || channelQuads) && kernel[0] * kernel[1] > 1 &&
                      QuantizedPacking.CentredFitsSignedByte(op.Input(W).Constant!, op.HasInput(WZero) ? op.Input(WZero).Constant : null, outChannels, ws[1] * kernel[0] * kernel[1]);
        // A pointwise QLinearConv is a [M, C] × [C, H·W] product: its own kernel (GemmBench int8conv pointwise, byte GEMM
        // requantised per block vs pointwise: 64→64 on 25×5 5.1 vs 3.3 µs, 16→96 on 112×112 274 vs 165 µs); a strided
        // 2-D one (resnet8's shortcuts) gathers the pixels it reads first.
        bool unpadded1x1 = kernel.All(k => k == 1) && geometry.PadsBegin.Concat(geometry.PadsEnd).All(p => p == 0);
        bool pointwiseDirect = _requantize && packed && !depthwise && groups == 1 && unpadded1x1 && (pointwise || rank == 2) &&
                               QuantizedPacking.CentredFitsSignedByte(op.Input(W).Constant!, op.HasInput(WZero) ? op.Input(WZero).Constant : null, outChannels, ws[1]);
        bool winogradWindow = rank == 2 && groups == 1 && kernel.All(k => k == 3) && geometry.Strides.All(s => s == 1) && geometry.Dilations.All(d => d == 1) &&
                              geometry.PadsBegin.Concat(geometry.PadsEnd).All(p => p >= 0);
        bool winograd = packed && !depthwise && winogradWindow && xs[1] >= 32 && outChannels >= 32 && geometry.Output[0] >= 16 && geometry.Output[1] >= 16 &&
                        WinogradExact(xs[1], QuantizedPacking.LargestCentred(op.Input(W).Constant!, op.HasInput(WZero) ? op.Input(WZero).Constant : null, outChannels, ws[1] * 9));
        bool oneChannel = _requantize && packed && !depthwise && rank == 2 && groups == 1 && xs[1] == 1 && kernel[0] * kernel[1] > 1 &&
                             QuantizedPacking.CentredFitsSignedByte(op.Input(W).Constant!, op.HasInput(WZero) ? op.Input(WZero).Constant : null, outChannels, kernel[0] * kernel[1]);
        return new Layer(xs[0], xs[1], outChannels, groups, geometry, xType, wType, output, packed, depthwise, byteGemm, pointwise, reason, direct, pointwiseDirect, winograd,
            oneChannel);
    }

    /// <summary>
    /// <c>Int8WinogradF2x3.Exact</c>: |Y| ≤ C·9·255·max|w − zw| below 2²⁹, so that 4·Y fits an int32 (false when the
    /// weight layout was not recognised, <paramref name="largestCentred"/> −1).
    /// </summary>
    static bool WinogradExact(int inChannels, int largestCentred) => largestCentred >= 0 && (long)inChannels * 9 * 255 * largestCentred < 1 << 29;

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var layer = Describe(op);
        op.SetOutput(0, layer.Output, new[] { layer.Batch, layer.OutChannels }.Concat(layer.Geometry.Output).ToArray());
        string shape = layer.Depthwise ? $"depthwise-direct ({DepthwisePath(layer.Geometry)})"
            : layer.Winograd ? $"Winograd F(2×2,3×3) (exact: int16 transforms, vpmaddwd per transform position{(_requantize ? ", requantised per chunk of tile rows" : "")})"
            : layer.SingleChannel ? "one-channel (horizontal tap quads; vpdpbusd where the CPU has AVX-VNNI, requantised in registers)"
            : layer.PointwiseDirect ? "pointwise-direct (vpdpbusd where the CPU has AVX-VNNI, requantised in registers)" : layer.Direct ? "direct (no im2col; vpdpbusd where the CPU has AVX-VNNI, requantised in the same pass)" : layer.Dense ? $"GEMV (dense layer, {layer.ByteGemm})" : layer.ByteGemm is null ? $"im2col+GEMM (int16 widening: {layer.WideningReason})" : $"{(layer.Pointwise ? "1×1" : "im2col")}+GEMM (vpmaddubsw, or vpdpbusd where the CPU has AVX-VNNI; {layer.ByteGemm})";
        op.Node.Annotations["kernel"] = $"int8 {shape} {DataTypes.CSharpName(layer.XType)}×{DataTypes.CSharpName(layer.WType)}" +
                                        (layer.PackedWeights || (layer.Depthwise && _requantize && layer.ConstantWeights) ? ", weights pre-packed" : "") + $" → {layer.Output}";
        op.Node.Annotations["window"] = layer.Geometry.ToString();
    }

    /// <summary>
    /// Which path of <c>QuantizedDepthwise</c> the layer's geometry selects: QLinearConv layers whose window fits
    /// (<see cref="QuantizedPacking.DepthwiseChannelBlockFits"/>, the kernel's own rule) run 16 channels per vector where
    /// the CPU has AVX-512BW and VBMI; ConvInteger, larger windows and other CPUs run the phase planes.
    /// </summary>
    string DepthwisePath(WindowGeometry g) =>
        !_requantize ? "phase planes; int32 output"
        : QuantizedPacking.DepthwiseChannelBlockFits(g) ? "channel blocks of 16 where the CPU has AVX-512BW+VBMI, else phase planes"
        : "phase planes; the window is too large for channel blocks";

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var layer = Describe(op);
        string q = $"{EmitContext.Kernels}.Quantization";
        string xT = DataTypes.CSharpName(layer.XType), wT = DataTypes.CSharpName(layer.WType);
        var g = layer.Geometry;
        int groupIn = layer.InChannels / layer.Groups, depth = groupIn * g.KernelSize, outputSize = g.OutputSize;
        code.Writer.Line($"// {(_requantize ? "QLinearConv" : "ConvInteger")} {xT}×{wT}, {layer.InChannels}→{layer.OutChannels} channels, groups {layer.Groups}, {g}");

        string xZero = op.HasInput(XZero) ? code.In(XZero) : $"global::System.ReadOnlySpan<{xT}>.Empty";
        if (layer.Winograd)
        {
            EmitWinograd(op, code, layer, xZero);
            return;
        }
        if (layer.SingleChannel)
        {
            EmitSingleChannel(op, code, layer, xZero);
            return;
        }
        if (layer.Direct)
        {
            EmitDirect(op, code, layer, xZero);
            return;
        }
        if (layer.PointwiseDirect)
        {
            EmitPointwise(op, code, layer, xZero);
            return;
        }
        if (layer.Depthwise && _requantize)
        {
            // The depthwise kernel requantises each output row as it leaves its grid: no int32 tensor in between.
            // Constant weights are packed once (the channel-block path's interleaved float taps) instead of on every call.
            string weightsAndZeros = layer.ConstantWeights
                ? code.StaticField($"{q}.Int8DepthwiseWeights<{wT}>",
                    $"{q}.Int8DepthwiseWeights<{wT}>.Pack({code.ConstantArray(W)}, {ConstantWeightZeroPoints(op, code, wT)}, {layer.InChannels}, {g.KernelSize})")
                : $"{code.In(W)}, {WeightZeroPoints(op, code, wT)}";
            string scratch = code.Scratch(DataType.Int32, QuantizedPacking.DepthwiseScratchLength(g));
            string scales = EmitMultipliers(op, code);
            string biasInput = Bias(op, code);
            code.Writer.Line($"{q}.QuantizedDepthwise.Convolve2DRequantized<{xT}, {wT}, {code.OutType(0)}>({code.In(0)}, {xZero}, {weightsAndZeros}, " +
                             $"{biasInput}, {scales}, (int){code.In(7)}[0], {code.Out(0)}, {scratch}, {layer.Batch}, {layer.InChannels}, {code.IntArray(g.Packed())});");
            return;
        }
        if (_requantize && layer.ByteGemm is not null && !layer.Dense)
        {
            EmitByteGemmToBytes(op, code, layer, xZero);
            return;
        }
        int total = layer.Batch * layer.OutChannels * outputSize;
        string acc = _requantize ? code.Scratch(DataType.Int32, total) : code.Out(0);
        string bias = _requantize ? Bias(op, code) : NoBias;
        string weights = "";
        if (layer.Dense)
        {
            // The bias folds into the GEMV's per-output offsets, so the requantisation below gets none.
            string zeros = ConstantWeightZeroPoints(op, code, wT);
            string packed = code.StaticField($"{q}.Int8GemvWeights", $"{q}.Int8GemvWeights.Pack<{wT}>({code.ConstantArray(W)}, {zeros}, {layer.OutChannels}, {depth}, false)");
            string packedRow = code.Scratch(DataType.Int8, QuantizedPacking.PackedRowsLength(1, depth));
            code.Writer.Line($"{q}.Int8VectorMatrixMultiply.Multiply<{xT}>({code.In(0)}, {xZero}, {packed}, {bias}, {acc}, {packedRow});");
            bias = NoBias;
        }
        else if (layer.ByteGemm is not null)
        {
            // The byte GEMM folds the bias into its per-channel offsets, so the requantisation below gets none.
            string packed = PackedByteGemmWeights(op, code, layer, depth);
            string columns = code.Scratch(layer.XType, layer.Pointwise ? 1 : depth * outputSize);
            string packedColumns = code.Scratch(DataType.Int8, QuantizedPacking.PackedColumnsLength(depth, outputSize));
            string offsets = code.Scratch(DataType.Int32, layer.OutChannels);
            code.Writer.Line($"{q}.QuantizedConvolution.Im2ColGemm<{xT}>({code.In(0)}, {xZero}, {packed}, {bias}, {acc}, {columns}, {packedColumns}, {offsets}, " +
                             $"{layer.Batch}, {layer.InChannels}, {layer.OutChannels}, {layer.Groups}, {code.IntArray(g.Packed())});");
            bias = NoBias;
        }
        else if (layer.Depthwise)
        {
            string wZero = WeightZeroPoints(op, code, wT);
            string scratch = code.Scratch(DataType.Int32, QuantizedPacking.DepthwiseScratchLength(g));
            code.Writer.Line($"{q}.QuantizedDepthwise.Convolve2D<{xT}, {wT}>({code.In(0)}, {xZero}, {code.In(W)}, {wZero}, {acc}, {scratch}, " +
                             $"{layer.Batch}, {layer.InChannels}, {code.IntArray(g.Packed())});");
        }
        else if (layer.PackedWeights)
        {
            string zeros = ConstantWeightZeroPoints(op, code, wT);
            weights = code.StaticField("int[]", $"{q}.QuantizedMatrixMultiply.PackA<{wT}>({code.ConstantArray(W)}, {zeros}, {layer.OutChannels}, {depth})");
        }
        else
        {
            weights = code.Scratch(DataType.Int32, QuantizedPacking.PackedALength(layer.OutChannels, depth));
            string zeros = WeightZeroPoints(op, code, wT);
            code.Writer.Line($"{q}.QuantizedMatrixMultiply.PackA<{wT}>({code.In(W)}, {depth}, {zeros}, {layer.OutChannels}, {depth}, {weights});");
        }
        if (!layer.Depthwise && layer.ByteGemm is null)
        {
            string columns = code.Scratch(layer.XType, depth * outputSize);
            string packedColumns = code.Scratch(DataType.Int16, QuantizedPacking.PackedBLength(depth, outputSize));
            code.Writer.Line($"{q}.QuantizedConvolution.Im2ColGemm<{xT}>({code.In(0)}, {xZero}, {weights}, {acc}, {columns}, {packedColumns}, " +
                             $"{layer.Batch}, {layer.InChannels}, {layer.OutChannels}, {layer.Groups}, {code.IntArray(g.Packed())});");
        }
        if (!_requantize) return;

        string multipliers = EmitMultipliers(op, code);
        code.Writer.Line($"{q}.Requantization.ToInteger<{code.OutType(0)}>({acc}, {bias}, {multipliers}, true, (int){code.In(7)}[0], {code.Out(0)}, " +
                         $"{layer.Batch * layer.OutChannels}, {outputSize});");
    }

    /// <summary>The k×k layers <see cref="Layer.Direct"/> takes: weights packed once, one kernel call that also requantises.</summary>
    void EmitDirect(OpContext op, EmitContext code, Layer layer, string xZero)
    {
        string q = $"{EmitContext.Kernels}.Quantization", xT = DataTypes.CSharpName(layer.XType);
        var g = layer.Geometry;
        string packed = DirectWeights(op, code, layer);
        string scratch = code.Scratch(DataType.Int32, QuantizedPacking.DirectConvolutionScratchLength(layer.InChannels, g));
        string geometry = code.IntArray(g.Packed());
        if (!_requantize)
        {
            code.Writer.Line($"{q}.Int8DirectConvolution.Convolve<{xT}>({code.In(0)}, {xZero}, {packed}, {NoBias}, {code.Out(0)}, {scratch}, {layer.Batch}, {geometry});");
            return;
        }
        string bias = Bias(op, code);
        string multipliers = EmitMultipliers(op, code);
        code.Writer.Line($"{q}.Int8DirectConvolution.ConvolveToBytes<{xT}, {code.OutType(0)}>({code.In(0)}, {xZero}, {packed}, {bias}, {multipliers}, (int){code.In(7)}[0], " +
                         $"{code.Out(0)}, {scratch}, {layer.Batch}, {geometry});");
    }

    /// <summary>The one-channel layers <see cref="Layer.SingleChannel"/> takes: weights packed once as horizontal tap quads, one kernel call that also requantises.</summary>
    void EmitSingleChannel(OpContext op, EmitContext code, Layer layer, string xZero)
    {
        string q = $"{EmitContext.Kernels}.Quantization", xT = DataTypes.CSharpName(layer.XType);
        string packed = DirectWeights(op, code, layer);
        string scratch = code.Scratch(DataType.Int32, QuantizedPacking.SingleChannelConvolutionScratchLength(layer.Geometry));
        string bias = Bias(op, code);
        string multipliers = EmitMultipliers(op, code);
        code.Writer.Line($"{q}.Int8SingleChannelConvolution.ConvolveToBytes<{xT}, {code.OutType(0)}>({code.In(0)}, {xZero}, {packed}, {bias}, {multipliers}, (int){code.In(7)}[0], " +
                         $"{code.Out(0)}, {scratch}, {layer.Batch}, {code.IntArray(layer.Geometry.Packed())});");
    }

    /// <summary>The 3×3 layers <see cref="Layer.Winograd"/> takes: weights transformed once at type initialisation, one kernel call that also requantises.</summary>
    void EmitWinograd(OpContext op, EmitContext code, Layer layer, string xZero)
    {
        string q = $"{EmitContext.Kernels}.Quantization", xT = DataTypes.CSharpName(layer.XType), wT = DataTypes.CSharpName(layer.WType);
        var g = layer.Geometry;
        string zeros = ConstantWeightZeroPoints(op, code, wT);
        string weights = code.StaticField($"{q}.Int8WinogradWeights", $"{q}.Int8WinogradWeights.Pack<{wT}>({code.ConstantArray(W)}, {zeros}, {layer.OutChannels}, {layer.InChannels})");
        string scratch = code.Scratch(DataType.Int32, QuantizedPacking.WinogradScratchLength(layer.InChannels, g));
        string geometry = code.IntArray(g.Packed());
        if (!_requantize)
        {
            code.Writer.Line($"{q}.Int8WinogradF2x3.Convolve<{xT}>({code.In(0)}, {xZero}, {weights}, {NoBias}, {code.Out(0)}, {scratch}, {layer.Batch}, {geometry});");
            return;
        }
        string bias = Bias(op, code);
        string multipliers = EmitMultipliers(op, code);
        code.Writer.Line($"{q}.Int8WinogradF2x3.ConvolveToBytes<{xT}, {code.OutType(0)}>({code.In(0)}, {xZero}, {weights}, {bias}, {multipliers}, (int){code.In(7)}[0], " +
                         $"{code.Out(0)}, {scratch}, {layer.Batch}, {geometry});");
    }

    /// <summary>The pointwise QLinearConv layers <see cref="Layer.PointwiseDirect"/> takes: weights packed once, one kernel call that also requantises.</summary>
    void EmitPointwise(OpContext op, EmitContext code, Layer layer, string xZero)
    {
        string q = $"{EmitContext.Kernels}.Quantization", xT = DataTypes.CSharpName(layer.XType);
        string packed = DirectWeights(op, code, layer);
        string scratch = code.Scratch(DataType.Int32, QuantizedPacking.PointwiseConvolutionScratchLength(layer.InChannels, layer.Geometry.OutputSize));
        string bias = Bias(op, code);
        string multipliers = EmitMultipliers(op, code);
        code.Writer.Line($"{q}.Int8PointwiseConvolution.ConvolveToBytes<{xT}, {code.OutType(0)}>({code.In(0)}, {xZero}, {packed}, {bias}, {multipliers}, (int){code.In(7)}[0], " +
                         $"{code.Out(0)}, {scratch}, {layer.Batch}, {code.IntArray(layer.Geometry.Packed())});");
    }

    /// <summary>The weights of the direct kernels (<c>Int8ConvWeights</c>), packed once at type initialisation into a static field (its name).</summary>
    string DirectWeights(OpContext op, EmitContext code, Layer layer)
    {
        string q = $"{EmitContext.Kernels}.Quantization", wT = DataTypes.CSharpName(layer.WType);
        string zeros = ConstantWeightZeroPoints(op, code, wT);
        var g = layer.Geometry;
        // One input channel of a k×k layer: four horizontal taps per quad instead of three empty channel bytes.
        string pack = layer.InChannels == 1 && (layer.Direct || layer.SingleChannel)
            ? $"PackSingleChannel<{wT}>({code.ConstantArray(W)}, {zeros}, {layer.OutChannels}, {g.Kernel[0]}, {g.Kernel[1]})"
            : $"Pack<{wT}>({code.ConstantArray(W)}, {zeros}, {layer.OutChannels}, {layer.InChannels}, {g.KernelSize})";
        return code.StaticField($"{q}.Int8ConvWeights", $"{q}.Int8ConvWeights.{pack}");
    }

    /// <summary>
    /// QLinearConv on the byte GEMM: one kernel call that requantises each block of output positions while its int32
    /// sums are still in cache (the bias folds into the GEMM's per-channel offsets).
    /// </summary>
    void EmitByteGemmToBytes(OpContext op, EmitContext code, Layer layer, string xZero)
    {
        string q = $"{EmitContext.Kernels}.Quantization";
        string xT = DataTypes.CSharpName(layer.XType), wT = DataTypes.CSharpName(layer.WType);
        var g = layer.Geometry;
        int depth = layer.InChannels / layer.Groups * g.KernelSize, outputSize = g.OutputSize;
        string packed = PackedByteGemmWeights(op, code, layer, depth);
        string acc = code.Scratch(DataType.Int32, QuantizedPacking.BlockAccumulatorLength(layer.OutChannels / layer.Groups, outputSize));
        string columns = code.Scratch(layer.XType, layer.Pointwise ? 1 : depth * outputSize);
        string packedColumns = code.Scratch(DataType.Int8, QuantizedPacking.PackedColumnsLength(depth, outputSize));
        string offsets = code.Scratch(DataType.Int32, layer.OutChannels);
        string bias = Bias(op, code);
        string multipliers = EmitMultipliers(op, code);
        code.Writer.Line($"{q}.QuantizedConvolution.Im2ColGemmToBytes<{xT}, {code.OutType(0)}>({code.In(0)}, {xZero}, {packed}, {bias}, {multipliers}, (int){code.In(7)}[0], " +
                         $"{code.Out(0)}, {acc}, {columns}, {packedColumns}, {offsets}, {layer.Batch}, {layer.InChannels}, {layer.OutChannels}, {layer.Groups}, {code.IntArray(g.Packed())});");
    }

    /// <summary>The byte GEMM's weights, packed once at type initialisation into a static field (its name).</summary>
    string PackedByteGemmWeights(OpContext op, EmitContext code, Layer layer, int depth)
    {
        string q = $"{EmitContext.Kernels}.Quantization", wT = DataTypes.CSharpName(layer.WType);
        string zeros = ConstantWeightZeroPoints(op, code, wT);
        return code.StaticField($"{q}.Int8PackedWeights", $"{q}.Int8PackedWeights.Pack<{wT}>({code.ConstantArray(W)}, {zeros}, {layer.OutChannels}, {depth}, false)");
    }

    /// <summary>The constant weight zero points as an array expression (empty when the node has none), for weight packing at type initialisation.</summary>
    string ConstantWeightZeroPoints(OpContext op, EmitContext code, string wT) =>
        op.HasInput(WZero) ? code.ConstantArray(WZero) : $"global::System.Array.Empty<{wT}>()";

    /// <summary>The weight zero points as a span expression (empty when the node has none).</summary>
    string WeightZeroPoints(OpContext op, EmitContext code, string wT) =>
        op.HasInput(WZero) ? code.In(WZero) : $"global::System.ReadOnlySpan<{wT}>.Empty";

    /// <summary>QLinearConv's int32 bias (input 8) as a span expression, or <see cref="NoBias"/>.</summary>
    static string Bias(OpContext op, EmitContext code) => op.HasInput(8) ? code.In(8) : NoBias;

    const string NoBias = "global::System.ReadOnlySpan<int>.Empty";

    /// <summary>Emits the requantisation multipliers x_scale·w_scale / y_scale (one, or one per output channel) into scratch and returns its name.</summary>
    static string EmitMultipliers(OpContext op, EmitContext code)
    {
        string multipliers = code.Scratch(DataType.Float, ShapeMath.ElementCount(op.Shape(4)));
        code.Writer.Line($"{EmitContext.Kernels}.Quantization.Requantization.Multipliers<float>({code.In(1)}[0], {code.In(4)}, {code.In(6)}[0], {multipliers});");
        return multipliers;
    }
}
