using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Training;
using Xunit;

namespace AotInfer.Tests.Training;

/// <summary>
/// Finite-difference gradient checks. The loss is a fixed random projection of the logits, L = Σ R·y (accumulated
/// in double), so dL/dy = R; the analytic gradient of every parameter and of the input from
/// <see cref="TrainingGraph.Backward"/> is compared with the central difference (L(θ+ε) − L(θ−ε)) / 2ε at sampled
/// coordinates. The engine is float32, so ε = 1e-2 and the tolerance is 1e-2 + 2e-2·|g|; a wrong rule (a missing
/// term, a transposed operand, a wrong broadcast) is off by far more.
/// </summary>
public static class GradientCheck
{
    const float Epsilon = 1e-2f;

    /// <summary>Checks every parameter and the input of <paramref name="model"/> on one random batch.</summary>
    /// <returns>How many coordinates were compared (so a test can assert the check reached what it meant to).</returns>
    public static int Run(ModelProto model, int[] inputShape, int seed = 1, bool training = true, float[]? input = null, int samplesPerTensor = 24)
    {
        var graph = TrainingGraph.Build(model, inputGradient: true);
        graph.Training = training;
        int batch = inputShape[0];
        int[] sampleShape = inputShape[1..];
        var x = input ?? AwayFromZero(seed, inputShape.Aggregate(1, (a, b) => a * b));
        var logits = graph.Forward(x, batch, sampleShape);
        var projection = RandomValues(seed + 100, logits.Length);
        graph.Backward(projection);
        var checks = 0;
        var random = new Random(seed + 200);

        foreach (var p in graph.Parameters)
        {
            var analytic = p.Gradient.Span.ToArray();
            foreach (int i in Coordinates(random, p.Count, samplesPerTensor))
            {
                float original = p.Values.Span[i];
                p.Values.Span[i] = original + Epsilon;
                double plus = Loss(graph, x, batch, sampleShape, projection);
                p.Values.Span[i] = original - Epsilon;
                double minus = Loss(graph, x, batch, sampleShape, projection);
                p.Values.Span[i] = original;
                Compare($"parameter {p.Name}[{i}]", analytic[i], (plus - minus) / (2 * Epsilon));
                checks++;
            }
        }

        graph.Forward(x, batch, sampleShape);
        graph.Backward(projection);
        var inputGradient = graph.InputGradient?.Span.ToArray() ?? throw new InvalidOperationException("no gradient reached the input");
        foreach (int i in Coordinates(random, x.Length, samplesPerTensor))
        {
            float original = x[i];
            x[i] = original + Epsilon;
            double plus = Loss(graph, x, batch, sampleShape, projection);
            x[i] = original - Epsilon;
            double minus = Loss(graph, x, batch, sampleShape, projection);
            x[i] = original;
            Compare($"input[{i}]", inputGradient[i], (plus - minus) / (2 * Epsilon));
            checks++;
        }
        return checks;
    }

    static double Loss(TrainingGraph graph, float[] x, int batch, int[] sampleShape, float[] projection)
    {
        var y = graph.Forward(x, batch, sampleShape).Span;
        double sum = 0;
        for (int i = 0; i < y.Length; i++) sum += (double)y[i] * projection[i];
        return sum;
    }

    static void Compare(string what, double analytic, double numeric)
    {
        double tolerance = 1e-2 + 2e-2 * Math.Max(Math.Abs(analytic), Math.Abs(numeric));
        Assert.True(Math.Abs(analytic - numeric) <= tolerance, $"{what}: analytic {analytic:G6}, numeric {numeric:G6}");
    }

    static IEnumerable<int> Coordinates(Random random, int count, int samples) =>
        count <= samples ? Enumerable.Range(0, count) : Enumerable.Range(0, samples).Select(_ => random.Next(count));

    /// <summary>Random values in [-1, 1] with fixed seed.</summary>
    public static float[] RandomValues(int seed, int count, float scale = 1f)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => scale * (2 * random.NextSingle() - 1)).ToArray();
    }

    /// <summary>
    /// Distinct random values of magnitude 0.1, 0.125, 0.15, … (shuffled, random signs): every two differ by more
    /// than 2ε and none is within ε of 0, so finite differences never cross a kink of Relu/Clip or swap a window's
    /// maximum. Keep tensors small (magnitudes grow with the count).
    /// </summary>
    public static float[] AwayFromZero(int seed, int count)
    {
        var random = new Random(seed);
        var values = Enumerable.Range(0, count).Select(i => 0.1f + 0.025f * i).ToArray();
        random.Shuffle(values);
        for (int i = 0; i < count; i++) if (random.Next(2) == 0) values[i] = -values[i];
        return values;
    }
}
