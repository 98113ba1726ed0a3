// RUN: bism-opt %s --bism-to-kernels | FileCheck %s
// RUN: bism-opt %s --bism-to-kernels --bism-form-kernels=stats -o /dev/null 2>&1 | FileCheck %s --check-prefix=STATS

// The kernel grouping of a small GRBM (batch 4, 3 visible, 2 latent): its
// energy, its score, the score with a Hessian-vector product, and one
// differentiable gradient step of a posterior parameter.

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

// The energy: the bias broadcast is the matmul's accumulator (BLAS adds
// v·W to it); the centring, squaring and summing is one reduction kernel
// (with the fill of its f64 accumulator), the coupling and its sum another,
// the difference an elementwise kernel. Each reduction's accumulating add
// may be reassociated (the back ends vectorise or tree-reduce it).
// CHECK-LABEL: func.func @energy(
// CHECK: linalg.fill {bism.kernel = "energy.k0"}
// CHECK: %[[QUAD:.*]] = linalg.generic {{.*}} iterator_types = ["reduction", "reduction"]} ins(%arg0, %arg3 : {{.*}}) {{.*}} {bism.kernel = "energy.k0", bism.kernel_kind = "reduction"}
// CHECK: arith.subf
// CHECK: %[[SQUARE:.*]] = arith.mulf
// CHECK: %[[WIDE:.*]] = arith.extf %[[SQUARE]] : f32 to f64
// CHECK: arith.addf %out, %[[WIDE]] fastmath<reassoc> : f64
// CHECK: %[[BIAS:.*]] = linalg.generic {{.*}} ins(%arg4 : tensor<2xf32>) {{.*}} {bism.kernel = "energy.k1", bism.kernel_kind = "copy"}
// CHECK: %[[VW:.*]] = linalg.matmul {bism.kernel = "energy.k2", bism.kernel_kind = "matmul"} ins(%arg0, %arg2 : {{.*}}) outs(%[[BIAS]] : tensor<4x2xf32>)
// CHECK: linalg.fill {bism.kernel = "energy.k3"}
// CHECK: %[[INTER:.*]] = linalg.generic {{.*}} ins(%[[VW]], %arg1 : {{.*}}) {{.*}} {bism.kernel = "energy.k3", bism.kernel_kind = "reduction"}
// CHECK: linalg.generic {{.*}} ins(%[[QUAD]], %[[INTER]] : {{.*}}) {{.*}} {bism.kernel = "energy.k4", bism.kernel_kind = "elementwise"}
// CHECK-NOT: bism.kernel =
// CHECK: return

func.func @score(%v: tensor<4x3xf32>, %h: tensor<4x2xf32>, %w: tensor<3x2xf32>,
                 %b: tensor<3xf32>, %c: tensor<2xf32>) -> tensor<4x3xf32> {
  %s = bism.grad @energy(%v, %h, %w, %b, %c) wrt [0]
      : (tensor<4x3xf32>, tensor<4x2xf32>, tensor<3x2xf32>, tensor<3xf32>, tensor<2xf32>) -> tensor<4x3xf32>
  return %s : tensor<4x3xf32>
}

// The score 2(v - b) - h·Wᵀ: the seed of the reverse sweep (a fill), the
// cotangent of v·W (the seed broadcast times h), 2(v - b) as the
// accumulator of the matmul that adds the cotangent times Wᵀ (transposed
// operand as an indexing map).
// CHECK-LABEL: func.func @score(
// CHECK: linalg.generic {{.*}} {bism.kernel = "score.k0", bism.kernel_kind = "fill"}
// CHECK: %[[COT:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %arg1 : tensor<1x1xf32>, tensor<4x2xf32>) {{.*}} {bism.kernel = "score.k1", bism.kernel_kind = "elementwise"}
// CHECK: %[[CENTRED:.*]] = linalg.generic {{.*}} ins(%arg0, %arg3 : {{.*}}) {{.*}} {bism.kernel = "score.k2", bism.kernel_kind = "elementwise"}
// CHECK: linalg.matmul {{.*}} {bism.kernel = "score.k3", bism.kernel_kind = "matmul"} ins(%[[COT]], %arg2 : {{.*}}) outs(%[[CENTRED]] :
// CHECK-NOT: bism.kernel =
// CHECK: return

func.func @score_and_hvp(%v: tensor<4x3xf32>, %h: tensor<4x2xf32>, %w: tensor<3x2xf32>,
                         %b: tensor<3xf32>, %c: tensor<2xf32>, %u: tensor<4x3xf32>)
    -> (tensor<4x3xf32>, tensor<4x3xf32>) {
  %s = bism.grad @energy(%v, %h, %w, %b, %c) wrt [0]
      : (tensor<4x3xf32>, tensor<4x2xf32>, tensor<3x2xf32>, tensor<3xf32>, tensor<2xf32>) -> tensor<4x3xf32>
  %hv = bism.hvp @energy(%v, %h, %w, %b, %c, %u) wrt [0]
      : (tensor<4x3xf32>, tensor<4x2xf32>, tensor<3x2xf32>, tensor<3xf32>, tensor<2xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  return %s, %hv : tensor<4x3xf32>, tensor<4x3xf32>
}

// Score and HVP together: the score's kernels as above, and the HVP of the
// energy (quadratic in v) is 2u: one more elementwise kernel, on u alone,
// over the whole tensor, so flattened to one loop of 12 between a collapse
// and an expand of its operands (views).
// CHECK-LABEL: func.func @score_and_hvp(
// CHECK: bism.kernel = "score_and_hvp.k3", bism.kernel_kind = "matmul"
// CHECK: %[[U:.*]] = tensor.collapse_shape %arg5 {{\[}}[0, 1]] : tensor<4x3xf32> into tensor<12xf32>
// CHECK: %[[FLAT:.*]] = linalg.generic {{.*}} iterator_types = ["parallel"]} ins(%[[U]] : tensor<12xf32>) {{.*}} {bism.kernel = "score_and_hvp.k4", bism.kernel_kind = "elementwise"}
// CHECK: %[[HV:.*]] = tensor.expand_shape %[[FLAT]] {{\[}}[0, 1]] output_shape [4, 3] : tensor<12xf32> into tensor<4x3xf32>
// CHECK-NOT: bism.kernel =
// CHECK: return %{{.*}}, %[[HV]]

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

// One gradient step of the posterior parameter A: the logits matmul, one
// elementwise kernel for the cotangent of the logits (sigmoid' and
// softplus' of the same logits, fused), the matmul vᵀ·(cotangent), and
// the update A - 0.1 g.
// CHECK-LABEL: func.func @phi_step(
// CHECK: linalg.fill {bism.kernel = "phi_step.k0"}
// CHECK: %[[LOGITS:.*]] = linalg.matmul {bism.kernel = "phi_step.k0", bism.kernel_kind = "matmul"} ins(%arg1, %arg0 :
// CHECK: %[[FLAT_LOGITS:.*]] = tensor.collapse_shape %[[LOGITS]] {{\[}}[0, 1]] : tensor<4x2xf32> into tensor<8xf32>
// CHECK: %[[FLAT_FIELD:.*]] = tensor.collapse_shape %arg2 {{\[}}[0, 1]] : tensor<4x2xf32> into tensor<8xf32>
// CHECK: %[[FLAT_COT:.*]] = linalg.generic {{.*}} ins(%[[FLAT_LOGITS]], %[[FLAT_FIELD]] : {{.*}}) {{.*}} {bism.kernel = "phi_step.k1", bism.kernel_kind = "elementwise"}
// CHECK: math.exp
// CHECK: %[[COT:.*]] = tensor.expand_shape %[[FLAT_COT]]
// CHECK: %[[G:.*]] = linalg.matmul {{.*}} {bism.kernel = "phi_step.k2", bism.kernel_kind = "matmul"} ins(%arg1, %[[COT]] :
// CHECK-DAG: %[[FLAT_A:.*]] = tensor.collapse_shape %arg0
// CHECK-DAG: %[[FLAT_G:.*]] = tensor.collapse_shape %[[G]]
// CHECK: linalg.generic {{.*}} ins(%[[FLAT_A]], %[[FLAT_G]] : tensor<6xf32>, tensor<6xf32>) {{.*}} {bism.kernel = "phi_step.k3", bism.kernel_kind = "elementwise"}
// CHECK-NOT: bism.kernel =
// CHECK: return

// STATS: remark: kernels of @energy: 5, elementwise 1, reduction 2, matmul 1, copy 1, fill 0; matmul GFLOP 4.8{{0*}}e-08
// STATS: remark: kernels of @phi_step: 4, elementwise 2, reduction 0, matmul 2, copy 0, fill 0; matmul GFLOP 9.6{{0*}}e-08

// Two weight gradients vᵀ·g1 + vᵀ·g2 (the cotangents of one visible field
// read in two steps): one matmul of the summed cotangents.
func.func @weight_gradient(%v: tensor<4x3xf32>, %g1: tensor<4x2xf32>, %g2: tensor<4x2xf32>) -> tensor<3x2xf32> {
  %a = bism.matmul %v, %g1 {transpose_lhs} : tensor<4x3xf32>, tensor<4x2xf32> -> tensor<3x2xf32>
  %b = bism.matmul %v, %g2 {transpose_lhs} : tensor<4x3xf32>, tensor<4x2xf32> -> tensor<3x2xf32>
  %s = bism.add %a, %b : tensor<3x2xf32>
  return %s : tensor<3x2xf32>
}

// CHECK-LABEL: func.func @weight_gradient(
// CHECK-DAG: %[[ZERO:.*]] = linalg.fill {bism.kernel = "weight_gradient.k1"}
// CHECK-DAG: %[[G2:.*]] = tensor.collapse_shape %arg2
// CHECK-DAG: %[[G1:.*]] = tensor.collapse_shape %arg1
// CHECK: %[[FLAT_SUM:.*]] = linalg.generic {{.*}} ins(%[[G2]], %[[G1]] : tensor<8xf32>, tensor<8xf32>) {{.*}} {bism.kernel = "weight_gradient.k0", bism.kernel_kind = "elementwise"}
// CHECK: arith.addf
// CHECK: %[[SUM:.*]] = tensor.expand_shape %[[FLAT_SUM]]
// CHECK: %[[G:.*]] = linalg.matmul {{.*}} {bism.kernel = "weight_gradient.k1", bism.kernel_kind = "matmul"} ins(%arg0, %[[SUM]] : {{.*}}) outs(%[[ZERO]] :
// CHECK-NOT: linalg.matmul
// CHECK: return %[[G]]

// Two Adam-like updates of one state (m1 = 0.9 m + 0.1 g1, p1 = p - m1,
// m2 = 0.9 m1 + 0.1 g2, p2 = p1 - m2): each intermediate is read by the
// next update and by its parameter update. Fusing along these shared
// values (each kernel also writing what later kernels read) leaves one
// kernel that reads m, g1, g2 and p once and writes m2 and p2; m1 and p1
// are computed once, in registers.
func.func @two_updates(%m: tensor<4x2xf32>, %g1: tensor<4x2xf32>, %g2: tensor<4x2xf32>,
                       %p: tensor<4x2xf32>) -> (tensor<4x2xf32>, tensor<4x2xf32>) {
  %b = bism.constant dense<0.9> : tensor<4x2xf32>
  %c = bism.constant dense<0.1> : tensor<4x2xf32>
  %a1 = bism.mul %m, %b : tensor<4x2xf32>
  %a2 = bism.mul %g1, %c : tensor<4x2xf32>
  %m1 = bism.add %a1, %a2 : tensor<4x2xf32>
  %p1 = bism.sub %p, %m1 : tensor<4x2xf32>
  %a3 = bism.mul %m1, %b : tensor<4x2xf32>
  %a4 = bism.mul %g2, %c : tensor<4x2xf32>
  %m2 = bism.add %a3, %a4 : tensor<4x2xf32>
  %p2 = bism.sub %p1, %m2 : tensor<4x2xf32>
  return %p2, %m2 : tensor<4x2xf32>, tensor<4x2xf32>
}

// CHECK-LABEL: func.func @two_updates(
// CHECK: %[[BOTH:.*]]:2 = linalg.generic {{.*}} iterator_types = ["parallel"]} ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) outs(%{{.*}}, %{{.*}} : tensor<8xf32>, tensor<8xf32>) {{.*}} {bism.kernel = "two_updates.k0", bism.kernel_kind = "elementwise"}
// CHECK-COUNT-2: arith.mulf
// CHECK: %[[M1:.*]] = arith.addf
// CHECK-COUNT-2: arith.mulf
// CHECK: %[[M2:.*]] = arith.addf
// CHECK: %[[P1:.*]] = arith.subf %{{.*}}, %[[M1]]
// CHECK: %[[P2:.*]] = arith.subf %[[P1]], %[[M2]]
// CHECK: linalg.yield %[[M2]], %[[P2]] : f32, f32
// CHECK-NOT: bism.kernel =
// CHECK: return

// A packed draw (four elements per Philox counter) uses its loop indices
// apart, so it keeps its loop nest; the elementwise kernel it feeds (one
// reader) fuses into it.
func.func @draw_scaled(%key: tensor<2xi32>) -> tensor<8x4xf32> {
  %u = bism.random_uniform %key : tensor<8x4xf32>
  %two = bism.constant dense<2.0> : tensor<8x4xf32>
  %s = bism.mul %u, %two : tensor<8x4xf32>
  return %s : tensor<8x4xf32>
}

// CHECK-LABEL: func.func @draw_scaled(
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} outs(%{{.*}} : tensor<8x4xf32>) {{.*}} {bism.kernel = "draw_scaled.k0", bism.kernel_kind = "elementwise"}
// CHECK-DAG: linalg.index 0
// CHECK-DAG: linalg.index 1
// CHECK: arith.mului_extended
// CHECK: arith.select
// CHECK: arith.mulf
// CHECK-NOT: bism.kernel =
// CHECK: return

// A kernel stores d = sqrt(v) + 0.1 only for a kernel after a matmul of its
// other result: the reader makes d again from v (one read of v instead of
// one of d), and the first kernel writes p1 alone.
func.func @recompute(%v: tensor<4x2xf32>, %m: tensor<4x2xf32>, %p: tensor<4x2xf32>,
                     %x: tensor<4x4xf32>) -> (tensor<4x2xf32>, tensor<4x2xf32>) {
  %eps = bism.constant dense<0.1> : tensor<4x2xf32>
  %s = bism.sqrt %v : tensor<4x2xf32>
  %d = bism.add %s, %eps : tensor<4x2xf32>
  %u = bism.div %m, %d : tensor<4x2xf32>
  %p1 = bism.sub %p, %u : tensor<4x2xf32>
  %y = bism.matmul %x, %p1 : tensor<4x4xf32>, tensor<4x2xf32> -> tensor<4x2xf32>
  %z = bism.mul %y, %d : tensor<4x2xf32>
  return %p1, %z : tensor<4x2xf32>, tensor<4x2xf32>
}

// CHECK-LABEL: func.func @recompute(
// CHECK: %[[V:.*]] = tensor.collapse_shape %arg0
// CHECK: %[[P1:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<8xf32>) {{.*}} {bism.kernel = "recompute.k0", bism.kernel_kind = "elementwise"}
// CHECK: math.sqrt
// CHECK: arith.divf
// CHECK: linalg.yield %{{.*}} : f32
// CHECK: } -> tensor<8xf32>
// CHECK: %[[Y:.*]] = linalg.matmul {bism.kernel = "recompute.k1", bism.kernel_kind = "matmul"}
// CHECK: %[[FLAT_Y:.*]] = tensor.collapse_shape %[[Y]]
// CHECK: linalg.generic {{.*}} ins(%[[FLAT_Y]], %[[V]] : tensor<8xf32>, tensor<8xf32>) {{.*}} {bism.kernel = "recompute.k2", bism.kernel_kind = "elementwise"}
// CHECK-NEXT: ^bb0(%[[YE:.*]]: f32, %[[VE:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[S:.*]] = math.sqrt %[[VE]] : f32
// CHECK-NEXT: %[[D:.*]] = arith.addf %[[S]], %{{.*}} : f32
// CHECK-NEXT: %[[Z:.*]] = arith.mulf %[[YE]], %[[D]] : f32
// CHECK-NEXT: linalg.yield %[[Z]] : f32
// CHECK-NOT: bism.kernel =
// CHECK: return
