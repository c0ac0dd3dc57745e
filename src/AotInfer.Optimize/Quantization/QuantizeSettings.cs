using System;
using System.Collections.Generic;

namespace AotInfer.Optimize.Quantization;

/// <summary>How a quantised model is written.</summary>
public enum QuantizedFormat
{
    /// <summary>Float operators fed by QuantizeLinear → DequantizeLinear pairs (runtimes fuse them into integer kernels).</summary>
    Qdq,
    /// <summary>Integer operators (QLinearConv, QLinearMatMul) with QuantizeLinear / DequantizeLinear only at the float borders.</summary>
    QOperator,
}

/// <summary>Settings of static post-training quantisation.</summary>
public sealed class QuantizeSettings
{
    /// <summary>How activation ranges are chosen.</summary>
    public CalibrationMethod Method { get; set; } = CalibrationMethod.MinMax;

    /// <summary>How the quantised model is written.</summary>
    public QuantizedFormat Format { get; set; } = QuantizedFormat.Qdq;

    /// <summary>Weights get one scale per output channel (otherwise one per tensor).</summary>
    public bool PerChannel { get; set; }

    /// <summary>Activations use a symmetric range (zero point 0 for int8, 128 for uint8).</summary>
    public bool Symmetric { get; set; }

    /// <summary>Activations are int8 (otherwise uint8).</summary>
    public bool SignedActivations { get; set; }

    /// <summary>Names of nodes (or their first output) left in float; each must name a node of the model.</summary>
    public HashSet<string> Exclude { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Samples used for the per-layer error report (0 to skip it).</summary>
    public int ReportSamples { get; set; } = 64;
}

/// <summary>Error of one quantised layer's output versus the float model on calibration data.</summary>
/// <param name="Layer">Layer name.</param>
/// <param name="OpType">Conv, Gemm or MatMul.</param>
/// <param name="Sqnr">Signal-to-quantisation-noise ratio in dB (higher is better).</param>
/// <param name="MaxError">Largest absolute difference.</param>
public sealed record LayerError(string Layer, string OpType, double Sqnr, double MaxError);

/// <summary>What <see cref="StaticQuantizer.Quantize"/> did.</summary>
/// <param name="Ranges">Activation ranges chosen, by value name.</param>
/// <param name="Layers">Per-layer error report (empty when skipped).</param>
/// <param name="QuantizedLayers">Number of layers quantised.</param>
public sealed record QuantizeReport(IReadOnlyDictionary<string, (float Low, float High)> Ranges, IReadOnlyList<LayerError> Layers, int QuantizedLayers);
