// RUN: bism-opt %s --bism-lower-to-linalg | FileCheck %s

// pad: zeros, then the operand inserted at offsets `low` with strides
// `interior + 1`.
// CHECK-LABEL: func.func @pad
// CHECK: %[[Z:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<3x7xf32>)
// CHECK: tensor.insert_slice %{{.*}} into %[[Z]][1, 0] [2, 3] [1, 2] : tensor<2x3xf32> into tensor<3x7xf32>
func.func @pad(%x: tensor<2x3xf32>) -> tensor<3x7xf32> {
  %p = bism.pad %x low [1, 0] high [0, 2] interior [0, 1] : tensor<2x3xf32> to tensor<3x7xf32>
  return %p : tensor<3x7xf32>
}

// reverse: a gather whose map reads size - 1 - d on the reversed dimension.
// CHECK-LABEL: func.func @reverse
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel"]}
func.func @reverse(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %r = bism.reverse %x dims [1] : tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// stop_gradient is the identity once differentiation is over.
// CHECK-LABEL: func.func @stop
// CHECK-SAME: (%[[X:.*]]: tensor<2xf32>)
// CHECK-NEXT: return %[[X]]
func.func @stop(%x: tensor<2xf32>) -> tensor<2xf32> {
  %s = bism.stop_gradient %x : tensor<2xf32>
  return %s : tensor<2xf32>
}
