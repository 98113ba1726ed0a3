// Errors of the component_log_mass clause, each naming it (the verifier of
// bism.model, then bism::train::readModel).
// RUN: bism-opt %s -split-input-file -verify-diagnostics --bism-build-train-step

func.func private @e(%v: tensor<2x2xf32>, %h: tensor<2x3xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func private @q(%v: tensor<2x2xf32>, %a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %l = bism.constant dense<0.0> : tensor<2x3xf32>
  return %l : tensor<2x3xf32>
}
func.func private @clm(%hs: tensor<8x3xf32>, %a: tensor<2x3xf32>) -> tensor<8xf32> {
  %m = bism.constant dense<0.0> : tensor<8xf32>
  return %m : tensor<8xf32>
}
// expected-error @+1 {{'bism.model' op component_log_mass parameter @A must be in group "theta"}}
bism.model @m energy @e [@W] component_log_mass @clm [@A]
    posterior "bernoulli" @q [@A] spec {} {
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
// expected-error @+1 {{'bism.model' op the component_log_mass function @nope is not a func.func with a body in the module}}
bism.model @m energy @e [@W] component_log_mass @nope [@W]
    posterior "bernoulli" @q [@A] spec {} {
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
func.func private @clm(%hs: tensor<8x4xf32>, %w: tensor<2x3xf32>) -> tensor<8xf32> {
  %m = bism.constant dense<0.0> : tensor<8xf32>
  return %m : tensor<8xf32>
}
// expected-error @+1 {{'bism.model' op the component_log_mass function @clm takes configurations of 4 latents, but the model's latent width is 3}}
bism.model @m energy @e [@W] component_log_mass @clm [@W]
    posterior "bernoulli" @q [@A] spec {} {
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
func.func private @clm(%hs: tensor<6x3xf32>, %w: tensor<2x3xf32>) -> tensor<6xf32> {
  %m = bism.constant dense<0.0> : tensor<6xf32>
  return %m : tensor<6xf32>
}
// expected-error @+1 {{'bism.model' op the component_log_mass function @clm takes chunks of C = 6 configurations; C must be a power of two no larger than 2^H = 2^3}}
bism.model @m energy @e [@W] component_log_mass @clm [@W]
    posterior "bernoulli" @q [@A] spec {} {
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
func.func private @clm(%hs: tensor<16x3xf32>, %w: tensor<2x3xf32>) -> tensor<16xf32> {
  %m = bism.constant dense<0.0> : tensor<16xf32>
  return %m : tensor<16xf32>
}
// expected-error @+1 {{'bism.model' op the component_log_mass function @clm takes chunks of C = 16 configurations; C must be a power of two no larger than 2^H = 2^3}}
bism.model @m energy @e [@W] component_log_mass @clm [@W]
    posterior "bernoulli" @q [@A] spec {} {
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
func.func private @clm(%hs: tensor<8x3xf32>, %w: tensor<2x3xf32>) -> tensor<8x1xf32> {
  %m = bism.constant dense<0.0> : tensor<8x1xf32>
  return %m : tensor<8x1xf32>
}
// expected-error @+1 {{'bism.model' op the component_log_mass function @clm must return the per-configuration log masses 'tensor<8xf32>', got 'tensor<8x1xf32>'}}
bism.model @m energy @e [@W] component_log_mass @clm [@W]
    posterior "bernoulli" @q [@A] spec {} {
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
func.func private @clm(%hs: tensor<8x3xf64>, %w: tensor<2x3xf32>) -> tensor<8xf64> {
  %m = bism.constant dense<0.0> : tensor<8xf64>
  return %m : tensor<8xf64>
}
// expected-error @+1 {{'bism.model' op the component_log_mass function @clm must be (hs: tensor<CxHxf32>, the 1 listed parameters) -> tensor<Cxf32>, got '(tensor<8x3xf64>, tensor<2x3xf32>) -> tensor<8xf64>'}}
bism.model @m energy @e [@W] component_log_mass @clm [@W]
    posterior "bernoulli" @q [@A] spec {} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
}

// -----

func.func private @e(%v: tensor<2x2xf32>, %h: tensor<2x3xf32>, %w: tensor<2x3xf32>, %b: tensor<2xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func private @q(%v: tensor<2x2xf32>, %a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %l = bism.constant dense<0.0> : tensor<2x3xf32>
  return %l : tensor<2x3xf32>
}
func.func private @clm(%hs: tensor<8x3xf32>, %b: tensor<3xf32>) -> tensor<8xf32> {
  %m = bism.constant dense<0.0> : tensor<8xf32>
  return %m : tensor<8xf32>
}
// expected-error @+1 {{'bism.model' op parameter @b has type 'tensor<2xf32>' but argument 1 of the component_log_mass function @clm has type 'tensor<3xf32>'}}
bism.model @m energy @e [@W, @b] component_log_mass @clm [@b]
    posterior "bernoulli" @q [@A] spec {} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @b : tensor<2xf32> {group = "theta", init = "zeros"}
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
func.func private @clm(%hs: tensor<8x3xf32>) -> tensor<8xf32> {
  %m = bism.constant dense<0.0> : tensor<8xf32>
  return %m : tensor<8xf32>
}
// expected-error @+1 {{'bism.model' op the component_log_mass function @clm must be (hs: tensor<CxHxf32>, the 1 listed parameters) -> tensor<Cxf32>, got '(tensor<8x3xf32>) -> tensor<8xf32>'}}
bism.model @m energy @e [@W] component_log_mass @clm [@W]
    posterior "bernoulli" @q [@A] spec {} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
}
