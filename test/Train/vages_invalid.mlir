// Spec errors of method "vages", each naming the field
// (bism::train::readModel).
// RUN: bism-opt %s -split-input-file -verify-diagnostics --bism-build-train-step

func.func private @e(%v: tensor<2x2xf32>, %h: tensor<2x3xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func private @q(%v: tensor<2x2xf32>, %a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %l = bism.constant dense<0.0> : tensor<2x3xf32>
  return %l : tensor<2x3xf32>
}
// expected-error @+1 {{'bism.model' op spec field 'particles' must be an integer >= 2, got 1 : i64}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {method = "vages", particles = 1} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
}

// -----

func.func private @e(%v: tensor<2x2xf32>, %h: tensor<2x3xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func private @q(%v: tensor<2x2xf32>, %a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %l = bism.constant dense<0.0> : tensor<2x3xf32>
  return %l : tensor<2x3xf32>
}
// expected-error @+1 {{'bism.model' op spec field 'particles' must be an integer >= 2, got 1.000000e+01 : f64}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {method = "vages", particles = 10.0} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
}

// -----

func.func private @e(%v: tensor<2x2xf32>, %h: tensor<2x3xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func private @q(%v: tensor<2x2xf32>, %a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %l = bism.constant dense<0.0> : tensor<2x3xf32>
  return %l : tensor<2x3xf32>
}
// expected-error @+1 {{'bism.model' op spec field 'objective' must be "dsm", "mdsm" or "ksd" with method "vages"}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {method = "vages", objective = "ssm"} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
}

// -----

func.func private @e(%v: tensor<2x2xf32>, %h: tensor<2x3xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func private @q(%v: tensor<2x2xf32>, %a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %l = bism.constant dense<0.0> : tensor<2x3xf32>
  return %l : tensor<2x3xf32>
}
// expected-error @+1 {{'bism.model' op spec field 'objective' must be "dsm", "mdsm" or "ksd" with method "vages"}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {method = "vages", objective = "sm"} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
}

// -----

func.func private @e(%v: tensor<2x2xf32>, %h: tensor<2x3xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func private @q(%v: tensor<2x2xf32>, %a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %l = bism.constant dense<0.0> : tensor<2x3xf32>
  return %l : tensor<2x3xf32>
}
// expected-error @+1 {{'bism.model' op spec field 'unroll_steps' must be 0 with method "vages" (no unrolled steps), got 3}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {method = "vages", unroll_steps = 3} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
}

// -----

func.func private @e(%v: tensor<2x2xf32>, %h: tensor<2x3xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func private @q(%v: tensor<2x2xf32>, %a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %l = bism.constant dense<0.0> : tensor<2x3xf32>
  return %l : tensor<2x3xf32>
}
// expected-error @+1 {{'bism.model' op spec field 'vages_sampling' must be one of "hard", "relaxed"; got "soft"}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {method = "vages", vages_sampling = "soft"} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
}

// -----

func.func private @e(%v: tensor<2x2xf32>, %h: tensor<2x3xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func private @q(%v: tensor<2x2xf32>, %a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %l = bism.constant dense<0.0> : tensor<2x3xf32>
  return %l : tensor<2x3xf32>
}
// expected-error @+1 {{'bism.model' op spec field 'vages_groups' must be one of "independent", "shared"; got "separate"}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {method = "vages", vages_groups = "separate"} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
}

// -----

func.func private @e(%v: tensor<2x2xf32>, %h: tensor<2x3xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func private @q(%v: tensor<2x2xf32>, %a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %l = bism.constant dense<0.0> : tensor<2x3xf32>
  return %l : tensor<2x3xf32>
}
// expected-error @+1 {{'bism.model' op spec field 'divergence' is "fisher", which needs continuous latents (a "gaussian" posterior); this model's posterior is "bernoulli"}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {method = "vages", divergence = "fisher"} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
}

// -----

func.func private @f(%v: tensor<2x2xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
// expected-error @+1 {{'bism.model' op spec field 'method' is "vages", which needs an 'energy' and a 'posterior' clause}}
bism.model @m free_energy @f [@W] spec {method = "vages"} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
}
