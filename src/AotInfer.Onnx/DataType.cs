namespace AotInfer.Onnx;

/// <summary>ONNX tensor element types, with the numeric values of <c>TensorProto.DataType</c>.</summary>
public enum DataType
{
    /// <summary>No type given.</summary>
    Undefined = 0,
    /// <summary>32-bit IEEE float.</summary>
    Float = 1,
    /// <summary>Unsigned 8-bit integer.</summary>
    UInt8 = 2,
    /// <summary>Signed 8-bit integer.</summary>
    Int8 = 3,
    /// <summary>Unsigned 16-bit integer.</summary>
    UInt16 = 4,
    /// <summary>Signed 16-bit integer.</summary>
    Int16 = 5,
    /// <summary>Signed 32-bit integer.</summary>
    Int32 = 6,
    /// <summary>Signed 64-bit integer.</summary>
    Int64 = 7,
    /// <summary>UTF-8 string.</summary>
    String = 8,
    /// <summary>Boolean.</summary>
    Bool = 9,
    /// <summary>IEEE half precision float.</summary>
    Float16 = 10,
    /// <summary>64-bit IEEE float.</summary>
    Double = 11,
    /// <summary>Unsigned 32-bit integer.</summary>
    UInt32 = 12,
    /// <summary>Unsigned 64-bit integer.</summary>
    UInt64 = 13,
    /// <summary>Complex of two floats.</summary>
    Complex64 = 14,
    /// <summary>Complex of two doubles.</summary>
    Complex128 = 15,
    /// <summary>Brain float 16.</summary>
    BFloat16 = 16,
    /// <summary>8-bit float e4m3fn.</summary>
    Float8E4M3FN = 17,
    /// <summary>8-bit float e4m3fnuz.</summary>
    Float8E4M3FNUZ = 18,
    /// <summary>8-bit float e5m2.</summary>
    Float8E5M2 = 19,
    /// <summary>8-bit float e5m2fnuz.</summary>
    Float8E5M2FNUZ = 20,
    /// <summary>Unsigned 4-bit integer.</summary>
    UInt4 = 21,
    /// <summary>Signed 4-bit integer.</summary>
    Int4 = 22,
    /// <summary>4-bit float e2m1.</summary>
    Float4E2M1 = 23,
    /// <summary>8-bit exponent-only float.</summary>
    Float8E8M0 = 24,
    /// <summary>Unsigned 2-bit integer.</summary>
    UInt2 = 25,
    /// <summary>Signed 2-bit integer.</summary>
    Int2 = 26,
}
