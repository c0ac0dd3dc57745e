using System;
using System.Collections.Generic;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Signal;

/// <summary>
/// HannWindow, HammingWindow and BlackmanWindow (opset 17). The window depends only on the constant size, so it is
/// computed at compile time and becomes a constant: nothing runs at run time.
/// </summary>
public sealed class WindowFunctionLowering : OpLowering
{
    readonly string _opType;
    readonly Func<double, double> _window; // of the phase 2πn/N

    WindowFunctionLowering(string opType, Func<double, double> window)
    {
        _opType = opType;
        _window = window;
    }

    /// <summary>The signal-processing lowerings: the three window functions and DFT.</summary>
    public static IEnumerable<OpLowering> All()
    {
        yield return new WindowFunctionLowering("HannWindow", phase => 0.5 - 0.5 * Math.Cos(phase));
        yield return new WindowFunctionLowering("HammingWindow", phase => 25.0 / 46 - (1 - 25.0 / 46) * Math.Cos(phase));
        yield return new WindowFunctionLowering("BlackmanWindow", phase => 0.42 - 0.5 * Math.Cos(phase) + 0.08 * Math.Cos(2 * phase));
        yield return new DftLowering();
    }

    /// <inheritdoc/>
    public override string[] OpTypes => new[] { _opType };

    static int Size(OpContext op)
    {
        var size = op.ConstantInput(0, "size");
        if (size.Length != 1) throw op.Fail($"size must be a scalar, got {size}");
        long n = size.ToInt64()[0];
        if (n < 0 || n > 1 << 24) throw op.Fail($"size {n} is out of range");
        return (int)n;
    }

    static DataType OutputType(OpContext op)
    {
        var type = (DataType)op.Attributes.Int("output_datatype", (long)DataType.Float);
        if (!ConstantEvaluation.CanEvaluate(type)) throw op.Fail($"output_datatype {type} is not supported");
        return type;
    }

    /// <inheritdoc/>
    public override void Infer(OpContext op) => op.SetOutput(0, OutputType(op), new[] { Size(op) });

    /// <inheritdoc/>
    public override Tensor[] Evaluate(OpContext op)
    {
        int n = Size(op);
        bool periodic = op.Attributes.Int("periodic", 1) != 0;
        double denominator = periodic ? n : n - 1;
        var values = new double[n];
        for (int i = 0; i < n; i++) values[i] = (float)_window(denominator == 0 ? 0 : 2 * Math.PI * i / denominator);
        return new[] { ConstantEvaluation.FromDoubles(OutputType(op), new[] { n }, values) };
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code) =>
        throw new InvalidOperationException($"{_opType} is always folded at compile time");
}
