using System;
using System.Linq;
using AotInfer.Cli;

// aotinfer VERB ...: see Usage below and the README.
const string Usage = """
usage: aotinfer VERB [options]
  check PATH... [--json FILE] [--expect FILE] [--filter REGEX] [--rtol R] [--atol A] [--int-tolerance N] [--write-passing FILE] [--quiet]
  compile MODEL -o FILE.cs [--class NAME] [--namespace NS] [--dims name=value,...] [--threads T] [--sparse MODE] [--profile]
  inspect MODEL [--json FILE] [--dims name=value,...] [--sparse MODE]
  bench MODEL [--vs onnxruntime] [--json FILE] [--rounds N] [--threads T] [--inputs DIR] [--dims name=value,...] [--no-fuse] [--sparse MODE] [--profile]
                            time generated code against ONNX Runtime (interleaved rounds, medians); --threads T
                            gives both sides T threads (default 1, 0 = one per processor)
                            --sparse: kernels for constant weights (auto: cost model per layer; dense to compare;
                            sparse: best sparse layout; csr|blocks4x1|blocks8x1|bands: force one layout)
                            --inputs DIR: run both sides on DIR's input_0.pb, input_1.pb… (e.g. a test_data_set_0) instead of random inputs
                            --profile: then a table per layer, our time vs ONNX Runtime's profiler (nodes matched by name)
  ops                       list the supported operators (Markdown)
  eval MODEL --dataset SPEC [--reference MODEL] [--limit N] [--json FILE] [--runtime aotinfer|ort] [--sparse MODE] [--reference-sparse MODE]
  fold MODEL -o OUT
  prune MODEL -o OUT [--sparsity S] [--global (default)|--per-layer] [--nm N:M] [--dataset SPEC [--samples 256]] [--structured channels --ratio R]
  prune MODEL --rank --dataset SPEC [--sparsity 0.5] [--limit N] [--json FILE]   accuracy drop of each layer pruned alone
  cluster MODEL -o OUT [--k 16] [--per-channel] [--init kmeans++|optimal] [--codebook fp32|fp16] [--seed N]
  quantize MODEL -o OUT --dataset SPEC [--samples 256] [--method minmax|percentile|entropy|mse] [--per-channel] [--symmetric] [--activations int8|uint8] [--exclude NODE,...] [--report-samples N] [--runtime aotinfer|ort] [--report-runtime ort|aotinfer] [--format qdq|qoperator]
  quantize MODEL -o OUT --dynamic [--per-channel] [--exclude NODE,...]     int8 weights, activations quantised at run time
  report MODEL VARIANT... --dataset SPEC -o report.html [--limit N] [--latency-runs N] [--json FILE] [--markdown FILE]
                            HTML page: accuracy vs size and latency, per-layer error, weight histograms
  finetune MODEL -o OUT --dataset SPEC [--test SPEC] [--epochs N] [--batch 64] [--lr 0.001] [--optimizer adam|sgd|momentum|nesterov|adagrad] [--momentum M] [--schedule fixed|exponential|cosine] [--decay D] [--l1 X] [--l2 X] [--seed S] [--prune S [--prune-steps K] [--per-layer]] [--keep-sparsity] [--limit N] [--json FILE]
                            train the weights (reverse-mode autodiff over the ONNX graph); with --prune, K rounds of prune + train
  finetune MODEL -o OUT --dataset SPEC --search grid|random [--lr R1,R2,...] [--epochs E1,E2,...] [--prune S1,S2,... [--prune-steps K]] [--trials N] [--validation 0.1] [--limit N] [--json FILE]
                            hyper-parameter search; every trial is scored on a validation split held out of the training data; -o gets the best trial's model
  finetune MODEL -o OUT --dataset SPEC --shared-weights [finetune's training options]
                            Deep Compression's centroid fine-tuning of a clustered model: each shared value moves by the sum of its members' gradients; prints the stored size
  distill --teacher T.onnx (--student S.onnx | --student-layers 64,32) -o OUT --dataset SPEC [--temperature 4] [--alpha 0.9] [--teacher-runtime graph|aotinfer|ort] [--teacher-cache FILE] [--freeze NAME,...] [finetune's training options]
                            knowledge distillation: alpha*T^2*KL(teacher || student at temperature T) + (1-alpha)*cross-entropy
  transfer MODEL -o OUT --dataset SPEC [--new-head N] [--freeze NAME,...] [finetune's training options]
  init-mlp -o OUT --layers 784,64,32,10 [--input-shape 1,28,28] [--seed S]   a fresh Gemm/Relu network (He-normal weights)
  qat MODEL -o OUT --dataset SPEC [--test SPEC] [--per-tensor] [--activations uint8|int8] [finetune's training options]
                            quantisation-aware training (fake-quantised weights and activations, straight-through estimator) to QDQ ONNX
  datasets: fashion-mnist:DIR (test split), fashion-mnist-train:DIR, idx:IMAGES,LABELS, pb:IMAGES.pb,LABELS.pb
""";

if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine(Usage);
    return args.Length == 0 ? 2 : 0;
}
try
{
    var rest = Arguments.Parse(args.Skip(1), "--quiet", "--fail-on-error", "--no-fuse", "--no-run", "--global", "--per-layer", "--per-channel", "--symmetric", "--dynamic", "--rank", "--keep-sparsity", "--per-tensor", "--shared-weights", "--profile");
    return args[0] switch
    {
        "check" => CheckCommand.Run(rest),
        "compile" => CompileCommand.Run(rest),
        "inspect" => InspectCommand.Run(rest),
        "ops" => OpsCommand.Run(rest),
        "bench" => BenchCommand.Run(rest),
        "fuzz" => FuzzCommand.Run(rest), // hidden: the long robustness run (docs/diagnostics.md, issue 6)
        "eval" => AotInfer.Cli.Optimize.EvalCommand.Run(rest),
        "fold" => AotInfer.Cli.Optimize.TransformCommands.Fold(rest),
        "prune" => rest.Has("--rank") ? AotInfer.Cli.Optimize.RankCommand.Run(rest) : AotInfer.Cli.Optimize.TransformCommands.Prune(rest),
        "cluster" => AotInfer.Cli.Optimize.TransformCommands.Cluster(rest),
        "quantize" => AotInfer.Cli.Optimize.QuantizeCommand.Run(rest),
        "report" => AotInfer.Cli.Optimize.ReportCommand.Run(rest),
        "finetune" => rest.Has("--search") ? AotInfer.Cli.Optimize.SearchCommand.Run(rest)
            : rest.Has("--shared-weights") ? AotInfer.Cli.Optimize.SharedWeightsCommand.Run(rest)
            : AotInfer.Cli.Optimize.FinetuneCommand.Run(rest),
        "distill" => AotInfer.Cli.Optimize.DistillCommand.Distill(rest),
        "transfer" => AotInfer.Cli.Optimize.DistillCommand.Transfer(rest),
        "init-mlp" => AotInfer.Cli.Optimize.DistillCommand.InitMlp(rest),
        "qat" => AotInfer.Cli.Optimize.QatCommand.Run(rest),
        _ => throw new UsageException($"unknown verb '{args[0]}'"),
    };
}
catch (UsageException e)
{
    Console.Error.WriteLine("aotinfer: " + e.Message);
    Console.Error.WriteLine(Usage);
    return 2;
}
catch (Exception e) when (e is System.IO.IOException or UnauthorizedAccessException or InvalidOperationException or System.IO.InvalidDataException or ArgumentException)
{
    Console.Error.WriteLine("aotinfer: " + e.Message);
    return 1;
}
