// RUN: bism-opt %s --bism-lower-cuda | FileCheck %s

// The CUDA back end on a small GRBM (batch 4, 3 visible, 2 latent): its
// energy, its score and one differentiable gradient step of a posterior
// parameter, the kernels of test/Kernels/form_kernels.mlir, plus a long
// reduction and a random draw. Each linalg op of a kernel becomes a GPU
// kernel (a flat loop of 256-thread blocks; long reductions a block per
// output); matmuls are cuBLAS calls of the executor; the step's
// temporaries are device buffers (mgpuMemAlloc); everything runs on one
// stream with one host wait per call; each GPU kernel is compiled to PTX
// for sm_90 in a gpu.binary (kernel names with '_' for the kernel stage's
// '.', which PTX identifiers cannot hold).

func.func @energy(%v: tensor<4x3xf32>, %h: tensor<4x2xf32>, %w: tensor<3x2xf32>,
                  %b: tensor<3xf32>, %c: tensor<2xf32>) -> tensor<f32> {
  %b_batch = bism.broadcast %b : tensor<3xf32> to tensor<4x3xf32>
  %centred = bism.sub %v, %b_batch : tensor<4x3xf32>
  %sq = bism.square %centred : tensor<4x3xf32>
  %quadratic = bism.reduce_sum %sq axes [0, 1] : tensor<4x3xf32> -> tensor<f32>
  %vw = bism.matmul %v, %w : tensor<4x3xf32>, tensor<3x2xf32> -> tensor<4x2xf32>
  %c_batch = bism.broadcast %c : tensor<2xf32> to tensor<4x2xf32>
  %field = bism.add %vw, %c_batch : tensor<4x2xf32>
  %coupling = bism.mul %field, %h : tensor<4x2xf32>
  %interaction = bism.reduce_sum %coupling axes [0, 1] : tensor<4x2xf32> -> tensor<f32>
  %e = bism.sub %quadratic, %interaction : tensor<f32>
  return %e : tensor<f32>
}

func.func @score(%v: tensor<4x3xf32>, %h: tensor<4x2xf32>, %w: tensor<3x2xf32>,
                 %b: tensor<3xf32>, %c: tensor<2xf32>) -> tensor<4x3xf32> {
  %s = bism.grad @energy(%v, %h, %w, %b, %c) wrt [0]
      : (tensor<4x3xf32>, tensor<4x2xf32>, tensor<3x2xf32>, tensor<3xf32>, tensor<2xf32>) -> tensor<4x3xf32>
  return %s : tensor<4x3xf32>
}

func.func private @lower_loss(%a: tensor<3x2xf32>, %v: tensor<4x3xf32>, %field: tensor<4x2xf32>) -> tensor<f32> {
  %logits = bism.matmul %v, %a : tensor<4x3xf32>, tensor<3x2xf32> -> tensor<4x2xf32>
  %q = bism.sigmoid %logits : tensor<4x2xf32>
  %weighted = bism.mul %q, %field : tensor<4x2xf32>
  %sp = bism.softplus %logits : tensor<4x2xf32>
  %terms = bism.sub %sp, %weighted : tensor<4x2xf32>
  %loss = bism.reduce_sum %terms axes [0, 1] : tensor<4x2xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

func.func @phi_step(%a: tensor<3x2xf32>, %v: tensor<4x3xf32>, %field: tensor<4x2xf32>) -> tensor<3x2xf32> {
  %g = bism.grad @lower_loss(%a, %v, %field) wrt [0]
      : (tensor<3x2xf32>, tensor<4x3xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  %lr = bism.constant dense<0.1> : tensor<3x2xf32>
  %step = bism.mul %g, %lr : tensor<3x2xf32>
  %next = bism.sub %a, %step : tensor<3x2xf32>
  return %next : tensor<3x2xf32>
}

// Row energies of a 100x400 batch: 400 terms per row, so one block of 256
// threads per row and a warp-shuffle + shared-memory reduction.
func.func @row_energy(%v: tensor<100x400xf32>) -> tensor<100xf32> {
  %sq = bism.square %v : tensor<100x400xf32>
  %e = bism.reduce_sum %sq axes [1] : tensor<100x400xf32> -> tensor<100xf32>
  return %e : tensor<100xf32>
}

// A relaxed-Bernoulli sample: packed Philox Gumbel draws and their log.
func.func @relaxed_sample(%logits: tensor<100x4xf32>, %key: tensor<2xi32>) -> tensor<100x4xf32> {
  %g = bism.random_gumbel %key : tensor<100x4xf32>
  %pre = bism.add %logits, %g : tensor<100x4xf32>
  %h = bism.sigmoid %pre : tensor<100x4xf32>
  return %h : tensor<100x4xf32>
}

// The energy: one host function per entry point (the kernel functions
// inlined) puts all its work on the executor's one stream: device
// temporaries from the stream-ordered pool, the kernels in the step's
// order (the matmul v*W as cuBLAS on the same stream, with no host wait
// around it), frees, and one host wait before returning. Launches keep the
// kernel stage's names (energy.k0 launches energy_k0, then energy_k0_1).
// CHECK-LABEL: llvm.func @energy(
// CHECK: %[[STREAM:.*]] = llvm.call @mgpuStreamCreate()
// CHECK: llvm.call @mgpuMemAlloc(%{{.*}}, %[[STREAM]], %{{.*}})
// CHECK-NOT: mgpuStreamSynchronize
// CHECK: gpu.launch_func <%[[STREAM]] : !llvm.ptr> @energy_k0::@energy_k0 blocks in
// CHECK-NOT: mgpuStreamSynchronize
// CHECK: gpu.launch_func <%[[STREAM]] : !llvm.ptr> @energy_k0_1::@energy_k0_1 blocks in
// CHECK-NOT: mgpuStreamSynchronize
// CHECK: gpu.launch_func <%[[STREAM]] : !llvm.ptr> @energy_k1::@energy_k1
// CHECK-NOT: mgpuStreamSynchronize
// CHECK: llvm.call @bism_rt_cublas_gemm_f32(
// CHECK-NOT: mgpuStreamSynchronize
// CHECK: gpu.launch_func <%[[STREAM]] : !llvm.ptr> @energy_k3::@energy_k3
// CHECK-NOT: mgpuStreamSynchronize
// CHECK: gpu.launch_func <%[[STREAM]] : !llvm.ptr> @energy_k4::@energy_k4
// CHECK-NOT: mgpuStreamSynchronize
// CHECK: llvm.call @mgpuMemFree(%{{.*}}, %[[STREAM]])
// CHECK: llvm.call @mgpuStreamSynchronize(%[[STREAM]])
// CHECK-NEXT: llvm.call @mgpuStreamDestroy(%[[STREAM]])
// CHECK-NEXT: llvm.return

// The energy's first kernel: the f64 accumulator's fill and the full sum
// of squares, two GPU kernels; the sum (12 terms) has no parallel
// dimension, so one block of one active thread loops over them.
// CHECK: gpu.binary @energy_k0 [#gpu.object<#nvvm.target<O = 3, chip = "sm_90", features = "+ptx80">, {{.*}}assembly = "{{.*}}.target sm_90{{.*}}.visible .entry energy_k0(
// CHECK: gpu.binary @energy_k0_1 [#gpu.object<#nvvm.target<O = 3, chip = "sm_90", features = "+ptx80">, {{.*}}assembly = "{{.*}}.visible .entry energy_k0_1(

// CHECK-LABEL: llvm.func @score(
// CHECK: gpu.launch_func {{.*}} @score_k0::@score_k0
// CHECK: gpu.launch_func {{.*}} @score_k1::@score_k1
// CHECK: gpu.launch_func {{.*}} @score_k2::@score_k2
// CHECK: llvm.call @bism_rt_cublas_gemm_f32(
// CHECK: llvm.call @mgpuStreamSynchronize(
// CHECK: llvm.return

// CHECK-LABEL: llvm.func @phi_step(
// CHECK: gpu.launch_func {{.*}} @phi_step_k0::@phi_step_k0
// CHECK: llvm.call @bism_rt_cublas_gemm_f32(
// CHECK: gpu.launch_func {{.*}} @phi_step_k1::@phi_step_k1
// CHECK: gpu.launch_func {{.*}} @phi_step_k2::@phi_step_k2
// CHECK: llvm.call @bism_rt_cublas_gemm_f32(
// CHECK: gpu.launch_func {{.*}} @phi_step_k3::@phi_step_k3
// The result into the caller's buffer: a device-to-device copy on the
// stream.
// CHECK: llvm.call @mgpuMemcpy(
// CHECK: llvm.call @mgpuStreamSynchronize(
// CHECK: llvm.return

// The cotangent of the logits (sigmoid' and softplus' fused, flat over the
// 8 elements): exp is the polynomial of the CPU back end (no libdevice
// call), so both devices compute the same arithmetic.
// CHECK: gpu.binary @phi_step_k1
// CHECK-SAME: .visible .entry phi_step_k1(
// CHECK-NOT: __nv_expf
// CHECK-SAME: fma.rn.f32

// The row energies: the accumulators' fill, then 100 blocks of 256 threads
// (f64 partial sums; warp butterflies of two 32-bit shuffles each, one
// barrier around the shared memory of the per-warp totals).
// CHECK-LABEL: llvm.func @row_energy(
// CHECK: gpu.launch_func {{.*}} @row_energy_k0::@row_energy_k0 blocks in
// CHECK: gpu.launch_func {{.*}} @row_energy_k0_1::@row_energy_k0_1 blocks in
// CHECK: gpu.binary @row_energy_k0_1
// CHECK-SAME: .shared .align 8 .b8 __wg_row_energy_k0_1
// CHECK-SAME: shfl.sync.bfly.b32
// CHECK-SAME: bar.sync

// The draw: the key's words are read by the kernel (the CPU back end
// derives the Philox keys on the host: host code here never reads device
// memory), and the draws use no approximate PTX instruction and do not
// flush denormals: what the CPU computes, bit for bit (Philox.h,
// DrawMath.h).
// CHECK-LABEL: llvm.func @relaxed_sample(
// CHECK-NOT: llvm.load
// CHECK: gpu.launch_func
// CHECK-NOT: llvm.load
// CHECK: llvm.return
// CHECK: gpu.binary @relaxed_sample_k0
// CHECK-SAME: ld.global.b32
// CHECK-SAME: mul.wide.u32
// CHECK-NOT: .approx
// CHECK-NOT: .ftz
// CHECK-SAME: fma.rn.f32
// CHECK-NOT: .approx
// CHECK-NOT: .ftz
// CHECK-SAME: ret;
// CHECK: llvm.func @mgpuStreamCreate(
