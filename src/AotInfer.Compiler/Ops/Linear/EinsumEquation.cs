using System;
using System.Collections.Generic;
using System.Linq;

namespace AotInfer.Compiler.Ops.Linear;

/// <summary>
/// A parsed Einsum equation resolved against static input shapes. Every distinct index gets a label: letters are
/// labels by character; the dimensions an ellipsis stands for get labels of their own, right-aligned across operands
/// (numpy broadcasting). Output labels come first in <see cref="Labels"/>, then the summed ones.
/// </summary>
internal sealed class EinsumEquation
{
    /// <summary>Base of the labels given to ellipsis dimensions (above every letter).</summary>
    const int EllipsisLabel = 1000;

    EinsumEquation(int[][] operandLabels, int[] outputLabels, int[] labels, int[] extents)
    {
        OperandLabels = operandLabels;
        OutputLabels = outputLabels;
        Labels = labels;
        Extents = extents;
    }

    /// <summary>Per operand, the label of each of its dimensions.</summary>
    public int[][] OperandLabels { get; }

    /// <summary>Labels of the output dimensions, in order.</summary>
    public int[] OutputLabels { get; }

    /// <summary>All labels: output ones, then summed ones.</summary>
    public int[] Labels { get; }

    /// <summary>Extent of each of <see cref="Labels"/>.</summary>
    public int[] Extents { get; }

    /// <summary>The output shape.</summary>
    public int[] OutputShape => Extents.Take(OutputLabels.Length).ToArray();

    /// <summary>Labels that are summed over.</summary>
    public IEnumerable<int> SummedLabels => Labels.Skip(OutputLabels.Length);

    /// <summary>Extent of a label.</summary>
    public int Extent(int label) => Extents[Array.IndexOf(Labels, label)];

    /// <summary>
    /// Element strides of operand <paramref name="operand"/> (row-major <paramref name="shape"/>) per label in
    /// <see cref="Labels"/> order: 0 for labels it lacks or broadcasts (extent 1), summed for repeated labels (a diagonal).
    /// </summary>
    public int[] Strides(int operand, int[] shape)
    {
        var strides = new int[Labels.Length];
        int stride = 1;
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            if (shape[d] != 1) strides[Array.IndexOf(Labels, OperandLabels[operand][d])] += stride;
            stride *= shape[d];
        }
        return strides;
    }

    /// <summary>Parses <paramref name="equation"/> (whitespace ignored) for operands of the given shapes.</summary>
    public static EinsumEquation Parse(string equation, int[][] shapes, Func<string, Exception> fail)
    {
        string text = new string(equation.Where(c => !char.IsWhiteSpace(c)).ToArray());
        int arrow = text.IndexOf("->", StringComparison.Ordinal);
        string lhs = arrow < 0 ? text : text.Substring(0, arrow);
        string? rhs = arrow < 0 ? null : text.Substring(arrow + 2);
        string[] terms = lhs.Split(',');
        if (terms.Length != shapes.Length)
            throw fail($"equation '{equation}' has {terms.Length} input terms but the node has {shapes.Length} inputs");

        var termLetters = new List<char>[terms.Length];
        var hasEllipsis = new bool[terms.Length];
        for (int t = 0; t < terms.Length; t++) (termLetters[t], hasEllipsis[t]) = ParseTerm(terms[t], equation, fail);
        int ellipsisRank = 0;
        var ellipsisRanks = new int[terms.Length];
        for (int t = 0; t < terms.Length; t++)
        {
            int rest = shapes[t].Length - termLetters[t].Count;
            if (hasEllipsis[t] ? rest < 0 : rest != 0)
                throw fail($"term '{terms[t]}' of equation '{equation}' does not match input {t} of rank {shapes[t].Length}");
            ellipsisRanks[t] = hasEllipsis[t] ? rest : 0;
            ellipsisRank = Math.Max(ellipsisRank, ellipsisRanks[t]);
        }

        // Labels of each operand's dimensions; the ellipsis of an operand covers the last of the shared ellipsis labels.
        var operandLabels = new int[terms.Length][];
        for (int t = 0; t < terms.Length; t++)
        {
            var labels = new List<int>();
            foreach (char c in terms[t].Replace("...", "."))
            {
                if (c == '.') for (int e = 0; e < ellipsisRanks[t]; e++) labels.Add(EllipsisLabel + ellipsisRank - ellipsisRanks[t] + e);
                else labels.Add(c);
            }
            operandLabels[t] = labels.ToArray();
        }

        var ellipsisLabels = Enumerable.Range(EllipsisLabel, ellipsisRank).ToArray();
        int[] output;
        if (rhs is null)
        {
            // Implicit output: the broadcast dimensions, then the letters used exactly once, in character order.
            var counts = termLetters.SelectMany(l => l).GroupBy(c => c).Where(g => g.Count() == 1).Select(g => (int)g.Key).OrderBy(c => c);
            output = ellipsisLabels.Concat(counts).ToArray();
        }
        else
        {
            // Without '...' in the output, broadcast dimensions are summed like any index missing from the output.
            var letters = ParseTerm(rhs, equation, fail).Letters;
            var list = new List<int>();
            foreach (char c in rhs.Replace("...", "."))
            {
                if (c == '.') list.AddRange(ellipsisLabels);
                else if (!termLetters.Any(l => l.Contains(c))) throw fail($"output index '{c}' of equation '{equation}' appears in no input");
                else list.Add(c);
            }
            if (letters.Distinct().Count() != letters.Count) throw fail($"output of equation '{equation}' repeats an index");
            output = list.ToArray();
        }

        var all = output.ToList();
        foreach (var labels in operandLabels)
            foreach (int label in labels)
                if (!all.Contains(label)) all.Add(label);

        var extents = new int[all.Count];
        for (int i = 0; i < all.Count; i++) extents[i] = 1;
        for (int t = 0; t < operandLabels.Length; t++)
        {
            for (int d = 0; d < operandLabels[t].Length; d++)
            {
                int index = all.IndexOf(operandLabels[t][d]);
                int size = shapes[t][d];
                if (size == extents[index] || size == 1) continue;
                if (extents[index] != 1)
                    throw fail($"index {Describe(operandLabels[t][d])} of equation '{equation}' has sizes {extents[index]} and {size}");
                extents[index] = size;
            }
        }
        return new EinsumEquation(operandLabels, output, all.ToArray(), extents);
    }

    static (List<char> Letters, bool Ellipsis) ParseTerm(string term, string equation, Func<string, Exception> fail)
    {
        var letters = new List<char>();
        bool ellipsis = false;
        for (int i = 0; i < term.Length; i++)
        {
            char c = term[i];
            if (c == '.')
            {
                if (ellipsis || i + 3 > term.Length || term.Substring(i, 3) != "...")
                    throw fail($"equation '{equation}' has a malformed or repeated ellipsis in term '{term}'");
                ellipsis = true;
                i += 2;
            }
            else if (c is >= 'a' and <= 'z' or >= 'A' and <= 'Z') letters.Add(c);
            else throw fail($"equation '{equation}' has the character '{c}', which is not an index letter");
        }
        return (letters, ellipsis);
    }

    /// <summary>A label for messages.</summary>
    public static string Describe(int label) => label >= EllipsisLabel ? $"'...'[{label - EllipsisLabel}]" : $"'{(char)label}'";
}
