// Method "bidvl" with unroll_steps = N = 2 (docs/training.md "Method
// bidvl"): the step first takes N lower-level φ steps that stay
// differentiable in θ (@dvl__j_bi, plain SGD of size unroll_lr = 0.25 in
// @dvl__unroll_step), θ descends L_up(θ, φᴺ(θ)) = mean E(v) − mean
// E(G(ĥ; φᴺ(θ))) (the generator's samples not held fixed), then φ continues
// from φᴺ with K = 1 plain step at the new θ. Batch 4, 3 visible, 2 latents.
// Noise, in @draw_noise's order (key_split index i for noise i):
// generator.h, unroll0.xi, unroll1.xi, lower0.xi, all [B,H] N(0, I);
// in @train_step_with_noise they are %arg24 … %arg27 (after θ 0-1, φ 2-6,
// m_θ 7-8, s_θ 9-10, m_φ 11-15, s_φ 16-20, t_θ 21, t_φ 22, v 23).
// RUN: bism-opt %s --bism-build-train-step | FileCheck %s
// RUN: bism-opt %s --bism-build-train-step --bism-autodiff --canonicalize --cse | FileCheck %s --check-prefix=AD
// RUN: bism-opt %s --bism-build-train-step --bism-lower-cpu | FileCheck %s --check-prefix=CPU
// unroll_optimizer = "same": the unrolled steps are @dvl__phi_step (Adam),
// and φ continues with the state they leave.
// RUN: sed 's/unroll_lr = 0.25/unroll_optimizer = "same"/' %s | bism-opt --bism-build-train-step | FileCheck %s --check-prefix=SAME
// spectral_norm: the unrolled step differentiates the wrapped energy.
// RUN: sed 's/unroll_lr = 0.25/unroll_lr = 0.25, spectral_norm = ["A"]/' %s | bism-opt --bism-build-train-step | FileCheck %s --check-prefix=SN
// RUN: sed 's/unroll_lr = 0.25/unroll_lr = 0.25, spectral_norm = ["A"]/' %s | bism-opt --bism-build-train-step --bism-lower-cpu | FileCheck %s --check-prefix=CPU

// The helpers of the step without unrolling, unchanged.
// CHECK-LABEL: func.func private @dvl__upper(%arg0: tensor<3x2xf32>, %arg1: tensor<2xf32>, %arg2: tensor<4x3xf32>, %arg3: tensor<4x3xf32>) -> tensor<f32>
// CHECK-LABEL: func.func private @dvl__lower(
// CHECK-LABEL: func.func private @dvl__phi_step(
// CHECK:         bism.grad @dvl__lower({{.*}}) wrt [2, 3, 4, 5, 6]
// The unrolled step: φ − 0.25 ∇φ G for each of the 5 φ tensors.
// CHECK-LABEL: func.func private @dvl__unroll_step(
// CHECK:         bism.grad @dvl__lower({{.*}}) wrt [2, 3, 4, 5, 6]
// CHECK-COUNT-5: bism.constant dense<2.500000e-01>
// CHECK:         return
// J(θ, φᴺ(θ)): θ (0-1), φ⁰ (2-6), m_φ (7-11), s_φ (12-16), t_φ (17), v
// (18), ĥ (19), ξ^unroll_0 (20), ξ^unroll_1 (21); the two steps chained,
// then the generator at φᴺ's generator parameters (φ 3-4), no
// stop_gradient, into the upper loss.
// CHECK-LABEL: func.func private @dvl__j_bi(%arg0: tensor<3x2xf32>, %arg1: tensor<2xf32>, %arg2: tensor<3x2xf32>, %arg3: tensor<2xf32>, %arg4: tensor<2xf32>, %arg5: tensor<2x3xf32>, %arg6: tensor<3xf32>, %arg7: tensor<3x2xf32>, %arg8: tensor<2xf32>, %arg9: tensor<2xf32>, %arg10: tensor<2x3xf32>, %arg11: tensor<3xf32>, %arg12: tensor<3x2xf32>, %arg13: tensor<2xf32>, %arg14: tensor<2xf32>, %arg15: tensor<2x3xf32>, %arg16: tensor<3xf32>, %arg17: tensor<f32>, %arg18: tensor<4x3xf32>, %arg19: tensor<4x2xf32>, %arg20: tensor<4x2xf32>, %arg21: tensor<4x2xf32>) -> tensor<f32>
// The N = 2 steps: a loop the autodiff pass unrolls; ĥ (%arg19) is the same
// for both steps, ξ (%arg20, %arg21) picked by step.
// CHECK:         %[[S2:.*]]:16 = scf.for %[[N:.*]] = %c0 to %c2 step %c1 iter_args(%[[P:.*]] = %arg2, {{.*}})
// CHECK-NEXT:      %[[XI:.*]] = scf.index_switch %[[N]]
// CHECK-NEXT:      case 0 {
// CHECK-NEXT:        scf.yield %arg20
// CHECK:           default {
// CHECK-NEXT:        scf.yield %arg21
// CHECK:           %[[S:.*]]:16 = func.call @dvl__unroll_step(%arg0, %arg1, %[[P]], {{.*}}, %arg18, %arg19, %[[XI]])
// CHECK-NEXT:      scf.yield %[[S]]#0, {{.*}}, %[[S]]#15
// CHECK-NEXT:    } {bism.checkpoint = "none"}
// CHECK-NEXT:    %[[GEN:.*]] = call @generator(%arg19, %[[S2]]#3, %[[S2]]#4)
// CHECK-NEXT:    %[[J:.*]] = call @dvl__upper(%arg0, %arg1, %arg18, %[[GEN]])
// CHECK-NEXT:    return %[[J]]
// Noise: ĥ, ξ per unrolled step, ξ per lower step.
// CHECK-LABEL: func.func @draw_noise(%arg0: tensor<2xi32>) -> (tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>)
// CHECK:         bism.key_split %arg0[0]
// CHECK-NEXT:    bism.random_normal
// CHECK-NEXT:    bism.key_split %arg0[1]
// CHECK-NEXT:    bism.random_normal
// CHECK-NEXT:    bism.key_split %arg0[2]
// CHECK-NEXT:    bism.random_normal
// CHECK-NEXT:    bism.key_split %arg0[3]
// CHECK-NEXT:    bism.random_normal
// CHECK-NEXT:    return
// The step: ∇θ of j_bi (v, ĥ, ξ^unroll_0, ξ^unroll_1), the same N steps as
// plain calls for φᴺ and J, the θ step, then G and the K step from φᴺ at
// θ' with the φ optimiser's moments and t_φ as they were (plain SGD
// unrolled steps leave them), ξ = lower0.xi.
// CHECK-LABEL: func.func @train_step_with_noise(
// CHECK-NOT:     bism.stop_gradient
// CHECK:         bism.grad @dvl__j_bi(%arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6, %arg11, {{.*}}, %arg20, %arg22, %arg23, %arg24, %arg25, %arg26) wrt [0, 1]
// CHECK-NEXT:    %[[U1:.*]]:16 = call @dvl__unroll_step(%arg0, %arg1, %arg2, {{.*}}, %arg22, %arg23, %arg24, %arg25)
// CHECK-NEXT:    %[[U2:.*]]:16 = call @dvl__unroll_step(%arg0, %arg1, %[[U1]]#0, {{.*}}, %arg23, %arg24, %arg26)
// CHECK-NEXT:    %[[XN:.*]] = call @generator(%arg24, %[[U2]]#3, %[[U2]]#4)
// CHECK-NEXT:    call @dvl__upper(%arg0, %arg1, %arg23, %[[XN]])
// CHECK:         call @dvl__lower(%{{.*}}, %{{.*}}, %[[U2]]#0, %[[U2]]#1, %[[U2]]#2, %[[U2]]#3, %[[U2]]#4, %arg23, %arg24, %arg27)
// CHECK-NEXT:    %[[K1:.*]]:16 = call @dvl__phi_step(%{{.*}}, %{{.*}}, %[[U2]]#0, %[[U2]]#1, %[[U2]]#2, %[[U2]]#3, %[[U2]]#4, %arg11, %arg12, %arg13, %arg14, %arg15, %arg16, %arg17, %arg18, %arg19, %arg20, %arg22, %arg23, %arg24, %arg27)
// CHECK-NEXT:    call @dvl__lower(%{{.*}}, %{{.*}}, %[[K1]]#0, %[[K1]]#1, %[[K1]]#2, %[[K1]]#3, %[[K1]]#4, %arg23, %arg24, %arg27)
// CHECK-LABEL: func.func @theta_gradient_with_noise(
// CHECK-SAME:    -> (tensor<3x2xf32>, tensor<2xf32>)
// CHECK-NEXT:    bism.grad @dvl__j_bi(%arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6, %arg11, {{.*}}, %arg22, %arg23, %arg24, %arg25, %arg26) wrt [0, 1]
// AD-NOT: bism.grad
// CPU-LABEL: llvm.func @train_step_with_noise(
// CPU-NOT: bism.

// SAME-NOT: @dvl__unroll_step
// SAME-LABEL: func.func private @dvl__j_bi(
// SAME:         scf.for
// SAME:           func.call @dvl__phi_step(%arg0, %arg1,
// SAME:         } {bism.checkpoint = "none"}
// SAME-LABEL: func.func @train_step_with_noise(
// SAME:         %[[U2:.*]]:16 = call @dvl__phi_step(%arg0, %arg1, %{{.*}}, %arg23, %arg24, %arg26)
// SAME:         call @dvl__phi_step(%{{.*}}, %{{.*}}, %[[U2]]#0, %[[U2]]#1, %[[U2]]#2, %[[U2]]#3, %[[U2]]#4, %[[U2]]#5, %[[U2]]#6, %[[U2]]#7, %[[U2]]#8, %[[U2]]#9, %[[U2]]#10, %[[U2]]#11, %[[U2]]#12, %[[U2]]#13, %[[U2]]#14, %[[U2]]#15, %arg23, %arg24, %arg27)

// SN-LABEL: func.func private @dvl__upper(
// SN:         call @energy__spectral_norm(
// SN-LABEL: func.func private @dvl__lower(
// SN:         call @energy__spectral_norm(
// SN-LABEL: func.func private @dvl__j_bi(
// SN:         call @dvl__unroll_step(

func.func private @energy(%v: tensor<4x3xf32>, %a: tensor<3x2xf32>, %c: tensor<2xf32>) -> tensor<4xf32> {
  %half = bism.constant dense<0.5> : tensor<4xf32>
  %sq = bism.square %v : tensor<4x3xf32>
  %q = bism.reduce_sum %sq axes [1] : tensor<4x3xf32> -> tensor<4xf32>
  %qh = bism.mul %q, %half : tensor<4xf32>
  %va = bism.matmul %v, %a : tensor<4x3xf32>, tensor<3x2xf32> -> tensor<4x2xf32>
  %cb = bism.broadcast %c : tensor<2xf32> to tensor<4x2xf32>
  %pre = bism.add %va, %cb : tensor<4x2xf32>
  %sp = bism.softplus %pre : tensor<4x2xf32>
  %s = bism.reduce_sum %sp axes [1] : tensor<4x2xf32> -> tensor<4xf32>
  %e = bism.sub %qh, %s : tensor<4xf32>
  return %e : tensor<4xf32>
}
func.func private @encoder(%v: tensor<4x3xf32>, %p: tensor<3x2xf32>, %b: tensor<2xf32>, %s: tensor<2xf32>) -> (tensor<4x2xf32>, tensor<4x2xf32>) {
  %vp = bism.matmul %v, %p : tensor<4x3xf32>, tensor<3x2xf32> -> tensor<4x2xf32>
  %bb = bism.broadcast %b : tensor<2xf32> to tensor<4x2xf32>
  %mu = bism.add %vp, %bb : tensor<4x2xf32>
  %ls = bism.broadcast %s : tensor<2xf32> to tensor<4x2xf32>
  return %mu, %ls : tensor<4x2xf32>, tensor<4x2xf32>
}
func.func private @generator(%h: tensor<4x2xf32>, %g: tensor<2x3xf32>, %o: tensor<3xf32>) -> tensor<4x3xf32> {
  %hg = bism.matmul %h, %g : tensor<4x2xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  %ob = bism.broadcast %o : tensor<3xf32> to tensor<4x3xf32>
  %pre = bism.add %hg, %ob : tensor<4x3xf32>
  %x = bism.tanh %pre : tensor<4x3xf32>
  return %x : tensor<4x3xf32>
}
bism.model @dvl free_energy @energy [@A, @c]
    generator @generator [@G, @o]
    posterior "gaussian" @encoder [@P, @b, @s]
    spec {method = "bidvl", inner_steps = 1, unroll_steps = 2, unroll_lr = 0.25, bidvl_basic_ratio = 0.5} {
  bism.param @A : tensor<3x2xf32> {group = "theta", init = "normal", std = 0.1}
  bism.param @c : tensor<2xf32> {group = "theta", init = "zeros"}
  bism.param @P : tensor<3x2xf32> {group = "phi", init = "normal", std = 0.1}
  bism.param @b : tensor<2xf32> {group = "phi", init = "zeros"}
  bism.param @s : tensor<2xf32> {group = "phi", init = "zeros"}
  bism.param @G : tensor<2x3xf32> {group = "phi", init = "normal", std = 0.1}
  bism.param @o : tensor<3xf32> {group = "phi", init = "zeros"}
}
