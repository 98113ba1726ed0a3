// One case per error of the model file: the bism.model / bism.param
// verifiers (lib/Dialect/BismModelOps.cpp, reported while parsing) and the
// cross-checks of bism::train::readModel (lib/Train/Model.cpp, reported by
// --bism-build-train-step), each naming the offending field or parameter.
// RUN: bism-opt %s -split-input-file -verify-diagnostics --bism-build-train-step

// == bism.param verifier ==

func.func private @e(%v: tensor<2x2xf32>, %h: tensor<2x3xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func private @q(%v: tensor<2x2xf32>, %a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %l = bism.constant dense<0.0> : tensor<2x3xf32>
  return %l : tensor<2x3xf32>
}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {} {
  // expected-error @+1 {{'bism.param' op group must be "theta" or "phi", got "energy"}}
  bism.param @W : tensor<2x3xf32> {group = "energy", init = "zeros"}
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
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {} {
  // expected-error @+1 {{'bism.param' op unknown init "xavier"; expected zeros, constant, value, normal, uniform or kaiming_uniform}}
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "xavier"}
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
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {} {
  // expected-error @+1 {{'bism.param' op init "constant" needs 'value'}}
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "constant"}
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
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {} {
  // expected-error @+1 {{'bism.param' op init "normal" needs 'std'}}
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "normal", mean = 0.0}
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
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {} {
  // expected-error @+1 {{'bism.param' op 'std' must be non-negative}}
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "normal", std = -0.1}
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
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  // expected-error @+1 {{'bism.param' op init "uniform" needs 'high'}}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "uniform", low = -1.0}
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
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  // expected-error @+1 {{'bism.param' op 'low' must not exceed 'high'}}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "uniform", low = 1.0, high = -1.0}
}

// -----

func.func private @e(%v: tensor<2x2xf32>, %h: tensor<2x3xf32>, %s: tensor<f32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func private @q(%v: tensor<2x2xf32>, %a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %l = bism.constant dense<0.0> : tensor<2x3xf32>
  return %l : tensor<2x3xf32>
}
bism.model @m energy @e [@s] posterior "bernoulli" @q [@A] spec {} {
  // expected-error @+1 {{'bism.param' op kaiming_uniform needs rank >= 1 (fan-in is dimension 0)}}
  bism.param @s : tensor<f32> {group = "theta", init = "kaiming_uniform"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
}

// -----

// == bism.model verifier ==

func.func private @e(%v: tensor<2x2xf32>, %h: tensor<2x3xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func private @q(%v: tensor<2x2xf32>, %a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %l = bism.constant dense<0.0> : tensor<2x3xf32>
  return %l : tensor<2x3xf32>
}
// expected-error @+1 {{'bism.model' op posterior kind must be "gaussian" or "bernoulli", got "categorical"}}
bism.model @m energy @e [@W] posterior "categorical" @q [@A] spec {} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
}

// -----

func.func private @e(%v: tensor<2x2xf32>, %h: tensor<2x3xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func private @q(%v: tensor<2x2xf32>, %a: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  %l = bism.constant dense<0.0> : tensor<2x3xf32>
  return %l, %l : tensor<2x3xf32>, tensor<2x3xf32>
}
// expected-error @+1 {{'bism.model' op 'temperature' applies to the bernoulli posterior only}}
bism.model @m energy @e [@W] posterior "gaussian" @q [@A] temperature 0.5 spec {} {
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
// expected-error @+1 {{'bism.model' op 'temperature' must be positive}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] temperature 0.0 spec {} {
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
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
  // expected-error @+1 {{'bism.constant' op is not allowed in a bism.model (only bism.param)}}
  %x = bism.constant dense<0.0> : tensor<2xf32>
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
// expected-error @+1 {{'bism.model' op energy parameters must be symbol references, got "W"}}
bism.model @m energy @e ["W"] posterior "bernoulli" @q [@A] spec {} {
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
// expected-error @+1 {{'bism.model' op energy parameter @V is not declared in the model}}
bism.model @m energy @e [@V] posterior "bernoulli" @q [@A] spec {} {
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
// expected-error @+1 {{'bism.model' op posterior parameter @W must be in group "phi"}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@W] spec {} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
}

// -----

// == readModel: the energy and posterior functions ==

func.func private @e(%v: tensor<2x2xf32>, %h: tensor<2x3xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32>
func.func private @q(%v: tensor<2x2xf32>, %a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %l = bism.constant dense<0.0> : tensor<2x3xf32>
  return %l : tensor<2x3xf32>
}
// expected-error @+1 {{'bism.model' op the energy @e is not a func.func with a body in the module}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
}

// -----

func.func private @e(%v: tensor<2x2xf32>, %h: tensor<2x3xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
// expected-error @+1 {{'bism.model' op the posterior @missing is not a func.func with a body in the module}}
bism.model @m energy @e [@W] posterior "bernoulli" @missing [@A] spec {} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
}

// -----

func.func private @e(%v: tensor<4xf32>, %h: tensor<2x3xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func private @q(%v: tensor<2x2xf32>, %a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %l = bism.constant dense<0.0> : tensor<2x3xf32>
  return %l : tensor<2x3xf32>
}
// expected-error @+1 {{'bism.model' op the energy @e must start with v: tensor<BxDxT> and h: tensor<BxHxT> (same batch B, float T)}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
}

// -----

func.func private @e(%v: tensor<2x2xf32>, %h: tensor<3x3xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func private @q(%v: tensor<2x2xf32>, %a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %l = bism.constant dense<0.0> : tensor<2x3xf32>
  return %l : tensor<2x3xf32>
}
// expected-error @+1 {{'bism.model' op the energy @e must start with v: tensor<BxDxT> and h: tensor<BxHxT> (same batch B, float T)}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
}

// -----

func.func private @e(%v: tensor<2x2xf32>, %h: tensor<2x3xf32>, %w: tensor<2x3xf32>) -> tensor<f32> {
  %e = bism.constant dense<0.0> : tensor<f32>
  return %e : tensor<f32>
}
func.func private @q(%v: tensor<2x2xf32>, %a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %l = bism.constant dense<0.0> : tensor<2x3xf32>
  return %l : tensor<2x3xf32>
}
// expected-error @+1 {{'bism.model' op the energy @e must return the per-sample energies 'tensor<2xf32>', got 'tensor<f32>'}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
}

// -----

func.func private @e(%v: tensor<2x2xf32>, %h: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func private @q(%v: tensor<2x2xf32>, %a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %l = bism.constant dense<0.0> : tensor<2x3xf32>
  return %l : tensor<2x3xf32>
}
// expected-error @+1 {{'bism.model' op the energy @e takes 2 arguments; expected 2 data arguments and the 1 listed parameters}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
}

// -----

func.func private @e(%v: tensor<2x2xf32>, %h: tensor<2x3xf32>, %w: tensor<3x2xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func private @q(%v: tensor<2x2xf32>, %a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %l = bism.constant dense<0.0> : tensor<2x3xf32>
  return %l : tensor<2x3xf32>
}
// expected-error @+1 {{'bism.model' op parameter @W has type 'tensor<2x3xf32>' but argument 2 of the energy @e has type 'tensor<3x2xf32>'}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
}

// -----

func.func private @e(%v: tensor<2x2xf32>, %h: tensor<2x3xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func private @q(%a: tensor<2x3xf32>, %v: tensor<2x2xf32>) -> tensor<2x3xf32> {
  %l = bism.constant dense<0.0> : tensor<2x3xf32>
  return %l : tensor<2x3xf32>
}
// expected-error @+1 {{'bism.model' op the posterior @q must take v: 'tensor<2x2xf32>' first}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {} {
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
// expected-error @+1 {{'bism.model' op the gaussian posterior @q must return (mu, logstd) as 2 x 'tensor<2x3xf32>', got 'tensor<2x3xf32>'}}
bism.model @m energy @e [@W] posterior "gaussian" @q [@A] spec {} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
}

// -----

func.func private @e(%v: tensor<2x2xf32>, %h: tensor<2x3xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func private @q(%v: tensor<2x2xf32>, %a: tensor<2x3xf32>) -> tensor<2x4xf32> {
  %l = bism.constant dense<0.0> : tensor<2x4xf32>
  return %l : tensor<2x4xf32>
}
// expected-error @+1 {{'bism.model' op the bernoulli posterior @q must return the logits as 1 x 'tensor<2x3xf32>', got 'tensor<2x4xf32>'}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
}

// -----

func.func private @e(%v: tensor<2x2xf32>, %h: tensor<2x3xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func private @q(%v: tensor<2x2xf32>, %a: tensor<2x3xf32>, %d: tensor<3xf32>) -> tensor<2x3xf32> {
  %l = bism.constant dense<0.0> : tensor<2x3xf32>
  return %l : tensor<2x3xf32>
}
// expected-error @+1 {{'bism.model' op the posterior @q takes 3 arguments; expected 1 data arguments and the 1 listed parameters}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {} {
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
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
  // expected-error @+1 {{'bism.param' op is declared but neither the energy nor the posterior lists it}}
  bism.param @unused : tensor<3xf32> {group = "phi", init = "zeros"}
}

// -----

func.func private @e(%v: tensor<2x2xf32>, %h: tensor<2x3xf32>, %w: tensor<2x3xf32>, %w2: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func private @q(%v: tensor<2x2xf32>, %a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %l = bism.constant dense<0.0> : tensor<2x3xf32>
  return %l : tensor<2x3xf32>
}
bism.model @m energy @e [@W, @W] posterior "bernoulli" @q [@A] spec {} {
  // expected-error @+1 {{'bism.param' op is listed more than once}}
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
}

// -----

// == readModel: the training spec ==

func.func private @e(%v: tensor<2x2xf32>, %h: tensor<2x3xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func private @q(%v: tensor<2x2xf32>, %a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %l = bism.constant dense<0.0> : tensor<2x3xf32>
  return %l : tensor<2x3xf32>
}
// expected-error @+1 {{'bism.model' op unknown spec field 'inner_step'; known fields: method, noise_schedule, sigma_min, sigma_max, sigma0, objective, noise_std}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {inner_step = 3} {
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
// expected-error @+1 {{'bism.model' op spec field 'method' must be "bism", "vages", "marginal", "importance", "bidvl", "cd" or "pcd", got "gibbs"}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {method = "gibbs"} {
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
// expected-error @+1 {{'bism.model' op spec field 'objective' must be one of "sm", "ssm", "dsm", "mdsm", "ksd"; got "nce"}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {objective = "nce"} {
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
// expected-error @+1 {{'bism.model' op spec field 'objective' must be one of "sm", "ssm", "dsm", "mdsm", "ksd"; got 3 : i64}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {objective = 3} {
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
// expected-error @+1 {{'bism.model' op spec field 'objective' is "ksd", which methods "marginal", "importance" and "vages" implement}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {objective = "ksd"} {
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
// expected-error @+1 {{'bism.model' op spec field 'ksd_bandwidth' must be positive, got 0}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {method = "vages", objective = "ksd", ksd_bandwidth = 0.0} {
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
// expected-error @+1 {{'bism.model' op spec field 'ksd_bandwidth' must be "median" or a positive number, got "mean"}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {method = "vages", objective = "ksd", ksd_bandwidth = "mean"} {
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
// expected-error @+1 {{'bism.model' op spec field 'noise_std' must be positive, got 0}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {noise_std = 0.0} {
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
// expected-error @+1 {{'bism.model' op spec field 'noise_std' must be a number, got "0.3"}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {noise_std = "0.3"} {
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
// expected-error @+1 {{'bism.model' op spec field 'projection' must be one of "rademacher", "gaussian"; got "sphere"}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {objective = "ssm", projection = "sphere"} {
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
// expected-error @+1 {{'bism.model' op spec field 'divergence' must be one of "kl", "fisher"; got "js"}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {divergence = "js"} {
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
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {divergence = "fisher"} {
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
// expected-error @+1 {{'bism.model' op spec field 'inner_steps' must be an integer >= 0, got -1 : i64}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {inner_steps = -1} {
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
// expected-error @+1 {{'bism.model' op spec field 'unroll_steps' must be an integer >= 0, got 2.000000e+00 : f64}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {unroll_steps = 2.0} {
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
// expected-error @+1 {{'bism.model' op spec field 'optimizer_phi' must be one of "adam", "sgd"; got "rmsprop"}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {optimizer_phi = "rmsprop"} {
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
// expected-error @+1 {{'bism.model' op spec field 'lr_theta' must be positive, got -1.000000e-03}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {lr_theta = -1.0e-3} {
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
// expected-error @+1 {{'bism.model' op spec field 'betas' must be two numbers in [0, 1), got [9.000000e-01, 1.000000e+00]}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {betas = [0.9, 1.0]} {
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
// expected-error @+1 {{'bism.model' op spec field 'betas' must be two numbers in [0, 1)}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {betas = [0.9]} {
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
// expected-error @+1 {{'bism.model' op spec field 'epsilon' must be positive, got 0}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {epsilon = 0} {
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
// expected-error @+1 {{'bism.model' op spec field 'iterations' must be an integer >= 1, got 0 : i64}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {iterations = 0} {
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
// expected-error @+1 {{'bism.model' op spec field 'seed' must be an integer >= 0, got -3 : i64}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {seed = -3} {
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
// expected-error @+1 {{'bism.model' op spec field 'batch_size' (100) does not match the batch dimension of the energy's visible argument (2)}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {batch_size = 100} {
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
// expected-error @+1 {{'bism.model' op spec field 'dataset' must be a string, got 7 : i64}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {dataset = 7} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
}

// -----

// Method importance draws binary latents uniformly: a Gaussian posterior
// clause says the latents are continuous.
func.func private @e(%v: tensor<2x2xf32>, %h: tensor<2x3xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func private @q(%v: tensor<2x2xf32>, %a: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  %l = bism.constant dense<0.0> : tensor<2x3xf32>
  return %l, %l : tensor<2x3xf32>, tensor<2x3xf32>
}
// expected-error @+1 {{'bism.model' op spec field 'method' is "importance", which draws binary latents uniformly; this model's posterior is "gaussian"}}
bism.model @m energy @e [@W] posterior "gaussian" @q [@A] spec {method = "importance"} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
}

// -----

func.func private @e(%v: tensor<2x2xf32>, %h: tensor<2x3xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
// expected-error @+1 {{'bism.model' op spec field 'particles' must be at most 100 with method "importance" (its L energies are unrolled into the compiled program), got 101}}
bism.model @m energy @e [@W] spec {method = "importance", particles = 101} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
}

// -----

func.func private @f(%v: tensor<2x2xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
// expected-error @+1 {{'bism.model' op spec field 'method' is "importance", which needs an 'energy' clause}}
bism.model @m free_energy @f [@W] spec {method = "importance"} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
}

// -----

// Method bidvl needs the marginal energy, a Gaussian inference model and a
// generator.
func.func private @f(%v: tensor<2x2xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
// expected-error @+1 {{'bism.model' op spec field 'method' is "bidvl", which needs a 'free_energy' (the marginal energy), a "gaussian" 'posterior' (the inference model) and a 'generator' clause}}
bism.model @m free_energy @f [@W] spec {method = "bidvl"} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
}

// -----

func.func private @f(%v: tensor<2x2xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func private @q(%v: tensor<2x2xf32>, %a: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  %l = bism.constant dense<0.0> : tensor<2x3xf32>
  return %l, %l : tensor<2x3xf32>, tensor<2x3xf32>
}
func.func private @g(%h: tensor<2x3xf32>, %w: tensor<3x2xf32>) -> tensor<2x3xf32> {
  %x = bism.constant dense<0.0> : tensor<2x3xf32>
  return %x : tensor<2x3xf32>
}
// expected-error @+1 {{'bism.model' op the generator @g must be (h: 'tensor<2x3xf32>', φ...) -> 'tensor<2x2xf32>', got '(tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<2x3xf32>'}}
bism.model @m free_energy @f [@W] generator @g [@G] posterior "gaussian" @q [@A] spec {method = "bidvl"} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
  bism.param @G : tensor<3x2xf32> {group = "phi", init = "zeros"}
}

// -----

func.func private @f(%v: tensor<2x2xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func private @g(%h: tensor<2x3xf32>, %w: tensor<3x2xf32>) -> tensor<2x2xf32> {
  %x = bism.constant dense<0.0> : tensor<2x2xf32>
  return %x : tensor<2x2xf32>
}
// expected-error @+1 {{'bism.model' op generator parameter @W must be in group "phi"}}
bism.model @m free_energy @f [@W] generator @g [@W] spec {method = "bidvl"} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
}
