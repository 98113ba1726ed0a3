// End to end: bism.matmul (transposes, batch dimensions) through BLAS
// (--blas-min-flops 0: every product calls bism_rt_gemm_*) and through loops
// (--blas-min-flops -1); both must print the same exact values.
//
// RUN: bism-run %s --entry matmuls --blas-min-flops 0 --input "2x3xf32=1 2 3 4 5 6" --input "3x2xf32=1 0 0 1 2 -1" | FileCheck %s --check-prefix=MM
// RUN: bism-run %s --entry matmuls --blas-min-flops -1 --input "2x3xf32=1 2 3 4 5 6" --input "3x2xf32=1 0 0 1 2 -1" | FileCheck %s --check-prefix=MM
// MM:      2x2xf32=[7 -1][16 -1]
// MM-NEXT: 3x3xf32=[1 4 -2][2 5 -1][3 6 0]
// MM-NEXT: 3x3xf32=[17 22 27][22 29 36][27 36 45]
// MM-NEXT: 2x2xf32=[14 32][32 77]
//
// RUN: bism-run %s --entry batched --blas-min-flops 0 --input "2x2x1x2xf64=1 2 3 4 5 6 7 8" --input "2x2x2x2xf64=1 0 0 1 1 1 0 1 2 0 0 2 0 1 1 0" | FileCheck %s --check-prefix=BATCH
// RUN: bism-run %s --entry batched --blas-min-flops -1 --input "2x2x1x2xf64=1 2 3 4 5 6 7 8" --input "2x2x2x2xf64=1 0 0 1 1 1 0 1 2 0 0 2 0 1 1 0" | FileCheck %s --check-prefix=BATCH
// BATCH:      2x2x1x2xf64={{\[\[}}[1 2]]{{\[\[}}3 7]]]{{\[\[}}[10 12]]{{\[\[}}8 7]]]
// BATCH-NEXT: 2x2x1x2xf64={{\[\[}}[1 2]]{{\[\[}}7 4]]]{{\[\[}}[10 12]]{{\[\[}}8 7]]]
//
// A 64x48 (transposed) by 64x32 product of random normals against the same
// product written as broadcast * reduce_sum: agree to 1e-4 with the default
// BLAS threshold (64*48*32 >= 32768, a BLAS call) and with loops.
// RUN: bism-run %s --entry large_random --input "2xi32=1,2" | FileCheck %s --check-prefix=LARGE
// RUN: bism-run %s --entry large_random --blas-min-flops -1 --input "2xi32=1,2" | FileCheck %s --check-prefix=LARGE
// LARGE: i1=1

func.func @matmuls(%a: tensor<2x3xf32>, %b: tensor<3x2xf32>) -> (tensor<2x2xf32>, tensor<3x3xf32>, tensor<3x3xf32>, tensor<2x2xf32>) {
  %0 = bism.matmul %a, %b : tensor<2x3xf32>, tensor<3x2xf32> -> tensor<2x2xf32>
  %1 = bism.matmul %a, %b {transpose_lhs, transpose_rhs} : tensor<2x3xf32>, tensor<3x2xf32> -> tensor<3x3xf32>
  %2 = bism.matmul %a, %a {transpose_lhs} : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<3x3xf32>
  %3 = bism.matmul %a, %a {transpose_rhs} : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x2xf32>
  return %0, %1, %2, %3 : tensor<2x2xf32>, tensor<3x3xf32>, tensor<3x3xf32>, tensor<2x2xf32>
}
func.func @batched(%a: tensor<2x2x1x2xf64>, %b: tensor<2x2x2x2xf64>) -> (tensor<2x2x1x2xf64>, tensor<2x2x1x2xf64>) {
  %0 = bism.matmul %a, %b : tensor<2x2x1x2xf64>, tensor<2x2x2x2xf64> -> tensor<2x2x1x2xf64>
  %1 = bism.matmul %a, %b {transpose_rhs} : tensor<2x2x1x2xf64>, tensor<2x2x2x2xf64> -> tensor<2x2x1x2xf64>
  return %0, %1 : tensor<2x2x1x2xf64>, tensor<2x2x1x2xf64>
}
func.func @large_random(%key: tensor<2xi32>) -> tensor<i1> {
  %k1 = bism.key_split %key [1]
  %k2 = bism.key_split %key [2]
  %a = bism.random_normal %k1 : tensor<64x48xf32>
  %b = bism.random_normal %k2 : tensor<64x32xf32>
  %p = bism.matmul %a, %b {transpose_lhs} : tensor<64x48xf32>, tensor<64x32xf32> -> tensor<48x32xf32>
  %ar = bism.reshape %a : tensor<64x48xf32> to tensor<64x48x1xf32>
  %br = bism.reshape %b : tensor<64x32xf32> to tensor<64x1x32xf32>
  %ab = bism.broadcast %ar : tensor<64x48x1xf32> to tensor<64x48x32xf32>
  %bb = bism.broadcast %br : tensor<64x1x32xf32> to tensor<64x48x32xf32>
  %prod = bism.mul %ab, %bb : tensor<64x48x32xf32>
  %ref = bism.reduce_sum %prod axes [0] : tensor<64x48x32xf32> -> tensor<48x32xf32>
  %d = bism.sub %p, %ref : tensor<48x32xf32>
  %ad = bism.abs %d : tensor<48x32xf32>
  %m = bism.reduce_max %ad axes [0, 1] : tensor<48x32xf32> -> tensor<f32>
  %tol = bism.constant dense<1.0e-4> : tensor<f32>
  %ok = bism.compare lt, %m, %tol : tensor<f32>
  return %ok : tensor<i1>
}
