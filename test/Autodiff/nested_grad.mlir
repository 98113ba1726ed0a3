// A grad of a function that itself contains a grad (second derivative of
// f(x) = Σ tanh(x), dotted with u): --bism-autodiff expands the inner grad
// first, then differentiates the result, leaving no AD op behind.
// RUN: bism-opt %s --bism-autodiff | FileCheck %s --implicit-check-not=bism.grad --implicit-check-not=bism.vjp --implicit-check-not=bism.jvp --implicit-check-not=bism.hvp

func.func @f(%x: tensor<4xf64>) -> tensor<f64> {
  %t = bism.tanh %x : tensor<4xf64>
  %s = bism.reduce_sum %t axes [0] : tensor<4xf64> -> tensor<f64>
  return %s : tensor<f64>
}

// uᵀ∇f(x) = Σ u ⊙ (1 − tanh²x)
func.func @df_dot(%x: tensor<4xf64>, %u: tensor<4xf64>) -> tensor<f64> {
  %g = bism.grad @f(%x) wrt [0] : (tensor<4xf64>) -> tensor<4xf64>
  %m = bism.mul %g, %u : tensor<4xf64>
  %s = bism.reduce_sum %m axes [0] : tensor<4xf64> -> tensor<f64>
  return %s : tensor<f64>
}

// ∇_x uᵀ∇f(x) = H u = −2 tanh(x)(1 − tanh²x) ⊙ u
func.func @d2f(%x: tensor<4xf64>, %u: tensor<4xf64>) -> tensor<4xf64> {
  %h = bism.grad @df_dot(%x, %u) wrt [0] : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
  return %h : tensor<4xf64>
}

// CHECK-LABEL: func.func @f(
// CHECK: bism.tanh
// CHECK: return

// The inner grad expanded in place: the forward tanh and its derivative.
// CHECK-LABEL: func.func @df_dot(
// CHECK: bism.tanh
// CHECK: bism.mul
// CHECK: return

// The outer grad of the expanded body: the primal tanh t, the first
// derivative 1 − t², and the derivative of that, −2t(1 − t²) ⊙ u: a negation
// and a product with t.
// CHECK-LABEL: func.func @d2f(
// CHECK: %[[T:[0-9]+]] = bism.tanh %arg0
// CHECK: bism.square %[[T]]
// CHECK: bism.sub
// CHECK: bism.mul {{.*}}%arg1
// CHECK: bism.neg
// CHECK: bism.mul {{(%[0-9]+, )?}}%[[T]]{{[, ]}}
// CHECK: return %{{.*}} : tensor<4xf64>
