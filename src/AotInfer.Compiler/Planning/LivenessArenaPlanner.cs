using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Compiler.IR;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Planning;

/// <summary>
/// Places every intermediate tensor in one byte arena. A tensor lives from the node that writes it to the last node
/// that reads it; tensors whose lifetimes do not overlap share bytes. Greedy best-fit by size, largest first,
/// which is near optimal for the chain-like graphs of inference models. A Concat input that its producer writes
/// straight into the Concat's output (<see cref="ConcatInPlace"/>) gets no bytes of its own: it is that slice of the
/// output, which then lives from the first such producer on; so does the input of a shape-only view that alone reads
/// it (<see cref="ViewInPlace"/>), which is then its whole output.
/// </summary>
public static class LivenessArenaPlanner
{
    /// <summary>Offsets are multiples of this many bytes (a cache line, and a Vector512).</summary>
    public const int Alignment = 64;

    /// <summary>Plans the arena for values computed by <paramref name="nodes"/> that are not graph outputs.</summary>
    public static ArenaPlan Plan(IReadOnlyList<Node> nodes)
    {
        var slices = ConcatInPlace.Find(nodes).Concat(ViewInPlace.Find(nodes)).ToDictionary(s => s.Key, s => s.Value);
        var birth = new Dictionary<Value, int>();
        var death = new Dictionary<Value, int>();
        for (int i = 0; i < nodes.Count; i++)
        {
            foreach (var input in nodes[i].Inputs)
                if (input is not null && birth.ContainsKey(input)) death[input] = i;
            foreach (var output in nodes[i].Outputs)
            {
                if (output.IsGraphOutput || output.Constant is not null) continue;
                birth[output] = i;
                death[output] = i;
            }
        }
        foreach (var slice in slices)
        {
            var whole = slice.Value.Whole;
            birth[whole] = Math.Min(birth[whole], birth[slice.Key]);
            birth.Remove(slice.Key);
            death.Remove(slice.Key);
        }

        var placed = new List<(int Start, int End, long Offset, long Size)>();
        var offsets = new Dictionary<Value, long>();
        long total = 0;
        foreach (var v in birth.Keys.OrderByDescending(SizeOf).ThenBy(v => birth[v]))
        {
            long size = Align(SizeOf(v));
            int start = birth[v], end = death[v];
            var busy = placed.Where(p => p.Start <= end && start <= p.End).OrderBy(p => p.Offset).ToList();
            long offset = 0, bestOffset = -1, bestGap = long.MaxValue;
            foreach (var p in busy)
            {
                long gap = p.Offset - offset;
                if (gap >= size && gap < bestGap) { bestGap = gap; bestOffset = offset; }
                offset = Math.Max(offset, p.Offset + p.Size);
            }
            if (bestOffset < 0) bestOffset = offset;
            placed.Add((start, end, bestOffset, size));
            offsets[v] = bestOffset;
            total = Math.Max(total, bestOffset + size);
        }
        if (total > int.MaxValue) throw new UnsupportedModelException($"the intermediate tensors need {total} bytes at once, over the 2 GiB arena limit");
        foreach (var slice in slices) offsets[slice.Key] = offsets[slice.Value.Whole] + slice.Value.ByteOffset;
        long naive = birth.Keys.Sum(v => Align(SizeOf(v)));
        return new ArenaPlan(offsets, (int)total, naive, slices.ToDictionary(s => s.Key, s => s.Value.Whole));
    }

    static long SizeOf(Value v) => (long)v.BufferLength * DataTypes.SizeOf(v.Type);

    static long Align(long bytes) => (bytes + Alignment - 1) / Alignment * Alignment;
}

/// <summary>Where each intermediate tensor lives in the arena.</summary>
/// <param name="Offsets">Byte offset of each planned value.</param>
/// <param name="TotalBytes">Arena size.</param>
/// <param name="UnsharedBytes">What the arena would take without reuse (for reports).</param>
/// <param name="WrittenInPlace">
/// Concat inputs that are a slice of the Concat's output (<see cref="ConcatInPlace"/>) and view inputs that are the
/// view's output (<see cref="ViewInPlace"/>), each with that output: the Concat or view copies nothing for them.
/// </param>
public sealed record ArenaPlan(IReadOnlyDictionary<Value, long> Offsets, int TotalBytes, long UnsharedBytes, IReadOnlyDictionary<Value, Value> WrittenInPlace);
