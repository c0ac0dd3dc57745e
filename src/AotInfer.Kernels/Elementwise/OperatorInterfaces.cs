namespace AotInfer.Kernels.Elementwise;

/// <summary>
/// An element-wise function of one argument. Operators are structs (possibly holding attributes such as alpha) so
/// that the JIT and NativeAOT specialise and inline the loop for each one.
/// </summary>
public interface IUnaryOperator<TIn, TOut>
{
    /// <summary>Computes one element.</summary>
    TOut Invoke(TIn x);
}

/// <summary>An element-wise function of two arguments (see <see cref="IUnaryOperator{TIn, TOut}"/>).</summary>
public interface IBinaryOperator<TIn, TOut>
{
    /// <summary>Computes one element.</summary>
    TOut Invoke(TIn a, TIn b);
}
