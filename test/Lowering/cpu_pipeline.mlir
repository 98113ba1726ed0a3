// RUN: bism-opt %s --bism-lower-cpu | FileCheck %s
// RUN: bism-opt %s --bism-lower-cpu | FileCheck %s --check-prefix=ONLY-LLVM
// RUN: bism-opt %s --bism-lower-cpu=blas-min-flops=-1 | FileCheck %s --check-prefix=NO-BLAS

// Every bism op, f32 and f64, goes all the way to the LLVM dialect. Results
// become caller-owned out-parameters of the C interface.

// Nothing but LLVM is left, and no helper of libmlir_c_runner_utils is called.
// ONLY-LLVM-NOT: {{(^|[^a-z_.])(bism|linalg|tensor|memref|bufferization|arith|math|scf|cf|affine|func)\.}}
// ONLY-LLVM-NOT: unrealized_conversion_cast
// ONLY-LLVM-NOT: memrefCopy

// Large products call the runtime's BLAS through its C interface.
// CHECK-DAG: llvm.func @_mlir_ciface_bism_rt_gemm_f32(!llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64)
// CHECK-DAG: llvm.func @_mlir_ciface_bism_rt_batch_gemm_f64(!llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64)
// NO-BLAS-NOT: bism_rt_

// CHECK-LABEL: llvm.func @large_matmul(
// CHECK: llvm.call @bism_rt_gemm_f32(
// One input descriptor, one output descriptor, nothing returned.
// CHECK-LABEL: llvm.func @_mlir_ciface_large_matmul(%arg0: !llvm.ptr, %arg1: !llvm.ptr)
// CHECK-NOT: llvm.return %
// CHECK: llvm.return{{$}}
// The convolution's temporaries (im2col patches, products) live in one
// arena planned at compile time (--bism-plan-buffers), not on the heap.
// CHECK: llvm.mlir.global private @large_conv.arena() {{.*}}alignment = 64 : i64} : !llvm.array<{{[0-9]+}} x i8>
// CHECK-LABEL: llvm.func @large_conv(
// CHECK: llvm.mlir.addressof @large_conv.arena
// CHECK-NOT: llvm.call @malloc
// CHECK: llvm.call @bism_rt_batch_gemm_f64(
func.func @elementwise(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf64>) {
  %0 = bism.neg %a : tensor<2x3xf32>
  %1 = bism.exp %0 : tensor<2x3xf32>
  %2 = bism.log %1 : tensor<2x3xf32>
  %3 = bism.log1p %2 : tensor<2x3xf32>
  %4 = bism.sqrt %3 : tensor<2x3xf32>
  %5 = bism.square %4 : tensor<2x3xf32>
  %6 = bism.abs %5 : tensor<2x3xf32>
  %7 = bism.reciprocal %6 : tensor<2x3xf32>
  %8 = bism.tanh %7 : tensor<2x3xf32>
  %9 = bism.sigmoid %8 : tensor<2x3xf32>
  %10 = bism.softplus %9 : tensor<2x3xf32>
  %11 = bism.relu %10 : tensor<2x3xf32>
  %12 = bism.elu %11 {alpha = 0.5} : tensor<2x3xf32>
  %13 = bism.leaky_relu %12 : tensor<2x3xf32>
  %14 = bism.add %13, %b : tensor<2x3xf32>
  %15 = bism.sub %14, %b : tensor<2x3xf32>
  %16 = bism.mul %15, %b : tensor<2x3xf32>
  %17 = bism.div %16, %b : tensor<2x3xf32>
  %18 = bism.pow %17, %b : tensor<2x3xf32>
  %19 = bism.maximum %18, %b : tensor<2x3xf32>
  %20 = bism.minimum %19, %a : tensor<2x3xf32>
  %c = bism.compare lt, %20, %a : tensor<2x3xf32>
  %21 = bism.select %c, %20, %a : tensor<2x3xf32>
  %22 = bism.convert %21 : tensor<2x3xf32> to tensor<2x3xf64>
  %23 = bism.sigmoid %22 : tensor<2x3xf64>
  %k = bism.constant dense<1.0> : tensor<2x3xf32>
  %24 = bism.add %21, %k : tensor<2x3xf32>
  return %24, %23 : tensor<2x3xf32>, tensor<2x3xf64>
}
func.func @mm(%a: tensor<4x5xf32>, %b: tensor<5x6xf32>, %c: tensor<2x3x4x5xf64>, %d: tensor<2x3x6x5xf64>, %e: tensor<3x5x4xf32>, %f: tensor<3x6x5xf32>) -> (tensor<4x6xf32>, tensor<2x3x4x6xf64>, tensor<3x4x6xf32>, tensor<5x6xf32>) {
  %0 = bism.matmul %a, %b : tensor<4x5xf32>, tensor<5x6xf32> -> tensor<4x6xf32>
  %1 = bism.matmul %c, %d {transpose_rhs} : tensor<2x3x4x5xf64>, tensor<2x3x6x5xf64> -> tensor<2x3x4x6xf64>
  %2 = bism.matmul %e, %f {transpose_lhs, transpose_rhs} : tensor<3x5x4xf32>, tensor<3x6x5xf32> -> tensor<3x4x6xf32>
  %3 = bism.matmul %a, %0 {transpose_lhs} : tensor<4x5xf32>, tensor<4x6xf32> -> tensor<5x6xf32>
  return %0, %1, %2, %3 : tensor<4x6xf32>, tensor<2x3x4x6xf64>, tensor<3x4x6xf32>, tensor<5x6xf32>
}
func.func @conv(%x: tensor<2x4x7x7xf32>, %w: tensor<6x2x3x3xf32>) -> (tensor<2x6x4x4xf32>, tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>) {
  %0 = bism.conv2d %x, %w {strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, groups = 2} : tensor<2x4x7x7xf32>, tensor<6x2x3x3xf32> -> tensor<2x6x4x4xf32>
  %1 = bism.max_pool2d %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>} : tensor<2x4x7x7xf32> -> tensor<2x4x4x4xf32>
  %2 = bism.avg_pool2d %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>} : tensor<2x4x7x7xf32> -> tensor<2x4x4x4xf32>
  return %0, %1, %2 : tensor<2x6x4x4xf32>, tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>
}
func.func @reduce(%x: tensor<3x4x5xf64>) -> (tensor<4xf64>, tensor<3x1x5xf64>, tensor<1x1x1xf64>, tensor<f64>) {
  %0 = bism.reduce_sum %x axes [0, 2] : tensor<3x4x5xf64> -> tensor<4xf64>
  %1 = bism.reduce_mean %x axes [1] keep_dims : tensor<3x4x5xf64> -> tensor<3x1x5xf64>
  %2 = bism.reduce_max %x axes [0, 1, 2] keep_dims : tensor<3x4x5xf64> -> tensor<1x1x1xf64>
  %3 = bism.reduce_logsumexp %x axes [0, 1, 2] : tensor<3x4x5xf64> -> tensor<f64>
  return %0, %1, %2, %3 : tensor<4xf64>, tensor<3x1x5xf64>, tensor<1x1x1xf64>, tensor<f64>
}
func.func @shape(%x: tensor<4xf32>, %s: tensor<f32>, %y: tensor<2x3x4xf32>) -> (tensor<3x4xf32>, tensor<2x3xf32>, tensor<4x3x2xf32>, tensor<1x2x2xf32>, tensor<2x6x4xf32>, tensor<f32>, tensor<1x1xf32>, tensor<6x4xf32>) {
  %0 = bism.broadcast %x : tensor<4xf32> to tensor<3x4xf32>
  %1 = bism.broadcast %s : tensor<f32> to tensor<2x3xf32>
  %2 = bism.transpose %y [2, 1, 0] : tensor<2x3x4xf32> to tensor<4x3x2xf32>
  %3 = bism.slice %y starts [1, 0, 1] limits [2, 3, 4] strides [1, 2, 2] : tensor<2x3x4xf32> to tensor<1x2x2xf32>
  %4 = bism.concat %y, %y axis 1 : tensor<2x3x4xf32>, tensor<2x3x4xf32> -> tensor<2x6x4xf32>
  %r = bism.reshape %x : tensor<4xf32> to tensor<2x2xf32>
  %5 = bism.reshape %s : tensor<f32> to tensor<1x1xf32>
  %6 = bism.reshape %5 : tensor<1x1xf32> to tensor<f32>
  %7 = bism.reshape %y : tensor<2x3x4xf32> to tensor<6x4xf32>
  return %0, %1, %2, %3, %4, %6, %5, %7 : tensor<3x4xf32>, tensor<2x3xf32>, tensor<4x3x2xf32>, tensor<1x2x2xf32>, tensor<2x6x4xf32>, tensor<f32>, tensor<1x1xf32>, tensor<6x4xf32>
}
func.func @random(%k: tensor<2xi32>) -> (tensor<3x4xf32>, tensor<3x4xf64>, tensor<5xf32>, tensor<5xf64>, tensor<2x2xf32>, tensor<2x2xf64>, tensor<f32>, tensor<2xi32>) {
  %k1 = bism.key_split %k [1]
  %0 = bism.random_uniform %k1 : tensor<3x4xf32>
  %1 = bism.random_uniform %k1 : tensor<3x4xf64>
  %2 = bism.random_normal %k : tensor<5xf32>
  %3 = bism.random_normal %k : tensor<5xf64>
  %4 = bism.random_gumbel %k : tensor<2x2xf32>
  %5 = bism.random_gumbel %k : tensor<2x2xf64>
  %6 = bism.random_rademacher %k : tensor<f32>
  return %0, %1, %2, %3, %4, %5, %6, %k1 : tensor<3x4xf32>, tensor<3x4xf64>, tensor<5xf32>, tensor<5xf64>, tensor<2x2xf32>, tensor<2x2xf64>, tensor<f32>, tensor<2xi32>
}
func.func @large_matmul(%a: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %0 = bism.matmul %a, %a {transpose_rhs} : tensor<64x64xf32>, tensor<64x64xf32> -> tensor<64x64xf32>
  return %0 : tensor<64x64xf32>
}
func.func @large_conv(%x: tensor<1x8x16x16xf64>, %w: tensor<16x8x3x3xf64>) -> tensor<1x16x16x16xf64> {
  %0 = bism.conv2d %x, %w {padding = array<i64: 1, 1, 1, 1>} : tensor<1x8x16x16xf64>, tensor<16x8x3x3xf64> -> tensor<1x16x16x16xf64>
  return %0 : tensor<1x16x16x16xf64>
}
