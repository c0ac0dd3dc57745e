using System.Collections.Generic;
using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Compiler.Ops.Reduction;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Normalization;

/// <summary>The normalisations that standardise contiguous rows of the input.</summary>
public enum RowNormalizationKind
{
    /// <summary>LayerNormalization: rows are the dimensions from <c>axis</c> on; optional Mean and InvStdDev outputs.</summary>
    Layer,
    /// <summary>RMSNormalization (opset 23): rows from <c>axis</c> on, divided by their root mean square.</summary>
    RootMeanSquare,
    /// <summary>GroupNormalization: rows are groups of channels of one image; scale per group (opset 18) or per channel (21).</summary>
    Group,
    /// <summary>InstanceNormalization: rows are the spatial planes of one channel of one image.</summary>
    Instance,
}

/// <summary>
/// LayerNormalization, RMSNormalization, GroupNormalization and InstanceNormalization: the input is viewed as rows
/// that are standardised (two-pass mean and variance) or RMS-scaled, then scaled and shifted. Float16 data
/// computes in float, which is what stash_type = 1 (the default and the only value the ONNX tests use) asks for;
/// double data computes in double, at least as precise as any stash type.
/// </summary>
public sealed class RowNormalizationLowering : OpLowering
{
    readonly RowNormalizationKind _kind;

    /// <summary>Creates the lowering of one of the ops.</summary>
    public RowNormalizationLowering(RowNormalizationKind kind) => _kind = kind;

    /// <inheritdoc/>
    public override string[] OpTypes => new[]
    {
        _kind switch
        {
            RowNormalizationKind.Layer => "LayerNormalization",
            RowNormalizationKind.RootMeanSquare => "RMSNormalization",
            RowNormalizationKind.Group => "GroupNormalization",
            _ => "InstanceNormalization",
        },
    };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var type = op.Type(0);
        if (!(DataTypes.IsFloat(type) && type != DataType.BFloat16)) throw op.Fail($"element type {type} is not supported");
        for (int i = 1; i < op.InputCount; i++)
            if (op.HasInput(i) && op.Type(i) != type) throw op.Fail($"input {i} has element type {op.Type(i)}, expected {type} like the data");
        int[] shape = op.Shape(0);
        Layout(op); // validates scale, bias and attributes
        op.SetOutput(0, type, shape);
        if (_kind == RowNormalizationKind.Layer)
        {
            int axis = op.Axis(op.Attributes.Int("axis", -1), shape.Length);
            var statsShape = shape.Select((d, i) => i < axis ? d : 1).ToArray();
            var statsType = StashType(op);
            op.SetOutput(1, statsType, statsShape);
            op.SetOutput(2, statsType, statsShape);
        }
    }

    static DataType StashType(OpContext op)
    {
        long stash = op.Attributes.Int("stash_type", 1);
        var type = (DataType)stash;
        if (type is not (DataType.Float or DataType.Double or DataType.Float16))
            throw op.Fail($"stash_type {stash} is not supported (float, double or float16 are)");
        return type;
    }

    /// <summary>Number of rows, elements per row, and for the channel-wise ops the channel count and spatial size.</summary>
    (int Rows, int Length, (int Channels, int Spatial, int ChannelsPerEntry) Channels) Layout(OpContext op)
    {
        int[] shape = op.Shape(0);
        int total = ShapeMath.ElementCount(shape);
        switch (_kind)
        {
            case RowNormalizationKind.Layer:
            case RowNormalizationKind.RootMeanSquare:
            {
                if (op.Opset < 23 && _kind == RowNormalizationKind.RootMeanSquare) throw op.Fail("RMSNormalization needs opset 23");
                if (shape.Length == 0) throw op.Fail("input must have rank ≥ 1");
                int axis = op.Axis(op.Attributes.Int("axis", -1), shape.Length);
                int[] normalized = shape.Skip(axis).ToArray();
                CheckBroadcastsTo(op, 1, "scale", normalized);
                if (_kind == RowNormalizationKind.Layer && op.HasInput(2)) CheckBroadcastsTo(op, 2, "bias", normalized);
                if (_kind == RowNormalizationKind.RootMeanSquare) StashType(op);
                int length = ReductionAxes.Product(shape, axis, shape.Length);
                return (length == 0 ? 0 : total / length, length, default);
            }
            default:
            {
                if (shape.Length < 3) throw op.Fail("input must have rank ≥ 3 ([N, C, D1, ...])");
                int channels = shape[1], spatial = ReductionAxes.Product(shape, 2, shape.Length);
                int groups = channels, entries = channels;
                if (_kind == RowNormalizationKind.Group)
                {
                    long g = op.Attributes.Int("num_groups");
                    if (g <= 0 || channels % g != 0) throw op.Fail($"num_groups {g} must divide the {channels} channels");
                    groups = (int)g;
                    entries = op.Opset < 21 ? groups : channels;
                    if (op.Opset >= 21) StashType(op);
                }
                for (int i = 1; i <= 2; i++)
                {
                    if (!op.HasInput(i)) throw op.Fail($"input {i} ({(i == 1 ? "scale" : "bias")}) is required");
                    if (op.Input(i).ElementCount != entries || op.Shape(i).Length != 1)
                        throw op.Fail($"input {i} must have shape [{entries}] (opset {op.Opset}), got [{string.Join(",", op.Shape(i))}]");
                }
                int rows = shape[0] * groups;
                return (rows, rows == 0 ? 0 : total / rows, (channels, spatial, channels / entries));
            }
        }
    }

    static void CheckBroadcastsTo(OpContext op, int index, string role, int[] target)
    {
        if (!op.HasInput(index)) throw op.Fail($"input {index} ({role}) is required");
        int[] shape = op.Shape(index);
        bool ok = shape.Length <= target.Length &&
                  shape.Select((d, i) => d == 1 || d == target[target.Length - shape.Length + i]).All(b => b);
        if (!ok) throw op.Fail($"input {index} ({role}) of shape [{string.Join(",", shape)}] does not broadcast to the normalised shape [{string.Join(",", target)}]");
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var (_, length, channels) = Layout(op);
        int[] shape = op.Shape(0);
        var spans = new ComputeSpans(op, code);
        var computeType = ComputeSpans.ComputeType(op.Type(0));
        string t = DataTypes.CSharpName(computeType);
        string kernels = $"{EmitContext.Kernels}.Normalization.RowNormalization";
        string epsilon = EmitContext.Literal(computeType, op.Attributes.Float("epsilon", 1e-5f));
        string x = spans.In(0), y = spans.Out(0);
        var conversions = new List<string>();
        switch (_kind)
        {
            case RowNormalizationKind.Layer:
            {
                string mean = Statistic(op, code, 1, computeType, conversions);
                string inverse = Statistic(op, code, 2, computeType, conversions);
                code.Writer.Line($"{kernels}.Standardize<{t}>({x}, {y}, {length}, {epsilon}, {mean}, {inverse});");
                string bias = op.HasInput(2) ? RowParameter(op, code, spans, 2, computeType) : "default";
                code.Writer.Line($"{kernels}.ScaleRows<{t}>({y}, {RowParameter(op, code, spans, 1, computeType)}, {bias});");
                break;
            }
            case RowNormalizationKind.RootMeanSquare:
                code.Writer.Line($"{kernels}.RootMeanSquare<{t}>({x}, {y}, {length}, {epsilon});");
                code.Writer.Line($"{kernels}.ScaleRows<{t}>({y}, {RowParameter(op, code, spans, 1, computeType)}, default);");
                break;
            default:
                code.Writer.Line($"{kernels}.Standardize<{t}>({x}, {y}, {length}, {epsilon}, default, default);");
                code.Writer.Line($"{kernels}.ScaleChannels<{t}>({y}, {channels.Channels}, {channels.Spatial}, {spans.In(1)}, {spans.In(2)}, {channels.ChannelsPerEntry});");
                break;
        }
        foreach (var line in conversions) code.Writer.Line(line);
        spans.Finish();
    }

    /// <summary>Scale or bias as one row of the normalised shape, broadcast into scratch when given smaller.</summary>
    static string RowParameter(OpContext op, EmitContext code, ComputeSpans spans, int index, DataType computeType)
    {
        int[] shape = op.Shape(0);
        int axis = op.Axis(op.Attributes.Int("axis", -1), shape.Length);
        int[] normalized = shape.Skip(axis).ToArray();
        string source = spans.In(index);
        int length = ShapeMath.ElementCount(normalized);
        if (op.Input(index).ElementCount == length) return source;
        string name = $"row{index}";
        code.Writer.Line($"var {name} = {code.Scratch(computeType, length)};");
        code.Writer.Line($"{EmitContext.Kernels}.Elementwise.Broadcast.Expand<{DataTypes.CSharpName(computeType)}>({source}, {code.IntArray(op.Shape(index))}, {name}, {code.IntArray(normalized)});");
        return name;
    }

    /// <summary>The span a statistic output is written to: the output itself, or scratch converted afterwards when the stash type differs.</summary>
    static string Statistic(OpContext op, EmitContext code, int index, DataType computeType, List<string> conversions)
    {
        if (op.OutputCount <= index) return "default";
        var output = op.Output(index)!;
        if (output.Type == computeType) return code.Out(index);
        string name = $"statistic{index}";
        code.Writer.Line($"var {name} = {code.Scratch(computeType, output.ElementCount)};");
        conversions.Add($"{EmitContext.Kernels}.Elementwise.Conversion.Convert<{DataTypes.CSharpName(computeType)}, {DataTypes.CSharpName(output.Type)}>({name}, {code.Out(index)});");
        return name;
    }
}
