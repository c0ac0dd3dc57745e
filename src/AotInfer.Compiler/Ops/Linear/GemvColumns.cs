using AotInfer.Compiler.Emit;

namespace AotInfer.Compiler.Ops.Linear;

/// <summary>The columns of a K×N matrix in the GEMV layout (<see cref="GemvLayout"/>), decoded by <c>GemvWeights.DecodePalette</c>.</summary>
internal sealed class GemvColumns : ColumnLayout
{
    readonly int _k, _n;

    public GemvColumns(int k, int n) { _k = k; _n = n; }

    public override int Columns => _n;

    public override int[] ColumnOf() => GemvLayout.ColumnOf(_k, _n);

    public override string DecodeExpression(string base64Literal, int palettes, int entryBytes) =>
        $"{EmitContext.Kernels}.Linear.GemvWeights.DecodePalette({base64Literal}, {_k}, {_n}, {palettes}, {entryBytes})";
}
