using System;

namespace AotInfer.Optimize.Training.Ops;

/// <summary>
/// An element-wise activation y = f(x) and its derivative, written as f'(x, y) so that Sigmoid and Tanh can use
/// the output they already computed.
/// </summary>
/// <param name="Name">The ONNX op type.</param>
/// <param name="Function">f(x).</param>
/// <param name="Derivative">f'(x) given x and y = f(x).</param>
public sealed record Activation(string Name, Func<float, float> Function, Func<float, float, float> Derivative)
{
    /// <summary>max(x, 0); the derivative at 0 is taken as 0 (as PyTorch does).</summary>
    public static Activation Relu() => new("Relu", x => x > 0 ? x : 0, (x, y) => x > 0 ? 1 : 0);

    /// <summary>x for x ≥ 0, αx otherwise.</summary>
    public static Activation LeakyRelu(float alpha) => new("LeakyRelu", x => x >= 0 ? x : alpha * x, (x, y) => x >= 0 ? 1 : alpha);

    /// <summary>1 / (1 + e^-x); f' = y(1 - y).</summary>
    public static Activation Sigmoid() => new("Sigmoid", x => 1f / (1f + MathF.Exp(-x)), (x, y) => y * (1 - y));

    /// <summary>tanh x; f' = 1 - y².</summary>
    public static Activation Tanh() => new("Tanh", MathF.Tanh, (x, y) => 1 - y * y);

    /// <summary>x · clamp(x + 3, 0, 6) / 6; f' = (2x + 3) / 6 inside (-3, 3), 0 below, 1 above.</summary>
    public static Activation HardSwish() => new("HardSwish",
        x => x * Math.Clamp(x + 3, 0f, 6f) / 6f,
        (x, y) => x <= -3 ? 0 : x >= 3 ? 1 : (2 * x + 3) / 6f);

    /// <summary>clamp(x, min, max); the gradient passes only strictly inside the bounds.</summary>
    public static Activation Clip(float min, float max) => new("Clip", x => Math.Clamp(x, min, max), (x, y) => x > min && x < max ? 1 : 0);
}
