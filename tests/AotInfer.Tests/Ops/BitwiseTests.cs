using System;
using System.Linq;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Ops;

/// <summary>BitwiseAnd/Or/Xor/Not and BitShift against ONNX Runtime, random inputs with fixed seeds.</summary>
public class BitwiseTests
{
    static Array RandomIntegers(DataType type, int seed, int count, long lo, long hi)
    {
        var random = new Random(seed);
        var values = Enumerable.Range(0, count).Select(_ => lo + (long)(random.NextDouble() * (hi - lo))).ToArray();
        return type switch
        {
            DataType.Int8 => values.Select(v => (sbyte)v).ToArray(),
            DataType.UInt8 => values.Select(v => (byte)v).ToArray(),
            DataType.Int16 => values.Select(v => (short)v).ToArray(),
            DataType.UInt16 => values.Select(v => (ushort)v).ToArray(),
            DataType.Int32 => values.Select(v => (int)v).ToArray(),
            DataType.UInt32 => values.Select(v => (uint)v).ToArray(),
            DataType.Int64 => values,
            DataType.UInt64 => values.Select(v => unchecked((ulong)v)).ToArray(),
            _ => throw new ArgumentException(type.ToString()),
        };
    }

    [Theory]
    [InlineData("BitwiseAnd", DataType.Int16)]
    [InlineData("BitwiseAnd", DataType.UInt8)]
    [InlineData("BitwiseOr", DataType.Int32)]
    [InlineData("BitwiseOr", DataType.UInt64)]
    [InlineData("BitwiseXor", DataType.Int64)]
    [InlineData("BitwiseXor", DataType.UInt16)]
    public void BroadcastingBitwiseMatchesOnnxRuntime(string op, DataType type)
    {
        var model = new OnnxModelBuilder(18)
            .Input("a", type, 2, 3, 4).Input("b", type, 3, 1)
            .Node(op, new[] { "a", "b" }, new[] { "y" })
            .Output("y", type).ToBytes();
        Differential.AssertAgrees(model, inputs: new[]
        {
            (new[] { 2, 3, 4 }, RandomIntegers(type, 1, 24, -100, 250)),
            (new[] { 3, 1 }, RandomIntegers(type, 2, 3, -100, 250)),
        });
    }

    [Theory]
    [InlineData(DataType.Int8)]
    [InlineData(DataType.UInt32)]
    [InlineData(DataType.Int64)]
    public void BitwiseNotMatchesOnnxRuntime(DataType type)
    {
        var model = new OnnxModelBuilder(18)
            .Input("x", type, 3, 5)
            .Node("BitwiseNot", new[] { "x" }, new[] { "y" })
            .Output("y", type).ToBytes();
        Differential.AssertAgrees(model, inputs: new[] { (new[] { 3, 5 }, RandomIntegers(type, 3, 15, -100, 120)) });
    }

    [Theory]
    [InlineData("LEFT", DataType.UInt8)]
    [InlineData("RIGHT", DataType.UInt8)]
    [InlineData("LEFT", DataType.UInt32)]
    [InlineData("RIGHT", DataType.UInt32)]
    [InlineData("LEFT", DataType.UInt64)]
    [InlineData("RIGHT", DataType.UInt64)]
    public void BitShiftMatchesOnnxRuntime(string direction, DataType type)
    {
        // Amounts stay below the bit width: beyond it ONNX Runtime's C++ shift is undefined behaviour. (ONNX Runtime has
        // no uint16 BitShift; the node tests cover it.)
        var model = new OnnxModelBuilder(11)
            .Input("x", type, 4, 6).Input("amount", type, 6)
            .Node("BitShift", new[] { "x", "amount" }, new[] { "y" }, ("direction", direction))
            .Output("y", type).ToBytes();
        Differential.AssertAgrees(model, inputs: new[]
        {
            (new[] { 4, 6 }, RandomIntegers(type, 4, 24, 0, 256)),
            (new[] { 6 }, RandomIntegers(type, 5, 6, 0, 8)),
        });
    }

    [Fact]
    public void ConstantBitwiseOpsFold()
    {
        // The whole chain is constant, so the compiler computes it; ONNX Runtime checks the folded values.
        var model = new OnnxModelBuilder(18)
            .Input("x", DataType.Int32, 4)
            .Initializer("a", new Tensor(DataType.Int32, new[] { 4 }, new[] { 12, -7, 255, 1 << 20 }))
            .Initializer("b", new Tensor(DataType.Int32, new[] { 4 }, new[] { 10, 3, -1, 77 }))
            .Node("BitwiseXor", new[] { "a", "b" }, new[] { "c" })
            .Node("BitwiseNot", new[] { "c" }, new[] { "d" })
            .Node("BitwiseAnd", new[] { "d", "x" }, new[] { "y" })
            .Output("y", DataType.Int32).ToBytes();
        Differential.AssertAgrees(model, inputs: new[] { (new[] { 4 }, (Array)new[] { -1, 0x0F0F, int.MinValue, 12345 }) });
    }

    [Fact]
    public void BitShiftWithoutDirectionIsDiagnosed()
    {
        var model = new OnnxModelBuilder(11)
            .Input("x", DataType.UInt8, 4).Input("amount", DataType.UInt8, 4)
            .Node("BitShift", new[] { "x", "amount" }, new[] { "y" })
            .Output("y", DataType.UInt8).ToBytes();
        var result = AotInfer.Compiler.ModelCompiler.Compile(model, new AotInfer.Compiler.CompileOptions());
        Assert.False(result.Success);
        Assert.Contains(result.Diagnostics, d => d.Message.Contains("direction"));
    }

    [Fact]
    public void ShiftKernelGivesZeroAtOrBeyondTheBitWidth()
    {
        var left = new AotInfer.Kernels.Bitwise.ShiftLeftOperator<byte>();
        var right = new AotInfer.Kernels.Bitwise.ShiftRightOperator<uint>();
        Assert.Equal(0x80, left.Invoke(1, 7));
        Assert.Equal(0, left.Invoke(1, 8));
        Assert.Equal(0, left.Invoke(0xFF, 200));
        Assert.Equal(1u, right.Invoke(0x80000000u, 31));
        Assert.Equal(0u, right.Invoke(0x80000000u, 32));
    }
}
