using System;
using AotInfer.Kernels.Elementwise;
using AotInfer.Kernels.Linear;
using Xunit;

namespace AotInfer.Tests.Kernels;

/// <summary>The fused epilogue must equal bias-then-activation with the element-wise operators, at every length.</summary>
public class FusedActivationTests
{
    [Theory]
    [InlineData(ActivationKind.None, 0f, 0f)]
    [InlineData(ActivationKind.Relu, 0f, 0f)]
    [InlineData(ActivationKind.Clip, -0.25f, 0.5f)]
    [InlineData(ActivationKind.LeakyRelu, 0.1f, 0f)]
    [InlineData(ActivationKind.Sigmoid, 0f, 0f)]
    [InlineData(ActivationKind.HardSwish, 0f, 0f)]
    public void MatchesBiasThenActivationAtEveryLength(ActivationKind kind, float alpha, float beta)
    {
        var random = new Random(42);
        var activation = new FusedActivation(kind, alpha, beta);
        for (int n = 0; n <= 70; n++)
        {
            var y = new float[n];
            for (int i = 0; i < n; i++) y[i] = (float)(random.NextDouble() * 8 - 4);
            float bias = (float)(random.NextDouble() - 0.5);
            var expected = new float[n];
            for (int i = 0; i < n; i++) expected[i] = Reference(kind, alpha, beta, y[i] + bias);
            activation.Apply(y, bias);
            for (int i = 0; i < n; i++) Assert.True(Math.Abs(expected[i] - y[i]) <= 1e-6f, $"{kind} n={n} i={i}: {y[i]} != {expected[i]}");
        }
    }

    [Fact]
    public void ApplyRowsAddsAColumnBias()
    {
        var y = new float[] { 1, -2, 3, -4, 5, -6 };
        new FusedActivation(ActivationKind.Relu).ApplyRows(y, 2, 3, new float[] { 1, 1, -10 }, 0, 1);
        Assert.Equal(new float[] { 2, 0, 0, 0, 6, 0 }, y);
    }

    internal static float Reference(ActivationKind kind, float alpha, float beta, float x) => kind switch
    {
        ActivationKind.None => x,
        ActivationKind.Relu => new ReluOperator<float>().Invoke(x),
        ActivationKind.Clip => new ClipOperator<float>(alpha, beta).Invoke(x),
        ActivationKind.LeakyRelu => new LeakyReluOperator<float>(alpha).Invoke(x),
        ActivationKind.Sigmoid => new SigmoidOperator<float>().Invoke(x),
        ActivationKind.HardSwish => new HardSwishOperator<float>().Invoke(x),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}
