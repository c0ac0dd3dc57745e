using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Compiler;
using AotInfer.Kernels.Transformer;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Google.Protobuf;
using Xunit;

namespace AotInfer.Tests.Ops;

/// <summary>Attention and RotaryEmbedding against ONNX Runtime, plus kernel edge cases.</summary>
public class TransformerTests
{
    /// <summary>Opset 23/24 models need an IR version that knows those opsets.</summary>
    static byte[] Serialize(OnnxModelBuilder builder)
    {
        var model = builder.Build();
        model.IrVersion = 11;
        return model.ToByteArray();
    }

    static (int[] Shape, Array Data) Floats(int seed, params int[] shape) =>
        (shape, Differential.RandomFloats(seed, shape.Aggregate(1, (a, b) => a * b), -1, 1));

    [Theory]
    [InlineData(4, 4, false, false, 0, 0f)]       // multi-head
    [InlineData(6, 2, false, false, 0, 0f)]       // grouped-query
    [InlineData(4, 2, true, false, 0, 0f)]        // causal with past: the diagonal is offset by the past length
    [InlineData(4, 4, false, true, 2, 0f)]        // additive mask, scores after the mask
    [InlineData(4, 4, false, true, 1, 1.5f)]      // softcap, scores after the softcap
    [InlineData(6, 3, true, true, 3, 2f)]         // everything, probabilities as scores
    public void FourDimensionalAttentionMatchesOnnxRuntime(int queryHeads, int kvHeads, bool causal, bool mask, int mode, float softcap)
    {
        const int batch = 2, querySequence = 3, newSequence = 3, past = 2, headSize = 8, valueHeadSize = 5;
        int total = past + newSequence;
        var builder = new OnnxModelBuilder(23)
            .Input("q", DataType.Float, batch, queryHeads, querySequence, headSize)
            .Input("k", DataType.Float, batch, kvHeads, newSequence, headSize)
            .Input("v", DataType.Float, batch, kvHeads, newSequence, valueHeadSize);
        var inputs = new List<(int[], Array)>
        {
            Floats(1, batch, queryHeads, querySequence, headSize),
            Floats(2, batch, kvHeads, newSequence, headSize),
            Floats(3, batch, kvHeads, newSequence, valueHeadSize),
        };
        if (mask)
        {
            builder.Input("mask", DataType.Float, querySequence, total);
            inputs.Add(Floats(4, querySequence, total));
        }
        builder.Input("past_k", DataType.Float, batch, kvHeads, past, headSize).Input("past_v", DataType.Float, batch, kvHeads, past, valueHeadSize);
        inputs.Add(Floats(5, batch, kvHeads, past, headSize));
        inputs.Add(Floats(6, batch, kvHeads, past, valueHeadSize));

        var attributes = new List<(string, object)> { ("is_causal", causal ? 1L : 0L), ("qk_matmul_output_mode", (long)mode) };
        if (softcap > 0) attributes.Add(("softcap", softcap));
        builder.Node("Attention", new[] { "q", "k", "v", mask ? "mask" : "", "past_k", "past_v" }, new[] { "y", "present_k", "present_v", "qk" }, attributes.ToArray())
            .Output("y", DataType.Float).Output("present_k", DataType.Float).Output("present_v", DataType.Float).Output("qk", DataType.Float);
        Differential.AssertAgrees(Serialize(builder), inputs: inputs.ToArray());
    }

    [Theory]
    [InlineData(false, 0f, 0f)]
    [InlineData(true, 0.25f, 0f)]
    [InlineData(true, 0f, 3f)]
    public void ThreeDimensionalAttentionMatchesOnnxRuntime(bool causal, float scale, float softcap)
    {
        const int batch = 2, querySequence = 4, kvSequence = 6, queryHeads = 4, kvHeads = 2, headSize = 6, valueHeadSize = 4;
        var attributes = new List<(string, object)> { ("q_num_heads", (long)queryHeads), ("kv_num_heads", (long)kvHeads), ("is_causal", causal ? 1L : 0L) };
        if (scale > 0) attributes.Add(("scale", scale));
        if (softcap > 0) attributes.Add(("softcap", softcap));
        var builder = new OnnxModelBuilder(23)
            .Input("q", DataType.Float, batch, querySequence, queryHeads * headSize)
            .Input("k", DataType.Float, batch, kvSequence, kvHeads * headSize)
            .Input("v", DataType.Float, batch, kvSequence, kvHeads * valueHeadSize)
            .Node("Attention", new[] { "q", "k", "v" }, new[] { "y" }, attributes.ToArray())
            .Output("y", DataType.Float);
        Differential.AssertAgrees(Serialize(builder), inputs: new[]
        {
            Floats(11, batch, querySequence, queryHeads * headSize),
            Floats(12, batch, kvSequence, kvHeads * headSize),
            Floats(13, batch, kvSequence, kvHeads * valueHeadSize),
        });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void NonPaddedKeyLengthsMatchOnnxRuntime(bool causal)
    {
        // Opset 24's static-cache form: 6 key slots of which the first 4 and 6 are valid; causal queries sit at the end.
        const int batch = 2, heads = 2, querySequence = 2, kvSequence = 6, headSize = 4;
        var builder = new OnnxModelBuilder(24)
            .Input("q", DataType.Float, batch, heads, querySequence, headSize)
            .Input("k", DataType.Float, batch, heads, kvSequence, headSize)
            .Input("v", DataType.Float, batch, heads, kvSequence, headSize)
            .Input("lengths", DataType.Int64, batch)
            .Node("Attention", new[] { "q", "k", "v", "", "", "", "lengths" }, new[] { "y" }, ("is_causal", causal ? 1L : 0L))
            .Output("y", DataType.Float);
        Differential.AssertAgrees(Serialize(builder), inputs: new[]
        {
            Floats(51, batch, heads, querySequence, headSize),
            Floats(52, batch, heads, kvSequence, headSize),
            Floats(53, batch, heads, kvSequence, headSize),
            (new[] { batch }, (Array)new long[] { 4, 6 }),
        });
    }

    [Fact]
    public void BooleanMaskBroadcastOverHeadsMatchesOnnxRuntime()
    {
        const int batch = 2, heads = 3, sequence = 4, headSize = 8;
        var random = new Random(21);
        // Keep key 0 visible so that no row is fully masked.
        var mask = Enumerable.Range(0, batch * sequence * sequence).Select(i => i % sequence == 0 || random.NextDouble() < 0.6).ToArray();
        var builder = new OnnxModelBuilder(23)
            .Input("q", DataType.Float, batch, heads, sequence, headSize)
            .Input("k", DataType.Float, batch, heads, sequence, headSize)
            .Input("v", DataType.Float, batch, heads, sequence, headSize)
            .Input("mask", DataType.Bool, batch, 1, sequence, sequence)
            .Node("Attention", new[] { "q", "k", "v", "mask" }, new[] { "y" })
            .Output("y", DataType.Float);
        Differential.AssertAgrees(Serialize(builder), inputs: new[]
        {
            Floats(31, batch, heads, sequence, headSize),
            Floats(32, batch, heads, sequence, headSize),
            Floats(33, batch, heads, sequence, headSize),
            (new[] { batch, 1, sequence, sequence }, (Array)mask),
        });
    }

    [Theory]
    [InlineData(false, 0, true, false)]
    [InlineData(true, 0, true, false)]
    [InlineData(false, 4, true, true)]
    [InlineData(true, 4, false, false)]
    [InlineData(false, 0, false, true)]
    public void RotaryEmbeddingMatchesOnnxRuntime(bool interleaved, int rotaryDim, bool positionIds, bool threeDimensional)
    {
        const int batch = 2, heads = 3, sequence = 5, headSize = 8, maxPosition = 12;
        int half = (rotaryDim == 0 ? headSize : rotaryDim) / 2;
        int[] inputShape = threeDimensional ? new[] { batch, sequence, heads * headSize } : new[] { batch, heads, sequence, headSize };
        int[] cacheShape = positionIds ? new[] { maxPosition, half } : new[] { batch, sequence, half };
        var attributes = new List<(string, object)> { ("interleaved", interleaved ? 1L : 0L), ("rotary_embedding_dim", (long)rotaryDim) };
        if (threeDimensional) attributes.Add(("num_heads", (long)heads));
        var builder = new OnnxModelBuilder(23)
            .Input("x", DataType.Float, inputShape).Input("cos", DataType.Float, cacheShape).Input("sin", DataType.Float, cacheShape);
        if (positionIds) builder.Input("pos", DataType.Int64, batch, sequence);
        builder.Node("RotaryEmbedding", positionIds ? new[] { "x", "cos", "sin", "pos" } : new[] { "x", "cos", "sin" }, new[] { "y" }, attributes.ToArray())
            .Output("y", DataType.Float);
        var inputs = new List<(int[], Array)> { Floats(41, inputShape), Floats(42, cacheShape), Floats(43, cacheShape) };
        if (positionIds)
        {
            var random = new Random(44);
            inputs.Add((new[] { batch, sequence }, Enumerable.Range(0, batch * sequence).Select(_ => (long)random.Next(maxPosition)).ToArray()));
        }
        Differential.AssertAgrees(Serialize(builder), inputs: inputs.ToArray());
    }

    [Fact]
    public void FullyMaskedRowGivesNaNLikeTheReference()
    {
        // One query, two keys, both masked out: softmax over −∞ only has no answer.
        var geometry = new AttentionGeometry(1, 1, 1, 1, 2, 0, 2, 2, headsPacked: false);
        var output = new float[2];
        ScaledDotProductAttention.Compute<float>(new float[] { 1, 2 }, new float[] { 1, 0, 0, 1 }, new float[] { 1, 2, 3, 4 },
            ReadOnlySpan<float>.Empty, new[] { false, false }, new[] { 1, 1, 1, 2 }, ReadOnlySpan<float>.Empty, ReadOnlySpan<float>.Empty,
            ReadOnlySpan<long>.Empty, output, Span<float>.Empty, Span<float>.Empty, Span<float>.Empty,
            geometry, new AttentionOptions(1, 0, false, AttentionScoresStage.None), new float[geometry.ScratchLength]);
        Assert.All(output, v => Assert.True(float.IsNaN(v)));
    }

    [Fact]
    public void ShortMaskAndPaddingHideTrailingKeys()
    {
        // Three keys with values 10, 20, 30 and equal scores. A mask of one column hides keys 1 and 2; padding
        // lengths of 2 hide key 2 only.
        var geometry = new AttentionGeometry(1, 1, 1, 1, 3, 0, 1, 1, headsPacked: false);
        var options = new AttentionOptions(1, 0, false, AttentionScoresStage.None);
        var output = new float[1];
        ScaledDotProductAttention.Compute<float>(new float[] { 0 }, new float[] { 0, 0, 0 }, new float[] { 10, 20, 30 },
            new float[] { 0 }, ReadOnlySpan<bool>.Empty, new[] { 1, 1, 1, 1 }, ReadOnlySpan<float>.Empty, ReadOnlySpan<float>.Empty,
            ReadOnlySpan<long>.Empty, output, Span<float>.Empty, Span<float>.Empty, Span<float>.Empty, geometry, options, new float[geometry.ScratchLength]);
        Assert.Equal(10f, output[0], 5);
        ScaledDotProductAttention.Compute<float>(new float[] { 0 }, new float[] { 0, 0, 0 }, new float[] { 10, 20, 30 },
            ReadOnlySpan<float>.Empty, ReadOnlySpan<bool>.Empty, ReadOnlySpan<int>.Empty, ReadOnlySpan<float>.Empty, ReadOnlySpan<float>.Empty,
            new long[] { 2 }, output, Span<float>.Empty, Span<float>.Empty, Span<float>.Empty, geometry, options, new float[geometry.ScratchLength]);
        Assert.Equal(15f, output[0], 5);
    }

    [Fact]
    public void HeadCountThatDoesNotDivideIsADiagnostic()
    {
        var model = Serialize(new OnnxModelBuilder(23)
            .Input("q", DataType.Float, 1, 5, 2, 4).Input("k", DataType.Float, 1, 2, 2, 4).Input("v", DataType.Float, 1, 2, 2, 4)
            .Node("Attention", new[] { "q", "k", "v" }, new[] { "y" })
            .Output("y", DataType.Float));
        var result = ModelCompiler.Compile(model, new CompileOptions());
        Assert.False(result.Success);
        Assert.Contains(result.Diagnostics, d => d.ToString().Contains("not a multiple of kv_num_heads"));
    }
}
