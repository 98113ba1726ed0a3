#!/usr/bin/env bash
# Quick start, step 1: install dependencies, build, run the default example.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BISM_BUILD_DIR:-$root/build}

"$root/scripts/build.sh"

echo
echo "== examples/basics/grbm_free_energy.mlir (bism-run, CPU JIT) =="
"$build/bin/bism-run" "$root/examples/basics/grbm_free_energy.mlir" \
  --entry free_energy --input "2xi32=0 42"
