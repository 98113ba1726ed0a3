#!/usr/bin/env bash
# Quick start, step 2: build (installing what is missing) and run the whole
# test suite: the lit tests, then every GoogleTest through ctest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BISM_BUILD_DIR:-$root/build}

"$root/scripts/build.sh"

echo
echo "== lit =="
/usr/lib/llvm-22/bin/lit -sv "$build/test"

echo
echo "== ctest =="
ctest --test-dir "$build" --output-on-failure -j "$(nproc)"

# ctest lists skipped tests without their reasons (no GPU, a data set not
# installed): print them.
log=$build/Testing/Temporary/LastTest.log
if grep -q ": Skipped$" "$log" 2>/dev/null; then
  echo
  echo "== why tests were skipped =="
  grep -h -A1 ": Skipped$" "$log" | grep -v -e "^--$" -e ": Skipped$" | sed 's/^/  /' || true
fi
