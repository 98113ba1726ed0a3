#!/usr/bin/env bash
# Quick start, step 1: install dependencies, build, run the default example.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BISM_BUILD_DIR:-$root/build}

"$root/scripts/build.sh"

echo
echo "== training examples/grbm/checkerboard.mlir (BiDSM K=5 N=5, CPU) =="
"$build/bin/bism-run" "$root/examples/grbm/checkerboard.mlir" \
  --out "$root/runs/checkerboard-quickstart" --overwrite
