// Third-order derivatives, as in BiSM: theta's gradient flows through N = 3
// unrolled gradient steps of the latent phi, each of which contains a
// gradient of the energy w.r.t. h (so d/dtheta reaches third derivatives of E).
//
//   E(v, h; W)   = sum softplus(v W + h) + 1/2 sum h^2
//   G(W, phi)    = 1/2 || grad_h E(v, phi; W) ||^2         (a Fisher-type lower level)
//   phi^n        = phi^(n-1) - alpha grad_phi G(W, phi^(n-1)),  n = 1..3
//   J(W)         = 1/2 || grad_v E(v, phi^3(W); W) ||^2    (a score-type upper level)
//
//   bism-run examples/autodiff/unrolled_third_order.mlir --entry grad_j \
//     --input "4x3xf64=0.1 -0.2 0.3 0.4 -0.5 0.6 0.7 -0.8 0.9 1.0 -1.1 1.2" \
//     --input "4x2xf64=0.5" --input "3x2xf64=0.1 0.2 -0.3 0.4 0.5 -0.6"

func.func @energy(%v: tensor<4x3xf64>, %h: tensor<4x2xf64>, %w: tensor<3x2xf64>) -> tensor<f64> {
  %half = bism.constant dense<0.5> : tensor<f64>
  %vw = bism.matmul %v, %w : tensor<4x3xf64>, tensor<3x2xf64> -> tensor<4x2xf64>
  %a = bism.add %vw, %h : tensor<4x2xf64>
  %sp = bism.softplus %a : tensor<4x2xf64>
  %s1 = bism.reduce_sum %sp axes [0, 1] : tensor<4x2xf64> -> tensor<f64>
  %h2 = bism.square %h : tensor<4x2xf64>
  %s2 = bism.reduce_sum %h2 axes [0, 1] : tensor<4x2xf64> -> tensor<f64>
  %q = bism.mul %s2, %half : tensor<f64>
  %e = bism.add %s1, %q : tensor<f64>
  return %e : tensor<f64>
}

func.func @lower_level(%v: tensor<4x3xf64>, %phi: tensor<4x2xf64>, %w: tensor<3x2xf64>) -> tensor<f64> {
  %half = bism.constant dense<0.5> : tensor<f64>
  %gh = bism.grad @energy(%v, %phi, %w) wrt [1]
      : (tensor<4x3xf64>, tensor<4x2xf64>, tensor<3x2xf64>) -> tensor<4x2xf64>
  %sq = bism.square %gh : tensor<4x2xf64>
  %s = bism.reduce_sum %sq axes [0, 1] : tensor<4x2xf64> -> tensor<f64>
  %g = bism.mul %s, %half : tensor<f64>
  return %g : tensor<f64>
}

func.func @inner_step(%v: tensor<4x3xf64>, %phi: tensor<4x2xf64>, %w: tensor<3x2xf64>) -> tensor<4x2xf64> {
  %alpha = bism.constant dense<0.1> : tensor<4x2xf64>
  %g = bism.grad @lower_level(%v, %phi, %w) wrt [1]
      : (tensor<4x3xf64>, tensor<4x2xf64>, tensor<3x2xf64>) -> tensor<4x2xf64>
  %step = bism.mul %g, %alpha : tensor<4x2xf64>
  %next = bism.sub %phi, %step : tensor<4x2xf64>
  return %next : tensor<4x2xf64>
}

func.func @upper_level(%v: tensor<4x3xf64>, %phi0: tensor<4x2xf64>, %w: tensor<3x2xf64>) -> tensor<f64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %phi3 = scf.for %i = %c0 to %c3 step %c1 iter_args(%phi = %phi0) -> (tensor<4x2xf64>) {
    %next = func.call @inner_step(%v, %phi, %w)
        : (tensor<4x3xf64>, tensor<4x2xf64>, tensor<3x2xf64>) -> tensor<4x2xf64>
    scf.yield %next : tensor<4x2xf64>
  }
  %half = bism.constant dense<0.5> : tensor<f64>
  %gv = bism.grad @energy(%v, %phi3, %w) wrt [0]
      : (tensor<4x3xf64>, tensor<4x2xf64>, tensor<3x2xf64>) -> tensor<4x3xf64>
  %sq = bism.square %gv : tensor<4x3xf64>
  %s = bism.reduce_sum %sq axes [0, 1] : tensor<4x3xf64> -> tensor<f64>
  %j = bism.mul %s, %half : tensor<f64>
  return %j : tensor<f64>
}

// dJ/dW through the three unrolled steps.
func.func @grad_j(%v: tensor<4x3xf64>, %phi0: tensor<4x2xf64>, %w: tensor<3x2xf64>) -> (tensor<f64>, tensor<3x2xf64>) {
  %j = func.call @upper_level(%v, %phi0, %w)
      : (tensor<4x3xf64>, tensor<4x2xf64>, tensor<3x2xf64>) -> tensor<f64>
  %dw = bism.grad @upper_level(%v, %phi0, %w) wrt [2]
      : (tensor<4x3xf64>, tensor<4x2xf64>, tensor<3x2xf64>) -> tensor<3x2xf64>
  return %j, %dw : tensor<f64>, tensor<3x2xf64>
}
