using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace MnistApp;

/// <summary>One reference test set shipped with the model: a 28×28 image (raw 0–255 pixels) and the expected scores.</summary>
/// <param name="Name">The test set's folder name.</param>
/// <param name="Image">The model input, 784 floats.</param>
/// <param name="ExpectedScores">The reference output, one score per digit.</param>
internal sealed record Sample(string Name, float[] Image, float[] ExpectedScores)
{
    /// <summary>The digit the reference output predicts.</summary>
    public int ExpectedDigit => Scores.ArgMax(ExpectedScores);

    /// <summary>Loads every <c>test_data_set_*</c> folder under <paramref name="folder"/>, in name order.</summary>
    public static IReadOnlyList<Sample> LoadAll(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"sample folder '{folder}' is missing");
        return Directory.GetDirectories(folder, "test_data_set_*")
            .OrderBy(d => d, StringComparer.Ordinal)
            .Select(d => new Sample(Path.GetFileName(d),
                TensorProtoFile.ReadFloats(Path.Combine(d, "input_0.pb")),
                TensorProtoFile.ReadFloats(Path.Combine(d, "output_0.pb"))))
            .ToList();
    }
}

/// <summary>Helpers for score vectors.</summary>
internal static class Scores
{
    /// <summary>The index of the largest score (the first one on ties).</summary>
    public static int ArgMax(ReadOnlySpan<float> scores)
    {
        int best = 0;
        for (int i = 1; i < scores.Length; i++)
            if (scores[i] > scores[best]) best = i;
        return best;
    }
}
