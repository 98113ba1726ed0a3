// Method "marginal": score matching on a free energy F(v; θ), s = −∇_v F,
// no posterior and no lower level. A fully visible energy (2 visible,
// batch 4) with DSM, then the same with SSM.
// RUN: bism-opt %s -split-input-file --bism-build-train-step | FileCheck %s
// RUN: bism-opt %s -split-input-file --bism-build-train-step --bism-autodiff --canonicalize --cse | FileCheck %s --check-prefix=AD
// The GRBM example switched to method "marginal" (exact-marginal DSM on its
// closed-form free energy; energy and posterior are then unused).
// RUN: sed 's/method = "bism"/method = "marginal"/' %S/../../examples/grbm/checkerboard.mlir | bism-opt --bism-build-train-step | FileCheck %s --check-prefix=GRBM
// GRBM-NOT:   sample_posterior
// GRBM-LABEL: func.func private @grbm__free_energy_sum(
// GRBM:         call @free_energy(
// GRBM-LABEL: func.func private @grbm__score(
// GRBM:         bism.grad @grbm__free_energy_sum(
// GRBM-LABEL: func.func @train_step_with_noise(%arg0: tensor<2x4xf32>, %arg1: tensor<2xf32>, %arg2: tensor<4xf32>, %arg3: tensor<2xf32>,
// GRBM-SAME:    %arg12: tensor<f32>, %arg13: tensor<100x2xf32>, %arg14: tensor<100x2xf32>)
// GRBM-NOT:   phi_step
// AD-NOT: bism.grad
// AD-NOT: bism.hvp
// AD-NOT: bism.jvp
// AD-NOT: bism.vjp

// == DSM ==
// CHECK-NOT:   sample_posterior
// CHECK-NOT:   log_q
// CHECK-NOT:   phi_step
// CHECK-LABEL: func.func private @fv__free_energy_sum(%arg0: tensor<4x2xf32>, %arg1: tensor<2x3xf32>, %arg2: tensor<3xf32>) -> tensor<f32>
// CHECK:         call @f(%arg0, %arg1, %arg2)
// CHECK:         bism.reduce_sum
// CHECK-LABEL: func.func private @fv__score(%arg0: tensor<4x2xf32>, %arg1: tensor<2x3xf32>, %arg2: tensor<3xf32>) -> tensor<4x2xf32>
// CHECK:         bism.grad @fv__free_energy_sum(%arg0, %arg1, %arg2) wrt [0]
// CHECK:         bism.neg
// CHECK-LABEL: func.func private @fv__upper(%arg0: tensor<2x3xf32>, %arg1: tensor<3xf32>, %arg2: tensor<4x2xf32>, %arg3: tensor<4x2xf32>) -> tensor<f32>
// CHECK:         call @fv__score(%arg2, %arg0, %arg1)
// CHECK-NOT:     bism.hvp
// CHECK:         return
// Only the objective's noise ε.
// CHECK-LABEL: func.func @draw_noise(%arg0: tensor<2xi32>) -> tensor<4x2xf32>
// CHECK:         bism.random_normal
// CHECK-NOT:     bism.random_gumbel
// State θ, m_θ, s_θ, t_theta; metrics J and ‖∇θ J‖.
// CHECK-LABEL: func.func @train_step_with_noise(
// CHECK-SAME:    %arg6: tensor<f32>, %arg7: tensor<4x2xf32>, %arg8: tensor<4x2xf32>)
// CHECK-SAME:    -> (tensor<2x3xf32>, tensor<3xf32>, tensor<2x3xf32>, tensor<3xf32>, tensor<2x3xf32>, tensor<3xf32>, tensor<f32>, tensor<f32>, tensor<f32>)
// CHECK:         call @fv__upper(
// CHECK:         bism.grad @fv__upper({{.*}}) wrt [0, 1]
// CHECK-LABEL: func.func @train_step(
// CHECK:         call @draw_noise(
// CHECK:         call @train_step_with_noise(
// CHECK-LABEL: func.func @theta_gradient_with_noise(
// CHECK-SAME:    -> (tensor<2x3xf32>, tensor<3xf32>)
// CHECK:         bism.grad @fv__upper(

func.func private @f(%v: tensor<4x2xf32>, %w: tensor<2x3xf32>, %c: tensor<3xf32>) -> tensor<4xf32> {
  %half = bism.constant dense<0.5> : tensor<4xf32>
  %sq = bism.square %v : tensor<4x2xf32>
  %q = bism.reduce_sum %sq axes [1] : tensor<4x2xf32> -> tensor<4xf32>
  %qh = bism.mul %q, %half : tensor<4xf32>
  %vw = bism.matmul %v, %w : tensor<4x2xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  %cb = bism.broadcast %c : tensor<3xf32> to tensor<4x3xf32>
  %z = bism.add %vw, %cb : tensor<4x3xf32>
  %sp = bism.softplus %z : tensor<4x3xf32>
  %l = bism.reduce_sum %sp axes [1] : tensor<4x3xf32> -> tensor<4xf32>
  %e = bism.sub %qh, %l : tensor<4xf32>
  return %e : tensor<4xf32>
}
bism.model @fv free_energy @f [@W, @c]
    spec {method = "marginal", objective = "dsm", noise_std = 0.5} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "normal", std = 0.1}
  bism.param @c : tensor<3xf32> {group = "theta", init = "zeros"}
}

// -----

// == SSM: u, and one Hessian-vector product of F ==
// CHECK-LABEL: func.func private @fv__upper(%arg0: tensor<2x3xf32>, %arg1: tensor<3xf32>, %arg2: tensor<4x2xf32>, %arg3: tensor<4x2xf32>) -> tensor<f32>
// CHECK:         call @fv__score(%arg2, %arg0, %arg1)
// CHECK:         bism.hvp @fv__free_energy_sum(%arg2, %arg0, %arg1, %arg3) wrt [0]
// CHECK-NOT:     bism.hvp
// CHECK:         return
// CHECK-LABEL: func.func @draw_noise(%arg0: tensor<2xi32>) -> tensor<4x2xf32>
// CHECK:         bism.random_rademacher

func.func private @f(%v: tensor<4x2xf32>, %w: tensor<2x3xf32>, %c: tensor<3xf32>) -> tensor<4xf32> {
  %half = bism.constant dense<0.5> : tensor<4xf32>
  %sq = bism.square %v : tensor<4x2xf32>
  %q = bism.reduce_sum %sq axes [1] : tensor<4x2xf32> -> tensor<4xf32>
  %qh = bism.mul %q, %half : tensor<4xf32>
  %vw = bism.matmul %v, %w : tensor<4x2xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  %cb = bism.broadcast %c : tensor<3xf32> to tensor<4x3xf32>
  %z = bism.add %vw, %cb : tensor<4x3xf32>
  %sp = bism.softplus %z : tensor<4x3xf32>
  %l = bism.reduce_sum %sp axes [1] : tensor<4x3xf32> -> tensor<4xf32>
  %e = bism.sub %qh, %l : tensor<4xf32>
  return %e : tensor<4xf32>
}
bism.model @fv free_energy @f [@W, @c]
    spec {method = "marginal", objective = "ssm"} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "normal", std = 0.1}
  bism.param @c : tensor<3xf32> {group = "theta", init = "zeros"}
}
