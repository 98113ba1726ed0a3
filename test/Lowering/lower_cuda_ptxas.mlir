// REQUIRES: ptxas
// RUN: bism-opt %s --bism-lower-cuda="chip=sm_80 features=+ptx80 format=bin toolkit=%cuda_toolkit" | FileCheck %s --check-prefix=SM80
// RUN: bism-opt %s --bism-lower-cuda="chip=sm_90 features=+ptx80 format=bin toolkit=%cuda_toolkit" | FileCheck %s --check-prefix=SM90

// The toolkit's ptxas accepts the PTX of a GRBM score kernel and of a
// relaxed-Bernoulli sample with its packed Gumbel draws (Philox, the draws'
// polynomial log) for sm_80 and sm_90, and of a block reduction (f64 warp
// shuffles and shared memory of gpu.all_reduce): format=bin runs it and
// embeds the cubin (an ELF object) in the gpu.binary.

func.func @score(%v: tensor<4x3xf32>, %h: tensor<4x2xf32>, %w: tensor<3x2xf32>,
                 %b: tensor<3xf32>) -> tensor<4x3xf32> {
  %b_batch = bism.broadcast %b : tensor<3xf32> to tensor<4x3xf32>
  %centred = bism.sub %v, %b_batch : tensor<4x3xf32>
  %field = bism.matmul %h, %w {transpose_rhs} : tensor<4x2xf32>, tensor<3x2xf32> -> tensor<4x3xf32>
  %s = bism.sub %field, %centred : tensor<4x3xf32>
  return %s : tensor<4x3xf32>
}

func.func @relaxed_sample(%logits: tensor<100x4xf32>, %key: tensor<2xi32>) -> tensor<100x4xf32> {
  %k1 = bism.key_split %key [0]
  %k2 = bism.key_split %key [1]
  %g1 = bism.random_gumbel %k1 : tensor<100x4xf32>
  %g2 = bism.random_gumbel %k2 : tensor<100x4xf32>
  %d = bism.sub %g1, %g2 : tensor<100x4xf32>
  %pre = bism.add %logits, %d : tensor<100x4xf32>
  %h = bism.sigmoid %pre : tensor<100x4xf32>
  return %h : tensor<100x4xf32>
}

func.func @row_energy(%v: tensor<100x400xf32>) -> tensor<100xf32> {
  %sq = bism.square %v : tensor<100x400xf32>
  %e = bism.reduce_sum %sq axes [1] : tensor<100x400xf32> -> tensor<100xf32>
  return %e : tensor<100xf32>
}

// SM80: gpu.binary @score_k0 [#gpu.object<#nvvm.target<O = 3, chip = "sm_80", features = "+ptx80">, {{.*}}bin = "\7FELF
// SM80: gpu.binary @relaxed_sample_k0 [#gpu.object<#nvvm.target<O = 3, chip = "sm_80", features = "+ptx80">, {{.*}}bin = "\7FELF
// SM80: gpu.binary @row_energy_k0_1 [#gpu.object<#nvvm.target<O = 3, chip = "sm_80", features = "+ptx80">, {{.*}}bin = "\7FELF
// SM90: gpu.binary @score_k0 [#gpu.object<#nvvm.target<O = 3, chip = "sm_90", features = "+ptx80">, {{.*}}bin = "\7FELF
// SM90: gpu.binary @relaxed_sample_k0 [#gpu.object<#nvvm.target<O = 3, chip = "sm_90", features = "+ptx80">, {{.*}}bin = "\7FELF
// SM90: gpu.binary @row_energy_k0_1 [#gpu.object<#nvvm.target<O = 3, chip = "sm_90", features = "+ptx80">, {{.*}}bin = "\7FELF
