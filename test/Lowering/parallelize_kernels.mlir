// RUN: bism-opt %s --bism-to-kernels --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --bism-outline-kernels --bism-parallelize-kernels | FileCheck %s
// RUN: bism-opt %s --bism-to-kernels --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --bism-outline-kernels --bism-parallelize-kernels --bism-parallel-to-openmp | FileCheck %s --check-prefix=OMP
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

// --bism-parallel-to-openmp: an omp.parallel region in which thread t of n
// runs iterations [t p, min((t + 1) p, 64)), p = ceil(64 / n), as an
// scf.for (no worksharing loop, so no __kmpc_for_static_init).
// OMP-DAG: func.func private @omp_get_num_threads() -> i32
// OMP-DAG: func.func private @omp_get_thread_num() -> i32
// OMP-LABEL: func.func private @kernels.k0(
// OMP: omp.parallel {
// OMP-NEXT: %[[T32:.*]] = func.call @omp_get_thread_num() : () -> i32
// OMP-NEXT: %[[T:.*]] = arith.index_cast %[[T32]] : i32 to index
// OMP-NEXT: %[[N32:.*]] = func.call @omp_get_num_threads() : () -> i32
// OMP-NEXT: %[[N:.*]] = arith.index_cast %[[N32]] : i32 to index
// OMP: %[[ITERS:.*]] = arith.ceildivui %{{.*}}, %c512{{.*}} : index
// OMP: %[[PER:.*]] = arith.ceildivui %[[ITERS]], %[[N]] : index
// OMP: %[[START:.*]] = arith.muli %[[T]], %[[PER]] : index
// OMP: %[[FIRST:.*]] = arith.minui %[[START]], %[[ITERS]] : index
// OMP: %[[END:.*]] = arith.addi %[[FIRST]], %[[PER]] : index
// OMP: %[[LAST:.*]] = arith.minui %[[END]], %[[ITERS]] : index
// OMP: scf.for %[[K:.*]] = %[[FIRST]] to %[[LAST]] step %{{.*}} {
// OMP: %[[OFFSET:.*]] = arith.muli %[[K]], %c512{{.*}} : index
// OMP: memref.subview %arg0[%{{.*}}] [512] [1]
// OMP: math.exp
// OMP: omp.terminator
// OMP-NOT: omp.wsloop

// Through the CPU pipeline three kernels run on OpenMP threads;
// parallel-min-points=-1 keeps every kernel serial.
// CPU-LABEL: llvm.func @kernels.k0(
// CPU: omp.parallel {
// CPU: llvm.call @omp_get_thread_num()
// CPU-LABEL: llvm.func @kernels.k1(
// CPU: omp.parallel
// CPU-LABEL: llvm.func @kernels.k2(
// CPU-NOT: omp.
// CPU-LABEL: llvm.func @kernels.k3(
// CPU: omp.parallel
// CPU-LABEL: llvm.func @kernels.k4(
// CPU-NOT: omp.
// CPU: llvm.return
// CPU-NOT: omp.wsloop
// SERIAL-NOT: omp.
