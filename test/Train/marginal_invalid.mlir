// Errors of method "marginal" and of models without a posterior, each
// naming the field or parameter (bism::train::readModel).
// RUN: bism-opt %s -split-input-file -verify-diagnostics --bism-build-train-step

func.func private @e(%v: tensor<2x2xf32>, %h: tensor<2x3xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func private @q(%v: tensor<2x2xf32>, %a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %l = bism.constant dense<0.0> : tensor<2x3xf32>
  return %l : tensor<2x3xf32>
}
// expected-error @+1 {{'bism.model' op spec field 'method' is "marginal", which needs a 'free_energy' clause}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {method = "marginal"} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
}

// -----

func.func private @f(%v: tensor<2x2xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
// expected-error @+1 {{'bism.model' op spec field 'method' is "bism", which needs an 'energy' and a 'posterior' clause}}
bism.model @m free_energy @f [@W] spec {method = "bism"} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
}

// -----

func.func private @e(%v: tensor<2x2xf32>, %h: tensor<2x3xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
// expected-error @+1 {{'bism.model' op spec field 'method' is "bism", which needs an 'energy' and a 'posterior' clause}}
bism.model @m energy @e [@W] spec {} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
}

// -----

func.func private @f(%v: tensor<2x2xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
bism.model @m free_energy @f [@W] spec {method = "marginal"} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  // expected-error @+1 {{'bism.param' op is a theta parameter but the free energy does not list it (method "marginal")}}
  bism.param @c : tensor<3xf32> {group = "theta", init = "zeros"}
}

// -----

func.func private @f(%v: tensor<2x2xf32>, %w: tensor<2x3xf32>) -> tensor<3xf32> {
  %e = bism.constant dense<0.0> : tensor<3xf32>
  return %e : tensor<3xf32>
}
// expected-error @+1 {{'bism.model' op the free energy @f must return the per-sample free energies 'tensor<2xf32>'}}
bism.model @m free_energy @f [@W] spec {method = "marginal"} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
}

// -----

func.func private @f(%v: tensor<2x2xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
// expected-error @+1 {{'bism.model' op free energy parameter @A must be in group "theta"}}
bism.model @m free_energy @f [@A] spec {method = "marginal"} {
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
}

// -----

// expected-error @+1 {{'bism.model' op needs an 'energy' or a 'free_energy' clause}}
bism.model @m spec {} {
}
