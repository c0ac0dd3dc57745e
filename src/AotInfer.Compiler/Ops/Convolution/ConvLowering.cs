using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Convolution;

/// <summary>
/// Conv (opsets 1 and 11) over float tensors of 1 to 3 (or more) spatial dimensions: groups, dilations, strides,
/// explicit or automatic padding, optional bias, kernel shape from the weights. The kernel is chosen per layer:
/// <c>depthwise-same-width</c> for 2-D convolutions with one input and one output channel per group, stride 1 and
/// output rows as wide as the input's (3×3 pad 1: one flat vector loop per plane); <c>depthwise-stride2</c> for
/// stride-2 depthwise ones (input rows read in place, even lanes by permutes on AVX-512); <c>depthwise-direct</c> for
/// other depthwise ones;
/// <c>few-channel</c> for 2- to 4-channel images with output rows at least 16 wide (the RGB first layer; rows split into
/// stride phases once, see <see cref="PrefersFewChannel"/>);
/// <c>single-channel</c> for one-channel images at stride 1 (a direct kernel vectorised along output rows, see
/// <see cref="PrefersSingleChannel"/>);
/// <c>winograd-f4x3</c> for 3×3 stride-1 dilation-1 ungrouped convolutions with constant weights and enough work (4×
/// fewer multiplies, vectorised over output channels, see <see cref="PrefersWinogradBlocked"/>);
/// <c>winograd-f4x5</c> for 5×5 stride-1 dilation-1 ungrouped convolutions with constant weights and at least 8 input
/// channels (6.25× fewer multiplies, likewise, see <see cref="PrefersWinogradF4x5"/>);
/// <c>channel-blocked</c> for most other ungrouped 2-D convolutions with constant weights (a direct kernel vectorised
/// over output channels, see <see cref="PrefersChannelBlocked"/>);
/// <c>winograd-f2x3</c> for 3×3 stride-1 dilation-1 ungrouped convolutions with constant weights, at least 16
/// input and 128 output channels (2.25× fewer multiplies; weights transformed and packed at type initialisation);
/// <c>pointwise-gemm</c> for 1×1 stride-1 unpadded convolutions (with constant weights pre-packed at type
/// initialisation, and bias, residual and activation applied per output tile); <c>packed-gemm</c> for other 2-D
/// convolutions with constant weights (weights pre-packed for the GEMM micro-kernel at type initialisation, columns
/// gathered straight into its panels); otherwise <c>im2col+gemm</c>. Inside chains that
/// <see cref="Passes.Nchw16cLayout"/> keeps in NCHW16c, 1×1 layers become <c>pointwise-nchw16c</c> and the
/// channel-interleaved depthwise kernel reads or writes that layout.
/// </summary>
public sealed class ConvLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "Conv" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var layer = Describe(op);
        op.Node.Annotations["kernel"] = layer.Kernel;
        op.Node.Annotations["window"] = layer.Geometry.ToString();
        op.SetOutput(0, DataType.Float, new[] { layer.Batch, layer.OutChannels }.Concat(layer.Geometry.Output).ToArray());
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var layer = Describe(op);
        string bias = op.HasInput(2) ? code.In(2) : "global::System.ReadOnlySpan<float>.Empty";
        string ns = $"{EmitContext.Kernels}.Convolution", kernels = ns + ".Convolution";
        // A fused activation (Passes/ActivationFusion) rides along with the bias in the kernel's epilogue.
        string activation = Passes.FusedEpilogue.Of(op.Node) is { } fused ? ", " + fused.Expression() : "";
        // A fused residual Add (Passes/ResidualFusion, only for the kernels it lists) is added in the same epilogue, before the activation.
        if (op.HasInput(Passes.ResidualFusion.InputIndex)) activation += ", residual: " + code.In(Passes.ResidualFusion.InputIndex);
        // Pruned filters the cost model chose to keep sparse (Passes/SparseWeightSelection) replace the dense kernels;
        // the layout pass leaves such layers NCHW.
        if (Sparse.SparseConvolutionEmitter.TryEmit(op, code, layer.Batch, layer.InChannels, layer.Geometry, bias, activation)) return;
        // The kernel Infer chose, or the one a pass moved the layer to: the layout pass (NCHW16c kernels) and the pool
        // fusion (a one-channel layer to the flat-row kernel, FlatRowsPoolInstead) rewrite the annotation.
        string kernel = (string)op.Node.Annotations["kernel"];
        switch (kernel)
        {
            case "packed-gemm":
                int groupIn = layer.InChannels / layer.Groups, groupOut = layer.OutChannels / layer.Groups;
                string filter = code.StaticField($"{ns}.PackedFilter", $"{ns}.PackedFilter.Pack({code.ConstantArray(1)}, {layer.Groups}, {groupOut}, {groupIn * layer.Geometry.KernelSize})");
                string padded = layer.Geometry.IsPointwise ? "global::System.Span<float>.Empty" : code.Scratch(DataType.Float, PaddedImageSize(groupIn, layer.Geometry));
                code.Writer.Line($"{kernels}.PackedGemm({code.In(0)}, {filter}, {bias}, {code.Out(0)}, {padded}, " +
                                 $"{layer.Batch}, {layer.InChannels}, {code.IntArray(layer.Geometry.Packed())}{activation});");
                break;
            case "single-channel":
                string plane = code.Scratch(DataType.Float, PaddedImageSize(1, layer.Geometry));
                code.Writer.Line($"{ns}.SingleChannelConvolution.Convolve({code.In(0)}, {code.In(1)}, {bias}, {code.Out(0)}, {plane}, " +
                                 $"{layer.Batch}, {layer.OutChannels}, {code.IntArray(layer.Geometry.Packed())}{activation});");
                break;
            case "single-channel-flat":
                // A fused MaxPool (Passes/MaxPoolFusion) pools each pass's flat planes from the scratch after the image.
                bool flatPool = op.Node.Annotations.ContainsKey(Passes.FusedEpilogue.PoolKey);
                string flatImage = code.Scratch(DataType.Float, FewChannelScratchSize(1, layer.Geometry) + (flatPool ? FlatPoolScratchSize(layer.OutChannels, layer.Geometry) : 0));
                code.Writer.Line($"{ns}.SingleChannelFlatRows.Convolve({code.In(0)}, {code.In(1)}, {bias}, {code.Out(0)}, {flatImage}, " +
                                 $"{layer.Batch}, {layer.OutChannels}, {code.IntArray(layer.Geometry.Packed())}{activation}{(flatPool ? ", maxPool2x2: true" : "")});");
                break;
            case "few-channel":
                string columnPhases = code.Scratch(DataType.Float, FewChannelScratchSize(layer.InChannels, layer.Geometry));
                code.Writer.Line($"{ns}.FewChannelConvolution.Convolve({code.In(0)}, {code.In(1)}, {bias}, {code.Out(0)}, {columnPhases}, " +
                                 $"{layer.Batch}, {layer.InChannels}, {layer.OutChannels}, {code.IntArray(layer.Geometry.Packed())}{activation});");
                break;
            case "single-channel-blocked":
                string geometry = code.IntArray(layer.Geometry.Packed()); // declared before the filter field that reads it
                string fanOut = code.StaticField($"{ns}.ChannelBlockedFilter", $"{ns}.ChannelBlockedFilter.Pack({code.ConstantArray(1)}, {layer.OutChannels}, {geometry})");
                string corner = code.Scratch(DataType.Float, SingleChannelBlockedScratchSize(layer.Geometry));
                code.Writer.Line($"{ns}.SingleChannelChannelBlocked.Convolve({code.In(0)}, {fanOut}, {bias}, {code.Out(0)}, {corner}, " +
                                 $"{layer.Batch}, {geometry}{activation});");
                break;
            case "channel-blocked":
                string window = code.IntArray(layer.Geometry.Packed()); // declared before the filter field that reads it
                string blocked = code.StaticField($"{ns}.ChannelBlockedFilter", $"{ns}.ChannelBlockedFilter.Pack({code.ConstantArray(1)}, {layer.OutChannels}, {window})");
                int imageSize = ChannelBlockedScratchSize(layer.InChannels, layer.Geometry);
                string image = imageSize == 0 ? "global::System.Span<float>.Empty" : code.Scratch(DataType.Float, imageSize);
                code.Writer.Line($"{ns}.ChannelBlockedConvolution.Convolve({code.In(0)}, {blocked}, {bias}, {code.Out(0)}, {image}, " +
                                 $"{layer.Batch}, {layer.InChannels}, {window}{activation});");
                break;
            case "winograd-f4x3":
                string blockedWinograd = code.StaticField($"{ns}.WinogradBlockedFilter", $"{ns}.WinogradBlockedFilter.Pack({code.ConstantArray(1)}, {layer.OutChannels}, {layer.InChannels})");
                string tiles = code.Scratch(DataType.Float, WinogradBlockedScratchSize(layer.InChannels, layer.Geometry));
                code.Writer.Line($"{ns}.WinogradBlocked.Convolve({code.In(0)}, {blockedWinograd}, {bias}, {code.Out(0)}, {tiles}, " +
                                 $"{layer.Batch}, {layer.InChannels}, {code.IntArray(layer.Geometry.Packed())}{activation}{TilePool(op)});");
                break;
            case "winograd-f4x5":
                string fiveByFive = code.StaticField($"{ns}.WinogradF4x5Filter", $"{ns}.WinogradF4x5Filter.Pack({code.ConstantArray(1)}, {layer.OutChannels}, {layer.InChannels})");
                string fiveByFiveScratch = code.Scratch(DataType.Float, WinogradF4x5ScratchSize(layer.InChannels, layer.Geometry));
                code.Writer.Line($"{ns}.WinogradF4x5.Convolve({code.In(0)}, {fiveByFive}, {bias}, {code.Out(0)}, {fiveByFiveScratch}, " +
                                 $"{layer.Batch}, {layer.InChannels}, {code.IntArray(layer.Geometry.Packed())}{activation}{TilePool(op)});");
                break;
            case "winograd-f2x3":
                string transformed = code.StaticField($"{ns}.PackedFilter", $"{ns}.Winograd.PackFilter({code.ConstantArray(1)}, {layer.OutChannels}, {layer.InChannels})");
                string scratch = code.Scratch(DataType.Float, WinogradScratchSize(layer.InChannels, layer.OutChannels, layer.Geometry));
                code.Writer.Line($"{ns}.Winograd.Convolve({code.In(0)}, {transformed}, {bias}, {code.Out(0)}, {scratch}, " +
                                 $"{layer.Batch}, {layer.InChannels}, {code.IntArray(layer.Geometry.Packed())}{activation});");
                break;
            case "pointwise-gemm" when op.Input(1).Constant is not null:
                string pointwiseFilter = code.StaticField($"{ns}.PackedFilter",
                    $"{ns}.PackedFilter.Pack({code.ConstantArray(1)}, {layer.Groups}, {layer.OutChannels / layer.Groups}, {layer.InChannels / layer.Groups})");
                code.Writer.Line($"{kernels}.Pointwise({code.In(0)}, {pointwiseFilter}, {bias}, {code.Out(0)}, " +
                                 $"{layer.Batch}, {layer.InChannels}, {layer.Geometry.OutputSize}{activation});");
                break;
            case "pointwise-gemm":
                code.Writer.Line($"{kernels}.Pointwise({code.In(0)}, {code.In(1)}, {bias}, {code.Out(0)}, " +
                                 $"{layer.Batch}, {layer.InChannels}, {layer.OutChannels}, {layer.Groups}, {layer.Geometry.OutputSize}{activation});");
                break;
            case "depthwise-same-width":
                string bordered = code.Scratch(DataType.Float, SameWidthScratchSize(layer.Geometry));
                code.Writer.Line($"{ns}.DepthwiseSameWidth.Convolve({code.In(0)}, {code.In(1)}, {bias}, {code.Out(0)}, {bordered}, " +
                                 $"{layer.Batch}, {layer.InChannels}, {code.IntArray(layer.Geometry.Packed())}{activation});");
                break;
            case Passes.Nchw16cLayout.PointwiseKernel:
                string pointwiseWindow = code.IntArray(layer.Geometry.Packed()); // declared before the filter field that reads it
                string blockedFilter = code.StaticField($"{ns}.ChannelBlockedFilter", $"{ns}.ChannelBlockedFilter.Pack({code.ConstantArray(1)}, {layer.OutChannels}, {pointwiseWindow})");
                string nchwInput = Passes.Nchw16cLayout.ReadsBlocked(op.Node) ? "" : ", nchwInput: true"; // a chain's first layer
                code.Writer.Line($"{ns}.Nchw16cPointwise.Convolve({code.In(0)}, {blockedFilter}, {bias}, {code.Out(0)}, " +
                                 $"{layer.Batch}, {layer.Geometry.OutputSize}{activation}{nchwInput});");
                break;
            case "depthwise-interleaved":
                string interleaved = code.Scratch(DataType.Float, InterleavedScratchSize(layer.Geometry));
                string layouts = (Passes.Nchw16cLayout.ReadsBlocked(op.Node) ? ", blockedInput: true" : "") + (Passes.Nchw16cLayout.WritesBlocked(op.Node) ? ", blockedOutput: true" : "");
                code.Writer.Line($"{ns}.DepthwiseChannelInterleaved.Convolve({code.In(0)}, {code.In(1)}, {bias}, {code.Out(0)}, {interleaved}, " +
                                 $"{layer.Batch}, {layer.InChannels}, {code.IntArray(layer.Geometry.Packed())}{activation}{layouts});");
                break;
            case "depthwise-stride2":
                string phases = code.Scratch(DataType.Float, Stride2ScratchSize(layer.Geometry));
                code.Writer.Line($"{ns}.DepthwiseStride2.Convolve({code.In(0)}, {code.In(1)}, {bias}, {code.Out(0)}, {phases}, " +
                                 $"{layer.Batch}, {layer.InChannels}, {code.IntArray(layer.Geometry.Packed())}{activation});");
                break;
            case "depthwise-direct":
                string planes = code.Scratch(DataType.Float, DepthwiseScratchSize(layer.Geometry));
                code.Writer.Line($"{kernels}.Depthwise2D({code.In(0)}, {code.In(1)}, {bias}, {code.Out(0)}, {planes}, " +
                                 $"{layer.Batch}, {layer.InChannels}, {code.IntArray(layer.Geometry.Packed())}{activation});");
                break;
            default:
                string columns = code.Scratch(DataType.Float, layer.InChannels / layer.Groups * layer.Geometry.KernelSize * layer.Geometry.OutputSize);
                code.Writer.Line($"{kernels}.Im2ColGemm({code.In(0)}, {code.In(1)}, {bias}, {code.Out(0)}, {columns}, " +
                                 $"{layer.Batch}, {layer.InChannels}, {layer.OutChannels}, {layer.Groups}, {code.IntArray(layer.Geometry.Packed())}{activation});");
                break;
        }
    }

    /// <summary>The Winograd kernels' argument for a fused MaxPool (Passes/MaxPoolFusion), pooled per output tile before the store.</summary>
    static string TilePool(OpContext op) => op.Node.Annotations.ContainsKey(Passes.FusedEpilogue.PoolKey) ? ", maxPool2x2: true" : "";

    /// <inheritdoc/>
    public override bool ReadsInputAtRunTime(OpContext op, int inputIndex) =>
        // A sparse filter is stored as compressed rows: the dense weights are not needed in the generated code.
        inputIndex != 1 || !Sparse.SparseConvolutionEmitter.Replaces(op.Node);

    /// <summary>
    /// An upper bound of the zero-bordered copy of one group's image that <c>Convolution.PackedGemm</c> gathers from:
    /// the padded extent per dimension, plus the kernel's 64-float margin for whole-sliver copies.
    /// </summary>
    static int PaddedImageSize(int groupIn, WindowGeometry geometry)
    {
        int size = groupIn;
        for (int d = 0; d < geometry.Rank; d++) size *= geometry.Input[d] + geometry.PadsBegin[d] + geometry.PadsEnd[d];
        return size + 64;
    }

    /// <summary>
    /// The scratch <c>SingleChannelChannelBlocked.Convolve</c> needs (its <c>ScratchSize</c>; the kernel checks it): the
    /// zero-bordered image (the padded extent plus a 64-float margin), then a tile of 16 pixels × 64 channels.
    /// </summary>
    static int SingleChannelBlockedScratchSize(WindowGeometry g)
    {
        int height = (g.Output[0] - 1) * g.Strides[0] + (g.Kernel[0] - 1) * g.Dilations[0] + 1;
        int width = (g.Output[1] - 1) * g.Strides[1] + (g.Kernel[1] - 1) * g.Dilations[1] + 1;
        return height * width + 64 + 16 * 16 * 4;
    }

    /// <summary>
    /// The scratch <c>ChannelBlockedConvolution.Convolve</c> needs (its <c>ScratchSize</c>; the kernel checks it): the
    /// zero-bordered copy of the image, C planes of the padded extent plus a 64-float margin, or nothing when the window
    /// needs no padding and reads the image in place.
    /// </summary>
    static int ChannelBlockedScratchSize(int inChannels, WindowGeometry g)
    {
        int height = (g.Output[0] - 1) * g.Strides[0] + (g.Kernel[0] - 1) * g.Dilations[0] + 1;
        int width = (g.Output[1] - 1) * g.Strides[1] + (g.Kernel[1] - 1) * g.Dilations[1] + 1;
        bool inPlace = g.PadsBegin[0] == 0 && g.PadsBegin[1] == 0 && height <= g.Input[0] && width <= g.Input[1];
        return inPlace ? 0 : inChannels * height * width + 64;
    }

    /// <summary>
    /// The scratch <c>Winograd.Convolve</c> needs (its <c>ScratchSize</c>; the kernel checks it): four parity planes
    /// of (TH+1)×(TW+1) per input channel plus 8 floats, then V [16, C, T] and the products [16, M, T] over T tiles
    /// (TH rows of TW+1, rounded up to 32), then four output planes of T.
    /// </summary>
    static int WinogradScratchSize(int inChannels, int outChannels, WindowGeometry geometry)
    {
        int tileRows = (geometry.Output[0] + 1) / 2, pitch = (geometry.Output[1] + 1) / 2 + 1;
        int planeSize = (tileRows + 1) * pitch, tiles = (tileRows * pitch + 31) / 32 * 32;
        return inChannels * 4 * planeSize + 8 + 16 * inChannels * tiles + 16 * outChannels * tiles + 4 * tiles;
    }

    /// <summary>
    /// The scratch <c>WinogradBlocked.Convolve</c> needs (its <c>ScratchSize</c>; the kernel checks it), over TH × TW
    /// tiles of 4×4 and a pitch of TW + 1: 16 phases of the image of (TH + 1)·pitch + 16 floats per input channel, a
    /// bordered row of ⌈pitch / 8⌉·32, the transformed input [36][C][R·pitch + 16] of a band of R tile rows (TH when that
    /// is at most 2¹⁷ floats, else 2), the products of a group
    /// (36 × (16 × 32 + 16)) and its output tiles (2 × 8 × 32 × 16).
    /// </summary>
    static int WinogradBlockedScratchSize(int inChannels, WindowGeometry g)
    {
        int tileRows = (g.Output[0] + 3) / 4, pitch = (g.Output[1] + 3) / 4 + 1;
        int phaseSize = (tileRows + 1) * pitch + 16, bandRows = 36L * inChannels * (tileRows * pitch + 16) <= 1 << 17 ? tileRows : System.Math.Min(2, tileRows);
        int tileStride = bandRows * pitch + 16;
        return inChannels * 16 * phaseSize + (pitch + 7) / 8 * 32 + 36 * inChannels * tileStride + 36 * (16 * 32 + 16) + 2 * 8 * 32 * 16;
    }

    /// <summary>
    /// The scratch <c>WinogradF4x5.Convolve</c> needs (its <c>ScratchSize</c>; the kernel checks it), over TH × TW tiles
    /// of 4×4 and a pitch of TW + 1: 16 phases of the image of (TH + 1)·pitch + 16 floats per input channel, a bordered
    /// row of ⌈pitch / 8⌉·32, the transformed input [64][C][TH·pitch + 16], the products of a group (64 × 17 × 16) and
    /// its output tiles (4 × 4 × 4 × 8 × 16).
    /// </summary>
    static int WinogradF4x5ScratchSize(int inChannels, WindowGeometry g)
    {
        int tileRows = (g.Output[0] + 3) / 4, pitch = (g.Output[1] + 3) / 4 + 1;
        return inChannels * 16 * ((tileRows + 1) * pitch + 16) + (pitch + 7) / 8 * 32 + 64 * inChannels * (tileRows * pitch + 16) +
               64 * 17 * 16 + 4 * 4 * 4 * 8 * 16;
    }

    /// <summary>
    /// The scratch <c>Convolution.Depthwise2D</c> needs (its <c>Depthwise2DScratchSize</c>; the kernel checks it):
    /// stride×stride phase planes of (OH + ⌊(KH−1)·dh/sh⌋) × (OW + ⌊(KW−1)·dw/sw⌋) plus 8 floats, and the output grid
    /// of OH rows of that pitch rounded up to 8.
    /// </summary>
    static int DepthwiseScratchSize(WindowGeometry g)
    {
        int rows = g.Output[0] + (g.Kernel[0] - 1) * g.Dilations[0] / g.Strides[0];
        int pitch = g.Output[1] + (g.Kernel[1] - 1) * g.Dilations[1] / g.Strides[1];
        return g.Strides[0] * g.Strides[1] * rows * pitch + 8 + (g.Output[0] * pitch + 7) / 8 * 8;
    }

    /// <summary>
    /// The scratch <c>DepthwiseChannelInterleaved.Convolve</c> needs (its <c>ScratchSize</c>; the kernel checks it): a
    /// band of R output rows (as many as fit 256 KB of interleaved rows and outputs) reads (R−1)·sh + (KH−1)·dh + 1 padded
    /// rows of (OW−1)·sw + (KW−1)·dw + 2 pixels (one past the padded width) and writes R·OW outputs (at least 16), all as
    /// 16-float pixels, then an offset per input pixel of those rows; or
    /// <see cref="DepthwiseScratchSize"/> for the tiers that fall back to <c>Depthwise2D</c>, whichever is larger.
    /// </summary>
    static int InterleavedScratchSize(WindowGeometry g)
    {
        int span = (g.Kernel[0] - 1) * g.Dilations[0] + 1, pitch = (g.Output[1] - 1) * g.Strides[1] + (g.Kernel[1] - 1) * g.Dilations[1] + 2;
        long bytesPerRow = ((long)g.Strides[0] * pitch + g.Output[1]) * 16 * sizeof(float);
        int band = (int)System.Math.Min(System.Math.Max(256 * 1024 / bytesPerRow, 1), g.Output[0]);
        int rows = (band - 1) * g.Strides[0] + span;
        int size = 16 * (rows * pitch + System.Math.Max(band * g.Output[1], 16)) + System.Math.Min(rows, g.Input[0]) * g.Input[1];
        return System.Math.Max(size, DepthwiseScratchSize(g));
    }

    /// <summary>
    /// The scratch <c>DepthwiseStride2.Convolve</c> needs (its <c>ScratchSize</c>; the kernel checks it): the padded
    /// rows ((OH−1)·2 + (KH−1)·dh + 1) split into even and odd halves, each row a stride of the pitch (whole 16-float
    /// vectors covering the output row and the farthest tap shift) plus ⌈padLeft/2⌉ rounded up to 16 plus 16; or
    /// <see cref="DepthwiseScratchSize"/> for the tiers that fall back to <c>Depthwise2D</c>, whichever is larger.
    /// </summary>
    static int Stride2ScratchSize(WindowGeometry g)
    {
        int blocks = (g.Output[1] + 15) / 16, shift = (g.Kernel[1] - 1) * g.Dilations[1] / 2;
        int pitch = (16 * blocks + shift + 15) / 16 * 16, lead = System.Math.Min((g.PadsBegin[1] + 1) / 2, pitch);
        int rowStride = pitch + (lead + 15) / 16 * 16 + 16, paddedHeight = (g.Output[0] - 1) * 2 + (g.Kernel[0] - 1) * g.Dilations[0] + 1;
        return System.Math.Max(2 * paddedHeight * rowStride, DepthwiseScratchSize(g));
    }

    /// <summary>
    /// The scratch <c>FewChannelConvolution.Convolve</c> needs (its <c>ScratchSize</c>; the kernel checks it): per input
    /// channel, the padded image ((OH−1)·sh + KH rows) split into sw column phases of ⌈padded width / sw⌉, plus the margin.
    /// </summary>
    static int FewChannelScratchSize(int inChannels, WindowGeometry g)
    {
        int rows = (g.Output[0] - 1) * g.Strides[0] + g.Kernel[0], width = (g.Output[1] - 1) * g.Strides[1] + g.Kernel[1];
        return inChannels * g.Strides[1] * rows * ((width + g.Strides[1] - 1) / g.Strides[1]) + 64;
    }

    /// <summary>
    /// What <c>SingleChannelFlatRows.ScratchSize(geometry, M)</c> adds for a fused max pool (the kernel checks it): four
    /// channels of OH rows of the padded width plus 32 floats, or the whole unpooled output M·OH·OW for the fallback tiers.
    /// </summary>
    static int FlatPoolScratchSize(int outChannels, WindowGeometry g)
    {
        int width = (g.Output[1] - 1) * g.Strides[1] + (g.Kernel[1] - 1) * g.Dilations[1] + 1;
        return System.Math.Max(4 * (g.Output[0] * width + 32), outChannels * g.Output[0] * g.Output[1]);
    }

    /// <summary>
    /// The scratch <c>DepthwiseSameWidth.Convolve</c> needs (its <c>ScratchSize</c>; the kernel checks it): the channel
    /// with zero rows around it, OH + (KH−1)·dh rows of W, plus the farthest row shift on each side, then one column mask
    /// of OH·W per kernel column.
    /// </summary>
    static int SameWidthScratchSize(WindowGeometry g)
    {
        int rows = g.Output[0] + (g.Kernel[0] - 1) * g.Dilations[0], width = g.Input[1];
        int lead = System.Math.Max(g.PadsBegin[1], (g.Kernel[1] - 1) * g.Dilations[1] - g.PadsBegin[1]);
        return rows * width + 2 * lead + g.Kernel[1] * g.Output[0] * width;
    }

    /// <summary>Stride 1 and output rows as wide as input rows: each output reads its taps at fixed flat offsets.</summary>
    static bool KeepsWidth(WindowGeometry g) => g.Rank == 2 && g.Strides.All(s => s == 1) && g.Output[1] == g.Input[1];

    /// <summary>
    /// Winograd F(2×2, 3×3) pays when the GEMMs are big enough for its transforms: measured on resnet8 and fashion_bncnn
    /// layers it matches or beats packed-gemm from 16 input and output channels on, and loses below (a 1- or 3-channel
    /// first layer is all transform). It also needs an output of at least 8×8: on digits_cnn's 4×4 output (32→64
    /// channels) the tile transforms dominate, 12.6 µs against packed-gemm's 8.7 µs (bench --profile).
    /// </summary>
    static bool PrefersWinograd(WindowGeometry g, int inChannels, int outChannels, int groups) =>
        g.Rank == 2 && groups == 1 && inChannels >= 16 && outChannels >= 16 && g.Output[0] * g.Output[1] >= 64 &&
        g.Kernel.All(k => k == 3) && g.Strides.All(s => s == 1) && g.Dilations.All(d => d == 1);

    /// <summary>
    /// Winograd F(4×4, 3×3) vectorised over output channels does 4× fewer multiplies than the direct kernel, and pays
    /// for its transforms from 8 input channels and C·M·OH·OW ≥ 48·2¹⁰ (any output channel count: the last block is
    /// masked). Measured with <c>dotnet run -c Release --project examples/GemmBench -- conv Avx512 3x3</c> and <c>… burn</c>
    /// (µs, thread CPU time; channel-blocked / winograd-f4x3): burn-mnist's conv3 16→24 at 22×22 (C·M·OH·OW 185 856)
    /// 19.1 / 15.1 (18.8–19.6 / 9.8–10.3 since the second block's 8 channels share a vector between two tiles), 16→16 at
    /// 16×16 (65 536) 7.1 / 6.1, 16→24 at 12×12 (55 296) 6.8 / 5.4, against digits_cnn's 16→32 at 8×8 (32 768) 2.9 / 3.4
    /// below. From 8 input channels since the output transform keeps a tile's 24 column sums in registers: burn-mnist's
    /// conv2 8→16 at 24×24 7.4–7.7 / 7.3–7.6 in that loop, but in the model (<c>bench --profile</c>, three runs each on a
    /// loaded machine) 7.6–8.2 with channel-blocked against 6.5–6.7 (where the loop keeps the direct kernel's small
    /// filter and image hot, and the model's 1.5 MB fully-connected layer in between evicts them); 8→16 at 32×32
    /// 14.5–16.5 / 13.9–14.3. Above C·M = 64² its transformed weights (36·C·M floats, 4× the direct kernel's: 576 KB at 64², half the L2) leave the cache
    /// between inferences and it loses. Measured with <c>dotnet run -c Release --project examples/GemmBench -- conv</c>
    /// (µs, thread CPU time, AVX-512; channel-blocked / winograd-f4x3): resnet8 a.0 16→16 at 32×32 26.7 / 23.1, a.3_1
    /// 32→32 at 16×16 20.0 / 12.9, a.3_2 64→64 at 8×8 19.9 / 15.5; fashion_bncnn f.3 32→32 at 28×28 62.0 / 34.8, f.10
    /// 64→64 at 14×14 60.5 / 40.1; squeezenet 16→64 at 55×55 232 / 182. Not taken: resnet8's stem 3→16 6.6 / 12.8,
    /// digits_cnn 16→32 at 8×8 2.9 / 3.7 and 32→64 at 4×4 3.3 / 7.1 (too little work for the transforms); 256→256 at
    /// 14×14 903 / 1135 (f2x3 656) and 512→512 at 7×7 912 / 2158. Between 64² and 128² it wins in the loop above
    /// (64→256 at 13×13: 200 / 148, f2x3 183) but not inside a model, where other layers evict its weights: squeezenet's
    /// 48→192 and 64→256 at 13×13 take 152–156 and 266–272 µs against 116 and 190 µs (bench --profile), while its
    /// 16→64 at 55×55 and 32→128 at 27×27 take 197–222 and 157–161 against 245–252 and 228–253.
    /// </summary>
    static bool PrefersWinogradBlocked(WindowGeometry g, int inChannels, int outChannels, int groups) =>
        g.Rank == 2 && groups == 1 && inChannels >= 8 && (long)inChannels * outChannels <= 64 * 64 &&
        (long)inChannels * outChannels * g.Output[0] * g.Output[1] >= 48 * 1024 &&
        g.Kernel.All(k => k == 3) && g.Strides.All(s => s == 1) && g.Dilations.All(d => d == 1);

    /// <summary>
    /// Winograd F(4×4, 5×5) vectorised over output channels does 6.25× fewer multiplies than the direct kernel, and pays
    /// for its transforms from 8 input channels. Measured with <c>dotnet run -c Release --project examples/GemmBench --
    /// conv Avx512 5x5</c> and <c>… lenet5</c>, <c>… mnist-8</c> (µs, thread CPU time; channel-blocked / winograd-f4x5):
    /// mnist-8's 8→16 at 14×14 7.8 / 5.1, fashion_lenet5's 20→50 at 8×8 16.4 / 7.7, 32→64 at 16×16 106 / 41, 64→128 at
    /// 12×12 230 / 107 (the last two with <c>DOTNET_TieredCompilation=0</c>). Not taken: one input channel (mnist-8's 1→8 at 28×28 2.1 with
    /// single-channel against 8.0, lenet5's 1→20 at 24×24 4.6 with few-channel against 13.3: all transform, no product).
    /// Capped at C·M ≤ 64·128, the largest layer measured, since its transformed weights (64·C·M floats, 2.6 times the
    /// direct kernel's) leave the caches on larger layers.
    /// </summary>
    static bool PrefersWinogradF4x5(WindowGeometry g, int inChannels, int outChannels, int groups) =>
        g.Rank == 2 && groups == 1 && inChannels >= 8 && (long)inChannels * outChannels <= 64 * 128 &&
        g.Kernel.All(k => k == 5) && g.Strides.All(s => s == 1) && g.Dilations.All(d => d == 1);

    /// <summary>
    /// The output-channel-vectorised direct kernel (16 channels per zmm, 16 accumulators per tile) beats the
    /// pixel-vectorised GEMM and Winograd on the small planes of edge models, where 32-wide pixel tiles run half empty
    /// and the im2col gather or the tile transforms cost as much as the product. Measured with
    /// <c>dotnet run -c Release --project examples/GemmBench -- conv</c> (µs, thread CPU time, AVX-512; channel-blocked /
    /// packed-gemm / Winograd): resnet8 stem 3→16 at 32×32 7.4 / 9.1 / 17.9, a.0 16→16 at 32×32 29.4 / 37.7 / 30.1,
    /// a.0_1 16→32 stride 2 12.5 / 26.7, sc 1×1 stride 2 2.2 / 6.3, a.3_1 32→32 at 16×16 21.5 / 33.6 / 41.5, a.0_2
    /// 32→64 stride 2 11.4 / 19.3, a.3_2 64→64 at 8×8 20.7 / 32.7 / 29.7; digits_cnn c2 3.0 / 5.9 / 7.1, c3 at 4×4
    /// 3.5 / 8.9 / 14.0; fashion_bncnn f.3 32→32 at 28×28 65 / 106 / 128, f.10 64→64 at 14×14 64 / 99 / 83; mnist-8
    /// 5×5 layers 5.4 / 6.1 and 9.6 / 16.6; fashion_lenet5 1→20 5.1 / 6.1, 20→50 16.7 / 23.6; squeezenet 16→64 at
    /// 55×55 254 / 366 / 336. With AVX2 (<c>conv Fma256</c>) it wins or ties the same layers too. Two exceptions stay:
    /// Winograd from 128 output channels, where its 2.25× fewer multiplies start to pay (64→256 at 13×13: 209 / 264 /
    /// 214; 128→128 at 28×28 1058 / 1161 / 844; 256→256 at 14×14 975 / 1338 / 812), and packed-gemm for one input
    /// channel on a plane over 64×64 (super-resolution's 1→64 5×5 at 224×224, bench --profile: 3.0 ms against 2.0 ms;
    /// with one channel the product is short and the transposed stores of 3.2 M outputs dominate).
    /// 1×1 stride-1 unpadded layers take it where they narrow the channels on a plane of at most 14×14, or on any plane
    /// of at most 8×8, and keep the pixel-vectorised pointwise GEMM otherwise: a narrowing layer reuses each broadcast
    /// input over all its output blocks, and a small plane leaves the GEMM's 16-pixel slivers partly empty. Measured
    /// with a kernel harness (µs, thread CPU time, AVX-512; channel-blocked / pointwise): mobilenet_v2 960→320 at 7×7
    /// 142 / 168, 960→160 at 7×7 65 / 87, 320→1280 at 7×7 186 / 219, 576→96 at 14×14 87 / 106; squeezenet 512→64
    /// at 13×13 46 / 57. Widening layers on larger planes stay on the GEMM (24→144 at 56×56 140 / 129, 32→192 at
    /// 28×28 58 / 49, 96→576 at 14×14 101 / 103, 64→256 at 13×13 28 / 28, dscnn's 64→64 at 25×5 5.4 / 5.2). Narrowing
    /// layers on larger planes also win (192→32 at 28×28 40 / 55, 256→32 at 27×27 52 / 67) but stay on the GEMM: with
    /// squeezenet1.1's 55×55 and 27×27 squeeze layers moved too, two outputs of its float16 variant leave the float16
    /// tolerance of the reference (a float16 rounding after every layer amplifies the changed summation order).
    /// </summary>
    static bool PrefersChannelBlocked(WindowGeometry g, int inChannels, int outChannels, int groups) =>
        g.Rank == 2 && groups == 1 &&
        (!g.IsPointwise || inChannels > outChannels && g.Output[0] * g.Output[1] <= 196 || g.Output[0] * g.Output[1] <= 64) &&
        !(PrefersWinograd(g, inChannels, outChannels, groups) && outChannels >= 128) &&
        !(inChannels == 1 && g.Output[0] * g.Output[1] > 64 * 64);

    /// <summary>
    /// One input channel at stride 1 without dilation, output rows at least 8 wide, and either at most 8 output
    /// channels (where the channel-vectorised kernel runs half its 16 lanes empty) or a plane over 64×64 (where the
    /// transposed stores dominate it): the row-vectorised kernel reads each image vector once per tap for eight output
    /// channels. Measured with <c>bench --profile</c> (µs, ours): mnist-8's 1→8 5×5 at 28×28 2.46 against
    /// channel-blocked's 5.19 (mnist-8 1.44× → 1.78× ONNX Runtime); super-resolution's 1→64 5×5 at 224×224 1158
    /// against packed-gemm's ~2000. Also taken for output rows at least 16 wide whatever the channels (GemmBench
    /// <c>conv Avx512 1-></c> and <c>conv Avx512 "bncnn f.0"</c>, µs channel-blocked / row kernel): fashion_bncnn's 1→32
    /// 3×3 pad 1 at 28×28 5.18 / 3.10, 1→32 5×5 at 28×28 8.22 / 7.05, 1→20 3×3 at 26×26 3.82 / 2.11 (where
    /// <see cref="PrefersSingleChannelFlat"/> does not take them first). Not taken: digits_cnn's 1→16 at 8×8 (0.48
    /// against 0.47).
    /// </summary>
    static bool PrefersSingleChannel(WindowGeometry g, int inChannels, int outChannels, int groups) =>
        g.Rank == 2 && groups == 1 && inChannels == 1 && !g.IsPointwise && g.Output[1] >= 8 &&
        g.Strides.All(s => s == 1) && g.Dilations.All(d => d == 1) &&
        (outChannels <= 8 || g.Output[1] >= 16 || g.Output[0] * g.Output[1] > 64 * 64);

    /// <summary>
    /// One input channel into at least 16 output channels at stride 1 without dilation, output rows at least 16 wide and
    /// at least 4 of them (the flat-row kernel's domain), a kernel of at least 25 taps, and at most 4/5 of the row
    /// kernel's vector work (<see cref="FlatRowWork"/> against <see cref="RowKernelWork"/>): the output rows laid end to
    /// end at the padded pitch waste only the padding columns (4 lanes in 28 at 24×24, where the row kernel's two 16-lane
    /// vectors waste 8 in 32) and channels go by fours (20 exactly, where the row kernel computes 24). Per vector
    /// multiply-add it is about 12 % slower than the row kernel (its masked stores), and with few taps the stores weigh
    /// more. Measured with <c>dotnet run -c Release --project examples/GemmBench -- conv Avx512 1-></c> and <c>conv
    /// Avx512 lenet5</c> (µs, thread CPU time; channel-blocked / row kernel / flat): fashion_lenet5's 1→20 5×5 at 24×24
    /// 5.05 / 4.56 / 4.22 (work 0.76 of the row kernel's: taken); 1→32 5×5 at 28×28 8.22 / 7.05 / 8.09 (1.0: not taken);
    /// 1→20 3×3 at 26×26 3.82 / 2.11 / 2.26 (9 taps: not taken).
    /// </summary>
    static bool PrefersSingleChannelFlat(WindowGeometry g, int inChannels, int outChannels, int groups) =>
        FlatRowsCover(g, inChannels, groups) && outChannels >= 16 && 5L * FlatRowWork(g, outChannels) <= 4L * RowKernelWork(g, outChannels);

    /// <summary>The flat-row kernel's domain: one input channel, stride 1, no dilation, output rows at least 16 wide and at least 4 of them, at least 25 taps.</summary>
    static bool FlatRowsCover(WindowGeometry g, int inChannels, int groups) =>
        g.Rank == 2 && groups == 1 && inChannels == 1 && !g.IsPointwise && g.Strides.All(s => s == 1) && g.Dilations.All(d => d == 1) &&
        g.Output[1] >= 16 && g.Output[0] >= 4 && g.Kernel[0] * g.Kernel[1] >= 25;

    /// <summary>
    /// Whether a <c>single-channel</c> Conv should become <c>single-channel-flat</c> to take a fused 2×2 MaxPool
    /// (Passes/MaxPoolFusion): on the flat kernel's domain the pool then runs on each pass's planes in L1 instead of
    /// over the whole output. mnist-8's 1→8 5×5 at 28×28 → MaxPool (<c>bench --profile</c>, µs, ours): row kernel 2.07 +
    /// pool 0.61 against flat with the pool fused 2.37 (alone, GemmBench <c>conv Avx512 "mnist-8 c1"</c>: row kernel 2.09,
    /// flat 2.18); mnist-8 2.50–2.55× → 2.62–2.70× ONNX Runtime.
    /// </summary>
    internal static bool FlatRowsPoolInstead(IR.Node conv)
    {
        var layer = Describe(new OpContext(conv));
        return layer.Kernel == "single-channel" && FlatRowsCover(layer.Geometry, layer.InChannels, layer.Groups);
    }

    /// <summary>
    /// Output positions × channels the flat-row kernel computes: steps of 64 flat positions over (OH − 1)·pitch + OW,
    /// channels rounded up to 4.
    /// </summary>
    static long FlatRowWork(WindowGeometry g, int outChannels)
    {
        int pitch = g.Output[1] + g.Kernel[1] - 1, flat = (g.Output[0] - 1) * pitch + g.Output[1];
        return (flat + 63) / 64 * 64L * ((outChannels + 3) / 4 * 4);
    }

    /// <summary>
    /// Output positions × channels the row kernel (<c>FewChannelConvolution</c>) computes: rows in pairs, each row in
    /// 16-lane vectors, channels rounded up to 8.
    /// </summary>
    static long RowKernelWork(WindowGeometry g, int outChannels) =>
        (g.Output[0] + 1) / 2 * 2L * ((g.Output[1] + 15) / 16 * 16) * ((outChannels + 7) / 8 * 8);

    /// <summary>
    /// The channel-vectorised depthwise kernel (16 channels per zmm, two 16×16 transposes per 16 pixels) against the
    /// row-vectorised ones, 3×3 layers with a fused Relu, thread CPU time in µs (AVX-512; channel-interleaved / same-width
    /// or stride-2): stride 1, DS-CNN's 64 channels at 25×5 2.23 / 3.38, 16 channels 0.73 / 1.00, 8 channels 0.74 / 0.63
    /// (half of each vector idle); MobileNet's 960 at 7×7 19.0 / 35.0, 576 at 14×14 33.0 / 41.5, 192 at 28×28 34.4 / 52.1,
    /// 144 at 56×56 107 / 150, 32 at 112×112 129 / 108 (the whole interleaved plane outgrew the caches). Stride 2: 576
    /// at 14×14 19.0 / 39.4, 192 at 28×28 24.3 / 21.8, 144 at 56×56 64.6 / 61.2, 96 at 112×112 202 / 203. Since the
    /// kernel interleaves a band of rows at a time (256 KB of rows and outputs), MobileNetV2's layers (bench --profile,
    /// ONNX Runtime's time / ours; same-width or stride-2 → banded channel-interleaved): 32 at 112×112 stride 1 0.77 →
    /// 0.85–0.93, 96 at 112×112 stride 2 0.57 → 0.63–0.80, but 144 at 56×56 stride 2 0.62 → 0.54. So from 16 channels,
    /// 3×3 without dilation, at stride 1 on any plane, at stride 2 for outputs up to 8×8 or from 56×56.
    /// </summary>
    static bool PrefersChannelInterleaved(WindowGeometry g, int channels) =>
        g.Rank == 2 && channels >= 16 && g.Kernel.All(k => k == 3) && g.Dilations.All(d => d == 1) &&
        (g.Strides.All(s => s == 1) ||
         g.Strides.All(s => s == 2) && (g.Output[0] * g.Output[1] <= 8 * 8 || g.Output[0] * g.Output[1] >= 56 * 56));

    /// <summary>
    /// RGB-like images (2 to 4 channels) without dilation, output rows at least 16 wide: the row-vectorised kernel
    /// splits each padded row into its stride phases once and stores whole vectors of each output plane, where the
    /// channel-vectorised kernel does 27 multiply-adds per output and then transposes every 16-channel tile back to NCHW.
    /// Measured with <c>dotnet run -c Release --project examples/GemmBench -- conv Avx512 c1</c> (µs, thread CPU time;
    /// channel-blocked / packed-gemm / few-channel): squeezenet1_1's 3→64 3×3/2 at 111×111 262 / 381 / 220,
    /// mobilenet_v2's 3→32 3×3/2 pad 1 at 112×112 145 / 270 / 124; in the models (bench --profile, ours / ONNX Runtime)
    /// 220 / 207 against channel-blocked's ~360 / 220, and 138 / 181 against 184 / 164; resnet8's 3→16 3×3 pad 1 at
    /// 32×32 (<c>conv Avx512 stem</c>) 6.64 / 191 / 4.96. With AVX2 (<c>conv Fma256 c1</c>) 437 / 553 / 371 and
    /// 231 / 366 / 201. Rows under 16 are not measured and stay on channel-blocked; one channel keeps
    /// <see cref="PrefersSingleChannel"/>.
    /// </summary>
    static bool PrefersFewChannel(WindowGeometry g, int inChannels, int groups) =>
        g.Rank == 2 && groups == 1 && inChannels is >= 2 and <= 4 && !g.IsPointwise &&
        g.Dilations.All(d => d == 1) && g.Output[1] >= 16;

    /// <summary>
    /// One input channel into at least 16 output channels where the row-vectorised kernel does not apply (stride above
    /// 1, or output rows under 8 wide): four pixels × 64 channels per step share every weight load and broadcast, where
    /// the general channel-blocked kernel goes a pixel at a time. Measured on DS-CNN's first layer (1→64, 10×4 kernel,
    /// stride 2, 25×5 output, thread CPU time): 3.71 µs against channel-blocked's 4.63 and packed-gemm's 5.67.
    /// </summary>
    static bool PrefersSingleChannelBlocked(WindowGeometry g, int inChannels, int outChannels, int groups) =>
        g.Rank == 2 && groups == 1 && inChannels == 1 && outChannels >= 16 && !g.IsPointwise &&
        (g.Strides.Any(s => s > 1) || g.Output[1] < 8) && g.Output[0] * g.Output[1] <= 64 * 64;

    /// <summary>A 1×1 stride-1 unpadded 2-D Conv of one group with constant weights (what <c>pointwise-nchw16c</c> computes).</summary>
    internal static bool IsUngroupedPointwise(OpContext op)
    {
        var layer = Describe(op);
        return layer.Groups == 1 && layer.Geometry.Rank == 2 && layer.Geometry.IsPointwise && op.Input(1).Constant is not null;
    }

    /// <summary>Everything the emitter needs about one Conv node, validated.</summary>
    sealed record Layer(int Batch, int InChannels, int OutChannels, int Groups, WindowGeometry Geometry, string Kernel);

    static Layer Describe(OpContext op)
    {
        var x = op.Input(0);
        var w = op.Input(1);
        if (x.Type != DataType.Float) throw op.Fail($"input X has element type {x.Type}; Conv is implemented for float only");
        if (w.Type != DataType.Float) throw op.Fail($"input W has element type {w.Type}, expected float like X");
        int[] xs = x.Shape!, ws = w.Shape!;
        if (xs.Length < 3) throw op.Fail($"input X must have rank 3 or more (N, C, spatial...), got rank {xs.Length}");
        if (ws.Length != xs.Length) throw op.Fail($"input W has rank {ws.Length}, expected {xs.Length} like X");
        int rank = xs.Length - 2;
        long group = op.Attributes.Int("group", 1);
        if (group <= 0 || xs[1] % group != 0 || ws[0] % group != 0)
            throw op.Fail($"attribute group {group} must be positive and divide both the input channels {xs[1]} and the output channels {ws[0]}");
        int groups = (int)group;
        if (ws[1] != xs[1] / groups)
            throw op.Fail($"input W has {ws[1]} input channels per group, expected {xs[1]} / group {groups} = {xs[1] / groups}");
        if (op.HasInput(2))
        {
            var b = op.Input(2);
            if (b.Type != DataType.Float || b.Shape!.Length != 1 || b.Shape[0] != ws[0])
                throw op.Fail($"input B must be float[{ws[0]}], got {b.Type}[{string.Join(",", b.Shape!)}]");
        }
        int[] kernel = WindowGeometry.KernelShape(op, rank, ws.Skip(2).ToArray());
        var geometry = WindowGeometry.ForConvolution(op, xs.Skip(2).ToArray(), kernel);
        bool depthwise = rank == 2 && groups == xs[1] && ws[0] == groups;
        string choice = depthwise && PrefersChannelInterleaved(geometry, xs[1]) ? "depthwise-interleaved"
            : depthwise && KeepsWidth(geometry) ? "depthwise-same-width"
            : depthwise && geometry.Strides.All(s => s == 2) ? "depthwise-stride2"
            : depthwise ? "depthwise-direct"
            : w.Constant is not null && PrefersSingleChannelFlat(geometry, xs[1], ws[0], groups) ? "single-channel-flat"
            : w.Constant is not null && PrefersSingleChannel(geometry, xs[1], ws[0], groups) ? "single-channel"
            : w.Constant is not null && PrefersFewChannel(geometry, xs[1], groups) ? "few-channel"
            : w.Constant is not null && PrefersSingleChannelBlocked(geometry, xs[1], ws[0], groups) ? "single-channel-blocked"
            : w.Constant is not null && PrefersWinogradBlocked(geometry, xs[1], ws[0], groups) ? "winograd-f4x3"
            : w.Constant is not null && PrefersWinogradF4x5(geometry, xs[1], ws[0], groups) ? "winograd-f4x5"
            : w.Constant is not null && PrefersChannelBlocked(geometry, xs[1], ws[0], groups) ? "channel-blocked"
            : w.Constant is not null && PrefersWinograd(geometry, xs[1], ws[0], groups) ? "winograd-f2x3"
            : geometry.IsPointwise ? "pointwise-gemm"
            : rank == 2 && w.Constant is not null ? "packed-gemm"
            : "im2col+gemm";
        return new Layer(xs[0], xs[1], ws[0], groups, geometry, choice);
    }
}
