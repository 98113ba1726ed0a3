// The score and the HVP of the same energy at the same point: the HVP is
// forward-over-reverse, so after canonicalize + CSE the energy's forward pass
// (first-layer matmul v W1 and sigmoid(v W1 + b1), the softplus derivative
// both the score and the HVP need) appears once.
// RUN: bism-opt %s --bism-autodiff --canonicalize --cse | FileCheck %s --implicit-check-not=bism.grad --implicit-check-not=bism.hvp --implicit-check-not=bism.jvp --implicit-check-not=bism.vjp

func.func @energy(%v: tensor<8x2xf64>, %w1: tensor<2x16xf64>, %b1: tensor<16xf64>,
                  %w2: tensor<16x1xf64>) -> tensor<f64> {
  %z = bism.matmul %v, %w1 : tensor<8x2xf64>, tensor<2x16xf64> -> tensor<8x16xf64>
  %bb = bism.broadcast %b1 : tensor<16xf64> to tensor<8x16xf64>
  %a = bism.add %z, %bb : tensor<8x16xf64>
  %h = bism.softplus %a : tensor<8x16xf64>
  %o = bism.matmul %h, %w2 : tensor<8x16xf64>, tensor<16x1xf64> -> tensor<8x1xf64>
  %e = bism.reduce_sum %o axes [0, 1] : tensor<8x1xf64> -> tensor<f64>
  return %e : tensor<f64>
}

func.func @score_and_hvp(%v: tensor<8x2xf64>, %u: tensor<8x2xf64>, %w1: tensor<2x16xf64>,
                         %b1: tensor<16xf64>, %w2: tensor<16x1xf64>)
    -> (tensor<8x2xf64>, tensor<8x2xf64>) {
  %s = bism.grad @energy(%v, %w1, %b1, %w2) wrt [0]
      : (tensor<8x2xf64>, tensor<2x16xf64>, tensor<16xf64>, tensor<16x1xf64>) -> tensor<8x2xf64>
  %hu = bism.hvp @energy(%v, %w1, %b1, %w2, %u) wrt [0]
      : (tensor<8x2xf64>, tensor<2x16xf64>, tensor<16xf64>, tensor<16x1xf64>, tensor<8x2xf64>)
      -> tensor<8x2xf64>
  return %s, %hu : tensor<8x2xf64>, tensor<8x2xf64>
}

// CHECK-LABEL: func.func @energy(
// CHECK-COUNT-1: bism.softplus
// CHECK: return

// CHECK-LABEL: func.func @score_and_hvp(
// CHECK-SAME: %[[V:[^:]+]]: tensor<8x2xf64>, %[[U:[^:]+]]: tensor<8x2xf64>, %[[W1:[^:]+]]: tensor<2x16xf64>
// The energy value itself is dead (only its derivatives are returned).
// CHECK-NOT: bism.softplus
// The forward pass, once: v W1 and sigmoid(v W1 + b1) = softplus'.
// CHECK: bism.matmul %[[V]], %[[W1]] :
// CHECK-NOT: bism.matmul %[[V]], %[[W1]] :
// CHECK: bism.sigmoid
// CHECK-NOT: bism.sigmoid
// CHECK-NOT: bism.matmul %[[V]], %[[W1]] :
// CHECK-NOT: bism.softplus
// The tangent of the first layer (u W1), once.
// CHECK: bism.matmul %[[U]], %[[W1]] :
// CHECK-NOT: bism.matmul %[[U]], %[[W1]] :
// CHECK-NOT: bism.sigmoid
// CHECK-NOT: bism.matmul %[[V]], %[[W1]] :
// CHECK: return
