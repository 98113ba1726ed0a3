// BiSSM (sliced score matching, Rademacher projections) with the Fisher
// lower level and a Gaussian posterior: 3 visible, 2 latent units, batch 2,
// K = 2 plain and N = 1 unrolled phi steps; SGD for theta, Adam for phi.
// RUN: bism-opt %s --bism-build-train-step | FileCheck %s
// RUN: bism-opt %s --bism-build-train-step --bism-autodiff --canonicalize --cse | FileCheck %s --check-prefix=AD
// RUN: bism-opt %s --bism-build-train-step | bism-run - --entry train_step \
// RUN:   --input "3x2xf64=0.1 -0.2 0.3 0.05 -0.1 0.2" --input "3xf64=0.1 0 -0.1" \
// RUN:   --input "3x2xf64=0.2 0.1 -0.1 0.3 0.0 -0.2" --input "2xf64=0.1 -0.1" \
// RUN:   --input "3x2xf64=0.05" --input "2xf64=-0.5" \
// RUN:   --input "3x2xf64=0" --input "3xf64=0" --input "3x2xf64=0" --input "3xf64=0" \
// RUN:   --input "3x2xf64=0" --input "2xf64=0" --input "3x2xf64=0" --input "2xf64=0" \
// RUN:   --input "3x2xf64=0" --input "2xf64=0" --input "3x2xf64=0" --input "2xf64=0" \
// RUN:   --input "f64=0" --input "f64=0" --input "2x3xf64=0.1 0.9 0.3 0.2 0.8 0.7" \
// RUN:   --input "2xi32=1 7" | FileCheck %s --check-prefix=EXEC

// E(v, h) = 1/2 ||v - b||^2 + 1/2 ||h||^2 - sum(tanh(v W) * h)
func.func @energy(%v: tensor<2x3xf64>, %h: tensor<2x2xf64>, %w: tensor<3x2xf64>,
                  %b: tensor<3xf64>) -> tensor<2xf64> {
  %b2 = bism.broadcast %b : tensor<3xf64> to tensor<2x3xf64>
  %d = bism.sub %v, %b2 : tensor<2x3xf64>
  %d2 = bism.square %d : tensor<2x3xf64>
  %q = bism.reduce_sum %d2 axes [1] : tensor<2x3xf64> -> tensor<2xf64>
  %h2 = bism.square %h : tensor<2x2xf64>
  %qh = bism.reduce_sum %h2 axes [1] : tensor<2x2xf64> -> tensor<2xf64>
  %qq = bism.add %q, %qh : tensor<2xf64>
  %half = bism.constant dense<0.5> : tensor<2xf64>
  %quad = bism.mul %qq, %half : tensor<2xf64>
  %vw = bism.matmul %v, %w : tensor<2x3xf64>, tensor<3x2xf64> -> tensor<2x2xf64>
  %t = bism.tanh %vw : tensor<2x2xf64>
  %th = bism.mul %t, %h : tensor<2x2xf64>
  %lin = bism.reduce_sum %th axes [1] : tensor<2x2xf64> -> tensor<2xf64>
  %e = bism.sub %quad, %lin : tensor<2xf64>
  return %e : tensor<2xf64>
}

// mu = tanh(v A + c), logstd = v S + s.
func.func @encoder(%v: tensor<2x3xf64>, %a: tensor<3x2xf64>, %c: tensor<2xf64>,
                   %s: tensor<3x2xf64>, %e: tensor<2xf64>) -> (tensor<2x2xf64>, tensor<2x2xf64>) {
  %va = bism.matmul %v, %a : tensor<2x3xf64>, tensor<3x2xf64> -> tensor<2x2xf64>
  %c2 = bism.broadcast %c : tensor<2xf64> to tensor<2x2xf64>
  %pre = bism.add %va, %c2 : tensor<2x2xf64>
  %mu = bism.tanh %pre : tensor<2x2xf64>
  %vs = bism.matmul %v, %s : tensor<2x3xf64>, tensor<3x2xf64> -> tensor<2x2xf64>
  %e2 = bism.broadcast %e : tensor<2xf64> to tensor<2x2xf64>
  %ls = bism.add %vs, %e2 : tensor<2x2xf64>
  return %mu, %ls : tensor<2x2xf64>, tensor<2x2xf64>
}

bism.model @toy energy @energy [@W, @b] posterior "gaussian" @encoder [@A, @c, @S, @e]
    spec {objective = "ssm", projection = "rademacher", divergence = "fisher",
          inner_steps = 2, unroll_steps = 1, optimizer_theta = "sgd",
          lr_theta = 0.1, lr_phi = 0.01} {
  bism.param @W : tensor<3x2xf64> {group = "theta", init = "normal", std = 0.1}
  bism.param @b : tensor<3xf64> {group = "theta", init = "zeros"}
  bism.param @A : tensor<3x2xf64> {group = "phi", init = "normal", std = 0.1}
  bism.param @c : tensor<2xf64> {group = "phi", init = "zeros"}
  bism.param @S : tensor<3x2xf64> {group = "phi", init = "zeros"}
  bism.param @e : tensor<2xf64> {group = "phi", init = "zeros"}
}

// Gaussian sample h = mu + exp(logstd) xi; log q with the 1/2 log 2 pi term.
// CHECK-LABEL: func.func private @toy__sample_posterior(
// CHECK:         %[[P:.*]]:2 = call @encoder(
// CHECK:         %[[S:.*]] = bism.exp %[[P]]#1
// CHECK:         %[[SX:.*]] = bism.mul %[[S]], %arg5
// CHECK:         bism.add %[[P]]#0, %[[SX]]
// CHECK-LABEL: func.func private @toy__log_q(
// CHECK:         bism.constant dense<0.91893853320467278>

// Fisher: 1/2 mean_b ||grad_h (E + log q)||^2 at a reparameterised h.
// CHECK-LABEL: func.func private @toy__lower(
// CHECK:         %[[H:.*]] = call @toy__sample_posterior(
// CHECK:         %[[GH:.*]] = bism.grad @toy__neg_log_joint(%arg6, %[[H]], %arg0, %arg1, %arg2, %arg3, %arg4, %arg5) wrt [1]
// CHECK:         bism.square %[[GH]]

// SSM: 1/2 ||s||^2 + u^T grad_x(u^T s) = 1/2 ||s||^2 - u^T H u.
// CHECK-LABEL: func.func private @toy__upper(
// CHECK:         bism.stop_gradient %arg6
// CHECK:         %[[SC:.*]] = call @toy__score(%arg6,
// CHECK:         %[[HU:.*]] = bism.hvp @toy__neg_log_joint(%arg6, {{.*}}, %arg7) wrt [0]
// CHECK:         bism.mul %arg7, %[[HU]]
// CHECK:         bism.sub

// φ ← φ − 0.01 ∇φ G for each φ parameter; the Adam moments pass through.
// CHECK-LABEL: func.func private @toy__unroll_step(
// CHECK:         %[[G:.*]]:4 = bism.grad @toy__lower(
// CHECK:         %[[LR:.*]] = bism.constant dense<1.000000e-02> : tensor<3x2xf64>
// CHECK:         %[[STEP:.*]] = bism.mul %[[G]]#0, %[[LR]]
// CHECK:         bism.sub %arg2, %[[STEP]]
// CHECK-NOT:     bism.sqrt
// CHECK:         return {{.*}}, %arg6, %arg7, %arg8, %arg9, %arg10, %arg11, %arg12, %arg13, {{.*}}

// The N = 1 unrolled step is a plain gradient step (unroll_optimizer
// "sgd", the default; unroll_lr = lr_phi): @toy__unroll_step.
// CHECK-LABEL: func.func private @toy__j_bi(
// CHECK-COUNT-1: call @toy__unroll_step(
// CHECK-NOT:     call @toy__unroll_step(
// CHECK:         call @toy__upper(

// u is Rademacher, xi standard normal (K + N + 1 = 4 of them).
// CHECK-LABEL: func.func @draw_noise(
// CHECK:         bism.random_rademacher {{.*}} : tensor<2x3xf64>
// CHECK-COUNT-4: bism.random_normal {{.*}} : tensor<2x2xf64>
// CHECK-NOT:     bism.random

// SSM works on v itself (no noise added); K = 2 plain steps; SGD on theta.
// CHECK-LABEL: func.func @train_step_with_noise(
// CHECK-NOT:     bism.add %arg20
// CHECK:         call @toy__lower({{.*}}, %arg20, %arg25)
// CHECK:         call @toy__phi_step({{.*}}, %arg19, %arg20, %arg22)
// CHECK:         call @toy__phi_step({{.*}}, %arg20, %arg23)
// CHECK:         call @toy__lower({{.*}}, %arg20, %arg25)
// CHECK:         call @toy__j_bi({{.*}}, %arg20, %arg21, %arg24, %arg25)
// CHECK:         %[[G:.*]]:2 = bism.grad @toy__j_bi({{.*}}) wrt [0, 1]
// CHECK-NOT:     bism.pow
// CHECK:         %[[LR:.*]] = bism.constant dense<1.000000e-01> : tensor<3x2xf64>
// CHECK:         %[[STEP:.*]] = bism.mul %[[G]]#0, %[[LR]]
// CHECK:         %[[W:.*]] = bism.sub %arg0, %[[STEP]]
// CHECK:         return %[[W]], {{.*}}, %arg6, %arg7, %arg8, %arg9,

// AD-NOT: bism.grad
// AD-NOT: bism.hvp
// AD-NOT: bism.vjp
// AD-NOT: bism.jvp
// AD: func.func @train_step(

// 12 state tensors, then J, G before, G after, ||grad_theta J||: finite.
// EXEC-COUNT-6: {{^}}3x2xf64=
// EXEC: {{^}}f64=1{{$}}
// EXEC-NEXT: {{^}}f64=2{{$}}
// EXEC-NEXT: f64={{-?[0-9]}}
// EXEC-NEXT: f64={{-?[0-9]}}
// EXEC-NEXT: f64={{-?[0-9]}}
// EXEC-NEXT: f64={{[0-9]}}
