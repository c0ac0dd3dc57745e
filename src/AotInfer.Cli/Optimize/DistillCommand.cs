using System;
using System.Globalization;
using System.IO;
using System.Linq;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Datasets;
using AotInfer.Optimize.Onnx;
using AotInfer.Optimize.Training;
using AotInfer.Optimize.Training.Distillation;
using AotInfer.Optimize.Training.Models;

namespace AotInfer.Cli.Optimize;

/// <summary>
/// <c>distill --teacher T.onnx (--student S.onnx | --student-layers 64,32) -o OUT --dataset SPEC [--temperature 4]
/// [--alpha 0.9] [--teacher-runtime graph|aotinfer|ort] [--teacher-cache FILE] [--freeze NAME,...] [training options of finetune]</c>,
/// <c>transfer MODEL -o OUT --dataset SPEC [--new-head N] [--freeze NAME,...] [training options]</c> and
/// <c>init-mlp -o OUT --layers 784,64,32,10 [--input-shape 1,28,28] [--seed S]</c>.
/// </summary>
public static class DistillCommand
{
    static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>Runs <c>distill</c>.</summary>
    public static int Distill(Arguments args)
    {
        if (args.Positional.Count > 0) throw new UsageException("distill takes no positional arguments: --teacher T.onnx --student S.onnx -o OUT");
        string teacherPath = args.Get("--teacher") ?? throw new UsageException("distill needs --teacher T.onnx");
        if (!File.Exists(teacherPath)) throw new UsageException($"teacher model '{teacherPath}' does not exist");
        string output = args.Get("-o") ?? args.Get("--output") ?? throw new UsageException("distill needs -o OUT.onnx");
        var settings = Settings(args);
        var train = EvalCommand.LoadDataset(args);
        var test = args.Get("--test") is not null ? EvalCommand.LoadDataset(args, "--test", "--test-limit") : null;
        var (student, studentDirectory, studentName) = Student(args, train);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var teacher = ModelWriter.Load(teacherPath);
        float[] logits = Teacher(args, teacher, teacherPath, train);
        double teacherSeconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Format(C, "teacher logits of {0} samples ready in {1:F1} s", train.Count, teacherSeconds));

        clock.Restart();
        var epochs = StudentTraining.Run(student, studentDirectory, settings, train, logits, test);
        double seconds = clock.Elapsed.TotalSeconds;
        TrainingOutput.PrintEpochs(epochs);
        string describe = string.Format(C, "distilled from {0}: T {1} alpha {2}; {3}", Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(teacherPath))) + "/" + Path.GetFileName(teacherPath), settings.Temperature, settings.Alpha, Describe(settings.Training));
        ModelWriter.Stamp(student, "distill", describe);
        ModelWriter.Write(student, output);
        Console.WriteLine(string.Format(C, "trained {0} on {1} samples × {2} epoch(s) in {3:F1} s; wrote {4} ({5:N0} bytes)", studentName, train.Count, settings.Training.Epochs, seconds, output, new FileInfo(output).Length));
        TrainingOutput.WriteJson(args, new { teacher = teacherPath, student = studentName, output, dataset = train.Description, settings = describe, teacherSeconds, seconds, epochs = TrainingOutput.Json(epochs) });
        return 0;
    }

    /// <summary>Runs <c>transfer</c>: optional new head, frozen layers, cross-entropy on the dataset's labels.</summary>
    public static int Transfer(Arguments args)
    {
        var (input, output) = TransformCommands.Paths(args, "transfer");
        var settings = Settings(args);
        var train = EvalCommand.LoadDataset(args);
        var test = args.Get("--test") is not null ? EvalCommand.LoadDataset(args, "--test", "--test-limit") : null;
        var model = ModelWriter.Load(input);
        string? directory = Path.GetDirectoryName(Path.GetFullPath(input));
        if (args.Get("--new-head") is { } head)
        {
            int classes = int.TryParse(head, NumberStyles.None, C, out int n) && n >= 2 ? n : throw new UsageException("--new-head must be a number of classes ≥ 2");
            if (train.ClassCount > classes) throw new UsageException($"--new-head {classes} is fewer than the dataset's {train.ClassCount} classes");
            string name = TransferLearning.ReplaceHead(model, classes, settings.Training.Seed, directory);
            Console.WriteLine($"replaced head '{name}' with {classes} fresh classes");
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var epochs = StudentTraining.Run(model, directory, settings, train, null, test);
        TrainingOutput.PrintEpochs(epochs);
        ModelWriter.Stamp(model, "transfer", $"frozen: {string.Join(",", settings.Freeze ?? Array.Empty<string>())}; {Describe(settings.Training)}");
        ModelWriter.Write(model, output);
        Console.WriteLine(string.Format(C, "trained {0} samples × {1} epoch(s) in {2:F1} s; {3}", train.Count, settings.Training.Epochs, clock.Elapsed.TotalSeconds, TransformCommands.Sizes(input, output)));
        TrainingOutput.WriteJson(args, new { model = input, output, dataset = train.Description, frozen = settings.Freeze, epochs = TrainingOutput.Json(epochs) });
        return 0;
    }

    /// <summary>Runs <c>init-mlp</c>: writes a freshly initialised Gemm/Relu network.</summary>
    public static int InitMlp(Arguments args)
    {
        string output = args.Get("-o") ?? args.Get("--output") ?? throw new UsageException("init-mlp needs -o OUT.onnx");
        int[] widths = TrainingOutput.PositiveInts(args, "--layers");
        int[] sampleShape = args.Has("--input-shape") ? TrainingOutput.PositiveInts(args, "--input-shape") : new[] { widths[0] };
        var model = Build(widths, sampleShape, (int)args.GetDouble("--seed", 1));
        ModelWriter.Write(model, output);
        Console.WriteLine(string.Format(C, "wrote {0}: MLP {1} ({2:N0} parameters, He-normal weights, zero biases)", output, string.Join("-", widths), widths.Zip(widths.Skip(1), (fanIn, fanOut) => (long)fanIn * fanOut + fanOut).Sum()));
        return 0;
    }

    static ModelProto Build(int[] widths, int[] sampleShape, int seed)
    {
        try { return MlpBuilder.Create(widths, sampleShape, seed); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
    }

    /// <summary>The student: a model file, or a fresh MLP [sample size, widths..., classes] for the dataset.</summary>
    static (ModelProto Model, string? Directory, string Name) Student(Arguments args, LabeledImages train)
    {
        if (args.Get("--student") is { } path)
        {
            if (args.Has("--student-layers")) throw new UsageException("give either --student S.onnx or --student-layers, not both");
            if (!File.Exists(path)) throw new UsageException($"student model '{path}' does not exist");
            return (ModelWriter.Load(path), Path.GetDirectoryName(Path.GetFullPath(path)), path);
        }
        if (!args.Has("--student-layers")) throw new UsageException("distill needs --student S.onnx or --student-layers 64,32");
        int[] hidden = TrainingOutput.PositiveInts(args, "--student-layers");
        int[] widths = new[] { train.SampleSize }.Concat(hidden).Append(train.ClassCount).ToArray();
        return (Build(widths, train.SampleShape, (int)args.GetDouble("--seed", 1)), null, "MLP " + string.Join("-", widths));
    }

    static float[] Teacher(Arguments args, ModelProto teacher, string teacherPath, LabeledImages train)
    {
        string? cache = args.Get("--teacher-cache");
        string key = TeacherLogits.Key(teacher, train);
        if (cache is not null && TeacherLogits.Load(cache, key) is { } cached)
        {
            Console.WriteLine($"teacher logits from {cache}");
            return cached;
        }
        string? directory = Path.GetDirectoryName(Path.GetFullPath(teacherPath));
        float[] logits = args.Get("--teacher-runtime", "graph") switch
        {
            "graph" => TeacherLogits.Compute(teacher, directory, train),
            var runtime => ComputeWithRunner(Runners.Get(runtime), teacher, directory, train),
        };
        if (cache is not null) TeacherLogits.Save(cache, key, logits);
        return logits;
    }

    static float[] ComputeWithRunner(AotInfer.Optimize.Evaluation.ModelRunnerFactory factory, ModelProto teacher, string? directory, LabeledImages train)
    {
        using var runner = factory(teacher, directory, Array.Empty<string>());
        return TeacherLogits.Compute(runner, train);
    }

    static StudentSettings Settings(Arguments args)
    {
        if (args.Has("--prune")) throw new UsageException("--prune belongs to finetune; distill and transfer train without pruning");
        var training = FinetuneCommand.Settings(args).Training;
        float temperature = (float)args.GetDouble("--temperature", 4);
        float alpha = (float)args.GetDouble("--alpha", 0.9);
        if (!(temperature > 0)) throw new UsageException("--temperature must be positive");
        if (!(alpha >= 0 && alpha <= 1)) throw new UsageException("--alpha must be in [0, 1]");
        return new StudentSettings(training, temperature, alpha, TrainingOutput.List(args, "--freeze"));
    }

    /// <summary>The training options as text for the model's metadata.</summary>
    public static string Describe(TrainingOptions t) =>
        string.Format(C, "optimizer {0} lr {1} schedule {2} epochs {3} batch {4} l2 {5} seed {6}", t.Optimizer, t.LearningRate, t.Schedule, t.Epochs, t.BatchSize, t.Regularization.L2, t.Seed);
}
