#!/usr/bin/env bash
# Runs the BenchmarkDotNet suite (generated code vs ONNX Runtime, batch 1, one thread) and writes the results
# tables, with the date and CPU, into docs/benchmarks.md between the "benchmarkdotnet" markers. (bench-table.sh
# writes the other table there: `aotinfer bench` over every model.) JOB=short (default, about 20 s per benchmark) or
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

source "$here/markers.sh"
cpu="$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //' || uname -m)"
table="$(mktemp)"
trap 'rm -f "$table"' EXIT
{
  echo "Written by \`examples/Benchmarks/run.sh\` (BenchmarkDotNet, job \`$job\`) on $(date -u +%Y-%m-%d), CPU: $cpu ($(nproc) logical cores)."
  echo
  for report in "$artifacts"/results/*-report-github.md; do
    name="$(basename "$report" -report-github.md)"
    echo "### ${name##*.}"
    echo
    # Keep the table; the environment block BenchmarkDotNet prints above it is summarised in the header.
    sed -n '/^|/,$p' "$report"
    echo
  done
} > "$table"
replace_between_markers "$root/docs/benchmarks.md" benchmarkdotnet "$table"
echo "wrote the BenchmarkDotNet tables into $root/docs/benchmarks.md"
