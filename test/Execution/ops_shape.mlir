// End to end: broadcast, transpose, reshape (incl. rank 0), strided slice and
// concat (strided copies become loops, no runtime helper).
//
// RUN: bism-run %s --entry shapes --input "2x3xf32=1 2 3 4 5 6" --input "3x1xf32=10 20 30" --input "f32=7" | FileCheck %s --check-prefix=SHAPES
// SHAPES:      2x3x2xf32={{\[\[}}10 10][20 20][30 30]]{{\[\[}}10 10][20 20][30 30]]
// SHAPES-NEXT: 2x2xf32=[7 7][7 7]
// SHAPES-NEXT: 3x2xf32=[1 4][2 5][3 6]
// SHAPES-NEXT: 6xf32=1 2 3 4 5 6
// SHAPES-NEXT: 1x2xf32=[4 6]
// SHAPES-NEXT: 2x5xf32=[1 2 3 3 1][4 5 6 6 4]
// SHAPES-NEXT: 1x1xf32=[7]
//
// Shape ops work on any element type.
// RUN: bism-run %s --entry transpose3 --input "2x3x4xi32=0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23" | FileCheck %s --check-prefix=TRANSPOSE
// TRANSPOSE:      4x2x3xi32={{\[\[}}0 4 8][12 16 20]]{{\[\[}}1 5 9][13 17 21]]{{\[\[}}2 6 10][14 18 22]]{{\[\[}}3 7 11][15 19 23]]
// TRANSPOSE-NEXT: 3x4x2xi32={{\[\[}}0 12][1 13][2 14][3 15]]{{\[\[}}4 16][5 17][6 18][7 19]]{{\[\[}}8 20][9 21][10 22][11 23]]

func.func @shapes(%x: tensor<2x3xf32>, %b: tensor<3x1xf32>, %s: tensor<f32>) -> (tensor<2x3x2xf32>, tensor<2x2xf32>, tensor<3x2xf32>, tensor<6xf32>, tensor<1x2xf32>, tensor<2x5xf32>, tensor<1x1xf32>) {
  %0 = bism.broadcast %b : tensor<3x1xf32> to tensor<2x3x2xf32>
  %1 = bism.broadcast %s : tensor<f32> to tensor<2x2xf32>
  %2 = bism.transpose %x [1, 0] : tensor<2x3xf32> to tensor<3x2xf32>
  %3 = bism.reshape %x : tensor<2x3xf32> to tensor<6xf32>
  %4 = bism.slice %x starts [1, 0] limits [2, 3] strides [1, 2] : tensor<2x3xf32> to tensor<1x2xf32>
  %c0 = bism.slice %x starts [0, 2] limits [2, 3] strides [1, 1] : tensor<2x3xf32> to tensor<2x1xf32>
  %c1 = bism.slice %x starts [0, 0] limits [2, 1] strides [1, 1] : tensor<2x3xf32> to tensor<2x1xf32>
  %5 = bism.concat %x, %c0, %c1 axis 1 : tensor<2x3xf32>, tensor<2x1xf32>, tensor<2x1xf32> -> tensor<2x5xf32>
  %6 = bism.reshape %s : tensor<f32> to tensor<1x1xf32>
  return %0, %1, %2, %3, %4, %5, %6 : tensor<2x3x2xf32>, tensor<2x2xf32>, tensor<3x2xf32>, tensor<6xf32>, tensor<1x2xf32>, tensor<2x5xf32>, tensor<1x1xf32>
}
func.func @transpose3(%x: tensor<2x3x4xi32>) -> (tensor<4x2x3xi32>, tensor<3x4x2xi32>) {
  %0 = bism.transpose %x [2, 0, 1] : tensor<2x3x4xi32> to tensor<4x2x3xi32>
  %1 = bism.transpose %x [1, 2, 0] : tensor<2x3x4xi32> to tensor<3x4x2xi32>
  return %0, %1 : tensor<4x2x3xi32>, tensor<3x4x2xi32>
}
