// RUN: not bism-opt %s --bism-autodiff -split-input-file 2>&1 | FileCheck %s

func.func private @external(%x: tensor<f64>) -> tensor<f64>
func.func @calls_external(%x: tensor<f64>) -> tensor<f64> {
  %y = func.call @external(%x) : (tensor<f64>) -> tensor<f64>
  return %y : tensor<f64>
}
func.func @main(%x: tensor<f64>) -> tensor<f64> {
  // CHECK: error: cannot differentiate through the external function @external
  %g = bism.grad @calls_external(%x) wrt [0] : (tensor<f64>) -> tensor<f64>
  return %g : tensor<f64>
}

// -----

func.func @recursive(%x: tensor<f64>) -> tensor<f64> {
  %y = func.call @recursive(%x) : (tensor<f64>) -> tensor<f64>
  return %y : tensor<f64>
}
func.func @main(%x: tensor<f64>) -> tensor<f64> {
  // CHECK: error: cannot differentiate the recursive function @recursive
  %g = bism.grad @recursive(%x) wrt [0] : (tensor<f64>) -> tensor<f64>
  return %g : tensor<f64>
}

// -----

func.func @dynamic_loop(%x: tensor<f64>, %bound: tensor<index>) -> tensor<f64> {
  %n = tensor.extract %bound[] : tensor<index>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // CHECK: error: 'scf.for' op is differentiated by unrolling, which needs constant bounds and a positive step
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %x) -> (tensor<f64>) {
    %next = bism.mul %acc, %acc : tensor<f64>
    scf.yield %next : tensor<f64>
  }
  return %r : tensor<f64>
}
func.func @main(%x: tensor<f64>, %bound: tensor<index>) -> tensor<f64> {
  %g = bism.grad @dynamic_loop(%x, %bound) wrt [0] : (tensor<f64>, tensor<index>) -> tensor<f64>
  return %g : tensor<f64>
}

// -----

// A loop to 1e11 used to be unrolled until memory ran out (issue 16).
func.func @huge_loop(%x: tensor<f64>) -> tensor<f64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 100000000000 : index
  // CHECK: error: 'scf.for' op runs 100000000000 iterations; differentiating it unrolls them, and bism unrolls at most 100000
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %x) -> (tensor<f64>) {
    %next = bism.mul %acc, %acc : tensor<f64>
    scf.yield %next : tensor<f64>
  }
  return %r : tensor<f64>
}
func.func @main(%x: tensor<f64>) -> tensor<f64> {
  %g = bism.grad @huge_loop(%x) wrt [0] : (tensor<f64>) -> tensor<f64>
  return %g : tensor<f64>
}

// -----

// Nested loops within the per-loop bound can still multiply beyond what
// fits: the total is bounded too.
func.func @nested_loops(%x: tensor<f64>) -> tensor<f64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 90000 : index
  // CHECK: error: 'scf.for' op unrolled for differentiation would make more than 20000000 operations (90000 iterations of 180002 operations once inner loops are unrolled, with the loops unrolled before it)
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %x) -> (tensor<f64>) {
    %inner = scf.for %j = %c0 to %n step %c1 iter_args(%a = %acc) -> (tensor<f64>) {
      %next = bism.mul %a, %a : tensor<f64>
      scf.yield %next : tensor<f64>
    }
    scf.yield %inner : tensor<f64>
  }
  return %r : tensor<f64>
}
func.func @main(%x: tensor<f64>) -> tensor<f64> {
  %g = bism.grad @nested_loops(%x) wrt [0] : (tensor<f64>) -> tensor<f64>
  return %g : tensor<f64>
}
