// The optional `component_log_mass @C [θ...]` clause of bism.model: it
// parses, prints, and readModel accepts it (C(hs [C,H], θ...) -> [C]).
// RUN: bism-opt %s -split-input-file | bism-opt -split-input-file | FileCheck %s
// RUN: bism-opt %s -split-input-file --bism-build-train-step=keep-model | FileCheck %s --check-prefix=BUILT

// CHECK-LABEL: bism.model @m energy @e [@W, @b]
// CHECK-SAME:    component_log_mass @clm [@W, @b]
// CHECK-SAME:    posterior "bernoulli" @q [@A]
// BUILT: bism.model @m
// BUILT-SAME: component_log_mass @clm [@W, @b]
// BUILT: func.func @train_step(

func.func private @e(%v: tensor<2x2xf32>, %h: tensor<2x3xf32>, %w: tensor<2x3xf32>, %b: tensor<2xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func private @q(%v: tensor<2x2xf32>, %a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %l = bism.constant dense<0.0> : tensor<2x3xf32>
  return %l : tensor<2x3xf32>
}
func.func private @clm(%hs: tensor<8x3xf32>, %w: tensor<2x3xf32>, %b: tensor<2xf32>) -> tensor<8xf32> {
  %m = bism.constant dense<0.0> : tensor<8xf32>
  return %m : tensor<8xf32>
}
bism.model @m energy @e [@W, @b] component_log_mass @clm [@W, @b]
    posterior "bernoulli" @q [@A] spec {} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @b : tensor<2xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
}

// -----

// Method "marginal" (no energy: H is not constrained), a subset of θ in
// another order.
// CHECK-LABEL: bism.model @fv free_energy @f [@W, @c] component_log_mass @clm [@c] spec
// BUILT: bism.model @fv
// BUILT: func.func @train_step(

func.func private @f(%v: tensor<2x2xf32>, %w: tensor<2x3xf32>, %c: tensor<3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func private @clm(%hs: tensor<1x5xf32>, %c: tensor<3xf32>) -> tensor<1xf32> {
  %m = bism.constant dense<0.0> : tensor<1xf32>
  return %m : tensor<1xf32>
}
bism.model @fv free_energy @f [@W, @c] component_log_mass @clm [@c]
    spec {method = "marginal"} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @c : tensor<3xf32> {group = "theta", init = "zeros"}
}
