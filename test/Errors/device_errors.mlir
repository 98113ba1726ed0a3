// UNSUPPORTED: cuda-driver
// --device cuda where there is no GPU driver: one clear message, exit code
// 1, nothing written; an unknown device is named.
// RUN: rm -rf %t && mkdir -p %t
// RUN: not bism-run %s --entry double --input "2xf32=1 2" --device cuda 2>&1 | FileCheck %s --check-prefix=CALL
// RUN: not bism-run %S/../../examples/grbm/checkerboard.mlir --iters 10 --device cuda --out %t/train 2>&1 | FileCheck %s --check-prefix=TRAIN
// RUN: not test -e %t/train/config.json
// RUN: bism-run %S/../../examples/grbm/checkerboard.mlir --iters 20 --log-every 10 --eval-every 0 --no-png --out %t/cpu > /dev/null
// RUN: not bism-run eval %t/cpu/last.ckpt --device cuda 2>&1 | FileCheck %s --check-prefix=EVAL
// RUN: not bism-run %s --entry double --input "2xf32=1 2" --device tpu 2>&1 | FileCheck %s --check-prefix=UNKNOWN

// CALL: bism-run: error: no CUDA device: libcuda.so.1 not found
// TRAIN: bism-run: error: no CUDA device: libcuda.so.1 not found
// EVAL: bism-run: error: no CUDA device: libcuda.so.1 not found
// UNKNOWN: bism-run: error: unknown device 'tpu' (expected cpu or cuda)

func.func @double(%a: tensor<2xf32>) -> tensor<2xf32> {
  %b = bism.add %a, %a : tensor<2xf32>
  return %b : tensor<2xf32>
}
