// Malformed syntax: each chunk reports one error at file:line:col and
// bism-opt exits non-zero.
// RUN: not bism-opt %s -split-input-file 2>&1 | FileCheck %s

func.func @missing_operand(%x: tensor<2xf32>) -> tensor<2xf32> {
  // CHECK: {{^.*[/\\]}}opt_malformed.mlir:[[@LINE+1]]:20: error: expected SSA operand
  %0 = bism.add %x, : tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @missing_type(%x: tensor<2xf32>) -> tensor<2xf32> {
  // The parser wants the type where the line ends.
  // CHECK: {{^.*[/\\]}}opt_malformed.mlir:[[@LINE+1]]:19: error: expected ':'
  %0 = bism.neg %x
  return %0 : tensor<2xf32>
}

// -----

func.func @axes_not_a_list(%x: tensor<2x3xf32>) -> tensor<2xf32> {
  // CHECK: {{^.*[/\\]}}opt_malformed.mlir:[[@LINE+1]]:31: error: expected '['
  %0 = bism.reduce_sum %x axes 1 : tensor<2x3xf32> -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @undefined_value(%x: tensor<2xf32>) -> tensor<2xf32> {
  // CHECK: {{^.*[/\\]}}opt_malformed.mlir:[[@LINE+1]]:17: error: use of undeclared SSA value name
  %0 = bism.exp %y : tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @bad_predicate(%x: tensor<2xf32>) -> tensor<2xi1> {
  // CHECK: {{^.*[/\\]}}opt_malformed.mlir:[[@LINE+1]]:21: error: custom op 'bism.compare' expected string or keyword containing one of the following enum values for attribute 'predicate' [eq, ne, lt, le, gt, ge]
  %0 = bism.compare less, %x, %x : tensor<2xf32>
  return %0 : tensor<2xi1>
}

// -----

func.func @unclosed_type(%x: tensor<2xf32>) -> tensor<2xf32> {
  // CHECK: {{^.*[/\\]}}opt_malformed.mlir:[[@LINE+1]]:35: error: expected '>' in tensor type
  %0 = bism.sqrt %x : tensor<2xf32
  return %0 : tensor<2xf32>
}

// -----

func.func @missing_keyword(%x: tensor<2xf32>) -> tensor<3x2xf32> {
  // CHECK: {{^.*[/\\]}}opt_malformed.mlir:[[@LINE+1]]:42: error: custom op 'bism.broadcast' expected 'to'
  %0 = bism.broadcast %x : tensor<2xf32> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

// The function body is never closed: the error is at the end of the file.
// CHECK: {{^.*[/\\]}}opt_malformed.mlir:[[@LINE+3]]:{{[0-9]+}}: error: expected operation name in quotes
func.func @unterminated(%x: tensor<2xf32>) -> tensor<2xf32> {
  %0 = bism.abs %x : tensor<2xf32>
  return %0 : tensor<2xf32>
