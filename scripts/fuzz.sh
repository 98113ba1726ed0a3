#!/usr/bin/env bash
# libFuzzer campaigns over bism's input formats (test/fuzz).
#
#   scripts/fuzz.sh HARNESS SECONDS [libFuzzer options...]
#       fuzz one harness for SECONDS (or until -runs=N executions), starting
#       from its seeds (test fixtures, test/fuzz/corpus/HARNESS) and its
#       regression inputs (test/fuzz/regressions/HARNESS); the growing
#       corpus stays in build-fuzz/corpus/HARNESS between campaigns; a
#       crash is written to build-fuzz/crashes/HARNESS/ and fails the run.
#   scripts/fuzz.sh --regressions [SECONDS]
#       every harness: first its seeds and regression inputs once each,
#       then SECONDS (default 5) of fuzzing; what scripts/check.sh runs.
#   scripts/fuzz.sh --list
#
# Harnesses: tensor-text npy checkpoint idx onnx mlir model. They and the
# sanitizer unit tests are built in build-fuzz/ ($BISM_FUZZ_BUILD_DIR) with
# -DBISM_FUZZ=ON: ASan + UBSan + libFuzzer (clang-22, libclang-rt-22-dev).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BISM_FUZZ_BUILD_DIR:-$root/build-fuzz}
harnesses=(tensor-text npy checkpoint idx onnx mlir model)

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ $# -ge 1 ] || usage

# Seed files of a harness, one path per line (fixtures of the test suite).
seeds() {
  local dir=$root/test/fuzz/corpus/$1
  [ -d "$dir" ] && find "$dir" -type f
  case $1 in
    npy) find "$root/test" "$root/examples" -name '*.npy' -size -8k ;;
    onnx) find "$root/test" -name '*.onnx' -size -64k
          find "$root/test" -name '*.onnxtext' ;;
    mlir) find "$root/test" "$root/examples" -name '*.mlir' -size -16k ;;
    model) find "$root/examples" "$root/test/Train" "$root/test/Execution" \
             -name '*.mlir' -size -32k ;;
  esac
}

build_harnesses() {
  "$root/scripts/deps.sh" >/dev/null
  if [ ! -f "$build/build.ninja" ]; then
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
      -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
      -DBISM_FUZZ=ON >/dev/null
  fi
  cmake --build "$build" --target "$@"
}

# Sanitizer reports abort the run; leaks are reported at exit.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:detect_container_overflow=0}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/test/fuzz/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# fuzz HARNESS SECONDS [options]: one campaign; prints the execution count.
fuzz() {
  local name=$1 seconds=$2
  shift 2
  local corpus=$build/corpus/$name seedDir=$build/seeds/$name
  local crashes=$build/crashes/$name
  local regressions=$root/test/fuzz/regressions/$name
  mkdir -p "$corpus" "$crashes" "$regressions"
  rm -rf "$seedDir" && mkdir -p "$seedDir"
  # Copies, so libFuzzer's corpus minimisation never touches the sources.
  local i=0
  while IFS= read -r seed; do
    cp "$seed" "$seedDir/$i-$(basename "$seed")"
    i=$((i + 1))
  done < <(seeds "$name")
  local log=$build/fuzz-$name.log
  local status=0 started=$SECONDS
  "$build/test/fuzz/fuzz-$name" -max_total_time="$seconds" -timeout=60 \
    -rss_limit_mb=4096 -artifact_prefix="$crashes/" -print_final_stats=1 \
    "$@" "$corpus" "$seedDir" "$regressions" >"$log" 2>&1 || status=$?
  local runs
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  local cov
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
  if [ $status -ne 0 ]; then
    echo "fuzz-$name: FAILED (exit $status) after ${runs:-?} executions; log $log"
    grep -m1 -E "ERROR: |runtime error:|deadly signal|Test unit written" "$log" || true
    tail -n 40 "$log"
    return 1
  fi
  echo "fuzz-$name: ${runs:-?} executions in $((SECONDS - started)) s, ${cov:-cov ?}," \
       "$i seeds + $(find "$regressions" -type f | wc -l) regression inputs, no crash"
}

case $1 in
  --list) printf '%s\n' "${harnesses[@]}" ;;
  --regressions)
    seconds=${2:-5}
    build_harnesses bism-fuzz bism-sanitizer-tests
    failed=0
    for name in "${harnesses[@]}"; do
      fuzz "$name" "$seconds" || failed=1
    done
    exit $failed ;;
  -*) usage ;;
  *)
    name=$1
    [ $# -ge 2 ] || usage
    seconds=$2
    shift 2
    printf '%s\n' "${harnesses[@]}" | grep -qx "$name" ||
      { echo "fuzz.sh: unknown harness '$name' (--list)" >&2; exit 2; }
    build_harnesses "fuzz-$name"
    fuzz "$name" "$seconds" "$@" ;;
esac
