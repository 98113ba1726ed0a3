// End to end: conv2d (im2col + batch matmul; BLAS and loops give the same
// values) and pooling. Expected values: a direct convolution / pooling loop in
// Python.
//
// Grouped (2 groups), strided, padded:
// RUN: bism-run %s --entry conv --blas-min-flops 0 --input "1x2x4x4xf32=1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32" --input "4x1x3x3xf32=-3 -2 -1 0 1 2 3 -3 -2 -1 0 1 2 3 -3 -2 -1 0 1 2 3 -3 -2 -1 0 1 2 3 -3 -2 -1 0 1 2 3 -3" | FileCheck %s --check-prefix=CONV
// RUN: bism-run %s --entry conv --blas-min-flops -1 --input "1x2x4x4xf32=1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32" --input "4x1x3x3xf32=-3 -2 -1 0 1 2 3 -3 -2 -1 0 1 2 3 -3 -2 -1 0 1 2 3 -3 -2 -1 0 1 2 3 -3 -2 -1 0 1 2 3 -3" | FileCheck %s --check-prefix=CONV
// CONV: 1x4x2x2xf32={{\[\[}}[-22 -8][-54 -40]]{{\[\[}}-8 -18][-10 -24]]{{\[\[}}13 -41][121 75]]{{\[\[}}15 43][-84 8]]]
//
// Dilated, with different strides per axis and a batch of 2:
// RUN: bism-run %s --entry conv_dilated --blas-min-flops 0 --input "2x1x5x5xf64=1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50" --input "1x1x2x2xf64=1 -1 0.5 2" | FileCheck %s --check-prefix=DILATED
// RUN: bism-run %s --entry conv_dilated --blas-min-flops -1 --input "2x1x5x5xf64=1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50" --input "1x1x2x2xf64=1 -1 0.5 2" | FileCheck %s --check-prefix=DILATED
// DILATED: 2x1x2x3xf64={{\[\[\[}}29.5 32 34.5][54.5 57 59.5]]]{{\[\[\[}}92 94.5 97][117 119.5 122]]]
//
// 3x3 windows, stride 2, padding 1: max; average over the real elements;
// average over all 9 (count_include_pad).
// RUN: bism-run %s --entry pools --input "1x1x4x4xf32=1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16" | FileCheck %s --check-prefix=POOLS
// POOLS:      1x1x2x2xf32={{\[\[\[}}6 8][14 16]]]
// POOLS-NEXT: 1x1x2x2xf32={{\[\[\[}}3.5 5][9.5 11]]]
// POOLS-NEXT: 1x1x2x2xf32={{\[\[\[}}1.55556 3.33333][6.33333 11]]]
//
// Padding never wins a max, even over negative values.
// RUN: bism-run %s --entry max_negative --input "1x1x2x2xf64=-4 -3 -2 -1" | FileCheck %s --check-prefix=NEGATIVE
// NEGATIVE: 1x1x2x2xf64={{\[\[\[}}-4 -3][-2 -1]]]

func.func @conv(%x: tensor<1x2x4x4xf32>, %w: tensor<4x1x3x3xf32>) -> tensor<1x4x2x2xf32> {
  %0 = bism.conv2d %x, %w {strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, groups = 2} : tensor<1x2x4x4xf32>, tensor<4x1x3x3xf32> -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}
func.func @conv_dilated(%x: tensor<2x1x5x5xf64>, %w: tensor<1x1x2x2xf64>) -> tensor<2x1x2x3xf64> {
  %0 = bism.conv2d %x, %w {strides = array<i64: 2, 1>, dilations = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>} : tensor<2x1x5x5xf64>, tensor<1x1x2x2xf64> -> tensor<2x1x2x3xf64>
  return %0 : tensor<2x1x2x3xf64>
}
func.func @pools(%x: tensor<1x1x4x4xf32>) -> (tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>) {
  %0 = bism.max_pool2d %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>} : tensor<1x1x4x4xf32> -> tensor<1x1x2x2xf32>
  %1 = bism.avg_pool2d %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>} : tensor<1x1x4x4xf32> -> tensor<1x1x2x2xf32>
  %2 = bism.avg_pool2d %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, count_include_pad} : tensor<1x1x4x4xf32> -> tensor<1x1x2x2xf32>
  return %0, %1, %2 : tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>
}
func.func @max_negative(%x: tensor<1x1x2x2xf64>) -> tensor<1x1x2x2xf64> {
  %0 = bism.max_pool2d %x {kernel_shape = array<i64: 2, 2>, padding = array<i64: 1, 1, 0, 0>} : tensor<1x1x2x2xf64> -> tensor<1x1x2x2xf64>
  return %0 : tensor<1x1x2x2xf64>
}
