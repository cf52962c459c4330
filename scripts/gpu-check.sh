#!/usr/bin/env bash
# The GPU check (issue 18): does the teacher run a Mistral-7B-shaped model on CUDA as the real
# exports would, how fast, and do its CUDA labels agree with CPU labels?
#
#   bash scripts/gpu-check.sh            # on a Linux x64 machine with an NVIDIA GPU (under 10 min on one H100)
#   bash scripts/gpu-check.sh --small    # the whole pipeline on a tiny shape on the CPU (tests the script)
#
# Steps: (1) generate a Mistral-7B-shaped model with random weights, fp16 and int4 (MatMulNBits),
# external data (scripts/gen-test-model.ts; 14.5 + 4.3 GB written); (2) `nya bench teacher --json`
# on CUDA for each, tokens/s and the share of the card's dense fp16 peak; (3) `nya bench placement`
# for each: the session must be on CUDA and CUDA must have run every heavy node (MatMul,
# MatMulNBits, attention, softmax), no silent CPU fallback (run before (2), which is skipped for a
# session that fell back); (4) a small generated model labelled on
# CUDA and on the CPU, compared with the validator's agreement check (`nya bench agreement`), per
# variant. --small does all of it on the CPU, comparing one thread count with another in (4).
#
# Options: --out DIR (default: a temporary folder, removed at the end unless --keep), --keep,
# --threads N (generator threads, default: all cores). The summary is printed and written to
# OUT/gpu-check.json; figures go to docs/PERFORMANCE.md with the card's name. Exit status 1 when
# a check fails.
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'; }

SMALL=0
KEEP=0
OUT=""
THREADS="$(nproc)"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --help | -h) usage; exit 0 ;;
    --small) SMALL=1 ;;
    --keep) KEEP=1 ;;
    --out) OUT="$2"; shift ;;
    --threads) THREADS="$2"; shift ;;
    *) echo "gpu-check: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
if [[ -z "$OUT" ]]; then
  OUT="$(mktemp -d "${TMPDIR:-/tmp}/nya-gpu-check.XXXXXX")"
  [[ $KEEP -eq 1 ]] || trap 'rm -rf "$OUT"' EXIT
fi
mkdir -p "$OUT"
NYA=(node "$ROOT/bin/nya.cjs")
GEN="$ROOT/dist/tools/gen-test-model.cjs"
FAILED=0
fail() { echo "gpu-check: FAIL: $*" >&2; FAILED=1; }
now() { date +%s.%N; }
# `json FILE EXPR`: EXPR evaluated over the last line of FILE, parsed as `j`.
json() { node -e 'const fs=require("fs");const j=JSON.parse(fs.readFileSync(process.argv[1],"utf8").trim().split("\n").pop());console.log(eval(process.argv[2]))' "$1" "$2"; }

if [[ ! -f "$GEN" || ! -f "$ROOT/dist/main/nya.cjs" ]]; then
  echo "gpu-check: building (npm run build)" >&2
  node scripts/build.mjs >&2
fi

if [[ $SMALL -eq 1 ]]; then
  EP=cpu
  BIG_SHAPE=(--hidden 128 --layers 2 --heads 4 --kv-heads 2 --intermediate 352)
  BENCH_SIZE=(--tasks 1 --docs 4)
  GPU_NAME="none (--small, CPU)"
  # The CPU against itself on another thread count: the same comparison, run end to end.
  AGREE_SIDES=(--ep cpu --threads 1 --ep-b cpu --threads-b 2 --docs 4)
  SMALL_SHAPE=(--hidden 96 --layers 2 --heads 4 --kv-heads 2 --intermediate 256)
else
  EP=cuda
  BIG_SHAPE=(--shape 7b)
  BENCH_SIZE=(--tasks 4 --docs 16)
  command -v nvidia-smi >/dev/null || { echo "gpu-check: nvidia-smi not found; this check needs an NVIDIA GPU (or use --small)" >&2; exit 1; }
  GPU_NAME="$(nvidia-smi --query-gpu=name --format=csv,noheader | head -n 1)"
  if ! ls node_modules/onnxruntime-node/bin/napi-v*/linux/x64/libonnxruntime_providers_cuda.so >/dev/null 2>&1; then
    echo "gpu-check: onnxruntime-node has no CUDA provider library here; install it with" >&2
    echo "  ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js" >&2
    exit 1
  fi
  AGREE_SIDES=(--ep cuda --ep-b cpu --docs 8)
  SMALL_SHAPE=(--hidden 256 --layers 4 --heads 8 --kv-heads 2 --intermediate 704)
fi

# Dense fp16 tensor-core peak with fp32 accumulation (what cuBLAS uses for ONNX Runtime's fp16
# GEMMs), TFLOPS, from NVIDIA's data sheets; empty for a card not in the table.
peak_tflops() {
  case "$1" in
    *H200*) echo 989 ;;
    *H100*PCIe*) echo 756 ;;
    *H100*NVL*) echo 835 ;;
    *H100*) echo 989 ;;
    *A100*) echo 312 ;;
    *L40S*) echo 362 ;;
    *RTX\ 4090*) echo 165 ;;
    *RTX\ 3090*) echo 71 ;;
    *) echo "" ;;
  esac
}
PEAK="$(peak_tflops "$GPU_NAME")"

echo "gpu-check: $GPU_NAME, provider $EP, work in $OUT" >&2

# (1) The big model, both variants from one pass over the weights.
started="$(now)"
node "$GEN" --out "$OUT/big" "${BIG_SHAPE[@]}" --seed 7 --threads "$THREADS" > "$OUT/gen-big.json"
gen_s="$(node -p "($(now) - $started).toFixed(1)")"
gen_bytes="$(json "$OUT/gen-big.json" 'j.models.reduce((n, m) => n + m.dataBytes, 0)')"
echo "gpu-check: generated $(node -p "($gen_bytes / 1e9).toFixed(2)") GB in ${gen_s} s ($(json "$OUT/gen-big.json" 'j.mb_per_s') MB/s)" >&2
# 2 FLOPs per weight a token passes through: every projection and the LM head (not the embedding).
FLOPS_PER_TOKEN="$(json "$OUT/gen-big.json" 'const s = j.shape, hd = s.hiddenSize / s.numHeads; 2 * (s.numLayers * (2 * s.hiddenSize * s.hiddenSize + 2 * s.hiddenSize * s.numKvHeads * hd + 3 * s.hiddenSize * s.intermediateSize) + s.hiddenSize * s.vocabSize)')"

RESULTS=()
for variant in fp16 int4; do
  dir="$OUT/big/$variant"
  tps="null"; share="null"; heavy="null"; elsewhere="null"
  # (3) Placement first: a session that fell back to the CPU would take hours over the bench.
  if "${NYA[@]}" bench placement --model "$dir" --ep "$EP" --docs 2 --json > "$OUT/placement-$variant.json"; then
    placed_on="$(json "$OUT/placement-$variant.json" 'j.execution_provider')"
    heavy="$(json "$OUT/placement-$variant.json" 'j.heavy_nodes')"
    elsewhere="$(json "$OUT/placement-$variant.json" 'j.heavy_elsewhere.length')"
    [[ "$elsewhere" == 0 ]] || fail "$variant: $elsewhere of $heavy heavy nodes ran off $EP: $(json "$OUT/placement-$variant.json" 'j.heavy_elsewhere.slice(0, 5).map((n) => n.op + " " + n.node + " on " + n.provider).join(", ")')"
    echo "gpu-check: $variant: session on $placed_on, $heavy heavy nodes, $elsewhere off $EP" >&2
  else
    fail "$variant: nya bench placement failed"
    placed_on="none"
  fi
  # (2) Speed, on the provider asked for only.
  if [[ "$placed_on" != "${EP^^}" ]]; then
    fail "$variant: the session ran on $placed_on, not $EP ($(json "$OUT/placement-$variant.json" 'j.provider_reason' 2>/dev/null || echo 'no session')); no bench"
  elif "${NYA[@]}" bench teacher --model "$dir" --ep "$EP" "${BENCH_SIZE[@]}" --json > "$OUT/bench-$variant.json"; then
    provider="$(json "$OUT/bench-$variant.json" 'j.execution_provider')"
    tps="$(json "$OUT/bench-$variant.json" 'j.tokens_per_s')"
    [[ -n "$PEAK" && $SMALL -eq 0 ]] && share="$(node -p "Math.round($tps * $FLOPS_PER_TOKEN / ($PEAK * 1e12) * 1e4) / 1e4")"
    [[ "$provider" == "${EP^^}" ]] || fail "$variant bench ran on $provider, not $EP"
    echo "gpu-check: $variant: $tps tokens/s on $provider$([[ "$share" != null ]] && echo ", $(node -p "($share * 100).toFixed(1)") % of the $PEAK TFLOPS fp16 peak")" >&2
  else
    fail "$variant: nya bench teacher failed"
  fi
  RESULTS+=("\"$variant\":{\"tokens_per_s\":$tps,\"share_of_fp16_peak\":$share,\"heavy_nodes\":$heavy,\"heavy_nodes_elsewhere\":$elsewhere}")
done
# The big model is no longer needed; the small one's 18 GB less on disk.
[[ $KEEP -eq 1 ]] || rm -rf "$OUT/big"

# (4) CUDA against CPU labels, on a model small enough for the CPU.
node "$GEN" --out "$OUT/small" "${SMALL_SHAPE[@]}" --seed 8 --threads "$THREADS" > "$OUT/gen-small.json"
AGREEMENT=()
for variant in fp16 int4; do
  if "${NYA[@]}" bench agreement --model "$OUT/small/$variant" "${AGREE_SIDES[@]}" --json > "$OUT/agreement-$variant.json"; then
    agree="$(json "$OUT/agreement-$variant.json" 'j.agree')"
    sides="$(json "$OUT/agreement-$variant.json" 'j.a.execution_provider + " " + j.b.execution_provider')"
    [[ $SMALL -eq 1 || "$sides" == "CUDA CPU" ]] || fail "$variant: the agreement ran on $sides, not CUDA and CPU"
    [[ "$agree" == true ]] || fail "$variant: labels on $(json "$OUT/agreement-$variant.json" 'j.a.execution_provider + " and " + j.b.execution_provider') disagree: $(json "$OUT/agreement-$variant.json" 'j.reason')"
    echo "gpu-check: $variant agreement $(json "$OUT/agreement-$variant.json" '`${j.a.execution_provider} vs ${j.b.execution_provider}: overlap ${j.mean_overlap}, mean |Δ| ${j.mean_abs_logprob_diff}, mean Δ ${j.mean_signed_logprob_diff}, rank misses ${j.rank_miss_fraction}, bad rows ${j.bad_row_fraction}, agree ${j.agree}`')" >&2
    AGREEMENT+=("\"$variant\":$(tail -n 1 "$OUT/agreement-$variant.json")")
  else
    fail "$variant: nya bench agreement failed"
    AGREEMENT+=("\"$variant\":null")
  fi
done

summary="{\"gpu\":\"$GPU_NAME\",\"provider\":\"$EP\",\"small\":$([[ $SMALL -eq 1 ]] && echo true || echo false),\"peak_fp16_tflops\":${PEAK:-null},\"flops_per_token\":$FLOPS_PER_TOKEN,\"generate\":{\"bytes\":$gen_bytes,\"seconds\":$gen_s,\"threads\":$THREADS},$(IFS=,; echo "${RESULTS[*]}"),\"agreement\":{$(IFS=,; echo "${AGREEMENT[*]}")},\"ok\":$([[ $FAILED -eq 0 ]] && echo true || echo false)}"
echo "$summary" > "$OUT/gpu-check.json"
echo "$summary"
exit "$FAILED"
