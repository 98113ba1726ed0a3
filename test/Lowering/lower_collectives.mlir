// --bism-lower-collectives: bism.all_reduce_mean becomes a call of the
// runtime on 1-D buffers (a rank-0 or rank-2 tensor is reshaped to 1-D and
// back), still on tensors: to_buffer of the input (read-only), a new buffer
// for the result, then to_tensor (restrict) of it.
// RUN: bism-opt %s --bism-lower-collectives | FileCheck %s
// library=nccl (what the CUDA pipeline uses) calls the NCCL entry points, on
// device buffers (the result from mgpuMemAlloc).
// RUN: bism-opt %s --bism-lower-collectives=library=nccl | FileCheck %s --check-prefix=NCCL
// RUN: bism-opt %s --bism-lower-cuda | FileCheck %s --check-prefix=CUDA
// RUN: not bism-opt %s --bism-lower-collectives=library=gloo 2>&1 | FileCheck %s --check-prefix=LIBRARY
// Run in one process, the mean over the ranks is the identity.
// RUN: bism-run %s --entry f --input "4x3xf32=1 2 3 4 5 6 7 8 9 10 11 12" --input "f64=2.5" --input "5xf32=1 2 3 4 5" | FileCheck %s --check-prefix=EXEC

// CHECK-DAG: func.func private @bism_rt_all_reduce_mean_f64(memref<?xf64, strided<[?], offset: ?>>, memref<?xf64, strided<[?], offset: ?>>) attributes {llvm.emit_c_interface}
// CHECK-DAG: func.func private @bism_rt_all_reduce_mean_f32(memref<?xf32, strided<[?], offset: ?>>, memref<?xf32, strided<[?], offset: ?>>) attributes {llvm.emit_c_interface}
// CHECK-LABEL: func.func @f(
// CHECK:         %[[FLAT:.*]] = tensor.collapse_shape %arg0 {{\[\[}}0, 1]] : tensor<4x3xf32> into tensor<12xf32>
// CHECK-NEXT:    %[[IN:.*]] = bufferization.to_buffer %[[FLAT]] read_only : tensor<12xf32> to memref<12xf32>
// CHECK-NEXT:    %[[OUT:.*]] = memref.alloc() : memref<12xf32>
// CHECK-NEXT:    %[[A:.*]] = memref.cast %[[IN]]
// CHECK-NEXT:    %[[B:.*]] = memref.cast %[[OUT]]
// CHECK-NEXT:    call @bism_rt_all_reduce_mean_f32(%[[A]], %[[B]])
// CHECK-NEXT:    %[[T:.*]] = bufferization.to_tensor %[[OUT]] restrict writable : memref<12xf32> to tensor<12xf32>
// CHECK-NEXT:    %[[R0:.*]] = tensor.expand_shape %[[T]] {{\[\[}}0, 1]] output_shape [4, 3]
// CHECK:         tensor.expand_shape %arg1 [] output_shape [1] : tensor<f64> into tensor<1xf64>
// CHECK:         call @bism_rt_all_reduce_mean_f64(
// CHECK:         %[[R1:.*]] = tensor.collapse_shape %{{.*}} [] : tensor<1xf64> into tensor<f64>
// CHECK:         bufferization.to_buffer %arg2 read_only : tensor<5xf32> to memref<5xf32>
// CHECK:         call @bism_rt_all_reduce_mean_f32(
// CHECK:         %[[R2:.*]] = bufferization.to_tensor
// CHECK-NEXT:    return %[[R0]], %[[R1]], %[[R2]]
// CHECK-NOT:   bism.all_reduce_mean

// NCCL-DAG: func.func private @bism_rt_nccl_all_reduce_mean_f64(
// NCCL-DAG: func.func private @bism_rt_nccl_all_reduce_mean_f32(
// NCCL: call @bism_rt_nccl_all_reduce_mean_f32(
// NCCL: call @bism_rt_nccl_all_reduce_mean_f64(
// NCCL: call @bism_rt_nccl_all_reduce_mean_f32(
// NCCL-NOT: bism_rt_all_reduce_mean

// CUDA-LABEL: llvm.func @f(
// CUDA:         %[[OUT:.*]] = llvm.call @mgpuMemAlloc(
// CUDA:         llvm.call @bism_rt_nccl_all_reduce_mean_f32(%arg0, %arg1, {{.*}}, %[[OUT]], %[[OUT]],

// LIBRARY: error: bism-lower-collectives: library must be mpi or nccl, not 'gloo'

// EXEC:      4x3xf32=[1 2 3][4 5 6][7 8 9][10 11 12]
// EXEC-NEXT: f64=2.5
// EXEC-NEXT: 5xf32=1 2 3 4 5

func.func @f(%x: tensor<4x3xf32>, %s: tensor<f64>, %v: tensor<5xf32>) -> (tensor<4x3xf32>, tensor<f64>, tensor<5xf32>) {
  %0 = bism.all_reduce_mean %x : tensor<4x3xf32>
  %1 = bism.all_reduce_mean %s : tensor<f64>
  %2 = bism.all_reduce_mean %v : tensor<5xf32>
  return %0, %1, %2 : tensor<4x3xf32>, tensor<f64>, tensor<5xf32>
}
