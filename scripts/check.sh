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

# The runtime's and the ONNX importer's unit tests under AddressSanitizer and
# UndefinedBehaviorSanitizer, then every libFuzzer harness over its seeds
# and regression inputs plus a few seconds of fuzzing (build-fuzz/, built
# with -DBISM_FUZZ=ON). Tests that run JIT-compiled code stay in the plain
# suite: under ASan, JITLink places the code and a model's arena more than
# 2 GiB apart (issue 16's note).
echo
echo "== sanitizers (ASan + UBSan) and fuzzing =="
start=$(date +%s)
fuzz_build=${BISM_FUZZ_BUILD_DIR:-$root/build-fuzz}
BISM_FUZZ_BUILD_DIR=$fuzz_build "$root/scripts/fuzz.sh" --regressions "${BISM_FUZZ_SECONDS:-5}"
rm -rf "$fuzz_build/jit-cache"
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_container_overflow=0} \
LSAN_OPTIONS=suppressions=$root/test/fuzz/lsan.supp:print_suppressions=0 \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
BISM_CACHE_DIR=$fuzz_build/jit-cache \
  "$fuzz_build/test/unit/bism-sanitizer-tests" --gtest_brief=1 \
  --gtest_filter='-PyTorchExports/*:DeepImageModel.*'
echo "sanitizers and fuzzing: $(( $(date +%s) - start )) s"

# ctest lists skipped tests without their reasons (no GPU, a data set not
# installed): print them.
log=$build/Testing/Temporary/LastTest.log
if grep -q ": Skipped$" "$log" 2>/dev/null; then
  echo
  echo "== why tests were skipped =="
  grep -h -A1 ": Skipped$" "$log" | grep -v -e "^--$" -e ": Skipped$" | sed 's/^/  /' || true
fi
