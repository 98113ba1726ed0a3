// RUN: bism-opt %s --bism-autodiff | FileCheck %s

// The rules of bism.broadcast and the reductions
// (lib/Dialect/Derivatives/StructuralDerivatives.cpp). The VJP of a broadcast
// is a reduce_sum over the dimensions it created or expanded from 1, then a
// reshape to the operand's shape; the VJP of a reduction reshapes the
// cotangent to the keep_dims shape and broadcasts it back.

// Rank-expanding: the new leading dimension is summed.
func.func @bcast_rank(%x: tensor<3xf64>) -> tensor<4x3xf64> {
  %y = bism.broadcast %x : tensor<3xf64> to tensor<4x3xf64>
  return %y : tensor<4x3xf64>
}
// CHECK-LABEL: func.func @vjp_bcast_rank
// CHECK-SAME: (%[[X:.*]]: tensor<3xf64>, %[[U:.*]]: tensor<4x3xf64>)
// CHECK: %[[S:.*]] = bism.reduce_sum %[[U]] axes [0] keep_dims : tensor<4x3xf64> -> tensor<1x3xf64>
// CHECK-NEXT: %[[G:.*]] = bism.reshape %[[S]] : tensor<1x3xf64> to tensor<3xf64>
// CHECK-NEXT: return %[[G]]
func.func @vjp_bcast_rank(%x: tensor<3xf64>, %u: tensor<4x3xf64>) -> tensor<3xf64> {
  %g = bism.vjp @bcast_rank(%x, %u) wrt [0] : (tensor<3xf64>, tensor<4x3xf64>) -> tensor<3xf64>
  return %g : tensor<3xf64>
}

// Size-1 expanding: the keep_dims sum already has the operand's type.
func.func @bcast_ones(%x: tensor<4x1xf64>) -> tensor<4x3xf64> {
  %y = bism.broadcast %x : tensor<4x1xf64> to tensor<4x3xf64>
  return %y : tensor<4x3xf64>
}
// CHECK-LABEL: func.func @vjp_bcast_ones
// CHECK-SAME: (%[[X:.*]]: tensor<4x1xf64>, %[[U:.*]]: tensor<4x3xf64>)
// CHECK: %[[S:.*]] = bism.reduce_sum %[[U]] axes [1] keep_dims : tensor<4x3xf64> -> tensor<4x1xf64>
// CHECK-NEXT: return %[[S]]
func.func @vjp_bcast_ones(%x: tensor<4x1xf64>, %u: tensor<4x3xf64>) -> tensor<4x1xf64> {
  %g = bism.vjp @bcast_ones(%x, %u) wrt [0] : (tensor<4x1xf64>, tensor<4x3xf64>) -> tensor<4x1xf64>
  return %g : tensor<4x1xf64>
}

// Both: a new dimension and an expanded size-1 dimension.
func.func @bcast_both(%x: tensor<1x3xf64>) -> tensor<2x4x3xf64> {
  %y = bism.broadcast %x : tensor<1x3xf64> to tensor<2x4x3xf64>
  return %y : tensor<2x4x3xf64>
}
// CHECK-LABEL: func.func @vjp_bcast_both
// CHECK-SAME: (%[[X:.*]]: tensor<1x3xf64>, %[[U:.*]]: tensor<2x4x3xf64>)
// CHECK: %[[S:.*]] = bism.reduce_sum %[[U]] axes [0, 1] keep_dims : tensor<2x4x3xf64> -> tensor<1x1x3xf64>
// CHECK-NEXT: %[[G:.*]] = bism.reshape %[[S]] : tensor<1x1x3xf64> to tensor<1x3xf64>
// CHECK-NEXT: return %[[G]]
func.func @vjp_bcast_both(%x: tensor<1x3xf64>, %u: tensor<2x4x3xf64>) -> tensor<1x3xf64> {
  %g = bism.vjp @bcast_both(%x, %u) wrt [0] : (tensor<1x3xf64>, tensor<2x4x3xf64>) -> tensor<1x3xf64>
  return %g : tensor<1x3xf64>
}
// The JVP of a broadcast is the broadcast of the tangent.
// CHECK-LABEL: func.func @jvp_bcast_both
// CHECK-SAME: (%[[X:.*]]: tensor<1x3xf64>, %[[T:.*]]: tensor<1x3xf64>)
// CHECK: %[[G:.*]] = bism.broadcast %[[T]] : tensor<1x3xf64> to tensor<2x4x3xf64>
// CHECK-NEXT: return %[[G]]
func.func @jvp_bcast_both(%x: tensor<1x3xf64>, %t: tensor<1x3xf64>) -> tensor<2x4x3xf64> {
  %g = bism.jvp @bcast_both(%x, %t) wrt [0] : (tensor<1x3xf64>, tensor<1x3xf64>) -> tensor<2x4x3xf64>
  return %g : tensor<2x4x3xf64>
}

// reduce_sum without keep_dims: reshape to the keep_dims shape, broadcast.
func.func @sum(%x: tensor<3x4x5xf64>) -> tensor<4xf64> {
  %y = bism.reduce_sum %x axes [0, 2] : tensor<3x4x5xf64> -> tensor<4xf64>
  return %y : tensor<4xf64>
}
// CHECK-LABEL: func.func @vjp_sum
// CHECK-SAME: (%[[X:.*]]: tensor<3x4x5xf64>, %[[U:.*]]: tensor<4xf64>)
// CHECK: %[[R:.*]] = bism.reshape %[[U]] : tensor<4xf64> to tensor<1x4x1xf64>
// CHECK-NEXT: %[[G:.*]] = bism.broadcast %[[R]] : tensor<1x4x1xf64> to tensor<3x4x5xf64>
// CHECK-NEXT: return %[[G]]
func.func @vjp_sum(%x: tensor<3x4x5xf64>, %u: tensor<4xf64>) -> tensor<3x4x5xf64> {
  %g = bism.vjp @sum(%x, %u) wrt [0] : (tensor<3x4x5xf64>, tensor<4xf64>) -> tensor<3x4x5xf64>
  return %g : tensor<3x4x5xf64>
}
// CHECK-LABEL: func.func @jvp_sum
// CHECK-SAME: (%[[X:.*]]: tensor<3x4x5xf64>, %[[T:.*]]: tensor<3x4x5xf64>)
// CHECK: %[[G:.*]] = bism.reduce_sum %[[T]] axes [0, 2] : tensor<3x4x5xf64> -> tensor<4xf64>
// CHECK-NEXT: return %[[G]]
func.func @jvp_sum(%x: tensor<3x4x5xf64>, %t: tensor<3x4x5xf64>) -> tensor<4xf64> {
  %g = bism.jvp @sum(%x, %t) wrt [0] : (tensor<3x4x5xf64>, tensor<3x4x5xf64>) -> tensor<4xf64>
  return %g : tensor<4xf64>
}

// reduce_mean with keep_dims: scale by 1/count, no reshape needed.
func.func @mean(%x: tensor<3x4xf64>) -> tensor<3x1xf64> {
  %y = bism.reduce_mean %x axes [1] keep_dims : tensor<3x4xf64> -> tensor<3x1xf64>
  return %y : tensor<3x1xf64>
}
// CHECK-LABEL: func.func @vjp_mean
// CHECK-SAME: (%[[X:.*]]: tensor<3x4xf64>, %[[U:.*]]: tensor<3x1xf64>)
// CHECK: %[[C:.*]] = bism.constant dense<2.500000e-01> : tensor<3x1xf64>
// CHECK-NEXT: %[[S:.*]] = bism.mul %[[U]], %[[C]] : tensor<3x1xf64>
// CHECK-NEXT: %[[G:.*]] = bism.broadcast %[[S]] : tensor<3x1xf64> to tensor<3x4xf64>
// CHECK-NEXT: return %[[G]]
func.func @vjp_mean(%x: tensor<3x4xf64>, %u: tensor<3x1xf64>) -> tensor<3x4xf64> {
  %g = bism.vjp @mean(%x, %u) wrt [0] : (tensor<3x4xf64>, tensor<3x1xf64>) -> tensor<3x4xf64>
  return %g : tensor<3x4xf64>
}

// reduce_max: the cotangent goes to the positions equal to the maximum,
// split evenly among ties (mask / count).
func.func @max(%x: tensor<3x4xf64>) -> tensor<3xf64> {
  %y = bism.reduce_max %x axes [1] : tensor<3x4xf64> -> tensor<3xf64>
  return %y : tensor<3xf64>
}
// CHECK-LABEL: func.func @vjp_max
// CHECK-SAME: (%[[X:.*]]: tensor<3x4xf64>, %[[U:.*]]: tensor<3xf64>)
// CHECK: %[[M:.*]] = bism.reduce_max %[[X]] axes [1]
// CHECK: %[[MR:.*]] = bism.reshape %[[M]] : tensor<3xf64> to tensor<3x1xf64>
// CHECK: %[[MB:.*]] = bism.broadcast %[[MR]] : tensor<3x1xf64> to tensor<3x4xf64>
// CHECK: %[[EQ:.*]] = bism.compare eq, %[[X]], %[[MB]] : tensor<3x4xf64>
// CHECK: %[[MASK:.*]] = bism.select %[[EQ]], %{{.*}}, %{{.*}} : tensor<3x4xf64>
// CHECK: %[[N:.*]] = bism.reduce_sum %[[MASK]] axes [1] keep_dims : tensor<3x4xf64> -> tensor<3x1xf64>
// CHECK: %[[NB:.*]] = bism.broadcast %[[N]] : tensor<3x1xf64> to tensor<3x4xf64>
// CHECK: %[[W:.*]] = bism.div %[[MASK]], %[[NB]] : tensor<3x4xf64>
// CHECK: %[[UR:.*]] = bism.reshape %[[U]] : tensor<3xf64> to tensor<3x1xf64>
// CHECK: %[[UB:.*]] = bism.broadcast %[[UR]] : tensor<3x1xf64> to tensor<3x4xf64>
// CHECK: %[[G:.*]] = bism.mul %[[W]], %[[UB]] : tensor<3x4xf64>
// CHECK: return %[[G]]
func.func @vjp_max(%x: tensor<3x4xf64>, %u: tensor<3xf64>) -> tensor<3x4xf64> {
  %g = bism.vjp @max(%x, %u) wrt [0] : (tensor<3x4xf64>, tensor<3xf64>) -> tensor<3x4xf64>
  return %g : tensor<3x4xf64>
}

// reduce_logsumexp: softmax weights exp(x - broadcast(lse)).
func.func @lse(%x: tensor<3x4xf64>) -> tensor<3xf64> {
  %y = bism.reduce_logsumexp %x axes [1] : tensor<3x4xf64> -> tensor<3xf64>
  return %y : tensor<3xf64>
}
// CHECK-LABEL: func.func @vjp_lse
// CHECK-SAME: (%[[X:.*]]: tensor<3x4xf64>, %[[U:.*]]: tensor<3xf64>)
// CHECK: %[[L:.*]] = bism.reduce_logsumexp %[[X]] axes [1]
// CHECK: %[[LR:.*]] = bism.reshape %[[L]] : tensor<3xf64> to tensor<3x1xf64>
// CHECK: %[[LB:.*]] = bism.broadcast %[[LR]] : tensor<3x1xf64> to tensor<3x4xf64>
// CHECK: %[[D:.*]] = bism.sub %[[X]], %[[LB]] : tensor<3x4xf64>
// CHECK: %[[P:.*]] = bism.exp %[[D]] : tensor<3x4xf64>
// CHECK: %[[UR:.*]] = bism.reshape %[[U]] : tensor<3xf64> to tensor<3x1xf64>
// CHECK: %[[UB:.*]] = bism.broadcast %[[UR]] : tensor<3x1xf64> to tensor<3x4xf64>
// CHECK: %[[G:.*]] = bism.mul %[[P]], %[[UB]] : tensor<3x4xf64>
// CHECK: return %[[G]]
func.func @vjp_lse(%x: tensor<3x4xf64>, %u: tensor<3xf64>) -> tensor<3x4xf64> {
  %g = bism.vjp @lse(%x, %u) wrt [0] : (tensor<3x4xf64>, tensor<3xf64>) -> tensor<3x4xf64>
  return %g : tensor<3x4xf64>
}
// CHECK-LABEL: func.func @jvp_lse
// CHECK-SAME: (%[[X:.*]]: tensor<3x4xf64>, %[[T:.*]]: tensor<3x4xf64>)
// CHECK: %[[P:.*]] = bism.exp
// CHECK: %[[PT:.*]] = bism.mul %[[P]], %[[T]] : tensor<3x4xf64>
// CHECK: %[[G:.*]] = bism.reduce_sum %[[PT]] axes [1] : tensor<3x4xf64> -> tensor<3xf64>
// CHECK-NEXT: return %[[G]]
func.func @jvp_lse(%x: tensor<3x4xf64>, %t: tensor<3x4xf64>) -> tensor<3xf64> {
  %g = bism.jvp @lse(%x, %t) wrt [0] : (tensor<3x4xf64>, tensor<3x4xf64>) -> tensor<3xf64>
  return %g : tensor<3xf64>
}
