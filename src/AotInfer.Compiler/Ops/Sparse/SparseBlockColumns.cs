using AotInfer.Compiler.Emit;

namespace AotInfer.Compiler.Ops.Sparse;

/// <summary>
/// The columns of the values of a <c>BlockSparseMatrix</c>: block b of group g holds lanes g·h .. g·h + h − 1 (lanes
/// past N are zero padding). Decoded by <c>BlockSparseMatrix.DecodePalette</c>, which reads the group starts from
/// their own constant.
/// </summary>
internal sealed class SparseBlockColumns : ColumnLayout
{
    readonly int[] _groupStart;
    readonly int _height, _n;
    readonly string _groupStartExpression;

    /// <param name="groupStart">Where each group's blocks start (⌈N / h⌉ + 1 entries).</param>
    /// <param name="height">Outputs per block.</param>
    /// <param name="n">Columns of B.</param>
    /// <param name="groupStartExpression">The generated expression naming the group-start constant.</param>
    public SparseBlockColumns(int[] groupStart, int height, int n, string groupStartExpression)
    {
        _groupStart = groupStart;
        _height = height;
        _n = n;
        _groupStartExpression = groupStartExpression;
    }

    public override int Columns => _n;

    public override int[] ColumnOf()
    {
        var columns = new int[_groupStart[_groupStart.Length - 1] * _height];
        for (int g = 0; g + 1 < _groupStart.Length; g++)
            for (int block = _groupStart[g]; block < _groupStart[g + 1]; block++)
                for (int lane = 0; lane < _height; lane++)
                    columns[block * _height + lane] = g * _height + lane < _n ? g * _height + lane : -1;
        return columns;
    }

    public override string DecodeExpression(string base64Literal, int palettes, int entryBytes) =>
        $"{EmitContext.Kernels}.Sparse.BlockSparseMatrix.DecodePalette({base64Literal}, {_groupStartExpression}, {_height}, {_n}, {palettes}, {entryBytes})";
}
