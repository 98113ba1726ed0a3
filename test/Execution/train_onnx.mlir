// Training a model whose energy is imported from an ONNX file: the GRBM of
// test/Import/Inputs/grbm_energy.onnxtext, with its parameters declared from
// the file's initializers (init "value"), trains exactly as the same GRBM
// written in the bism dialect with those values as hand-written initialisers
// (test/Import/Inputs/grbm_dialect.mlir): the same metrics, line for line.
// A missing ONNX file is an error at the declaration (exit code 1). The
// example examples/onnx/checkerboard.mlir (networks exported from PyTorch)
// trains (shortened to K = N = 1, 20 steps) and its checkpoint evaluates.
// RUN: rm -rf %t && mkdir -p %t
// RUN: bism-run %s --iters 40 --log-every 10 --out %t/onnx --no-png | FileCheck %s --check-prefix=TRAIN
// RUN: bism-run %S/../Import/Inputs/grbm_dialect.mlir --iters 40 --log-every 10 --out %t/dialect --no-png
// RUN: diff %t/onnx/metrics.jsonl %t/dialect/metrics.jsonl
// RUN: FileCheck %s --input-file=%t/onnx/metrics.jsonl --check-prefix=METRICS
// RUN: bism-run %S/../../examples/onnx/checkerboard.mlir --set K=1 --set N=1 --iters 20 --log-every 10 --out %t/example --no-png | FileCheck %s --check-prefix=EXAMPLE
// RUN: FileCheck %s --input-file=%t/example/metrics.jsonl --check-prefix=EXAMPLE-METRICS
// RUN: bism-run eval %t/example/last.ckpt | FileCheck %s --check-prefix=EXAMPLE-EVAL
// RUN: cp %s %t/moved.mlir && not bism-run %t/moved.mlir --iters 1 --out %t/moved 2>&1 | FileCheck %s --check-prefix=MISSING

// TRAIN: compiling {{.*}}train_onnx.mlir
// TRAIN: "method": "bism",
// TRAIN: training 40 steps (batch 100)

// METRICS: {"step": 10, "loss": [[L:99\.040[0-9]*]], "J": [[L]], "lower_before": {{.*}}, "lower_after": {{.*}}, "grad_norm_theta": {{.*}}, "epoch": 0}
// METRICS: {"step": 40,
// METRICS-NOT: "step"

// EXAMPLE: training 20 steps (batch 100)
// EXAMPLE: done: 20 steps, {{.*}} test_ll {{-?[0-9.]+}}
// EXAMPLE-METRICS: {"step": 10, "loss": 89.591{{[0-9]*}}, "J": 89.591{{[0-9]*}},
// EXAMPLE-METRICS: {"step": 20, {{.*}}"test_ll": {{.*}}}
// EXAMPLE-EVAL: {"step": 20, {{.*}}"test_ll": {{-?[0-9]+\.[0-9]+}}

// MISSING: moved.mlir:[[@LINE+2]]:1: error: @energy: cannot open ONNX file '{{.*}}/../Import/Inputs/grbm_energy.onnxtext': No such file or directory
// MISSING: error: cannot import the ONNX functions of '{{.*}}moved.mlir' (see the message above)
func.func private @energy(tensor<100x2xf32>, tensor<100x4xf32>) -> tensor<100xf32>
    attributes {bism.onnx_file = "../Import/Inputs/grbm_energy.onnxtext"}

func.func private @posterior_logits(%v: tensor<100x2xf32>, %a: tensor<2x4xf32>,
                                    %d: tensor<4xf32>) -> tensor<100x4xf32> {
  %va = bism.matmul %v, %a : tensor<100x2xf32>, tensor<2x4xf32> -> tensor<100x4xf32>
  %d_batch = bism.broadcast %d : tensor<4xf32> to tensor<100x4xf32>
  %l = bism.add %va, %d_batch : tensor<100x4xf32>
  return %l : tensor<100x4xf32>
}

bism.model @grbm energy @energy []
    posterior "bernoulli" @posterior_logits [@A, @d] temperature 0.1
    spec {method = "bism", objective = "dsm", noise_std = 0.1,
          inner_steps = 1, unroll_steps = 1, lr_theta = 1.0e-2,
          lr_phi = 1.0e-2, unroll_optimizer = "same", batch_size = 100,
          dataset = "checkerboard"} {
  bism.param @A : tensor<2x4xf32> {group = "phi", init = "normal", std = 0.01}
  bism.param @d : tensor<4xf32> {group = "phi", init = "zeros"}
}
