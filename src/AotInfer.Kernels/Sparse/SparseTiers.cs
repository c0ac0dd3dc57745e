using System.Runtime.Intrinsics.X86;
using AotInfer.Kernels.Linear;

namespace AotInfer.Kernels.Sparse;

/// <summary>
/// The instruction-set tiers the sparse kernels have: AVX-512, AVX2 + FMA and portable scalar code (their 128-bit
/// requests run scalar). Each kernel keeps its own current tier so tests can force one kernel at a time.
/// </summary>
internal static class SparseTiers
{
    /// <summary>The best tier this CPU supports.</summary>
    public static GemmTier Best { get; } =
        Avx512F.IsSupported ? GemmTier.Avx512 : Avx2.IsSupported && Fma.IsSupported ? GemmTier.Fma256 : GemmTier.Scalar;

    /// <summary>The best tier the sparse kernels have at or below <paramref name="requested"/> on this CPU.</summary>
    public static GemmTier Supported(GemmTier requested) =>
        requested >= GemmTier.Avx512 && Best >= GemmTier.Avx512 ? GemmTier.Avx512
        : requested >= GemmTier.Fma256 && Best >= GemmTier.Fma256 ? GemmTier.Fma256 : GemmTier.Scalar;
}
