// RUN: bism-opt %s --bism-map-kernels-to-gpu | FileCheck %s
// RUN: bism-opt %s --bism-map-kernels-to-gpu="min-block-reduction=1000" | FileCheck %s --check-prefix=THREAD

// Elementwise kernels become a flat loop of 256-thread blocks; reductions of
// at least 32 terms per output become one block per output: threads fold
// strided partial sums from the combiner's neutral element, gpu.all_reduce
// combines the block's partials, thread 0 folds the total into the output.

// CHECK-LABEL: func.func @scale
// CHECK: scf.parallel
// CHECK: scf.parallel
// CHECK: arith.cmpi ult
// CHECK: scf.if
// CHECK: #gpu.loop_dim_map<processor = thread_x
// CHECK: #gpu.loop_dim_map<processor = block_x
func.func @scale(%a: memref<100x400xf32>, %o: memref<100x400xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%a : memref<100x400xf32>) outs(%o : memref<100x400xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.mulf %in, %in : f32
    linalg.yield %0 : f32
  }
  return
}

// Row sums in f64 of a 100x400 f32 array: 100 blocks of 256 threads.
// CHECK-LABEL: func.func @row_sum_of_squares
// CHECK-DAG: %[[ROWS:.*]] = arith.constant 100 : index
// CHECK-DAG: %[[THREADS:.*]] = arith.constant 256 : index
// CHECK: gpu.launch blocks(%[[ROW:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[ROWS]], {{.*}} threads(%[[T:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[THREADS]],
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f64
// CHECK: %[[PARTIAL:.*]] = scf.for %[[J:.*]] = %[[T]] to %c400 step %{{.*}} iter_args(%[[ACC:.*]] = %[[ZERO]]) -> (f64)
// CHECK:   %[[X:.*]] = memref.load %{{.*}}[%{{.*}}, %{{.*}}] : memref<100x400xf32>
// CHECK:   %[[SQ:.*]] = arith.mulf %[[X]], %[[X]] : f32
// CHECK:   %[[WIDE:.*]] = arith.extf %[[SQ]] : f32 to f64
// CHECK:   %[[NEXT:.*]] = arith.addf %[[ACC]], %[[WIDE]] fastmath<reassoc> : f64
// CHECK:   scf.yield %[[NEXT]] : f64
// CHECK: %[[TOTAL:.*]] = gpu.all_reduce add %[[PARTIAL]] uniform
// CHECK: %[[FIRST:.*]] = arith.cmpi eq, %[[T]], %{{.*}} : index
// CHECK: scf.if %[[FIRST]] {
// CHECK:   %[[OLD:.*]] = memref.load %{{.*}}[%{{.*}}] : memref<100xf64>
// CHECK:   %[[NEW:.*]] = arith.addf %[[OLD]], %[[TOTAL]] fastmath<reassoc> : f64
// CHECK:   memref.store %[[NEW]], %{{.*}}[%{{.*}}] : memref<100xf64>
// CHECK: gpu.terminator
// THREAD-LABEL: func.func @row_sum_of_squares
// THREAD-NOT: gpu.all_reduce
// THREAD: scf.for
// THREAD-LABEL: func.func @column_max
func.func @row_sum_of_squares(%a: memref<100x400xf32>, %o: memref<100xf64>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%a : memref<100x400xf32>) outs(%o : memref<100xf64>) {
  ^bb0(%in: f32, %out: f64):
    %0 = arith.mulf %in, %in : f32
    %1 = arith.extf %0 : f32 to f64
    %2 = arith.addf %out, %1 fastmath<reassoc> : f64
    linalg.yield %2 : f64
  }
  return
}

// Column maxima (the reduction dimension first in the source): one block
// per column, as many threads as the 100 rows need (four warps), -inf the
// neutral element.
// CHECK-LABEL: func.func @column_max
// CHECK-DAG: %[[COLUMNS:.*]] = arith.constant 400 : index
// CHECK-DAG: %[[FOURWARPS:.*]] = arith.constant 128 : index
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %[[COLUMNS]], {{.*}} threads({{.*}}) in (%{{.*}} = %[[FOURWARPS]],
// CHECK: arith.constant 0xFF800000 : f32
// CHECK: scf.for
// CHECK: arith.maximumf
// CHECK: gpu.all_reduce maximumf
// CHECK: scf.if
// CHECK: arith.maximumf
func.func @column_max(%a: memref<100x400xf32>, %o: memref<400xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>], iterator_types = ["reduction", "parallel"]} ins(%a : memref<100x400xf32>) outs(%o : memref<400xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.maximumf %out, %in : f32
    linalg.yield %0 : f32
  }
  return
}

// Two outputs of one pass (sum and sum of squares) and a full reduction:
// one all_reduce per output, one block in all.
// CHECK-LABEL: func.func @moments
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c1, {{.*}} threads
// CHECK: scf.for {{.*}} -> (f32, f32)
// CHECK: gpu.all_reduce add
// CHECK: gpu.all_reduce add
// CHECK: scf.if
// CHECK-COUNT-2: memref.store
func.func @moments(%a: memref<64x64xf32>, %sum: memref<f32>, %squares: memref<f32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> ()>, affine_map<(d0, d1) -> ()>], iterator_types = ["reduction", "reduction"]} ins(%a : memref<64x64xf32>) outs(%sum, %squares : memref<f32>, memref<f32>) {
  ^bb0(%in: f32, %s: f32, %q: f32):
    %0 = arith.addf %s, %in : f32
    %1 = arith.mulf %in, %in : f32
    %2 = arith.addf %q, %1 : f32
    linalg.yield %0, %2 : f32, f32
  }
  return
}

// Four terms per output: a warp would idle, so each thread loops over its
// row's terms (one thread per output).
// CHECK-LABEL: func.func @short_rows
// CHECK-NOT: gpu.all_reduce
// CHECK: scf.parallel
// CHECK: scf.for
// CHECK: arith.addf
func.func @short_rows(%a: memref<100x4xf32>, %o: memref<100xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%a : memref<100x4xf32>) outs(%o : memref<100xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %out, %in : f32
    linalg.yield %0 : f32
  }
  return
}

// The running product depends on the accumulator other than through one
// combiner (out * out + x): not a reduction a block can split, so it stays
// sequential in a thread.
// CHECK-LABEL: func.func @not_splittable
// CHECK-NOT: gpu.all_reduce
// CHECK: scf.for
func.func @not_splittable(%a: memref<2x400xf32>, %o: memref<2xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%a : memref<2x400xf32>) outs(%o : memref<2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.mulf %out, %out : f32
    %1 = arith.addf %0, %in : f32
    linalg.yield %1 : f32
  }
  return
}
