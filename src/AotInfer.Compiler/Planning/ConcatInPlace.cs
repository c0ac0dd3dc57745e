using System.Collections.Generic;
using System.Linq;
using AotInfer.Compiler.IR;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Planning;

/// <summary>
/// Finds the Concat inputs whose producers can write them straight into the Concat's output, so that the Concat
/// copies nothing (squeezenet's fire modules: the two expand convolutions fill the two halves of the concatenated
/// channels). A Concat of N·C·H·W tensors along axis 1 at N = 1 (in general: every axis before the concatenated one
/// of extent 1) places each input as one contiguous slice of the output, so the input can simply live there.
/// </summary>
public static class ConcatInPlace
{
    /// <summary>
    /// Producers whose kernels write nothing outside their output span (the span the generated code hands them is
    /// then a slice of the Concat's output, and a stray write would clobber a neighbouring input).
    /// </summary>
    static readonly HashSet<string> SlicedOutputProducers = new() { "Conv", "MaxPool", "AveragePool" };

    /// <summary>
    /// The inputs written in place, each with the Concat output it lives in and its byte offset there. An input
    /// qualifies when the Concat's output is an arena tensor (not a graph output), the input is an arena tensor read
    /// by that Concat only (once), it is produced by a <see cref="SlicedOutputProducers"/> node (never a Concat, so slices
    /// do not nest), the slice is contiguous, and the slice starts on an <see cref="LivenessArenaPlanner.Alignment"/>
    /// boundary (kernels may rely on aligned arena tensors).
    /// </summary>
    public static IReadOnlyDictionary<Value, (Value Whole, long ByteOffset)> Find(IReadOnlyList<Node> nodes)
    {
        var producers = new Dictionary<Value, Node>();
        var reads = new Dictionary<Value, int>();
        foreach (var node in nodes)
        {
            foreach (var output in node.Outputs) producers[output] = node;
            foreach (var input in node.Inputs)
                if (input is not null) reads[input] = reads.TryGetValue(input, out int count) ? count + 1 : 1;
        }
        var slices = new Dictionary<Value, (Value Whole, long ByteOffset)>();
        foreach (var concat in nodes.Where(n => n.OpType == "Concat" && n.Domain.Length == 0 && n.Outputs.Count == 1))
        {
            var whole = concat.Outputs[0];
            if (!IsArenaTensor(whole) || whole.Shape is not { } shape) continue;
            long axis = concat.Attributes.Int("axis", 1);
            if (axis < 0) axis += shape.Length;
            if (axis < 0 || axis >= shape.Length || shape.Take((int)axis).Any(d => d != 1)) continue;
            long offset = 0;
            foreach (var input in concat.Inputs)
            {
                if (input is null) continue;
                long bytes = (long)input.BufferLength * DataTypes.SizeOf(input.Type);
                if (IsArenaTensor(input) && reads[input] == 1 && offset % LivenessArenaPlanner.Alignment == 0 &&
                    producers.TryGetValue(input, out var producer) && SlicedOutputProducers.Contains(producer.OpType) && producer.Domain.Length == 0)
                    slices[input] = (whole, offset);
                offset += bytes;
            }
        }
        return slices;
    }

    /// <summary>True when <paramref name="v"/> lives in the arena: computed, not a graph input or output, not raw-encoded.</summary>
    internal static bool IsArenaTensor(Value v) => !v.IsGraphInput && !v.IsGraphOutput && v.Constant is null && !RawEncoding.IsRaw(v.Type);
}
