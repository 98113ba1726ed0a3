// bism-run on bism ops: the bism -> linalg lowering, out-parameters and BLAS.
//
// RUN: bism-run %s --entry affine --input "2x3xf32=1 2 3 4 5 6" --input "3x2xf32=1 0 0 1 1 1" --input "2xf32=0.5 -0.5" | FileCheck %s --check-prefix=AFFINE
// RUN: bism-run %s --entry affine --blas-min-flops 0 --input "2x3xf32=1 2 3 4 5 6" --input "3x2xf32=1 0 0 1 1 1" --input "2xf32=0.5 -0.5" | FileCheck %s --check-prefix=AFFINE
// RUN: bism-opt %s | bism-run - --entry affine --blas-min-flops -1 --input "2x3xf32=1 2 3 4 5 6" --input "3x2xf32=1 0 0 1 1 1" --input "2xf32=0.5 -0.5" | FileCheck %s --check-prefix=AFFINE
// AFFINE:      2x2xf32=[4.5 4.5][10.5 10.5]
// AFFINE-NEXT: 2x2xi1=[0 1][0 1]
//
// RUN: bism-run %s --entry exp_f64 --input "3xf64=0 1 -1" | FileCheck %s --check-prefix=EXP
// EXP: 3xf64=1 2.718281828 0.3678794412

func.func @affine(%x: tensor<2x3xf32>, %w: tensor<3x2xf32>, %b: tensor<2xf32>)
    -> (tensor<2x2xf32>, tensor<2x2xi1>) {
  %m = bism.matmul %x, %w : tensor<2x3xf32>, tensor<3x2xf32> -> tensor<2x2xf32>
  %bb = bism.broadcast %b : tensor<2xf32> to tensor<2x2xf32>
  %y = bism.add %m, %bb : tensor<2x2xf32>
  %gt = bism.compare gt, %m, %y : tensor<2x2xf32>
  return %y, %gt : tensor<2x2xf32>, tensor<2x2xi1>
}

func.func @exp_f64(%x: tensor<3xf64>) -> tensor<3xf64> {
  %0 = bism.exp %x : tensor<3xf64>
  return %0 : tensor<3xf64>
}
