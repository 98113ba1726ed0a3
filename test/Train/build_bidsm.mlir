// BiDSM (DSM upper level, KL lower level) for a small GRBM with a relaxed
// Bernoulli posterior: 2 visible, 4 latent units, batch 4, K = 1 plain φ step
// and N = 2 unrolled (differentiable) φ steps, Adam for both levels (the
// unrolled steps continue the φ optimiser: unroll_optimizer = "same").
// RUN: bism-opt %s --bism-build-train-step | FileCheck %s
// RUN: bism-opt %s --bism-build-train-step --bism-autodiff --canonicalize --cse | FileCheck %s --check-prefix=AD
// RUN: bism-opt %s --bism-build-train-step=keep-model | FileCheck %s --check-prefix=KEEP
// One step, compiled and run: the first Adam step moves every theta entry by
// lr = 0.01 against its gradient's sign, t becomes 1, the metrics are finite.
// RUN: bism-opt %s --bism-build-train-step | bism-run - --entry train_step \
// RUN:   --input "2x4xf32=0.1 -0.2 0.3 0.05 -0.1 0.2 0.15 -0.3" --input "2xf32=0.5 0.4" \
// RUN:   --input "4xf32=0.1 -0.1 0.0 0.2" --input "2xf32=-1.0 -0.5" \
// RUN:   --input "2x4xf32=0.2 0.1 -0.1 0.3 0.0 -0.2 0.1 0.05" --input "4xf32=0.0 0.1 -0.1 0.0" \
// RUN:   --input "2x4xf32=0" --input "2xf32=0" --input "4xf32=0" --input "2xf32=0" \
// RUN:   --input "2x4xf32=0" --input "2xf32=0" --input "4xf32=0" --input "2xf32=0" \
// RUN:   --input "2x4xf32=0" --input "4xf32=0" --input "2x4xf32=0" --input "4xf32=0" \
// RUN:   --input "f32=0" --input "f32=0" --input "4x2xf32=0.1 0.9 0.3 0.2 0.8 0.7 0.5 0.4" \
// RUN:   --input "2xi32=0 42" | FileCheck %s --check-prefix=EXEC
// EXEC: 2x4xf32=[0.09 -0.21 0.29 0.06][-0.09 0.19 0.16 -0.31]
// EXEC: {{^}}f32=1{{$}}
// EXEC-NEXT: {{^}}f32=1{{$}}
// EXEC-NEXT: f32={{-?[0-9]}}
// EXEC-NEXT: f32={{-?[0-9]}}
// EXEC-NEXT: f32={{-?[0-9]}}
// EXEC-NEXT: f32={{[0-9]}}

// E(v, h) = 1/2 sum((v - b)^2 exp(-2 logsigma)) - c.h - sum((vW) * h)
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

// Logits l = v A + d.
func.func @logits(%v: tensor<4x2xf32>, %a: tensor<2x4xf32>, %d: tensor<4xf32>) -> tensor<4x4xf32> {
  %va = bism.matmul %v, %a : tensor<4x2xf32>, tensor<2x4xf32> -> tensor<4x4xf32>
  %d4 = bism.broadcast %d : tensor<4xf32> to tensor<4x4xf32>
  %l = bism.add %va, %d4 : tensor<4x4xf32>
  return %l : tensor<4x4xf32>
}

bism.model @grbm energy @energy [@W, @b, @c, @logsigma]
    posterior "bernoulli" @logits [@A, @d] temperature 0.1
    spec {objective = "dsm", noise_std = 0.3, divergence = "kl",
          inner_steps = 1, unroll_steps = 2, lr_theta = 0.01, lr_phi = 0.01,
          unroll_optimizer = "same"} {
  bism.param @W : tensor<2x4xf32> {group = "theta", init = "normal", std = 0.1}
  bism.param @b : tensor<2xf32> {group = "theta", init = "zeros"}
  bism.param @c : tensor<4xf32> {group = "theta", init = "zeros"}
  bism.param @logsigma : tensor<2xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x4xf32> {group = "phi", init = "normal", std = 0.1}
  bism.param @d : tensor<4xf32> {group = "phi", init = "zeros"}
}

// The model op is consumed (keep-model keeps it).
// CHECK-NOT: bism.model
// KEEP: bism.model @grbm

// Posterior sample, log q and Σ_b [E + log q] (the lower level first).
// CHECK-LABEL: func.func private @grbm__sample_posterior(
// CHECK:         call @logits(
// CHECK:         bism.sub %arg3, %arg4 : tensor<4x4xf32>
// CHECK:         bism.sigmoid
// CHECK-LABEL: func.func private @grbm__log_q(
// CHECK:         bism.softplus
// CHECK:         bism.reduce_sum {{.*}} axes [1] : tensor<4x4xf32> -> tensor<4xf32>
// CHECK-LABEL: func.func private @grbm__energy_sum(
// CHECK-LABEL: func.func private @grbm__neg_log_joint(
// CHECK:         call @grbm__energy_sum(
// CHECK:         call @grbm__log_q(

// G (KL): mean_b [log q + E] at a reparameterised h.
// CHECK-LABEL: func.func private @grbm__lower(
// CHECK:         %[[H:.*]] = call @grbm__sample_posterior(
// CHECK:         call @grbm__log_q({{.*}}, %[[H]],
// CHECK:         call @energy({{.*}}, %[[H]],
// CHECK:         bism.reduce_mean

// One optimiser step of phi on G: the gradient w.r.t. phi (args 4, 5), Adam.
// CHECK-LABEL: func.func private @grbm__phi_step(
// CHECK:         bism.grad @grbm__lower({{.*}}) wrt [4, 5]
// CHECK:         bism.pow
// CHECK:         bism.sqrt
// CHECK:         return

// The score -∇_x Σ_b [E + log q] (h held fixed).
// CHECK-LABEL: func.func private @grbm__score(
// CHECK:         %[[G:.*]] = bism.grad @grbm__neg_log_joint({{.*}}) wrt [0]
// CHECK:         bism.neg %[[G]] : tensor<4x2xf32>

// J (DSM): h drawn at a stopped copy of x, 1/2 ||s + eps/sigma||^2.
// CHECK-LABEL: func.func private @grbm__upper(
// CHECK:         %[[SX:.*]] = bism.stop_gradient %arg6
// CHECK:         %[[HU:.*]] = call @grbm__sample_posterior(%[[SX]],
// CHECK:         call @grbm__score(%arg6, %[[HU]],
// CHECK:         bism.constant dense<3.33333325> : tensor<4x2xf32>
// CHECK:         bism.reduce_mean

// J_Bi: N = 2 unrolled, differentiable phi steps carrying the Adam state,
// then J at phi^2.
// CHECK-LABEL: func.func private @grbm__j_bi(
// The N = 2 unrolled steps: a loop the autodiff pass unrolls, each step
// picking its noise (ξ of step 0: %arg13, %arg14; step 1: %arg15, %arg16).
// CHECK:         %[[P:.*]]:7 = scf.for %[[N:.*]] = %c0 to %c2 step %c1 iter_args(%[[A:.*]] = %arg4, %[[D:.*]] = %arg5, {{.*}})
// CHECK:           %[[XI:.*]]:2 = scf.index_switch %[[N]]
// CHECK-NEXT:      case 0 {
// CHECK-NEXT:        scf.yield %arg13, %arg14
// CHECK:           default {
// CHECK-NEXT:        scf.yield %arg15, %arg16
// CHECK:           %[[S:.*]]:7 = func.call @grbm__phi_step(%arg0, %arg1, %arg2, %arg3, %[[A]], %[[D]], {{.*}}, %arg11, %[[XI]]#0, %[[XI]]#1)
// CHECK:           scf.yield %[[S]]#0, %[[S]]#1, %[[S]]#2, %[[S]]#3, %[[S]]#4, %[[S]]#5, %[[S]]#6
// CHECK:         } {bism.checkpoint = "none"}
// CHECK:         %[[J:.*]] = call @grbm__upper(%arg0, %arg1, %arg2, %arg3, %[[P]]#0, %[[P]]#1, %arg11, %arg12, %arg17, %arg18)
// CHECK:         return %[[J]]

// All the noise of one step from the key: eps, then Gumbel pairs for the
// K = 1 plain step, the N = 2 unrolled steps and the upper level.
// CHECK-LABEL: func.func @draw_noise(%arg0: tensor<2xi32>)
// CHECK:         bism.key_split %arg0[0]
// CHECK-NEXT:    bism.random_normal {{.*}} : tensor<4x2xf32>
// CHECK-COUNT-8: bism.random_gumbel {{.*}} : tensor<4x4xf32>
// CHECK-NOT:     bism.random

// The step: x = v + sigma eps; G before; K = 1 plain phi step; G after;
// J_Bi and its gradient w.r.t. theta (args 0-3); grad norm; Adam on theta.
// CHECK-LABEL: func.func @train_step_with_noise(
// CHECK-SAME:    %arg18: tensor<f32>, %arg19: tensor<f32>, %arg20: tensor<4x2xf32>, %arg21: tensor<4x2xf32>
// CHECK:         %[[SIG:.*]] = bism.constant dense<3.000000e-01> : tensor<4x2xf32>
// CHECK:         %[[NOISE:.*]] = bism.mul %arg21, %[[SIG]]
// CHECK:         %[[X:.*]] = bism.add %arg20, %[[NOISE]]
// CHECK:         %[[BEFORE:.*]] = call @grbm__lower(%arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %[[X]], %arg28, %arg29)
// CHECK:         %[[K1:.*]]:7 = call @grbm__phi_step(%arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg14, %arg15, %arg16, %arg17, %arg19, %[[X]], %arg22, %arg23)
// CHECK-NOT:     call @grbm__phi_step
// CHECK:         %[[AFTER:.*]] = call @grbm__lower(%arg0, %arg1, %arg2, %arg3, %[[K1]]#0, %[[K1]]#1, %[[X]], %arg28, %arg29)
// CHECK:         %[[J:.*]] = call @grbm__j_bi(%arg0, %arg1, %arg2, %arg3, %[[K1]]#0, %[[K1]]#1, %[[K1]]#2, %[[K1]]#3, %[[K1]]#4, %[[K1]]#5, %[[K1]]#6, %[[X]], %arg21, %arg24, %arg25, %arg26, %arg27, %arg28, %arg29)
// CHECK:         %[[GT:.*]]:4 = bism.grad @grbm__j_bi(%arg0, %arg1, %arg2, %arg3, %[[K1]]#0, {{.*}}) wrt [0, 1, 2, 3]
// CHECK:         %[[NORM:.*]] = bism.sqrt
// CHECK:         %[[T:.*]] = bism.add %arg18,
// CHECK:         bism.pow
// CHECK:         %[[M0:.*]] = bism.add
// CHECK:         %[[W:.*]] = bism.sub %arg0,
// CHECK:         return %[[W]], {{.*}}, %[[K1]]#0, %[[K1]]#1, %[[M0]], {{.*}}, %[[K1]]#2, %[[K1]]#3, %[[K1]]#4, %[[K1]]#5, %[[T]], %[[K1]]#6, %[[J]], %[[BEFORE]], %[[AFTER]], %[[NORM]] :

// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:    %arg20: tensor<4x2xf32>, %arg21: tensor<2xi32>)
// CHECK:         %[[N:.*]]:9 = call @draw_noise(%arg21)
// CHECK:         call @train_step_with_noise({{.*}}, %arg20, %[[N]]#0, {{.*}}, %[[N]]#8)

// After autodiff no AD op is left anywhere (only the stop_gradient marker,
// which the lowering drops).
// AD-NOT: bism.grad
// AD-NOT: bism.hvp
// AD-NOT: bism.vjp
// AD-NOT: bism.jvp
// AD: func.func @train_step_with_noise(
// AD-NOT: bism.grad
// AD: func.func @train_step(
// AD-NOT: bism.grad
