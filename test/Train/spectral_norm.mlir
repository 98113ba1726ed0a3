// spec field spectral_norm: the energy (here BiDVL's marginal energy, the
// free_energy clause) is wrapped so that it sees A / σ(A), σ = uᵀ A v with
// u, v from spectral_norm_iterations (default 10) power iterations on
// stop_gradient(A), in an scf.for; the model's clause names the wrapper,
// so the step (and bism-run's evaluations) use it.
// RUN: bism-opt %s --bism-build-train-step | FileCheck %s
// RUN: bism-opt %s --bism-build-train-step --bism-lower-cpu | FileCheck %s --check-prefix=CPU

// CHECK-LABEL: func.func private @energy__spectral_norm(%arg0: tensor<4x3xf32>, %arg1: tensor<3x2xf32>, %arg2: tensor<2xf32>) -> tensor<4xf32>
// CHECK:         %[[HELD:.*]] = bism.stop_gradient %arg1 : tensor<3x2xf32>
// CHECK:         %[[TEN:.*]] = arith.constant 10 : index
// CHECK:         %[[U0:.*]] = bism.constant dense<0.577350259> : tensor<1x3xf32>
// CHECK:         %[[LOOP:.*]]:2 = scf.for %{{.*}} = %{{.*}} to %[[TEN]] step %{{.*}} iter_args(%[[U:.*]] = %[[U0]], %{{.*}} = %{{.*}}) -> (tensor<1x3xf32>, tensor<1x2xf32>) {
// CHECK:           %[[UV:.*]] = bism.matmul %[[U]], %[[HELD]] : tensor<1x3xf32>, tensor<3x2xf32> -> tensor<1x2xf32>
// CHECK:           %[[V:.*]] = bism.div %[[UV]],
// CHECK:           %[[VU:.*]] = bism.matmul %[[V]], %[[HELD]] {transpose_rhs}
// CHECK:           %[[UN:.*]] = bism.div %[[VU]],
// CHECK:           scf.yield %[[UN]], %[[V]]
// CHECK:         %[[UF:.*]] = bism.stop_gradient %[[LOOP]]#0
// CHECK:         %[[VF:.*]] = bism.stop_gradient %[[LOOP]]#1
// σ = uᵀ A v through A itself.
// CHECK:         %[[AV:.*]] = bism.matmul %[[VF]], %arg1 {transpose_rhs}
// CHECK:         %[[P:.*]] = bism.mul %[[UF]], %[[AV]]
// CHECK:         %[[SIGMA:.*]] = bism.reduce_sum %[[P]] axes [0, 1]
// CHECK:         %[[SB:.*]] = bism.broadcast %[[SIGMA]] : tensor<f32> to tensor<3x2xf32>
// CHECK:         %[[AN:.*]] = bism.div %arg1, %[[SB]]
// CHECK:         call @energy(%arg0, %[[AN]], %arg2)
// The step's energy is the wrapper.
// CHECK-LABEL: func.func private @dvl__upper(
// CHECK:         call @energy__spectral_norm(
// CHECK-NOT:     call @energy(
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
    spec {method = "bidvl", bidvl_basic_ratio = 0.5, spectral_norm = ["A"]} {
  bism.param @A : tensor<3x2xf32> {group = "theta", init = "normal", std = 0.1}
  bism.param @c : tensor<2xf32> {group = "theta", init = "zeros"}
  bism.param @P : tensor<3x2xf32> {group = "phi", init = "normal", std = 0.1}
  bism.param @b : tensor<2xf32> {group = "phi", init = "zeros"}
  bism.param @s : tensor<2xf32> {group = "phi", init = "zeros"}
  bism.param @G : tensor<2x3xf32> {group = "phi", init = "normal", std = 0.1}
  bism.param @o : tensor<3xf32> {group = "phi", init = "zeros"}
}
