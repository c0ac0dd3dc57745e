using System;
using System.Linq;
using AotInfer.Compiler;
using AotInfer.Compiler.Emit;
using AotInfer.Compiler.Ops.Linear;
using AotInfer.Kernels;
using AotInfer.Onnx;
using AotInfer.Optimize.Clustering;
using AotInfer.Optimize.Onnx;
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
        WeightData.DecodePalette(System.Text.Encoding.ASCII.GetBytes(Convert.ToBase64String(e.Bytes)), t.Length, e.Bits, e.Groups, e.PaletteSize, e.EntryBytes);

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
    [InlineData(SparseMode.Bands)]
    public void ClusteredGemmUsesPalettesAndMatchesOnnxRuntime(SparseMode mode)
    {
        int k = 120, n = 50;
        var w = FromPalette(7, k * n, 16).Select(v => float.IsNaN(v) ? 0.25f : v).ToArray();
        var model = new OnnxModelBuilder(13).Input("a", DataType.Float, 1, k)
            .Initializer("w", w, n, k)
            .Node("Gemm", new[] { "a", "w" }, new[] { "y" }, ("transB", 1L))
            .Output("y", DataType.Float).ToBytes();
        var result = ModelCompiler.Compile(model, new CompileOptions { Sparse = mode });
        Assert.Contains(".DecodePalette(", result.Source);
        AssertGemmMatchesOnnxRuntime(model, k, n, mode);
    }

    /// <summary>Every half but NaN widens to a float that converts back to the same 16 bits.</summary>
    [Fact]
    public void EveryHalfIsRecognisedWithItsBits()
    {
        for (int h = 0; h <= ushort.MaxValue; h++)
        {
            var half = BitConverter.UInt16BitsToHalf((ushort)h);
            bool exact = HalfPrecision.TryToHalf(BitConverter.SingleToUInt32Bits((float)half), out ushort bits);
            if (Half.IsNaN(half)) Assert.False(exact);
            else Assert.True(exact && bits == h, $"half 0x{h:x4} ({half}) came back as {(exact ? $"0x{bits:x4}" : "not a half")}");
        }
    }

    [Theory]
    [InlineData(1.0000001f)]       // one float ulp above 1: needs more than 10 mantissa bits
    [InlineData(65520f)]           // rounds to infinity as a half
    [InlineData(1e-8f)]            // below the smallest half subnormal (2^-24 ≈ 6e-8)
    [InlineData(8.9406967e-8f)]    // 1.5 · 2^-24: between two half subnormals
    [InlineData(1e-40f)]           // a float subnormal
    [InlineData(float.NaN)]
    public void FloatsThatNoHalfHoldsAreRejected(float value) =>
        Assert.False(HalfPrecision.TryToHalf(BitConverter.SingleToUInt32Bits(value), out _));

    /// <summary>Palettes of halves (what <c>cluster --codebook fp16</c> writes) take 2 bytes per entry, per tensor and per channel.</summary>
    [Theory]
    [InlineData(1, 16)]
    [InlineData(1, 200)]
    [InlineData(40, 16)]
    public void HalfPalettesTakeTwoBytesPerEntryAndDecodeBitForBit(int channels, int distinct)
    {
        int perChannel = 75;
        var values = Enumerable.Range(0, channels)
            .SelectMany(c => FromPalette(300 + c, perChannel * (channels == 1 ? 40 : 1), distinct).Select(v => float.IsNaN(v) ? 0.5f : (float)(Half)v))
            .ToArray();
        var t = new Tensor(DataType.Float, channels == 1 ? new[] { values.Length } : new[] { channels, 3, 5, 5 }, values);
        var encoded = PaletteEncoder.TryEncode(t);
        Assert.NotNull(encoded);
        Assert.Equal(2, encoded!.EntryBytes);
        Assert.Equal(channels, encoded.Groups);
        Assert.Equal(channels * encoded.PaletteSize * 2 + (values.Length * encoded.Bits + 7) / 8, encoded.Bytes.Length);
        Assert.Equal(values.Select(BitConverter.SingleToInt32Bits), Decode(t, encoded).Select(BitConverter.SingleToInt32Bits));
    }

    /// <summary>One value that is not a half keeps the whole tensor's palettes at 4 bytes per entry.</summary>
    [Fact]
    public void OneNonHalfEntryKeepsFourByteEntries()
    {
        var values = FromPalette(5, 4000, 16).Select(v => float.IsNaN(v) ? 0.5f : (float)(Half)v).ToArray();
        values[1234] = 1.0000001f;
        var t = new Tensor(DataType.Float, new[] { values.Length }, values);
        var encoded = PaletteEncoder.TryEncode(t)!;
        Assert.Equal(4, encoded.EntryBytes);
        Assert.Equal(values.Select(BitConverter.SingleToInt32Bits), Decode(t, encoded).Select(BitConverter.SingleToInt32Bits));
    }

    /// <summary>
    /// 10 channels of 16 values each (160 in all): one 256-entry palette with 8-bit indices would take 11,024 bytes,
    /// ten 16-entry palettes with 4-bit indices 5,640; the encoder takes the smaller.
    /// </summary>
    [Fact]
    public void SmallerOfWholeTensorAndPerSlicePalettesWins()
    {
        var values = Enumerable.Range(0, 10).SelectMany(c => FromPalette(500 + c, 1000, 16)).ToArray();
        var t = new Tensor(DataType.Float, new[] { 10, 1000 }, values);
        var encoded = PaletteEncoder.TryEncode(t)!;
        Assert.Equal((10, 4, 4), (encoded.Groups, encoded.Bits, encoded.EntryBytes));
        Assert.Equal(10 * 16 * 4 + 5000, encoded.Bytes.Length);
        Assert.Equal(values.Select(BitConverter.SingleToInt32Bits), Decode(t, encoded).Select(BitConverter.SingleToInt32Bits));
    }

    /// <summary>
    /// Palettes of a matrix in the GEMV layout (wide blocks, narrow panels, zero padding that is not a palette value)
    /// decode into exactly the layout the compiler produces from the plain matrix, for one palette per column
    /// (per-neuron clustering) or one for the whole matrix, float32 and float16 entries.
    /// </summary>
    [Theory]
    [InlineData(48, 1, true)]
    [InlineData(48, 17, true)]
    [InlineData(48, 64, true)]
    [InlineData(47, 65, true)]
    [InlineData(50, 130, true)]
    [InlineData(47, 65, false)]
    [InlineData(50, 130, false)]
    public void GemvPalettesDecodeIntoTheLayout(int k, int n, bool perColumn)
    {
        foreach (bool halves in new[] { false, true })
        {
            // B stored transposed (n×k, Gemm transB=1): row c holds column c's values.
            var b = (perColumn ? Enumerable.Range(0, n).SelectMany(c => FromPalette(700 + c, k, 16)) : FromPalette(700, k * n, 16))
                .Select(v => float.IsNaN(v) ? 1.5f : halves ? (float)(Half)v : v).ToArray();
            var laidOut = GemvLayout.LayOut(new Tensor(DataType.Float, new[] { n, k }, b), k, transposed: true, k, n);
            var encoded = PaletteEncoder.TryEncodeColumns(laidOut, GemvLayout.ColumnOf(k, n), n);
            Assert.NotNull(encoded);
            Assert.Equal((perColumn ? n : 1, 4, halves ? 2 : 4), (encoded!.Groups, encoded.Bits, encoded.EntryBytes));
            Assert.Equal(encoded.Groups * 16 * encoded.EntryBytes + (k * n + 1) / 2, encoded.Bytes.Length);
            var decoded = AotInfer.Kernels.Linear.GemvWeights.DecodePalette(System.Text.Encoding.ASCII.GetBytes(Convert.ToBase64String(encoded.Bytes)), k, n, encoded.Groups, encoded.EntryBytes);
            Assert.Equal(laidOut.As<float>().Select(BitConverter.SingleToInt32Bits), decoded.Select(BitConverter.SingleToInt32Bits));
        }
    }

    /// <summary>
    /// A Gemm clustered per output channel with float16 centroids: every weight is a half, the generated source stores
    /// 2-byte palette entries (its constants shrink accordingly), and the compiled model agrees with ONNX Runtime.
    /// </summary>
    [Fact]
    public void HalfCodebookClusteredGemmStoresTwoByteEntriesAndMatchesOnnxRuntime()
    {
        int k = 120, n = 50;
        var proto = new OnnxModelBuilder(13).Input("a", DataType.Float, 1, k)
            .Initializer("w", Differential.RandomFloats(11, k * n), n, k)
            .Node("Gemm", new[] { "a", "w" }, new[] { "y" }, ("transB", 1L))
            .Output("y", DataType.Float).Build();
        WeightClustering.Cluster(proto, 16, perChannel: true, init: ClusterInit.Optimal, codebook: CodebookPrecision.Float16);
        var w = new GraphEditor(proto).ReadFloat("w")!;
        Assert.All(w.As<float>(), v => Assert.True(HalfPrecision.TryToHalf(BitConverter.SingleToUInt32Bits(v), out _), $"{v} is not a half"));
        Assert.Equal(2, PaletteEncoder.TryEncode(w)!.EntryBytes);

        var model = ModelWriter.ToBytes(proto);
        var result = ModelCompiler.Compile(model, new CompileOptions());
        // Batch 1: the weights are re-laid out for the GEMV and keep one palette per output neuron (column).
        Assert.Matches(@"GemvWeights\.DecodePalette\(""[^""]+""u8, 120, 50, 50, 2\)", result.Source);
        Assert.Equal(50 * 16 * 2 + 6000 / 2, result.ConstantBytes);
        AssertGemmMatchesOnnxRuntime(model, k, n, SparseMode.Auto);
    }

    /// <summary>A Conv clustered per output channel with float16 centroids: one 2-byte-entry palette per channel, ONNX Runtime's answers.</summary>
    [Fact]
    public void HalfCodebookClusteredConvStoresTwoByteEntriesAndMatchesOnnxRuntime()
    {
        var proto = new OnnxModelBuilder(13).Input("x", DataType.Float, 1, 8, 10, 10)
            .Initializer("w", Differential.RandomFloats(12, 16 * 8 * 3 * 3), 16, 8, 3, 3)
            .Initializer("b", Differential.RandomFloats(13, 16), 16)
            .Node("Conv", new[] { "x", "w", "b" }, new[] { "y" }, ("pads", new long[] { 1, 1, 1, 1 }))
            .Output("y", DataType.Float).Build();
        WeightClustering.Cluster(proto, 16, perChannel: true, codebook: CodebookPrecision.Float16);
        var model = ModelWriter.ToBytes(proto);
        var result = ModelCompiler.Compile(model, new CompileOptions());
        Assert.Matches(@"WeightData\.DecodePalette\(""[^""]+""u8, 1152, 4, 16, 16, 2\)", result.Source);
        Differential.AssertAgrees(model, inputs: (new[] { 1, 8, 10, 10 }, Differential.RandomFloats(14, 800)));
    }

    /// <summary>
    /// Pruned, then clustered per output neuron (16 values each, the pruned zero among them): the sparse layouts keep
    /// one palette per column through the blocks' lanes, the values decode exactly, and the model agrees with ONNX Runtime.
    /// </summary>
    [Theory]
    [InlineData(SparseMode.Rows)]
    [InlineData(SparseMode.Blocks4x1)]
    [InlineData(SparseMode.Blocks8x1)]
    [InlineData(SparseMode.Bands)]
    public void PrunedPerChannelClusteredGemmKeepsColumnPalettesInSparseLayouts(SparseMode mode)
    {
        int k = 200, n = 45;
        var w = Differential.RandomFloats(21, k * n);
        var random = new Random(22);
        for (int i = 0; i < w.Length; i++) if (random.NextDouble() < 0.8) w[i] = 0;
        var proto = new OnnxModelBuilder(13).Input("a", DataType.Float, 1, k)
            .Initializer("w", w, n, k)
            .Node("Gemm", new[] { "a", "w" }, new[] { "y" }, ("transB", 1L))
            .Output("y", DataType.Float).Build();
        WeightClustering.Cluster(proto, 16, perChannel: true, init: ClusterInit.Optimal, codebook: CodebookPrecision.Float16);
        var model = ModelWriter.ToBytes(proto);
        var result = ModelCompiler.Compile(model, new CompileOptions { Sparse = mode });
        Assert.Matches(@"Sparse\.BlockSparseMatrix\.DecodePalette\(""[^""]+""u8, Constants\.c\d+, \d, 45, 45, 2\)", result.Source);
        AssertGemmMatchesOnnxRuntime(model, k, n, mode);
    }

    /// <summary>int8 and uint8 tensors with at most 16 values per output channel (or in all) decode byte for byte.</summary>
    [Theory]
    [InlineData(DataType.Int8, 1)]
    [InlineData(DataType.Int8, 30)]
    [InlineData(DataType.UInt8, 30)]
    public void BytePalettesRoundTripByteForByte(DataType type, int channels)
    {
        var random = new Random(channels);
        var palettes = Enumerable.Range(0, channels).Select(_ => Enumerable.Range(0, 16).Select(_ => (byte)random.Next(256)).ToArray()).ToArray();
        int perChannel = 180;
        var raw = Enumerable.Range(0, channels * perChannel).Select(i => palettes[i / perChannel][random.Next(16)]).ToArray();
        var t = type == DataType.Int8
            ? new Tensor(type, new[] { channels, 5, 36 }, raw.Select(b => (sbyte)b).ToArray())
            : new Tensor(type, new[] { channels, 5, 36 }, raw);
        var encoded = PaletteEncoder.TryEncodeBytes(t);
        Assert.NotNull(encoded);
        Assert.Equal((channels, 1), (encoded!.Groups, encoded.EntryBytes));
        Assert.Equal(channels * 16 + raw.Length / 2 + raw.Length % 2, encoded.Bytes.Length);
        var utf8 = System.Text.Encoding.ASCII.GetBytes(Convert.ToBase64String(encoded.Bytes));
        var decoded = type == DataType.Int8
            ? WeightData.DecodeBytePalette<sbyte>(utf8, raw.Length, encoded.Groups).Select(v => (byte)v).ToArray()
            : WeightData.DecodeBytePalette<byte>(utf8, raw.Length, encoded.Groups);
        Assert.Equal(raw, decoded);
    }

    [Fact]
    public void BytesWithManyValuesOrFewElementsStayRaw()
    {
        var many = Enumerable.Range(0, 300).Select(i => (sbyte)(i % 17 - 8)).ToArray();
        Assert.Null(PaletteEncoder.TryEncodeBytes(new Tensor(DataType.Int8, new[] { 300 }, many)));
        Assert.Null(PaletteEncoder.TryEncodeBytes(new Tensor(DataType.Int8, new[] { 2, 20 }, new sbyte[40])));
        Assert.Null(PaletteEncoder.TryEncodeBytes(new Tensor(DataType.Int32, new[] { 100 }, new int[100])));
        Assert.Throws<InvalidOperationException>(() => WeightData.DecodeBytePalette<int>("AAAA"u8, 4, 1));
    }

    /// <summary>
    /// Clustered per channel (16 values), then quantised to int8 per channel: the int8 weights keep at most 16 integers
    /// per output channel, the generated source stores the Gemm's as 4-bit indices into byte palettes, and the
    /// compiled integer model agrees with ONNX Runtime on the same QDQ file.
    /// </summary>
    [Fact]
    public void ClusteredInt8WeightsAreStoredAsBytePalettesAndAgreeWithOnnxRuntime()
    {
        var proto = AotInfer.Tests.Optimize.OptimizeTestModels.SmallCnn();
        WeightClustering.Cluster(proto, 16, perChannel: true);
        var settings = new AotInfer.Optimize.Quantization.QuantizeSettings { PerChannel = true, ReportSamples = 0 };
        AotInfer.Optimize.Quantization.StaticQuantizer.Quantize(proto, AotInfer.Tests.Optimize.OptimizeTestModels.Samples(32), settings,
            (m, d, e) => new AotInfer.Cli.Optimize.OnnxRuntimeRunner(m, d, e));
        var model = ModelWriter.ToBytes(proto);
        var result = ModelCompiler.Compile(model, new CompileOptions());
        // The Gemm's 5×108 int8 weights: 5 palettes of 16 bytes and 540 nibbles, 350 bytes instead of 540.
        Assert.Matches(@"WeightData\.DecodeBytePalette<sbyte>\(""[^""]+""u8, 540, 5\)", result.Source);
        var output = proto.Graph.Node.Single(n => n.Output.Contains("y"));
        float step = new GraphEditor(proto).ReadFloat(output.Input[1])!.As<float>()[0];
        for (int seed = 11; seed <= 13; seed++)
            Differential.AssertAgrees(model, rtol: 0, atol: 1.01 * step,
                inputs: (AotInfer.Tests.Optimize.OptimizeTestModels.InputShape, AotInfer.Tests.Optimize.OptimizeTestModels.Input(seed)));
    }

    /// <summary>The compiled 1×k → n Gemm model gives ONNX Runtime's outputs on a random input.</summary>
    static void AssertGemmMatchesOnnxRuntime(byte[] model, int k, int n, SparseMode mode)
    {
        var input = (new[] { 1, k }, (Array)Differential.RandomFloats(3, k));
        var expected = (float[])Differential.RunOnnxRuntime(model, input)[0];
        var compiled = Differential.CompileModel(model, configure: o => o.Sparse = mode);
        var actual = new float[n];
        compiled.Run(new Array[] { input.Item2 }, new Array[] { actual });
        for (int j = 0; j < n; j++) Assert.True(Math.Abs(expected[j] - actual[j]) <= 1e-4 + 1e-4 * Math.Abs(expected[j]), $"y[{j}] = {actual[j]}, ORT {expected[j]}");
    }
}
