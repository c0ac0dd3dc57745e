using BenchmarkDotNet.Running;

// dotnet run -c Release -- --filter '*' [--job short]; ./run.sh writes docs/benchmarks.md from the results.
BenchmarkSwitcher.FromAssembly(typeof(AotInfer.Benchmarks.DigitsMlpBenchmark).Assembly).Run(args);
