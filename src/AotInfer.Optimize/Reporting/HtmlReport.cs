using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace AotInfer.Optimize.Reporting;

/// <summary>
/// The <c>report</c> page: one self-contained HTML file (inline SVG, inline CSS, nothing fetched) with a table of
/// the variants and four plots — accuracy vs stored size, accuracy vs latency, per-layer error of quantised
/// variants, and weight histograms of the base model against each variant.
/// </summary>
public static class HtmlReport
{
    /// <summary>Number of weight histogram bins.</summary>
    public const int HistogramBins = 80;

    static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>Renders the page; <paramref name="variants"/>[0] is the base model.</summary>
    public static string Render(IReadOnlyList<VariantMeasurement> variants, string datasetDescription)
    {
        if (variants.Count == 0) throw new ArgumentException("the report needs at least one model", nameof(variants));
        var page = new StringBuilder();
        page.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>AotInfer optimisation report</title>");
        page.Append("<style>body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin-bottom:16px}")
            .Append("td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}")
            .Append(".plots{display:flex;flex-wrap:wrap;gap:16px}.plot{border:1px solid #ddd}</style></head><body>\n");
        page.Append($"<h1>Optimisation report: {SvgPlot.Escape(variants[0].Name)}</h1>\n");
        page.Append($"<p>Dataset: {SvgPlot.Escape(datasetDescription)}. Latency: median batch-1 run of AotInfer's compiled code. ")
            .Append("Stored bytes: weights in their cheapest encoding (dense, palette or sparse with relative indices), other tensors at their element size. ")
            .Append("Generated weight bytes: the constants the generated class stores, measured by compiling the model; weights × is the base model's over the variant's.</p>\n");
        page.Append(Table(variants));
        page.Append("<div class=\"plots\">\n");
        page.Append(SvgPlot.Scatter("accuracy-vs-size", "Accuracy vs stored size", "stored bytes (log scale)", "top-1 accuracy %",
            variants.Select(v => new PlotPoint(v.Name, v.Stored.Bytes, 100 * v.Accuracy)).ToList(), logX: true)).Append('\n');
        page.Append(SvgPlot.Scatter("accuracy-vs-latency", "Accuracy vs latency", "latency µs (batch 1)", "top-1 accuracy %",
            variants.Select(v => new PlotPoint(v.Name, v.LatencyMicroseconds, 100 * v.Accuracy)).ToList(), logX: false)).Append('\n');
        page.Append(LayerErrorPlot(variants)).Append('\n');
        page.Append(WeightHistogram(variants)).Append('\n');
        page.Append("</div>\n</body></html>\n");
        return page.ToString();
    }

    static string Table(IReadOnlyList<VariantMeasurement> variants)
    {
        var baseline = variants[0];
        var table = new StringBuilder("<table><tr><th>model</th><th>accuracy %</th><th>Δ points</th><th>file bytes</th><th>stored bytes</th><th>compression</th><th>generated weight bytes</th><th>weights ×</th><th>non-zero weights</th><th>latency µs</th></tr>\n");
        foreach (var v in variants)
            table.Append(string.Format(C, "<tr><td>{0}</td><td>{1:F2}</td><td>{2:+0.00;-0.00;0.00}</td><td>{3:N0}</td><td>{4:N0}</td><td>{5:F1}×</td><td>{6:N0}</td><td>{7:F2}×</td><td>{8:N0}</td><td>{9:F1}</td></tr>\n",
                SvgPlot.Escape(v.Name), 100 * v.Accuracy, 100 * (v.Accuracy - baseline.Accuracy), v.FileBytes, v.Stored.Bytes,
                (double)baseline.Stored.Bytes / Math.Max(v.Stored.Bytes, 1), v.GeneratedWeightBytes,
                (double)baseline.GeneratedWeightBytes / Math.Max(v.GeneratedWeightBytes, 1), v.Stored.NonZeroWeights, v.LatencyMicroseconds));
        return table.Append("</table>\n").ToString();
    }

    /// <summary>SQNR per layer of every variant carrying a quantiser report (a note when none does).</summary>
    static string LayerErrorPlot(IReadOnlyList<VariantMeasurement> variants)
    {
        var quantized = variants.Where(v => v.LayerErrors.Count > 0).ToList();
        var layers = quantized.SelectMany(v => v.LayerErrors.Select(e => e.Layer)).Distinct().ToList();
        var series = quantized.Select(v => new PlotSeries(v.Name, layers.Select(l => v.LayerErrors.FirstOrDefault(e => e.Layer == l)?.Sqnr ?? double.NaN).ToArray())).ToList();
        string title = quantized.Count > 0 ? "Per-layer SQNR of quantised variants (dB, higher is better)" : "Per-layer SQNR (no variant carries a quantiser report)";
        return SvgPlot.Bars("layer-error", title, "SQNR dB", layers, series);
    }

    /// <summary>The base model's weight distribution against each variant's, on shared bins.</summary>
    static string WeightHistogram(IReadOnlyList<VariantMeasurement> variants)
    {
        var withWeights = variants.Where(v => v.Weights.Length > 0).ToList();
        double low = withWeights.SelectMany(v => new[] { (double)v.Weights.Min(), v.Weights.Max() }).DefaultIfEmpty(-1).Min();
        double high = withWeights.SelectMany(v => new[] { (double)v.Weights.Min(), v.Weights.Max() }).DefaultIfEmpty(1).Max();
        var series = withWeights.Select(v => new PlotSeries(v.Name, SvgPlot.Bin(v.Weights, low, high, HistogramBins))).ToList();
        return SvgPlot.Histogram("weight-histogram", "Weight histograms before / after", low, high, series);
    }
}
