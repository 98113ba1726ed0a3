// The step of one rank of a data-parallel run (rank 1 of 2) for the BiDSM
// model of build_bidsm.mlir (batch 4 per rank, K = 1, N = 2, φ = A [2x4],
// d [4]; θ = W [2x4], b, c, logσ). Every batch-mean gradient is averaged
// over the ranks right where it is made: each φ step's, so the ranks' φ stay
// equal, and θ's; so are the metrics J, G before and G after. The noise is
// this rank's rows of the global batch's draws: elements from 1 × 4 × 2 = 8
// (ε, [4,2]) and from 1 × 4 × 4 = 16 (the Gumbel pairs, [4,4]).
// RUN: bism-opt %S/build_bidsm.mlir --bism-build-train-step="ranks=2 rank=1" | FileCheck %s
// RUN: bism-opt %S/build_bidsm.mlir --bism-build-train-step="ranks=2 rank=1" --bism-autodiff --inline --canonicalize --cse | FileCheck %s --check-prefix=AD
// One rank (the default) has no collectives and no offsets.
// RUN: bism-opt %S/build_bidsm.mlir --bism-build-train-step | FileCheck %s --check-prefix=ONE
// Evaluation functions run on rank 0 alone: no collectives in them.
// RUN: bism-opt %S/build_bidsm.mlir --bism-build-train-step="ranks=2 rank=1 evaluation" | FileCheck %s --check-prefix=EVAL
// RUN: not bism-opt %S/build_bidsm.mlir --bism-build-train-step="ranks=2 rank=2" 2>&1 | FileCheck %s --check-prefix=RANK

// CHECK-LABEL: func.func private @grbm__phi_step(
// CHECK:         %[[G:.*]]:2 = bism.grad @grbm__lower(
// CHECK-NEXT:    %[[GA:.*]] = bism.all_reduce_mean %[[G]]#0 : tensor<2x4xf32>
// CHECK-NEXT:    %[[GD:.*]] = bism.all_reduce_mean %[[G]]#1 : tensor<4xf32>
// The Adam moments take the averaged gradient.
// CHECK:         bism.square %[[GA]]
// CHECK-LABEL: func.func @draw_noise(
// CHECK:         bism.random_normal %{{.*}} {offset = 8 : i64} : tensor<4x2xf32>
// CHECK-COUNT-8: bism.random_gumbel %{{.*}} {offset = 16 : i64} : tensor<4x4xf32>
// CHECK-LABEL: func.func @train_step_with_noise(
// CHECK:         %[[BEFORE:.*]] = call @grbm__lower(
// CHECK-NEXT:    bism.all_reduce_mean %[[BEFORE]] : tensor<f32>
// CHECK:         %[[AFTER:.*]] = call @grbm__lower(
// CHECK-NEXT:    bism.all_reduce_mean %[[AFTER]] : tensor<f32>
// CHECK:         %[[J:.*]] = call @grbm__j_bi(
// CHECK-NEXT:    bism.all_reduce_mean %[[J]] : tensor<f32>
// CHECK-NEXT:    %[[TG:.*]]:4 = bism.grad @grbm__j_bi(
// CHECK-NEXT:    bism.all_reduce_mean %[[TG]]#0 : tensor<2x4xf32>
// CHECK-NEXT:    bism.all_reduce_mean %[[TG]]#1 : tensor<2xf32>
// CHECK-NEXT:    bism.all_reduce_mean %[[TG]]#2 : tensor<4xf32>
// CHECK-NEXT:    bism.all_reduce_mean %[[TG]]#3 : tensor<2xf32>

// After autodiff the reverse sweep through the N = 2 unrolled steps averages
// their cotangents too (the op's derivative is itself): per φ tensor K + 2N
// = 5 (1 plain step, 2 unrolled, 2 of their reverse), plus θ's 4 and the 3
// metrics: 17 in the step.
// AD-LABEL: func.func @train_step_with_noise(
// AD-COUNT-17: bism.all_reduce_mean
// AD-NOT:  bism.all_reduce_mean
// AD:      return

// ONE-NOT: all_reduce_mean
// ONE-NOT: offset

// EVAL-LABEL: func.func @eval_approximate_ssm(
// EVAL-NOT:   all_reduce_mean

// RANK: error: rank 2 is not one of the 2 ranks
