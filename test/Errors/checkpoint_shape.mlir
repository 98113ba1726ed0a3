// A checkpoint whose tensor has the wrong shape (re-encoded by a script, or
// written for another model) is refused naming the file and the tensor,
// not as "eval_ssm: input 2 has type 4x2xf32" (issue 16).
// RUN: rm -rf %t && mkdir -p %t
// RUN: bism-run %S/../../examples/grbm/checkerboard.mlir --iters 2 --log-every 1 --eval-every 0 --no-png --out %t/run > /dev/null
// RUN: %python %S/../Execution/Inputs/reshape_tensor.py %t/run/last.ckpt %t/wrong.ckpt theta.W
// RUN: not bism-run eval %t/wrong.ckpt --ll none 2>&1 | FileCheck %s
// RUN: not bism-run sample %t/wrong.ckpt --count 2 --npy %t/s.npy 2>&1 | FileCheck %s
// CHECK: bism-run: error: {{.*}}wrong.ckpt: tensor 'theta.W' is 4x2xf32, the model expects 2x4xf32 (was the checkpoint written for another model?)
