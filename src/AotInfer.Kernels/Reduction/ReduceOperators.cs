using System.Numerics;
using System.Runtime.Intrinsics;

namespace AotInfer.Kernels.Reduction;

/// <summary>
/// A reduction as a monoid: every element is first mapped (x, x², |x|), then combined with an associative
/// operation starting from <see cref="Identity"/>. Scalar and vector overloads let the driver in
/// <see cref="Reduce"/> process whole vectors and finish with a scalar tail.
/// </summary>
public interface IReduceOperator<T>
{
    /// <summary>The neutral element (0 for sums, 1 for products, −∞ / the type minimum for Max).</summary>
    T Identity { get; }

    /// <summary>Maps one element before it is combined.</summary>
    T Map(T x);

    /// <summary>Maps a vector of elements.</summary>
    Vector256<T> Map(Vector256<T> x);

    /// <summary>Maps a vector of elements.</summary>
    Vector512<T> Map(Vector512<T> x);

    /// <summary>Combines two partial results.</summary>
    T Combine(T a, T b);

    /// <summary>Combines two vectors of partial results lane by lane.</summary>
    Vector256<T> Combine(Vector256<T> a, Vector256<T> b);

    /// <summary>Combines two vectors of partial results lane by lane.</summary>
    Vector512<T> Combine(Vector512<T> a, Vector512<T> b);
}

/// <summary>Σx.</summary>
public readonly struct ReduceSumOperator<T> : IReduceOperator<T> where T : INumber<T>
{
    /// <inheritdoc/>
    public T Identity => T.Zero;
    /// <inheritdoc/>
    public T Map(T x) => x;
    /// <inheritdoc/>
    public Vector256<T> Map(Vector256<T> x) => x;
    /// <inheritdoc/>
    public Vector512<T> Map(Vector512<T> x) => x;
    /// <inheritdoc/>
    public T Combine(T a, T b) => a + b;
    /// <inheritdoc/>
    public Vector256<T> Combine(Vector256<T> a, Vector256<T> b) => a + b;
    /// <inheritdoc/>
    public Vector512<T> Combine(Vector512<T> a, Vector512<T> b) => a + b;
}

/// <summary>Σx².</summary>
public readonly struct ReduceSumSquareOperator<T> : IReduceOperator<T> where T : INumber<T>
{
    /// <inheritdoc/>
    public T Identity => T.Zero;
    /// <inheritdoc/>
    public T Map(T x) => x * x;
    /// <inheritdoc/>
    public Vector256<T> Map(Vector256<T> x) => x * x;
    /// <inheritdoc/>
    public Vector512<T> Map(Vector512<T> x) => x * x;
    /// <inheritdoc/>
    public T Combine(T a, T b) => a + b;
    /// <inheritdoc/>
    public Vector256<T> Combine(Vector256<T> a, Vector256<T> b) => a + b;
    /// <inheritdoc/>
    public Vector512<T> Combine(Vector512<T> a, Vector512<T> b) => a + b;
}

/// <summary>Σ|x|.</summary>
public readonly struct ReduceSumAbsOperator<T> : IReduceOperator<T> where T : INumber<T>
{
    /// <inheritdoc/>
    public T Identity => T.Zero;
    /// <inheritdoc/>
    public T Map(T x) => T.Abs(x);
    /// <inheritdoc/>
    public Vector256<T> Map(Vector256<T> x) => Vector256.Abs(x);
    /// <inheritdoc/>
    public Vector512<T> Map(Vector512<T> x) => Vector512.Abs(x);
    /// <inheritdoc/>
    public T Combine(T a, T b) => a + b;
    /// <inheritdoc/>
    public Vector256<T> Combine(Vector256<T> a, Vector256<T> b) => a + b;
    /// <inheritdoc/>
    public Vector512<T> Combine(Vector512<T> a, Vector512<T> b) => a + b;
}

/// <summary>Πx.</summary>
public readonly struct ReduceProductOperator<T> : IReduceOperator<T> where T : INumber<T>
{
    /// <inheritdoc/>
    public T Identity => T.One;
    /// <inheritdoc/>
    public T Map(T x) => x;
    /// <inheritdoc/>
    public Vector256<T> Map(Vector256<T> x) => x;
    /// <inheritdoc/>
    public Vector512<T> Map(Vector512<T> x) => x;
    /// <inheritdoc/>
    public T Combine(T a, T b) => a * b;
    /// <inheritdoc/>
    public Vector256<T> Combine(Vector256<T> a, Vector256<T> b) => a * b;
    /// <inheritdoc/>
    public Vector512<T> Combine(Vector512<T> a, Vector512<T> b) => a * b;
}

/// <summary>max x; −∞ (or the type minimum) over an empty set; NaN propagates.</summary>
public readonly struct ReduceMaxOperator<T> : IReduceOperator<T> where T : INumber<T>
{
    /// <inheritdoc/>
    public T Identity => T.CreateSaturating(double.NegativeInfinity);
    /// <inheritdoc/>
    public T Map(T x) => x;
    /// <inheritdoc/>
    public Vector256<T> Map(Vector256<T> x) => x;
    /// <inheritdoc/>
    public Vector512<T> Map(Vector512<T> x) => x;
    /// <inheritdoc/>
    public T Combine(T a, T b) => T.Max(a, b);
    /// <inheritdoc/>
    public Vector256<T> Combine(Vector256<T> a, Vector256<T> b) => Vector256.Max(a, b);
    /// <inheritdoc/>
    public Vector512<T> Combine(Vector512<T> a, Vector512<T> b) => Vector512.Max(a, b);
}

/// <summary>min x; +∞ (or the type maximum) over an empty set; NaN propagates.</summary>
public readonly struct ReduceMinOperator<T> : IReduceOperator<T> where T : INumber<T>
{
    /// <inheritdoc/>
    public T Identity => T.CreateSaturating(double.PositiveInfinity);
    /// <inheritdoc/>
    public T Map(T x) => x;
    /// <inheritdoc/>
    public Vector256<T> Map(Vector256<T> x) => x;
    /// <inheritdoc/>
    public Vector512<T> Map(Vector512<T> x) => x;
    /// <inheritdoc/>
    public T Combine(T a, T b) => T.Min(a, b);
    /// <inheritdoc/>
    public Vector256<T> Combine(Vector256<T> a, Vector256<T> b) => Vector256.Min(a, b);
    /// <inheritdoc/>
    public Vector512<T> Combine(Vector512<T> a, Vector512<T> b) => Vector512.Min(a, b);
}
