#!/usr/bin/env bash
# Data-parallel scaling on this machine's cores: the same training run as one
# process (1 thread, then all cores' threads) and as P ranks of
# `mpirun -np P` with 1 thread each (the global batch split P ways), all in
# one run so the figures compare. Not a test (test/Execution/data_parallel.mlir
# checks the numbers agree).
#
#   bench/data_parallel.sh [build dir] [iterations] [model] [--set ...]
#       (default build/, 100, examples/grbm/freyface.mlir: BiDSM K = 5, N = 5)
#
# Prints it/s (training steps alone, from bism-run's summary line) and the
# speed-up over one process on one thread, with the load average before.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
iters=${2:-100}
model=${3:-$root/examples/grbm/freyface.mlir}
shift $(( $# < 3 ? $# : 3 ))
run=$build/bin/bism-run
command -v mpirun > /dev/null ||
  { echo "data_parallel.sh: mpirun not found (scripts/deps.sh installs openmpi-bin)" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cores=$(nproc)
# Root (CI containers) must say so to Open MPI; more ranks than cores is fine.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1

base=""
bench() { # label, launcher words..., -- , bism-run args...
  local label=$1
  shift
  local launcher=()
  while [ "$1" != "--" ]; do launcher+=("$1"); shift; done
  shift
  local log="$out/$label.log"
  "${launcher[@]}" "$run" train "$model" --iters "$iters" --out "$out/$label" \
    --no-png --no-progress --eval-every 0 "$@" > "$log" 2>&1 ||
    { cat "$log" >&2; exit 1; }
  local rate
  rate=$(sed -n 's/^done: [0-9]* steps, \([0-9.]*\) it\/s.*/\1/p' "$log")
  [ -n "$base" ] || base=$rate
  printf '%-34s %9s it/s   x%s\n' "$label" "$rate" \
    "$(python3 -c "print(f'{$rate / $base:.2f}')")"
}

echo "data-parallel scaling: $(basename "$model") $*, $iters steps, $cores cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%d)"
bench "1 process, 1 thread" env -- --threads 1 "$@"
bench "1 process, $cores threads" env -- --threads "$cores" "$@"
for ranks in 2 4; do
  [ "$ranks" -le "$cores" ] || continue
  bench "$ranks ranks x 1 thread (mpirun)" mpirun -np "$ranks" -- --threads 1 "$@"
done
