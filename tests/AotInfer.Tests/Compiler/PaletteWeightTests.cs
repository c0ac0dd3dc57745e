using System;
using System.Linq;
using AotInfer.Compiler;
using AotInfer.Compiler.Emit;
using AotInfer.Kernels;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Compiler;

/// <summary>
/// Palette (weight-sharing) storage: constants with few distinct values are stored as indices plus palettes and
/// decode bit for bit; clustered models compile to much smaller sources and still agree with ONNX Runtime.
/// </summary>
public class PaletteWeightTests
{
    /// <summary>Values drawn from a palette of <paramref name="distinct"/> floats, including −0 and a NaN payload.</summary>
    static float[] FromPalette(int seed, int count, int distinct)
    {
        var palette = Differential.RandomFloats(seed, distinct);
        palette[0] = -0f;
        if (distinct > 2) palette[1] = BitConverter.Int32BitsToSingle(0x7fc01234);
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => palette[random.Next(distinct)]).ToArray();
    }

    static float[] Decode(Tensor t, PaletteEncoder.Encoded e) =>
        WeightData.DecodePalette(System.Text.Encoding.ASCII.GetBytes(Convert.ToBase64String(e.Bytes)), t.Length, e.Bits, e.Groups, e.PaletteSize);

    [Theory]
    [InlineData(2, 4)]
    [InlineData(16, 4)]
    [InlineData(17, 8)]
    [InlineData(256, 8)]
    public void PaletteRoundTripsBitForBit(int distinct, int bits)
    {
        foreach (int count in new[] { 3001, 4096 })
        {
            var values = FromPalette(distinct, count, distinct);
            var t = new Tensor(DataType.Float, new[] { count }, values);
            var encoded = PaletteEncoder.TryEncode(t);
            Assert.NotNull(encoded);
            Assert.Equal(bits, encoded!.Bits);
            Assert.Equal(values.Select(BitConverter.SingleToInt32Bits), Decode(t, encoded).Select(BitConverter.SingleToInt32Bits));
        }
    }

    /// <summary>Per-channel clustering: 16 values per output channel, 40 channels, 640 distinct values in all.</summary>
    [Fact]
    public void PerChannelPalettesRoundTripBitForBit()
    {
        var values = Enumerable.Range(0, 40).SelectMany(c => FromPalette(100 + c, 75, 16)).ToArray();
        var t = new Tensor(DataType.Float, new[] { 40, 3, 5, 5 }, values);
        var encoded = PaletteEncoder.TryEncode(t);
        Assert.NotNull(encoded);
        Assert.Equal(40, encoded!.Groups);
        Assert.Equal(values.Select(BitConverter.SingleToInt32Bits), Decode(t, encoded).Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void ManyDistinctValuesOrSmallTensorsStayRaw()
    {
        Assert.Null(PaletteEncoder.TryEncode(new Tensor(DataType.Float, new[] { 1000 }, Differential.RandomFloats(1, 1000))));
        Assert.Null(PaletteEncoder.TryEncode(new Tensor(DataType.Float, new[] { 10 }, new float[10])));
        Assert.Null(PaletteEncoder.TryEncode(new Tensor(DataType.Int64, new[] { 100 }, new long[100])));
    }

    /// <summary>A clustered Gemm (k = 16), dense and pruned: palette storage in the source, and ONNX Runtime's answers.</summary>
    [Theory]
    [InlineData(SparseMode.Dense)]
    [InlineData(SparseMode.Blocks8x1)]
    public void ClusteredGemmUsesPalettesAndMatchesOnnxRuntime(SparseMode mode)
    {
        int k = 120, n = 50;
        var w = FromPalette(7, k * n, 16).Select(v => float.IsNaN(v) ? 0.25f : v).ToArray();
        var model = new OnnxModelBuilder(13).Input("a", DataType.Float, 1, k)
            .Initializer("w", w, n, k)
            .Node("Gemm", new[] { "a", "w" }, new[] { "y" }, ("transB", 1L))
            .Output("y", DataType.Float).ToBytes();
        var result = ModelCompiler.Compile(model, new CompileOptions { Sparse = mode });
        Assert.Contains("WeightData.DecodePalette(", result.Source);
        var input = (new[] { 1, k }, (Array)Differential.RandomFloats(3, k));
        var expected = (float[])Differential.RunOnnxRuntime(model, input)[0];
        var compiled = Differential.CompileModel(model, configure: o => o.Sparse = mode);
        var actual = new float[n];
        compiled.Run(new Array[] { input.Item2 }, new Array[] { actual });
        for (int j = 0; j < n; j++) Assert.True(Math.Abs(expected[j] - actual[j]) <= 1e-4 + 1e-4 * Math.Abs(expected[j]), $"y[{j}] = {actual[j]}, ORT {expected[j]}");
    }
}
