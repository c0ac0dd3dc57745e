using System.Numerics;
using AotInfer.Kernels.Elementwise;

namespace AotInfer.Kernels.Bitwise;

/// <summary>a &amp; b (ONNX BitwiseAnd), for any integer type; driven by <see cref="Broadcast.Binary{TIn, TOut, TOp}"/>.</summary>
public readonly struct BitwiseAndOperator<T> : IBinaryOperator<T, T> where T : IBinaryInteger<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => a & b;
}

/// <summary>a | b (ONNX BitwiseOr).</summary>
public readonly struct BitwiseOrOperator<T> : IBinaryOperator<T, T> where T : IBinaryInteger<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => a | b;
}

/// <summary>a ^ b (ONNX BitwiseXor).</summary>
public readonly struct BitwiseXorOperator<T> : IBinaryOperator<T, T> where T : IBinaryInteger<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => a ^ b;
}

/// <summary>~x (ONNX BitwiseNot).</summary>
public readonly struct BitwiseNotOperator<T> : IUnaryOperator<T, T> where T : IBinaryInteger<T>
{
    /// <inheritdoc/>
    public T Invoke(T x) => ~x;
}

/// <summary>
/// a &lt;&lt; b (ONNX BitShift, direction LEFT) on unsigned integers. A shift by the bit width or more gives 0, as in
/// NumPy: C#'s own shift would take the amount modulo the width and return a instead.
/// </summary>
public readonly struct ShiftLeftOperator<T> : IBinaryOperator<T, T> where T : IBinaryInteger<T>, IUnsignedNumber<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => b >= T.CreateTruncating(a.GetByteCount() * 8) ? T.Zero : a << int.CreateTruncating(b);
}

/// <summary>a &gt;&gt; b (ONNX BitShift, direction RIGHT) on unsigned integers; a shift by the bit width or more gives 0.</summary>
public readonly struct ShiftRightOperator<T> : IBinaryOperator<T, T> where T : IBinaryInteger<T>, IUnsignedNumber<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => b >= T.CreateTruncating(a.GetByteCount() * 8) ? T.Zero : a >>> int.CreateTruncating(b);
}
