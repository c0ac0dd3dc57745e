using System;

namespace AotInfer.Onnx;

/// <summary>Facts about <see cref="DataType"/> values: storage size, the CLR type that holds them, names.</summary>
public static class DataTypes
{
    /// <summary>Bytes one element occupies in memory (packed 4-bit and 2-bit types are stored one per byte).</summary>
    public static int SizeOf(DataType type) => type switch
    {
        DataType.Float => 4,
        DataType.Double => 8,
        DataType.Float16 or DataType.BFloat16 => 2,
        DataType.Int8 or DataType.UInt8 or DataType.Bool => 1,
        DataType.Int16 or DataType.UInt16 => 2,
        DataType.Int32 or DataType.UInt32 => 4,
        DataType.Int64 or DataType.UInt64 => 8,
        DataType.Float8E4M3FN or DataType.Float8E4M3FNUZ or DataType.Float8E5M2 or DataType.Float8E5M2FNUZ or DataType.Float8E8M0 => 1,
        DataType.Int4 or DataType.UInt4 or DataType.Int2 or DataType.UInt2 or DataType.Float4E2M1 => 1,
        _ => 0,
    };

    /// <summary>The CLR array element type used for constants of this type at compile time.</summary>
    public static Type? ClrType(DataType type) => type switch
    {
        DataType.Float => typeof(float),
        DataType.Double => typeof(double),
        DataType.Float16 or DataType.BFloat16 => typeof(ushort),
        DataType.Int8 or DataType.Int4 or DataType.Int2 => typeof(sbyte),
        DataType.UInt8 or DataType.UInt4 or DataType.UInt2 => typeof(byte),
        DataType.Float8E4M3FN or DataType.Float8E4M3FNUZ or DataType.Float8E5M2 or DataType.Float8E5M2FNUZ or DataType.Float8E8M0 or DataType.Float4E2M1 => typeof(byte),
        DataType.Int16 => typeof(short),
        DataType.UInt16 => typeof(ushort),
        DataType.Int32 => typeof(int),
        DataType.UInt32 => typeof(uint),
        DataType.Int64 => typeof(long),
        DataType.UInt64 => typeof(ulong),
        DataType.Bool => typeof(bool),
        DataType.String => typeof(string),
        _ => null,
    };

    /// <summary>The C# keyword or global type name that generated code uses for this element type.</summary>
    public static string CSharpName(DataType type) => type switch
    {
        DataType.Float => "float",
        DataType.Double => "double",
        DataType.Float16 => "global::System.Half",
        DataType.BFloat16 => "global::AotInfer.Kernels.BFloat16",
        DataType.Int8 => "sbyte",
        DataType.UInt8 => "byte",
        DataType.Int16 => "short",
        DataType.UInt16 => "ushort",
        DataType.Int32 => "int",
        DataType.UInt32 => "uint",
        DataType.Int64 => "long",
        DataType.UInt64 => "ulong",
        DataType.Bool => "bool",
        DataType.String => "string",
        // Float8, float4 and 4/2-bit integer tensors are spans of their raw ONNX bytes (see RawEncoding).
        _ when RawEncoding.IsRaw(type) => "byte",
        _ => throw new NotSupportedException("No C# type for ONNX element type " + type),
    };

    /// <summary>True for the types generated code can hold in a buffer.</summary>
    public static bool IsSupportedAtRunTime(DataType type) => type switch
    {
        DataType.Float or DataType.Double or DataType.Float16 or DataType.Int8 or DataType.UInt8
            or DataType.Int16 or DataType.UInt16 or DataType.Int32 or DataType.UInt32 or DataType.Int64 or DataType.UInt64
            or DataType.Bool => true,
        _ => false,
    };

    /// <summary>True for floating point element types.</summary>
    public static bool IsFloat(DataType type) =>
        type is DataType.Float or DataType.Double or DataType.Float16 or DataType.BFloat16;

    /// <summary>True for integer element types (not bool).</summary>
    public static bool IsInteger(DataType type) => type is DataType.Int8 or DataType.UInt8 or DataType.Int16
        or DataType.UInt16 or DataType.Int32 or DataType.UInt32 or DataType.Int64 or DataType.UInt64;

    /// <summary>True for signed numeric types (floats and signed integers).</summary>
    public static bool IsSigned(DataType type) => IsFloat(type) ||
        type is DataType.Int8 or DataType.Int16 or DataType.Int32 or DataType.Int64;
}
