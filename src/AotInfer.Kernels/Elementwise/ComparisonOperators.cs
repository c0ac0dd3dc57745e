using System.Numerics;

namespace AotInfer.Kernels.Elementwise;

/// <summary>a == b.</summary>
public readonly struct EqualOperator<T> : IBinaryOperator<T, bool> where T : IEqualityOperators<T, T, bool>
{
    /// <inheritdoc/>
    public bool Invoke(T a, T b) => a == b;
}

/// <summary>a &lt; b.</summary>
public readonly struct LessOperator<T> : IBinaryOperator<T, bool> where T : IComparisonOperators<T, T, bool>
{
    /// <inheritdoc/>
    public bool Invoke(T a, T b) => a < b;
}

/// <summary>a &lt;= b.</summary>
public readonly struct LessOrEqualOperator<T> : IBinaryOperator<T, bool> where T : IComparisonOperators<T, T, bool>
{
    /// <inheritdoc/>
    public bool Invoke(T a, T b) => a <= b;
}

/// <summary>a &gt; b.</summary>
public readonly struct GreaterOperator<T> : IBinaryOperator<T, bool> where T : IComparisonOperators<T, T, bool>
{
    /// <inheritdoc/>
    public bool Invoke(T a, T b) => a > b;
}

/// <summary>a &gt;= b.</summary>
public readonly struct GreaterOrEqualOperator<T> : IBinaryOperator<T, bool> where T : IComparisonOperators<T, T, bool>
{
    /// <inheritdoc/>
    public bool Invoke(T a, T b) => a >= b;
}

/// <summary>Logical and.</summary>
public readonly struct AndOperator : IBinaryOperator<bool, bool>
{
    /// <inheritdoc/>
    public bool Invoke(bool a, bool b) => a & b;
}

/// <summary>Logical or.</summary>
public readonly struct OrOperator : IBinaryOperator<bool, bool>
{
    /// <inheritdoc/>
    public bool Invoke(bool a, bool b) => a | b;
}

/// <summary>Logical exclusive or.</summary>
public readonly struct XorOperator : IBinaryOperator<bool, bool>
{
    /// <inheritdoc/>
    public bool Invoke(bool a, bool b) => a ^ b;
}

/// <summary>Logical not.</summary>
public readonly struct NotOperator : IUnaryOperator<bool, bool>
{
    /// <inheritdoc/>
    public bool Invoke(bool x) => !x;
}
