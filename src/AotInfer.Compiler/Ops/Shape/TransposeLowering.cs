using System.Collections.Generic;
using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Shape;

/// <summary>
/// Transpose: output dimension i is input dimension <c>perm[i]</c>; without <c>perm</c> the dimensions reverse.
/// Before emitting, size-1 dimensions are dropped and input dimensions that stay neighbours are merged, so the
/// kernel sees the smallest equivalent problem (often a plain copy or a batched 2-D transpose).
/// </summary>
public sealed class TransposeLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "Transpose" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        int[] input = op.Shape(0);
        int[] perm = Permutation(op, input.Length);
        op.SetOutput(0, op.Type(0), perm.Select(p => input[p]).ToArray());
    }

    /// <inheritdoc/>
    public override Tensor[]? Evaluate(OpContext op)
    {
        var x = op.Input(0).Constant!;
        int[] perm = Permutation(op, x.Shape.Length);
        long[] strides = ConstantData.Strides(x.Shape);
        var outShape = op.Output(0)!.Shape!;
        return new[] { ConstantData.Take(x, outShape, ConstantData.StridedMap(outShape, 0, perm.Select(p => strides[p]).ToArray())) };
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var (shape, perm) = Simplify(op.Shape(0), Permutation(op, op.Shape(0).Length));
        if (perm.Length <= 1 || perm.Select((p, i) => p == i).All(same => same))
        {
            code.Writer.Line($"{code.In(0)}.CopyTo({code.Out(0)}); // the permutation keeps the element order");
            return;
        }
        code.Writer.Line($"{EmitContext.Kernels}.Shape.Transpose.Run<{code.InType(0)}>({code.In(0)}, {code.IntArray(shape)}, {code.IntArray(perm)}, {code.Out(0)});");
    }

    static int[] Permutation(OpContext op, int rank)
    {
        long[]? given = op.Attributes.Ints("perm");
        if (given is null) return Enumerable.Range(0, rank).Reverse().ToArray();
        if (given.Length != rank) throw op.Fail($"attribute 'perm' has {given.Length} entries for an input of rank {rank}");
        var perm = IntArguments.Axes(op, given, rank, "attribute 'perm'");
        return perm;
    }

    /// <summary>The same transpose with size-1 dimensions removed and runs of consecutive input dimensions merged.</summary>
    internal static (int[] Shape, int[] Perm) Simplify(int[] shape, int[] perm)
    {
        // Drop size-1 dimensions (they do not affect the element order) and renumber the rest.
        var kept = Enumerable.Range(0, shape.Length).Where(d => shape[d] != 1).ToList();
        var order = perm.Where(p => shape[p] != 1).Select(p => kept.IndexOf(p)).ToArray();
        var dims = kept.Select(d => shape[d]).ToArray();
        // Group output-order runs p, p+1, ... : each run is one merged dimension.
        var groups = new List<List<int>>();
        foreach (int p in order)
        {
            if (groups.Count > 0 && groups[groups.Count - 1].Last() == p - 1) groups[groups.Count - 1].Add(p);
            else groups.Add(new List<int> { p });
        }
        var byInput = groups.OrderBy(g => g[0]).ToList();
        int[] mergedShape = byInput.Select(g => g.Aggregate(1, (n, d) => n * dims[d])).ToArray();
        int[] mergedPerm = groups.Select(g => byInput.IndexOf(g)).ToArray();
        return (mergedShape, mergedPerm);
    }
}
