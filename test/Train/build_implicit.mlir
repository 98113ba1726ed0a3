// BiDSM with the implicit hypergradient (hypergradient = "implicit") for the
// GRBM of build_bidsm.mlir: K = 1 plain phi step, no unrolled steps, then
// the theta gradient by the implicit function theorem with cg_iterations = 2
// conjugate-gradient steps on Hessian-vector products of the lower level G
// in phi, damping 0.01 (lib/Train/Hypergradient.cpp).
// RUN: bism-opt %s --bism-build-train-step | FileCheck %s
// RUN: bism-opt %s --bism-build-train-step --bism-autodiff --canonicalize --cse | FileCheck %s --check-prefix=AD
// One step, compiled and run: theta moves by lr = 0.01 (first Adam step),
// and the five metrics (J, G before and after, the gradient norm, the CG
// residual) are finite.
// RUN: bism-opt %s --bism-build-train-step | bism-run - --entry train_step \
// RUN:   --input "2x4xf32=0.1 -0.2 0.3 0.05 -0.1 0.2 0.15 -0.3" --input "2xf32=0.5 0.4" \
// RUN:   --input "4xf32=0.1 -0.1 0.0 0.2" --input "2xf32=-1.0 -0.5" \
// RUN:   --input "2x4xf32=0.2 0.1 -0.1 0.3 0.0 -0.2 0.1 0.05" --input "4xf32=0.0 0.1 -0.1 0.0" \
// RUN:   --input "2x4xf32=0" --input "2xf32=0" --input "4xf32=0" --input "2xf32=0" \
// RUN:   --input "2x4xf32=0" --input "2xf32=0" --input "4xf32=0" --input "2xf32=0" \
// RUN:   --input "2x4xf32=0" --input "4xf32=0" --input "2x4xf32=0" --input "4xf32=0" \
// RUN:   --input "f32=0" --input "f32=0" --input "4x2xf32=0.1 0.9 0.3 0.2 0.8 0.7 0.5 0.4" \
// RUN:   --input "2xi32=0 42" | FileCheck %s --check-prefix=EXEC
// EXEC: 2x4xf32=[0.09 -0.21 0.31 0.04][-0.11 0.19 0.16 -0.31]
// EXEC: {{^}}f32=1{{$}}
// EXEC-NEXT: {{^}}f32=1{{$}}
// EXEC-NEXT: f32={{-?[0-9]}}
// EXEC-NEXT: f32={{-?[0-9]}}
// EXEC-NEXT: f32={{-?[0-9]}}
// EXEC-NEXT: f32={{[0-9]}}
// EXEC-NEXT: f32={{[0-9]}}
// EXEC-NOT: f32=

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
          inner_steps = 1, unroll_steps = 0, lr_theta = 0.01, lr_phi = 0.01,
          hypergradient = "implicit", cg_iterations = 2, cg_damping = 0.01} {
  bism.param @W : tensor<2x4xf32> {group = "theta", init = "normal", std = 0.1}
  bism.param @b : tensor<2xf32> {group = "theta", init = "zeros"}
  bism.param @c : tensor<4xf32> {group = "theta", init = "zeros"}
  bism.param @logsigma : tensor<2xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x4xf32> {group = "phi", init = "normal", std = 0.1}
  bism.param @d : tensor<4xf32> {group = "phi", init = "zeros"}
}

// No unrolled steps: no @grbm__unroll_step, no @grbm__j_bi.
// CHECK-NOT: @grbm__j_bi
// CHECK-NOT: @grbm__unroll_step

// <∇φ G(θ, φ), w>: a gradient w.r.t. phi (args 4, 5) dotted with w (args
// 9, 10); its theta gradient is the mixed second derivative applied to w.
// CHECK-LABEL: func.func private @grbm__lower_phi_gradient_dot(
// CHECK-SAME:    %arg9: tensor<2x4xf32>, %arg10: tensor<4xf32>) -> tensor<f32>
// CHECK:         %[[G:.*]]:2 = bism.grad @grbm__lower(%arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6, %arg7, %arg8) wrt [4, 5]
// CHECK:         bism.mul %[[G]]#0, %arg9
// CHECK:         bism.mul %[[G]]#1, %arg10
// CHECK:         return

// (J, ∇θ J..., cg_residual) at (θ, φ) with the upper noise (args 8, 9):
// b = ∂J/∂φ from one gradient of J in theta and phi; two CG iterations,
// each one HVP of G in phi (forward over reverse) plus the damping 0.01 p;
// the mixed term as the theta gradient of lower_phi_gradient_dot at the
// solution v; ∂J/∂θ minus it; one more HVP for the true residual.
// CHECK-LABEL: func.func private @grbm__implicit_gradient(
// CHECK:         %[[J:.*]] = call @grbm__upper(%arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6, %arg7, %arg8, %arg9)
// CHECK:         %[[D:.*]]:6 = bism.grad @grbm__upper(%arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6, %arg7, %arg8, %arg9) wrt [0, 1, 2, 3, 4, 5]
// CHECK:         %[[HP0:.*]]:2 = bism.hvp @grbm__lower(%arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6, %arg8, %arg9, %[[D]]#4, %[[D]]#5) wrt [4, 5]
// CHECK:         bism.constant dense<0.00999999977> : tensor<2x4xf32>
// CHECK:         bism.compare gt
// CHECK:         bism.select
// CHECK:         %[[HP1:.*]]:2 = bism.hvp @grbm__lower(%arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6, %arg8, %arg9, %{{.*}}, %{{.*}}) wrt [4, 5]
// CHECK:         %[[M:.*]]:4 = bism.grad @grbm__lower_phi_gradient_dot(%arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6, %arg8, %arg9, %[[V0:.*]], %[[V1:.*]]) wrt [0, 1, 2, 3]
// CHECK:         %[[G0:.*]] = bism.sub %[[D]]#0, %[[M]]#0 : tensor<2x4xf32>
// CHECK:         %[[G1:.*]] = bism.sub %[[D]]#1, %[[M]]#1 : tensor<2xf32>
// CHECK:         %[[G2:.*]] = bism.sub %[[D]]#2, %[[M]]#2 : tensor<4xf32>
// CHECK:         %[[G3:.*]] = bism.sub %[[D]]#3, %[[M]]#3 : tensor<2xf32>
// CHECK:         bism.hvp @grbm__lower(%arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6, %arg8, %arg9, %[[V0]], %[[V1]]) wrt [4, 5]
// CHECK-NOT:     bism.hvp
// CHECK:         bism.div
// CHECK-NEXT:    %[[R:.*]] = bism.select
// CHECK:         return %[[J]], %[[G0]], %[[G1]], %[[G2]], %[[G3]], %[[R]] :

// The noise is that of K = 1 plain step and the upper level: eps, 2 x 2 Gumbel.
// CHECK-LABEL: func.func @draw_noise(%arg0: tensor<2xi32>)
// CHECK-COUNT-4: bism.random_gumbel {{.*}} : tensor<4x4xf32>
// CHECK-NOT:     bism.random

// The step: the K = 1 plain phi step, then implicit_gradient at phi^1 with
// the upper noise (args 24, 25); the metrics end with the CG residual.
// CHECK-LABEL: func.func @train_step_with_noise(
// CHECK:         %[[K1:.*]]:7 = call @grbm__phi_step(%arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg14, %arg15, %arg16, %arg17, %arg19, %[[X:.*]], %arg22, %arg23)
// CHECK:         %[[IG:.*]]:6 = call @grbm__implicit_gradient(%arg0, %arg1, %arg2, %arg3, %[[K1]]#0, %[[K1]]#1, %[[X]], %arg21, %arg24, %arg25)
// CHECK:         return {{.*}}, %[[IG]]#0, %{{.*}}, %{{.*}}, %{{.*}}, %[[IG]]#5 :

// @theta_gradient_with_noise returns the same gradient.
// CHECK-LABEL: func.func @theta_gradient_with_noise(
// CHECK:         %[[TG:.*]]:6 = call @grbm__implicit_gradient(
// CHECK:         return %[[TG]]#1, %[[TG]]#2, %[[TG]]#3, %[[TG]]#4 :

// After autodiff no AD op is left.
// AD-NOT: bism.grad
// AD-NOT: bism.hvp
// AD-NOT: bism.vjp
// AD-NOT: bism.jvp
// AD: func.func @train_step_with_noise(
