// Method "vages": K plain φ steps (as method "bism"), then the θ gradient
// from L posterior particles, looped over with scf.for (the energy's batch
// is fixed) with the bism.grad ops in the loop bodies. A GRBM-like model
// (batch 4, 2 visible, 3 latents) with hard Bernoulli particles, then
// relaxed ones in one shared group, then a Gaussian posterior with MDSM.
// RUN: bism-opt %s -split-input-file --bism-build-train-step | FileCheck %s
// RUN: bism-opt %s -split-input-file --bism-build-train-step --bism-autodiff --canonicalize --cse | FileCheck %s --check-prefix=AD
// RUN: bism-opt %s -split-input-file --bism-build-train-step --bism-lower-cpu | FileCheck %s --check-prefix=CPU
// The GRBM example switched to method "vages" builds and lowers too.
// RUN: sed 's/method = "bism"/method = "vages"/; s/unroll_steps = 5/unroll_steps = 0, particles = 16/' %S/../../examples/grbm/checkerboard.mlir | bism-opt --bism-build-train-step --bism-lower-cpu | FileCheck %s --check-prefix=CPU

// == hard Bernoulli particles, DSM ==
// CHECK-NOT:   j_bi
// CHECK-NOT:   __upper
// CHECK-LABEL: func.func private @m__sample_posterior(
// CHECK-LABEL: func.func private @m__phi_step(
// CHECK:         bism.grad @m__lower(
// h = [u < sigmoid(ℓ)] as 0/1.
// CHECK-LABEL: func.func private @m__sample_hard(%arg0: tensor<4x2xf32>, %arg1: tensor<2x3xf32>, %arg2: tensor<3xf32>, %arg3: tensor<4x3xf32>) -> tensor<4x3xf32>
// CHECK:         %[[L:.*]] = call @q(%arg0, %arg1, %arg2)
// CHECK:         %[[P:.*]] = bism.sigmoid %[[L]]
// CHECK:         %[[ON:.*]] = bism.compare lt, %arg3, %[[P]]
// CHECK:         bism.select %[[ON]],
// DSM's J for a given score: mean_b ½‖s_b + ε_b/σ‖².
// CHECK-LABEL: func.func private @m__score_objective(%arg0: tensor<4x2xf32>, %arg1: tensor<4x2xf32>, %arg2: tensor<4x2xf32>) -> tensor<f32>
// CHECK:         bism.mul %arg2,
// CHECK:         bism.add %arg1,
// CHECK:         bism.square
// CHECK:         bism.reduce_mean
// Particle i of the derivative group (%arg3) and of the covariance group
// (%arg4): the mean term from g(h_d), c = stop_gradient(wᵀ(g(h_c) − ḡ)) and
// log p̃ from h_c.
// CHECK-LABEL: func.func private @m__vages_surrogate(%arg0: tensor<2x3xf32>, %arg1: tensor<2xf32>, %arg2: tensor<4x2xf32>, %arg3: tensor<4x3xf32>, %arg4: tensor<4x3xf32>, %arg5: tensor<4x2xf32>, %arg6: tensor<4x2xf32>) -> tensor<f32>
// CHECK:         %[[GDG:.*]] = bism.grad @m__energy_sum(%arg2, %arg3, %arg0, %arg1) wrt [0]
// CHECK:         %[[GD:.*]] = bism.neg %[[GDG]]
// CHECK:         %[[GCG:.*]] = bism.grad @m__energy_sum(%arg2, %arg4, %arg0, %arg1) wrt [0]
// CHECK:         %[[GC:.*]] = bism.neg %[[GCG]]
// CHECK:         call @e(%arg2, %arg4, %arg0, %arg1)
// CHECK:         bism.sub %[[GC]], %arg6
// CHECK:         bism.stop_gradient
// CHECK:         bism.mul %arg5, %[[GD]]
// CHECK:         bism.reduce_mean
// Independent groups (the default): score_particles (%arg6),
// derivative_particles (%arg7), covariance_particles (%arg8), L = 5 each.
// Two loops; the first sums g over the score and the covariance groups.
// CHECK-LABEL: func.func private @m__vages_gradient(%arg0: tensor<2x3xf32>, %arg1: tensor<2xf32>, %arg2: tensor<2x3xf32>, %arg3: tensor<3xf32>, %arg4: tensor<4x2xf32>, %arg5: tensor<4x2xf32>, %arg6: tensor<5x4x3xf32>, %arg7: tensor<5x4x3xf32>, %arg8: tensor<5x4x3xf32>) -> (tensor<f32>, tensor<2x3xf32>, tensor<2xf32>)
// CHECK:         %[[C5:.*]] = arith.constant 5 : index
// CHECK:         %[[SUM:.*]]:2 = scf.for %[[I:[a-z0-9]+]] = %{{.*}} to %[[C5]] step %{{.*}} iter_args(%[[ACC:[a-z0-9_]+]] = %{{.*}}, %[[ACCC:[a-z0-9_]+]] = %{{.*}}) -> (tensor<4x2xf32>, tensor<4x2xf32>) {
// CHECK-NEXT:      %[[U:.*]] = tensor.extract_slice %arg6[%[[I]], 0, 0] [1, 4, 3] [1, 1, 1] : tensor<5x4x3xf32> to tensor<4x3xf32>
// CHECK-NEXT:      %[[H:.*]] = func.call @m__sample_hard(%arg4, %arg2, %arg3, %[[U]])
// CHECK-NEXT:      %[[G:.*]] = bism.grad @m__energy_sum(%arg4, %[[H]], %arg0, %arg1) wrt [0]
// CHECK-NEXT:      %[[S:.*]] = bism.neg %[[G]]
// CHECK-NEXT:      %[[NEXT:.*]] = bism.add %[[ACC]], %[[S]]
// CHECK-NEXT:      %[[UC:.*]] = tensor.extract_slice %arg8[%[[I]], 0, 0]
// CHECK-NEXT:      %[[HC:.*]] = func.call @m__sample_hard(%arg4, %arg2, %arg3, %[[UC]])
// CHECK-NEXT:      %[[GCI:.*]] = bism.grad @m__energy_sum(%arg4, %[[HC]], %arg0, %arg1) wrt [0]
// CHECK-NEXT:      %[[SC:.*]] = bism.neg %[[GCI]]
// CHECK-NEXT:      %[[NEXTC:.*]] = bism.add %[[ACCC]], %[[SC]]
// CHECK-NEXT:      scf.yield %[[NEXT]], %[[NEXTC]]
// CHECK-NEXT:    }
// CHECK:         %[[SHAT:.*]] = bism.mul %[[SUM]]#0,
// CHECK:         %[[GBAR:.*]] = bism.mul %[[SUM]]#1,
// J = score_objective(x, ŝ, ε); w = B ∂J/∂ŝ (B = 4).
// CHECK:         %[[J:.*]] = call @m__score_objective(%arg4, %[[SHAT]], %arg5)
// CHECK:         %[[DJ:.*]] = bism.grad @m__score_objective(%arg4, %[[SHAT]], %arg5) wrt [1]
// CHECK:         %[[B4:.*]] = bism.constant dense<4.000000e+00> : tensor<4x2xf32>
// CHECK:         %[[R:.*]] = bism.mul %[[DJ]], %[[B4]]
// CHECK:         scf.for %[[J:[a-z0-9]+]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[AW:[a-z0-9_]+]] = %{{.*}}, %[[AB:[a-z0-9_]+]] = %{{.*}}) -> (tensor<2x3xf32>, tensor<2xf32>) {
// CHECK-NEXT:      tensor.extract_slice %arg7[%[[J]], 0, 0]
// CHECK-NEXT:      %[[HD:.*]] = func.call @m__sample_hard(
// CHECK-NEXT:      tensor.extract_slice %arg8[%[[J]], 0, 0]
// CHECK-NEXT:      %[[HC2:.*]] = func.call @m__sample_hard(
// CHECK-NEXT:      %[[D:.*]]:2 = bism.grad @m__vages_surrogate(%arg0, %arg1, %arg4, %[[HD]], %[[HC2]], %[[R]], %[[GBAR]]) wrt [0, 1]
// CHECK-NEXT:      bism.add %[[AW]], %[[D]]#0
// CHECK-NEXT:      bism.add %[[AB]], %[[D]]#1
// CHECK-NEXT:      scf.yield
// Noise: ε, inner0 g1 g2, lower g1 g2, then the three groups' u [5,4,3],
// uniform.
// CHECK-LABEL: func.func @draw_noise(%arg0: tensor<2xi32>) -> (tensor<4x2xf32>, tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>, tensor<5x4x3xf32>, tensor<5x4x3xf32>, tensor<5x4x3xf32>)
// CHECK:         bism.random_normal
// CHECK-COUNT-4: bism.random_gumbel
// CHECK-COUNT-3: bism.random_uniform %{{.*}} : tensor<5x4x3xf32>
// State as BiSM; metrics J, lower_before, lower_after, ‖∇θ‖.
// CHECK-LABEL: func.func @train_step_with_noise(
// CHECK-SAME:    -> (tensor<2x3xf32>, tensor<2xf32>, tensor<2x3xf32>, tensor<3xf32>, tensor<2x3xf32>, tensor<2xf32>, tensor<2x3xf32>, tensor<2xf32>, tensor<2x3xf32>, tensor<3xf32>, tensor<2x3xf32>, tensor<3xf32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>)
// CHECK:         call @m__lower(
// CHECK:         call @m__phi_step(
// CHECK:         call @m__lower(
// CHECK:         call @m__vages_gradient(
// CHECK-LABEL: func.func @train_step(
// CHECK-LABEL: func.func @theta_gradient_with_noise(
// CHECK-SAME:    -> (tensor<2x3xf32>, tensor<2xf32>)
// CHECK:         call @m__phi_step(
// CHECK:         call @m__vages_gradient(

// After --bism-autodiff the loops stay, with the derivative code inside.
// AD-LABEL: func.func private @m__vages_gradient(
// AD:         scf.for
// AD-NOT:       bism.grad
// AD:           scf.yield
// AD:         scf.for
// AD-NOT:       bism.grad
// AD:           bism.stop_gradient
// AD-NOT:       bism.grad
// AD:           scf.yield
// AD-NOT:   bism.grad
// AD-NOT:   bism.hvp

// CPU-NOT: bism.
// CPU: llvm.func @train_step_with_noise(
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
    spec {method = "vages", objective = "dsm", inner_steps = 1, particles = 5} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "normal", std = 0.01}
  bism.param @b : tensor<2xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
  bism.param @d : tensor<3xf32> {group = "phi", init = "zeros"}
}

// -----

// == relaxed Bernoulli particles: sample_posterior with g1, g2 [L,B,H];
// == shared groups: one group of particles for ŝ, the derivative and the
// == covariance (one h per surrogate, centred at ŝ) ==
// CHECK-NOT:   sample_hard
// CHECK-LABEL: func.func private @m__vages_surrogate(%arg0: tensor<2x3xf32>, %arg1: tensor<2xf32>, %arg2: tensor<4x2xf32>, %arg3: tensor<4x3xf32>, %arg4: tensor<4x2xf32>, %arg5: tensor<4x2xf32>) -> tensor<f32>
// CHECK-COUNT-1: bism.grad @m__energy_sum(
// CHECK-NOT:     bism.grad
// CHECK:         return
// CHECK-LABEL: func.func private @m__vages_gradient(
// CHECK-SAME:    %arg6: tensor<2x4x3xf32>, %arg7: tensor<2x4x3xf32>)
// CHECK:         scf.for %[[I:[a-z0-9]+]] =
// CHECK-NEXT:      %[[G1:.*]] = tensor.extract_slice %arg6[%[[I]], 0, 0]
// CHECK-NEXT:      %[[G2:.*]] = tensor.extract_slice %arg7[%[[I]], 0, 0]
// CHECK-NEXT:      func.call @m__sample_posterior(%arg4, %arg2, %arg3, %[[G1]], %[[G2]])
// CHECK:         %[[SH:.*]] = bism.mul
// CHECK:         scf.for
// CHECK:           %[[HS:.*]] = func.call @m__sample_posterior(
// CHECK-NEXT:      bism.grad @m__vages_surrogate(%arg0, %arg1, %arg4, %[[HS]], %{{.*}}, %[[SH]]) wrt [0, 1]
// CHECK-LABEL: func.func @draw_noise(
// CHECK-SAME:    -> (tensor<4x2xf32>, tensor<4x3xf32>, tensor<4x3xf32>, tensor<2x4x3xf32>, tensor<2x4x3xf32>)
// CHECK-NOT:     bism.random_uniform
// CHECK:         bism.random_gumbel %{{.*}} : tensor<2x4x3xf32>
// CHECK:         bism.random_gumbel %{{.*}} : tensor<2x4x3xf32>

func.func private @e(%v: tensor<4x2xf32>, %h: tensor<4x3xf32>, %w: tensor<2x3xf32>, %b: tensor<2xf32>) -> tensor<4xf32> {
  %bb = bism.broadcast %b : tensor<2xf32> to tensor<4x2xf32>
  %cen = bism.sub %v, %bb : tensor<4x2xf32>
  %sq = bism.square %cen : tensor<4x2xf32>
  %qs = bism.reduce_sum %sq axes [1] : tensor<4x2xf32> -> tensor<4xf32>
  %vw = bism.matmul %v, %w : tensor<4x2xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  %c = bism.mul %vw, %h : tensor<4x3xf32>
  %i = bism.reduce_sum %c axes [1] : tensor<4x3xf32> -> tensor<4xf32>
  %e = bism.sub %qs, %i : tensor<4xf32>
  return %e : tensor<4xf32>
}
func.func private @q(%v: tensor<4x2xf32>, %a: tensor<2x3xf32>, %d: tensor<3xf32>) -> tensor<4x3xf32> {
  %va = bism.matmul %v, %a : tensor<4x2xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  %db = bism.broadcast %d : tensor<3xf32> to tensor<4x3xf32>
  %l = bism.add %va, %db : tensor<4x3xf32>
  return %l : tensor<4x3xf32>
}
bism.model @m energy @e [@W, @b] posterior "bernoulli" @q [@A, @d]
    spec {method = "vages", inner_steps = 0, particles = 2,
          vages_sampling = "relaxed", vages_groups = "shared"} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "normal", std = 0.01}
  bism.param @b : tensor<2xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
  bism.param @d : tensor<3xf32> {group = "phi", init = "zeros"}
}

// -----

// == Gaussian posterior, MDSM (w = r/σ_b), Fisher lower level ==
// CHECK-LABEL: func.func private @g__vages_gradient(
// CHECK-SAME:    %arg5: tensor<3x4x3xf32>, %arg6: tensor<3x4x3xf32>, %arg7: tensor<3x4x3xf32>)
// CHECK:         scf.for
// CHECK:           func.call @g__sample_posterior(
// CHECK:           bism.grad @g__energy_sum(
// CHECK:         scf.for
// CHECK:           bism.grad @g__vages_surrogate(
// CHECK-LABEL: func.func @draw_noise(
// CHECK-SAME:    -> (tensor<4x2xf32>, tensor<4x3xf32>, tensor<3x4x3xf32>, tensor<3x4x3xf32>, tensor<3x4x3xf32>)
// CHECK-COUNT-3: bism.random_normal %{{.*}} : tensor<3x4x3xf32>

func.func private @e(%v: tensor<4x2xf32>, %h: tensor<4x3xf32>, %w: tensor<2x3xf32>) -> tensor<4xf32> {
  %sq = bism.square %v : tensor<4x2xf32>
  %qs = bism.reduce_sum %sq axes [1] : tensor<4x2xf32> -> tensor<4xf32>
  %hsq = bism.square %h : tensor<4x3xf32>
  %hs = bism.reduce_sum %hsq axes [1] : tensor<4x3xf32> -> tensor<4xf32>
  %vw = bism.matmul %v, %w : tensor<4x2xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  %c = bism.mul %vw, %h : tensor<4x3xf32>
  %i = bism.reduce_sum %c axes [1] : tensor<4x3xf32> -> tensor<4xf32>
  %t = bism.add %qs, %hs : tensor<4xf32>
  %e = bism.sub %t, %i : tensor<4xf32>
  return %e : tensor<4xf32>
}
func.func private @q(%v: tensor<4x2xf32>, %a: tensor<2x3xf32>, %s: tensor<3xf32>) -> (tensor<4x3xf32>, tensor<4x3xf32>) {
  %mu = bism.matmul %v, %a : tensor<4x2xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  %ls = bism.broadcast %s : tensor<3xf32> to tensor<4x3xf32>
  return %mu, %ls : tensor<4x3xf32>, tensor<4x3xf32>
}
bism.model @g energy @e [@W] posterior "gaussian" @q [@A, @s]
    spec {method = "vages", objective = "mdsm", divergence = "fisher",
          inner_steps = 0, particles = 3, unroll_steps = 0} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "normal", std = 0.01}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
  bism.param @s : tensor<3xf32> {group = "phi", init = "zeros"}
}
