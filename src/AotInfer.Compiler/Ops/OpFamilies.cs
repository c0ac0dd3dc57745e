namespace AotInfer.Compiler.Ops;

/// <summary>The list of op families; each family file registers its own lowerings.</summary>
internal static partial class OpFamilies
{
    internal static void RegisterAll(OpRegistry registry)
    {
        // One line per family; each family lives in its own folder under Ops/.
        foreach (var lowering in Elementwise.ElementwiseFamily.All()) registry.Add(lowering);
        foreach (var lowering in Resize.ResizeFamily.All()) registry.Add(lowering);
        foreach (var lowering in Indexing.IndexingFamily.All()) registry.Add(lowering);
        foreach (var lowering in Matrix.MatrixFamily.All()) registry.Add(lowering);
    }
}
