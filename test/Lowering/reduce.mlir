// RUN: bism-opt %s --bism-lower-to-linalg | FileCheck %s

// Reductions: linalg.reduce (or a reduction linalg.generic) into the shape
// without the reduced axes, then tensor.expand_shape for keep_dims. f32 sums
// accumulate in f64 and are rounded to f32 once at the end.

// CHECK-DAG: #[[$ID1:map[0-9]*]] = affine_map<(d0) -> (d0)>
// CHECK-DAG: #[[$ID3:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[$KEEP0:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d0)>

// CHECK-LABEL: func.func @sum(
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f64
// CHECK: %[[INIT:.*]] = linalg.fill ins(%[[ZERO]] : f64) outs(%{{.*}} : tensor<4xf64>)
// CHECK: %[[R:.*]] = linalg.reduce ins(%arg0 : tensor<3x4x5xf32>) outs(%[[INIT]] : tensor<4xf64>) dimensions = [0, 2]
// CHECK-NEXT: (%[[IN:.*]]: f32, %[[ACC:.*]]: f64) {
// CHECK-NEXT: %[[W:.*]] = arith.extf %[[IN]] : f32 to f64
// CHECK-NEXT: arith.addf %[[ACC]], %[[W]] : f64
// CHECK: %[[N:.*]] = linalg.generic {{.*}} ins(%[[R]] : tensor<4xf64>) outs(%{{.*}} : tensor<4xf32>)
// CHECK: arith.truncf %{{.*}} : f64 to f32
// CHECK: return %[[N]]
func.func @sum(%x: tensor<3x4x5xf32>) -> tensor<4xf32> {
  %0 = bism.reduce_sum %x axes [2, 0] : tensor<3x4x5xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// Mean = sum / count, kept dimension restored by expand_shape.
// CHECK-LABEL: func.func @mean_keep(
// CHECK: %[[S:.*]] = linalg.reduce { arith.addf } ins(%arg0 : tensor<3x4xf64>) outs(%{{.*}} : tensor<4xf64>) dimensions = [0]
// CHECK: %[[M:.*]] = linalg.generic {indexing_maps = [#[[$ID1]], #[[$ID1]]], iterator_types = ["parallel"]} ins(%[[S]] : tensor<4xf64>)
// CHECK: %[[THREE:.*]] = arith.constant 3.000000e+00 : f64
// CHECK: arith.divf %in, %[[THREE]] : f64
// CHECK: %[[E:.*]] = tensor.expand_shape %[[M]] {{\[\[}}0, 1]] output_shape [1, 4] : tensor<4xf64> into tensor<1x4xf64>
// CHECK: return %[[E]]
func.func @mean_keep(%x: tensor<3x4xf64>) -> tensor<1x4xf64> {
  %0 = bism.reduce_mean %x axes [0] keep_dims : tensor<3x4xf64> -> tensor<1x4xf64>
  return %0 : tensor<1x4xf64>
}

// Max starts from -inf; reducing every axis gives rank 0.
// CHECK-LABEL: func.func @max_all(
// CHECK: %[[NINF:.*]] = arith.constant 0xFFF0000000000000 : f64
// CHECK: %[[INIT:.*]] = linalg.fill ins(%[[NINF]] : f64) outs(%{{.*}} : tensor<f64>)
// CHECK: %[[R:.*]] = linalg.reduce { arith.maximumf } ins(%arg0 : tensor<3x4xf64>) outs(%[[INIT]] : tensor<f64>) dimensions = [0, 1]
// CHECK: tensor.expand_shape %[[R]] []
func.func @max_all(%x: tensor<3x4xf64>) -> tensor<1x1xf64> {
  %0 = bism.reduce_max %x axes [0, 1] keep_dims : tensor<3x4xf64> -> tensor<1x1xf64>
  return %0 : tensor<1x1xf64>
}

// logsumexp = m + log(sum(exp(x - m))), m the max (0 where it is infinite, so
// rows of -inf give -inf and not NaN), broadcast back through the indexing map.
// CHECK-LABEL: func.func @logsumexp(
// CHECK: %[[MAX:.*]] = linalg.reduce { arith.maximumf } ins(%arg0 : tensor<3x4x5xf32>) outs(%{{.*}} : tensor<3xf32>) dimensions = [1, 2]
// CHECK: %[[SHIFT:.*]] = linalg.generic {{.*}} ins(%[[MAX]] : tensor<3xf32>)
// CHECK: math.absf
// CHECK: arith.cmpf oeq, %{{.*}}, %{{.*}} : f32
// CHECK: arith.select
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[$ID3]], #[[$KEEP0]], #[[$KEEP0]]], iterator_types = ["parallel", "reduction", "reduction"]}
// CHECK-SAME: ins(%arg0, %[[SHIFT]] : tensor<3x4x5xf32>, tensor<3xf32>)
// CHECK: %[[D:.*]] = arith.subf %in, %in_{{.*}} : f32
// CHECK: %[[E:.*]] = math.exp %[[D]] : f32
// CHECK: %[[EW:.*]] = arith.extf %[[E]] : f32 to f64
// CHECK: arith.addf %out, %[[EW]] : f64
// CHECK: %[[LSE:.*]] = linalg.generic {{.*}} ins(%[[SHIFT]], %[[SUM]] : tensor<3xf32>, tensor<3xf64>)
// CHECK: %[[L:.*]] = math.log %in_{{.*}} : f64
// CHECK: arith.addf %{{.*}}, %[[L]] : f64
// CHECK: %[[NARROW:.*]] = linalg.generic {{.*}} ins(%[[LSE]] : tensor<3xf64>)
// CHECK: arith.truncf
// CHECK: tensor.expand_shape %[[NARROW]] {{\[\[}}0, 1, 2]] output_shape [3, 1, 1]
func.func @logsumexp(%x: tensor<3x4x5xf32>) -> tensor<3x1x1xf32> {
  %0 = bism.reduce_logsumexp %x axes [2, 1] keep_dims : tensor<3x4x5xf32> -> tensor<3x1x1xf32>
  return %0 : tensor<3x1x1xf32>
}
