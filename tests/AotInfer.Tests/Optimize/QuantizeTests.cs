using System.Linq;
using AotInfer.Cli.Optimize;
using AotInfer.Optimize.Evaluation;
using AotInfer.Optimize.Quantization;
using Google.Protobuf;
using Xunit;

namespace AotInfer.Tests.Optimize;

/// <summary>Static quantisation: QDQ output that ONNX Runtime runs close to the float model.</summary>
public class QuantizeTests
{
    static readonly ModelRunnerFactory Ort = (m, d, e) => new OnnxRuntimeRunner(m, d, e);
    static readonly ModelRunnerFactory Compiled = (m, d, e) => new AotInferRunner(m, d, e);

    [Theory]
    [InlineData(CalibrationMethod.MinMax, false, false)]
    [InlineData(CalibrationMethod.Entropy, true, false)]
    [InlineData(CalibrationMethod.Percentile, true, true)]
    [InlineData(CalibrationMethod.Mse, false, true)]
    public void QdqModelRunsInOnnxRuntimeCloseToFloat(CalibrationMethod method, bool perChannel, bool signed)
    {
        var model = OptimizeTestModels.SmallCnn();
        AotInfer.Optimize.Folding.ModelFolding.Fold(model);
        var float32 = model.Clone();
        var settings = new QuantizeSettings { Method = method, PerChannel = perChannel, SignedActivations = signed, ReportSamples = 8 };
        var report = StaticQuantizer.Quantize(model, OptimizeTestModels.Samples(32), settings, Compiled, quantizedRunners: Ort);
        Assert.Equal(3, report.QuantizedLayers);
        Assert.Equal(3, model.Graph.Node.Count(n => n.OpType == "QuantizeLinear"));
        Assert.Equal(6, model.Graph.Node.Count(n => n.OpType == "DequantizeLinear"));
        Assert.All(report.Layers, l => Assert.True(l.Sqnr > 20, $"{l.Layer}: SQNR {l.Sqnr:F1} dB"));
        var input = OptimizeTestModels.Input(11);
        var expected = OptimizeTestModels.RunOrt(float32, input);
        var actual = OptimizeTestModels.RunOrt(model, input);
        double scale = expected.Max(v => System.Math.Abs(v));
        Assert.True(OptimizeTestModels.MaxDifference(expected, actual) < 0.05 * scale);
    }

    [Fact]
    public void ActivationParametersKeepZeroExact()
    {
        var (scale, zero) = StaticQuantizer.ActivationParameters((-1f, 3f), symmetric: false, signed: false);
        Assert.Equal(4f / 255, scale, 6);
        Assert.Equal(64, zero);
        (scale, zero) = StaticQuantizer.ActivationParameters((0.5f, 2f), symmetric: true, signed: true);
        Assert.Equal(0, zero);
        Assert.Equal(4f / 255, scale, 6);
    }

    [Fact]
    public void EntropyAndPercentileClipALongTail()
    {
        var s = new ActivationStatistics("x");
        var values = Enumerable.Range(0, 100000).Select(i => (float)(i % 1000) / 1000f).Append(100f).ToArray();
        s.ObserveRange(values);
        s.ObserveHistogram(values);
        Assert.Equal(100f, RangeSelection.Choose(s, CalibrationMethod.MinMax).High);
        // MSE may keep a lone outlier (its clipping error outweighs rounding noise), so it is not in this list.
        foreach (var method in new[] { CalibrationMethod.Entropy, CalibrationMethod.Percentile })
        {
            var (low, high) = RangeSelection.Choose(s, method);
            Assert.Equal(0f, low);
            // The KL search starts at 256 of 2048 bins (one per level), so its smallest cut is max/8.
            Assert.InRange(high, 0.5f, method == CalibrationMethod.Entropy ? 13f : 5f);
        }
    }
}
