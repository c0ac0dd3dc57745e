using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Compiler.Ops.Convolution;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Pooling;

/// <summary>Which reduction a pool applies to each window.</summary>
public enum PoolKind
{
    /// <summary>Maximum (MaxPool, GlobalMaxPool).</summary>
    Max,
    /// <summary>Mean (AveragePool, GlobalAveragePool).</summary>
    Average,
    /// <summary>p-norm (LpPool, GlobalLpPool).</summary>
    Lp,
}

/// <summary>
/// MaxPool (opsets 1–22: ceil_mode, dilations, pads, auto_pad, storage_order, the Indices output; float, double,
/// float16, int8, uint8), AveragePool (count_include_pad, ceil_mode, the dilations of opset 19; float) and LpPool
/// (float; p is a float attribute in opset 1 and an int afterwards) over any number of spatial dimensions.
/// </summary>
public sealed class PoolLowering : OpLowering
{
    readonly string _opType;
    readonly PoolKind _kind;

    /// <summary>Creates the lowering of one pool op.</summary>
    public PoolLowering(string opType, PoolKind kind)
    {
        _opType = opType;
        _kind = kind;
    }

    /// <inheritdoc/>
    public override string[] OpTypes => new[] { _opType };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var (type, shape, geometry) = Describe(op);
        op.Node.Annotations["kernel"] = UsesMaxPool2D(op, type, geometry) ? "max-2d-vector"
            : _kind == PoolKind.Average && CoversWholePlane(geometry) ? "global-average"
            : _kind != PoolKind.Lp && geometry.Rank == 2 && op.OutputCount < 2 ? "rows-2d" : "windows-nd";
        op.Node.Annotations["window"] = geometry.ToString();
        int[] outputShape = new[] { shape[0], shape[1] }.Concat(geometry.Output).ToArray();
        op.SetOutput(0, type, outputShape);
        if (op.OutputCount > 1) op.SetOutput(1, DataType.Int64, outputShape);
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var (type, shape, geometry) = Describe(op);
        int planes = shape[0] * shape[1];
        string pooling = $"{EmitContext.Kernels}.Pooling.Pooling";
        string window = code.IntArray(geometry.Packed());
        switch (_kind)
        {
            case PoolKind.Max when UsesMaxPool2D(op, type, geometry):
                string typeArgument = type == DataType.Float ? "" : $"<{code.InType(0)}>";
                code.Writer.Line($"{EmitContext.Kernels}.Pooling.MaxPool2D.Max{typeArgument}({code.In(0)}, {code.Out(0)}, {planes}, {window});");
                break;
            case PoolKind.Max:
                string indices = op.OutputCount > 1 ? code.Out(1) : "global::System.Span<long>.Empty";
                bool columnMajor = op.Attributes.Int("storage_order", 0) == 1;
                code.Writer.Line($"{pooling}.Max<{code.InType(0)}>({code.In(0)}, {code.Out(0)}, {indices}, {planes}, {window}, {(columnMajor ? "true" : "false")});");
                break;
            case PoolKind.Average when CoversWholePlane(geometry):
                code.Writer.Line($"{pooling}.GlobalAverage({code.In(0)}, {code.Out(0)}, {planes}, {geometry.Input.Aggregate(1, (a, b) => a * b)});");
                break;
            case PoolKind.Average:
                bool includePad = op.Attributes.Int("count_include_pad", 0) != 0;
                code.Writer.Line($"{pooling}.Average({code.In(0)}, {code.Out(0)}, {planes}, {window}, {(includePad ? "true" : "false")});");
                break;
            default:
                code.Writer.Line($"{pooling}.Lp({code.In(0)}, {code.Out(0)}, {planes}, {window}, {Literals.Float(LpNorm(op))});");
                break;
        }
    }

    /// <summary>
    /// Float and 8-bit 2-D MaxPool without indices take the vectorised <c>MaxPool2D</c> kernel: a strided max pool walked
    /// tap by tap in scalar code was 64% of squeezenet1_1's time, and half of fashion_lenet5_qop_u8s8's.
    /// </summary>
    bool UsesMaxPool2D(OpContext op, DataType type, WindowGeometry geometry) =>
        _kind == PoolKind.Max && (type is DataType.Float or DataType.UInt8 or DataType.Int8) && geometry.Rank == 2 && op.OutputCount < 2;

    /// <summary>
    /// One window over the whole unpadded plane (ResNet heads written as AveragePool 8×8 on 8×8) is GlobalAveragePool:
    /// one vector sum per plane instead of the windowed kernel's walk, 11.5 µs against ONNX Runtime's 2 µs on
    /// mlperf_tiny_resnet8's 64×8×8 (bench --profile).
    /// </summary>
    static bool CoversWholePlane(WindowGeometry g) =>
        g.Output.All(o => o == 1) && g.Kernel.SequenceEqual(g.Input) && g.Dilations.All(d => d == 1) &&
        g.PadsBegin.All(p => p == 0) && g.PadsEnd.All(p => p == 0);

    /// <summary>The p of LpPool/GlobalLpPool: a float attribute in opset 1, an int from opset 2.</summary>
    internal static float LpNorm(OpContext op)
    {
        float p = op.Opset < 2 ? op.Attributes.Float("p", 2f) : op.Attributes.Int("p", 2);
        if (!(p > 0)) throw op.Fail($"attribute p {p} must be positive");
        return p;
    }

    (DataType Type, int[] Shape, WindowGeometry Geometry) Describe(OpContext op)
    {
        var x = op.Input(0);
        CheckType(op, x.Type, _kind);
        int[] shape = x.Shape!;
        if (shape.Length < 3) throw op.Fail($"input X must have rank 3 or more (N, C, spatial...), got rank {shape.Length}");
        int rank = shape.Length - 2;
        if (op.OutputCount > 1 && _kind != PoolKind.Max) throw op.Fail($"{_opType} has one output, {op.OutputCount} were requested");
        long storageOrder = op.Attributes.Int("storage_order", 0);
        if (storageOrder is not (0 or 1)) throw op.Fail($"attribute storage_order {storageOrder} must be 0 or 1");
        long ceilMode = op.Attributes.Int("ceil_mode", 0);
        if (ceilMode is not (0 or 1)) throw op.Fail($"attribute ceil_mode {ceilMode} must be 0 or 1");
        if (_kind == PoolKind.Lp) LpNorm(op);
        int[] kernel = WindowGeometry.KernelShape(op, rank, null);
        return (x.Type, shape, WindowGeometry.ForPooling(op, shape.Skip(2).ToArray(), kernel, ceilMode == 1));
    }

    /// <summary>Fails for element types the pool kernels do not implement.</summary>
    internal static void CheckType(OpContext op, DataType type, PoolKind kind)
    {
        bool ok = kind == PoolKind.Max
            ? type is DataType.Float or DataType.Double or DataType.Float16 or DataType.Int8 or DataType.UInt8
            : type == DataType.Float;
        if (!ok) throw op.Fail($"input X has element type {type}, which {op.Node.OpType} does not support here" +
                               (kind == PoolKind.Max ? " (float, double, float16, int8, uint8)" : " (float only)"));
    }
}
