using System.Numerics;

namespace AotInfer.Kernels.Elementwise;

// Element-wise math for float, double and Half (Half computes through float, as ONNX Runtime does).

/// <summary>|x|.</summary>
public readonly struct AbsOperator<T> : IUnaryOperator<T, T> where T : INumberBase<T> { /// <inheritdoc/>
    public T Invoke(T x) => T.Abs(x); }
/// <summary>-x.</summary>
public readonly struct NegateOperator<T> : IUnaryOperator<T, T> where T : INumberBase<T> { /// <inheritdoc/>
    public T Invoke(T x) => -x; }
/// <summary>e^x.</summary>
public readonly struct ExpOperator<T> : IUnaryOperator<T, T> where T : IExponentialFunctions<T> { /// <inheritdoc/>
    public T Invoke(T x) => T.Exp(x); }
/// <summary>ln x.</summary>
public readonly struct LogOperator<T> : IUnaryOperator<T, T> where T : ILogarithmicFunctions<T> { /// <inheritdoc/>
    public T Invoke(T x) => T.Log(x); }
/// <summary>√x.</summary>
public readonly struct SqrtOperator<T> : IUnaryOperator<T, T> where T : IRootFunctions<T> { /// <inheritdoc/>
    public T Invoke(T x) => T.Sqrt(x); }
/// <summary>1/x.</summary>
public readonly struct ReciprocalOperator<T> : IUnaryOperator<T, T> where T : INumberBase<T> { /// <inheritdoc/>
    public T Invoke(T x) => T.One / x; }
/// <summary>sin x.</summary>
public readonly struct SinOperator<T> : IUnaryOperator<T, T> where T : ITrigonometricFunctions<T> { /// <inheritdoc/>
    public T Invoke(T x) => T.Sin(x); }
/// <summary>cos x.</summary>
public readonly struct CosOperator<T> : IUnaryOperator<T, T> where T : ITrigonometricFunctions<T> { /// <inheritdoc/>
    public T Invoke(T x) => T.Cos(x); }
/// <summary>tan x.</summary>
public readonly struct TanOperator<T> : IUnaryOperator<T, T> where T : ITrigonometricFunctions<T> { /// <inheritdoc/>
    public T Invoke(T x) => T.Tan(x); }
/// <summary>asin x.</summary>
public readonly struct AsinOperator<T> : IUnaryOperator<T, T> where T : ITrigonometricFunctions<T> { /// <inheritdoc/>
    public T Invoke(T x) => T.Asin(x); }
/// <summary>acos x.</summary>
public readonly struct AcosOperator<T> : IUnaryOperator<T, T> where T : ITrigonometricFunctions<T> { /// <inheritdoc/>
    public T Invoke(T x) => T.Acos(x); }
/// <summary>atan x.</summary>
public readonly struct AtanOperator<T> : IUnaryOperator<T, T> where T : ITrigonometricFunctions<T> { /// <inheritdoc/>
    public T Invoke(T x) => T.Atan(x); }
/// <summary>sinh x.</summary>
public readonly struct SinhOperator<T> : IUnaryOperator<T, T> where T : IHyperbolicFunctions<T> { /// <inheritdoc/>
    public T Invoke(T x) => T.Sinh(x); }
/// <summary>cosh x.</summary>
public readonly struct CoshOperator<T> : IUnaryOperator<T, T> where T : IHyperbolicFunctions<T> { /// <inheritdoc/>
    public T Invoke(T x) => T.Cosh(x); }
/// <summary>tanh x.</summary>
public readonly struct TanhOperator<T> : IUnaryOperator<T, T> where T : IHyperbolicFunctions<T> { /// <inheritdoc/>
    public T Invoke(T x) => T.Tanh(x); }
/// <summary>asinh x.</summary>
public readonly struct AsinhOperator<T> : IUnaryOperator<T, T> where T : IHyperbolicFunctions<T> { /// <inheritdoc/>
    public T Invoke(T x) => T.Asinh(x); }
/// <summary>acosh x.</summary>
public readonly struct AcoshOperator<T> : IUnaryOperator<T, T> where T : IHyperbolicFunctions<T> { /// <inheritdoc/>
    public T Invoke(T x) => T.Acosh(x); }
/// <summary>atanh x.</summary>
public readonly struct AtanhOperator<T> : IUnaryOperator<T, T> where T : IHyperbolicFunctions<T> { /// <inheritdoc/>
    public T Invoke(T x) => T.Atanh(x); }
/// <summary>⌊x⌋.</summary>
public readonly struct FloorOperator<T> : IUnaryOperator<T, T> where T : IFloatingPoint<T> { /// <inheritdoc/>
    public T Invoke(T x) => T.Floor(x); }
/// <summary>⌈x⌉.</summary>
public readonly struct CeilOperator<T> : IUnaryOperator<T, T> where T : IFloatingPoint<T> { /// <inheritdoc/>
    public T Invoke(T x) => T.Ceiling(x); }
/// <summary>Round half to even.</summary>
public readonly struct RoundOperator<T> : IUnaryOperator<T, T> where T : IFloatingPoint<T> { /// <inheritdoc/>
    public T Invoke(T x) => T.Round(x, System.MidpointRounding.ToEven); }
/// <summary>-1, 0 or 1 (NaN stays NaN).</summary>
public readonly struct SignOperator<T> : IUnaryOperator<T, T> where T : INumber<T> { /// <inheritdoc/>
    public T Invoke(T x) => T.IsNaN(x) ? x : x > T.Zero ? T.One : x < T.Zero ? -T.One : T.Zero; }
/// <summary>The error function.</summary>
public readonly struct ErfOperator<T> : IUnaryOperator<T, T> where T : IFloatingPointIeee754<T> { /// <inheritdoc/>
    public T Invoke(T x) => T.CreateChecked(SpecialFunctions.Erf(double.CreateChecked(x))); }
/// <summary>True for NaN.</summary>
public readonly struct IsNaNOperator<T> : IUnaryOperator<T, bool> where T : INumberBase<T> { /// <inheritdoc/>
    public bool Invoke(T x) => T.IsNaN(x); }
/// <summary>True for the infinities selected by the attributes.</summary>
public readonly struct IsInfOperator<T>(bool detectNegative, bool detectPositive) : IUnaryOperator<T, bool> where T : INumberBase<T> { /// <inheritdoc/>
    public bool Invoke(T x) => detectPositive && T.IsPositiveInfinity(x) || detectNegative && T.IsNegativeInfinity(x); }
