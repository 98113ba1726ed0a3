// The batch dimension, written `?`, set from the spec's batch_size or the
// pass option: function types, results, slices along it, and batch-shaped
// constants (broadcast rank-0 constants) folded back into constants.
// RUN: bism-opt %s --bism-specialize-batch | FileCheck %s --check-prefix=SPEC
// RUN: bism-opt %s --bism-specialize-batch=batch-size=3 | FileCheck %s --check-prefix=THREE
// Building the step sets it too:
// RUN: bism-opt %s --bism-build-train-step --split-input-file 2>&1 | FileCheck %s --check-prefix=STEP

// SPEC-LABEL: func.func private @energy
// SPEC-SAME: (%{{.*}}: tensor<5x2xf32>, %{{.*}}: tensor<5x3xf32>, %{{.*}}: tensor<2x3xf32>) -> tensor<5xf32>
// SPEC: %[[HALF:.*]] = bism.constant dense<5.000000e-01> : tensor<5xf32>
// SPEC-NOT: bism.broadcast
// SPEC: bism.matmul %{{.*}}, %{{.*}} : tensor<5x2xf32>, tensor<2x3xf32> -> tensor<5x3xf32>
// SPEC: bism.slice %{{.*}} starts [0, 1] limits [5, 3] strides [1, 1] : tensor<5x3xf32> to tensor<5x2xf32>
// SPEC: bism.reduce_sum %{{.*}} axes [1] : tensor<5x2xf32> -> tensor<5xf32>
// SPEC: bism.mul %{{.*}}, %[[HALF]] : tensor<5xf32>
// SPEC-LABEL: func.func private @logits
// SPEC-SAME: (%{{.*}}: tensor<5x2xf32>, %{{.*}}: tensor<2x3xf32>) -> tensor<5x3xf32>
// SPEC: bism.param @W : tensor<2x3xf32>

// THREE: (%{{.*}}: tensor<3x2xf32>, %{{.*}}: tensor<3x3xf32>, %{{.*}}: tensor<2x3xf32>) -> tensor<3xf32>
// THREE: bism.slice %{{.*}} starts [0, 1] limits [3, 3] strides [1, 1] : tensor<3x3xf32> to tensor<3x2xf32>

// STEP: func.func @train_step_with_noise
// STEP-SAME: tensor<5x2xf32>
func.func private @energy(%v: tensor<?x2xf32>, %h: tensor<?x3xf32>,
                          %w: tensor<2x3xf32>) -> tensor<?xf32> {
  %half_scalar = bism.constant dense<0.5> : tensor<f32>
  %half = bism.broadcast %half_scalar : tensor<f32> to tensor<?xf32>
  %vw = bism.matmul %v, %w : tensor<?x2xf32>, tensor<2x3xf32> -> tensor<?x3xf32>
  %p = bism.mul %vw, %h : tensor<?x3xf32>
  // The limit of the batch dimension is not read: the slice keeps it whole.
  %tail = bism.slice %p starts [0, 1] limits [1, 3] strides [1, 1] : tensor<?x3xf32> to tensor<?x2xf32>
  %s = bism.reduce_sum %tail axes [1] : tensor<?x2xf32> -> tensor<?xf32>
  %e = bism.mul %s, %half : tensor<?xf32>
  return %e : tensor<?xf32>
}
func.func private @logits(%v: tensor<?x2xf32>, %a: tensor<2x3xf32>) -> tensor<?x3xf32> {
  %l = bism.matmul %v, %a : tensor<?x2xf32>, tensor<2x3xf32> -> tensor<?x3xf32>
  return %l : tensor<?x3xf32>
}
bism.model @m energy @energy [@W] posterior "bernoulli" @logits [@A]
    spec {batch_size = 5} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
}
