// RUN: bism-opt %s --bism-matmul-to-blas=min-flops=1000 | FileCheck %s
// RUN: bism-opt %s --bism-matmul-to-blas=min-flops=0 | FileCheck %s --check-prefix=ALL

// Buffer-level matmuls with batch*M*N*K >= min-flops become calls to the
// runtime's BLAS entry points, declared once, private, with a C interface.

// CHECK-DAG: func.func private @bism_rt_gemm_f32(memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, i64, i64) attributes {llvm.emit_c_interface}
// CHECK-DAG: func.func private @bism_rt_gemm_f64(memref<?x?xf64, strided<[?, ?], offset: ?>>, {{.*}}, i64, i64) attributes {llvm.emit_c_interface}
// CHECK-DAG: func.func private @bism_rt_batch_gemm_f32(memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>, {{.*}}, i64, i64) attributes {llvm.emit_c_interface}

// 16 * 8 * 32 = 4096 >= 1000: a call computing out += lhs * rhs.
// CHECK-LABEL: func.func @large(
// CHECK-DAG: %[[A:.*]] = memref.cast %arg0 : memref<16x32xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK-DAG: %[[B:.*]] = memref.cast %arg1 : memref<32x8xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK-DAG: %[[C:.*]] = memref.cast %arg2 : memref<16x8xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK: call @bism_rt_gemm_f32(%[[A]], %[[B]], %[[C]], %c0_i64{{.*}}, %c0_i64{{.*}})
// CHECK-NOT: linalg.matmul
func.func @large(%a: memref<16x32xf32>, %b: memref<32x8xf32>, %c: memref<16x8xf32>) {
  linalg.matmul ins(%a, %b : memref<16x32xf32>, memref<32x8xf32>) outs(%c : memref<16x8xf32>)
  return
}

// 4 * 4 * 4 = 64 < 1000: stays a linalg.matmul (loops later).
// CHECK-LABEL: func.func @small(
// CHECK-NOT: call
// CHECK: linalg.matmul
// ALL-LABEL: func.func @small(
// ALL: call @bism_rt_gemm_f32
func.func @small(%a: memref<4x4xf32>, %b: memref<4x4xf32>, %c: memref<4x4xf32>) {
  linalg.matmul ins(%a, %b : memref<4x4xf32>, memref<4x4xf32>) outs(%c : memref<4x4xf32>)
  return
}

// The transpose flags come from the indexing maps.
// CHECK-LABEL: func.func @transposed(
// CHECK: call @bism_rt_gemm_f64(%{{.*}}, %{{.*}}, %{{.*}}, %c1_i64{{.*}}, %c0_i64{{.*}})
// CHECK: call @bism_rt_gemm_f64(%{{.*}}, %{{.*}}, %{{.*}}, %c0_i64{{.*}}, %c1_i64{{.*}})
// CHECK: call @bism_rt_gemm_f64(%{{.*}}, %{{.*}}, %{{.*}}, %c1_i64{{.*}}, %c1_i64{{.*}})
// CHECK-NOT: linalg.matmul
func.func @transposed(%at: memref<32x16xf64>, %b: memref<32x8xf64>, %a: memref<16x32xf64>,
                      %bt: memref<8x32xf64>, %c: memref<16x8xf64>) {
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%at, %b : memref<32x16xf64>, memref<32x8xf64>) outs(%c : memref<16x8xf64>)
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%a, %bt : memref<16x32xf64>, memref<8x32xf64>) outs(%c : memref<16x8xf64>)
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%at, %bt : memref<32x16xf64>, memref<8x32xf64>) outs(%c : memref<16x8xf64>)
  return
}

// Batch matmul: batch * M * N * K = 2 * 8 * 8 * 8; strided operands (views) are
// cast like any other.
// CHECK-LABEL: func.func @batched(
// CHECK: %[[V:.*]] = memref.subview
// CHECK: %[[VC:.*]] = memref.cast %[[V]] : memref<2x8x8xf32, strided<[128, 16, 1]>> to memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>
// CHECK: call @bism_rt_batch_gemm_f32(%[[VC]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}})
func.func @batched(%big: memref<2x8x16xf32>, %b: memref<2x8x8xf32>, %c: memref<2x8x8xf32>) {
  %a = memref.subview %big[0, 0, 0] [2, 8, 8] [1, 1, 1] : memref<2x8x16xf32> to memref<2x8x8xf32, strided<[128, 16, 1]>>
  linalg.batch_matmul ins(%a, %b : memref<2x8x8xf32, strided<[128, 16, 1]>>, memref<2x8x8xf32>) outs(%c : memref<2x8x8xf32>)
  return
}

// Broadcasting maps are not a GEMM the runtime knows: left alone.
// CHECK-LABEL: func.func @broadcast_lhs(
// CHECK-NOT: call
// CHECK: linalg.matmul
func.func @broadcast_lhs(%a: memref<32xf32>, %b: memref<32x64xf32>, %c: memref<16x64xf32>) {
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%a, %b : memref<32xf32>, memref<32x64xf32>) outs(%c : memref<16x64xf32>)
  return
}

// Tensors are not touched (the pass runs after bufferisation).
// CHECK-LABEL: func.func @tensors(
// CHECK: linalg.matmul
// ALL-LABEL: func.func @tensors(
// ALL-NOT: call
func.func @tensors(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>, %c: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<64x64xf32>, tensor<64x64xf32>) outs(%c : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %0 : tensor<64x64xf32>
}
