using System;

namespace AotInfer.Kernels.Elementwise;

/// <summary>Functions .NET does not provide: erf and erfc, accurate to double rounding over the whole range.</summary>
public static class SpecialFunctions
{
    const double TwoOverSqrtPi = 1.1283791670955126;

    /// <summary>The error function.</summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        double a = Math.Abs(x);
        if (a < 2.5) return ErfSeries(x);
        double r = 1 - ErfcContinuedFraction(a);
        return x < 0 ? -r : r;
    }

    /// <summary>The complementary error function 1 - erf(x), without cancellation for large x.</summary>
    public static double Erfc(double x)
    {
        if (double.IsNaN(x)) return x;
        if (x < 2.5) return 1 - Erf(x);
        return ErfcContinuedFraction(x);
    }

    static double ErfSeries(double x)
    {
        // erf(x) = 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1)); terms shrink fast for |x| < 2.5.
        double x2 = x * x, term = x, sum = x;
        for (int n = 1; n < 100; n++)
        {
            term *= -x2 / n;
            double add = term / (2 * n + 1);
            sum += add;
            if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
        }
        return TwoOverSqrtPi * sum;
    }

    static double ErfcContinuedFraction(double x)
    {
        if (x > 27) return 0;
        // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated bottom-up.
        double f = x;
        for (int k = 60; k >= 1; k--) f = x + (k / 2.0) / f;
        return Math.Exp(-x * x) / (Math.Sqrt(Math.PI) * f);
    }
}
