#!/usr/bin/env bash
# The checkerboard comparison of docs/results.md: every method on the GRBM of
# examples/grbm/checkerboard.mlir, 20,000 iterations, seed 0, exact test
# log-likelihood (nats; best possible log 2 = 0.693). Each run leaves its
# metrics, checkpoint and density/sample PNGs in runs/checkerboard/<name>.
#
#   examples/grbm/checkerboard_table.sh [iterations] [build dir]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
iters=${1:-20000}
run=${2:-$root/build}/bin/bism-run
model=$root/examples/grbm/checkerboard.mlir
out=$root/runs/checkerboard

row() { # name, --set arguments...
  local name=$1
  shift
  local log="$out/$name.log"
  mkdir -p "$out"
  "$run" "$model" --iters "$iters" --seed 0 --out "$out/$name" --overwrite --no-progress \
    --eval-every 5000 "$@" > "$log"
  local ll rate
  ll=$(sed -n 's/.*test_ll \(-\{0,1\}[0-9.]*\).*/\1/p' "$log" | tail -1)
  rate=$(sed -n 's/^done: [0-9]* steps, \([0-9.]*\) it\/s.*/\1/p' "$log")
  printf '| %-26s | %-40s | %8s | %7s |\n' "$name" "$*" "$ll" "$rate"
}

echo "| run | overrides | test LL | it/s |"
echo "|---|---|---|---|"
row bidsm-K5-N5
row bidsm-K5-N0 --set N=0
row bidsm-K5-N1 --set N=1
row bidsm-K5-N10 --set N=10
row bissm-K5-N5 --set objective=ssm
row vages-dsm-L10 --set method=vages --set N=0 --set L=10
row vages-dsm-L10-shared --set method=vages --set N=0 --set L=10 --set vages_groups=shared
row marginal-dsm --set method=marginal
row marginal-ssm --set method=marginal --set objective=ssm
row cd-1 --set method=cd --set lr_theta=1e-3
row pcd-1 --set method=pcd --set lr_theta=1e-3
