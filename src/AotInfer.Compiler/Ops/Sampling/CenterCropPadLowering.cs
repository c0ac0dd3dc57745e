using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Sampling;

/// <summary>CenterCropPad (opset 18): crops or zero-pads the given axes to a constant target shape, centred (odd differences put the extra element at the end).</summary>
public sealed class CenterCropPadLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "CenterCropPad" };

    sealed record Plan(int[] OutputShape, int[] SourceStart, int[] DestinationStart);

    static Plan MakePlan(OpContext op)
    {
        int[] input = op.Shape(0);
        int rank = input.Length;
        long[] target = op.ConstantInput(1, "shape").ToInt64();
        long[] axesAttribute = op.Attributes.Ints("axes") ?? Enumerable.Range(0, rank).Select(i => (long)i).ToArray();
        if (axesAttribute.Length != target.Length) throw op.Fail($"shape has {target.Length} values but there are {axesAttribute.Length} axes");
        var output = (int[])input.Clone();
        var sourceStart = new int[rank];
        var destinationStart = new int[rank];
        for (int i = 0; i < target.Length; i++)
        {
            int axis = op.Axis(axesAttribute[i], rank, "axes");
            if (target[i] < 0 || target[i] > int.MaxValue) throw op.Fail($"target size {target[i]} for axis {axis} is invalid");
            int dim = input[axis], size = (int)target[i];
            output[axis] = size;
            if (size < dim) sourceStart[axis] = (dim - size) / 2;
            else if (size > dim) destinationStart[axis] = (size - dim) / 2;
        }
        return new Plan(output, sourceStart, destinationStart);
    }

    /// <inheritdoc/>
    public override void Infer(OpContext op) => op.SetOutput(0, op.Type(0), MakePlan(op).OutputShape);

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        // Crop-and-pad is Pad with constant zeros: negative pads crop where the target is smaller.
        var plan = MakePlan(op);
        int[] input = op.Shape(0);
        int rank = input.Length;
        var pads = new int[2 * rank];
        for (int d = 0; d < rank; d++)
        {
            pads[d] = plan.DestinationStart[d] - plan.SourceStart[d];
            pads[d + rank] = plan.OutputShape[d] - input[d] - pads[d];
        }
        code.Writer.Line($"{EmitContext.Kernels}.Indexing.Pad.Run<{code.InType(0)}>({code.In(0)}, {code.IntArray(input)}, {code.Out(0)}, " +
                         $"{code.IntArray(plan.OutputShape)}, {code.IntArray(pads)}, {EmitContext.Kernels}.Indexing.PadMode.Constant, default);");
    }
}
