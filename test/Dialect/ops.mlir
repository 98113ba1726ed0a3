// Round trip of every bism op, f32 and f64, with and without optional
// attributes; the second RUN line goes through the generic form.
// RUN: bism-opt %s | bism-opt | FileCheck %s
// RUN: bism-opt %s --mlir-print-op-generic | bism-opt | FileCheck %s
// RUN: bism-opt %s --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// GENERIC-DAG: "bism.compare"(%{{.*}}, %{{.*}}) <{predicate = 2 : i32}> : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
// GENERIC-DAG: "bism.matmul"(%{{.*}}, %{{.*}}) <{transpose_lhs, transpose_rhs}> : (tensor<4x3xf32>, tensor<5x4xf32>) -> tensor<3x5xf32>
// GENERIC-DAG: "bism.conv2d"(%{{.*}}, %{{.*}}) <{dilations = array<i64: 2, 1>, groups = 2 : i64, padding = array<i64: 1, 0, 2, 1>, strides = array<i64: 2, 3>}>
// GENERIC-DAG: "bism.reduce_max"(%{{.*}}) <{axes = array<i64: 0, 1>, keep_dims}> : (tensor<8x4xf32>) -> tensor<1x1xf32>
// GENERIC-DAG: "bism.avg_pool2d"(%{{.*}}) <{count_include_pad, kernel_shape = array<i64: 3, 3>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}>
// GENERIC-DAG: "bism.key_split"(%{{.*}}) <{index = 3 : i64}> : (tensor<2xi32>) -> tensor<2xi32>
// GENERIC-DAG: "bism.elu"(%{{.*}}) <{alpha = 5.000000e-01 : f64}> : (tensor<2x3xf32>) -> tensor<2x3xf32>

// CHECK-LABEL: func.func @constants
func.func @constants() -> (tensor<2xf32>, tensor<2x2xf64>, tensor<2xi32>, tensor<3xi1>, tensor<f32>, tensor<i64>) {
  // CHECK: bism.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
  %0 = bism.constant dense<[1.0, 2.0]> : tensor<2xf32>
  // CHECK: bism.constant dense<5.000000e-01> : tensor<2x2xf64>
  %1 = bism.constant dense<0.5> : tensor<2x2xf64>
  // CHECK: bism.constant dense<[7, 11]> : tensor<2xi32>
  %2 = bism.constant dense<[7, 11]> : tensor<2xi32>
  // CHECK: bism.constant dense<[true, false, true]> : tensor<3xi1>
  %3 = bism.constant dense<[true, false, true]> : tensor<3xi1>
  // CHECK: bism.constant dense<3.000000e+00> : tensor<f32>
  %4 = bism.constant dense<3.0> : tensor<f32>
  // CHECK: bism.constant dense<42> : tensor<i64>
  %5 = bism.constant dense<42> : tensor<i64>
  return %0, %1, %2, %3, %4, %5 : tensor<2xf32>, tensor<2x2xf64>, tensor<2xi32>, tensor<3xi1>, tensor<f32>, tensor<i64>
}

// CHECK-LABEL: func.func @convert
func.func @convert(%a: tensor<2x3xf32>, %b: tensor<4xf64>) -> (tensor<2x3xf64>, tensor<4xf32>) {
  // CHECK: bism.convert %{{[0-9a-z_]+}} : tensor<2x3xf32> to tensor<2x3xf64>
  %0 = bism.convert %a : tensor<2x3xf32> to tensor<2x3xf64>
  // CHECK: bism.convert %{{[0-9a-z_]+}} : tensor<4xf64> to tensor<4xf32>
  %1 = bism.convert %b : tensor<4xf64> to tensor<4xf32>
  return %0, %1 : tensor<2x3xf64>, tensor<4xf32>
}

// CHECK-LABEL: func.func @unary_f32
func.func @unary_f32(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // CHECK: bism.neg %{{[0-9a-z_]+}} : tensor<2x3xf32>
  %0 = bism.neg %x : tensor<2x3xf32>
  // CHECK: bism.exp %{{[0-9a-z_]+}} : tensor<2x3xf32>
  %1 = bism.exp %0 : tensor<2x3xf32>
  // CHECK: bism.log %{{[0-9a-z_]+}} : tensor<2x3xf32>
  %2 = bism.log %1 : tensor<2x3xf32>
  // CHECK: bism.log1p %{{[0-9a-z_]+}} : tensor<2x3xf32>
  %3 = bism.log1p %2 : tensor<2x3xf32>
  // CHECK: bism.sqrt %{{[0-9a-z_]+}} : tensor<2x3xf32>
  %4 = bism.sqrt %3 : tensor<2x3xf32>
  // CHECK: bism.square %{{[0-9a-z_]+}} : tensor<2x3xf32>
  %5 = bism.square %4 : tensor<2x3xf32>
  // CHECK: bism.abs %{{[0-9a-z_]+}} : tensor<2x3xf32>
  %6 = bism.abs %5 : tensor<2x3xf32>
  // CHECK: bism.reciprocal %{{[0-9a-z_]+}} : tensor<2x3xf32>
  %7 = bism.reciprocal %6 : tensor<2x3xf32>
  // CHECK: bism.tanh %{{[0-9a-z_]+}} : tensor<2x3xf32>
  %8 = bism.tanh %7 : tensor<2x3xf32>
  // CHECK: bism.sigmoid %{{[0-9a-z_]+}} : tensor<2x3xf32>
  %9 = bism.sigmoid %8 : tensor<2x3xf32>
  // CHECK: bism.softplus %{{[0-9a-z_]+}} : tensor<2x3xf32>
  %10 = bism.softplus %9 : tensor<2x3xf32>
  // CHECK: bism.relu %{{[0-9a-z_]+}} : tensor<2x3xf32>
  %11 = bism.relu %10 : tensor<2x3xf32>
  // CHECK: bism.elu %{{[0-9a-z_]+}} : tensor<2x3xf32>
  %12 = bism.elu %11 : tensor<2x3xf32>
  // CHECK: bism.elu %{{[0-9a-z_]+}} {alpha = 5.000000e-01 : f64} : tensor<2x3xf32>
  %13 = bism.elu %12 {alpha = 0.5 : f64} : tensor<2x3xf32>
  // CHECK: bism.leaky_relu %{{[0-9a-z_]+}} : tensor<2x3xf32>
  %14 = bism.leaky_relu %13 : tensor<2x3xf32>
  // CHECK: bism.leaky_relu %{{[0-9a-z_]+}} {alpha = 2.000000e-01 : f64} : tensor<2x3xf32>
  %15 = bism.leaky_relu %14 {alpha = 0.2 : f64} : tensor<2x3xf32>
  return %15 : tensor<2x3xf32>
}

// CHECK-LABEL: func.func @unary_f64
func.func @unary_f64(%x: tensor<f64>) -> tensor<f64> {
  // CHECK: bism.neg %{{[0-9a-z_]+}} : tensor<f64>
  %0 = bism.neg %x : tensor<f64>
  // CHECK: bism.exp %{{[0-9a-z_]+}} : tensor<f64>
  %1 = bism.exp %0 : tensor<f64>
  // CHECK: bism.log %{{[0-9a-z_]+}} : tensor<f64>
  %2 = bism.log %1 : tensor<f64>
  // CHECK: bism.log1p %{{[0-9a-z_]+}} : tensor<f64>
  %3 = bism.log1p %2 : tensor<f64>
  // CHECK: bism.sqrt %{{[0-9a-z_]+}} : tensor<f64>
  %4 = bism.sqrt %3 : tensor<f64>
  // CHECK: bism.square %{{[0-9a-z_]+}} : tensor<f64>
  %5 = bism.square %4 : tensor<f64>
  // CHECK: bism.abs %{{[0-9a-z_]+}} : tensor<f64>
  %6 = bism.abs %5 : tensor<f64>
  // CHECK: bism.reciprocal %{{[0-9a-z_]+}} : tensor<f64>
  %7 = bism.reciprocal %6 : tensor<f64>
  // CHECK: bism.tanh %{{[0-9a-z_]+}} : tensor<f64>
  %8 = bism.tanh %7 : tensor<f64>
  // CHECK: bism.sigmoid %{{[0-9a-z_]+}} : tensor<f64>
  %9 = bism.sigmoid %8 : tensor<f64>
  // CHECK: bism.softplus %{{[0-9a-z_]+}} : tensor<f64>
  %10 = bism.softplus %9 : tensor<f64>
  // CHECK: bism.relu %{{[0-9a-z_]+}} : tensor<f64>
  %11 = bism.relu %10 : tensor<f64>
  // CHECK: bism.elu %{{[0-9a-z_]+}} {alpha = 1.500000e+00 : f64} : tensor<f64>
  %12 = bism.elu %11 {alpha = 1.5 : f64} : tensor<f64>
  // CHECK: bism.leaky_relu %{{[0-9a-z_]+}} : tensor<f64>
  %13 = bism.leaky_relu %12 : tensor<f64>
  return %13 : tensor<f64>
}

// CHECK-LABEL: func.func @binary_f32
func.func @binary_f32(%a: tensor<4x1xf32>, %b: tensor<4x1xf32>) -> tensor<4x1xf32> {
  // CHECK: bism.add %{{[0-9a-z_]+}}, %{{[0-9a-z_]+}} : tensor<4x1xf32>
  %0 = bism.add %a, %b : tensor<4x1xf32>
  // CHECK: bism.sub %{{[0-9a-z_]+}}, %{{[0-9a-z_]+}} : tensor<4x1xf32>
  %1 = bism.sub %0, %b : tensor<4x1xf32>
  // CHECK: bism.mul %{{[0-9a-z_]+}}, %{{[0-9a-z_]+}} : tensor<4x1xf32>
  %2 = bism.mul %1, %b : tensor<4x1xf32>
  // CHECK: bism.div %{{[0-9a-z_]+}}, %{{[0-9a-z_]+}} : tensor<4x1xf32>
  %3 = bism.div %2, %b : tensor<4x1xf32>
  // CHECK: bism.pow %{{[0-9a-z_]+}}, %{{[0-9a-z_]+}} : tensor<4x1xf32>
  %4 = bism.pow %3, %b : tensor<4x1xf32>
  // CHECK: bism.maximum %{{[0-9a-z_]+}}, %{{[0-9a-z_]+}} : tensor<4x1xf32>
  %5 = bism.maximum %4, %b : tensor<4x1xf32>
  // CHECK: bism.minimum %{{[0-9a-z_]+}}, %{{[0-9a-z_]+}} : tensor<4x1xf32>
  %6 = bism.minimum %5, %b : tensor<4x1xf32>
  return %6 : tensor<4x1xf32>
}

// CHECK-LABEL: func.func @binary_f64
func.func @binary_f64(%a: tensor<2x3x4x5xf64>, %b: tensor<2x3x4x5xf64>) -> tensor<2x3x4x5xf64> {
  // CHECK: bism.add %{{[0-9a-z_]+}}, %{{[0-9a-z_]+}} : tensor<2x3x4x5xf64>
  %0 = bism.add %a, %b : tensor<2x3x4x5xf64>
  // CHECK: bism.sub %{{[0-9a-z_]+}}, %{{[0-9a-z_]+}} : tensor<2x3x4x5xf64>
  %1 = bism.sub %0, %b : tensor<2x3x4x5xf64>
  // CHECK: bism.mul %{{[0-9a-z_]+}}, %{{[0-9a-z_]+}} : tensor<2x3x4x5xf64>
  %2 = bism.mul %1, %b : tensor<2x3x4x5xf64>
  // CHECK: bism.div %{{[0-9a-z_]+}}, %{{[0-9a-z_]+}} : tensor<2x3x4x5xf64>
  %3 = bism.div %2, %b : tensor<2x3x4x5xf64>
  // CHECK: bism.pow %{{[0-9a-z_]+}}, %{{[0-9a-z_]+}} : tensor<2x3x4x5xf64>
  %4 = bism.pow %3, %b : tensor<2x3x4x5xf64>
  // CHECK: bism.maximum %{{[0-9a-z_]+}}, %{{[0-9a-z_]+}} : tensor<2x3x4x5xf64>
  %5 = bism.maximum %4, %b : tensor<2x3x4x5xf64>
  // CHECK: bism.minimum %{{[0-9a-z_]+}}, %{{[0-9a-z_]+}} : tensor<2x3x4x5xf64>
  %6 = bism.minimum %5, %b : tensor<2x3x4x5xf64>
  return %6 : tensor<2x3x4x5xf64>
}

// CHECK-LABEL: func.func @compare_select
func.func @compare_select(%a: tensor<4xf32>, %b: tensor<4xf32>, %c: tensor<f64>, %d: tensor<f64>) -> (tensor<4xf32>, tensor<f64>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>) {
  // CHECK: bism.compare eq, %{{[0-9a-z_]+}}, %{{[0-9a-z_]+}} : tensor<4xf32>
  %eq = bism.compare eq, %a, %b : tensor<4xf32>
  // CHECK: bism.compare ne, %{{[0-9a-z_]+}}, %{{[0-9a-z_]+}} : tensor<4xf32>
  %ne = bism.compare ne, %a, %b : tensor<4xf32>
  // CHECK: bism.compare lt, %{{[0-9a-z_]+}}, %{{[0-9a-z_]+}} : tensor<4xf32>
  %lt = bism.compare lt, %a, %b : tensor<4xf32>
  // CHECK: bism.compare le, %{{[0-9a-z_]+}}, %{{[0-9a-z_]+}} : tensor<4xf32>
  %le = bism.compare le, %a, %b : tensor<4xf32>
  // CHECK: bism.compare gt, %{{[0-9a-z_]+}}, %{{[0-9a-z_]+}} : tensor<4xf32>
  %gt = bism.compare gt, %a, %b : tensor<4xf32>
  // CHECK: bism.compare ge, %{{[0-9a-z_]+}}, %{{[0-9a-z_]+}} : tensor<f64>
  %ge = bism.compare ge, %c, %d : tensor<f64>
  // CHECK: bism.select %{{[0-9a-z_]+}}, %{{[0-9a-z_]+}}, %{{[0-9a-z_]+}} : tensor<4xf32>
  %s = bism.select %lt, %a, %b : tensor<4xf32>
  // CHECK: bism.select %{{[0-9a-z_]+}}, %{{[0-9a-z_]+}}, %{{[0-9a-z_]+}} : tensor<f64>
  %t = bism.select %ge, %c, %d : tensor<f64>
  return %s, %t, %eq, %ne, %le, %gt, %lt : tensor<4xf32>, tensor<f64>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>
}

// CHECK-LABEL: func.func @matmul
func.func @matmul(%a: tensor<3x4xf32>, %b: tensor<4x5xf32>, %at: tensor<4x3xf32>, %bt: tensor<5x4xf32>,
                  %x: tensor<2x7x3x4xf64>, %y: tensor<2x7x4x6xf64>) -> (tensor<3x5xf32>, tensor<3x5xf32>, tensor<3x5xf32>, tensor<3x5xf32>, tensor<2x7x3x6xf64>) {
  // CHECK: bism.matmul %{{[0-9a-z_]+}}, %{{[0-9a-z_]+}} : tensor<3x4xf32>, tensor<4x5xf32> -> tensor<3x5xf32>
  %0 = bism.matmul %a, %b : tensor<3x4xf32>, tensor<4x5xf32> -> tensor<3x5xf32>
  // CHECK: bism.matmul %{{[0-9a-z_]+}}, %{{[0-9a-z_]+}} {transpose_lhs} : tensor<4x3xf32>, tensor<4x5xf32> -> tensor<3x5xf32>
  %1 = bism.matmul %at, %b {transpose_lhs} : tensor<4x3xf32>, tensor<4x5xf32> -> tensor<3x5xf32>
  // CHECK: bism.matmul %{{[0-9a-z_]+}}, %{{[0-9a-z_]+}} {transpose_rhs} : tensor<3x4xf32>, tensor<5x4xf32> -> tensor<3x5xf32>
  %2 = bism.matmul %a, %bt {transpose_rhs} : tensor<3x4xf32>, tensor<5x4xf32> -> tensor<3x5xf32>
  // CHECK: bism.matmul %{{[0-9a-z_]+}}, %{{[0-9a-z_]+}} {transpose_lhs, transpose_rhs} : tensor<4x3xf32>, tensor<5x4xf32> -> tensor<3x5xf32>
  %3 = bism.matmul %at, %bt {transpose_lhs, transpose_rhs} : tensor<4x3xf32>, tensor<5x4xf32> -> tensor<3x5xf32>
  // CHECK: bism.matmul %{{[0-9a-z_]+}}, %{{[0-9a-z_]+}} : tensor<2x7x3x4xf64>, tensor<2x7x4x6xf64> -> tensor<2x7x3x6xf64>
  %4 = bism.matmul %x, %y : tensor<2x7x3x4xf64>, tensor<2x7x4x6xf64> -> tensor<2x7x3x6xf64>
  return %0, %1, %2, %3, %4 : tensor<3x5xf32>, tensor<3x5xf32>, tensor<3x5xf32>, tensor<3x5xf32>, tensor<2x7x3x6xf64>
}

// CHECK-LABEL: func.func @conv2d
func.func @conv2d(%x: tensor<2x4x9x9xf32>, %w: tensor<6x4x3x3xf32>, %wg: tensor<6x2x3x3xf32>,
                  %y: tensor<1x3x5x5xf64>, %v: tensor<2x3x2x2xf64>) -> (tensor<2x6x7x7xf32>, tensor<2x6x4x3xf32>, tensor<1x2x4x4xf64>) {
  // CHECK: bism.conv2d %{{[0-9a-z_]+}}, %{{[0-9a-z_]+}} : tensor<2x4x9x9xf32>, tensor<6x4x3x3xf32> -> tensor<2x6x7x7xf32>
  %0 = bism.conv2d %x, %w : tensor<2x4x9x9xf32>, tensor<6x4x3x3xf32> -> tensor<2x6x7x7xf32>
  // CHECK: bism.conv2d %{{[0-9a-z_]+}}, %{{[0-9a-z_]+}} {dilations = array<i64: 2, 1>, groups = 2 : i64, padding = array<i64: 1, 0, 2, 1>, strides = array<i64: 2, 3>} : tensor<2x4x9x9xf32>, tensor<6x2x3x3xf32> -> tensor<2x6x4x3xf32>
  %1 = bism.conv2d %x, %wg {strides = array<i64: 2, 3>, padding = array<i64: 1, 0, 2, 1>, dilations = array<i64: 2, 1>, groups = 2 : i64} : tensor<2x4x9x9xf32>, tensor<6x2x3x3xf32> -> tensor<2x6x4x3xf32>
  // CHECK: bism.conv2d %{{[0-9a-z_]+}}, %{{[0-9a-z_]+}} : tensor<1x3x5x5xf64>, tensor<2x3x2x2xf64> -> tensor<1x2x4x4xf64>
  %2 = bism.conv2d %y, %v : tensor<1x3x5x5xf64>, tensor<2x3x2x2xf64> -> tensor<1x2x4x4xf64>
  return %0, %1, %2 : tensor<2x6x7x7xf32>, tensor<2x6x4x3xf32>, tensor<1x2x4x4xf64>
}

// CHECK-LABEL: func.func @pooling
func.func @pooling(%x: tensor<1x2x6x6xf32>, %y: tensor<2x1x5x5xf64>) -> (tensor<1x2x5x5xf32>, tensor<1x2x3x3xf32>, tensor<2x1x3x3xf64>, tensor<2x1x3x3xf64>) {
  // CHECK: bism.max_pool2d %{{[0-9a-z_]+}} {kernel_shape = array<i64: 2, 2>} : tensor<1x2x6x6xf32> -> tensor<1x2x5x5xf32>
  %0 = bism.max_pool2d %x {kernel_shape = array<i64: 2, 2>} : tensor<1x2x6x6xf32> -> tensor<1x2x5x5xf32>
  // CHECK: bism.max_pool2d %{{[0-9a-z_]+}} {kernel_shape = array<i64: 3, 3>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<1x2x6x6xf32> -> tensor<1x2x3x3xf32>
  %1 = bism.max_pool2d %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>} : tensor<1x2x6x6xf32> -> tensor<1x2x3x3xf32>
  // CHECK: bism.avg_pool2d %{{[0-9a-z_]+}} {kernel_shape = array<i64: 3, 3>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<2x1x5x5xf64> -> tensor<2x1x3x3xf64>
  %2 = bism.avg_pool2d %y {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>} : tensor<2x1x5x5xf64> -> tensor<2x1x3x3xf64>
  // CHECK: bism.avg_pool2d %{{[0-9a-z_]+}} {count_include_pad, kernel_shape = array<i64: 3, 3>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<2x1x5x5xf64> -> tensor<2x1x3x3xf64>
  %3 = bism.avg_pool2d %y {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, count_include_pad} : tensor<2x1x5x5xf64> -> tensor<2x1x3x3xf64>
  return %0, %1, %2, %3 : tensor<1x2x5x5xf32>, tensor<1x2x3x3xf32>, tensor<2x1x3x3xf64>, tensor<2x1x3x3xf64>
}

// CHECK-LABEL: func.func @reductions
func.func @reductions(%x: tensor<8x4xf32>, %y: tensor<2x3x4xf64>) -> (tensor<8xf32>, tensor<1x1xf32>, tensor<f32>, tensor<2x1x4xf64>, tensor<3xf64>) {
  // CHECK: bism.reduce_sum %{{[0-9a-z_]+}} axes [1] : tensor<8x4xf32> -> tensor<8xf32>
  %0 = bism.reduce_sum %x axes [1] : tensor<8x4xf32> -> tensor<8xf32>
  // CHECK: bism.reduce_max %{{[0-9a-z_]+}} axes [0, 1] keep_dims : tensor<8x4xf32> -> tensor<1x1xf32>
  %1 = bism.reduce_max %x axes [0, 1] keep_dims : tensor<8x4xf32> -> tensor<1x1xf32>
  // CHECK: bism.reduce_mean %{{[0-9a-z_]+}} axes [1, 0] : tensor<8x4xf32> -> tensor<f32>
  %2 = bism.reduce_mean %x axes [1, 0] : tensor<8x4xf32> -> tensor<f32>
  // CHECK: bism.reduce_logsumexp %{{[0-9a-z_]+}} axes [1] keep_dims : tensor<2x3x4xf64> -> tensor<2x1x4xf64>
  %3 = bism.reduce_logsumexp %y axes [1] keep_dims : tensor<2x3x4xf64> -> tensor<2x1x4xf64>
  // CHECK: bism.reduce_sum %{{[0-9a-z_]+}} axes [0, 2] : tensor<2x3x4xf64> -> tensor<3xf64>
  %4 = bism.reduce_sum %y axes [0, 2] : tensor<2x3x4xf64> -> tensor<3xf64>
  return %0, %1, %2, %3, %4 : tensor<8xf32>, tensor<1x1xf32>, tensor<f32>, tensor<2x1x4xf64>, tensor<3xf64>
}

// CHECK-LABEL: func.func @shapes
func.func @shapes(%x: tensor<4xf32>, %y: tensor<2x3x4xf64>, %m: tensor<3x1xi1>) -> (tensor<8x4xf32>, tensor<5x3x4xi1>, tensor<f32>, tensor<6x4xf64>, tensor<4x2x3xf64>, tensor<2x2x2xf64>, tensor<2x3x4xf64>) {
  // CHECK: bism.broadcast %{{[0-9a-z_]+}} : tensor<4xf32> to tensor<8x4xf32>
  %0 = bism.broadcast %x : tensor<4xf32> to tensor<8x4xf32>
  // CHECK: bism.broadcast %{{[0-9a-z_]+}} : tensor<3x1xi1> to tensor<5x3x4xi1>
  %1 = bism.broadcast %m : tensor<3x1xi1> to tensor<5x3x4xi1>
  %c = bism.constant dense<1.0> : tensor<1xf32>
  // CHECK: bism.reshape %{{[0-9a-z_]+}} : tensor<1xf32> to tensor<f32>
  %2 = bism.reshape %c : tensor<1xf32> to tensor<f32>
  // CHECK: bism.reshape %{{[0-9a-z_]+}} : tensor<2x3x4xf64> to tensor<6x4xf64>
  %3 = bism.reshape %y : tensor<2x3x4xf64> to tensor<6x4xf64>
  // CHECK: bism.transpose %{{[0-9a-z_]+}} [2, 0, 1] : tensor<2x3x4xf64> to tensor<4x2x3xf64>
  %4 = bism.transpose %y [2, 0, 1] : tensor<2x3x4xf64> to tensor<4x2x3xf64>
  // CHECK: bism.slice %{{[0-9a-z_]+}} starts [0, 1, 0] limits [2, 3, 4] strides [1, 1, 2] : tensor<2x3x4xf64> to tensor<2x2x2xf64>
  %5 = bism.slice %y starts [0, 1, 0] limits [2, 3, 4] strides [1, 1, 2] : tensor<2x3x4xf64> to tensor<2x2x2xf64>
  // CHECK: bism.concat %{{[0-9a-z_]+}}, %{{[0-9a-z_]+}} axis 1 : tensor<2x1x4xf64>, tensor<2x2x4xf64> -> tensor<2x3x4xf64>
  %a = bism.slice %y starts [0, 0, 0] limits [2, 1, 4] strides [1, 1, 1] : tensor<2x3x4xf64> to tensor<2x1x4xf64>
  %b = bism.slice %y starts [0, 1, 0] limits [2, 3, 4] strides [1, 1, 1] : tensor<2x3x4xf64> to tensor<2x2x4xf64>
  %6 = bism.concat %a, %b axis 1 : tensor<2x1x4xf64>, tensor<2x2x4xf64> -> tensor<2x3x4xf64>
  return %0, %1, %2, %3, %4, %5, %6 : tensor<8x4xf32>, tensor<5x3x4xi1>, tensor<f32>, tensor<6x4xf64>, tensor<4x2x3xf64>, tensor<2x2x2xf64>, tensor<2x3x4xf64>
}

// CHECK-LABEL: func.func @concat_f32
func.func @concat_f32(%a: tensor<2x3xf32>, %b: tensor<2x1xf32>, %c: tensor<2x2xf32>) -> tensor<2x6xf32> {
  // CHECK: bism.concat %{{[0-9a-z_]+}}, %{{[0-9a-z_]+}}, %{{[0-9a-z_]+}} axis 1 : tensor<2x3xf32>, tensor<2x1xf32>, tensor<2x2xf32> -> tensor<2x6xf32>
  %0 = bism.concat %a, %b, %c axis 1 : tensor<2x3xf32>, tensor<2x1xf32>, tensor<2x2xf32> -> tensor<2x6xf32>
  return %0 : tensor<2x6xf32>
}

// CHECK-LABEL: func.func @random
func.func @random(%key: tensor<2xi32>) -> (tensor<4x4xf32>, tensor<3xf64>, tensor<f32>, tensor<2x2xf64>, tensor<2xi32>) {
  // CHECK: bism.key_split %{{[0-9a-z_]+}}[3]
  %k = bism.key_split %key [3]
  // CHECK: bism.random_uniform %{{[0-9a-z_]+}} : tensor<4x4xf32>
  %0 = bism.random_uniform %key : tensor<4x4xf32>
  // CHECK: bism.random_normal %{{[0-9a-z_]+}} : tensor<3xf64>
  %1 = bism.random_normal %k : tensor<3xf64>
  // CHECK: bism.random_gumbel %{{[0-9a-z_]+}} : tensor<f32>
  %2 = bism.random_gumbel %key : tensor<f32>
  // CHECK: bism.random_rademacher %{{[0-9a-z_]+}} : tensor<2x2xf64>
  %3 = bism.random_rademacher %k : tensor<2x2xf64>
  return %0, %1, %2, %3, %k : tensor<4x4xf32>, tensor<3xf64>, tensor<f32>, tensor<2x2xf64>, tensor<2xi32>
}

// CHECK-LABEL: func.func @random_offset
func.func @random_offset(%key: tensor<2xi32>) -> (tensor<2x3xf32>, tensor<2xf64>) {
  // CHECK: bism.random_normal %{{[0-9a-z_]+}} {offset = 12 : i64} : tensor<2x3xf32>
  %0 = bism.random_normal %key {offset = 12} : tensor<2x3xf32>
  // The default, 0, is not printed.
  // CHECK: bism.random_uniform %{{[0-9a-z_]+}} : tensor<2xf64>
  %1 = bism.random_uniform %key {offset = 0} : tensor<2xf64>
  return %0, %1 : tensor<2x3xf32>, tensor<2xf64>
}

// CHECK-LABEL: func.func @all_reduce_mean
func.func @all_reduce_mean(%x: tensor<4x3xf32>, %s: tensor<f64>) -> (tensor<4x3xf32>, tensor<f64>) {
  // CHECK: bism.all_reduce_mean %{{[0-9a-z_]+}} : tensor<4x3xf32>
  %0 = bism.all_reduce_mean %x : tensor<4x3xf32>
  // CHECK: bism.all_reduce_mean %{{[0-9a-z_]+}} : tensor<f64>
  %1 = bism.all_reduce_mean %s : tensor<f64>
  return %0, %1 : tensor<4x3xf32>, tensor<f64>
}

// CHECK-LABEL: func.func @random_more
func.func @random_more(%key: tensor<2xi32>) -> (tensor<2xf64>, tensor<2x3xf32>, tensor<5xf64>, tensor<1xf32>) {
  // CHECK: bism.random_uniform %{{[0-9a-z_]+}} : tensor<2xf64>
  %0 = bism.random_uniform %key : tensor<2xf64>
  // CHECK: bism.random_normal %{{[0-9a-z_]+}} : tensor<2x3xf32>
  %1 = bism.random_normal %key : tensor<2x3xf32>
  // CHECK: bism.random_gumbel %{{[0-9a-z_]+}} : tensor<5xf64>
  %2 = bism.random_gumbel %key : tensor<5xf64>
  // CHECK: bism.random_rademacher %{{[0-9a-z_]+}} : tensor<1xf32>
  %3 = bism.random_rademacher %key : tensor<1xf32>
  return %0, %1, %2, %3 : tensor<2xf64>, tensor<2x3xf32>, tensor<5xf64>, tensor<1xf32>
}
