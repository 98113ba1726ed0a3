// Bad checkpoint schedules: in the spec (unroll_checkpoint) and on a loop
// (bism.checkpoint); a clear message naming the place, exit code 1.
// RUN: rm -rf %t && mkdir -p %t
// RUN: not bism-run %S/../../examples/grbm/checkerboard.mlir --set unroll_checkpoint=revolve --out %t/a 2>&1 | FileCheck %s --check-prefix=NAME
// NAME: error: 'bism.model' op spec field 'unroll_checkpoint' unknown checkpoint schedule 'revolve' (expected none, every:K, sqrt, binomial or binomial:S)
// RUN: not bism-run %S/../../examples/grbm/checkerboard.mlir --set unroll_checkpoint=every:0 --out %t/a 2>&1 | FileCheck %s --check-prefix=COUNT
// COUNT: error: 'bism.model' op spec field 'unroll_checkpoint' 'every:0': the number after ':' must be an integer >= 1
// RUN: not bism-run %S/../../examples/grbm/checkerboard.mlir --set N=0 --set unroll_checkpoint=sqrt --out %t/a 2>&1 | FileCheck %s --check-prefix=NOSTEPS
// NOSTEPS: error: 'bism.model' op spec field 'unroll_checkpoint' is "sqrt", but there are no unrolled steps to checkpoint (unroll_steps = 0)
// RUN: not bism-opt %s --bism-autodiff 2>&1 | FileCheck %s --check-prefix=LOOP
// LOOP: unroll_checkpoint_errors.mlir:17:11: error: 'scf.for' op has a bad 'bism.checkpoint': unknown checkpoint schedule 'sqrt:3' (expected none, every:K, sqrt, binomial or binomial:S)

func.func private @loss(%x: tensor<3xf64>) -> tensor<f64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %last = scf.for %i = %c0 to %c4 step %c1 iter_args(%state = %x) -> (tensor<3xf64>) {
    %next = bism.tanh %state : tensor<3xf64>
    scf.yield %next : tensor<3xf64>
  } {bism.checkpoint = "sqrt:3"}
  %s = bism.reduce_sum %last axes [0] : tensor<3xf64> -> tensor<f64>
  return %s : tensor<f64>
}

func.func @gradient(%x: tensor<3xf64>) -> tensor<3xf64> {
  %g = bism.grad @loss(%x) wrt [0] : (tensor<3xf64>) -> tensor<3xf64>
  return %g : tensor<3xf64>
}
