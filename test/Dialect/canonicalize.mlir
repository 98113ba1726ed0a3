// Folders and canonicalisation patterns of the bism ops, and cases that must
// stay as they are.
// RUN: bism-opt %s --canonicalize --split-input-file | FileCheck %s

// CHECK-LABEL: func.func @add_zero
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-NOT: bism.add
// CHECK: return %[[X]], %[[X]] : tensor<2x3xf32>, tensor<2x3xf32>
func.func @add_zero(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  %zero = bism.constant dense<0.0> : tensor<2x3xf32>
  %0 = bism.add %x, %zero : tensor<2x3xf32>
  %1 = bism.add %zero, %x : tensor<2x3xf32>
  return %0, %1 : tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @add_nonzero_stays
// CHECK-DAG: %[[ONE:.*]] = bism.constant dense<1.000000e+00> : tensor<4xf64>
// CHECK-DAG: %[[MIXED:.*]] = bism.constant dense<[0.000000e+00, 0.000000e+00, 0.000000e+00, 1.000000e+00]> : tensor<4xf64>
// CHECK: bism.add %{{.*}}, %[[ONE]] : tensor<4xf64>
// CHECK: bism.add %{{.*}}, %[[MIXED]] : tensor<4xf64>
func.func @add_nonzero_stays(%x: tensor<4xf64>) -> (tensor<4xf64>, tensor<4xf64>) {
  %one = bism.constant dense<1.0> : tensor<4xf64>
  %mixed = bism.constant dense<[0.0, 0.0, 0.0, 1.0]> : tensor<4xf64>
  %0 = bism.add %x, %one : tensor<4xf64>
  %1 = bism.add %x, %mixed : tensor<4xf64>
  return %0, %1 : tensor<4xf64>, tensor<4xf64>
}

// -----

// CHECK-LABEL: func.func @sub_zero
// CHECK-SAME: (%[[X:.*]]: tensor<3xf64>)
// CHECK: %[[ZERO:.*]] = bism.constant dense<0.000000e+00> : tensor<3xf64>
// CHECK: %[[NEG:.*]] = bism.sub %[[ZERO]], %[[X]] : tensor<3xf64>
// CHECK: return %[[X]], %[[NEG]]
func.func @sub_zero(%x: tensor<3xf64>) -> (tensor<3xf64>, tensor<3xf64>) {
  %zero = bism.constant dense<0.0> : tensor<3xf64>
  %0 = bism.sub %x, %zero : tensor<3xf64>
  // 0 - x is not x.
  %1 = bism.sub %zero, %x : tensor<3xf64>
  return %0, %1 : tensor<3xf64>, tensor<3xf64>
}

// -----

// CHECK-LABEL: func.func @mul_one
// CHECK-SAME: (%[[X:.*]]: tensor<f32>)
// CHECK-NOT: bism.mul
// CHECK: return %[[X]], %[[X]] : tensor<f32>, tensor<f32>
func.func @mul_one(%x: tensor<f32>) -> (tensor<f32>, tensor<f32>) {
  %one = bism.constant dense<1.0> : tensor<f32>
  %0 = bism.mul %x, %one : tensor<f32>
  %1 = bism.mul %one, %x : tensor<f32>
  return %0, %1 : tensor<f32>, tensor<f32>
}

// -----

// x * 0 is not folded (NaN and infinity inputs).
// CHECK-LABEL: func.func @mul_zero_stays
// CHECK: %[[ZERO:.*]] = bism.constant dense<0.000000e+00> : tensor<2xf32>
// CHECK: %[[R:.*]] = bism.mul %{{.*}}, %[[ZERO]] : tensor<2xf32>
// CHECK: return %[[R]]
func.func @mul_zero_stays(%x: tensor<2xf32>) -> tensor<2xf32> {
  %zero = bism.constant dense<0.0> : tensor<2xf32>
  %0 = bism.mul %x, %zero : tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// CHECK-LABEL: func.func @div_one
// CHECK-SAME: (%[[X:.*]]: tensor<2x2xf64>)
// CHECK: %[[ONE:.*]] = bism.constant dense<1.000000e+00> : tensor<2x2xf64>
// CHECK: %[[R:.*]] = bism.div %[[ONE]], %[[X]] : tensor<2x2xf64>
// CHECK: return %[[X]], %[[R]]
func.func @div_one(%x: tensor<2x2xf64>) -> (tensor<2x2xf64>, tensor<2x2xf64>) {
  %one = bism.constant dense<1.0> : tensor<2x2xf64>
  %0 = bism.div %x, %one : tensor<2x2xf64>
  // 1 / x stays.
  %1 = bism.div %one, %x : tensor<2x2xf64>
  return %0, %1 : tensor<2x2xf64>, tensor<2x2xf64>
}

// -----

// CHECK-LABEL: func.func @neg_neg
// CHECK-SAME: (%[[X:.*]]: tensor<5xf32>)
// CHECK: %[[N:.*]] = bism.neg %[[X]] : tensor<5xf32>
// CHECK-NOT: bism.neg
// CHECK: return %[[X]], %[[N]]
func.func @neg_neg(%x: tensor<5xf32>) -> (tensor<5xf32>, tensor<5xf32>) {
  %0 = bism.neg %x : tensor<5xf32>
  %1 = bism.neg %0 : tensor<5xf32>
  return %1, %0 : tensor<5xf32>, tensor<5xf32>
}

// -----

// CHECK-LABEL: func.func @transpose_identity
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK-NOT: bism.transpose
// CHECK: return %[[X]], %[[X]]
func.func @transpose_identity(%x: tensor<2x3x4xf32>) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>) {
  %0 = bism.transpose %x [0, 1, 2] : tensor<2x3x4xf32> to tensor<2x3x4xf32>
  %1 = bism.transpose %x [1, 0, 2] : tensor<2x3x4xf32> to tensor<3x2x4xf32>
  %2 = bism.transpose %1 [1, 0, 2] : tensor<3x2x4xf32> to tensor<2x3x4xf32>
  return %0, %2 : tensor<2x3x4xf32>, tensor<2x3x4xf32>
}

// -----

// [1, 2, 0] twice is [2, 0, 1]: result dim i is x dim inner[outer[i]].
// CHECK-LABEL: func.func @transpose_compose
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf64>)
// CHECK: %[[T:.*]] = bism.transpose %[[X]] [2, 0, 1] : tensor<2x3x4xf64> to tensor<4x2x3xf64>
// CHECK-NOT: bism.transpose
// CHECK: return %[[T]]
func.func @transpose_compose(%x: tensor<2x3x4xf64>) -> tensor<4x2x3xf64> {
  %0 = bism.transpose %x [1, 2, 0] : tensor<2x3x4xf64> to tensor<3x4x2xf64>
  %1 = bism.transpose %0 [1, 2, 0] : tensor<3x4x2xf64> to tensor<4x2x3xf64>
  return %1 : tensor<4x2x3xf64>
}

// -----

// An inner transpose with another use stays, the outer one still composes.
// CHECK-LABEL: func.func @transpose_compose_shared
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK-DAG: %[[A:.*]] = bism.transpose %[[X]] [2, 1, 0] : tensor<2x3x4xf32> to tensor<4x3x2xf32>
// CHECK-DAG: %[[B:.*]] = bism.transpose %[[X]] [1, 2, 0] : tensor<2x3x4xf32> to tensor<3x4x2xf32>
// CHECK: return %[[A]], %[[B]]
func.func @transpose_compose_shared(%x: tensor<2x3x4xf32>) -> (tensor<4x3x2xf32>, tensor<3x4x2xf32>) {
  %0 = bism.transpose %x [2, 1, 0] : tensor<2x3x4xf32> to tensor<4x3x2xf32>
  %1 = bism.transpose %0 [1, 0, 2] : tensor<4x3x2xf32> to tensor<3x4x2xf32>
  return %0, %1 : tensor<4x3x2xf32>, tensor<3x4x2xf32>
}

// -----

// CHECK-LABEL: func.func @transpose_splat
// CHECK: %[[C:.*]] = bism.constant dense<2.000000e+00> : tensor<3x2xf32>
// CHECK-NOT: bism.transpose
// CHECK: return %[[C]]
func.func @transpose_splat() -> tensor<3x2xf32> {
  %c = bism.constant dense<2.0> : tensor<2x3xf32>
  %0 = bism.transpose %c [1, 0] : tensor<2x3xf32> to tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

// CHECK-LABEL: func.func @reshape_reshape
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK: %[[R:.*]] = bism.reshape %[[X]] : tensor<2x3x4xf32> to tensor<4x6xf32>
// CHECK-NOT: bism.reshape
// CHECK: return %[[R]]
func.func @reshape_reshape(%x: tensor<2x3x4xf32>) -> tensor<4x6xf32> {
  %0 = bism.reshape %x : tensor<2x3x4xf32> to tensor<24xf32>
  %1 = bism.reshape %0 : tensor<24xf32> to tensor<4x6xf32>
  return %1 : tensor<4x6xf32>
}

// -----

// CHECK-LABEL: func.func @reshape_identity
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf64>)
// CHECK-NOT: bism.reshape
// CHECK: return %[[X]], %[[X]]
func.func @reshape_identity(%x: tensor<2x3xf64>) -> (tensor<2x3xf64>, tensor<2x3xf64>) {
  %0 = bism.reshape %x : tensor<2x3xf64> to tensor<2x3xf64>
  %1 = bism.reshape %x : tensor<2x3xf64> to tensor<3x2xf64>
  %2 = bism.reshape %1 : tensor<3x2xf64> to tensor<2x3xf64>
  return %0, %2 : tensor<2x3xf64>, tensor<2x3xf64>
}

// -----

// CHECK-LABEL: func.func @reshape_constant
// CHECK: %[[C:.*]] = bism.constant dense<{{\[}}[1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00]]> : tensor<2x2xf32>
// CHECK-NOT: bism.reshape
// CHECK: return %[[C]]
func.func @reshape_constant() -> tensor<2x2xf32> {
  %c = bism.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %0 = bism.reshape %c : tensor<4xf32> to tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

// CHECK-LABEL: func.func @broadcast_splat
// CHECK-DAG: %[[C:.*]] = bism.constant dense<3.000000e+00> : tensor<5x4xf64>
// CHECK-DAG: %[[B:.*]] = bism.constant dense<true> : tensor<2x3xi1>
// CHECK-NOT: bism.broadcast
// CHECK: return %[[C]], %[[B]]
func.func @broadcast_splat() -> (tensor<5x4xf64>, tensor<2x3xi1>) {
  %c = bism.constant dense<3.0> : tensor<1xf64>
  %0 = bism.broadcast %c : tensor<1xf64> to tensor<5x4xf64>
  %t = bism.constant dense<true> : tensor<i1>
  %1 = bism.broadcast %t : tensor<i1> to tensor<2x3xi1>
  return %0, %1 : tensor<5x4xf64>, tensor<2x3xi1>
}

// -----

// A broadcast of a non-splat constant stays.
// CHECK-LABEL: func.func @broadcast_constant_stays
// CHECK: %[[C:.*]] = bism.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK: %[[B:.*]] = bism.broadcast %[[C]] : tensor<2xf32> to tensor<3x2xf32>
// CHECK: return %[[B]]
func.func @broadcast_constant_stays() -> tensor<3x2xf32> {
  %c = bism.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %0 = bism.broadcast %c : tensor<2xf32> to tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

// CHECK-LABEL: func.func @broadcast_broadcast
// CHECK-SAME: (%[[X:.*]]: tensor<3x1xf32>)
// CHECK: %[[B:.*]] = bism.broadcast %[[X]] : tensor<3x1xf32> to tensor<2x3x4xf32>
// CHECK-NOT: bism.broadcast
// CHECK: return %[[B]]
func.func @broadcast_broadcast(%x: tensor<3x1xf32>) -> tensor<2x3x4xf32> {
  %0 = bism.broadcast %x : tensor<3x1xf32> to tensor<1x3x4xf32>
  %1 = bism.broadcast %0 : tensor<1x3x4xf32> to tensor<2x3x4xf32>
  return %1 : tensor<2x3x4xf32>
}

// -----

// CHECK-LABEL: func.func @broadcast_identity
// CHECK-SAME: (%[[X:.*]]: tensor<3x4xf64>)
// CHECK-NOT: bism.broadcast
// CHECK: return %[[X]]
func.func @broadcast_identity(%x: tensor<3x4xf64>) -> tensor<3x4xf64> {
  %0 = bism.broadcast %x : tensor<3x4xf64> to tensor<3x4xf64>
  return %0 : tensor<3x4xf64>
}

// -----

// CHECK-LABEL: func.func @select_same
// CHECK-SAME: (%[[C:.*]]: tensor<4xi1>, %[[X:.*]]: tensor<4xf32>, %[[Y:.*]]: tensor<4xf32>)
// CHECK-NOT: bism.select
// CHECK: return %[[X]], %[[X]], %[[Y]]
func.func @select_same(%c: tensor<4xi1>, %x: tensor<4xf32>, %y: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %0 = bism.select %c, %x, %x : tensor<4xf32>
  %true = bism.constant dense<true> : tensor<4xi1>
  %false = bism.constant dense<false> : tensor<4xi1>
  %1 = bism.select %true, %x, %y : tensor<4xf32>
  %2 = bism.select %false, %x, %y : tensor<4xf32>
  return %0, %1, %2 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @select_stays
// CHECK-SAME: (%[[C:.*]]: tensor<2xi1>, %[[X:.*]]: tensor<2xf64>, %[[Y:.*]]: tensor<2xf64>)
// CHECK: %[[M:.*]] = bism.constant dense<[true, false]> : tensor<2xi1>
// CHECK: %[[A:.*]] = bism.select %[[C]], %[[X]], %[[Y]] : tensor<2xf64>
// CHECK: %[[B:.*]] = bism.select %[[M]], %[[X]], %[[Y]] : tensor<2xf64>
// CHECK: return %[[A]], %[[B]]
func.func @select_stays(%c: tensor<2xi1>, %x: tensor<2xf64>, %y: tensor<2xf64>) -> (tensor<2xf64>, tensor<2xf64>) {
  %0 = bism.select %c, %x, %y : tensor<2xf64>
  %mixed = bism.constant dense<[true, false]> : tensor<2xi1>
  %1 = bism.select %mixed, %x, %y : tensor<2xf64>
  return %0, %1 : tensor<2xf64>, tensor<2xf64>
}

// -----

// CHECK-LABEL: func.func @slice_whole
// CHECK-SAME: (%[[X:.*]]: tensor<4x1xf32>)
// CHECK: %[[S:.*]] = bism.slice %[[X]] starts [1, 0] limits [4, 1] strides [2, 1] : tensor<4x1xf32> to tensor<2x1xf32>
// CHECK: return %[[X]], %[[X]], %[[S]]
func.func @slice_whole(%x: tensor<4x1xf32>) -> (tensor<4x1xf32>, tensor<4x1xf32>, tensor<2x1xf32>) {
  %0 = bism.slice %x starts [0, 0] limits [4, 1] strides [1, 1] : tensor<4x1xf32> to tensor<4x1xf32>
  // A size-1 dimension with a large stride still takes the whole tensor.
  %1 = bism.slice %x starts [0, 0] limits [4, 1] strides [1, 7] : tensor<4x1xf32> to tensor<4x1xf32>
  %2 = bism.slice %x starts [1, 0] limits [4, 1] strides [2, 1] : tensor<4x1xf32> to tensor<2x1xf32>
  return %0, %1, %2 : tensor<4x1xf32>, tensor<4x1xf32>, tensor<2x1xf32>
}

// -----

// CHECK-LABEL: func.func @slice_splat
// CHECK: %[[C:.*]] = bism.constant dense<-1.000000e+00> : tensor<2xf64>
// CHECK-NOT: bism.slice
// CHECK: return %[[C]]
func.func @slice_splat() -> tensor<2xf64> {
  %c = bism.constant dense<-1.0> : tensor<8xf64>
  %0 = bism.slice %c starts [1] limits [8] strides [4] : tensor<8xf64> to tensor<2xf64>
  return %0 : tensor<2xf64>
}

// -----

// CHECK-LABEL: func.func @concat_one
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
// CHECK: %[[C:.*]] = bism.concat %[[X]], %[[X]] axis 0 : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
// CHECK: return %[[X]], %[[C]]
func.func @concat_one(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<4x3xf32>) {
  %0 = bism.concat %x axis 1 : tensor<2x3xf32> -> tensor<2x3xf32>
  %1 = bism.concat %x, %x axis 0 : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  return %0, %1 : tensor<2x3xf32>, tensor<4x3xf32>
}

// -----

// CHECK-LABEL: func.func @convert_same
// CHECK-SAME: (%[[X:.*]]: tensor<3xf64>)
// CHECK: %[[C:.*]] = bism.convert %[[X]] : tensor<3xf64> to tensor<3xf32>
// CHECK: return %[[X]], %[[C]]
func.func @convert_same(%x: tensor<3xf64>) -> (tensor<3xf64>, tensor<3xf32>) {
  %0 = bism.convert %x : tensor<3xf64> to tensor<3xf64>
  %1 = bism.convert %x : tensor<3xf64> to tensor<3xf32>
  return %0, %1 : tensor<3xf64>, tensor<3xf32>
}

// -----

// Ops without folders are left alone; unused pure ops are erased.
// CHECK-LABEL: func.func @no_folding
// CHECK: bism.exp
// CHECK: bism.matmul
// CHECK: bism.reduce_sum
// CHECK-NOT: bism.log
// CHECK: return
func.func @no_folding(%x: tensor<2x2xf32>) -> tensor<2xf32> {
  %0 = bism.exp %x : tensor<2x2xf32>
  %1 = bism.matmul %0, %x : tensor<2x2xf32>, tensor<2x2xf32> -> tensor<2x2xf32>
  %2 = bism.reduce_sum %1 axes [0] : tensor<2x2xf32> -> tensor<2xf32>
  %unused = bism.log %x : tensor<2x2xf32>
  return %2 : tensor<2xf32>
}
