using System.Collections.Generic;

namespace AotInfer.Compiler.Ops.Bitwise;

/// <summary>Registers the bitwise integer ops: BitwiseAnd/Or/Xor/Not and BitShift.</summary>
public static class BitwiseFamily
{
    /// <summary>All lowerings of the family.</summary>
    public static IEnumerable<OpLowering> All()
    {
        yield return new BitwiseBinaryLowering("BitwiseAnd", "BitwiseAndOperator", (a, b) => a & b);
        yield return new BitwiseBinaryLowering("BitwiseOr", "BitwiseOrOperator", (a, b) => a | b);
        yield return new BitwiseBinaryLowering("BitwiseXor", "BitwiseXorOperator", (a, b) => a ^ b);
        yield return new BitwiseNotLowering();
        yield return new BitShiftLowering();
    }
}
