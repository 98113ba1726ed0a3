// RUN: bism-opt %s --bism-autodiff | FileCheck %s

// The rules of bism.matmul (lib/Dialect/Derivatives/StructuralDerivatives.cpp):
// for C = opA(A) opB(B), dA and dB are single bism.matmul ops whose transpose
// flags absorb every transpose, so no bism.transpose is materialised.

func.func @nn(%a: tensor<3x4xf64>, %b: tensor<4x5xf64>) -> tensor<3x5xf64> {
  %c = bism.matmul %a, %b : tensor<3x4xf64>, tensor<4x5xf64> -> tensor<3x5xf64>
  return %c : tensor<3x5xf64>
}
// dA = dC B^T, dB = A^T dC.
// CHECK-LABEL: func.func @vjp_nn
// CHECK-SAME: (%[[A:.*]]: tensor<3x4xf64>, %[[B:.*]]: tensor<4x5xf64>, %[[U:.*]]: tensor<3x5xf64>)
// CHECK-NOT: bism.transpose
// CHECK-DAG: %[[DA:.*]] = bism.matmul %[[U]], %[[B]] {transpose_rhs} : tensor<3x5xf64>, tensor<4x5xf64> -> tensor<3x4xf64>
// CHECK-DAG: %[[DB:.*]] = bism.matmul %[[A]], %[[U]] {transpose_lhs} : tensor<3x4xf64>, tensor<3x5xf64> -> tensor<4x5xf64>
// CHECK-NOT: bism.transpose
// CHECK: return %[[DA]], %[[DB]]
func.func @vjp_nn(%a: tensor<3x4xf64>, %b: tensor<4x5xf64>, %u: tensor<3x5xf64>) -> (tensor<3x4xf64>, tensor<4x5xf64>) {
  %da, %db = bism.vjp @nn(%a, %b, %u) wrt [0, 1] : (tensor<3x4xf64>, tensor<4x5xf64>, tensor<3x5xf64>) -> (tensor<3x4xf64>, tensor<4x5xf64>)
  return %da, %db : tensor<3x4xf64>, tensor<4x5xf64>
}

// Only the requested operand gets a matmul.
// CHECK-LABEL: func.func @vjp_nn_rhs_only
// CHECK-SAME: (%[[A:.*]]: tensor<3x4xf64>, %[[B:.*]]: tensor<4x5xf64>, %[[U:.*]]: tensor<3x5xf64>)
// CHECK-NOT: {transpose_rhs}
// CHECK: %[[DB:.*]] = bism.matmul %[[A]], %[[U]] {transpose_lhs}
// CHECK-NEXT: return %[[DB]]
func.func @vjp_nn_rhs_only(%a: tensor<3x4xf64>, %b: tensor<4x5xf64>, %u: tensor<3x5xf64>) -> tensor<4x5xf64> {
  %db = bism.vjp @nn(%a, %b, %u) wrt [1] : (tensor<3x4xf64>, tensor<4x5xf64>, tensor<3x5xf64>) -> tensor<4x5xf64>
  return %db : tensor<4x5xf64>
}

func.func @tn(%a: tensor<4x3xf64>, %b: tensor<4x5xf64>) -> tensor<3x5xf64> {
  %c = bism.matmul %a, %b {transpose_lhs} : tensor<4x3xf64>, tensor<4x5xf64> -> tensor<3x5xf64>
  return %c : tensor<3x5xf64>
}
// C = A^T B: dA = B dC^T, dB = A dC.
// CHECK-LABEL: func.func @vjp_tn
// CHECK-SAME: (%[[A:.*]]: tensor<4x3xf64>, %[[B:.*]]: tensor<4x5xf64>, %[[U:.*]]: tensor<3x5xf64>)
// CHECK-DAG: %[[DA:.*]] = bism.matmul %[[B]], %[[U]] {transpose_rhs} : tensor<4x5xf64>, tensor<3x5xf64> -> tensor<4x3xf64>
// CHECK-DAG: %[[DB:.*]] = bism.matmul %[[A]], %[[U]] : tensor<4x3xf64>, tensor<3x5xf64> -> tensor<4x5xf64>
// CHECK: return %[[DA]], %[[DB]]
func.func @vjp_tn(%a: tensor<4x3xf64>, %b: tensor<4x5xf64>, %u: tensor<3x5xf64>) -> (tensor<4x3xf64>, tensor<4x5xf64>) {
  %da, %db = bism.vjp @tn(%a, %b, %u) wrt [0, 1] : (tensor<4x3xf64>, tensor<4x5xf64>, tensor<3x5xf64>) -> (tensor<4x3xf64>, tensor<4x5xf64>)
  return %da, %db : tensor<4x3xf64>, tensor<4x5xf64>
}

func.func @nt(%a: tensor<3x4xf64>, %b: tensor<5x4xf64>) -> tensor<3x5xf64> {
  %c = bism.matmul %a, %b {transpose_rhs} : tensor<3x4xf64>, tensor<5x4xf64> -> tensor<3x5xf64>
  return %c : tensor<3x5xf64>
}
// C = A B^T: dA = dC B, dB = dC^T A.
// CHECK-LABEL: func.func @vjp_nt
// CHECK-SAME: (%[[A:.*]]: tensor<3x4xf64>, %[[B:.*]]: tensor<5x4xf64>, %[[U:.*]]: tensor<3x5xf64>)
// CHECK-DAG: %[[DA:.*]] = bism.matmul %[[U]], %[[B]] : tensor<3x5xf64>, tensor<5x4xf64> -> tensor<3x4xf64>
// CHECK-DAG: %[[DB:.*]] = bism.matmul %[[U]], %[[A]] {transpose_lhs} : tensor<3x5xf64>, tensor<3x4xf64> -> tensor<5x4xf64>
// CHECK: return %[[DA]], %[[DB]]
func.func @vjp_nt(%a: tensor<3x4xf64>, %b: tensor<5x4xf64>, %u: tensor<3x5xf64>) -> (tensor<3x4xf64>, tensor<5x4xf64>) {
  %da, %db = bism.vjp @nt(%a, %b, %u) wrt [0, 1] : (tensor<3x4xf64>, tensor<5x4xf64>, tensor<3x5xf64>) -> (tensor<3x4xf64>, tensor<5x4xf64>)
  return %da, %db : tensor<3x4xf64>, tensor<5x4xf64>
}

func.func @tt(%a: tensor<2x4x3xf64>, %b: tensor<2x5x4xf64>) -> tensor<2x3x5xf64> {
  %c = bism.matmul %a, %b {transpose_lhs, transpose_rhs} : tensor<2x4x3xf64>, tensor<2x5x4xf64> -> tensor<2x3x5xf64>
  return %c : tensor<2x3x5xf64>
}
// Batched C = A^T B^T: dA = B^T dC^T, dB = dC^T A^T.
// CHECK-LABEL: func.func @vjp_tt
// CHECK-SAME: (%[[A:.*]]: tensor<2x4x3xf64>, %[[B:.*]]: tensor<2x5x4xf64>, %[[U:.*]]: tensor<2x3x5xf64>)
// CHECK-DAG: %[[DA:.*]] = bism.matmul %[[B]], %[[U]] {transpose_lhs, transpose_rhs} : tensor<2x5x4xf64>, tensor<2x3x5xf64> -> tensor<2x4x3xf64>
// CHECK-DAG: %[[DB:.*]] = bism.matmul %[[U]], %[[A]] {transpose_lhs, transpose_rhs} : tensor<2x3x5xf64>, tensor<2x4x3xf64> -> tensor<2x5x4xf64>
// CHECK: return %[[DA]], %[[DB]]
func.func @vjp_tt(%a: tensor<2x4x3xf64>, %b: tensor<2x5x4xf64>, %u: tensor<2x3x5xf64>) -> (tensor<2x4x3xf64>, tensor<2x5x4xf64>) {
  %da, %db = bism.vjp @tt(%a, %b, %u) wrt [0, 1] : (tensor<2x4x3xf64>, tensor<2x5x4xf64>, tensor<2x3x5xf64>) -> (tensor<2x4x3xf64>, tensor<2x5x4xf64>)
  return %da, %db : tensor<2x4x3xf64>, tensor<2x5x4xf64>
}

// Forward mode: dC = opA(dA) opB(B) + opA(A) opB(dB), same flags as the primal.
// CHECK-LABEL: func.func @jvp_tt
// CHECK-SAME: (%[[A:.*]]: tensor<2x4x3xf64>, %[[B:.*]]: tensor<2x5x4xf64>, %[[TA:.*]]: tensor<2x4x3xf64>, %[[TB:.*]]: tensor<2x5x4xf64>)
// CHECK-DAG: %[[L:.*]] = bism.matmul %[[TA]], %[[B]] {transpose_lhs, transpose_rhs}
// CHECK-DAG: %[[R:.*]] = bism.matmul %[[A]], %[[TB]] {transpose_lhs, transpose_rhs}
// CHECK: %[[T:.*]] = bism.add %[[L]], %[[R]] : tensor<2x3x5xf64>
// CHECK: return %[[T]]
func.func @jvp_tt(%a: tensor<2x4x3xf64>, %b: tensor<2x5x4xf64>, %ta: tensor<2x4x3xf64>, %tb: tensor<2x5x4xf64>) -> tensor<2x3x5xf64> {
  %t = bism.jvp @tt(%a, %b, %ta, %tb) wrt [0, 1] : (tensor<2x4x3xf64>, tensor<2x5x4xf64>, tensor<2x4x3xf64>, tensor<2x5x4xf64>) -> tensor<2x3x5xf64>
  return %t : tensor<2x3x5xf64>
}
