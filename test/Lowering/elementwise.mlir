// RUN: bism-opt %s --bism-lower-to-linalg | FileCheck %s

// Elementwise ops become one parallel linalg.generic each, with the scalar
// computation in the body.

// CHECK-DAG: #[[$ID2:map[0-9]*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[$ID1:map[0-9]*]] = affine_map<(d0) -> (d0)>

// CHECK-LABEL: func.func @neg(
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<2x3xf32>
// CHECK: linalg.generic {indexing_maps = [#[[$ID2]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%arg0 : tensor<2x3xf32>) outs(%[[INIT]] : tensor<2x3xf32>)
// CHECK: arith.negf %in
func.func @neg(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = bism.neg %a : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// CHECK-LABEL: func.func @exp(
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<2x3xf32>
// CHECK: linalg.generic {indexing_maps = [#[[$ID2]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%arg0 : tensor<2x3xf32>) outs(%[[INIT]] : tensor<2x3xf32>)
// CHECK: math.exp %in
func.func @exp(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = bism.exp %a : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// CHECK-LABEL: func.func @log(
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<2x3xf32>
// CHECK: linalg.generic {indexing_maps = [#[[$ID2]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%arg0 : tensor<2x3xf32>) outs(%[[INIT]] : tensor<2x3xf32>)
// CHECK: math.log %in
func.func @log(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = bism.log %a : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// CHECK-LABEL: func.func @log1p(
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<2x3xf32>
// CHECK: linalg.generic {indexing_maps = [#[[$ID2]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%arg0 : tensor<2x3xf32>) outs(%[[INIT]] : tensor<2x3xf32>)
// CHECK: math.log1p %in
func.func @log1p(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = bism.log1p %a : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// CHECK-LABEL: func.func @sqrt(
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<2x3xf32>
// CHECK: linalg.generic {indexing_maps = [#[[$ID2]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%arg0 : tensor<2x3xf32>) outs(%[[INIT]] : tensor<2x3xf32>)
// CHECK: math.sqrt %in
func.func @sqrt(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = bism.sqrt %a : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// CHECK-LABEL: func.func @square(
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<2x3xf32>
// CHECK: linalg.generic {indexing_maps = [#[[$ID2]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%arg0 : tensor<2x3xf32>) outs(%[[INIT]] : tensor<2x3xf32>)
// CHECK: arith.mulf %in, %in
func.func @square(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = bism.square %a : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// CHECK-LABEL: func.func @abs(
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<2x3xf32>
// CHECK: linalg.generic {indexing_maps = [#[[$ID2]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%arg0 : tensor<2x3xf32>) outs(%[[INIT]] : tensor<2x3xf32>)
// CHECK: math.absf %in
func.func @abs(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = bism.abs %a : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// CHECK-LABEL: func.func @reciprocal(
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<2x3xf32>
// CHECK: linalg.generic {indexing_maps = [#[[$ID2]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%arg0 : tensor<2x3xf32>) outs(%[[INIT]] : tensor<2x3xf32>)
// CHECK: %[[ONE:.*]] = arith.constant 1.0
// CHECK: arith.divf %[[ONE]], %in
func.func @reciprocal(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = bism.reciprocal %a : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// CHECK-LABEL: func.func @tanh(
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<2x3xf32>
// CHECK: linalg.generic {indexing_maps = [#[[$ID2]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%arg0 : tensor<2x3xf32>) outs(%[[INIT]] : tensor<2x3xf32>)
// CHECK: math.tanh %in
func.func @tanh(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = bism.tanh %a : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// CHECK-LABEL: func.func @sigmoid(
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<2x3xf32>
// CHECK: linalg.generic {indexing_maps = [#[[$ID2]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%arg0 : tensor<2x3xf32>) outs(%[[INIT]] : tensor<2x3xf32>)
// CHECK: %[[NEG:.*]] = arith.negf %in
// CHECK: %[[EXP:.*]] = math.exp %[[NEG]]
// CHECK: %[[DEN:.*]] = arith.addf %{{.*}}, %[[EXP]]
// CHECK: arith.divf %{{.*}}, %[[DEN]]
func.func @sigmoid(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = bism.sigmoid %a : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// CHECK-LABEL: func.func @relu(
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<2x3xf32>
// CHECK: linalg.generic {indexing_maps = [#[[$ID2]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%arg0 : tensor<2x3xf32>) outs(%[[INIT]] : tensor<2x3xf32>)
// CHECK: %[[ZERO:.*]] = arith.constant 0.0
// CHECK: arith.maximumf %in, %[[ZERO]]
func.func @relu(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = bism.relu %a : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
// Stable softplus: max(x, 0) + log1p(exp(-|x|)).
// CHECK-LABEL: func.func @softplus(
// CHECK: linalg.generic
// CHECK-DAG: %[[ABS:.*]] = math.absf %in : f64
// CHECK-DAG: %[[NABS:.*]] = arith.negf %[[ABS]] : f64
// CHECK-DAG: %[[EXP:.*]] = math.exp %[[NABS]] : f64
// CHECK-DAG: %[[TAIL:.*]] = math.log1p %[[EXP]] : f64
// CHECK-DAG: %[[MAX:.*]] = arith.maximumf %in, %{{.*}} : f64
// CHECK: %[[SUM:.*]] = arith.addf %[[MAX]], %[[TAIL]] : f64
// CHECK: linalg.yield %[[SUM]] : f64
func.func @softplus(%a: tensor<4xf64>) -> tensor<4xf64> {
  %0 = bism.softplus %a : tensor<4xf64>
  return %0 : tensor<4xf64>
}

// ELU: x > 0 ? x : alpha * expm1(x).
// CHECK-LABEL: func.func @elu(
// CHECK: linalg.generic
// CHECK-DAG: %[[ALPHA:.*]] = arith.constant 5.000000e-01 : f32
// CHECK-DAG: %[[EM1:.*]] = math.expm1 %in : f32
// CHECK-DAG: %[[NEG:.*]] = arith.mulf %[[ALPHA]], %[[EM1]] : f32
// CHECK-DAG: %[[POS:.*]] = arith.cmpf ogt, %in, %{{.*}} : f32
// CHECK: arith.select %[[POS]], %in, %[[NEG]] : f32
func.func @elu(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = bism.elu %a {alpha = 0.5} : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// CHECK-LABEL: func.func @leaky_relu(
// CHECK: linalg.generic
// CHECK-DAG: %[[ALPHA:.*]] = arith.constant 0.0099999{{.*}} : f32
// CHECK-DAG: %[[NEG:.*]] = arith.mulf %[[ALPHA]], %in : f32
// CHECK-DAG: %[[POS:.*]] = arith.cmpf ogt, %in, %{{.*}} : f32
// CHECK: arith.select %[[POS]], %in, %[[NEG]] : f32
func.func @leaky_relu(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = bism.leaky_relu %a : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// Binary ops: three identity maps.
// CHECK-LABEL: func.func @binary(
// CHECK: linalg.generic {indexing_maps = [#[[$ID1]], #[[$ID1]], #[[$ID1]]], iterator_types = ["parallel"]}
// CHECK: arith.addf %in, %in_{{.*}} : f64
// CHECK: linalg.generic
// CHECK: arith.subf
// CHECK: linalg.generic
// CHECK: arith.mulf
// CHECK: linalg.generic
// CHECK: arith.divf
// CHECK: linalg.generic
// CHECK: math.powf
// CHECK: linalg.generic
// CHECK: arith.maximumf
// CHECK: linalg.generic
// CHECK: arith.minimumf
func.func @binary(%a: tensor<4xf64>, %b: tensor<4xf64>) -> tensor<4xf64> {
  %0 = bism.add %a, %b : tensor<4xf64>
  %1 = bism.sub %0, %b : tensor<4xf64>
  %2 = bism.mul %1, %b : tensor<4xf64>
  %3 = bism.div %2, %b : tensor<4xf64>
  %4 = bism.pow %3, %b : tensor<4xf64>
  %5 = bism.maximum %4, %b : tensor<4xf64>
  %6 = bism.minimum %5, %a : tensor<4xf64>
  return %6 : tensor<4xf64>
}

// compare gives i1 through ordered predicates; select reads the i1 tensor.
// CHECK-LABEL: func.func @compare_select(
// CHECK: %[[MASK_INIT:.*]] = tensor.empty() : tensor<4xi1>
// CHECK: %[[MASK:.*]] = linalg.generic
// CHECK-SAME: outs(%[[MASK_INIT]] : tensor<4xi1>)
// CHECK: ^bb0(%in: f32, %in_{{.*}}: f32, %out: i1):
// CHECK: arith.cmpf olt
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[MASK]], %arg0, %arg1 : tensor<4xi1>, tensor<4xf32>, tensor<4xf32>)
// CHECK: arith.select
// CHECK: arith.cmpf oeq
// CHECK: arith.cmpf one
// CHECK: arith.cmpf ole
// CHECK: arith.cmpf ogt
// CHECK: arith.cmpf oge
func.func @compare_select(%a: tensor<4xf32>, %b: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>) {
  %m = bism.compare lt, %a, %b : tensor<4xf32>
  %s = bism.select %m, %a, %b : tensor<4xf32>
  %0 = bism.compare eq, %a, %b : tensor<4xf32>
  %1 = bism.compare ne, %a, %b : tensor<4xf32>
  %2 = bism.compare le, %a, %b : tensor<4xf32>
  %3 = bism.compare gt, %a, %b : tensor<4xf32>
  %4 = bism.compare ge, %a, %b : tensor<4xf32>
  return %s, %0, %1, %2, %3, %4 : tensor<4xf32>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>
}

// CHECK-LABEL: func.func @convert(
// CHECK: linalg.generic
// CHECK: arith.extf %in : f32 to f64
// CHECK: linalg.generic
// CHECK: arith.truncf %in : f64 to f32
func.func @convert(%a: tensor<4xf32>) -> (tensor<4xf64>, tensor<4xf32>) {
  %0 = bism.convert %a : tensor<4xf32> to tensor<4xf64>
  %1 = bism.convert %0 : tensor<4xf64> to tensor<4xf32>
  return %0, %1 : tensor<4xf64>, tensor<4xf32>
}

// Rank 0 works like any other rank.
// CHECK-LABEL: func.func @scalar(
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}], iterator_types = []}
// CHECK: math.exp %in : f32
func.func @scalar(%a: tensor<f32>) -> tensor<f32> {
  %0 = bism.exp %a : tensor<f32>
  return %0 : tensor<f32>
}

// CHECK-LABEL: func.func @constant(
// CHECK: %[[C:.*]] = arith.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf64>
// CHECK: return %[[C]]
func.func @constant() -> tensor<2xf64> {
  %0 = bism.constant dense<[1.0, 2.0]> : tensor<2xf64>
  return %0 : tensor<2xf64>
}
