// Checkpointed unrolling: a loop marked bism.checkpoint is unrolled for the
// gradient like any loop, but its reverse sweep recomputes each segment from
// the kept loop-carried state, behind a bism.optimization_barrier, instead
// of reading the forward pass's values. Four iterations x <- tanh(w x).
// RUN: bism-opt %s --bism-autodiff --canonicalize --cse | FileCheck %s --check-prefix=NONE
// RUN: sed 's/"none"/"every:2"/' %s | bism-opt --bism-autodiff --canonicalize --cse | FileCheck %s --check-prefix=EVERY2
// RUN: sed 's/"none"/"sqrt"/' %s | bism-opt --bism-autodiff --canonicalize --cse | FileCheck %s --check-prefix=EVERY2
// RUN: sed 's/"none"/"binomial:1"/' %s | bism-opt --bism-autodiff --canonicalize --cse | FileCheck %s --check-prefix=BINOMIAL1
// The barriers go before bufferization; nothing of bism is left.
// RUN: sed 's/"none"/"every:2"/' %s | bism-opt --bism-lower-cpu | FileCheck %s --check-prefix=CPU --implicit-check-not=bism.

func.func private @loss(%x: tensor<3xf64>, %w: tensor<3xf64>) -> tensor<f64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %last = scf.for %i = %c0 to %c4 step %c1 iter_args(%state = %x) -> (tensor<3xf64>) {
    %scaled = bism.mul %state, %w : tensor<3xf64>
    %next = bism.tanh %scaled : tensor<3xf64>
    scf.yield %next : tensor<3xf64>
  } {bism.checkpoint = "none"}
  %s = bism.reduce_sum %last axes [0] : tensor<3xf64> -> tensor<f64>
  return %s : tensor<f64>
}

func.func @gradient(%x: tensor<3xf64>, %w: tensor<3xf64>) -> (tensor<3xf64>, tensor<3xf64>) {
  %gx, %gw = bism.grad @loss(%x, %w) wrt [0, 1]
      : (tensor<3xf64>, tensor<3xf64>) -> (tensor<3xf64>, tensor<3xf64>)
  return %gx, %gw : tensor<3xf64>, tensor<3xf64>
}

// Plain unrolling: the four forward tanh, read again by the reverse sweep.
// NONE-LABEL: func.func @gradient(
// NONE-COUNT-4: bism.tanh
// NONE-NOT:     bism.tanh
// NONE-NOT:     bism.optimization_barrier
// NONE:         return

// every:2 (and sqrt, ceil(sqrt(4)) = 2): the forward pass; the last
// segment (iterations 2-3) reversed from the forward's own values, which
// are live when the reverse sweep starts; then a barrier on the kept state
// 0 and on w, iterations 0-1 again from the barrier's results, and their
// reverse sweep.
// EVERY2-LABEL: func.func @gradient(
// EVERY2-COUNT-4: bism.tanh
// EVERY2-NOT:     bism.tanh
// EVERY2:         %[[B0:.*]]:2 = bism.optimization_barrier %arg0, %arg1 : tensor<3xf64>, tensor<3xf64>
// EVERY2-NEXT:    %[[M3:.*]] = bism.mul %[[B0]]#0, %[[B0]]#1
// EVERY2-NEXT:    %[[T3:.*]] = bism.tanh %[[M3]]
// EVERY2-NEXT:    %[[M4:.*]] = bism.mul %[[T3]], %[[B0]]#1
// EVERY2-NEXT:    bism.tanh %[[M4]]
// EVERY2-NOT:     bism.tanh
// EVERY2-NOT:     bism.optimization_barrier
// EVERY2:         return

// binomial:1 (one snapshot, four iterations): iteration 3 reversed from
// the forward's values; state 2 recomputed from state 0 for the reverse of
// iteration 2; state 1 again from state 0 for iteration 1; then iteration
// 0: four forward tanh, six recomputed in five barriers' copies.
// BINOMIAL1-LABEL: func.func @gradient(
// BINOMIAL1-COUNT-4: bism.tanh
// BINOMIAL1-COUNT-5: bism.optimization_barrier
// BINOMIAL1-NOT:     bism.optimization_barrier
// BINOMIAL1:         return
// RUN: sed 's/"none"/"binomial:1"/' %s | bism-opt --bism-autodiff --canonicalize --cse | sed -n '/func.func @gradient/,$p' | grep -c bism.tanh | FileCheck %s --check-prefix=BINOMIAL1-TANH
// BINOMIAL1-TANH: 10

// CPU-LABEL: llvm.func @gradient(
