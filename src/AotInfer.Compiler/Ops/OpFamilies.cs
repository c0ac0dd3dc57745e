namespace AotInfer.Compiler.Ops;

/// <summary>The list of op families; each family file registers its own lowerings.</summary>
internal static partial class OpFamilies
{
    internal static void RegisterAll(OpRegistry registry)
    {
        foreach (var lowering in Elementwise.ElementwiseFamily.All()) registry.Add(lowering);
    }
}
