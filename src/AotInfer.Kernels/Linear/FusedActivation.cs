using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using AotInfer.Kernels.Elementwise;

namespace AotInfer.Kernels.Linear;

/// <summary>The activations the compiler fuses into the epilogue of Conv, Gemm and MatMul.</summary>
public enum ActivationKind
{
    /// <summary>Identity.</summary>
    None,
    /// <summary>max(x, 0).</summary>
    Relu,
    /// <summary>Clamp to [<see cref="FusedActivation.Alpha"/>, <see cref="FusedActivation.Beta"/>].</summary>
    Clip,
    /// <summary>x if x ≥ 0 else <see cref="FusedActivation.Alpha"/>·x.</summary>
    LeakyRelu,
    /// <summary>1 / (1 + e^-x).</summary>
    Sigmoid,
    /// <summary>x · max(0, min(1, x/6 + 1/2)).</summary>
    HardSwish,
}

/// <summary>
/// An activation applied by a producing kernel to its output rows while they are still in cache, together with the
/// per-row bias: one pass instead of the bias pass plus a separate activation node over the whole tensor. The
/// scalar formulas are the element-wise operators' (<see cref="ReluOperator{T}"/> …), so fused and unfused
/// results are the same.
/// </summary>
/// <param name="Kind">Which activation.</param>
/// <param name="Alpha">Clip's minimum or LeakyRelu's slope.</param>
/// <param name="Beta">Clip's maximum.</param>
public readonly record struct FusedActivation(ActivationKind Kind, float Alpha = 0f, float Beta = 0f)
{
    /// <summary>
    /// True for the activations that are a clamp to [<paramref name="low"/>, <paramref name="high"/>] (None, Relu,
    /// Clip): kernels apply those with one max and one min per vector before their store, with no second pass.
    /// </summary>
    internal bool IsClamp(out float low, out float high)
    {
        low = Kind == ActivationKind.Clip ? Alpha : Kind == ActivationKind.Relu ? 0f : float.NegativeInfinity;
        high = Kind == ActivationKind.Clip ? Beta : float.PositiveInfinity;
        return Kind is ActivationKind.None or ActivationKind.Relu or ActivationKind.Clip;
    }

    /// <summary>y[i] = act(y[i] + bias).</summary>
    public void Apply(Span<float> y, float bias = 0f)
    {
        ref float r = ref MemoryMarshal.GetReference(y);
        int n = y.Length, i = 0;
        switch (Kind)
        {
            case ActivationKind.None:
            case ActivationKind.Relu:
            case ActivationKind.Clip:
                // Clamp covers all three: None is (-inf, inf), Relu is [0, inf).
                IsClamp(out float low, out float high);
                if (Kind == ActivationKind.None && bias == 0f) return;
                if (Vector512.IsHardwareAccelerated)
                {
                    Vector512<float> vb = Vector512.Create(bias), vl = Vector512.Create(low), vh = Vector512.Create(high);
                    for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
                        Vector512.StoreUnsafe(Vector512.Min(Vector512.Max(Vector512.LoadUnsafe(ref r, (nuint)i) + vb, vl), vh), ref r, (nuint)i);
                }
                if (Vector256.IsHardwareAccelerated)
                {
                    Vector256<float> vb = Vector256.Create(bias), vl = Vector256.Create(low), vh = Vector256.Create(high);
                    for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
                        Vector256.StoreUnsafe(Vector256.Min(Vector256.Max(Vector256.LoadUnsafe(ref r, (nuint)i) + vb, vl), vh), ref r, (nuint)i);
                }
                for (; i < n; i++) Unsafe.Add(ref r, i) = Math.Min(Math.Max(Unsafe.Add(ref r, i) + bias, low), high);
                return;
            case ActivationKind.LeakyRelu:
                if (Vector256.IsHardwareAccelerated)
                {
                    Vector256<float> vb = Vector256.Create(bias), va = Vector256.Create(Alpha);
                    for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
                    {
                        var x = Vector256.LoadUnsafe(ref r, (nuint)i) + vb;
                        Vector256.StoreUnsafe(Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(x, Vector256<float>.Zero), x, x * va), ref r, (nuint)i);
                    }
                }
                var leaky = new LeakyReluOperator<float>(Alpha);
                for (; i < n; i++) Unsafe.Add(ref r, i) = leaky.Invoke(Unsafe.Add(ref r, i) + bias);
                return;
            case ActivationKind.Sigmoid:
                var sigmoid = new SigmoidOperator<float>();
                for (; i < n; i++) Unsafe.Add(ref r, i) = sigmoid.Invoke(Unsafe.Add(ref r, i) + bias);
                return;
            case ActivationKind.HardSwish:
                var hardSwish = new HardSwishOperator<float>();
                for (; i < n; i++) Unsafe.Add(ref r, i) = hardSwish.Invoke(Unsafe.Add(ref r, i) + bias);
                return;
            default:
                throw new ArgumentOutOfRangeException(nameof(Kind), Kind, "unknown activation");
        }
    }

    /// <summary>
    /// y[i, j] = act(y[i, j] + bias[i·rowStride + j·columnStride]) over an m×n row-major <paramref name="y"/>; an empty
    /// bias adds nothing. Broadcast bias dimensions have stride 0.
    /// </summary>
    public void ApplyRows(Span<float> y, int m, int n, ReadOnlySpan<float> bias, int rowStride, int columnStride)
    {
        if (bias.IsEmpty || columnStride == 0)
        {
            for (int i = 0; i < m; i++) Apply(y.Slice(i * n, n), bias.IsEmpty ? 0f : bias[i * rowStride]);
            return;
        }
        for (int i = 0; i < m; i++)
        {
            var row = y.Slice(i * n, n);
            VectorAdd(row, bias.Slice(i * rowStride, n));
            Apply(row);
        }
    }

    static void VectorAdd(Span<float> target, ReadOnlySpan<float> source) => Convolution.VectorMath.Add(target, source);
}
