using System;
using System.Linq;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Compiler;

/// <summary>
/// <c>CompileOptions.Threads</c>: a model compiled for several threads gives exactly the outputs of the single-threaded
/// build (the work is split at boundaries that do not change any sum), and both agree with ONNX Runtime.
/// </summary>
public class ThreadedModelTests
{
    /// <summary>A batch-1 MLP (two GEMVs) and a convolution big enough to be split.</summary>
    static byte[] Model() => new OnnxModelBuilder()
        .Input("x", DataType.Float, 1, 512)
        .Input("image", DataType.Float, 1, 8, 24, 24)
        .Initializer("w1", Differential.RandomFloats(1, 1024 * 512), 1024, 512)
        .Initializer("b1", Differential.RandomFloats(2, 1024), 1024)
        .Initializer("w2", Differential.RandomFloats(3, 1024 * 200), 1024, 200)
        .Initializer("cw", Differential.RandomFloats(4, 40 * 8 * 3 * 3), 40, 8, 3, 3)
        .Initializer("cb", Differential.RandomFloats(5, 40), 40)
        .Node("Gemm", new[] { "x", "w1", "b1" }, new[] { "h" }, ("transB", 1L))
        .Node("Relu", new[] { "h" }, new[] { "hr" })
        .Node("MatMul", new[] { "hr", "w2" }, new[] { "y" })
        .Node("Conv", new[] { "image", "cw", "cb" }, new[] { "c" }, ("pads", new long[] { 1, 1, 1, 1 }))
        .Node("Relu", new[] { "c" }, new[] { "z" })
        .Output("y", DataType.Float)
        .Output("z", DataType.Float)
        .ToBytes();

    static Array[] Run(byte[] model, int threads, float[] x, float[] image)
    {
        var compiled = Differential.CompileModel(model, configure: o => o.Threads = threads);
        var outputs = compiled.Info.Outputs.Select(o => (Array)new float[o.Length]).ToArray();
        compiled.Run(new Array[] { x, image }, outputs);
        return outputs;
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(0)]
    public void ThreadedOutputEqualsSingleThreaded(int threads)
    {
        byte[] model = Model();
        float[] x = Differential.RandomFloats(10, 512), image = Differential.RandomFloats(11, 8 * 24 * 24);
        var single = Run(model, 1, x, image);
        var threaded = Run(model, threads, x, image);
        for (int o = 0; o < single.Length; o++) Assert.Equal((float[])single[o], (float[])threaded[o]);
    }

    [Fact]
    public void ThreadedModelAgreesWithOnnxRuntime()
    {
        byte[] model = Model();
        float[] x = Differential.RandomFloats(12, 512), image = Differential.RandomFloats(13, 8 * 24 * 24);
        var expected = Differential.RunOnnxRuntime(model, (new[] { 1, 512 }, x), (new[] { 1, 8, 24, 24 }, image));
        var actual = Run(model, 4, x, image);
        var comparer = new AotInfer.Cli.Check.OutputComparer(1e-4, 1e-4, 0);
        for (int o = 0; o < expected.Length; o++)
        {
            string? problem = comparer.Compare(actual[o], expected[o], $"output {o}");
            Assert.True(problem is null, problem);
        }
    }

    [Fact]
    public void ThreadedSourceUsesTheSharedPoolAndDefaultDoesNot()
    {
        var threaded = AotInfer.Compiler.ModelCompiler.Compile(Model(), new AotInfer.Compiler.CompileOptions { Threads = 4 });
        Assert.Contains("WorkerPool.Shared(4)", threaded.Source);
        Assert.Contains("WorkerPool.Exit(workerPoolBefore)", threaded.Source);
        var single = AotInfer.Compiler.ModelCompiler.Compile(Model(), new AotInfer.Compiler.CompileOptions());
        Assert.DoesNotContain("WorkerPool", single.Source);
    }
}
