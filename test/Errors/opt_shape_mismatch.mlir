// Shape mismatches caught by the parser (one type for both operands) and by
// the verifiers.
// RUN: not bism-opt %s -split-input-file 2>&1 | FileCheck %s

func.func @binary(%x: tensor<2xf32>, %y: tensor<3xf32>) -> tensor<2xf32> {
  // CHECK: {{^.*[/\\]}}opt_shape_mismatch.mlir:[[@LINE+2]]:21: error: use of value '%y' expects different type than prior uses: 'tensor<2xf32>' vs 'tensor<3xf32>'
  // CHECK: {{^.*[/\\]}}opt_shape_mismatch.mlir:[[@LINE-2]]:38: note: prior use here
  %0 = bism.add %x, %y : tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @matmul(%a: tensor<3x4xf32>, %b: tensor<5x6xf32>) -> tensor<3x6xf32> {
  // CHECK: {{^.*[/\\]}}opt_shape_mismatch.mlir:[[@LINE+1]]:8: error: 'bism.matmul' op contracting dimensions differ: lhs has 4, rhs has 5
  %0 = bism.matmul %a, %b : tensor<3x4xf32>, tensor<5x6xf32> -> tensor<3x6xf32>
  return %0 : tensor<3x6xf32>
}

// -----

func.func @broadcast(%a: tensor<3xf64>) -> tensor<3x4xf64> {
  // CHECK: {{^.*[/\\]}}opt_shape_mismatch.mlir:[[@LINE+1]]:8: error: 'bism.broadcast' op operand dimension 0 (size 3) must be 1 or 4 to broadcast 'tensor<3xf64>' to 'tensor<3x4xf64>'
  %0 = bism.broadcast %a : tensor<3xf64> to tensor<3x4xf64>
  return %0 : tensor<3x4xf64>
}

// -----

func.func @reduce(%a: tensor<2x3xf32>) -> tensor<3xf32> {
  // CHECK: {{^.*[/\\]}}opt_shape_mismatch.mlir:[[@LINE+1]]:8: error: 'bism.reduce_sum' op result type must be 'tensor<2xf32>', got 'tensor<3xf32>'
  %0 = bism.reduce_sum %a axes [1] : tensor<2x3xf32> -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @return_type(%a: tensor<2xf32>) -> tensor<3xf32> {
  %0 = bism.relu %a : tensor<2xf32>
  // CHECK: {{^.*[/\\]}}opt_shape_mismatch.mlir:[[@LINE+1]]:3: error: type of return operand 0 ('tensor<2xf32>') doesn't match function result type ('tensor<3xf32>') in function @return_type
  return %0 : tensor<2xf32>
}
