// RUN: bism-opt %s --bism-lower-to-linalg | FileCheck %s

// bism.matmul -> linalg.matmul / linalg.batch_matmul into a zero-filled
// tensor; transposes are indexing maps, never a materialised transpose.

// CHECK-DAG: #[[$LHS_T:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d2, d0)>
// CHECK-DAG: #[[$RHS:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-DAG: #[[$RHS_T:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[$OUT:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[$BLHS:map[0-9]*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[$BRHS_T:map[0-9]*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>
// CHECK-DAG: #[[$BLHS_T:map[0-9]*]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d1)>
// CHECK-DAG: #[[$BOUT:map[0-9]*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>

// CHECK-LABEL: func.func @plain(
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[EMPTY:.*]] = tensor.empty() : tensor<4x6xf32>
// CHECK: %[[INIT:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[EMPTY]] : tensor<4x6xf32>)
// CHECK: linalg.matmul ins(%arg0, %arg1 : tensor<4x5xf32>, tensor<5x6xf32>) outs(%[[INIT]] : tensor<4x6xf32>)
// CHECK-NOT: linalg.transpose
func.func @plain(%a: tensor<4x5xf32>, %b: tensor<5x6xf32>) -> tensor<4x6xf32> {
  %0 = bism.matmul %a, %b : tensor<4x5xf32>, tensor<5x6xf32> -> tensor<4x6xf32>
  return %0 : tensor<4x6xf32>
}

// CHECK-LABEL: func.func @transpose_lhs(
// CHECK: linalg.matmul indexing_maps = [#[[$LHS_T]], #[[$RHS]], #[[$OUT]]] ins(%arg0, %arg1 : tensor<5x4xf64>, tensor<5x6xf64>)
// CHECK-NOT: linalg.transpose
func.func @transpose_lhs(%a: tensor<5x4xf64>, %b: tensor<5x6xf64>) -> tensor<4x6xf64> {
  %0 = bism.matmul %a, %b {transpose_lhs} : tensor<5x4xf64>, tensor<5x6xf64> -> tensor<4x6xf64>
  return %0 : tensor<4x6xf64>
}

// CHECK-LABEL: func.func @transpose_both(
// CHECK: linalg.matmul indexing_maps = [#[[$LHS_T]], #[[$RHS_T]], #[[$OUT]]] ins(%arg0, %arg1 : tensor<5x4xf32>, tensor<6x5xf32>)
// CHECK-NOT: linalg.transpose
func.func @transpose_both(%a: tensor<5x4xf32>, %b: tensor<6x5xf32>) -> tensor<4x6xf32> {
  %0 = bism.matmul %a, %b {transpose_lhs, transpose_rhs} : tensor<5x4xf32>, tensor<6x5xf32> -> tensor<4x6xf32>
  return %0 : tensor<4x6xf32>
}

// Rank 3: one batch dimension, batch_matmul directly.
// CHECK-LABEL: func.func @batch3(
// CHECK-NOT: tensor.collapse_shape
// CHECK: %[[INIT:.*]] = linalg.fill {{.*}} -> tensor<3x4x6xf32>
// CHECK: linalg.batch_matmul indexing_maps = [#[[$BLHS_T]], #[[$BRHS_T]], #[[$BOUT]]] ins(%arg0, %arg1 : tensor<3x5x4xf32>, tensor<3x6x5xf32>) outs(%[[INIT]] : tensor<3x4x6xf32>)
func.func @batch3(%a: tensor<3x5x4xf32>, %b: tensor<3x6x5xf32>) -> tensor<3x4x6xf32> {
  %0 = bism.matmul %a, %b {transpose_lhs, transpose_rhs} : tensor<3x5x4xf32>, tensor<3x6x5xf32> -> tensor<3x4x6xf32>
  return %0 : tensor<3x4x6xf32>
}

// Rank 4: the batch dimensions fold into one and unfold afterwards.
// CHECK-LABEL: func.func @batch4(
// CHECK: %[[L:.*]] = tensor.collapse_shape %arg0 {{\[\[}}0, 1], [2], [3]] : tensor<2x3x4x5xf64> into tensor<6x4x5xf64>
// CHECK: %[[R:.*]] = tensor.collapse_shape %arg1 {{\[\[}}0, 1], [2], [3]] : tensor<2x3x6x5xf64> into tensor<6x6x5xf64>
// CHECK: %[[P:.*]] = linalg.batch_matmul indexing_maps = [#[[$BLHS]], #[[$BRHS_T]], #[[$BOUT]]] ins(%[[L]], %[[R]] : tensor<6x4x5xf64>, tensor<6x6x5xf64>)
// CHECK: %[[E:.*]] = tensor.expand_shape %[[P]] {{\[\[}}0, 1], [2], [3]] output_shape [2, 3, 4, 6] : tensor<6x4x6xf64> into tensor<2x3x4x6xf64>
// CHECK: return %[[E]]
func.func @batch4(%c: tensor<2x3x4x5xf64>, %d: tensor<2x3x6x5xf64>) -> tensor<2x3x4x6xf64> {
  %0 = bism.matmul %c, %d {transpose_rhs} : tensor<2x3x4x5xf64>, tensor<2x3x6x5xf64> -> tensor<2x3x4x6xf64>
  return %0 : tensor<2x3x4x6xf64>
}
