using System.Text;

namespace AotInfer.Compiler.Emit;

/// <summary>Writes C# source with owned indentation and braces; lines end with '\n' on every platform.</summary>
public sealed class CodeWriter
{
    readonly StringBuilder _text = new();
    int _indent;

    /// <summary>Writes one line at the current indentation.</summary>
    public CodeWriter Line(string line = "")
    {
        if (line.Length > 0) _text.Append(' ', _indent * 4).Append(line);
        _text.Append('\n');
        return this;
    }

    /// <summary>Writes <paramref name="header"/> then an opening brace, and indents.</summary>
    public CodeWriter Open(string header)
    {
        Line(header);
        Line("{");
        _indent++;
        return this;
    }

    /// <summary>Closes the innermost brace.</summary>
    public CodeWriter Close(string suffix = "")
    {
        _indent--;
        Line("}" + suffix);
        return this;
    }

    /// <summary>Appends text written by another writer, re-indented to the current level.</summary>
    public CodeWriter Append(CodeWriter other)
    {
        foreach (var line in other.ToString().Split('\n'))
            if (line.Length > 0) Line(line);
        return this;
    }

    /// <summary>The text so far.</summary>
    public override string ToString() => _text.ToString();
}
