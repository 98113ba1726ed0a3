// RUN: bism-opt %s --bism-lower-to-linalg | FileCheck %s

// CHECK-DAG: #[[$BCAST:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d1, 0)>
// CHECK-DAG: #[[$ID3:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[$SCALAR:map[0-9]*]] = affine_map<(d0, d1) -> ()>
// CHECK-DAG: #[[$ID2:map[0-9]*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[$BCAST_MID:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d0, 0, d2)>

// Broadcast is right-aligned: operand [3, 1] reads (d1, 0) of [2, 3, 4].
// CHECK-LABEL: func.func @broadcast(
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<2x3x4xf32>
// CHECK: linalg.generic {indexing_maps = [#[[$BCAST]], #[[$ID3]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%arg0 : tensor<3x1xf32>) outs(%[[INIT]] : tensor<2x3x4xf32>)
// CHECK-NEXT: ^bb0(%in: f32, %out: f32):
// CHECK-NEXT: linalg.yield %in : f32
func.func @broadcast(%x: tensor<3x1xf32>) -> tensor<2x3x4xf32> {
  %0 = bism.broadcast %x : tensor<3x1xf32> to tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// CHECK-LABEL: func.func @broadcast_scalar(
// CHECK: linalg.generic {indexing_maps = [#[[$SCALAR]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]} ins(%arg0 : tensor<f64>)
func.func @broadcast_scalar(%s: tensor<f64>) -> tensor<2x3xf64> {
  %0 = bism.broadcast %s : tensor<f64> to tensor<2x3xf64>
  return %0 : tensor<2x3xf64>
}

// Any element type (i1 masks too).
// CHECK-LABEL: func.func @broadcast_i1(
// CHECK: linalg.generic {indexing_maps = [#[[$BCAST_MID]], #[[$ID3]]], {{.*}} ins(%arg0 : tensor<2x1x4xi1>) outs(%{{.*}} : tensor<2x5x4xi1>)
func.func @broadcast_i1(%b: tensor<2x1x4xi1>) -> tensor<2x5x4xi1> {
  %0 = bism.broadcast %b : tensor<2x1x4xi1> to tensor<2x5x4xi1>
  return %0 : tensor<2x5x4xi1>
}

// Reshape goes through a flat 1-D tensor; rank 0 uses the empty reassociation.
// CHECK-LABEL: func.func @reshape(
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %arg0 {{\[\[}}0, 1, 2]] : tensor<2x3x4xf32> into tensor<24xf32>
// CHECK: %[[R:.*]] = tensor.expand_shape %[[FLAT]] {{\[\[}}0, 1]] output_shape [4, 6] : tensor<24xf32> into tensor<4x6xf32>
// CHECK: return %[[R]]
func.func @reshape(%y: tensor<2x3x4xf32>) -> tensor<4x6xf32> {
  %0 = bism.reshape %y : tensor<2x3x4xf32> to tensor<4x6xf32>
  return %0 : tensor<4x6xf32>
}

// CHECK-LABEL: func.func @reshape_rank0(
// CHECK: %[[ONE:.*]] = tensor.expand_shape %arg0 [] output_shape [1] : tensor<f32> into tensor<1xf32>
// CHECK: tensor.expand_shape %[[ONE]] {{\[\[}}0, 1]] output_shape [1, 1] : tensor<1xf32> into tensor<1x1xf32>
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %arg1 {{\[\[}}0, 1]] : tensor<1x1xf64> into tensor<1xf64>
// CHECK: tensor.collapse_shape %[[FLAT]] [] : tensor<1xf64> into tensor<f64>
func.func @reshape_rank0(%s: tensor<f32>, %t: tensor<1x1xf64>) -> (tensor<1x1xf32>, tensor<f64>) {
  %0 = bism.reshape %s : tensor<f32> to tensor<1x1xf32>
  %1 = bism.reshape %t : tensor<1x1xf64> to tensor<f64>
  return %0, %1 : tensor<1x1xf32>, tensor<f64>
}

// CHECK-LABEL: func.func @transpose(
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<4x2x3xf32>
// CHECK: linalg.transpose ins(%arg0 : tensor<2x3x4xf32>) outs(%[[INIT]] : tensor<4x2x3xf32>) permutation = [2, 0, 1]
func.func @transpose(%y: tensor<2x3x4xf32>) -> tensor<4x2x3xf32> {
  %0 = bism.transpose %y [2, 0, 1] : tensor<2x3x4xf32> to tensor<4x2x3xf32>
  return %0 : tensor<4x2x3xf32>
}

// CHECK-LABEL: func.func @slice(
// CHECK: tensor.extract_slice %arg0[1, 0, 1] [1, 2, 2] [1, 2, 2] : tensor<2x3x4xf32> to tensor<1x2x2xf32>
func.func @slice(%y: tensor<2x3x4xf32>) -> tensor<1x2x2xf32> {
  %0 = bism.slice %y starts [1, 0, 1] limits [2, 3, 4] strides [1, 2, 2] : tensor<2x3x4xf32> to tensor<1x2x2xf32>
  return %0 : tensor<1x2x2xf32>
}

// Concat: insert_slice of each input at its running offset.
// CHECK-LABEL: func.func @concat(
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<2x7x4xf64>
// CHECK: %[[A:.*]] = tensor.insert_slice %arg0 into %[[INIT]][0, 0, 0] [2, 3, 4] [1, 1, 1]
// CHECK: %[[B:.*]] = tensor.insert_slice %arg1 into %[[A]][0, 3, 0] [2, 1, 4] [1, 1, 1]
// CHECK: %[[C:.*]] = tensor.insert_slice %arg0 into %[[B]][0, 4, 0] [2, 3, 4] [1, 1, 1]
// CHECK-NOT: tensor.insert_slice
func.func @concat(%a: tensor<2x3x4xf64>, %b: tensor<2x1x4xf64>) -> tensor<2x7x4xf64> {
  %0 = bism.concat %a, %b, %a axis 1 : tensor<2x3x4xf64>, tensor<2x1x4xf64>, tensor<2x3x4xf64> -> tensor<2x7x4xf64>
  return %0 : tensor<2x7x4xf64>
}
