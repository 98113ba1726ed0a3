// The "value" initialiser (what --bism-resolve-onnx writes for ONNX
// initializers) written by hand: the initial tensor itself, whose type must
// be the parameter's; "constant" keeps taking a number.
// RUN: bism-opt %s --split-input-file --verify-diagnostics | FileCheck %s

func.func private @e(%v: tensor<2x2xf32>, %h: tensor<2x3xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func private @q(%v: tensor<2x2xf32>, %a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %l = bism.constant dense<0.0> : tensor<2x3xf32>
  return %l : tensor<2x3xf32>
}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "value", value = dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "value", value = dense<0.25> : tensor<2x3xf32>}
}

// CHECK: bism.param @W : tensor<2x3xf32> {group = "theta", init = "value", value = dense<{{\[\[}}1.000000e+00, 2.000000e+00, 3.000000e+00], [4.000000e+00, 5.000000e+00, 6.000000e+00]]> : tensor<2x3xf32>}
// CHECK: bism.param @A : tensor<2x3xf32> {group = "phi", init = "value", value = dense<2.500000e-01> : tensor<2x3xf32>}

// -----

bism.model @m energy @e [] spec {} {
  // expected-error @+1 {{'bism.param' op init "value" needs a dense tensor of the parameter's type 'tensor<2x3xf32>' as 'value', got dense<[[1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00], [5.000000e+00, 6.000000e+00]]> : tensor<3x2xf32>}}
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "value", value = dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32>}
}

// -----

bism.model @m energy @e [] spec {} {
  // expected-error @+1 {{'bism.param' op init "value" needs a dense tensor of the parameter's type 'tensor<2xf32>' as 'value', got dense<1.000000e+00> : tensor<2xf64>}}
  bism.param @b : tensor<2xf32> {group = "theta", init = "value", value = dense<1.0> : tensor<2xf64>}
}

// -----

bism.model @m energy @e [] spec {} {
  // expected-error @+1 {{'bism.param' op init "value" needs a dense tensor of the parameter's type 'tensor<2xf32>' as 'value', got 1.000000e+00 : f64}}
  bism.param @b : tensor<2xf32> {group = "theta", init = "value", value = 1.0}
}

// -----

bism.model @m energy @e [] spec {} {
  // expected-error @+1 {{'bism.param' op init "value" needs 'value'}}
  bism.param @b : tensor<2xf32> {group = "theta", init = "value"}
}

// -----

bism.model @m energy @e [] spec {} {
  // expected-error @+1 {{'bism.param' op init "constant" needs a number as 'value', got dense<1.000000e+00> : tensor<2xf32>}}
  bism.param @b : tensor<2xf32> {group = "theta", init = "constant", value = dense<1.0> : tensor<2xf32>}
}

// -----

bism.model @m energy @e [] spec {} {
  // expected-error @+1 {{'bism.param' op attribute 'value' failed to satisfy constraint}}
  bism.param @b : tensor<2xf32> {group = "theta", init = "constant", value = "one"}
}
