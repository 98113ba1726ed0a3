#!/usr/bin/env bash
# bism against PyTorch (eager, torch.compile) and JAX (jax.jit) on the same
# BiSM training steps: checks that every peer computes bism's loss on shared
# inputs (relative 1e-4 in f32), times them all in one run and prints a table
# with the ratios and each bism step's GEMM floor. Not a test.
#
#   bench/compare/run.sh [BUILD_DIR] [--quick] [--only NAME[,NAME...]]
#                        [--peers torch-eager,torch-compile,jax-jit]
#                        [--threads N] [--workdir DIR] [--json FILE] [--force]
#
# BUILD_DIR (or $BISM_BUILD_DIR; default build/) holds bin/bism-opt and
# bin/bism-run. NAME is a configuration or a part of one:
#   ck-bidsm-K5N5 frey-bidsm-K5N5 frey-bidsm-K5N10 frey-bissm-K5N5
#   frey-vages-dsm-L2 frey-marginal-dsm mlp-bidsm-K5N2 deep-bimdsm-K5N0
#   deep-ebm-mdsm ("deep" selects the last two)
# --quick: few iterations (a smoke run); --threads N: N threads for everyone
# (OMP/OpenBLAS/MKL_NUM_THREADS=N, and the timed processes pinned to cores
# 0..N-1 with taskset, which XLA obeys; default: each one's own, all cores;
# on a busy machine OpenMP's spinning threads make the default erratic);
# --force: time peers whose check fails as well.
#
# PyTorch and JAX are benchmark tools, not project dependencies: they are
# installed from PyPI, when missing, into a virtual environment made with the
# python3 on PATH, bench/compare/.venv (git-ignored; $BISM_COMPARE_VENV
# overrides). PyPI has no CPU-only torch wheel for Linux x86-64: the default
# wheel comes with its CUDA libraries (several GB, unused here).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

build=${BISM_BUILD_DIR:-$root/build}
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --only|--peers|--threads|--workdir|--json)
      [ $# -ge 2 ] || { echo "run.sh: $1 needs a value" >&2; exit 2; }
      args+=("$1" "$2"); shift 2 ;;
    --only=*|--peers=*|--threads=*|--workdir=*|--json=*|--quick|--force)
      args+=("$1"); shift ;;
    -h|--help)
      sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) build=$1; shift ;;
  esac
done
[ -d "$build" ] || { echo "run.sh: no build directory $build" >&2; exit 1; }
build=$(cd "$build" && pwd)
for tool in bism-opt bism-run; do
  [ -x "$build/bin/$tool" ] || {
    echo "run.sh: no $build/bin/$tool; build bism first (scripts/build.sh)" >&2; exit 1; }
done

# The virtual environment, made and filled only when something is missing.
venv=${BISM_COMPARE_VENV:-$here/.venv}
python=$venv/bin/python
if [ ! -x "$python" ]; then
  echo "== making $venv with $(command -v python3) ($(python3 --version 2>&1))"
  python3 -m venv "$venv"
fi
if ! "$python" -c 'import numpy, torch, jax' 2>/dev/null; then
  echo "== installing numpy, torch and jax[cpu] from PyPI into $venv"
  "$python" -m pip install --quiet --upgrade pip
  "$python" -m pip install --quiet numpy torch 'jax[cpu]'
fi

# The sgemm rate program, against the OpenBLAS that bism links.
blas_inc=/usr/include/x86_64-linux-gnu/openblas-pthread
blas_lib=/usr/lib/x86_64-linux-gnu/openblas-pthread
sgemm=$venv/sgemm_rate
if [ ! -x "$sgemm" ] || [ "$here/sgemm_rate.cpp" -nt "$sgemm" ]; then
  mkdir -p "$(dirname "$sgemm")"
  cxx=$(command -v clang++-22 || command -v c++)
  "$cxx" -O2 -o "$sgemm" "$here/sgemm_rate.cpp" -I"$blas_inc" -L"$blas_lib" \
    -Wl,-rpath,"$blas_lib" -lopenblas
fi

echo "== machine"
echo "cores:  $(nproc)"
echo "cpu:    $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "memory: $(free -h | awk '/^Mem:/ {print $2}')"
echo "load:   $(uptime | sed 's/.*load average: //') (1, 5, 15 min)"
echo "bism:   $build ($(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'))"
echo "python: $("$python" --version 2>&1); $("$python" -c 'import numpy, torch, jax, jaxlib; print("numpy", numpy.__version__, "torch", torch.__version__, "(default %d threads)" % torch.get_num_threads(), "jax", jax.__version__, "jaxlib", jaxlib.__version__)' 2>/dev/null)"
echo "blas:   bism and sgemm_rate: $(readlink -f "$blas_lib/libopenblas.so") (OMP_NUM_THREADS=${OMP_NUM_THREADS:-unset})"
echo

cd "$here"
exec "$python" "$here/compare.py" --build "$build" --sgemm-rate "$sgemm" ${args[@]+"${args[@]}"}
