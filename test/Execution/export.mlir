// bism-run export: a checkpoint's parameters as .npy files (a run folder or
// a checkpoint file), which bism-run (or numpy) reads back unchanged.
// RUN: rm -rf %t && mkdir -p %t && cd %t
// RUN: bism-run %S/../../examples/grbm/checkerboard.mlir --iters 20 --log-every 10 --eval-every 0 --no-png --out run > /dev/null
// RUN: bism-run export run --npy params | FileCheck %s
// CHECK: theta.W 2x4xf32 -> params/theta.W.npy
// CHECK: theta.b 2xf32 -> params/theta.b.npy
// CHECK: theta.c 4xf32 -> params/theta.c.npy
// CHECK: theta.logsigma 2xf32 -> params/theta.logsigma.npy
// CHECK: phi.A 2x4xf32 -> params/phi.A.npy
// CHECK: phi.d 4xf32 -> params/phi.d.npy
// CHECK: 6 tensor(s) of step 20 written to params
// RUN: ls params | count 6
// RUN: bism-run export run/last.ckpt --npy all --all | FileCheck %s --check-prefix=ALL
// ALL: m_theta.W 2x4xf32
// ALL: t_theta f32
// Round trip: the file read as a function's input and written back as its
// result is the same file.
// RUN: bism-run %s --entry same --input @params/theta.W.npy --output-npy back --print-results=false
// RUN: cmp params/theta.W.npy back/result0.npy
// RUN: not bism-run export run --npy run/last.ckpt/x 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: bism-run: error: --npy: {{.*}}last.ckpt

func.func @same(%w: tensor<2x4xf32>) -> tensor<2x4xf32> {
  return %w : tensor<2x4xf32>
}
