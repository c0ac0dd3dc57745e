using System.Globalization;
using AotInfer.Compiler.Emit;
using AotInfer.Compiler.IR;

namespace AotInfer.Compiler.Passes;

/// <summary>
/// An activation fused into the node that produces its input (Conv, Gemm, MatMul); stored in
/// <c>node.Annotations[FusedEpilogue.Key]</c> by <see cref="ActivationFusion"/> and read by the lowerings, which pass it
/// to the kernels as a <c>FusedActivation</c> applied together with the bias.
/// </summary>
/// <param name="Kind">The kernel's <c>ActivationKind</c> member name: Relu, Clip, LeakyRelu, Sigmoid, HardSwish.</param>
/// <param name="Alpha">Clip's minimum or LeakyRelu's slope.</param>
/// <param name="Beta">Clip's maximum.</param>
/// <param name="Source">The node it replaced, for comments.</param>
public sealed record FusedEpilogue(string Kind, float Alpha, float Beta, string Source)
{
    /// <summary>The annotation key.</summary>
    public const string Key = "fused activation";

    /// <summary>The annotation key of a bias folded into a MatMul or Conv.</summary>
    public const string BiasKey = "fused bias";

    /// <summary>The annotation key of a residual Add fused into a Conv (<see cref="ResidualFusion"/>).</summary>
    public const string ResidualKey = "fused residual";

    /// <summary>The annotation key of a 2×2 stride-2 MaxPool fused into a Conv (<see cref="MaxPoolFusion"/>).</summary>
    public const string PoolKey = "fused pool";

    /// <summary>The annotation key of a BatchNormalization folded into the weights.</summary>
    public const string BatchNormKey = "folded";

    /// <summary>The fused activation of <paramref name="node"/>, or null.</summary>
    public static FusedEpilogue? Of(Node node) => node.Annotations.TryGetValue(Key, out var v) ? v as FusedEpilogue : null;

    /// <summary>The C# expression of the kernel's <c>FusedActivation</c> value.</summary>
    public string Expression() =>
        $"new {EmitContext.Kernels}.Linear.FusedActivation({EmitContext.Kernels}.Linear.ActivationKind.{Kind}, {Literals.Float(Alpha)}, {Literals.Float(Beta)})";

    /// <summary>For comments and <c>inspect</c>: <c>Clip(0, 6) from Clip 'relu6'</c>.</summary>
    public override string ToString() => Kind switch
    {
        "Clip" => $"Clip({Format(Alpha)}, {Format(Beta)}) from {Source}",
        "LeakyRelu" => $"LeakyRelu({Format(Alpha)}) from {Source}",
        _ => $"{Kind} from {Source}",
    };

    static string Format(float v) => v.ToString("R", CultureInfo.InvariantCulture);
}
