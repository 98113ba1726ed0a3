// RUN: bism-opt %s --bism-to-kernels --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --bism-outline-kernels | FileCheck %s

// Each kernel moves into a function of its own name; identical kernels (the
// same scaled exponential of two different buffers) share one.

func.func @kernels(%g: tensor<8x16xf32>, %h: tensor<8x16xf32>)
    -> (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) {
  %half = bism.constant dense<0.5> : tensor<8x16xf32>
  %sg = bism.mul %g, %half : tensor<8x16xf32>
  %eg = bism.exp %sg : tensor<8x16xf32>
  %sh = bism.mul %h, %half : tensor<8x16xf32>
  %eh = bism.exp %sh : tensor<8x16xf32>
  %p = bism.mul %g, %h : tensor<8x16xf32>
  return %eg, %eh, %p : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>
}

// The kernels are flat (the kernel stage collapses whole-tensor elementwise
// kernels to one loop): the step passes 128-element views.
// CHECK-LABEL: func.func @kernels(
// CHECK: %[[G:.*]] = memref.collapse_shape %arg0 {{\[}}[0, 1]] : memref<8x16xf32> into memref<128xf32>
// CHECK: call @kernels.k0(%[[G]], %[[EG:.*]]) : (memref<128xf32>, memref<128xf32>) -> ()
// CHECK: %[[H:.*]] = memref.collapse_shape %arg1 {{\[}}[0, 1]] : memref<8x16xf32> into memref<128xf32>
// CHECK: call @kernels.k0(%[[H]], %[[EH:.*]]) : (memref<128xf32>, memref<128xf32>) -> ()
// CHECK: call @kernels.k2(%[[G]], %[[H]], %{{.*}}) : (memref<128xf32>, memref<128xf32>, memref<128xf32>) -> ()
// CHECK-NOT: linalg.
// CHECK: return

// The shared kernel exp(0.5 x): its constant inside, kept out of line, both
// buffers unshared (noalias at the aligned pointers: LLVM argument
// positions 1 and 6 of two 1-D descriptors of 5 words each).
// CHECK: func.func private @kernels.k0(%arg0: memref<128xf32>, %arg1: memref<128xf32>)
// CHECK-SAME: bism.kernel_kind = "elementwise"
// CHECK-SAME: bism.noalias_args = array<i64: 1, 6>
// CHECK-SAME: passthrough = ["noinline"]
// CHECK: arith.constant 5.000000e-01 : f32
// CHECK: linalg.generic {{.*}} ins(%arg0 : memref<128xf32>) outs(%arg1 : memref<128xf32>)
// CHECK-NOT: bism.kernel
// CHECK: arith.mulf
// CHECK: math.exp
// CHECK: return
// CHECK: func.func private @kernels.k2(
// CHECK: arith.mulf %in, %in_0
// CHECK-NOT: func.func private @kernels.k1
