// RUN: bism-opt %s --bism-to-kernels --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --bism-outline-kernels --bism-parallelize-kernels | FileCheck %s
// RUN: bism-opt %s --bism-lower-cpu | FileCheck %s --check-prefix=CPU
// RUN: bism-opt %s --bism-lower-cpu=parallel-min-points=-1 | FileCheck %s --check-prefix=SERIAL

// A kernel's first parallel loop is tiled into an scf.parallel (later
// OpenMP's) of whole rows, at least a 64th of the kernel's points per
// iteration: a flat elementwise kernel in chunks of 64-multiples, a kernel
// with long rows row by row (the inner loop and the row's reduction stay
// inside each iteration). A kernel whose first loop is a reduction (column
// sums) is shared out by blocks of columns; a small one stays serial.

func.func @kernels(%x: tensor<64x512xf32>, %s: tensor<4x8xf32>)
    -> (tensor<64x512xf32>, tensor<64xf32>, tensor<512xf32>, tensor<4x8xf32>) {
  %e = bism.exp %x : tensor<64x512xf32>
  %rows = bism.reduce_sum %e axes [1] : tensor<64x512xf32> -> tensor<64xf32>
  %cols = bism.reduce_sum %x axes [0] : tensor<64x512xf32> -> tensor<512xf32>
  %t = bism.tanh %s : tensor<4x8xf32>
  return %e, %rows, %cols, %t : tensor<64x512xf32>, tensor<64xf32>, tensor<512xf32>, tensor<4x8xf32>
}

// exp over 64 x 512 points, flattened by the kernel stage: chunks of 512.
// CHECK-LABEL: func.func private @kernels.k0(%arg0: memref<32768xf32>, %arg1: memref<32768xf32>)
// CHECK: scf.parallel (%[[I:.*]]) = (%{{.*}}) to (%c32768) step (%c512{{.*}}) {
// CHECK: %[[IN:.*]] = memref.subview %arg0[%[[I]]] [512] [1]
// CHECK: %[[OUT:.*]] = memref.subview %arg1[%[[I]]] [512] [1]
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel"]} ins(%[[IN]] : {{.*}}) outs(%[[OUT]] :
// CHECK: math.exp
// CHECK: return

// Row sums: each iteration reduces its whole row (f64 accumulator).
// CHECK-LABEL: func.func private @kernels.k1(
// CHECK: linalg.fill
// CHECK: scf.parallel
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%{{.*}} : memref<1x512xf32, {{.*}}>) outs(%{{.*}} : memref<1xf64,
// CHECK: arith.addf

// Column sums: the first loop is the reduction, so the threads share the
// columns, in tiles of 32 (about 16 tiles, multiples of 16), each summed
// over all 64 rows in order.
// CHECK-LABEL: func.func private @kernels.k3(
// CHECK: linalg.fill
// CHECK: scf.parallel (%[[J:.*]]) = (%{{.*}}) to (%c512{{.*}}) step (%c32{{.*}}) {
// CHECK: %[[IN:.*]] = memref.subview %arg1[0, %[[J]]] [64, 32] [1, 1]
// CHECK: %[[OUT:.*]] = memref.subview %arg0[%[[J]]] [32] [1]
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction", "parallel"]} ins(%[[IN]] : {{.*}}) outs(%[[OUT]] :
// CHECK: return

// 32 points: serial.
// CHECK-LABEL: func.func private @kernels.k5(
// CHECK-NOT: scf.parallel
// CHECK: math.tanh
// CHECK: return

// Through the CPU pipeline the parallel loops become OpenMP worksharing
// loops (three kernels); parallel-min-points=-1 keeps every kernel serial.
// CPU-LABEL: llvm.func @kernels.k0(
// CPU: omp.parallel {
// CPU-NEXT: omp.wsloop {
// CPU-NEXT: omp.loop_nest (%{{.*}}) : i64 =
// CPU-LABEL: llvm.func @kernels.k1(
// CPU: omp.wsloop
// CPU-LABEL: llvm.func @kernels.k2(
// CPU-NOT: omp.
// CPU-LABEL: llvm.func @kernels.k3(
// CPU: omp.wsloop
// CPU-LABEL: llvm.func @kernels.k4(
// CPU-NOT: omp.
// CPU: llvm.return
// SERIAL-NOT: omp.
