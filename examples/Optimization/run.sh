#!/usr/bin/env bash
# Measures the optimisation toolkit on the shared Fashion-MNIST models and writes docs/optimization.md, plus the
# summary table of the README (between the optimization-table markers). Every number comes from the commands below:
# quantize / prune / cluster write ONNX, `report` measures accuracy on the 10,000 test images (ONNX Runtime), stored
# bytes (see docs/optimization.md) and batch-1 latency of AotInfer's compiled code, and writes one HTML page per model.
# Usage: examples/Optimization/run.sh   (after dotnet build -c Release; needs ../shared beside the repository)
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED="$(cd .. && pwd)/shared"
MODELS="$SHARED/models"
TRAIN="fashion-mnist-train:$SHARED/datasets/fashion-mnist"
TEST="fashion-mnist:$SHARED/datasets/fashion-mnist"
OUT=artifacts/optimization
CLI=(dotnet run -c Release --no-build --project src/AotInfer.Cli --)
mkdir -p "$OUT"
log() { echo "=== $* ($(date -u +%H:%M:%S))" >&2; }
# Runs "$@" with stdout in OUT.log unless OUT exists: an interrupted run resumes where it stopped
# (delete artifacts/optimization to start over).
once() { local out=$1; shift; [ -f "$out" ] || "$@" > "$out.log"; }

# 256 calibration images from the training split (the first 256), per-channel weights, uint8 activations.
quantize() { # MODEL OUT METHOD [extra options]
  local model=$1 out=$2 method=$3; shift 3
  once "$out" "${CLI[@]}" quantize "$model" -o "$out" --dataset "$TRAIN" --samples 256 --method "$method" --per-channel --report-samples 64 "$@"
}

for name in fashion_lenet300 fashion_lenet5 fashion_bncnn; do
  log "$name"
  dir="$OUT/$name"; mkdir -p "$dir"
  base="$dir/float32.onnx"; cp "$MODELS/$name/model.onnx" "$base"
  variants=()
  quantize "$base" "$dir/int8_minmax.onnx" minmax;   variants+=("$dir/int8_minmax.onnx")
  quantize "$base" "$dir/int8_entropy.onnx" entropy; variants+=("$dir/int8_entropy.onnx")
  quantize "$base" "$dir/int8_minmax_qoperator.onnx" minmax --format qoperator; variants+=("$dir/int8_minmax_qoperator.onnx")
  once "$dir/int8_dynamic.onnx" "${CLI[@]}" quantize "$base" -o "$dir/int8_dynamic.onnx" --dynamic --per-channel; variants+=("$dir/int8_dynamic.onnx")
  once "$dir/pruned50.onnx" "${CLI[@]}" prune "$base" -o "$dir/pruned50.onnx" --sparsity 0.5 --global; variants+=("$dir/pruned50.onnx")
  # The same mask, kept Gemm/MatMul weights re-fitted by least squares on the 256 calibration images.
  once "$dir/pruned50_refit.onnx" "${CLI[@]}" prune "$base" -o "$dir/pruned50_refit.onnx" --sparsity 0.5 --global --dataset "$TRAIN" --samples 256; variants+=("$dir/pruned50_refit.onnx")
  if [ "$name" != fashion_bncnn ]; then
    # 16 values per layer (k-means++) cost about 0.3 points; 16 values per output channel (optimal 1-D clustering,
    # measured better than k-means++ per channel) cost less, for one 16-entry codebook per channel, which float16
    # centroids (--codebook fp16) halve.
    once "$dir/cluster16.onnx" "${CLI[@]}" cluster "$base" -o "$dir/cluster16.onnx" --k 16; variants+=("$dir/cluster16.onnx")
    once "$dir/cluster16_per_channel.onnx" "${CLI[@]}" cluster "$base" -o "$dir/cluster16_per_channel.onnx" --k 16 --per-channel --init optimal; variants+=("$dir/cluster16_per_channel.onnx")
    once "$dir/cluster16_per_channel_fp16.onnx" "${CLI[@]}" cluster "$base" -o "$dir/cluster16_per_channel_fp16.onnx" --k 16 --per-channel --init optimal --codebook fp16; variants+=("$dir/cluster16_per_channel_fp16.onnx")
  else
    once "$dir/folded.onnx" "${CLI[@]}" fold "$base" -o "$dir/folded.onnx"
    once "$dir/channels75.onnx" "${CLI[@]}" prune "$dir/folded.onnx" -o "$dir/channels75.onnx" --structured channels --ratio 0.25; variants+=("$dir/channels75.onnx")
    # Structured pruning changes shapes: the compiled code and ONNX Runtime must agree on every test image.
    [ -f "$dir/channels75.agreement.txt" ] || "${CLI[@]}" eval "$dir/channels75.onnx" --dataset "$TEST" --runtime aotinfer --reference "$dir/channels75.onnx" --reference-runtime ort > "$dir/channels75.agreement.txt"
  fi
  if [ "$name" = fashion_lenet300 ]; then
    # Deep Compression's pipeline without retraining: prune 80% (kept weights re-fitted by least squares instead of
    # retrained) → 16 shared values per output channel → int8 (per-channel scales map each channel's 16 values to at
    # most 16 integers, so the 4-bit palettes survive both in the stored bytes and in the generated class, which keeps
    # one byte palette per output channel and decodes the int8 weights at type initialisation).
    once "$dir/p80_magnitude_only.onnx" "${CLI[@]}" prune "$base" -o "$dir/p80_magnitude_only.onnx" --sparsity 0.8 --global
    once "$dir/p80.onnx" "${CLI[@]}" prune "$base" -o "$dir/p80.onnx" --sparsity 0.8 --global --dataset "$TRAIN" --samples 256
    once "$dir/p80_c16.onnx" "${CLI[@]}" cluster "$dir/p80.onnx" -o "$dir/p80_c16.onnx" --k 16 --per-channel
    quantize "$dir/p80_c16.onnx" "$dir/p80_c16_int8.onnx" minmax
    variants+=("$dir/p80_magnitude_only.onnx" "$dir/p80.onnx" "$dir/p80_c16.onnx" "$dir/p80_c16_int8.onnx")
  fi
  # Accuracy by ONNX Runtime (fast on this loaded machine; the tests hold AotInfer to the same predictions), latency by
  # AotInfer's compiled code.
  "${CLI[@]}" report "$base" "${variants[@]}" --dataset "$TEST" --runtime ort -o "$dir/report.html" --json "$dir/report.json" --markdown "$dir/report.md" --latency-runs 100
done

log "docs/optimization.md"
{
  echo "# Optimisation toolkit: measured results"
  echo
  echo "Generated by \`examples/Optimization/run.sh\` on $(date -u +%Y-%m-%d) (2-core shared AMD EPYC; latency is noisy,"
  echo "compare within one table). Accuracy: top-1 on the 10,000 Fashion-MNIST test images, run by ONNX Runtime; latency:"
  echo "median batch-1 run of AotInfer's compiled code."
  echo "Calibration: the first 256 images of the training split. ONNX Runtime's quantizer (\`quantize_static\`, 256 images)"
  echo "reaches 89.76% (lenet300), 91.59% (lenet5) and 93.61% (bncnn) on the same test set (\`../shared/models/manifest.json\`)."
  echo
  echo "**Stored bytes** count what a compact encoding needs: each layer weight in its cheapest form — dense (32-bit"
  echo "float or 8-bit integer per value), palette (⌈log2 K⌉-bit indices plus a K-entry codebook when it takes K ≤ 256"
  echo "values) or sparse (non-zero values, each with a 5-bit distance to the previous one, a padding entry when the gap"
  echo "exceeds 31) — plus scales, zero points, biases and every other tensor at their element size. No Huffman coding."
  echo "Compression = stored bytes of the float model / stored bytes of the variant. File bytes are the ONNX files as"
  echo "written (clustered and pruned models keep float tensors, so their files do not shrink; the generator's palette"
  echo "and sparse kernels are what turn them into a small binary)."
  echo
  echo "**Generated weight bytes** are what the generated class really stores for the model's constants (weights, biases,"
  echo "shapes; before base64), measured by compiling the model: palettes with 4-bit indices (one per output channel"
  echo "after per-channel clustering, float16 entries when every centroid is a half), sparse formats, the batch-1 GEMV"
  echo "layout's padding. Weights × = generated weight bytes of the float model / those of the variant."
  for name in fashion_lenet300 fashion_lenet5 fashion_bncnn; do
    echo
    echo "## $name"
    echo
    cat "$OUT/$name/report.md"
    if [ -f "$OUT/$name/channels75.agreement.txt" ]; then
      echo
      echo "Structured pruning (\`fold\`, then \`prune --structured channels --ratio 0.25\`): $(grep -o 'agreement.*' "$OUT/$name/channels75.agreement.txt")"
      echo "between AotInfer and ONNX Runtime on the test set; layers: $(grep -c -- '->' "$OUT/$name/channels75.onnx.log") pruned"
      echo "($(grep -- '->' "$OUT/$name/channels75.onnx.log" | sed 's/ (rewired.*//' | tr -s ' ' | paste -sd ';' -))."
    fi
  done
  echo
  echo "Deep Compression (Han et al., ICLR 2016) reports 40× for LeNet-300-100 on MNIST (pruning to 8% of the weights"
  echo "with retraining, 6-bit shared weights, Huffman coding). \`p80_c16_int8\` above is the same pipeline at 80% sparsity"
  echo "without retraining or Huffman stage, on Fashion-MNIST (a harder task than MNIST): magnitude pruning, then the kept"
  echo "weights of each neuron re-fitted by least squares on 256 training images (\`prune --dataset\`; \`p80_magnitude_only\`"
  echo "shows the same mask without the re-fit), 16 shared values per neuron (\`cluster --per-channel\`), then int8."
} > docs/optimization.md

log "README table"
python3 - "$OUT" <<'PY'
import json, sys, re
out = sys.argv[1]
rows = ["| model | variant | accuracy % | Δ points | stored bytes | compression | generated weight bytes | weights × |", "|---|---|---:|---:|---:|---:|---:|---:|"]
for name in ["fashion_lenet300", "fashion_lenet5", "fashion_bncnn"]:
    variants = json.load(open(f"{out}/{name}/report.json"))["variants"]
    base = variants[0]
    for v in variants:
        rows.append(f"| {name} | {v['name']} | {100*v['accuracy']:.2f} | {100*(v['accuracy']-base['accuracy']):+.2f} | {v['storedBytes']:,} | {base['storedBytes']/v['storedBytes']:.1f}× | {v['generatedWeightBytes']:,} | {base['generatedWeightBytes']/v['generatedWeightBytes']:.2f}× |")
rows.append("| LeNet-300-100 (MNIST), Deep Compression paper | prune 92% + 6-bit + Huffman, retrained | 98.42 | +0.06 | — | 40× | — | — |")
table = "\n".join(rows)
readme = open("README.md").read()
readme = re.sub(r"(<!-- optimization-table:begin -->\n).*?(<!-- optimization-table:end -->)", lambda m: m.group(1) + table + "\n" + m.group(2), readme, flags=re.S)
open("README.md", "w").write(readme)
PY
log "done: docs/optimization.md, README.md, $OUT/*/report.html"
