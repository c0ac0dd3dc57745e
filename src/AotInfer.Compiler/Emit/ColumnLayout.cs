namespace AotInfer.Compiler.Emit;

/// <summary>
/// How the elements of a weight constant stored in a kernel's own layout map to the columns (output neurons) of the
/// weight matrix. In such layouts one neuron's weights are not contiguous, so per-neuron clustering needs this map to
/// keep one palette per column (<see cref="PaletteEncoder.TryEncodeColumns"/>), and the kernel's decoder, which knows
/// the layout, rebuilds it from the palettes and indices.
/// </summary>
public abstract class ColumnLayout
{
    /// <summary>Columns of the weight matrix (palettes when there is one per column).</summary>
    public abstract int Columns { get; }

    /// <summary>The column of each element of the constant, or -1 for padding (which must be +0).</summary>
    public abstract int[] ColumnOf();

    /// <summary>
    /// The C# expression that decodes <paramref name="base64Literal"/> (palettes, then 4-bit indices of the non-padding
    /// elements in storage order) with <paramref name="palettes"/> palettes (1 or <see cref="Columns"/>) of
    /// <paramref name="entryBytes"/>-byte entries into the constant.
    /// </summary>
    public abstract string DecodeExpression(string base64Literal, int palettes, int entryBytes);
}
