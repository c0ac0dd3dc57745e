namespace AotInfer.Kernels.Linear;

/// <summary>
/// A compile-time row count for the micro-kernels' short tiles: as a struct type argument its <see cref="Count"/> is a
/// constant in each specialisation, so the JIT keeps only the accumulators, loads and stores of rows below it.
/// </summary>
internal interface ITileRows
{
    /// <summary>Rows of C the tile computes.</summary>
    static abstract int Count { get; }
}

internal struct OneRow : ITileRows { public static int Count => 1; }
internal struct TwoRows : ITileRows { public static int Count => 2; }
internal struct ThreeRows : ITileRows { public static int Count => 3; }
internal struct FourRows : ITileRows { public static int Count => 4; }
internal struct FiveRows : ITileRows { public static int Count => 5; }
internal struct SixRows : ITileRows { public static int Count => 6; }
