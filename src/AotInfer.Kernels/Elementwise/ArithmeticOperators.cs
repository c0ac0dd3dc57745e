using System.Numerics;

namespace AotInfer.Kernels.Elementwise;

/// <summary>a + b (integers wrap, as in ONNX Runtime).</summary>
public readonly struct AddOperator<T> : IBinaryOperator<T, T> where T : INumberBase<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => a + b;
}

/// <summary>a - b.</summary>
public readonly struct SubtractOperator<T> : IBinaryOperator<T, T> where T : INumberBase<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => a - b;
}

/// <summary>a * b.</summary>
public readonly struct MultiplyOperator<T> : IBinaryOperator<T, T> where T : INumberBase<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => a * b;
}

/// <summary>a / b (integer division truncates toward zero).</summary>
public readonly struct DivideOperator<T> : IBinaryOperator<T, T> where T : INumberBase<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => a / b;
}

/// <summary>max(a, b), propagating NaN like ONNX Runtime.</summary>
public readonly struct MaxOperator<T> : IBinaryOperator<T, T> where T : INumber<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => T.IsNaN(a) || T.IsNaN(b) ? (T.IsNaN(a) ? a : b) : (a >= b ? a : b);
}

/// <summary>min(a, b), propagating NaN.</summary>
public readonly struct MinOperator<T> : IBinaryOperator<T, T> where T : INumber<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => T.IsNaN(a) || T.IsNaN(b) ? (T.IsNaN(a) ? a : b) : (a <= b ? a : b);
}

/// <summary>Integer modulo with the sign of the divisor (ONNX Mod, fmod=0).</summary>
public readonly struct FloorModOperator<T> : IBinaryOperator<T, T> where T : INumber<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b)
    {
        T r = a % b;
        return r != T.Zero && (r < T.Zero) != (b < T.Zero) ? r + b : r;
    }
}

/// <summary>Remainder with the sign of the dividend (ONNX Mod, fmod=1; C fmod).</summary>
public readonly struct TruncModOperator<T> : IBinaryOperator<T, T> where T : INumber<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => a % b;
}

/// <summary>x^y for floating point types.</summary>
public readonly struct PowOperator<T> : IBinaryOperator<T, T> where T : IPowerFunctions<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => T.Pow(a, b);
}

/// <summary>
/// x^y for integer bases and integer exponents, exact by repeated squaring (wrapping on overflow). A negative
/// exponent gives the truncated 1/x^|y|: 1 for x = 1, ±1 for x = -1, 0 otherwise.
/// </summary>
public readonly struct IntegerPowOperator<T> : IBinaryOperator<T, T> where T : IBinaryInteger<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b)
    {
        if (b < T.Zero)
        {
            if (a == T.One) return T.One;
            if (a == T.Zero - T.One) return T.IsEvenInteger(b) ? T.One : a;
            return T.Zero;
        }
        T result = T.One;
        while (b != T.Zero)
        {
            if (T.IsOddInteger(b)) result *= a;
            b >>= 1;
            if (b != T.Zero) a *= a;
        }
        return result;
    }
}

/// <summary>PRelu: x when x ≥ 0, slope·x otherwise.</summary>
public readonly struct PReluOperator<T> : IBinaryOperator<T, T> where T : INumber<T>
{
    /// <inheritdoc/>
    public T Invoke(T x, T slope) => x < T.Zero ? x * slope : x;
}

/// <summary>a / b, or 0 where b is 0 (normalising by a zero norm leaves zeros, as ONNX LpNormalization expects).</summary>
public readonly struct DivideOrZeroOperator<T> : IBinaryOperator<T, T> where T : INumberBase<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => T.IsZero(b) ? T.Zero : a / b;
}
