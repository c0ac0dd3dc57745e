using System;
using System.Globalization;
using System.Linq;
using System.Text;

namespace AotInfer.Compiler.Emit;

/// <summary>C# literals written with the invariant culture and round-trippable precision.</summary>
public static class Literals
{
    /// <summary>A float literal (NaN and infinities as named constants).</summary>
    public static string Float(float v)
    {
        if (float.IsNaN(v)) return "float.NaN";
        if (float.IsPositiveInfinity(v)) return "float.PositiveInfinity";
        if (float.IsNegativeInfinity(v)) return "float.NegativeInfinity";
        if (v == 0 && BitConverter.ToInt32(BitConverter.GetBytes(v), 0) != 0) return "-0f";
        return v.ToString("R", CultureInfo.InvariantCulture) + "f";
    }

    /// <summary>A double literal.</summary>
    public static string Double(double v)
    {
        if (double.IsNaN(v)) return "double.NaN";
        if (double.IsPositiveInfinity(v)) return "double.PositiveInfinity";
        if (double.IsNegativeInfinity(v)) return "double.NegativeInfinity";
        string s = v.ToString("R", CultureInfo.InvariantCulture);
        return s.Contains('.') || s.Contains('E') ? s + "d" : s + ".0";
    }

    /// <summary>An int literal.</summary>
    public static string Int(long v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>A long literal.</summary>
    public static string Long(long v) => v == long.MinValue ? "long.MinValue" : v.ToString(CultureInfo.InvariantCulture) + "L";

    /// <summary>A comma-separated list of ints.</summary>
    public static string Ints(int[] values) => string.Join(", ", values.Select(v => v.ToString(CultureInfo.InvariantCulture)));

    /// <summary>A shape for comments: <c>[1,3,224,224]</c>.</summary>
    public static string Shape(int[] shape) => "[" + string.Join(",", shape.Select(v => v.ToString(CultureInfo.InvariantCulture))) + "]";

    /// <summary>A C# string literal with escapes.</summary>
    public static string String(string s)
    {
        var b = new StringBuilder("\"");
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': b.Append("\\\""); break;
                case '\\': b.Append("\\\\"); break;
                case '\n': b.Append("\\n"); break;
                case '\r': b.Append("\\r"); break;
                case '\t': b.Append("\\t"); break;
                default:
                    if (c < 32 || c > 126) b.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else b.Append(c);
                    break;
            }
        }
        return b.Append('"').ToString();
    }

    /// <summary>Text safe inside a <c>//</c> comment (no line breaks).</summary>
    public static string Comment(string s) => new string(s.Select(c => c < 32 || c == '\u2028' || c == '\u2029' ? ' ' : c).ToArray());

    /// <summary>Text safe inside an XML doc comment.</summary>
    public static string Xml(string s) => Comment(s).Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

    /// <summary>A valid C# identifier derived from an ONNX name (letters, digits, underscores; '@' for keywords).</summary>
    public static string Identifier(string name)
    {
        var b = new StringBuilder();
        foreach (char c in name) b.Append(char.IsLetterOrDigit(c) && c < 128 ? c : '_');
        if (b.Length == 0 || char.IsDigit(b[0])) b.Insert(0, '_');
        string id = b.ToString();
        return Keywords.Contains(id) ? "@" + id : id;
    }

    static readonly string[] Keywords =
    {
        "abstract", "as", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class", "const", "continue",
        "decimal", "default", "delegate", "do", "double", "else", "enum", "event", "explicit", "extern", "false", "finally",
        "fixed", "float", "for", "foreach", "goto", "if", "implicit", "in", "int", "interface", "internal", "is", "lock",
        "long", "namespace", "new", "null", "object", "operator", "out", "override", "params", "private", "protected",
        "public", "readonly", "ref", "return", "sbyte", "sealed", "short", "sizeof", "stackalloc", "static", "string",
        "struct", "switch", "this", "throw", "true", "try", "typeof", "uint", "ulong", "unchecked", "unsafe", "ushort",
        "using", "virtual", "void", "volatile", "while",
    };
}
