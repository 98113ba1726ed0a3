// Errors of methods "cd" and "pcd" (bism::train::readModel).
// RUN: bism-opt %s -split-input-file -verify-diagnostics --bism-build-train-step

func.func private @f(%v: tensor<2x2xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
// expected-error @+1 {{'bism.model' op spec field 'method' is "cd", which needs a 'gibbs' clause}}
bism.model @m free_energy @f [@W] spec {method = "cd"} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
}

// -----

func.func private @g(%v: tensor<2x2xf32>, %w: tensor<2x3xf32>, %u: tensor<2x3xf32>, %z: tensor<2x2xf32>) -> tensor<2x2xf32> {
  return %v : tensor<2x2xf32>
}
func.func private @e(%v: tensor<2x2xf32>, %h: tensor<2x3xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
// expected-error @+1 {{'bism.model' op spec field 'method' is "pcd", which needs a 'free_energy' clause}}
bism.model @m energy @e [@W] gibbs @g [@W] spec {method = "pcd"} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
}

// -----

func.func private @f(%v: tensor<2x2xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
// The z_v argument is missing.
func.func private @g(%v: tensor<2x2xf32>, %w: tensor<2x3xf32>, %u: tensor<2x3xf32>) -> tensor<2x2xf32> {
  return %v : tensor<2x2xf32>
}
// expected-error @+1 {{'bism.model' op the gibbs sweep @g must be (v: 'tensor<2x2xf32>', the 1 listed parameters, u_h: tensor<2xHxf32>, z_v: 'tensor<2x2xf32>') -> 'tensor<2x2xf32>', got '(tensor<2x2xf32>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x2xf32>'}}
bism.model @m free_energy @f [@W] gibbs @g [@W] spec {method = "cd"} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
}

// -----

func.func private @f(%v: tensor<2x2xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
// u_h has the wrong batch size.
func.func private @g(%v: tensor<2x2xf32>, %w: tensor<2x3xf32>, %u: tensor<4x3xf32>, %z: tensor<2x2xf32>) -> tensor<2x2xf32> {
  return %v : tensor<2x2xf32>
}
// expected-error @+1 {{the gibbs sweep @g must be (v: 'tensor<2x2xf32>'}}
bism.model @m free_energy @f [@W] gibbs @g [@W] spec {method = "cd"} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
}

// -----

func.func private @f(%v: tensor<2x2xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func private @g(%v: tensor<2x2xf32>, %w: tensor<3x2xf32>, %u: tensor<2x3xf32>, %z: tensor<2x2xf32>) -> tensor<2x2xf32> {
  return %v : tensor<2x2xf32>
}
// expected-error @+1 {{'bism.model' op parameter @W has type 'tensor<2x3xf32>' but argument 1 of the gibbs sweep @g has type 'tensor<3x2xf32>'}}
bism.model @m free_energy @f [@W] gibbs @g [@W] spec {method = "cd"} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
}

// -----

func.func private @f(%v: tensor<2x2xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func private @g(%v: tensor<2x2xf32>, %w: tensor<2x3xf32>, %u: tensor<2x3xf32>, %z: tensor<2x2xf32>) -> tensor<2x2xf32> {
  return %v : tensor<2x2xf32>
}
// expected-error @+1 {{'bism.model' op spec field 'gibbs_steps' must be an integer >= 1, got 0 : i64}}
bism.model @m free_energy @f [@W] gibbs @g [@W] spec {method = "cd", gibbs_steps = 0} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
}

// -----

func.func private @f(%v: tensor<2x2xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = bism.constant dense<0.0> : tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func private @g(%v: tensor<2x2xf32>, %a: tensor<2x3xf32>, %u: tensor<2x3xf32>, %z: tensor<2x2xf32>) -> tensor<2x2xf32> {
  return %v : tensor<2x2xf32>
}
// expected-error @+1 {{'bism.model' op gibbs parameter @A must be in group "theta"}}
bism.model @m free_energy @f [@W] gibbs @g [@A] spec {method = "cd"} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
}
