#!/usr/bin/env bash
# Installs missing dependencies, configures (once) and builds everything into
# build/ (or $BISM_BUILD_DIR). Idempotent: a second run only rebuilds changes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BISM_BUILD_DIR:-$root/build}

"$root/scripts/deps.sh"

if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22
fi
start=$(date +%s)
cmake --build "$build"
echo "build: done in $(( $(date +%s) - start )) s ($build)"
