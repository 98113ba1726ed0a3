// RUN: bism-run %s --entry f --input "2x3xf64=1 2 3 4 5 6" | FileCheck %s
// CHECK: 3x7xf64=[0 0 0 0 0 0 0][1 0 2 0 3 0 0][4 0 5 0 6 0 0]
// CHECK-NEXT: 2x3xf64=[3 2 1][6 5 4]
// CHECK-NEXT: 2x3xf64=[6 5 4][3 2 1]
// CHECK-NEXT: 2x3xf64=[1 2 3][4 5 6]
func.func @f(%x: tensor<2x3xf64>) -> (tensor<3x7xf64>, tensor<2x3xf64>, tensor<2x3xf64>, tensor<2x3xf64>) {
  %p = bism.pad %x low [1, 0] high [0, 2] interior [0, 1] : tensor<2x3xf64> to tensor<3x7xf64>
  %r = bism.reverse %x dims [1] : tensor<2x3xf64>
  %r2 = bism.reverse %x dims [0, 1] : tensor<2x3xf64>
  %s = bism.stop_gradient %x : tensor<2x3xf64>
  return %p, %r, %r2, %s : tensor<3x7xf64>, tensor<2x3xf64>, tensor<2x3xf64>, tensor<2x3xf64>
}
