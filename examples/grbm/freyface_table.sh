#!/usr/bin/env bash
# The Frey face comparison of docs/results.md (the BiSM paper's Table 1 in
# this tool): BiDSM K=5 with N = 0, 1, 5, 10 and exact-marginal DSM on the
# GRBM of examples/grbm/freyface.mlir (560 visible, 400 latent), seed 0, then
# each final checkpoint's AIS test log-likelihood and test SSM score.
# Each run leaves its metrics, checkpoints and sample PNG in
# runs/freyface/<name>.
#
#   examples/grbm/freyface_table.sh [iterations] [build dir]
#   PHASE=train|eval|all (default all): train only, or evaluate finished runs
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

mkdir -p "$out"
if [ "$phase" != eval ]; then
  for name in "${names[@]}"; do
    # Finished runs are kept (delete runs/freyface/NAME.log to redo one).
    if grep -q "^done: $iters steps" "$out/$name.log" 2>/dev/null; then
      continue
    fi
    # shellcheck disable=SC2086
    "$run" "$model" --iters "$iters" --seed 0 --out "$out/$name" \
      --no-progress --eval-every 0 ${sets[$name]} > "$out/$name.log"
    sed -n 's/^done: /  /p' "$out/$name.log" | sed "s/^/$name/"
  done
fi
[ "$phase" = train ] && exit 0

echo "| run | overrides | steps | AIS test LL | test SSM | train it/s |"
echo "|---|---|---|---|---|---|"
for name in "${names[@]}"; do
  "$run" eval "$out/$name/last.ckpt" --ll ais --ssm > "$out/$name.eval.json"
  json=$(tail -1 "$out/$name.eval.json")
  field() { sed -n "s/.*\"$1\": \(-\{0,1\}[0-9.e+-]*\).*/\1/p" <<< "$json"; }
  rate=$(sed -n 's/^done: [0-9]* steps, \([0-9.]*\) it\/s.*/\1/p' "$out/$name.log")
  printf '| %-14s | %-22s | %6s | %10s | %9s | %5s |\n' "$name" \
    "${sets[$name]}" "$(field step)" "$(field test_ll)" "$(field test_ssm)" "$rate"
done
