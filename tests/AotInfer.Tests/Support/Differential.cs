using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Cli.Check;
using AotInfer.Compiler;
using AotInfer.Kernels;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;

namespace AotInfer.Tests.Support;

/// <summary>
/// Runs one model through AotInfer (compiled in memory, warnings as errors) and through ONNX Runtime on the same
/// inputs, and asserts that the outputs agree.
/// </summary>
public static class Differential
{
    /// <summary>Compiles <paramref name="modelBytes"/> and returns an instance of the generated class.</summary>
    public static IGeneratedModel CompileModel(byte[] modelBytes, string className = "Model", Action<CompileOptions>? configure = null)
    {
        var options = new CompileOptions { ClassName = className, Namespace = "AotInferTest" + Guid.NewGuid().ToString("N") };
        configure?.Invoke(options);
        var result = ModelCompiler.Compile(modelBytes, options);
        Assert.True(result.Success, "compile failed: " + string.Join(" | ", result.Diagnostics));
        var failures = new Dictionary<string, string>();
        var ns = result.Source!.Split('\n').First(l => l.StartsWith("namespace ", StringComparison.Ordinal)).Substring(10).Trim();
        var assembly = InMemoryCompiler.CompileBatch(new Dictionary<string, string> { [ns] = result.Source }, failures, warningsAsErrors: true);
        Assert.True(assembly is not null, "generated code does not compile: " + string.Join(" | ", failures.Values));
        return (IGeneratedModel)Activator.CreateInstance(assembly!.GetType(ns + "." + className)!)!;
    }

    /// <summary>Runs AotInfer's compiled model.</summary>
    public static Array[] RunAotInfer(byte[] modelBytes, params Array[] inputs)
    {
        var model = CompileModel(modelBytes);
        var outputs = model.Info.Outputs.Select(o => RuntimeArrays.Allocate(o.ElementType, o.Length)).ToArray();
        model.Run(inputs, outputs);
        return outputs;
    }

    /// <summary>Runs ONNX Runtime (all graph optimisations on, one thread).</summary>
    public static Array[] RunOnnxRuntime(byte[] modelBytes, params (int[] Shape, Array Data)[] inputs)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var session = new InferenceSession(modelBytes, options);
        var names = session.InputNames;
        var values = inputs.Select(i => CreateValue(i.Data, i.Shape.Select(d => (long)d).ToArray())).ToList();
        try
        {
            using var results = session.Run(new RunOptions(), names.ToList(), values, session.OutputNames.ToList());
            return results.Select(ReadValue).ToArray();
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }

    /// <summary>Asserts AotInfer agrees with ONNX Runtime within tolerances (integers exactly).</summary>
    public static void AssertAgrees(byte[] modelBytes, double rtol = 1e-4, double atol = 1e-5, params (int[] Shape, Array Data)[] inputs)
    {
        var expected = RunOnnxRuntime(modelBytes, inputs);
        var actual = RunAotInfer(modelBytes, inputs.Select(i => i.Data).ToArray());
        Assert.Equal(expected.Length, actual.Length);
        var comparer = new OutputComparer(rtol, atol, 0);
        for (int i = 0; i < expected.Length; i++)
        {
            string? problem = comparer.Compare(actual[i], expected[i], $"output {i}");
            Assert.True(problem is null, problem);
        }
    }

    /// <summary>Random floats in [lo, hi) from a fixed seed.</summary>
    public static float[] RandomFloats(int seed, int count, float lo = -1, float hi = 1)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => lo + (float)random.NextDouble() * (hi - lo)).ToArray();
    }

    // Dispatches on the exact element type: a pattern like `sbyte[] s` also matches a byte[] (the CLR lets same-size
    // signed and unsigned integer arrays cast to each other), which would hand ONNX Runtime the wrong type.
    static OrtValue CreateValue(Array data, long[] shape) => data.GetType().GetElementType() switch
    {
        var t when t == typeof(float) => OrtValue.CreateTensorValueFromMemory((float[])data, shape),
        var t when t == typeof(double) => OrtValue.CreateTensorValueFromMemory((double[])data, shape),
        var t when t == typeof(long) => OrtValue.CreateTensorValueFromMemory((long[])data, shape),
        var t when t == typeof(ulong) => OrtValue.CreateTensorValueFromMemory((ulong[])data, shape),
        var t when t == typeof(int) => OrtValue.CreateTensorValueFromMemory((int[])data, shape),
        var t when t == typeof(uint) => OrtValue.CreateTensorValueFromMemory((uint[])data, shape),
        var t when t == typeof(short) => OrtValue.CreateTensorValueFromMemory((short[])data, shape),
        var t when t == typeof(ushort) => OrtValue.CreateTensorValueFromMemory((ushort[])data, shape),
        var t when t == typeof(sbyte) => OrtValue.CreateTensorValueFromMemory((sbyte[])data, shape),
        var t when t == typeof(byte) => OrtValue.CreateTensorValueFromMemory((byte[])data, shape),
        var t when t == typeof(bool) => OrtValue.CreateTensorValueFromMemory((bool[])data, shape),
        _ => throw new ArgumentException($"unsupported input array {data.GetType().Name}"),
    };

    static Array ReadValue(OrtValue value)
    {
        var info = value.GetTensorTypeAndShape();
        return info.ElementDataType switch
        {
            TensorElementType.Float => value.GetTensorDataAsSpan<float>().ToArray(),
            TensorElementType.Double => value.GetTensorDataAsSpan<double>().ToArray(),
            TensorElementType.Int64 => value.GetTensorDataAsSpan<long>().ToArray(),
            TensorElementType.Int32 => value.GetTensorDataAsSpan<int>().ToArray(),
            TensorElementType.UInt64 => value.GetTensorDataAsSpan<ulong>().ToArray(),
            TensorElementType.UInt32 => value.GetTensorDataAsSpan<uint>().ToArray(),
            TensorElementType.Int16 => value.GetTensorDataAsSpan<short>().ToArray(),
            TensorElementType.UInt16 => value.GetTensorDataAsSpan<ushort>().ToArray(),
            TensorElementType.Int8 => value.GetTensorDataAsSpan<sbyte>().ToArray(),
            TensorElementType.UInt8 => value.GetTensorDataAsSpan<byte>().ToArray(),
            TensorElementType.Bool => value.GetTensorDataAsSpan<bool>().ToArray(),
            _ => throw new ArgumentException($"unsupported output type {info.ElementDataType}"),
        };
    }
}
