#!/usr/bin/env bash
# Training speed of the examples with bism-run (iterations per second of the
# whole host loop: batch gathering, the compiled step, metrics), all in one
# run so the figures compare. Not a test.
#
#   bench/train_speed.sh [build dir]      (default build/)
#
# Prints one line per example: compile seconds, iterations, it/s.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
run=$build/bin/bism-run
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

bench() { # name, iterations, model, extra args...
  local name=$1 iters=$2 model=$3
  shift 3
  local log="$out/$name.log"
  "$run" "$model" --iters "$iters" --out "$out/$name" --no-png --no-progress \
    --eval-every 0 "$@" > "$log"
  local compile rate
  compile=$(sed -n 's/^compiled in \([0-9.]*\) s.*/\1/p' "$log")
  rate=$(sed -n 's/^done: [0-9]* steps, \([0-9.]*\) it\/s.*/\1/p' "$log")
  printf '%-28s compile %6s s   %6s iterations   %8s it/s\n' "$name" "$compile" "$iters" "$rate"
}

echo "bism-run training speed ($(nproc) cores, $(date -u +%Y-%m-%d))"
bench checkerboard-bidsm-K5-N5 5000 "$root/examples/grbm/checkerboard.mlir"
bench checkerboard-bidsm-K5-N0 5000 "$root/examples/grbm/checkerboard.mlir" --set N=0
bench checkerboard-marginal-dsm 20000 "$root/examples/grbm/checkerboard.mlir" --set method=marginal
bench freyface-bidsm-K5-N5 20 "$root/examples/grbm/freyface.mlir"
bench freyface-marginal-dsm 50 "$root/examples/grbm/freyface.mlir" --set method=marginal
