// Round trip of bism.pad, bism.reverse and bism.stop_gradient (added with
// autodiff: the derivatives of strided slices, convolutions and pooling).
// RUN: bism-opt %s | bism-opt | FileCheck %s
// RUN: bism-opt %s --mlir-print-op-generic | bism-opt | FileCheck %s
// RUN: bism-opt %s --canonicalize | FileCheck %s --check-prefix=CANON

// CHECK-LABEL: func.func @roundtrip
// CHECK: bism.pad %{{.*}} low [1, 0] high [0, 2] interior [0, 1] : tensor<2x3xf32> to tensor<3x7xf32>
// CHECK: bism.reverse %{{.*}} dims [0, 1] : tensor<2x3xf32>
// CHECK: bism.stop_gradient %{{.*}} : tensor<2x3xf64>
func.func @roundtrip(%x: tensor<2x3xf32>, %y: tensor<2x3xf64>) -> (tensor<3x7xf32>, tensor<2x3xf32>, tensor<2x3xf64>) {
  %p = bism.pad %x low [1, 0] high [0, 2] interior [0, 1] : tensor<2x3xf32> to tensor<3x7xf32>
  %r = bism.reverse %x dims [0, 1] : tensor<2x3xf32>
  %s = bism.stop_gradient %y : tensor<2x3xf64>
  return %p, %r, %s : tensor<3x7xf32>, tensor<2x3xf32>, tensor<2x3xf64>
}

// Folds: padding by nothing, reversing twice, reversing size-1 dims.
// stop_gradient is never folded (it must survive until autodiff).
// CANON-LABEL: func.func @folds
// CANON-SAME: (%[[X:.*]]: tensor<1x3xf32>)
// CANON-NEXT: %[[S:.*]] = bism.stop_gradient %[[X]]
// CANON-NEXT: return %[[X]], %[[X]], %[[X]], %[[S]]
func.func @folds(%x: tensor<1x3xf32>) -> (tensor<1x3xf32>, tensor<1x3xf32>, tensor<1x3xf32>, tensor<1x3xf32>) {
  %p = bism.pad %x low [0, 0] high [0, 0] interior [0, 0] : tensor<1x3xf32> to tensor<1x3xf32>
  %r1 = bism.reverse %x dims [1] : tensor<1x3xf32>
  %r2 = bism.reverse %r1 dims [1] : tensor<1x3xf32>
  %r3 = bism.reverse %x dims [0] : tensor<1x3xf32>
  %s = bism.stop_gradient %x : tensor<1x3xf32>
  return %p, %r2, %r3, %s : tensor<1x3xf32>, tensor<1x3xf32>, tensor<1x3xf32>, tensor<1x3xf32>
}
