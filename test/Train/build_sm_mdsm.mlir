// The SM and MDSM upper levels for the small GRBM (2 visible, 4 latent,
// batch 4, relaxed Bernoulli posterior), one model per split.
// RUN: bism-opt %s -split-input-file --bism-build-train-step | FileCheck %s
// RUN: bism-opt %s -split-input-file --bism-build-train-step --bism-autodiff --canonicalize --cse | FileCheck %s --check-prefix=AD
// After --bism-autodiff no AD op remains (stop_gradient is a marker the
// lowering drops).
// AD-NOT: bism.grad
// AD-NOT: bism.hvp
// AD-NOT: bism.jvp
// AD-NOT: bism.vjp

// == SM: no objective noise; tr ∇s by D = 2 hvps with one-hot columns ==
// CHECK-LABEL: func.func private @grbm__upper(
// CHECK-SAME:    %arg6: tensor<4x2xf32>, %arg7: tensor<4x4xf32>, %arg8: tensor<4x4xf32>) -> tensor<f32>
// CHECK:         bism.stop_gradient %arg6
// CHECK:         call @grbm__score(
// CHECK:         bism.constant dense<{{\[}}[1.000000e+00, 0.000000e+00], [1.000000e+00, 0.000000e+00], [1.000000e+00, 0.000000e+00], [1.000000e+00, 0.000000e+00]]>
// CHECK:         bism.hvp @grbm__neg_log_joint(
// CHECK:         bism.constant dense<{{\[}}[0.000000e+00, 1.000000e+00], [0.000000e+00, 1.000000e+00], [0.000000e+00, 1.000000e+00], [0.000000e+00, 1.000000e+00]]>
// CHECK:         bism.hvp @grbm__neg_log_joint(
// CHECK-NOT:     bism.hvp
// CHECK:         return
// The noise: the K + N + 1 = 2 posterior stages (g1, g2 each), no ε or u.
// CHECK-LABEL: func.func @draw_noise(%arg0: tensor<2xi32>) -> (tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>)
// CHECK-NOT:     bism.random_normal
// CHECK:         return
// The gradient dump: same arguments as the step, one result per θ.
// CHECK-LABEL: func.func @train_step_with_noise(
// CHECK-LABEL: func.func @theta_gradient_with_noise(
// CHECK-SAME:    -> (tensor<2x4xf32>, tensor<2xf32>, tensor<4xf32>, tensor<2xf32>)
// CHECK:         bism.grad @grbm__j_bi(
// CHECK:         return

func.func @energy(%v: tensor<4x2xf32>, %h: tensor<4x4xf32>, %w: tensor<2x4xf32>,
                  %b: tensor<2xf32>, %c: tensor<4xf32>, %logsigma: tensor<2xf32>) -> tensor<4xf32> {
  %b4 = bism.broadcast %b : tensor<2xf32> to tensor<4x2xf32>
  %d = bism.sub %v, %b4 : tensor<4x2xf32>
  %d2 = bism.square %d : tensor<4x2xf32>
  %m2 = bism.constant dense<-2.0> : tensor<2xf32>
  %ls2 = bism.mul %logsigma, %m2 : tensor<2xf32>
  %prec = bism.exp %ls2 : tensor<2xf32>
  %prec4 = bism.broadcast %prec : tensor<2xf32> to tensor<4x2xf32>
  %wq = bism.mul %d2, %prec4 : tensor<4x2xf32>
  %qs = bism.reduce_sum %wq axes [1] : tensor<4x2xf32> -> tensor<4xf32>
  %half = bism.constant dense<0.5> : tensor<4xf32>
  %quad = bism.mul %qs, %half : tensor<4xf32>
  %vw = bism.matmul %v, %w : tensor<4x2xf32>, tensor<2x4xf32> -> tensor<4x4xf32>
  %c4 = bism.broadcast %c : tensor<4xf32> to tensor<4x4xf32>
  %pre = bism.add %vw, %c4 : tensor<4x4xf32>
  %ph = bism.mul %pre, %h : tensor<4x4xf32>
  %lin = bism.reduce_sum %ph axes [1] : tensor<4x4xf32> -> tensor<4xf32>
  %e = bism.sub %quad, %lin : tensor<4xf32>
  return %e : tensor<4xf32>
}

func.func @logits(%v: tensor<4x2xf32>, %a: tensor<2x4xf32>, %d: tensor<4xf32>) -> tensor<4x4xf32> {
  %va = bism.matmul %v, %a : tensor<4x2xf32>, tensor<2x4xf32> -> tensor<4x4xf32>
  %d4 = bism.broadcast %d : tensor<4xf32> to tensor<4x4xf32>
  %l = bism.add %va, %d4 : tensor<4x4xf32>
  return %l : tensor<4x4xf32>
}

bism.model @grbm energy @energy [@W, @b, @c, @logsigma]
    posterior "bernoulli" @logits [@A, @d] temperature 0.1
    spec {objective = "sm", inner_steps = 0, unroll_steps = 1} {
  bism.param @W : tensor<2x4xf32> {group = "theta", init = "normal", std = 0.1}
  bism.param @b : tensor<2xf32> {group = "theta", init = "zeros"}
  bism.param @c : tensor<4xf32> {group = "theta", init = "zeros"}
  bism.param @logsigma : tensor<2xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x4xf32> {group = "phi", init = "normal", std = 0.1}
  bism.param @d : tensor<4xf32> {group = "phi", init = "zeros"}
}

// -----

// == MDSM, geometric: σ_b = 0.1 · 8^(b/3) = 0.1, 0.2, 0.4, 0.8, a [4,1]
// constant broadcast over D; x = v + σ_b ε in the step, 1/σ_b and 1/σ0² = 100
// in the upper level ==
// CHECK-LABEL: func.func private @grbm__upper(
// CHECK:         %[[INV:.*]] = bism.constant dense<{{\[}}[1.000000e+01], [5.000000e+00], [2.500000e+00], [1.250000e+00]]> : tensor<4x1xf32>
// CHECK:         bism.broadcast %[[INV]] : tensor<4x1xf32> to tensor<4x2xf32>
// CHECK:         bism.constant dense<1.000000e+02> : tensor<4x2xf32>
// CHECK-NOT:     bism.hvp
// CHECK:         return
// CHECK-LABEL: func.func @train_step_with_noise(
// CHECK:         %[[SIG:.*]] = bism.constant dense<{{\[}}[1.000000e-01], [2.000000e-01], [4.000000e-01], [8.000000e-01]]> : tensor<4x1xf32>
// CHECK:         %[[SIGB:.*]] = bism.broadcast %[[SIG]] : tensor<4x1xf32> to tensor<4x2xf32>
// CHECK:         %[[NOISE:.*]] = bism.mul %{{.*}}, %[[SIGB]] : tensor<4x2xf32>
// CHECK:         bism.add %{{.*}}, %[[NOISE]] : tensor<4x2xf32>

func.func @energy(%v: tensor<4x2xf32>, %h: tensor<4x4xf32>, %w: tensor<2x4xf32>,
                  %b: tensor<2xf32>, %c: tensor<4xf32>, %logsigma: tensor<2xf32>) -> tensor<4xf32> {
  %b4 = bism.broadcast %b : tensor<2xf32> to tensor<4x2xf32>
  %d = bism.sub %v, %b4 : tensor<4x2xf32>
  %d2 = bism.square %d : tensor<4x2xf32>
  %m2 = bism.constant dense<-2.0> : tensor<2xf32>
  %ls2 = bism.mul %logsigma, %m2 : tensor<2xf32>
  %prec = bism.exp %ls2 : tensor<2xf32>
  %prec4 = bism.broadcast %prec : tensor<2xf32> to tensor<4x2xf32>
  %wq = bism.mul %d2, %prec4 : tensor<4x2xf32>
  %qs = bism.reduce_sum %wq axes [1] : tensor<4x2xf32> -> tensor<4xf32>
  %half = bism.constant dense<0.5> : tensor<4xf32>
  %quad = bism.mul %qs, %half : tensor<4xf32>
  %vw = bism.matmul %v, %w : tensor<4x2xf32>, tensor<2x4xf32> -> tensor<4x4xf32>
  %c4 = bism.broadcast %c : tensor<4xf32> to tensor<4x4xf32>
  %pre = bism.add %vw, %c4 : tensor<4x4xf32>
  %ph = bism.mul %pre, %h : tensor<4x4xf32>
  %lin = bism.reduce_sum %ph axes [1] : tensor<4x4xf32> -> tensor<4xf32>
  %e = bism.sub %quad, %lin : tensor<4xf32>
  return %e : tensor<4xf32>
}

func.func @logits(%v: tensor<4x2xf32>, %a: tensor<2x4xf32>, %d: tensor<4xf32>) -> tensor<4x4xf32> {
  %va = bism.matmul %v, %a : tensor<4x2xf32>, tensor<2x4xf32> -> tensor<4x4xf32>
  %d4 = bism.broadcast %d : tensor<4xf32> to tensor<4x4xf32>
  %l = bism.add %va, %d4 : tensor<4x4xf32>
  return %l : tensor<4x4xf32>
}

bism.model @grbm energy @energy [@W, @b, @c, @logsigma]
    posterior "bernoulli" @logits [@A, @d] temperature 0.1
    spec {objective = "mdsm", noise_schedule = "geometric",
          sigma_min = 0.1, sigma_max = 0.8, sigma0 = 0.1,
          inner_steps = 1, unroll_steps = 1} {
  bism.param @W : tensor<2x4xf32> {group = "theta", init = "normal", std = 0.1}
  bism.param @b : tensor<2xf32> {group = "theta", init = "zeros"}
  bism.param @c : tensor<4xf32> {group = "theta", init = "zeros"}
  bism.param @logsigma : tensor<2xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x4xf32> {group = "phi", init = "normal", std = 0.1}
  bism.param @d : tensor<4xf32> {group = "phi", init = "zeros"}
}

// -----

// == MDSM, linear: σ_b = 0.1, 0.2, 0.3, 0.4; 1/σ0² = 25 ==
// CHECK-LABEL: func.func private @grbm__upper(
// CHECK:         bism.constant dense<{{\[}}[1.000000e+01], [5.000000e+00], [3.33333{{[0-9]*}}], [2.500000e+00]]> : tensor<4x1xf32>
// CHECK:         bism.constant dense<2.500000e+01> : tensor<4x2xf32>
// CHECK-LABEL: func.func @train_step_with_noise(
// CHECK:         bism.constant dense<{{\[}}[1.000000e-01], [2.000000e-01], [3.000000e-01], [4.000000e-01]]> : tensor<4x1xf32>

func.func @energy(%v: tensor<4x2xf32>, %h: tensor<4x4xf32>, %w: tensor<2x4xf32>,
                  %b: tensor<2xf32>, %c: tensor<4xf32>, %logsigma: tensor<2xf32>) -> tensor<4xf32> {
  %b4 = bism.broadcast %b : tensor<2xf32> to tensor<4x2xf32>
  %d = bism.sub %v, %b4 : tensor<4x2xf32>
  %d2 = bism.square %d : tensor<4x2xf32>
  %m2 = bism.constant dense<-2.0> : tensor<2xf32>
  %ls2 = bism.mul %logsigma, %m2 : tensor<2xf32>
  %prec = bism.exp %ls2 : tensor<2xf32>
  %prec4 = bism.broadcast %prec : tensor<2xf32> to tensor<4x2xf32>
  %wq = bism.mul %d2, %prec4 : tensor<4x2xf32>
  %qs = bism.reduce_sum %wq axes [1] : tensor<4x2xf32> -> tensor<4xf32>
  %half = bism.constant dense<0.5> : tensor<4xf32>
  %quad = bism.mul %qs, %half : tensor<4xf32>
  %vw = bism.matmul %v, %w : tensor<4x2xf32>, tensor<2x4xf32> -> tensor<4x4xf32>
  %c4 = bism.broadcast %c : tensor<4xf32> to tensor<4x4xf32>
  %pre = bism.add %vw, %c4 : tensor<4x4xf32>
  %ph = bism.mul %pre, %h : tensor<4x4xf32>
  %lin = bism.reduce_sum %ph axes [1] : tensor<4x4xf32> -> tensor<4xf32>
  %e = bism.sub %quad, %lin : tensor<4xf32>
  return %e : tensor<4xf32>
}

func.func @logits(%v: tensor<4x2xf32>, %a: tensor<2x4xf32>, %d: tensor<4xf32>) -> tensor<4x4xf32> {
  %va = bism.matmul %v, %a : tensor<4x2xf32>, tensor<2x4xf32> -> tensor<4x4xf32>
  %d4 = bism.broadcast %d : tensor<4xf32> to tensor<4x4xf32>
  %l = bism.add %va, %d4 : tensor<4x4xf32>
  return %l : tensor<4x4xf32>
}

bism.model @grbm energy @energy [@W, @b, @c, @logsigma]
    posterior "bernoulli" @logits [@A, @d] temperature 0.1
    spec {objective = "mdsm", noise_schedule = "linear",
          sigma_min = 0.1, sigma_max = 0.4, sigma0 = 0.2,
          inner_steps = 1, unroll_steps = 1} {
  bism.param @W : tensor<2x4xf32> {group = "theta", init = "normal", std = 0.1}
  bism.param @b : tensor<2xf32> {group = "theta", init = "zeros"}
  bism.param @c : tensor<4xf32> {group = "theta", init = "zeros"}
  bism.param @logsigma : tensor<2xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x4xf32> {group = "phi", init = "normal", std = 0.1}
  bism.param @d : tensor<4xf32> {group = "phi", init = "zeros"}
}
