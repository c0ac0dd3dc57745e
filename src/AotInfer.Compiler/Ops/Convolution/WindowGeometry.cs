using System;
using System.Linq;

namespace AotInfer.Compiler.Ops.Convolution;

/// <summary>
/// The spatial geometry of a sliding-window op (Conv, ConvTranspose, the pools): input and output extents, kernel,
/// strides, dilations and the resolved begin/end padding of every spatial dimension. Built once from the
/// attributes at compile time; <see cref="Packed"/> is the layout the kernels read.
/// </summary>
public sealed class WindowGeometry
{
    /// <summary>A geometry of these extents as given (the factories below derive them from a node; tests build them directly).</summary>
    internal WindowGeometry(int[] input, int[] output, int[] kernel, int[] strides, int[] dilations, int[] padsBegin, int[] padsEnd)
    {
        Input = input;
        Output = output;
        Kernel = kernel;
        Strides = strides;
        Dilations = dilations;
        PadsBegin = padsBegin;
        PadsEnd = padsEnd;
    }

    /// <summary>Number of spatial dimensions.</summary>
    public int Rank => Input.Length;

    /// <summary>Spatial extents of the input (for ConvTranspose: of the image the window slides over, i.e. the output).</summary>
    public int[] Input { get; }

    /// <summary>Spatial extents of the window positions (for ConvTranspose: of the input).</summary>
    public int[] Output { get; }

    /// <summary>Kernel extents.</summary>
    public int[] Kernel { get; }

    /// <summary>Strides.</summary>
    public int[] Strides { get; }

    /// <summary>Dilations.</summary>
    public int[] Dilations { get; }

    /// <summary>Padding before each dimension.</summary>
    public int[] PadsBegin { get; }

    /// <summary>Padding after each dimension.</summary>
    public int[] PadsEnd { get; }

    /// <summary>Number of kernel taps.</summary>
    public int KernelSize => Kernel.Aggregate(1, (a, b) => a * b);

    /// <summary>Number of input positions.</summary>
    public int InputSize => Input.Aggregate(1, (a, b) => a * b);

    /// <summary>Number of window positions.</summary>
    public int OutputSize => Output.Aggregate(1, (a, b) => a * b);

    /// <summary>True when no tap ever reads padding and windows do not skip or overlap (1×1, stride 1, no pads).</summary>
    public bool IsPointwise =>
        Kernel.All(k => k == 1) && Strides.All(s => s == 1) && PadsBegin.All(p => p == 0) && PadsEnd.All(p => p == 0);

    /// <summary>
    /// The layout <c>AotInfer.Kernels.Convolution.Window</c> reads: rank, then input, output, kernel, strides,
    /// dilations, pads-begin and pads-end, rank entries each.
    /// </summary>
    public int[] Packed() =>
        new[] { Rank }.Concat(Input).Concat(Output).Concat(Kernel).Concat(Strides).Concat(Dilations).Concat(PadsBegin).Concat(PadsEnd).ToArray();

    /// <summary>For comments: <c>kernel 3x3, strides 1x1, dilations 1x1, pads [1,1,1,1]</c>.</summary>
    public override string ToString() =>
        $"kernel {string.Join("x", Kernel)}, strides {string.Join("x", Strides)}, dilations {string.Join("x", Dilations)}, pads [{string.Join(",", PadsBegin.Concat(PadsEnd))}]";

    /// <summary>Geometry of a convolution: output = floor((in + pads - dilated kernel) / stride) + 1, or per auto_pad.</summary>
    public static WindowGeometry ForConvolution(OpContext op, int[] input, int[] kernel) => Build(op, input, kernel, ceilMode: false, pooling: false);

    /// <summary>Geometry of a pool, honouring <c>ceil_mode</c> (the last window must start inside the input or its begin padding).</summary>
    public static WindowGeometry ForPooling(OpContext op, int[] input, int[] kernel, bool ceilMode) => Build(op, input, kernel, ceilMode, pooling: true);

    /// <summary>
    /// Geometry of a transposed convolution of an input of extents <paramref name="input"/>: the window slides over
    /// the output image, so <see cref="Input"/> holds the output extents and <see cref="Output"/> the input extents.
    /// </summary>
    public static WindowGeometry ForTransposedConvolution(OpContext op, int[] input, int[] kernel)
    {
        int rank = input.Length;
        int[] strides = PositiveInts(op, "strides", rank);
        int[] dilations = PositiveInts(op, "dilations", rank);
        int[] outputPadding = Ints(op, "output_padding", rank, 0);
        for (int d = 0; d < rank; d++)
            if (outputPadding[d] < 0 || outputPadding[d] >= Math.Max(strides[d], dilations[d]))
                throw op.Fail($"output_padding {outputPadding[d]} of dimension {d} must be in [0, max(stride, dilation))");
        string autoPad = AutoPad(op);
        int[] padsBegin = new int[rank], padsEnd = new int[rank], output = new int[rank];
        long[]? outputShape = op.Attributes.Ints("output_shape");
        if (outputShape is not null && outputShape.Length == rank + 2) outputShape = outputShape.Skip(2).ToArray();
        if (outputShape is not null && outputShape.Length != rank)
            throw op.Fail($"output_shape has {outputShape.Length} entries, expected {rank} spatial extents");
        bool hasPads = op.Attributes.Ints("pads") is { Length: > 0 };
        bool derivePads = outputShape is not null || (!hasPads && autoPad is "SAME_UPPER" or "SAME_LOWER");
        int[] pads = hasPads && autoPad != "VALID" ? PadsAttribute(op, rank) : new int[2 * rank];
        for (int d = 0; d < rank; d++)
        {
            int full = strides[d] * (input[d] - 1) + outputPadding[d] + (kernel[d] - 1) * dilations[d] + 1;
            if (derivePads)
            {
                // The target extent comes from output_shape, or input × stride for SAME_*; the surplus (possibly
                // negative: extra positions only the bias reaches) is padding, its odd element at the end for
                // SAME_UPPER and at the beginning otherwise. Floor division keeps negative totals consistent.
                output[d] = outputShape is not null ? checked((int)outputShape[d]) : input[d] * strides[d];
                int total = full - output[d];
                int half = (int)Math.Floor(total / 2.0);
                padsBegin[d] = autoPad == "SAME_UPPER" ? half : total - half;
                padsEnd[d] = total - padsBegin[d];
            }
            else
            {
                padsBegin[d] = pads[d];
                padsEnd[d] = pads[rank + d];
                output[d] = full - padsBegin[d] - padsEnd[d];
            }
            if (output[d] <= 0) throw op.Fail($"output extent of spatial dimension {d} would be {output[d]}");
        }
        // The window slides over the output: each input position is one window of the equivalent convolution.
        return new WindowGeometry(output, (int[])input.Clone(), kernel, strides, dilations, padsBegin, padsEnd);
    }

    static WindowGeometry Build(OpContext op, int[] input, int[] kernel, bool ceilMode, bool pooling)
    {
        int rank = input.Length;
        int[] strides = PositiveInts(op, "strides", rank);
        int[] dilations = PositiveInts(op, "dilations", rank);
        string autoPad = AutoPad(op);
        int[] padsBegin = new int[rank], padsEnd = new int[rank], output = new int[rank];
        int[] pads = autoPad == "NOTSET" ? PadsAttribute(op, rank) : new int[2 * rank];
        if (ceilMode && autoPad != "NOTSET") throw op.Fail($"ceil_mode with auto_pad {autoPad} is not supported");
        for (int d = 0; d < rank; d++)
        {
            int window = (kernel[d] - 1) * dilations[d] + 1;
            switch (autoPad)
            {
                case "NOTSET":
                    padsBegin[d] = pads[d];
                    padsEnd[d] = pads[rank + d];
                    int span = input[d] + padsBegin[d] + padsEnd[d] - window;
                    if (span < 0) throw op.Fail($"the dilated kernel ({window}) is larger than the padded input ({input[d] + padsBegin[d] + padsEnd[d]}) in spatial dimension {d}");
                    output[d] = (ceilMode ? (span + strides[d] - 1) / strides[d] : span / strides[d]) + 1;
                    // A window that would start in the end padding is dropped (PyTorch and ONNX Runtime agree).
                    if (ceilMode && (output[d] - 1) * strides[d] >= input[d] + padsBegin[d]) output[d]--;
                    break;
                case "VALID":
                    if (input[d] < window) throw op.Fail($"the dilated kernel ({window}) is larger than the input ({input[d]}) in spatial dimension {d}");
                    output[d] = (input[d] - window) / strides[d] + 1;
                    break;
                default:
                    output[d] = (input[d] + strides[d] - 1) / strides[d];
                    int total = Math.Max(0, (output[d] - 1) * strides[d] + window - input[d]);
                    // SAME_UPPER puts the odd padding element at the end, SAME_LOWER at the beginning.
                    padsBegin[d] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
                    padsEnd[d] = total - padsBegin[d];
                    break;
            }
            if (output[d] <= 0) throw op.Fail($"output extent of spatial dimension {d} would be {output[d]}");
            if (pooling && (padsBegin[d] >= window || padsEnd[d] >= window) && autoPad == "NOTSET")
                throw op.Fail($"pads ({padsBegin[d]}, {padsEnd[d]}) of spatial dimension {d} must be smaller than the kernel window {window}");
        }
        return new WindowGeometry((int[])input.Clone(), output, kernel, strides, dilations, padsBegin, padsEnd);
    }

    /// <summary>The <c>kernel_shape</c> attribute, checked against the weight's spatial extents when both are known.</summary>
    public static int[] KernelShape(OpContext op, int rank, int[]? fromWeights)
    {
        long[]? attribute = op.Attributes.Ints("kernel_shape");
        if (attribute is null)
            return fromWeights ?? throw op.Fail("required attribute 'kernel_shape' is missing");
        if (attribute.Length != rank) throw op.Fail($"kernel_shape has {attribute.Length} entries, expected {rank}");
        int[] kernel = attribute.Select(k => k > 0 && k <= int.MaxValue ? (int)k : throw op.Fail($"kernel_shape entry {k} must be positive")).ToArray();
        if (fromWeights is not null && !kernel.SequenceEqual(fromWeights))
            throw op.Fail($"kernel_shape [{string.Join(",", kernel)}] does not match the weight's spatial shape [{string.Join(",", fromWeights)}]");
        return kernel;
    }

    static string AutoPad(OpContext op)
    {
        string autoPad = op.Attributes.String("auto_pad", "NOTSET");
        if (autoPad.Length == 0) autoPad = "NOTSET";
        if (autoPad is not ("NOTSET" or "VALID" or "SAME_UPPER" or "SAME_LOWER"))
            throw op.Fail($"auto_pad '{autoPad}' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER");
        return autoPad;
    }

    static int[] PadsAttribute(OpContext op, int rank)
    {
        int[] pads = Ints(op, "pads", 2 * rank, 0);
        if (pads.Any(p => p < 0)) throw op.Fail($"pads [{string.Join(",", pads)}] must not be negative");
        return pads;
    }

    static int[] PositiveInts(OpContext op, string name, int rank)
    {
        int[] values = Ints(op, name, rank, 1);
        if (values.Any(v => v <= 0)) throw op.Fail($"{name} [{string.Join(",", values)}] must be positive");
        return values;
    }

    static int[] Ints(OpContext op, string name, int count, int fallback)
    {
        long[]? values = op.Attributes.Ints(name);
        if (values is null || values.Length == 0) return Enumerable.Repeat(fallback, count).ToArray();
        if (values.Length != count) throw op.Fail($"{name} has {values.Length} entries, expected {count}");
        return values.Select(v => v >= int.MinValue && v <= int.MaxValue ? (int)v : throw op.Fail($"{name} entry {v} is out of range")).ToArray();
    }
}
