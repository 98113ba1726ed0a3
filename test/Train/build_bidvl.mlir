// Method "bidvl": a marginal energy (free_energy), a Gaussian inference
// model (posterior) and a generator (generator clause); θ descends
// mean E(v) − mean E(sg(G(ĥ))), then K = 2 steps of φ on the lower level
// (docs/training.md "Method bidvl"). Batch 4, 3 visible, 2 latents; basic
// ratio 0.5.
// RUN: bism-opt %s --bism-build-train-step | FileCheck %s
// RUN: bism-opt %s --bism-build-train-step --bism-autodiff --canonicalize --cse | FileCheck %s --check-prefix=AD
// RUN: bism-opt %s --bism-build-train-step --bism-lower-cpu | FileCheck %s --check-prefix=CPU
// BiDVL has no score-matching objective: with objective = "ssm" its ĥ is
// still N(0, I) (it was drawn as the SSM projection, Rademacher).
// RUN: sed -e 's/bidvl_basic_ratio = 0.5}/bidvl_basic_ratio = 0.5, objective = "ssm"}/' %s | bism-opt --bism-build-train-step | FileCheck %s --check-prefix=SSM
// SSM-LABEL: func.func @draw_noise
// SSM-NOT: bism.random_rademacher
// SSM: return

// CHECK-LABEL: func.func private @dvl__upper(%arg0: tensor<3x2xf32>, %arg1: tensor<2xf32>, %arg2: tensor<4x3xf32>, %arg3: tensor<4x3xf32>) -> tensor<f32>
// CHECK:         %[[ED:.*]] = call @energy(%arg2, %arg0, %arg1)
// CHECK:         %[[MD:.*]] = bism.reduce_mean %[[ED]]
// CHECK:         %[[EG:.*]] = call @energy(%arg3, %arg0, %arg1)
// CHECK:         %[[MG:.*]] = bism.reduce_mean %[[EG]]
// CHECK:         bism.sub %[[MD]], %[[MG]]
// Lower level: θ (2), φ1 = encoder (3), φ2 = generator (2), v, ĥ, ξ.
// CHECK-LABEL: func.func private @dvl__lower(%arg0: tensor<3x2xf32>, %arg1: tensor<2xf32>, %arg2: tensor<3x2xf32>, %arg3: tensor<2xf32>, %arg4: tensor<2xf32>, %arg5: tensor<2x3xf32>, %arg6: tensor<3xf32>, %arg7: tensor<4x3xf32>, %arg8: tensor<4x2xf32>, %arg9: tensor<4x2xf32>) -> tensor<f32>
// The generator's samples and their energy.
// CHECK:         %[[GEN:.*]] = call @generator(%arg8, %arg5, %arg6)
// CHECK:         call @energy(%[[GEN]], %arg0, %arg1)
// Latent reconstruction through the frozen encoder: ‖μ(G(ĥ)) − ĥ‖²/(B·H).
// CHECK:         %[[P:.*]] = bism.stop_gradient %arg2
// CHECK:         %[[B:.*]] = bism.stop_gradient %arg3
// CHECK:         %[[S:.*]] = bism.stop_gradient %arg4
// CHECK:         %[[MUH:.*]]:2 = call @encoder(%[[GEN]], %[[P]], %[[B]], %[[S]])
// CHECK:         bism.sub %[[MUH]]#0, %arg8
// CHECK:         bism.constant dense<1.250000e-01> : tensor<f32>
// Data side: h = μ + e^{logσ} ξ, ‖G(h) − v‖² + KL, weighted by λ = 0.5.
// CHECK:         %[[Q:.*]]:2 = call @encoder(%arg7, %arg2, %arg3, %arg4)
// CHECK:         %[[SD:.*]] = bism.exp %[[Q]]#1
// CHECK:         %[[NOISE:.*]] = bism.mul %[[SD]], %arg9
// CHECK:         %[[H:.*]] = bism.add %[[Q]]#0, %[[NOISE]]
// CHECK:         %[[REC:.*]] = call @generator(%[[H]], %arg5, %arg6)
// CHECK:         bism.sub %[[REC]], %arg7
// CHECK:         bism.constant dense<5.000000e-01> : tensor<f32>
// CHECK-LABEL: func.func private @dvl__phi_step(
// CHECK:         bism.grad @dvl__lower({{.*}}) wrt [2, 3, 4, 5, 6]
// Noise: ĥ, then ξ for each of the 2 lower steps.
// CHECK-LABEL: func.func @draw_noise(%arg0: tensor<2xi32>) -> (tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>)
// CHECK-COUNT-3: bism.random_normal
// The step: θ first on the generator's (fixed) samples, then the φ steps
// at the new θ, G before and after with ξ_0.
// CHECK-LABEL: func.func @train_step_with_noise(
// CHECK:         %[[X:.*]] = call @generator(%arg24, %arg5, %arg6)
// CHECK:         %[[XS:.*]] = bism.stop_gradient %[[X]]
// CHECK:         bism.grad @dvl__upper(%arg0, %arg1, %arg23, %[[XS]]) wrt [0, 1]
// CHECK:         call @dvl__upper(%arg0, %arg1, %arg23, %[[XS]])
// CHECK:         call @dvl__lower({{.*}}, %arg23, %arg24, %arg25)
// CHECK:         call @dvl__phi_step({{.*}}, %arg23, %arg24, %arg25)
// CHECK:         call @dvl__phi_step({{.*}}, %arg23, %arg24, %arg26)
// CHECK:         call @dvl__lower({{.*}}, %arg23, %arg24, %arg25)
// CHECK-LABEL: func.func @theta_gradient_with_noise(
// CHECK-SAME:    -> (tensor<3x2xf32>, tensor<2xf32>)
// AD-NOT: bism.grad
// CPU-LABEL: llvm.func @train_step_with_noise(
// CPU-NOT: bism.

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
    spec {method = "bidvl", inner_steps = 2, bidvl_basic_ratio = 0.5} {
  bism.param @A : tensor<3x2xf32> {group = "theta", init = "normal", std = 0.1}
  bism.param @c : tensor<2xf32> {group = "theta", init = "zeros"}
  bism.param @P : tensor<3x2xf32> {group = "phi", init = "normal", std = 0.1}
  bism.param @b : tensor<2xf32> {group = "phi", init = "zeros"}
  bism.param @s : tensor<2xf32> {group = "phi", init = "zeros"}
  bism.param @G : tensor<2x3xf32> {group = "phi", init = "normal", std = 0.1}
  bism.param @o : tensor<3xf32> {group = "phi", init = "zeros"}
}
