using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Convolution;

/// <summary>
/// Col2Im (opset 18): input <c>[N, C·prod(block_shape), L]</c> summed into <c>[N, C, image_shape...]</c> with the
/// dilations, pads and strides attributes. image_shape and block_shape decide shapes, so they must be constant.
/// The blocks are a convolution's column buffer, so the kernel reuses the convolution's scatter-add.
/// </summary>
public sealed class Col2ImLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "Col2Im" };

    /// <inheritdoc/>
    public override bool ReadsInputAtRunTime(OpContext op, int inputIndex) => inputIndex == 0;

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        if (op.Type(0) != DataType.Float) throw op.Fail($"element type {op.Type(0)} is not supported (float only)");
        var (batch, channels, geometry) = Geometry(op);
        op.SetOutput(0, DataType.Float, new[] { batch, channels }.Concat(geometry.Input).ToArray());
    }

    static (int Batch, int Channels, WindowGeometry Geometry) Geometry(OpContext op)
    {
        var x = op.Shape(0);
        if (x.Length != 3) throw op.Fail($"input 0 must have rank 3 [N, C*prod(block_shape), L], not {Literals.Shape(x)}");
        int[] image = op.ConstantInput(1, "image_shape").ToInt64().Select(v => checked((int)v)).ToArray();
        int[] block = op.ConstantInput(2, "block_shape").ToInt64().Select(v => checked((int)v)).ToArray();
        if (image.Length == 0 || image.Length != block.Length)
            throw op.Fail($"image_shape ({image.Length} entries) and block_shape ({block.Length} entries) must have the same, non-zero length");
        if (image.Any(v => v <= 0) || block.Any(v => v <= 0)) throw op.Fail("image_shape and block_shape entries must be positive");
        var geometry = WindowGeometry.ForConvolution(op, image, block);
        if (x[1] % geometry.KernelSize != 0)
            throw op.Fail($"input dimension 1 ({x[1]}) is not a multiple of prod(block_shape) ({geometry.KernelSize})");
        if (x[2] != geometry.OutputSize)
            throw op.Fail($"input dimension 2 ({x[2]}) must equal the number of blocks ({geometry.OutputSize}) for this image, block, pads, strides and dilations");
        return (x[0], x[1] / geometry.KernelSize, geometry);
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var (batch, channels, geometry) = Geometry(op);
        code.Writer.Line($"// {geometry}");
        code.Writer.Line($"{EmitContext.Kernels}.Convolution.Col2Im.Run({code.In(0)}, {code.Out(0)}, {batch}, {channels}, {code.IntArray(geometry.Packed())});");
    }
}
