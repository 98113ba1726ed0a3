// An op the bism dialect does not define, in custom and generic form.
// RUN: not bism-opt %s -split-input-file 2>&1 | FileCheck %s

func.func @custom(%x: tensor<2xf32>) -> tensor<2xf32> {
  // CHECK: {{^.*[/\\]}}opt_unknown_op.mlir:[[@LINE+1]]:8: error: custom op 'bism.frobnicate' is unknown
  %0 = bism.frobnicate %x : tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @generic(%x: tensor<2xf32>) -> tensor<2xf32> {
  // CHECK: {{^.*[/\\]}}opt_unknown_op.mlir:[[@LINE+1]]:8: error: unregistered operation 'bism.frobnicate' found in dialect ('bism') that does not allow unknown operations
  %0 = "bism.frobnicate"(%x) : (tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @unknown_dialect(%x: tensor<2xf32>) -> tensor<2xf32> {
  // CHECK: {{^.*[/\\]}}opt_unknown_op.mlir:[[@LINE+1]]:8: error: Dialect `bosm' not found for custom op 'bosm.add'
  %0 = bosm.add %x, %x : tensor<2xf32>
  return %0 : tensor<2xf32>
}
