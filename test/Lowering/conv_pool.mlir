// RUN: bism-opt %s --bism-lower-to-linalg | FileCheck %s

// conv2d: zero padding, an im2col gather [G, C/G*KH*KW, N*OH*OW], one
// batch_matmul (batch = groups) with the filter as [G, O/G, C/G*KH*KW], and the
// product [G, O/G, N, OH, OW] transposed back to NCHW.

// Gather map (g, c, kh, kw, n, oh, ow) -> (n, g*C/G + c, oh*sh + kh*dh, ow*sw + kw*dw)
// with C/G = 2, strides [2, 1], dilations [1, 2]:
// CHECK-DAG: #[[$GATHER:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d4, d0 * 2 + d1, d5 * 2 + d2, d6 + d3 * 2)>
// CHECK-DAG: #[[$ID7:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3, d4, d5, d6)>
// Pool window (n, c, oh, ow, kh, kw) -> (n, c, oh*2 + kh, ow*2 + kw):
// CHECK-DAG: #[[$WIN_IN:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 * 2 + d4, d3 * 2 + d5)>
// CHECK-DAG: #[[$WIN_K:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d4, d5)>
// CHECK-DAG: #[[$WIN_OUT:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[$ID4:map[0-9]*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[$HW:map[0-9]*]] = affine_map<(d0, d1, d2, d3) -> (d2, d3)>

// CHECK-LABEL: func.func @conv(
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[PADINIT:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.*}} : tensor<2x4x8x8xf32>)
// CHECK: %[[PADDED:.*]] = tensor.insert_slice %arg0 into %[[PADINIT]][0, 0, 1, 0] [2, 4, 7, 7] [1, 1, 1, 1]
// CHECK: %[[COLS:.*]] = linalg.generic {indexing_maps = [#[[$GATHER]], #[[$ID7]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]}
// CHECK-SAME: ins(%[[PADDED]] : tensor<2x4x8x8xf32>) outs(%{{.*}} : tensor<2x2x3x3x2x3x4xf32>)
// CHECK: %[[COLS3:.*]] = tensor.collapse_shape %[[COLS]] {{\[\[}}0], [1, 2, 3], [4, 5, 6]] : tensor<2x2x3x3x2x3x4xf32> into tensor<2x18x24xf32>
// CHECK: %[[F2:.*]] = tensor.collapse_shape %arg1 {{\[\[}}0], [1, 2, 3]] : tensor<6x2x3x3xf32> into tensor<6x18xf32>
// CHECK: %[[F3:.*]] = tensor.expand_shape %[[F2]] {{\[\[}}0, 1], [2]] output_shape [2, 3, 18] : tensor<6x18xf32> into tensor<2x3x18xf32>
// CHECK: %[[PROD:.*]] = linalg.batch_matmul ins(%[[F3]], %[[COLS3]] : tensor<2x3x18xf32>, tensor<2x18x24xf32>) outs(%{{.*}} : tensor<2x3x24xf32>)
// CHECK: %[[PROD5:.*]] = tensor.expand_shape %[[PROD]] {{\[\[}}0], [1], [2, 3, 4]] output_shape [2, 3, 2, 3, 4]
// CHECK: %[[T:.*]] = linalg.transpose ins(%[[PROD5]] : tensor<2x3x2x3x4xf32>) outs(%{{.*}} : tensor<2x2x3x3x4xf32>) permutation = [2, 0, 1, 3, 4]
// CHECK: %[[R:.*]] = tensor.collapse_shape %[[T]] {{\[\[}}0], [1, 2], [3], [4]] : tensor<2x2x3x3x4xf32> into tensor<2x6x3x4xf32>
// CHECK: return %[[R]]
func.func @conv(%x: tensor<2x4x7x7xf32>, %w: tensor<6x2x3x3xf32>) -> tensor<2x6x3x4xf32> {
  %0 = bism.conv2d %x, %w {strides = array<i64: 2, 1>, padding = array<i64: 1, 0, 0, 1>, dilations = array<i64: 1, 2>, groups = 2} : tensor<2x4x7x7xf32>, tensor<6x2x3x3xf32> -> tensor<2x6x3x4xf32>
  return %0 : tensor<2x6x3x4xf32>
}

// Without padding the input is gathered directly.
// CHECK-LABEL: func.func @conv_unpadded(
// CHECK-NOT: tensor.insert_slice
// CHECK: linalg.generic {{.*}} ins(%arg0 : tensor<1x3x5x5xf64>)
// CHECK: linalg.batch_matmul {{.*}} -> tensor<1x2x9xf64>
func.func @conv_unpadded(%x: tensor<1x3x5x5xf64>, %w: tensor<2x3x3x3xf64>) -> tensor<1x2x3x3xf64> {
  %0 = bism.conv2d %x, %w : tensor<1x3x5x5xf64>, tensor<2x3x3x3xf64> -> tensor<1x2x3x3xf64>
  return %0 : tensor<1x2x3x3xf64>
}

// Max pooling pads with -inf and reduces over a [KH, KW] window operand.
// CHECK-LABEL: func.func @max_pool(
// CHECK: %[[NINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: %[[PADINIT:.*]] = linalg.fill ins(%[[NINF]] : f32) outs(%{{.*}} : tensor<2x4x9x9xf32>)
// CHECK: %[[PADDED:.*]] = tensor.insert_slice %arg0 into %[[PADINIT]][0, 0, 1, 1] [2, 4, 7, 7] [1, 1, 1, 1]
// CHECK: %[[WINDOW:.*]] = tensor.empty() : tensor<3x3xf32>
// CHECK: %[[INIT:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<2x4x4x4xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[$WIN_IN]], #[[$WIN_K]], #[[$WIN_OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
// CHECK-SAME: ins(%[[PADDED]], %[[WINDOW]] : tensor<2x4x9x9xf32>, tensor<3x3xf32>) outs(%[[INIT]] : tensor<2x4x4x4xf32>)
// CHECK: arith.maximumf %out, %in : f32
func.func @max_pool(%x: tensor<2x4x7x7xf32>) -> tensor<2x4x4x4xf32> {
  %0 = bism.max_pool2d %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>} : tensor<2x4x7x7xf32> -> tensor<2x4x4x4xf32>
  return %0 : tensor<2x4x4x4xf32>
}

// Average pooling: window sums divided by the per-window count of real
// (non-padding) elements, an [OH, OW] constant.
// CHECK-LABEL: func.func @avg_pool(
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[$WIN_IN]], #[[$WIN_K]], #[[$WIN_OUT]]]
// CHECK: arith.addf %out, %in : f32
// CHECK: %[[COUNTS:.*]] = arith.constant dense<{{\[\[}}4.000000e+00, 6.000000e+00, 6.000000e+00, 4.000000e+00], [6.000000e+00, 9.000000e+00, 9.000000e+00, 6.000000e+00], [6.000000e+00, 9.000000e+00, 9.000000e+00, 6.000000e+00], [4.000000e+00, 6.000000e+00, 6.000000e+00, 4.000000e+00]]> : tensor<4x4xf32>
// CHECK: linalg.generic {indexing_maps = [#[[$ID4]], #[[$HW]], #[[$ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
// CHECK-SAME: ins(%[[SUM]], %[[COUNTS]] : tensor<2x4x4x4xf32>, tensor<4x4xf32>)
// CHECK: arith.divf %in, %in_{{.*}} : f32
func.func @avg_pool(%x: tensor<2x4x7x7xf32>) -> tensor<2x4x4x4xf32> {
  %0 = bism.avg_pool2d %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>} : tensor<2x4x7x7xf32> -> tensor<2x4x4x4xf32>
  return %0 : tensor<2x4x4x4xf32>
}

// count_include_pad: every window counts KH*KW.
// CHECK-LABEL: func.func @avg_pool_include_pad(
// CHECK: linalg.generic {{.*}}["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]
// CHECK: arith.addf
// CHECK: linalg.generic {indexing_maps = [#[[$ID4]], #[[$ID4]]]
// CHECK: %[[NINE:.*]] = arith.constant 9.000000e+00 : f64
// CHECK: arith.divf %in, %[[NINE]] : f64
func.func @avg_pool_include_pad(%x: tensor<1x2x5x5xf64>) -> tensor<1x2x3x3xf64> {
  %0 = bism.avg_pool2d %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, count_include_pad} : tensor<1x2x5x5xf64> -> tensor<1x2x3x3xf64>
  return %0 : tensor<1x2x3x3xf64>
}
