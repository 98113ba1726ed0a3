#!/usr/bin/env bash
# The VaGES paper's kernelized-Stein-discrepancy comparison (its Appendix
# F.1/G.1, Fig. 2) on the GRBM of examples/grbm/checkerboard.mlir: learning
# by KSD with the exact score (method marginal), by VaGES-KSD (the VaES
# score and the VaGES gradient, L = 2, 5, 10 particles per group) and by
# IS-KSD (the self-normalised importance-sampling score from L = 2, 5, 10
# uniform binary latents), RBF kernel with bandwidth 0.1 as in the paper,
# batch 100, Adam 1e-3. Each run is evaluated by the exact test
# log-likelihood (16 Gaussian components) and by AIS; the script prints the
# table (mean ± standard deviation over the seeds) and draws the seed-0
# learning curves; every run folder holds density.png and samples.png.
#
#   examples/grbm/checkerboard_ksd.sh [iterations] [seeds] [build dir]
#
# iterations: 100000 by default (the paper's); seeds: how many (0, 1, ...),
# default 3 (the paper: 10). Runs go to runs/checkerboard_ksd/<name>-s<seed>;
# two at a time.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
iters=${1:-100000}
seeds=${2:-3}
run=${3:-$root/build}/bin/bism-run
model=$root/examples/grbm/checkerboard.mlir
out=$root/runs/checkerboard_ksd
[ -x "$run" ] || { echo "checkerboard_ksd.sh: no $run (build first)" >&2; exit 1; }
mkdir -p "$out"

configs=(
  "ksd|--set method=marginal"
  "vages-ksd-L2|--set method=vages --set N=0 --set L=2"
  "vages-ksd-L5|--set method=vages --set N=0 --set L=5"
  "vages-ksd-L10|--set method=vages --set N=0 --set L=10"
  "is-ksd-L2|--set method=importance --set L=2"
  "is-ksd-L5|--set method=importance --set L=5"
  "is-ksd-L10|--set method=importance --set L=10"
)

# One run: train, then AIS (the exact LL is in the training log's last
# evaluation). Writes <dir>.log and <dir>.ais.log.
one() { # name seed overrides...
  local name=$1 seed=$2
  shift 2
  local dir="$out/$name-s$seed"
  # shellcheck disable=SC2068
  "$run" "$model" --iters "$iters" --seed "$seed" --out "$dir" --overwrite \
    --no-progress --eval-every $((iters / 20)) --set objective=ksd \
    --set ksd_bandwidth=0.1 $@ > "$dir.log" 2>&1
  "$run" eval "$dir/last.ckpt" --ll ais --ssm-projections 0 > "$dir.ais.log" 2>&1
  echo "  done $name seed $seed" >&2
}
export -f one
export run model out iters

jobs=()
for entry in "${configs[@]}"; do
  name=${entry%%|*}
  sets=${entry#*|}
  for ((s = 0; s < seeds; s++)); do
    jobs+=("$name $s $sets")
  done
done
printf '%s\n' "${jobs[@]}" | xargs -P 2 -I{} bash -c 'one {}'

# The table: mean ± sd over the seeds of the exact and the AIS test LL, and
# the training speed.
echo
echo "| method | exact test LL | AIS test LL | it/s (2 runs at a time) |"
echo "|---|---|---|---|"
for entry in "${configs[@]}"; do
  name=${entry%%|*}
  exact=() ais=() rate=()
  for ((s = 0; s < seeds; s++)); do
    dir="$out/$name-s$s"
    exact+=("$(sed -n 's/.*test_ll \(-\{0,1\}[0-9.]*\).*/\1/p' "$dir.log" | tail -1)")
    ais+=("$(sed -n 's/.*"test_ll": \(-\{0,1\}[0-9.]*\).*/\1/p' "$dir.ais.log" | tail -1)")
    rate+=("$(sed -n 's/^done: [0-9]* steps, \([0-9.]*\) it\/s.*/\1/p' "$dir.log")")
  done
  python3 - "$name" "${exact[*]}" "${ais[*]}" "${rate[*]}" <<'EOF'
import statistics, sys
name, *columns = sys.argv[1:]
cells = []
for column in columns[:2]:
    values = [float(v) for v in column.split()]
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    cells.append("%.4f ± %.4f" % (statistics.mean(values), sd))
rates = [float(v) for v in columns[2].split()]
print("| %s | %s | %s | %.0f |" % (name, cells[0], cells[1], statistics.mean(rates)))
EOF
done

curves=()
for entry in "${configs[@]}"; do curves+=("$out/${entry%%|*}-s0"); done
# Below −1 nats a diverging run (IS-KSD with L = 2) would flatten the rest.
"$run" plot --metric test_ll --y-min -1 --png "$out/test_ll.png" "${curves[@]}" > /dev/null
echo
echo "learning curves (seed 0): $out/test_ll.png; densities: $out/<name>-s<seed>/density.png"
