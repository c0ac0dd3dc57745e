using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using AotInfer.Optimize.Onnx;
using AotInfer.Optimize.Quantization;

namespace AotInfer.Cli.Optimize;

/// <summary>
/// <c>quantize MODEL -o OUT --dataset SPEC [--samples 256] [--method minmax|percentile|entropy|mse] [--format qdq|qoperator]
/// [--per-channel] [--symmetric] [--activations int8|uint8] [--exclude NODE,...] [--report-samples N] [--runtime aotinfer|ort]
/// [--report-runtime ort|aotinfer]</c>: static post-training quantisation to QDQ or QOperator ONNX with a per-layer
/// error report (also stored in the model for <c>report</c>); <c>quantize MODEL -o OUT --dynamic [--per-channel]
/// [--exclude NODE,...]</c>: weight-only quantisation with no data. Calibration runs the float model
/// with AotInfer by default; the report runs the QDQ model with ONNX Runtime by default (AotInfer's QDQ support is
/// being built).
/// </summary>
public static class QuantizeCommand
{
    /// <summary>Runs the verb.</summary>
    public static int Run(Arguments args)
    {
        var (input, output) = TransformCommands.Paths(args, "quantize");
        if (args.Has("--dynamic")) return Dynamic(args, input, output);
        var calibration = EvalCommand.LoadDataset(args, "--dataset", "--samples");
        if (!args.Has("--samples")) calibration = calibration.Take(256);
        var settings = new QuantizeSettings
        {
            Method = args.Get("--method", "minmax") switch
            {
                "minmax" => CalibrationMethod.MinMax,
                "percentile" => CalibrationMethod.Percentile,
                "entropy" => CalibrationMethod.Entropy,
                "mse" => CalibrationMethod.Mse,
                var m => throw new UsageException($"--method '{m}' must be minmax, percentile, entropy or mse"),
            },
            Format = args.Get("--format", "qdq") switch
            {
                "qdq" => QuantizedFormat.Qdq,
                "qoperator" => QuantizedFormat.QOperator,
                var f => throw new UsageException($"--format '{f}' must be qdq or qoperator"),
            },
            PerChannel = args.Has("--per-channel"),
            Symmetric = args.Has("--symmetric"),
            SignedActivations = args.Get("--activations", "uint8") switch
            {
                "uint8" => false,
                "int8" => true,
                var a => throw new UsageException($"--activations '{a}' must be int8 or uint8"),
            },
            ReportSamples = (int)args.GetDouble("--report-samples", 64),
        };
        foreach (var name in Excludes(args)) settings.Exclude.Add(name);
        var model = ModelWriter.Load(input);
        QuantizeReport report;
        try { report = StaticQuantizer.Quantize(model, calibration, settings, Runners.Get(args.Get("--runtime")), Path.GetDirectoryName(Path.GetFullPath(input)), Runners.Get(args.Get("--report-runtime", "ort"))); }
        catch (NotSupportedException e) { Console.Error.WriteLine("aotinfer: " + e.Message); return 1; }
        ModelWriter.Write(model, output);

        var c = CultureInfo.InvariantCulture;
        Console.WriteLine($"calibrated {report.Ranges.Count} activations on {calibration.Count} samples ({settings.Method}); quantized {report.QuantizedLayers} layers");
        foreach (var (name, range) in report.Ranges) Console.WriteLine(string.Format(c, "  range {0,-32} [{1:G5}, {2:G5}]", name, range.Low, range.High));
        if (report.Layers.Count > 0)
        {
            Console.WriteLine("layer                          op      SQNR dB   max error");
            foreach (var l in report.Layers) Console.WriteLine(string.Format(c, "{0,-30} {1,-6} {2,8:F1}  {3,10:G4}", l.Layer, l.OpType, l.Sqnr, l.MaxError));
        }
        Console.WriteLine(TransformCommands.Sizes(input, output));
        return 0;
    }

    /// <summary><c>--dynamic</c>: int8 weights, activations quantised at run time; no calibration data.</summary>
    static int Dynamic(Arguments args, string input, string output)
    {
        foreach (var option in new[] { "--dataset", "--method", "--format", "--activations", "--symmetric", "--samples" })
            if (args.Has(option)) throw new UsageException($"{option} does not apply to --dynamic (weights only; activations are quantised at run time)");
        var model = ModelWriter.Load(input);
        DynamicQuantizeReport report;
        try { report = DynamicQuantizer.Quantize(model, args.Has("--per-channel"), new HashSet<string>(Excludes(args), StringComparer.Ordinal), Path.GetDirectoryName(Path.GetFullPath(input))); }
        catch (NotSupportedException e) { Console.Error.WriteLine("aotinfer: " + e.Message); return 1; }
        ModelWriter.Write(model, output);
        Console.WriteLine($"dynamic quantisation: {report.Layers.Count} layers with int8 weights ({string.Join(", ", report.Layers)})");
        foreach (var s in report.Skipped) Console.WriteLine("  kept float: " + s);
        Console.WriteLine(TransformCommands.Sizes(input, output));
        return 0;
    }

    static IEnumerable<string> Excludes(Arguments args) =>
        (args.Get("--exclude") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(n => n.Trim());
}
