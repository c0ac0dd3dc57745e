using System;
using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Recurrent;

/// <summary>
/// RNN, GRU and LSTM (opsets 7, 14, 22): inputs X, W, R and the optional B, sequence_lens, initial_h (and for LSTM
/// initial_c, P); outputs Y, Y_h (and Y_c). Supports the attributes direction (forward, reverse, bidirectional),
/// activations, clip, layout, hidden_size and GRU's linear_before_reset; LSTM's input_forget = 1 and explicit
/// activation_alpha/activation_beta are diagnosed. Each direction is one call of
/// <c>AotInfer.Kernels.Recurrent.RecurrentLayer.RunDirection</c>, which uses the shared GEMM. Float only (float16
/// models are widened to float).
/// </summary>
public sealed class RecurrentLowering : OpLowering
{
    readonly string _opType;
    readonly string _cell;
    readonly int _gates;
    readonly string[] _defaultActivations;

    static readonly string[] KnownActivations =
        { "Sigmoid", "Tanh", "Relu", "LeakyRelu", "ThresholdedRelu", "ScaledTanh", "HardSigmoid", "Elu", "Softsign", "Softplus", "Affine" };

    /// <summary>Creates the lowering of one recurrent op.</summary>
    public RecurrentLowering(string opType, string cell, int gates, string[] defaultActivations)
    {
        _opType = opType;
        _cell = cell;
        _gates = gates;
        _defaultActivations = defaultActivations;
    }

    /// <inheritdoc/>
    public override string[] OpTypes => new[] { _opType };

    bool IsLstm => _gates == 4;

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        if (op.Type(0) != DataType.Float) throw op.Fail($"element type {op.Type(0)} is not supported (float only)");
        var x = op.Shape(0);
        if (x.Length != 3) throw op.Fail($"input 0 (X) must have rank 3, not {Literals.Shape(x)}");
        bool batchMajor = BatchMajor(op);
        int seq = batchMajor ? x[1] : x[0], batch = batchMajor ? x[0] : x[1], inputSize = x[2];
        int directions = Directions(op);
        int hidden = checked((int)op.Attributes.Int("hidden_size", 0));
        if (hidden <= 0) throw op.Fail("attribute 'hidden_size' is required and must be positive");
        Expect(op, 1, "W", new[] { directions, _gates * hidden, inputSize });
        Expect(op, 2, "R", new[] { directions, _gates * hidden, hidden });
        Expect(op, 3, "B", new[] { directions, 2 * _gates * hidden });
        Expect(op, 4, "sequence_lens", new[] { batch });
        if (op.HasInput(4) && op.Type(4) != DataType.Int32) throw op.Fail($"input 4 (sequence_lens) must be int32, not {op.Type(4)}");
        int[] stateShape = batchMajor ? new[] { batch, directions, hidden } : new[] { directions, batch, hidden };
        Expect(op, 5, "initial_h", stateShape);
        if (IsLstm)
        {
            Expect(op, 6, "initial_c", stateShape);
            Expect(op, 7, "P", new[] { directions, 3 * hidden });
            if (op.Attributes.Int("input_forget", 0) != 0) throw op.Fail("attribute 'input_forget' = 1 (coupled input and forget gates) is not supported");
        }
        else if (op.InputCount > 6) throw op.Fail($"{_opType} takes at most 6 inputs");
        if (_opType == "GRU" && op.Attributes.Int("linear_before_reset", 0) is not (0 or 1))
            throw op.Fail("attribute 'linear_before_reset' must be 0 or 1");
        Activations(op, directions);

        op.SetOutput(0, DataType.Float, batchMajor ? new[] { batch, seq, directions, hidden } : new[] { seq, directions, batch, hidden });
        op.SetOutput(1, DataType.Float, stateShape);
        if (IsLstm) op.SetOutput(2, DataType.Float, stateShape);
    }

    static void Expect(OpContext op, int index, string role, int[] shape)
    {
        if (!op.HasInput(index)) return;
        if (op.Type(index) != DataType.Float && role != "sequence_lens") throw op.Fail($"input {index} ({role}) must be float, not {op.Type(index)}");
        if (!op.Shape(index).SequenceEqual(shape))
            throw op.Fail($"input {index} ({role}) has shape {Literals.Shape(op.Shape(index))}, expected {Literals.Shape(shape)}");
    }

    static bool BatchMajor(OpContext op) => op.Attributes.Int("layout", 0) switch
    {
        0 => false,
        1 => true,
        var other => throw op.Fail($"attribute 'layout' must be 0 or 1, not {other}"),
    };

    static int Directions(OpContext op) => Direction(op) == "bidirectional" ? 2 : 1;

    static string Direction(OpContext op)
    {
        string direction = op.Attributes.String("direction", "forward");
        if (direction is not ("forward" or "reverse" or "bidirectional"))
            throw op.Fail($"attribute 'direction' must be forward, reverse or bidirectional, not '{direction}'");
        return direction;
    }

    /// <summary>The activation names per direction (f, g[, h]), validated.</summary>
    string[][] Activations(OpContext op, int directions)
    {
        if (op.Attributes.Has("activation_alpha") || op.Attributes.Has("activation_beta"))
            throw op.Fail("attributes 'activation_alpha'/'activation_beta' are not supported (the activations' default parameters are used only when absent)");
        int perDirection = _defaultActivations.Length;
        var given = op.Attributes.Strings("activations");
        if (given is null) return Enumerable.Repeat(_defaultActivations, directions).ToArray();
        if (given.Length != perDirection * directions)
            throw op.Fail($"attribute 'activations' must list {perDirection * directions} functions ({perDirection} per direction), not {given.Length}");
        foreach (var name in given)
            if (!KnownActivations.Contains(name, StringComparer.OrdinalIgnoreCase)) throw op.Fail($"activation '{name}' in attribute 'activations' is not supported");
        return Enumerable.Range(0, directions).Select(d => given.Skip(d * perDirection).Take(perDirection).ToArray()).ToArray();
    }

    static string Activation(string name)
    {
        string kind = KnownActivations.First(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase));
        // ONNX Runtime's defaults for the parameterised functions.
        (float alpha, float beta) = kind switch
        {
            "LeakyRelu" => (0.01f, 0f),
            "ThresholdedRelu" => (1f, 0f),
            "ScaledTanh" => (1f, 1f),
            "HardSigmoid" => (0.2f, 0.5f),
            "Elu" => (1f, 0f),
            "Affine" => (1f, 0f),
            _ => (0f, 0f),
        };
        string k = EmitContext.Kernels + ".Recurrent";
        return $"new {k}.RecurrentActivation({k}.RecurrentActivationKind.{kind}, {Literals.Float(alpha)}, {Literals.Float(beta)})";
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var x = op.Shape(0);
        bool batchMajor = BatchMajor(op);
        int seq = batchMajor ? x[1] : x[0], batch = batchMajor ? x[0] : x[1];
        int directions = Directions(op);
        int hidden = (int)op.Attributes.Int("hidden_size", 0);
        float clip = op.Attributes.Float("clip", 0f);
        bool linearBeforeReset = op.Attributes.Int("linear_before_reset", 0) != 0;
        string k = EmitContext.Kernels + ".Recurrent";
        string geometry = code.StaticField($"{k}.RecurrentGeometry",
            $"new {k}.RecurrentGeometry({k}.RecurrentCell.{_cell}, {seq}, {batch}, {x[2]}, {hidden}, {directions}, " +
            $"{(batchMajor ? "true" : "false")}, {Literals.Float(clip)}, {(linearBeforeReset ? "true" : "false")})");
        int scratchLength = seq * batch * _gates * hidden + batch * _gates * hidden + 3 * batch * hidden;
        string scratch = code.Scratch(DataType.Float, scratchLength);
        string Optional(int index) => op.HasInput(index) ? code.In(index) : "default";
        string OutputOrNone(int index) => index < op.OutputCount ? code.Out(index) : "default";
        var activations = Activations(op, directions);
        string direction = Direction(op);
        for (int d = 0; d < directions; d++)
        {
            bool reverse = direction == "reverse" || d == 1;
            var names = activations[d];
            string f = Activation(names[0]), g = names.Length > 1 ? Activation(names[1]) : "default", h = names.Length > 2 ? Activation(names[2]) : "default";
            code.Writer.Line($"{k}.RecurrentLayer.RunDirection({geometry}, {d}, {(reverse ? "true" : "false")}, {code.In(0)}, {code.In(1)}, {code.In(2)}, " +
                             $"{Optional(3)}, {Optional(4)}, {Optional(5)}, {(IsLstm ? Optional(6) : "default")}, {(IsLstm ? Optional(7) : "default")}, " +
                             $"{OutputOrNone(0)}, {OutputOrNone(1)}, {(IsLstm ? OutputOrNone(2) : "default")}, {f}, {g}, {h}, {scratch});");
        }
    }
}
