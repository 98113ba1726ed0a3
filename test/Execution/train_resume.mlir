// Resuming continues a run bit for bit: 200 steps, then --resume to 400,
// gives the same metrics lines (losses and test log-likelihoods) and the same
// final parameters as 400 steps in one go. The input file only carries this
// test; the model is the checkerboard example.
// RUN: rm -rf %t && mkdir -p %t
// RUN: bism-run %S/../../examples/grbm/checkerboard.mlir --set K=1 --set N=1 --iters 400 --log-every 50 --eval-every 200 --checkpoint-every 100 --out %t/once --no-png | FileCheck %s --check-prefix=ONCE
// RUN: bism-run %S/../../examples/grbm/checkerboard.mlir --set K=1 --set N=1 --iters 200 --log-every 50 --eval-every 200 --checkpoint-every 100 --out %t/split --no-png
// RUN: bism-run %S/../../examples/grbm/checkerboard.mlir --set K=1 --set N=1 --iters 400 --log-every 50 --eval-every 200 --checkpoint-every 100 --out %t/split --no-png --resume | FileCheck %s --check-prefix=RESUME
// RUN: diff %t/once/metrics.jsonl %t/split/metrics.jsonl
// RUN: FileCheck %s --input-file=%t/once/metrics.jsonl --check-prefix=METRICS
// RUN: bism-run eval %t/once/last.ckpt > %t/once.eval
// RUN: bism-run eval %t/split/last.ckpt > %t/split.eval
// RUN: diff %t/once.eval %t/split.eval
// RUN: FileCheck %s --input-file=%t/once.eval --check-prefix=EVAL
// RUN: FileCheck %s --input-file=%t/once/config.json --check-prefix=CONFIG

// ONCE: "inner_steps": 1,
// ONCE: "unroll_steps": 1,
// ONCE: "iterations": 400,
// ONCE: training 400 steps (batch 100)
// ONCE: done: 400 steps, {{.*}} test_ll {{-?[0-9.]+}}

// RESUME: resuming {{.*}}split/last.ckpt at step 200
// RESUME: training 200 steps (batch 100)

// METRICS: {"step": 50, "loss": [[L:[-0-9.e]+]], "J": [[L]], "lower_before": {{.*}}, "lower_after": {{.*}}, "grad_norm_theta": {{.*}}, "epoch": 0}
// METRICS: {"step": 200, {{.*}}"test_ll": {{.*}}}
// METRICS: {"step": 400, {{.*}}"test_ll": {{.*}}}
// METRICS-NOT: "step"

// EVAL: {"step": 400, "ll_method": "exact", "test_ll": {{-?[0-9]+\.[0-9]+}}, "test_ssm": {{-?[0-9]+\.[0-9]+}}}

// CONFIG: "method": "bism",
// CONFIG: "dataset": "checkerboard",
// CONFIG: "device": "cpu"

func.func @unused() {
  return
}
