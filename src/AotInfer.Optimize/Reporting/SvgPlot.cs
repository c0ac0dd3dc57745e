using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Text;

namespace AotInfer.Optimize.Reporting;

/// <summary>A named series of numbers (one colour in a plot).</summary>
/// <param name="Name">Legend text.</param>
/// <param name="Values">The values, one per category or bin.</param>
public sealed record PlotSeries(string Name, double[] Values);

/// <summary>A labelled point of a scatter plot.</summary>
/// <param name="Label">Text beside the point.</param>
/// <param name="X">Horizontal value.</param>
/// <param name="Y">Vertical value.</param>
public sealed record PlotPoint(string Label, double X, double Y);

/// <summary>
/// Inline SVG plots (scatter, grouped bars, step histograms) for a self-contained HTML page: no script, no fonts or
/// files to fetch. Every plot is an <c>&lt;svg class="plot"&gt;</c> whose data is drawn as <c>&lt;path&gt;</c>
/// elements, so a test can find the plots and check their paths in the rendered page.
/// </summary>
public static class SvgPlot
{
    const int Width = 640, Height = 360, Left = 64, Right = 24, Top = 36, Bottom = 52;
    static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>Colours of successive series (colour-blind safe, Okabe–Ito).</summary>
    public static readonly string[] Colors = { "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#000000" };

    /// <summary>A scatter plot of labelled points joined in x order; <paramref name="logX"/> uses a log₁₀ horizontal axis.</summary>
    public static string Scatter(string id, string title, string xLabel, string yLabel, IReadOnlyList<PlotPoint> points, bool logX)
    {
        Func<double, double> fx = logX ? v => Math.Log10(Math.Max(v, 1e-12)) : v => v;
        var (x0, x1) = Padded(points.Select(p => fx(p.X)));
        var (y0, y1) = Padded(points.Select(p => p.Y));
        var svg = Begin(id, title);
        Axes(svg, x0, x1, y0, y1, xLabel, yLabel, logX);
        var ordered = points.OrderBy(p => p.X).ToList();
        var line = new StringBuilder();
        foreach (var p in ordered) line.Append(line.Length == 0 ? "M" : " L").Append(Fmt(X(fx(p.X), x0, x1))).Append(',').Append(Fmt(Y(p.Y, y0, y1)));
        svg.Append($"<path class=\"series\" d=\"{line}\" fill=\"none\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>");
        for (int i = 0; i < points.Count; i++)
        {
            var p = points[i];
            double px = X(fx(p.X), x0, x1), py = Y(p.Y, y0, y1);
            string color = Colors[i % Colors.Length];
            // A point is a small closed path (a diamond) so that every mark is a path with data.
            svg.Append($"<path class=\"point\" d=\"M{Fmt(px)},{Fmt(py - 6)} l6,6 l-6,6 l-6,-6 Z\" fill=\"{color}\"><title>{Escape(p.Label)}: x={Fmt(p.X)}, y={Fmt(p.Y)}</title></path>");
            svg.Append($"<text x=\"{Fmt(px + 8)}\" y=\"{Fmt(py - 8)}\" font-size=\"11\" fill=\"{color}\">{Escape(p.Label)}</text>");
        }
        return End(svg);
    }

    /// <summary>Grouped bars: one group per category, one bar (colour) per series.</summary>
    public static string Bars(string id, string title, string yLabel, IReadOnlyList<string> categories, IReadOnlyList<PlotSeries> series)
    {
        var all = series.SelectMany(s => s.Values).Where(double.IsFinite).DefaultIfEmpty(0).ToList();
        double y0 = Math.Min(0, all.Min()), y1 = Math.Max(all.Max(), y0 + 1) * 1.1;
        var svg = Begin(id, title);
        Axes(svg, 0, Math.Max(categories.Count, 1), y0, y1, "", yLabel, false, categories);
        double group = (Width - Left - Right) / (double)Math.Max(categories.Count, 1);
        double bar = group * 0.8 / Math.Max(series.Count, 1);
        for (int s = 0; s < series.Count; s++)
        {
            var d = new StringBuilder();
            for (int c = 0; c < categories.Count && c < series[s].Values.Length; c++)
            {
                double v = series[s].Values[c];
                if (!double.IsFinite(v)) continue;
                double x = Left + c * group + group * 0.1 + s * bar, top = Y(Math.Max(v, y0), y0, y1), baseLine = Y(y0, y0, y1);
                d.Append($"M{Fmt(x)},{Fmt(baseLine)} V{Fmt(top)} H{Fmt(x + bar * 0.9)} V{Fmt(baseLine)} Z ");
            }
            svg.Append($"<path class=\"series\" d=\"{d.ToString().TrimEnd()}\" fill=\"{Colors[s % Colors.Length]}\"><title>{Escape(series[s].Name)}</title></path>");
        }
        Legend(svg, series.Select(s => s.Name).ToList());
        return End(svg);
    }

    /// <summary>Step histograms over shared bins [<paramref name="low"/>, <paramref name="high"/>]; counts on a log₁₀(1 + n) axis.</summary>
    public static string Histogram(string id, string title, double low, double high, IReadOnlyList<PlotSeries> series)
    {
        double y1 = series.SelectMany(s => s.Values).Select(v => Math.Log10(1 + v)).DefaultIfEmpty(1).Max() * 1.05;
        if (!(y1 > 0)) y1 = 1;
        if (!(high > low)) high = low + 1;
        var svg = Begin(id, title);
        Axes(svg, low, high, 0, y1, "weight value", "log10(1 + count)", false);
        for (int s = 0; s < series.Count; s++)
        {
            var counts = series[s].Values;
            double width = (high - low) / Math.Max(counts.Length, 1);
            var d = new StringBuilder($"M{Fmt(X(low, low, high))},{Fmt(Y(0, 0, y1))}");
            for (int b = 0; b < counts.Length; b++)
            {
                double y = Y(Math.Log10(1 + counts[b]), 0, y1);
                d.Append($" V{Fmt(y)} H{Fmt(X(low + (b + 1) * width, low, high))}");
            }
            d.Append($" V{Fmt(Y(0, 0, y1))}");
            svg.Append($"<path class=\"series\" d=\"{d}\" fill=\"none\" stroke=\"{Colors[s % Colors.Length]}\" stroke-width=\"1.5\"><title>{Escape(series[s].Name)}</title></path>");
        }
        Legend(svg, series.Select(s => s.Name).ToList());
        return End(svg);
    }

    /// <summary>Counts of <paramref name="values"/> in <paramref name="bins"/> equal bins over [low, high].</summary>
    public static double[] Bin(IEnumerable<float> values, double low, double high, int bins)
    {
        var counts = new double[bins];
        double width = (high - low) / bins;
        foreach (float v in values)
        {
            if (!float.IsFinite(v) || width <= 0) continue;
            counts[Math.Clamp((int)((v - low) / width), 0, bins - 1)]++;
        }
        return counts;
    }

    static StringBuilder Begin(string id, string title) => new StringBuilder()
        .Append($"<svg class=\"plot\" id=\"{Escape(id)}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" role=\"img\" aria-label=\"{Escape(title)}\">")
        .Append($"<rect width=\"{Width}\" height=\"{Height}\" fill=\"#fff\"/>")
        .Append($"<text x=\"{Width / 2}\" y=\"20\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">{Escape(title)}</text>");

    static string End(StringBuilder svg) => svg.Append("</svg>").ToString();

    static void Axes(StringBuilder svg, double x0, double x1, double y0, double y1, string xLabel, string yLabel, bool logX, IReadOnlyList<string>? categories = null)
    {
        double bottom = Height - Bottom, right = Width - Right;
        svg.Append($"<path class=\"axis\" d=\"M{Left},{Top} V{Fmt(bottom)} H{Fmt(right)}\" fill=\"none\" stroke=\"#333\"/>");
        for (int i = 0; i <= 4; i++)
        {
            double v = y0 + (y1 - y0) * i / 4, y = Y(v, y0, y1);
            svg.Append($"<text x=\"{Left - 6}\" y=\"{Fmt(y + 4)}\" text-anchor=\"end\" font-size=\"10\">{Fmt(v)}</text>");
            svg.Append($"<path d=\"M{Left},{Fmt(y)} H{Fmt(right)}\" stroke=\"#eee\"/>");
        }
        if (categories is not null)
        {
            double group = (right - Left) / Math.Max(categories.Count, 1);
            for (int c = 0; c < categories.Count; c++)
                svg.Append($"<text x=\"{Fmt(Left + (c + 0.5) * group)}\" y=\"{Fmt(bottom + 14)}\" text-anchor=\"middle\" font-size=\"10\">{Escape(Shorten(categories[c]))}</text>");
        }
        else
            for (int i = 0; i <= 4; i++)
            {
                double v = x0 + (x1 - x0) * i / 4;
                string text = logX ? Fmt(Math.Pow(10, v)) : Fmt(v);
                svg.Append($"<text x=\"{Fmt(X(v, x0, x1))}\" y=\"{Fmt(bottom + 14)}\" text-anchor=\"middle\" font-size=\"10\">{text}</text>");
            }
        svg.Append($"<text x=\"{(Left + right) / 2}\" y=\"{Height - 12}\" text-anchor=\"middle\" font-size=\"12\">{Escape(xLabel)}</text>");
        svg.Append($"<text x=\"14\" y=\"{(Top + bottom) / 2}\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 14 {(Top + bottom) / 2})\">{Escape(yLabel)}</text>");
    }

    static void Legend(StringBuilder svg, IReadOnlyList<string> names)
    {
        for (int i = 0; i < names.Count; i++)
        {
            double y = Top + 4 + 14 * i;
            svg.Append($"<rect x=\"{Width - Right - 150}\" y=\"{Fmt(y)}\" width=\"10\" height=\"10\" fill=\"{Colors[i % Colors.Length]}\"/>");
            svg.Append($"<text x=\"{Width - Right - 136}\" y=\"{Fmt(y + 9)}\" font-size=\"10\">{Escape(Shorten(names[i]))}</text>");
        }
    }

    static (double Low, double High) Padded(IEnumerable<double> values)
    {
        var list = values.Where(double.IsFinite).DefaultIfEmpty(0).ToList();
        double low = list.Min(), high = list.Max(), pad = high > low ? (high - low) * 0.12 : Math.Max(Math.Abs(low) * 0.1, 1);
        return (low - pad, high + pad);
    }

    static double X(double v, double x0, double x1) => Left + (v - x0) / (x1 - x0) * (Width - Left - Right);

    static double Y(double v, double y0, double y1) => Height - Bottom - (v - y0) / (y1 - y0) * (Height - Top - Bottom);

    static string Fmt(double v) => Math.Abs(v) >= 1000 || v == Math.Round(v) ? v.ToString("0.##", C) : v.ToString("0.###", C);

    static string Shorten(string s) => s.Length <= 22 ? s : s.Substring(0, 21) + "…";

    /// <summary>Escapes text for HTML and SVG content and attributes.</summary>
    public static string Escape(string text) => WebUtility.HtmlEncode(text);
}
