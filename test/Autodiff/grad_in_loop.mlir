// An AD op in the body of an scf.for that is not itself differentiated is
// expanded in place, once, inside the body: the loop is kept (VaGES loops
// over its posterior particles this way). Σ_i ∇f(x + u_i), f = Σ tanh.
// RUN: bism-opt %s --bism-autodiff | FileCheck %s --implicit-check-not=bism.grad
// RUN: bism-opt %s --bism-lower-cpu | FileCheck %s --check-prefix=CPU --implicit-check-not=bism.

func.func private @f(%x: tensor<4xf64>) -> tensor<f64> {
  %t = bism.tanh %x : tensor<4xf64>
  %s = bism.reduce_sum %t axes [0] : tensor<4xf64> -> tensor<f64>
  return %s : tensor<f64>
}

func.func @sum_of_grads(%x: tensor<4xf64>, %u: tensor<3x4xf64>) -> tensor<4xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %zero = bism.constant dense<0.0> : tensor<4xf64>
  %sum = scf.for %i = %c0 to %c3 step %c1 iter_args(%acc = %zero) -> (tensor<4xf64>) {
    %ui = tensor.extract_slice %u[%i, 0] [1, 4] [1, 1] : tensor<3x4xf64> to tensor<4xf64>
    %xi = bism.add %x, %ui : tensor<4xf64>
    %g = bism.grad @f(%xi) wrt [0] : (tensor<4xf64>) -> tensor<4xf64>
    %next = bism.add %acc, %g : tensor<4xf64>
    scf.yield %next : tensor<4xf64>
  }
  return %sum : tensor<4xf64>
}

// One copy of the forward pass and of its derivative 1 − tanh², in the body.
// CHECK-LABEL: func.func @sum_of_grads(
// CHECK:         scf.for %[[I:.*]] = %c0 to %c3 step %c1 iter_args(%[[ACC:.*]] = %{{.*}})
// CHECK:           tensor.extract_slice %arg1[%[[I]], 0] [1, 4] [1, 1]
// CHECK:           %[[T:.*]] = bism.tanh
// CHECK-NOT:       bism.tanh
// CHECK:           bism.square %[[T]]
// CHECK:           %[[NEXT:.*]] = bism.add %[[ACC]],
// CHECK:           scf.yield %[[NEXT]]
// CHECK-NOT:     bism.tanh
// CHECK:         return

// CPU: llvm.func @sum_of_grads(
// CPU: llvm.cond_br
