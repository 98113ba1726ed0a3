// K = 0 and N = 0 (J at the current phi, no phi update), SGD for both
// levels; and two models in one module (public names get the model prefix).
// RUN: bism-opt %s --split-input-file --bism-build-train-step | FileCheck %s
// RUN: bism-opt %s --split-input-file --bism-build-train-step --bism-autodiff --canonicalize --cse | FileCheck %s --check-prefix=AD

func.func @energy(%v: tensor<2x2xf32>, %h: tensor<2x3xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %vw = bism.matmul %v, %w : tensor<2x2xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
  %p = bism.mul %vw, %h : tensor<2x3xf32>
  %s = bism.reduce_sum %p axes [1] : tensor<2x3xf32> -> tensor<2xf32>
  %v2 = bism.square %v : tensor<2x2xf32>
  %q = bism.reduce_sum %v2 axes [1] : tensor<2x2xf32> -> tensor<2xf32>
  %e = bism.sub %q, %s : tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func @logits(%v: tensor<2x2xf32>, %a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %l = bism.matmul %v, %a : tensor<2x2xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
  return %l : tensor<2x3xf32>
}
bism.model @m energy @energy [@W] posterior "bernoulli" @logits [@A]
    spec {inner_steps = 0, unroll_steps = 0, optimizer_theta = "sgd", optimizer_phi = "sgd"} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
}

// CHECK-LABEL: func.func private @m__j_bi(
// CHECK-SAME:    %arg0: tensor<2x3xf32>, %arg1: tensor<2x3xf32>, %arg2: tensor<2x3xf32>, %arg3: tensor<2x3xf32>, %arg4: tensor<f32>, %arg5: tensor<2x2xf32>, %arg6: tensor<2x2xf32>, %arg7: tensor<2x3xf32>, %arg8: tensor<2x3xf32>)
// CHECK-NOT:     call @m__phi_step
// CHECK:         %[[J:.*]] = call @m__upper(%arg0, %arg1, %arg5, %arg6, %arg7, %arg8)
// CHECK-NEXT:    return %[[J]]
// CHECK-LABEL: func.func @draw_noise(
// CHECK:         bism.random_normal {{.*}} : tensor<2x2xf32>
// CHECK-COUNT-2: bism.random_gumbel {{.*}} : tensor<2x3xf32>
// CHECK-NOT:     bism.random
// CHECK-LABEL: func.func @train_step_with_noise(
// CHECK-NOT:     call @m__phi_step
// CHECK:         %[[G:.*]] = bism.grad @m__j_bi({{.*}}) wrt [0]
// CHECK:         %[[W:.*]] = bism.sub %arg0,
// The phi state passes through unchanged; t_theta counts the SGD step.
// CHECK:         return %[[W]], %arg1, %arg2, %arg3, %arg4, %arg5, %{{.*}}, %arg7,
// CHECK-LABEL: func.func @train_step(

// AD-NOT: bism.grad
// AD: func.func @train_step(

// -----

func.func @energy(%v: tensor<2x2xf32>, %h: tensor<2x3xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %vw = bism.matmul %v, %w : tensor<2x2xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
  %p = bism.mul %vw, %h : tensor<2x3xf32>
  %s = bism.reduce_sum %p axes [1] : tensor<2x3xf32> -> tensor<2xf32>
  %v2 = bism.square %v : tensor<2x2xf32>
  %q = bism.reduce_sum %v2 axes [1] : tensor<2x2xf32> -> tensor<2xf32>
  %e = bism.sub %q, %s : tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func @logits(%v: tensor<2x2xf32>, %a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %l = bism.matmul %v, %a : tensor<2x2xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
  return %l : tensor<2x3xf32>
}
bism.model @first energy @energy [@W] posterior "bernoulli" @logits [@A]
    spec {inner_steps = 1, unroll_steps = 1} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
}
bism.model @second energy @energy [@W] posterior "bernoulli" @logits [@A]
    spec {objective = "ssm", inner_steps = 2, unroll_steps = 3} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
}

// CHECK-NOT: func.func @train_step(
// CHECK-DAG: func.func @first__draw_noise(
// CHECK-DAG: func.func @first__train_step_with_noise(
// CHECK-DAG: func.func @first__train_step(
// CHECK-DAG: func.func @second__draw_noise(
// CHECK-DAG: func.func @second__train_step_with_noise(
// CHECK-DAG: func.func @second__train_step(
// CHECK-DAG: func.func private @second__j_bi(
// CHECK-NOT: func.func @train_step(

// AD-NOT: bism.grad
// AD-NOT: bism.hvp
// AD: func.func @second__train_step(
