#!/usr/bin/env bash
# The Frey face comparison of docs/results.md (the BiSM paper's Table 1 in
# this tool): BiDSM K=5 with N = 0, 1, 5, 10 and exact-marginal DSM on the
# GRBM of examples/grbm/freyface.mlir (560 visible, 400 latent), seed 0, then
# each final checkpoint's AIS test log-likelihood (2000 chains, 2000
# distributions) and test SSM score. Each run leaves its metrics,
# checkpoints and sample PNG in runs/freyface/<name>.
#
#   examples/grbm/freyface_table.sh [iterations] [build dir]
#   PHASE=train|eval|all (default all): train only, or evaluate finished runs
#
# Finished steps are kept: a run already at `iterations` is not retrained, a
# shorter one is extended with --resume (bit for bit the longer run), and an
# evaluation newer than its checkpoint is not redone.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
iters=${1:-20000}
run=${2:-$root/build}/bin/bism-run
model=$root/examples/grbm/freyface.mlir
out=$root/runs/freyface
phase=${PHASE:-all}

names=(marginal-dsm bidsm-K5-N0 bidsm-K5-N1 bidsm-K5-N5 bidsm-K5-N10)
declare -A sets=(
  [marginal-dsm]="--set method=marginal"
  [bidsm-K5-N0]="--set N=0"
  [bidsm-K5-N1]="--set N=1"
  [bidsm-K5-N5]=""
  [bidsm-K5-N10]="--set N=10"
)

# The step of a run's metrics.jsonl last line (0 if none).
last_step() {
  tail -1 "$out/$1/metrics.jsonl" 2>/dev/null |
    sed -n 's/^{"step": \([0-9]*\),.*/\1/p' | grep . || echo 0
}

mkdir -p "$out"
if [ "$phase" != eval ]; then
  for name in "${names[@]}"; do
    done_steps=$(last_step "$name")
    [ "$done_steps" -ge "$iters" ] && continue
    resume=(--overwrite)
    [ "$done_steps" -gt 0 ] && [ -f "$out/$name/last.ckpt" ] && resume=(--resume)
    # shellcheck disable=SC2086
    "$run" "$model" --iters "$iters" --seed 0 --out "$out/$name" \
      --no-progress --eval-every 0 --ais-steps 0 ${sets[$name]} \
      "${resume[@]}" >> "$out/$name.log"
    grep '^done: ' "$out/$name.log" | tail -1 | sed "s/^/$name /"
  done
fi
[ "$phase" = train ] && exit 0

echo "| run | overrides | steps | AIS test LL | AIS s.e. | test SSM | train it/s |"
echo "|---|---|---|---|---|---|---|"
for name in "${names[@]}"; do
  result=$out/$name.eval.json
  if [ ! "$result" -nt "$out/$name/last.ckpt" ]; then
    "$run" eval "$out/$name/last.ckpt" --ll ais > "$result.tmp" \
      2> "$out/$name.eval.log"
    mv "$result.tmp" "$result"
  fi
  json=$(tail -1 "$result")
  field() { sed -n "s/.*\"$1\": \(-\{0,1\}[0-9.e+-]*\).*/\1/p" <<< "$json"; }
  rate=$(sed -n 's/^done: [0-9]* steps, \([0-9.]*\) it\/s.*/\1/p' \
    "$out/$name.log" | tail -1)
  printf '| %-14s | %-22s | %6s | %10s | %8s | %9s | %5s |\n' "$name" \
    "${sets[$name]}" "$(field step)" "$(field test_ll)" \
    "$(field ais_log_z_se)" "$(field test_ssm)" "$rate"
done
