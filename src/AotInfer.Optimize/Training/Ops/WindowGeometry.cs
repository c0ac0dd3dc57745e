using System;
using System.Linq;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Onnx;

namespace AotInfer.Optimize.Training.Ops;

/// <summary>
/// The sliding-window geometry of a Conv or pooling node for a given input, packed the way the kernels'
/// <see cref="AotInfer.Kernels.Convolution.Window"/> reads it: rank, input extents, output extents, kernel,
/// strides, dilations, pads-begin, pads-end. Handles explicit pads, auto_pad (SAME_UPPER, SAME_LOWER, VALID) and
/// ceil_mode.
/// </summary>
public static class WindowGeometry
{
    /// <summary>
    /// The packed geometry for spatial extents <paramref name="input"/> and <paramref name="kernel"/>; throws
    /// (naming <paramref name="node"/>) when the attributes do not fit.
    /// </summary>
    public static int[] Build(NodeProto node, int[] input, int[] kernel)
    {
        int rank = input.Length;
        int[] strides = Ints(node, "strides", rank, 1), dilations = Ints(node, "dilations", rank, 1);
        int[] pads = Ints(node, "pads", 2 * rank, 0);
        string autoPad = node.Attribute.FirstOrDefault(a => a.Name == "auto_pad")?.S.ToStringUtf8() ?? "NOTSET";
        bool ceil = GraphEditor.GetInt(node, "ceil_mode", 0) != 0;
        var packed = new int[1 + 7 * rank];
        packed[0] = rank;
        for (int d = 0; d < rank; d++)
        {
            int span = (kernel[d] - 1) * dilations[d] + 1;
            int padBegin = pads[d], padEnd = pads[d + rank], output;
            if (strides[d] < 1 || dilations[d] < 1 || kernel[d] < 1)
                throw new InvalidOperationException($"{TrainingOpFactory.Describe(node)}: kernel, strides and dilations must be positive");
            switch (autoPad)
            {
                case "SAME_UPPER" or "SAME_LOWER":
                    output = (input[d] + strides[d] - 1) / strides[d];
                    int total = Math.Max(0, (output - 1) * strides[d] + span - input[d]);
                    padBegin = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
                    padEnd = total - padBegin;
                    break;
                case "VALID":
                    padBegin = padEnd = 0;
                    output = (input[d] - span) / strides[d] + 1;
                    break;
                case "NOTSET" or "":
                    int room = input[d] + padBegin + padEnd - span;
                    output = room < 0 ? 0 : (ceil ? (room + strides[d] - 1) / strides[d] : room / strides[d]) + 1;
                    // ceil_mode: a window that would start in the end padding is dropped (PyTorch and ONNX Runtime agree).
                    if (ceil && output > 0 && (output - 1) * strides[d] >= input[d] + padBegin) output--;
                    break;
                default:
                    throw new InvalidOperationException($"{TrainingOpFactory.Describe(node)}: auto_pad '{autoPad}' is unknown");
            }
            if (output <= 0) throw new InvalidOperationException($"{TrainingOpFactory.Describe(node)}: the window does not fit spatial dimension {d} of extent {input[d]}");
            packed[1 + d] = input[d];
            packed[1 + rank + d] = output;
            packed[1 + 2 * rank + d] = kernel[d];
            packed[1 + 3 * rank + d] = strides[d];
            packed[1 + 4 * rank + d] = dilations[d];
            packed[1 + 5 * rank + d] = padBegin;
            packed[1 + 6 * rank + d] = padEnd;
        }
        return packed;
    }

    /// <summary>The output extents of a packed geometry.</summary>
    public static int[] OutputExtents(int[] packed) => packed.AsSpan(1 + packed[0], packed[0]).ToArray();

    /// <summary>An ints attribute with <paramref name="count"/> entries, or all <paramref name="fallback"/> when absent.</summary>
    public static int[] Ints(NodeProto node, string name, int count, int fallback)
    {
        var attribute = node.Attribute.FirstOrDefault(a => a.Name == name);
        if (attribute is null || attribute.Ints.Count == 0) return Enumerable.Repeat(fallback, count).ToArray();
        if (attribute.Ints.Count != count)
            throw new InvalidOperationException($"{TrainingOpFactory.Describe(node)}: attribute {name} has {attribute.Ints.Count} values, expected {count}");
        return attribute.Ints.Select(v => checked((int)v)).ToArray();
    }
}
