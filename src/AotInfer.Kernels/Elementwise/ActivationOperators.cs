using System.Numerics;

namespace AotInfer.Kernels.Elementwise;

/// <summary>max(x, 0).</summary>
public readonly struct ReluOperator<T> : IUnaryOperator<T, T> where T : INumber<T> { /// <inheritdoc/>
    public T Invoke(T x) => x > T.Zero ? x : (T.IsNaN(x) ? x : T.Zero); }
/// <summary>Clamp to [min, max].</summary>
public readonly struct ClipOperator<T>(T min, T max) : IUnaryOperator<T, T> where T : INumber<T> { /// <inheritdoc/>
    public T Invoke(T x) => T.IsNaN(x) ? x : x < min ? min : x > max ? max : x; }
/// <summary>1 / (1 + e^-x), computed without overflow.</summary>
public readonly struct SigmoidOperator<T> : IUnaryOperator<T, T> where T : IFloatingPointIeee754<T> { /// <inheritdoc/>
    public T Invoke(T x) => x >= T.Zero ? T.One / (T.One + T.Exp(-x)) : T.Exp(x) / (T.One + T.Exp(x)); }
/// <summary>ln(1 + e^x).</summary>
public readonly struct SoftplusOperator<T> : IUnaryOperator<T, T> where T : IFloatingPointIeee754<T> { /// <inheritdoc/>
    public T Invoke(T x) => x > T.Zero ? x + T.Log(T.One + T.Exp(-x)) : T.Log(T.One + T.Exp(x)); }
/// <summary>x / (1 + |x|).</summary>
public readonly struct SoftsignOperator<T> : IUnaryOperator<T, T> where T : IFloatingPointIeee754<T> { /// <inheritdoc/>
    public T Invoke(T x) => x / (T.One + T.Abs(x)); }
/// <summary>x if x ≥ 0 else α(e^x − 1).</summary>
public readonly struct EluOperator<T>(T alpha) : IUnaryOperator<T, T> where T : IFloatingPointIeee754<T> { /// <inheritdoc/>
    public T Invoke(T x) => x >= T.Zero ? x : alpha * (T.Exp(x) - T.One); }
/// <summary>γ·(x if x &gt; 0 else α(e^x − 1)).</summary>
public readonly struct SeluOperator<T>(T alpha, T gamma) : IUnaryOperator<T, T> where T : IFloatingPointIeee754<T> { /// <inheritdoc/>
    public T Invoke(T x) => x > T.Zero ? gamma * x : gamma * (alpha * T.Exp(x) - alpha); }
/// <summary>x if x ≥ 0 else αx.</summary>
public readonly struct LeakyReluOperator<T>(T alpha) : IUnaryOperator<T, T> where T : INumber<T> { /// <inheritdoc/>
    public T Invoke(T x) => x >= T.Zero ? x : alpha * x; }
/// <summary>max(0, min(1, αx + β)).</summary>
public readonly struct HardSigmoidOperator<T>(T alpha, T beta) : IUnaryOperator<T, T> where T : IFloatingPointIeee754<T> { /// <inheritdoc/>
    public T Invoke(T x) => T.Max(T.Zero, T.Min(T.One, alpha * x + beta)); }
/// <summary>x · max(0, min(1, x/6 + 1/2)).</summary>
public readonly struct HardSwishOperator<T> : IUnaryOperator<T, T> where T : IFloatingPointIeee754<T> { /// <inheritdoc/>
    public T Invoke(T x) => x * T.Max(T.Zero, T.Min(T.One, x / T.CreateChecked(6) + T.CreateChecked(0.5))); }
/// <summary>x if x &gt; α else 0.</summary>
public readonly struct ThresholdedReluOperator<T>(T alpha) : IUnaryOperator<T, T> where T : IFloatingPointIeee754<T> { /// <inheritdoc/>
    public T Invoke(T x) => x > alpha ? x : T.Zero; }
/// <summary>max(0, x) + min(0, α(e^(x/α) − 1)).</summary>
public readonly struct CeluOperator<T>(T alpha) : IUnaryOperator<T, T> where T : IFloatingPointIeee754<T> { /// <inheritdoc/>
    public T Invoke(T x) => T.Max(T.Zero, x) + T.Min(T.Zero, alpha * (T.Exp(x / alpha) - T.One)); }
/// <summary>x · tanh(softplus(x)).</summary>
public readonly struct MishOperator<T> : IUnaryOperator<T, T> where T : IFloatingPointIeee754<T> { /// <inheritdoc/>
    public T Invoke(T x) => x * T.Tanh(new SoftplusOperator<T>().Invoke(x)); }
/// <summary>x · sigmoid(αx).</summary>
public readonly struct SwishOperator<T>(T alpha) : IUnaryOperator<T, T> where T : IFloatingPointIeee754<T> { /// <inheritdoc/>
    public T Invoke(T x) => x * new SigmoidOperator<T>().Invoke(alpha * x); }
/// <summary>Exact GELU: x/2 · erfc(−x/√2), computed in double.</summary>
public readonly struct GeluOperator<T> : IUnaryOperator<T, T> where T : IFloatingPointIeee754<T> { /// <inheritdoc/>
    public T Invoke(T x) { double d = double.CreateChecked(x); return T.CreateChecked(0.5 * d * SpecialFunctions.Erfc(-d / System.Math.Sqrt(2))); } }
/// <summary>tanh-approximated GELU.</summary>
public readonly struct GeluTanhOperator<T> : IUnaryOperator<T, T> where T : IFloatingPointIeee754<T> { /// <inheritdoc/>
    public T Invoke(T x) { double d = double.CreateChecked(x); return T.CreateChecked(0.5 * d * (1 + System.Math.Tanh(System.Math.Sqrt(2 / System.Math.PI) * (d + 0.044715 * d * d * d)))); } }
/// <summary>x − bias if x &gt; λ, x + bias if x &lt; −λ, else 0.</summary>
public readonly struct ShrinkOperator<T>(T bias, T lambda) : IUnaryOperator<T, T> where T : INumber<T> { /// <inheritdoc/>
    public T Invoke(T x) => x < -lambda ? x + bias : x > lambda ? x - bias : T.Zero; }
