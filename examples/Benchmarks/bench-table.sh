#!/usr/bin/env bash
# Runs `aotinfer bench --vs onnxruntime --json` (interleaved rounds in one process, medians, batch 1, one thread,
# warm-up to steady state) over every model in ../shared/models plus the real models named below, and writes the
# results table, with the date and CPU, into docs/benchmarks.md and README.md between the "bench-table" markers.
# Usage: examples/Benchmarks/bench-table.sh [MODEL_DIR...]   (default: every model; extra args go nowhere else)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
shared="${SHARED:-$root/../shared}"
source "$here/markers.sh"

if [ "$#" -gt 0 ]; then
  models=("$@")
else
  models=()
  for dir in "$shared"/models/*/; do [ -f "$dir/model.onnx" ] && models+=("${dir%/}"); done
  models+=("$shared/real-models/mnist-8" "$shared/real-models/burn-mnist")
fi

# SKIP_BUILD=1 reuses the last Release build of the CLI.
[ "${SKIP_BUILD:-0}" = 1 ] || dotnet build "$root/src/AotInfer.Cli" -c Release -v quiet -nologo >/dev/null
cli=""
for candidate in "$root"/src/AotInfer.Cli/bin/Release/net10.0/*/aotinfer.dll "$root"/src/AotInfer.Cli/bin/Release/net10.0/aotinfer.dll; do
  if [ -f "$candidate" ]; then cli="$candidate"; break; fi
done
[ -n "$cli" ] || { echo "aotinfer.dll not found after the build" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

rows="$work/rows.md"
: > "$rows"
for dir in "${models[@]}"; do
  name="$(basename "$dir")"
  json="$work/$name.json"
  echo "bench $name" >&2
  # The same measurement on the model's own test input, where it has one: real data has zeros (an image's background,
  # activations after a ReLU) that random values lack, and the generated code skips work on zero inputs.
  real="–"
  if [ -d "$dir/test_data_set_0" ] &&
     dotnet "$cli" bench "$dir" --vs onnxruntime --inputs "$dir/test_data_set_0" --quiet --json "$work/$name.real.json" > "$work/$name.real.log" 2>&1; then
    real="$(jq -r 'if .cpu_speedup then ((.cpu_speedup * 100 | round) / 100 | tostring) + "×" else "–" end' "$work/$name.real.json")"
  fi
  if dotnet "$cli" bench "$dir" --vs onnxruntime --quiet --json "$json" > "$work/$name.log" 2>&1; then
    jq -r --arg name "$name" --arg real "$real" '
      def f(d): (. * pow(10; d) | round) / pow(10; d) | tostring;
      "| \($name) | \(.aotinfer_us | f(1)) | \(.ort_us | f(1)) | \(.speedup | f(2))× | " +
      "\(if .cpu_speedup then (.aotinfer_cpu_us | f(1)) + " / " + (.ort_cpu_us | f(1)) + " (" + (.cpu_speedup | f(2)) + "×)" else "–" end) | " +
      "\($real) | \(.allocated_bytes_per_run | f(0)) | \(if .warmup_settled then "yes" else "**no**" end) |"' "$json" >> "$rows"
  else
    # A model that cannot be benchmarked still gets a row saying why (first line of the error).
    reason="$(grep -m1 -E 'aotinfer:|error|AOTI' "$work/$name.log" | sed 's/|/\\|/g' | cut -c1-160 || true)"
    echo "| $name | – | – | – | – | – | – | not measured: ${reason:-see the bench log} |" >> "$rows"
  fi
done

cpu="$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //' || uname -m)"
table="$work/table.md"
{
  echo "Measured by \`examples/Benchmarks/bench-table.sh\` on $(date -u +%Y-%m-%d), CPU: $cpu ($(nproc) logical cores),"
  echo "load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown). Each row is one \`aotinfer bench MODEL --vs onnxruntime\`"
  echo "run: batch 1, one thread on both sides, same random inputs, outputs verified, interleaved rounds, medians."
  echo "**Speedup** is ONNX Runtime time / AotInfer time (above 1: AotInfer is faster). **CPU time** is the benchmarking"
  echo "thread's CPU time per inference (AotInfer / ONNX Runtime): it leaves out time spent waiting for a core, so it is"
  echo "the steadier figure when the machine is shared. **On test input** is the CPU-time speedup of the same measurement on"
  echo "the model's \`test_data_set_0\` input (\`bench --inputs\`): real data has zeros that random values lack, and the"
  echo "generated code skips the weights of zero inputs. **Allocated** is managed bytes per AotInfer inference."
  echo
  echo "| Model | AotInfer µs | ONNX Runtime µs | Speedup | CPU time µs (speedup) | On test input | Allocated B/run | Warm-up settled |"
  echo "|---|---:|---:|---:|---:|---:|---:|---|"
  cat "$rows"
} > "$table"

replace_between_markers "$root/docs/benchmarks.md" bench-table "$table"
replace_between_markers "$root/README.md" bench-table "$table"
echo "wrote the table into docs/benchmarks.md and README.md" >&2
