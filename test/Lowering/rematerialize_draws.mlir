// --bism-rematerialize-draws: a draw (a kernel that reads no tensor) used at
// the start and again at the end of a function is drawn twice, each copy
// just before its reader and under a kernel name of its own (the outliner
// groups ops by name), rather than held from start to end.
// RUN: bism-opt %s --bism-to-kernels --bism-rematerialize-draws | FileCheck %s
// --bism-drop-optimization-barriers: each barrier result becomes its operand.
// RUN: bism-opt %s --bism-drop-optimization-barriers | FileCheck %s --check-prefix=DROP

func.func @step(%key: tensor<2xi32>, %x: tensor<8x4xf32>, %w: tensor<4x4xf32>) -> (tensor<8x4xf32>, tensor<8x4xf32>) {
  %noise = bism.random_normal %key : tensor<8x4xf32>
  %a = bism.add %x, %noise : tensor<8x4xf32>
  %b = bism.matmul %a, %w : tensor<8x4xf32>, tensor<4x4xf32> -> tensor<8x4xf32>
  %c = bism.tanh %b : tensor<8x4xf32>
  %d = bism.matmul %c, %w : tensor<8x4xf32>, tensor<4x4xf32> -> tensor<8x4xf32>
  %e = bism.mul %d, %noise : tensor<8x4xf32>
  return %a, %e : tensor<8x4xf32>, tensor<8x4xf32>
}

// CHECK-LABEL: func.func @step(
// CHECK:         %[[E1:.*]] = tensor.empty() : tensor<16x2xf32>
// CHECK-NEXT:    %[[N1:.*]] = linalg.generic {{.*}} outs(%[[E1]] : tensor<16x2xf32>) attrs = {bism.kernel = "step.k0"
// CHECK:         %[[F1:.*]] = tensor.collapse_shape %[[N1]]
// CHECK-NEXT:    linalg.generic {{.*}} ins(%{{.*}}, %[[F1]] :
// CHECK:         linalg.matmul
// CHECK:         linalg.matmul
// CHECK:         %[[E2:.*]] = tensor.empty() : tensor<16x2xf32>
// CHECK-NEXT:    %[[N2:.*]] = linalg.generic {{.*}} outs(%[[E2]] : tensor<16x2xf32>) attrs = {bism.kernel = "step.k0.1"
// CHECK:         %[[F2:.*]] = tensor.collapse_shape %[[N2]]
// CHECK-NEXT:    linalg.generic {{.*}} ins(%{{.*}}, %[[F2]] :
// CHECK-NOT:     linalg.generic {{.*}} outs(%{{.*}} : tensor<16x2xf32>)
// CHECK:         return

func.func @barrier(%x: tensor<3xf64>, %y: tensor<3xf64>) -> tensor<3xf64> {
  %b:2 = bism.optimization_barrier %x, %y : tensor<3xf64>, tensor<3xf64>
  %s = bism.add %b#0, %b#1 : tensor<3xf64>
  return %s : tensor<3xf64>
}
// DROP-LABEL: func.func @barrier(
// DROP-NEXT:    %[[S:.*]] = bism.add %arg0, %arg1
// DROP-NEXT:    return %[[S]]
