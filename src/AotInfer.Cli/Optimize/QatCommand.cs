using System;
using System.Globalization;
using System.IO;
using AotInfer.Optimize.Onnx;
using AotInfer.Optimize.Training.Quantization;

namespace AotInfer.Cli.Optimize;

/// <summary>
/// <c>qat MODEL -o OUT.onnx --dataset SPEC [--test SPEC] [--per-tensor] [--activations uint8|int8] [training options of finetune]</c>:
/// quantisation-aware training; writes a QDQ model (int8 weights, per channel by default).
/// </summary>
public static class QatCommand
{
    static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>Runs the verb.</summary>
    public static int Run(Arguments args)
    {
        var (input, output) = TransformCommands.Paths(args, "qat");
        if (args.Has("--prune")) throw new UsageException("--prune belongs to finetune; prune first, then run qat with --keep-sparsity");
        var training = FinetuneCommand.Settings(args).Training;
        bool signed = args.Get("--activations", "uint8") switch
        {
            "uint8" => false,
            "int8" => true,
            var a => throw new UsageException($"--activations '{a}' must be uint8 or int8"),
        };
        var settings = new QatSettings(training, PerChannel: !args.Has("--per-tensor"), SignedActivations: signed);
        var train = EvalCommand.LoadDataset(args);
        var test = args.Get("--test") is not null ? EvalCommand.LoadDataset(args, "--test", "--test-limit") : null;
        var model = ModelWriter.Load(input);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var epochs = QuantizationAwareTraining.Run(model, Path.GetDirectoryName(Path.GetFullPath(input)), settings, train, test);
        TrainingOutput.PrintEpochs(epochs);
        ModelWriter.Write(model, output);
        Console.WriteLine(string.Format(C, "quantisation-aware training of {0} samples × {1} epoch(s) in {2:F1} s; {3}", train.Count, training.Epochs, clock.Elapsed.TotalSeconds, TransformCommands.Sizes(input, output)));
        TrainingOutput.WriteJson(args, new { model = input, output, dataset = train.Description, perChannel = settings.PerChannel, activations = signed ? "int8" : "uint8", seconds = clock.Elapsed.TotalSeconds, epochs = TrainingOutput.Json(epochs) });
        return 0;
    }
}
