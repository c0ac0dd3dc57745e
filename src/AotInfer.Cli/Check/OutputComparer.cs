using System;

namespace AotInfer.Cli.Check;

/// <summary>
/// Compares an output with its reference: floats within atol + rtol·|expected| (NaN equals NaN), integers within
/// <see cref="IntegerTolerance"/> units. A float output that a per-tensor DequantizeLinear computes encodes an integer
/// (value = (q − zero point) · scale), so it is also accepted within <see cref="IntegerTolerance"/> quanta (scale ·
/// units): two correct int8 implementations may round one quantisation step differently, and that is the same
/// one-unit difference the integer outputs are allowed.
/// </summary>
public sealed record OutputComparer(double RelativeTolerance, double AbsoluteTolerance, long IntegerTolerance)
{
    /// <summary>Smallest relative tolerance for float16 outputs: 4 units in the last place (2^-8).</summary>
    public const double Float16RelativeTolerance = 1.0 / 256;

    /// <summary>Smallest absolute tolerance for float16 outputs.</summary>
    public const double Float16AbsoluteTolerance = 1e-4;

    /// <summary>Null when equal enough, else a description of the worst element; <paramref name="quantum"/> is the scale of a dequantised output, or 0.</summary>
    public string? Compare(Array actual, Array expected, string name, double quantum = 0)
    {
        if (actual.Length != expected.Length) return $"output '{name}' has {actual.Length} elements, expected {expected.Length}";
        bool isFloat = RuntimeArrays.IsFloat(expected);
        // float16 keeps 11 significant bits (one unit in the last place is ~1e-3 relative), so after many layers two
        // correct implementations differ by a few units: compare float16 outputs to 4 units, not to 1e-3.
        double rtol = expected is Half[] ? Math.Max(RelativeTolerance, Float16RelativeTolerance) : RelativeTolerance;
        double atol = expected is Half[] ? Math.Max(AbsoluteTolerance, Float16AbsoluteTolerance) : AbsoluteTolerance;
        double maxAbs = 0, maxRel = 0;
        int worst = -1, failures = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double a = RuntimeArrays.At(actual, i), e = RuntimeArrays.At(expected, i);
            if (double.IsNaN(e) && double.IsNaN(a)) continue;
            if (a == e) continue; // equal infinities too
            double diff = Math.Abs(a - e);
            bool ok = isFloat ? diff <= atol + rtol * Math.Abs(e) || WithinQuanta(diff, quantum) : diff <= IntegerTolerance;
            if (double.IsNaN(diff)) { ok = false; diff = double.PositiveInfinity; }
            if (!ok)
            {
                failures++;
                if (worst < 0 || diff > maxAbs) worst = i;
            }
            if (diff > maxAbs) maxAbs = diff;
            double rel = diff / Math.Max(Math.Abs(e), 1e-30);
            if (rel > maxRel && !double.IsInfinity(rel)) maxRel = rel;
        }
        if (failures == 0) return null;
        return FormattableString.Invariant(
            $"output '{name}': {failures} of {expected.Length} elements differ; max abs error {maxAbs:G4}, max rel error {maxRel:G4}; worst at {worst}: got {RuntimeArrays.At(actual, worst):G9}, expected {RuntimeArrays.At(expected, worst):G9}");
    }

    // A relative slack of 1e-6 absorbs the float rounding of (q − z) · scale on both sides.
    bool WithinQuanta(double diff, double quantum) => quantum > 0 && IntegerTolerance > 0 && diff <= IntegerTolerance * quantum * (1 + 1e-6);
}
