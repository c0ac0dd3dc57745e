#!/usr/bin/env bash
# Runs the BenchmarkDotNet suite (generated code vs ONNX Runtime, batch 1, one thread) and writes the results
# table, with the date and CPU, into docs/benchmarks.md. JOB=short (default, about 20 s per benchmark) or
# JOB=default for the full statistics.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
job="${JOB:-short}"
artifacts="$here/BenchmarkDotNet.Artifacts"
rm -rf "$artifacts"
cd "$here"
# In-process: BenchmarkDotNet would otherwise rebuild this project in a child folder, which exceeds its 2-minute
# build timeout on a loaded shared machine; the measured code is the same Release build either way.
dotnet run -c Release -- --filter '*' --job "$job" --inProcess --exporters github --artifacts "$artifacts" "$@"

out="$root/docs/benchmarks.md"
cpu="$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //' || uname -m)"
{
  echo "# Benchmarks: generated code vs ONNX Runtime"
  echo
  echo "Written by \`examples/Benchmarks/run.sh\` (BenchmarkDotNet, job \`$job\`) on $(date -u +%Y-%m-%d), CPU: $cpu ($(nproc) logical cores)."
  echo "Batch 1; ONNX Runtime with one intra-op thread, ORT_ENABLE_ALL and a reused IOBinding is the baseline, so"
  echo "**Ratio** is generated time / ONNX Runtime time (below 1.00: generated code is faster). **Allocated** must be 0 B"
  echo "for AotInfer. The machine is shared: absolute times drift; \`aotinfer bench\` gives interleaved ratios."
  echo
  for report in "$artifacts"/results/*-report-github.md; do
    name="$(basename "$report" -report-github.md)"
    echo "## ${name##*.}"
    echo
    # Keep the table; the environment block BenchmarkDotNet prints above it is summarised in the header.
    sed -n '/^|/,$p' "$report"
    echo
  done
} > "$out"
echo "wrote $out"
