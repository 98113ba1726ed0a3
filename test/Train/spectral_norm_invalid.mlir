// spectral_norm errors name the field and the parameter.
// RUN: bism-opt %s -split-input-file -verify-diagnostics --bism-build-train-step

func.func private @f(%v: tensor<2x2xf32>, %w: tensor<2x3xf32>, %c: tensor<3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
// expected-error @+1 {{'bism.model' op spec field 'spectral_norm' names 'c', of type 'tensor<3xf32>': spectral normalisation needs a matrix or a kernel (rank >= 2)}}
bism.model @m free_energy @f [@W, @c] spec {method = "marginal", spectral_norm = ["c"]} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @c : tensor<3xf32> {group = "theta", init = "zeros"}
}

// -----

func.func private @f(%v: tensor<2x2xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
// expected-error @+1 {{'bism.model' op spec field 'spectral_norm' names 'V', which neither the energy nor the free energy lists}}
bism.model @m free_energy @f [@W] spec {method = "marginal", spectral_norm = ["V"]} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
}

// -----

func.func private @f(%v: tensor<2x2xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
// expected-error @+1 {{'bism.model' op spec field 'spectral_norm_iterations' must be an integer from 1 to 50, got 0 : i64}}
bism.model @m free_energy @f [@W] spec {method = "marginal", spectral_norm = ["W"], spectral_norm_iterations = 0} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
}
