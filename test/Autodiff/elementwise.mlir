// RUN: bism-opt %s --bism-autodiff | FileCheck %s

// The elementwise rules (lib/Dialect/Derivatives/ElementwiseDerivatives.cpp):
// the derivative code of a chain is bism ops only and reuses the primal
// results (exp', tanh' = 1 - t^2); relu masks with a select; zero
// (co)tangents from select conditions and stop_gradient emit nothing.

func.func @f(%x: tensor<4xf64>, %w: tensor<4xf64>) -> tensor<4xf64> {
  %e = bism.exp %x : tensor<4xf64>
  %m = bism.mul %e, %w : tensor<4xf64>
  %t = bism.tanh %m : tensor<4xf64>
  %r = bism.relu %t : tensor<4xf64>
  return %r : tensor<4xf64>
}

// Reverse: u -> relu mask -> (1 - t^2) -> * w -> * exp(x).
// CHECK-LABEL: func.func @vjp_f
// CHECK-SAME: (%[[X:.*]]: tensor<4xf64>, %[[W:.*]]: tensor<4xf64>, %[[U:.*]]: tensor<4xf64>)
// CHECK: %[[E:.*]] = bism.exp %[[X]]
// CHECK: %[[M:.*]] = bism.mul %[[E]], %[[W]]
// CHECK: %[[T:.*]] = bism.tanh %[[M]]
// CHECK: %[[Z:.*]] = bism.constant dense<0.0{{.*}}> : tensor<4xf64>
// CHECK: %[[POS:.*]] = bism.compare gt, %[[T]], %[[Z]]
// CHECK: %[[GR:.*]] = bism.select %[[POS]], %[[U]], %[[Z]]
// CHECK: %[[ONE:.*]] = bism.constant dense<1.0{{.*}}> : tensor<4xf64>
// CHECK: %[[T2:.*]] = bism.square %[[T]]
// CHECK: %[[D:.*]] = bism.sub %[[ONE]], %[[T2]]
// CHECK: %[[GT:.*]] = bism.mul %[[GR]], %[[D]]
// CHECK: %[[GE:.*]] = bism.mul %[[GT]], %[[W]]
// CHECK: %[[GX:.*]] = bism.mul %[[GE]], %[[E]]
// CHECK-NOT: bism.exp
// CHECK: return %[[GX]]
func.func @vjp_f(%x: tensor<4xf64>, %w: tensor<4xf64>, %u: tensor<4xf64>) -> tensor<4xf64> {
  %g = bism.vjp @f(%x, %w, %u) wrt [0] : (tensor<4xf64>, tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
  return %g : tensor<4xf64>
}

// Forward: the same factors in the opposite order.
// CHECK-LABEL: func.func @jvp_f
// CHECK-SAME: (%[[X:.*]]: tensor<4xf64>, %[[W:.*]]: tensor<4xf64>, %[[V:.*]]: tensor<4xf64>)
// CHECK: %[[E:.*]] = bism.exp %[[X]]
// CHECK: %[[M:.*]] = bism.mul %[[E]], %[[W]]
// CHECK: %[[T:.*]] = bism.tanh %[[M]]
// CHECK: %[[TE:.*]] = bism.mul %[[V]], %[[E]]
// CHECK: %[[TM:.*]] = bism.mul %[[TE]], %[[W]]
// CHECK: %[[ONE:.*]] = bism.constant dense<1.0{{.*}}> : tensor<4xf64>
// CHECK: %[[T2:.*]] = bism.square %[[T]]
// CHECK: %[[D:.*]] = bism.sub %[[ONE]], %[[T2]]
// CHECK: %[[TT:.*]] = bism.mul %[[TM]], %[[D]]
// CHECK: %[[Z:.*]] = bism.constant dense<0.0{{.*}}> : tensor<4xf64>
// CHECK: %[[POS:.*]] = bism.compare gt, %[[T]], %[[Z]]
// CHECK: %[[TR:.*]] = bism.select %[[POS]], %[[TT]], %[[Z]]
// CHECK-NOT: bism.exp
// CHECK: return %[[TR]]
func.func @jvp_f(%x: tensor<4xf64>, %w: tensor<4xf64>, %v: tensor<4xf64>) -> tensor<4xf64> {
  %g = bism.jvp @f(%x, %w, %v) wrt [0] : (tensor<4xf64>, tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
  return %g : tensor<4xf64>
}

// stop_gradient, select and div: d/dx = select(c > 0, u / y, 0) * stop_gradient(x);
// the condition's source %c gets an explicit zero.
func.func @g(%x: tensor<4xf64>, %c: tensor<4xf64>, %y: tensor<4xf64>) -> tensor<4xf64> {
  %s = bism.stop_gradient %x : tensor<4xf64>
  %p = bism.mul %s, %x : tensor<4xf64>
  %z = bism.constant dense<0.0> : tensor<4xf64>
  %m = bism.compare gt, %c, %z : tensor<4xf64>
  %q = bism.select %m, %p, %y : tensor<4xf64>
  %r = bism.div %q, %y : tensor<4xf64>
  return %r : tensor<4xf64>
}
// CHECK-LABEL: func.func @vjp_g
// CHECK-SAME: (%[[X:.*]]: tensor<4xf64>, %[[C:.*]]: tensor<4xf64>, %[[Y:.*]]: tensor<4xf64>, %[[U:.*]]: tensor<4xf64>)
// CHECK: %[[S:.*]] = bism.stop_gradient %[[X]]
// CHECK: %[[M:.*]] = bism.compare gt, %[[C]]
// CHECK: %[[GQ:.*]] = bism.div %[[U]], %[[Y]]
// CHECK: %[[Z:.*]] = bism.constant dense<0.0{{.*}}> : tensor<4xf64>
// CHECK: %[[GP:.*]] = bism.select %[[M]], %[[GQ]], %[[Z]]
// CHECK: %[[GX:.*]] = bism.mul %[[GP]], %[[S]]
// CHECK: %[[GC:.*]] = bism.constant dense<0.0{{.*}}> : tensor<4xf64>
// CHECK: return %[[GX]], %[[GC]]
func.func @vjp_g(%x: tensor<4xf64>, %c: tensor<4xf64>, %y: tensor<4xf64>, %u: tensor<4xf64>) -> (tensor<4xf64>, tensor<4xf64>) {
  %g:2 = bism.vjp @g(%x, %c, %y, %u) wrt [0, 1] : (tensor<4xf64>, tensor<4xf64>, tensor<4xf64>, tensor<4xf64>) -> (tensor<4xf64>, tensor<4xf64>)
  return %g#0, %g#1 : tensor<4xf64>, tensor<4xf64>
}

// Forward through all three: the tangent of %c never appears, and div's
// tangent is (dq - dy * r) / y with r the primal quotient.
// CHECK-LABEL: func.func @jvp_g
// CHECK-SAME: (%[[X:.*]]: tensor<4xf64>, %[[C:.*]]: tensor<4xf64>, %[[Y:.*]]: tensor<4xf64>, %[[TX:.*]]: tensor<4xf64>, %[[TC:.*]]: tensor<4xf64>, %[[TY:.*]]: tensor<4xf64>)
// CHECK: %[[S:.*]] = bism.stop_gradient %[[X]]
// CHECK: %[[M:.*]] = bism.compare gt, %[[C]]
// CHECK: %[[R:.*]] = bism.div
// CHECK: %[[TP:.*]] = bism.mul %[[TX]], %[[S]]
// CHECK: %[[TQ:.*]] = bism.select %[[M]], %[[TP]], %[[TY]]
// CHECK: %[[TR:.*]] = bism.mul %[[TY]], %[[R]]
// CHECK: %[[N:.*]] = bism.sub %[[TQ]], %[[TR]]
// CHECK: %[[OUT:.*]] = bism.div %[[N]], %[[Y]]
// CHECK-NOT: %[[TC]]
// CHECK: return %[[OUT]]
func.func @jvp_g(%x: tensor<4xf64>, %c: tensor<4xf64>, %y: tensor<4xf64>, %t: tensor<4xf64>, %tc: tensor<4xf64>, %ty: tensor<4xf64>) -> tensor<4xf64> {
  %g = bism.jvp @g(%x, %c, %y, %t, %tc, %ty) wrt [0, 1, 2] : (tensor<4xf64>, tensor<4xf64>, tensor<4xf64>, tensor<4xf64>, tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
  return %g : tensor<4xf64>
}
