// RUN: bism-opt %s --bism-autodiff -split-input-file | FileCheck %s

// Only the requested argument gets derivative code: nothing is emitted for
// %y, which is used but not differentiated.
func.func @f(%x: tensor<3xf64>, %y: tensor<3xf64>) -> tensor<f64> {
  %e = bism.exp %y : tensor<3xf64>
  %p = bism.mul %x, %e : tensor<3xf64>
  %s = bism.reduce_sum %p axes [0] : tensor<3xf64> -> tensor<f64>
  return %s : tensor<f64>
}
// CHECK-LABEL: func.func @grad_wrt_x
// CHECK-SAME: (%[[X:.*]]: tensor<3xf64>, %[[Y:.*]]: tensor<3xf64>)
// CHECK: %[[E:.*]] = bism.exp %[[Y]]
// CHECK: %[[P:.*]] = bism.mul %[[X]], %[[E]]
// CHECK: bism.reduce_sum %[[P]]
// CHECK: %[[ONE:.*]] = bism.constant dense<1.0{{.*}}> : tensor<f64>
// CHECK: %[[R:.*]] = bism.reshape %[[ONE]] : tensor<f64> to tensor<1xf64>
// CHECK: %[[B:.*]] = bism.broadcast %[[R]] : tensor<1xf64> to tensor<3xf64>
// CHECK: %[[G:.*]] = bism.mul %[[B]], %[[E]]
// CHECK-NOT: bism.exp
// CHECK: return %[[G]]
func.func @grad_wrt_x(%x: tensor<3xf64>, %y: tensor<3xf64>) -> tensor<3xf64> {
  %g = bism.grad @f(%x, %y) wrt [0] : (tensor<3xf64>, tensor<3xf64>) -> tensor<3xf64>
  return %g : tensor<3xf64>
}

// -----

// stop_gradient cuts the dependence: d/dx sum(stop(x) * x) = stop(x).
func.func @g(%x: tensor<2xf64>) -> tensor<f64> {
  %c = bism.stop_gradient %x : tensor<2xf64>
  %p = bism.mul %c, %x : tensor<2xf64>
  %s = bism.reduce_sum %p axes [0] : tensor<2xf64> -> tensor<f64>
  return %s : tensor<f64>
}
// CHECK-LABEL: func.func @grad_stopped
// CHECK: %[[C:.*]] = bism.stop_gradient %[[X:.*]] :
// CHECK: %[[B:.*]] = bism.broadcast
// CHECK-NEXT: %[[G:.*]] = bism.mul %[[B]], %[[C]]
// CHECK-NEXT: return %[[G]]
func.func @grad_stopped(%x: tensor<2xf64>) -> tensor<2xf64> {
  %g = bism.grad @g(%x) wrt [0] : (tensor<2xf64>) -> tensor<2xf64>
  return %g : tensor<2xf64>
}

// -----

// Calls are inlined and scf.for loops with constant bounds unrolled while the
// callee is copied: three steps of x <- x * x give x^8, derivative 8 x^7,
// computed by the chain rule through the three unrolled multiplications.
func.func @square(%x: tensor<f64>) -> tensor<f64> {
  %y = bism.mul %x, %x : tensor<f64>
  return %y : tensor<f64>
}
func.func @power8(%x: tensor<f64>) -> tensor<f64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %r = scf.for %i = %c0 to %c3 step %c1 iter_args(%acc = %x) -> (tensor<f64>) {
    %next = func.call @square(%acc) : (tensor<f64>) -> tensor<f64>
    scf.yield %next : tensor<f64>
  }
  return %r : tensor<f64>
}
// CHECK-LABEL: func.func @grad_power8
// CHECK-NOT: scf.for
// CHECK-NOT: func.call
// CHECK-COUNT-3: bism.mul %{{.*}}, %{{.*}} : tensor<f64>
// CHECK: return
func.func @grad_power8(%x: tensor<f64>) -> tensor<f64> {
  %g = bism.grad @power8(%x) wrt [0] : (tensor<f64>) -> tensor<f64>
  return %g : tensor<f64>
}

// -----

// Forward mode: the tangent of exp(x) along t is exp(x) * t, with the primal
// exp computed once.
func.func @e(%x: tensor<4xf64>) -> tensor<4xf64> {
  %y = bism.exp %x : tensor<4xf64>
  return %y : tensor<4xf64>
}
// CHECK-LABEL: func.func @jvp_exp
// CHECK-SAME: (%[[X:.*]]: tensor<4xf64>, %[[T:.*]]: tensor<4xf64>)
// CHECK: %[[Y:.*]] = bism.exp %[[X]]
// CHECK-NOT: bism.exp
// CHECK: bism.mul {{.*}}%[[Y]]
// CHECK-NOT: bism.jvp
func.func @jvp_exp(%x: tensor<4xf64>, %t: tensor<4xf64>) -> tensor<4xf64> {
  %d = bism.jvp @e(%x, %t) wrt [0] : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
  return %d : tensor<4xf64>
}
