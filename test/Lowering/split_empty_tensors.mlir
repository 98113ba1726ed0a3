// RUN: bism-opt %s --bism-split-empty-tensors | FileCheck %s
//
// CSE leaves one tensor.empty (and one reshape of it) as the destination of
// every kernel of its shape; each use gets its own copy of the chain, made
// next to it, so one-shot bufferization sees independent destinations.

#map = affine_map<(d0) -> (d0)>
// CHECK-LABEL: func.func @chain
func.func @chain(%x: tensor<8x8xf32>, %w: tensor<8x8xf32>) -> tensor<64xf32> {
  %cst = arith.constant 0.0 : f32
  %empty = tensor.empty() : tensor<8x8xf32>
  // CHECK: %[[E0:.*]] = tensor.empty() : tensor<8x8xf32>
  // CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[E0]] : tensor<8x8xf32>)
  %f0 = linalg.fill ins(%cst : f32) outs(%empty : tensor<8x8xf32>) -> tensor<8x8xf32>
  %m0 = linalg.matmul ins(%x, %w : tensor<8x8xf32>, tensor<8x8xf32>) outs(%f0 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %flat = tensor.collapse_shape %empty [[0, 1]] : tensor<8x8xf32> into tensor<64xf32>
  %m0flat = tensor.collapse_shape %m0 [[0, 1]] : tensor<8x8xf32> into tensor<64xf32>
  // The first reader of the reshape keeps it.
  // CHECK: %[[FLAT:.*]] = tensor.collapse_shape %[[E0]]
  // CHECK: linalg.generic {{.*}} outs(%[[FLAT]] : tensor<64xf32>)
  %t0 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel"]} ins(%m0flat : tensor<64xf32>) outs(%flat : tensor<64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %e = math.tanh %in : f32
    linalg.yield %e : f32
  } -> tensor<64xf32>
  // A second fill of the same empty tensor: a new one next to it.
  // CHECK: %[[E1:.*]] = tensor.empty() : tensor<8x8xf32>
  // CHECK-NEXT: linalg.fill ins(%{{.*}} : f32) outs(%[[E1]] : tensor<8x8xf32>)
  %f1 = linalg.fill ins(%cst : f32) outs(%empty : tensor<8x8xf32>) -> tensor<8x8xf32>
  %m1 = linalg.matmul ins(%x, %w : tensor<8x8xf32>, tensor<8x8xf32>) outs(%f1 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %m1flat = tensor.collapse_shape %m1 [[0, 1]] : tensor<8x8xf32> into tensor<64xf32>
  // A second reader of the reshape: the empty tensor and the reshape again.
  // CHECK: %[[E2:.*]] = tensor.empty() : tensor<8x8xf32>
  // CHECK-NEXT: %[[FLAT2:.*]] = tensor.collapse_shape %[[E2]]
  // CHECK-NEXT: linalg.generic {{.*}} outs(%[[FLAT2]] : tensor<64xf32>)
  %t1 = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel"]} ins(%m1flat, %t0 : tensor<64xf32>, tensor<64xf32>) outs(%flat : tensor<64xf32>) {
  ^bb0(%in: f32, %in2: f32, %out: f32):
    %e = arith.addf %in, %in2 : f32
    linalg.yield %e : f32
  } -> tensor<64xf32>
  return %t1 : tensor<64xf32>
}
