using System;
using System.Collections.Generic;
using System.Globalization;

namespace AotInfer.Cli;

/// <summary>Parsed command line: positional arguments and <c>--name value</c> / <c>--flag</c> options.</summary>
public sealed class Arguments
{
    readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);

    /// <summary>Positional arguments after the verb.</summary>
    public List<string> Positional { get; } = new();

    /// <summary>Parses <paramref name="args"/>; <paramref name="flags"/> are options that take no value.</summary>
    public static Arguments Parse(IEnumerable<string> args, params string[] flags)
    {
        var result = new Arguments();
        using var e = args.GetEnumerator();
        while (e.MoveNext())
        {
            string a = e.Current;
            // "--name" and short "-o" style options; "-1" stays positional (a negative number).
            if (a.Length > 1 && a[0] == '-' && !char.IsDigit(a[1]))
            {
                if (Array.IndexOf(flags, a) >= 0) { result._options[a] = null; continue; }
                if (!e.MoveNext()) throw new UsageException($"option {a} needs a value");
                result._options[a] = e.Current;
            }
            else result.Positional.Add(a);
        }
        return result;
    }

    /// <summary>True when the option or flag was given.</summary>
    public bool Has(string name) => _options.ContainsKey(name);

    /// <summary>An option's value or <paramref name="fallback"/>.</summary>
    public string? Get(string name, string? fallback = null) => _options.TryGetValue(name, out var v) ? v : fallback;

    /// <summary>A copy without the options <paramref name="names"/> (a verb that reads them differently hands the rest on).</summary>
    public Arguments Without(params string[] names)
    {
        var copy = new Arguments();
        copy.Positional.AddRange(Positional);
        foreach (var (name, value) in _options)
            if (Array.IndexOf(names, name) < 0) copy._options[name] = value;
        return copy;
    }

    /// <summary>A numeric option.</summary>
    public double GetDouble(string name, double fallback) =>
        Get(name) is { } s ? (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : throw new UsageException($"{name} '{s}' is not a number")) : fallback;
}

/// <summary>Bad command line; the message says what.</summary>
public sealed class UsageException(string message) : Exception(message);
