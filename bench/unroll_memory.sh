#!/usr/bin/env bash
# Step memory and time of the Frey face BiDSM (examples/grbm/freyface.mlir,
# K = 5, Adam for the unrolled steps) against the number of unrolled steps N
# and the checkpoint schedule of the unrolled loop (unroll_checkpoint). The
# memory is the step's buffer plan (temporaries + inputs and outputs, as
# bism-run reports it); the time is bism-step-bench's median step. Not a
# test: the figures go to docs/results.md.
#
#   bench/unroll_memory.sh [build dir] [N list] [schedule list] [threads]
#                          [spec overrides]
#   (defaults: build/, "1 5 10 20 50", "none sqrt binomial binomial:3", 1,
#   none; e.g. "unroll_optimizer=sgd unroll_lr=2e-4" for the paper's plain
#   unrolled steps, which carry φ only)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
steps=${2:-1 5 10 20 50}
schedules=${3:-none sqrt binomial binomial:3}
threads=${4:-1}
overrides=()
for override in ${5:-}; do overrides+=(--set "$override"); done
export BISM_NO_CACHE=1

echo "Frey BiDSM step memory and time (${5:-example spec}; $(nproc) cores, $threads thread(s), load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%d))"
printf '%4s %-11s %10s %8s %10s %12s %12s %10s\n' N schedule "temps MiB" "io MiB" "total MiB" "ms/step wall" "ms/step cpu" "compile s"
for n in $steps; do
  for schedule in $schedules; do
    if [ "$n" -le 1 ] && [ "$schedule" != none ]; then continue; fi
    iters=$(( 200 / n )); [ "$iters" -lt 10 ] && iters=10
    line=$("$build/bench/bism-step-bench" "$root/examples/grbm/freyface.mlir" \
      --set "unroll_steps=$n" --set "unroll_checkpoint=$schedule" \
      --iters "$iters" --threads "$threads" "${overrides[@]}")
    compile=$(sed -n 's/.*: compile \([0-9.]*\) s,.*/\1/p' <<< "$line")
    wall=$(sed -n 's/.*step median \([0-9.]*\) ms wall.*/\1/p' <<< "$line")
    cpu=$(sed -n 's/.* ms wall, \([0-9.]*\) ms cpu.*/\1/p' <<< "$line")
    temps=$(sed -n 's/.*step memory \([0-9.]*\) MiB temporaries.*/\1/p' <<< "$line")
    io=$(sed -n 's/.*temporaries + \([0-9.]*\) MiB inputs.*/\1/p' <<< "$line")
    printf '%4s %-11s %10s %8s %10.2f %12s %12s %10s\n' "$n" "$schedule" "$temps" "$io" \
      "$(echo "$temps + $io" | bc -l)" "$wall" "$cpu" "$compile"
  done
done
