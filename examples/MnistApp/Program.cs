using System;
using System.Diagnostics;
using System.IO;
using MnistApp;

// Runs the generated MnistModel on the model's reference test sets, then times it.
// Exit code 0: every prediction agrees with the reference; 1: at least one disagrees (a CI check); 2: bad setup.

const int WarmUpRuns = 100;
const int TimedRuns = 1000;

string samplesFolder = args.Length > 0 ? args[0] : Path.Combine(AppContext.BaseDirectory, "samples");
Sample[] samples;
try
{
    samples = [.. Sample.LoadAll(samplesFolder)];
}
catch (Exception e) when (e is IOException or InvalidDataException)
{
    Console.Error.WriteLine($"cannot load samples: {e.Message}");
    return 2;
}
if (samples.Length == 0)
{
    Console.Error.WriteLine($"no test_data_set_* folders under {samplesFolder}");
    return 2;
}

var info = MnistModel.ModelInfo;
Console.WriteLine($"{info.ModelFile} (SHA-256 {info.Sha256[..12]}…, {info.Producer}, {info.Opsets}): " +
                  $"{info.Inputs[0].Name} [{string.Join(",", info.Inputs[0].Shape)}] -> {info.Outputs[0].Name} [{string.Join(",", info.Outputs[0].Shape)}]");

var model = new MnistModel();
var scores = new float[info.Outputs[0].Length];
int agreeing = 0;
foreach (var sample in samples)
{
    model.Run(sample.Image, scores);
    int predicted = Scores.ArgMax(scores);
    float maxError = 0;
    for (int i = 0; i < scores.Length; i++) maxError = MathF.Max(maxError, MathF.Abs(scores[i] - sample.ExpectedScores[i]));
    bool agrees = predicted == sample.ExpectedDigit;
    if (agrees) agreeing++;
    Console.WriteLine($"{sample.Name}: predicted {predicted}, expected {sample.ExpectedDigit}, max |score - reference| {maxError:G3}{(agrees ? "" : "   <-- DISAGREES")}");
}
Console.WriteLine($"accuracy: {agreeing}/{samples.Length} ({100.0 * agreeing / samples.Length:F1} %)");

// Latency: each run timed on its own after a warm-up (tiered JIT, caches), the median reported so that one
// interruption on a busy machine does not move the result.
var image = samples[0].Image;
for (int i = 0; i < WarmUpRuns; i++) model.Run(image, scores);
var ticks = new long[TimedRuns];
for (int i = 0; i < TimedRuns; i++)
{
    long start = Stopwatch.GetTimestamp();
    model.Run(image, scores);
    ticks[i] = Stopwatch.GetTimestamp() - start;
}
Array.Sort(ticks);
double medianMicroseconds = ticks[TimedRuns / 2] * 1e6 / Stopwatch.Frequency;
Console.WriteLine($"median latency: {medianMicroseconds:F1} µs per inference ({TimedRuns} runs after {WarmUpRuns} warm-up runs, {(System.Runtime.JitInfo.GetCompiledMethodCount() > 0 ? "JIT" : "NativeAOT")})");

return agreeing == samples.Length ? 0 : 1;

