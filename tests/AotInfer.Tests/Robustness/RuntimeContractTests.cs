using System;
using System.Linq;
using AotInfer.Kernels;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Robustness;

/// <summary>The generated Run checks its arguments, and separate instances run safely in parallel.</summary>
public class RuntimeContractTests
{
    static byte[] DenseModel() => new OnnxModelBuilder()
        .Input("x", DataType.Float, 4, 16)
        .Initializer("w", Differential.RandomFloats(7, 16 * 32), 16, 32)
        .Initializer("b", Differential.RandomFloats(8, 32), 32)
        .Node("MatMul", new[] { "x", "w" }, new[] { "h" })
        .Node("Add", new[] { "h", "b" }, new[] { "z" })
        .Node("Relu", new[] { "z" }, new[] { "r" })
        .Node("Softmax", new[] { "r" }, new[] { "y" }, ("axis", 1L))
        .Output("y", DataType.Float).ToBytes();

    [Fact]
    public void WrongInputLengthNamesTheInputAndItsShape()
    {
        var model = Differential.CompileModel(DenseModel());
        var error = Assert.Throws<ArgumentException>(() => model.Run(new Array[] { new float[63] }, new Array[] { new float[128] }));
        Assert.Contains("input 'x'", error.Message);
        Assert.Contains("64 elements", error.Message);
        Assert.Contains("[4,16]", error.Message);
        Assert.Contains("has 63", error.Message);
    }

    [Fact]
    public void WrongOutputLengthNamesTheOutput()
    {
        var model = Differential.CompileModel(DenseModel());
        var error = Assert.Throws<ArgumentException>(() => model.Run(new Array[] { new float[64] }, new Array[] { new float[127] }));
        Assert.Contains("'y'", error.Message);
        Assert.Contains("[4,32]", error.Message);
    }

    [Fact]
    public void WrongArrayCountIsAnArgumentException()
    {
        var model = Differential.CompileModel(DenseModel());
        var error = Assert.ThrowsAny<ArgumentException>(() => model.Run(Array.Empty<Array>(), new Array[] { new float[128] }));
        Assert.Contains("takes 1 inputs but 0", error.Message);
    }

    [Fact]
    public void WrongElementTypeNamesTheInputAndItsShape()
    {
        var model = Differential.CompileModel(DenseModel());
        var error = Assert.Throws<ArgumentException>(() => model.Run(new Array[] { new double[64] }, new Array[] { new float[128] }));
        Assert.Contains("input 'x' must be a Single[]", error.Message);
        Assert.Contains("[4,16]", error.Message);
        Assert.Throws<ArgumentNullException>(() => model.Run(new Array[] { null! }, new Array[] { new float[128] }));
    }

    [Fact]
    public void ManyThreadsWithManyInstancesGiveTheSingleThreadedResults()
    {
        const int threads = 8, instancesPerThread = 3, runs = 40;
        var bytes = DenseModel();
        var reference = Differential.CompileModel(bytes);
        var type = reference.GetType();
        float[] Input(int i) => Differential.RandomFloats(1000 + i, 64, -3, 3);
        var expected = Enumerable.Range(0, runs).Select(i =>
        {
            var y = new float[128];
            reference.Run(new Array[] { Input(i) }, new Array[] { y });
            return y;
        }).ToArray();

        var mismatches = new System.Collections.Concurrent.ConcurrentBag<string>();
        // Real threads started together (not the thread pool, which would run them one after another on few cores).
        using var start = new System.Threading.Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(t => new System.Threading.Thread(() =>
        {
            start.SignalAndWait();
            var instances = Enumerable.Range(0, instancesPerThread).Select(_ => (IGeneratedModel)Activator.CreateInstance(type)!).ToArray();
            for (int r = 0; r < runs; r++)
            {
                int i = (r + t) % runs;
                var model = instances[(r + t) % instancesPerThread];
                var y = new float[128];
                model.Run(new Array[] { Input(i) }, new Array[] { y });
                if (!y.SequenceEqual(expected[i])) mismatches.Add($"thread {t} run {r} input {i}");
            }
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        Assert.Empty(mismatches);
    }
}
