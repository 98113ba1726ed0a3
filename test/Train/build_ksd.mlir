// Objective "ksd": the kernelized Stein discrepancy U-statistic of the score
// on the minibatch, RBF kernel with bandwidth h (docs/training.md
// "Objectives"). Method marginal on a fully visible energy (batch 4, 2
// visible, h = 0.5: 1/h² = 4, D/h² = 8, 1/h⁴ = 16, −1/(2h²) = −2); then
// method vages on a GRBM-like model, where J and w come from
// @m__score_objective of the VaES score (no ε: KSD takes no noise); then
// method importance (IS-KSD).
// RUN: bism-opt %s -split-input-file --bism-build-train-step | FileCheck %s
// RUN: bism-opt %s -split-input-file --bism-build-train-step --bism-lower-cpu | FileCheck %s --check-prefix=CPU

// == marginal ==
// CHECK-LABEL: func.func private @fv__upper(%arg0: tensor<2x3xf32>, %arg1: tensor<3xf32>, %arg2: tensor<4x2xf32>) -> tensor<f32>
// CHECK:         %[[S:.*]] = call @fv__score(%arg2, %arg0, %arg1)
// The Gram products s sᵀ, s xᵀ, x xᵀ.
// CHECK:         %[[SS:.*]] = bism.matmul %[[S]], %[[S]] {transpose_rhs} : tensor<4x2xf32>, tensor<4x2xf32> -> tensor<4x4xf32>
// CHECK:         %[[SX:.*]] = bism.matmul %[[S]], %arg2 {transpose_rhs}
// CHECK:         %[[XX:.*]] = bism.matmul %arg2, %arg2 {transpose_rhs}
// ‖x_b − x_b'‖² = ‖x_b‖² + ‖x_b'‖² − 2 x_bᵀx_b'.
// CHECK:         %[[DIST:.*]] = bism.sub %{{.*}}, %{{.*}} : tensor<4x4xf32>
// (s_b − s_b')ᵀ(x_b − x_b') with (s xᵀ)ᵀ.
// CHECK:         %[[SXT:.*]] = bism.transpose %[[SX]] [1, 0]
// CHECK:         bism.add %[[SX]], %[[SXT]]
// k = exp(−‖δ‖²/(2h²)).
// CHECK:         %[[M2:.*]] = bism.constant dense<-2.000000e+00> : tensor<4x4xf32>
// CHECK:         %[[E:.*]] = bism.mul %[[DIST]], %[[M2]]
// CHECK:         %[[K:.*]] = bism.exp %[[E]]
// CHECK:         bism.constant dense<4.000000e+00> : tensor<4x4xf32>
// CHECK:         bism.add %[[SS]],
// CHECK:         bism.constant dense<8.000000e+00> : tensor<4x4xf32>
// CHECK:         bism.constant dense<1.600000e+01> : tensor<4x4xf32>
// CHECK:         %[[U:.*]] = bism.mul %[[K]],
// The off-diagonal mask, 1/(B−1) off the diagonal, then row sums and the mean.
// CHECK:         %[[MASK:.*]] = bism.constant dense<{{\[\[}}0.000000e+00, 0.333333343, 0.333333343, 0.333333343], [0.333333343, 0.000000e+00,
// CHECK:         %[[UM:.*]] = bism.mul %[[U]], %[[MASK]]
// CHECK:         %[[ROWS:.*]] = bism.reduce_sum %[[UM]] axes [1] : tensor<4x4xf32> -> tensor<4xf32>
// CHECK:         bism.reduce_mean %[[ROWS]] axes [0]
// No objective noise: the step takes state and v only.
// CHECK-LABEL: func.func @draw_noise(%arg0: tensor<2xi32>) {
// CHECK-LABEL: func.func @train_step_with_noise(%arg0: tensor<2x3xf32>, %arg1: tensor<3xf32>, %arg2: tensor<2x3xf32>, %arg3: tensor<3xf32>, %arg4: tensor<2x3xf32>, %arg5: tensor<3xf32>, %arg6: tensor<f32>, %arg7: tensor<4x2xf32>) ->
// CPU-LABEL: llvm.func @train_step_with_noise(
// CPU-NOT: bism.

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
    spec {method = "marginal", objective = "ksd", ksd_bandwidth = 0.5} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "normal", std = 0.1}
  bism.param @c : tensor<3xf32> {group = "theta", init = "zeros"}
}


// -----

// == vages ==
// CHECK-LABEL: func.func private @m__score_objective(%arg0: tensor<4x2xf32>, %arg1: tensor<4x2xf32>) -> tensor<f32>
// CHECK:         bism.matmul %arg1, %arg1 {transpose_rhs}
// CHECK:         bism.exp
// CHECK:         bism.reduce_mean
// CHECK-LABEL: func.func private @m__vages_gradient(%arg0: tensor<2x3xf32>, %arg1: tensor<2xf32>, %arg2: tensor<2x3xf32>, %arg3: tensor<3xf32>, %arg4: tensor<4x2xf32>, %arg5: tensor<5x4x3xf32>, %arg6: tensor<5x4x3xf32>, %arg7: tensor<5x4x3xf32>)
// CHECK:         %[[SUM:.*]]:2 = scf.for
// CHECK:         %[[SHAT:.*]] = bism.mul %[[SUM]]#0,
// CHECK:         call @m__score_objective(%arg4, %[[SHAT]])
// CHECK:         bism.grad @m__score_objective(%arg4, %[[SHAT]]) wrt [1]
// Noise: inner0 g1 g2, lower g1 g2, three groups' u; no ε.
// CHECK-LABEL: func.func @draw_noise(%arg0: tensor<2xi32>) -> (tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>, tensor<5x4x3xf32>, tensor<5x4x3xf32>, tensor<5x4x3xf32>)
// CHECK-NOT:     bism.random_normal
// CHECK-LABEL: func.func @train_step_with_noise(
// CPU-LABEL: llvm.func @train_step_with_noise(
// CPU-NOT: bism.

func.func private @e(%v: tensor<4x2xf32>, %h: tensor<4x3xf32>, %w: tensor<2x3xf32>, %b: tensor<2xf32>) -> tensor<4xf32> {
  %half = bism.constant dense<0.5> : tensor<4xf32>
  %bb = bism.broadcast %b : tensor<2xf32> to tensor<4x2xf32>
  %cen = bism.sub %v, %bb : tensor<4x2xf32>
  %sq = bism.square %cen : tensor<4x2xf32>
  %qs = bism.reduce_sum %sq axes [1] : tensor<4x2xf32> -> tensor<4xf32>
  %q = bism.mul %qs, %half : tensor<4xf32>
  %vw = bism.matmul %v, %w : tensor<4x2xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  %c = bism.mul %vw, %h : tensor<4x3xf32>
  %i = bism.reduce_sum %c axes [1] : tensor<4x3xf32> -> tensor<4xf32>
  %e = bism.sub %q, %i : tensor<4xf32>
  return %e : tensor<4xf32>
}
func.func private @q(%v: tensor<4x2xf32>, %a: tensor<2x3xf32>, %d: tensor<3xf32>) -> tensor<4x3xf32> {
  %va = bism.matmul %v, %a : tensor<4x2xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  %db = bism.broadcast %d : tensor<3xf32> to tensor<4x3xf32>
  %l = bism.add %va, %db : tensor<4x3xf32>
  return %l : tensor<4x3xf32>
}
bism.model @m energy @e [@W, @b] posterior "bernoulli" @q [@A, @d]
    spec {method = "vages", objective = "ksd", ksd_bandwidth = 0.5, inner_steps = 1, particles = 5} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "normal", std = 0.01}
  bism.param @b : tensor<2xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
  bism.param @d : tensor<3xf32> {group = "phi", init = "zeros"}
}


// -----

// == importance (IS-KSD): F̂ = −logsumexp_i(−E(x, h_i)) + log L − H log 2,
// h_i = [u_i < ½], the L = 2 energies unrolled; then method marginal's step
// around F̂ with the particles' u as its last argument ==
// CHECK-LABEL: func.func private @is__free_energy_sum(%arg0: tensor<4x2xf32>, %arg1: tensor<2x3xf32>, %arg2: tensor<2xf32>, %arg3: tensor<2x4x3xf32>) -> tensor<f32>
// CHECK:         %[[U0:.*]] = bism.slice %arg3 starts [0, 0, 0] limits [1, 4, 3]
// CHECK:         %[[R0:.*]] = bism.reshape %[[U0]] : tensor<1x4x3xf32> to tensor<4x3xf32>
// CHECK:         %[[ON0:.*]] = bism.compare lt, %[[R0]],
// CHECK:         %[[H0:.*]] = bism.select %[[ON0]],
// CHECK:         %[[E0:.*]] = call @e(%arg0, %[[H0]], %arg1, %arg2)
// CHECK:         bism.slice %arg3 starts [1, 0, 0] limits [2, 4, 3]
// CHECK:         %[[E1:.*]] = call @e(%arg0,
// CHECK:         %[[ALL:.*]] = bism.concat %{{.*}}, %{{.*}} axis 0 : tensor<1x4xf32>, tensor<1x4xf32> -> tensor<2x4xf32>
// CHECK:         %[[LSE:.*]] = bism.reduce_logsumexp %[[ALL]] axes [0] : tensor<2x4xf32> -> tensor<4xf32>
// CHECK:         bism.neg %[[LSE]]
// 4 × (log 2 − 3 log 2) = −5.545.
// CHECK:         bism.constant dense<-5.54517746> : tensor<f32>
// CHECK-LABEL: func.func private @is__score(%arg0: tensor<4x2xf32>, %arg1: tensor<2x3xf32>, %arg2: tensor<2xf32>, %arg3: tensor<2x4x3xf32>) -> tensor<4x2xf32>
// CHECK:         bism.grad @is__free_energy_sum(%arg0, %arg1, %arg2, %arg3) wrt [0]
// CHECK-LABEL: func.func private @is__upper(%arg0: tensor<2x3xf32>, %arg1: tensor<2xf32>, %arg2: tensor<4x2xf32>, %arg3: tensor<2x4x3xf32>) -> tensor<f32>
// CHECK:         call @is__score(%arg2, %arg0, %arg1, %arg3)
// CHECK:         bism.exp
// State θ, m_θ, s_θ, t; v; the particles' u, uniform.
// CHECK-LABEL: func.func @draw_noise(%arg0: tensor<2xi32>) -> tensor<2x4x3xf32>
// CHECK:         bism.random_uniform %{{.*}} : tensor<2x4x3xf32>
// CHECK-LABEL: func.func @train_step_with_noise(%arg0: tensor<2x3xf32>, %arg1: tensor<2xf32>, %arg2: tensor<2x3xf32>, %arg3: tensor<2xf32>, %arg4: tensor<2x3xf32>, %arg5: tensor<2xf32>, %arg6: tensor<f32>, %arg7: tensor<4x2xf32>, %arg8: tensor<2x4x3xf32>)
// CHECK:         call @is__upper(%arg0, %arg1, %arg7, %arg8)
// CPU-LABEL: llvm.func @train_step_with_noise(
// CPU-NOT: bism.

func.func private @e(%v: tensor<4x2xf32>, %h: tensor<4x3xf32>, %w: tensor<2x3xf32>, %b: tensor<2xf32>) -> tensor<4xf32> {
  %half = bism.constant dense<0.5> : tensor<4xf32>
  %bb = bism.broadcast %b : tensor<2xf32> to tensor<4x2xf32>
  %cen = bism.sub %v, %bb : tensor<4x2xf32>
  %sq = bism.square %cen : tensor<4x2xf32>
  %qs = bism.reduce_sum %sq axes [1] : tensor<4x2xf32> -> tensor<4xf32>
  %q = bism.mul %qs, %half : tensor<4xf32>
  %vw = bism.matmul %v, %w : tensor<4x2xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  %c = bism.mul %vw, %h : tensor<4x3xf32>
  %i = bism.reduce_sum %c axes [1] : tensor<4x3xf32> -> tensor<4xf32>
  %e = bism.sub %q, %i : tensor<4xf32>
  return %e : tensor<4xf32>
}
func.func private @q(%v: tensor<4x2xf32>, %a: tensor<2x3xf32>, %d: tensor<3xf32>) -> tensor<4x3xf32> {
  %va = bism.matmul %v, %a : tensor<4x2xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  %db = bism.broadcast %d : tensor<3xf32> to tensor<4x3xf32>
  %l = bism.add %va, %db : tensor<4x3xf32>
  return %l : tensor<4x3xf32>
}
bism.model @is energy @e [@W, @b] posterior "bernoulli" @q [@A, @d]
    spec {method = "importance", objective = "ksd", ksd_bandwidth = 0.5, particles = 2} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "normal", std = 0.01}
  bism.param @b : tensor<2xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
  bism.param @d : tensor<3xf32> {group = "phi", init = "zeros"}
}


// -----

// == the median heuristic: h² = the lower median of the B(B−1)/2 squared
// distances, by 60 unrolled bisections on [0, max d²] counting the
// off-diagonal d² ≤ mid; a constant for autodiff ==
// CHECK-LABEL: func.func private @med__upper(
// CHECK:         %[[D2:.*]] = bism.stop_gradient %{{.*}} : tensor<4x4xf32>
// CHECK:         bism.reduce_max %[[D2]] axes [0, 1] : tensor<4x4xf32> -> tensor<f32>
// CHECK-COUNT-60: bism.compare le, %[[D2]],
// CHECK:         %[[H2:.*]] = bism.maximum
// CHECK:         %[[B:.*]] = bism.broadcast %[[H2]] : tensor<f32> to tensor<4x4xf32>
// CHECK:         bism.reciprocal %[[B]]
// CHECK:         bism.exp

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
bism.model @med free_energy @f [@W, @c]
    spec {method = "marginal", objective = "ksd", ksd_bandwidth = "median"} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "normal", std = 0.1}
  bism.param @c : tensor<3xf32> {group = "theta", init = "zeros"}
}


