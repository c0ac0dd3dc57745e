namespace AotInfer.Compiler.Ops.Quantization;

/// <summary>
/// The packed-operand sizes of the int8 GEMM (<c>AotInfer.Kernels.Quantization.QuantizedMatrixMultiply</c>), mirrored
/// here because the compiler cannot reference the kernel library; the lowerings size scratch with them.
/// </summary>
internal static class QuantizedPacking
{
    /// <summary>Columns per packed B panel (<c>QuantizedMatrixMultiply.PanelColumns</c>).</summary>
    public const int PanelColumns = 16;

    /// <summary>int32 words of packed A: one per row and k pair.</summary>
    public static int PackedALength(int m, int k) => m * ((k + 1) / 2);

    /// <summary>int16 elements of packed B: panels of 16 columns, two values per k pair.</summary>
    public static int PackedBLength(int k, int n) => (n + PanelColumns - 1) / PanelColumns * PanelColumns * ((k + 1) / 2) * 2;
}
