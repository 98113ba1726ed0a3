// RUN: bism-opt %s -split-input-file -verify-diagnostics

func.func @main(%x: tensor<f64>) -> tensor<f64> {
  // expected-error @+1 {{callee @missing is not a func.func in scope}}
  %g = bism.grad @missing(%x) wrt [0] : (tensor<f64>) -> tensor<f64>
  return %g : tensor<f64>
}

// -----

func.func @vector(%x: tensor<3xf64>) -> tensor<3xf64> {
  return %x : tensor<3xf64>
}
func.func @main(%x: tensor<3xf64>) -> tensor<3xf64> {
  // expected-error @+1 {{callee must return one rank-0 tensor (a scalar)}}
  %g = bism.grad @vector(%x) wrt [0] : (tensor<3xf64>) -> tensor<3xf64>
  return %g : tensor<3xf64>
}

// -----

func.func @f(%x: tensor<3xf64>) -> tensor<f64> {
  %s = bism.reduce_sum %x axes [0] : tensor<3xf64> -> tensor<f64>
  return %s : tensor<f64>
}
func.func @main(%x: tensor<3xf64>) -> tensor<3xf64> {
  // expected-error @+1 {{'wrt' index 1 is out of range for 1 arguments}}
  %g = bism.grad @f(%x) wrt [1] : (tensor<3xf64>) -> tensor<3xf64>
  return %g : tensor<3xf64>
}

// -----

func.func @f(%x: tensor<3xf64>) -> tensor<f64> {
  %s = bism.reduce_sum %x axes [0] : tensor<3xf64> -> tensor<f64>
  return %s : tensor<f64>
}
func.func @main(%x: tensor<3xf64>) -> tensor<3xf64> {
  // expected-error @+1 {{'wrt' lists argument 0 twice}}
  %g:2 = bism.grad @f(%x) wrt [0, 0] : (tensor<3xf64>) -> (tensor<3xf64>, tensor<3xf64>)
  return %g#0 : tensor<3xf64>
}

// -----

func.func @f(%x: tensor<3xf64>) -> tensor<f64> {
  %s = bism.reduce_sum %x axes [0] : tensor<3xf64> -> tensor<f64>
  return %s : tensor<f64>
}
func.func @main(%x: tensor<3xf32>) -> tensor<3xf64> {
  // expected-error @+1 {{operand 0 has type 'tensor<3xf32>' but the callee's argument 0 is 'tensor<3xf64>'}}
  %g = bism.grad @f(%x) wrt [0] : (tensor<3xf32>) -> tensor<3xf64>
  return %g : tensor<3xf64>
}

// -----

func.func @f(%x: tensor<3xf64>, %k: tensor<2xi32>) -> tensor<f64> {
  %s = bism.reduce_sum %x axes [0] : tensor<3xf64> -> tensor<f64>
  return %s : tensor<f64>
}
func.func @main(%x: tensor<3xf64>, %k: tensor<2xi32>) -> tensor<2xf64> {
  // expected-error @+1 {{cannot differentiate w.r.t. argument 1 of type 'tensor<2xi32>'}}
  %g = bism.grad @f(%x, %k) wrt [1] : (tensor<3xf64>, tensor<2xi32>) -> tensor<2xf64>
  return %g : tensor<2xf64>
}

// -----

func.func @f(%x: tensor<3xf64>) -> tensor<3xf64> {
  return %x : tensor<3xf64>
}
func.func @main(%x: tensor<3xf64>, %u: tensor<2xf64>) -> tensor<3xf64> {
  // expected-error @+1 {{after the callee's arguments expects 1 operands of types ('tensor<3xf64>'), got ('tensor<2xf64>')}}
  %g = bism.vjp @f(%x, %u) wrt [0] : (tensor<3xf64>, tensor<2xf64>) -> tensor<3xf64>
  return %g : tensor<3xf64>
}

// -----

func.func @f(%x: tensor<3xf64>) -> tensor<3xf64> {
  return %x : tensor<3xf64>
}
func.func @main(%x: tensor<3xf64>, %t: tensor<3xf64>) -> tensor<3xf32> {
  // expected-error @+1 {{result types must be ('tensor<3xf64>'), got ('tensor<3xf32>')}}
  %g = bism.jvp @f(%x, %t) wrt [0] : (tensor<3xf64>, tensor<3xf64>) -> tensor<3xf32>
  return %g : tensor<3xf32>
}
