// The thread count does not change a run: every kernel is made parallel
// (--parallel-min-points 1, so even this small step's kernels run on the
// pool), and 1 and 3 threads give the same metrics and the same parameters
// bit for bit as the serial kernels. Each parallel iteration computes whole
// rows, reductions included. The model is the checkerboard example.
// RUN: rm -rf %t && mkdir -p %t
// RUN: bism-run %S/../../examples/grbm/checkerboard.mlir --set K=2 --set N=2 --iters 100 --log-every 50 --eval-every 100 --no-png --parallel-min-points -1 --threads 1 --out %t/serial | FileCheck %s --check-prefix=SERIAL
// RUN: bism-run %S/../../examples/grbm/checkerboard.mlir --set K=2 --set N=2 --iters 100 --log-every 50 --eval-every 100 --no-png --parallel-min-points 1 --threads 1 --out %t/one | FileCheck %s --check-prefix=ONE
// RUN: bism-run %S/../../examples/grbm/checkerboard.mlir --set K=2 --set N=2 --iters 100 --log-every 50 --eval-every 100 --no-png --parallel-min-points 1 --threads 3 --out %t/three | FileCheck %s --check-prefix=THREE
// RUN: diff %t/serial/metrics.jsonl %t/one/metrics.jsonl
// RUN: diff %t/serial/metrics.jsonl %t/three/metrics.jsonl
// RUN: cmp %t/serial/last.ckpt %t/three/last.ckpt
// RUN: FileCheck %s --input-file=%t/three/metrics.jsonl --check-prefix=METRICS

// SERIAL: 1 thread(s)
// ONE: 1 thread(s)
// THREE: 3 thread(s)
// METRICS: {"step": 100, "loss": {{[-0-9.e]+}}, {{.*}}"test_ll": {{-?[0-9.]+}}

func.func @unused() {
  return
}
