// RUN: bism-opt %s --bism-lower-to-linalg | FileCheck %s

// Random draws: a draw reads the Philox-4x32-10 words of counters 0, 1, 2,
// ... in order, each element taking the words it needs (1 for f32 uniform,
// Gumbel and Rademacher, 2 for f32 normal and f64 uniform, 4 for f64
// normal). A linalg.generic over (counter, element of the counter) runs
// Philox on counter (c lo, c hi, 0, 0) with arith.mului_extended once per
// counter, picks the element's words by its slot (selects), and converts
// them as in runtime/include/bism/runtime/Philox.h; its result, padded to
// whole counters, is collapsed, cut to the draw's elements and reshaped.
// Round keys are computed once outside.

// 12 one-word elements: 3 counters of 4.
// CHECK-LABEL: func.func @uniform_f32(
// CHECK-DAG: %[[K0:.*]] = tensor.extract %arg0[%c0{{.*}}] : tensor<2xi32>
// CHECK-DAG: %[[K1:.*]] = tensor.extract %arg0[%c1{{.*}}] : tensor<2xi32>
// 0x9E3779B9 and 0xBB67AE85, the Weyl increments of the key:
// CHECK-DAG: %[[W0:.*]] = arith.constant -1640531527 : i32
// CHECK-DAG: %[[W1:.*]] = arith.constant -1150833019 : i32
// CHECK: arith.addi %[[K0]], %[[W0]] : i32
// CHECK: arith.addi %[[K1]], %[[W1]] : i32
// CHECK-COUNT-8: arith.addi %{{.*}}, %[[W0]] : i32
// CHECK: %[[PACKED:.*]] = linalg.generic {indexing_maps = [#{{.*}}], iterator_types = ["parallel", "parallel"]} outs(%{{.*}} : tensor<3x4xf32>)
// CHECK-NEXT: ^bb0(%out: f32):
// CHECK-NEXT: %[[C:.*]] = linalg.index 0 : index
// CHECK: %[[C64:.*]] = arith.index_castui %[[C]] : index to i64
// CHECK: %[[LO:.*]] = arith.trunci %[[C64]] : i64 to i32
// CHECK: %[[SH:.*]] = arith.shrui %[[C64]], %{{.*}} : i64
// CHECK: %[[HI:.*]] = arith.trunci %[[SH]] : i64 to i32
// 0xD2511F53 and 0xCD9E8D57, the round multipliers:
// CHECK-DAG: %[[M0:.*]] = arith.constant -766435501 : i32
// CHECK-DAG: %[[M1:.*]] = arith.constant -845247145 : i32
// Round 1: hi1 ^ c1 ^ k0 and hi0 ^ c3 ^ k1.
// CHECK: %{{.*}}, %[[H0:.*]] = arith.mului_extended %[[M0]], %[[LO]] : i32
// CHECK: %{{.*}}, %[[H1:.*]] = arith.mului_extended %[[M1]], %{{.*}} : i32
// CHECK: %[[X:.*]] = arith.xori %[[H1]], %[[HI]] : i32
// CHECK: arith.xori %[[X]], %[[K0]] : i32
// CHECK: %[[Y:.*]] = arith.xori %[[H0]], %{{.*}} : i32
// CHECK: arith.xori %[[Y]], %[[K1]] : i32
// CHECK-COUNT-18: arith.mului_extended
// CHECK-NOT: arith.mului_extended
// The element's word: word (slot) of the counter's four.
// CHECK: %[[SLOT:.*]] = linalg.index 1 : index
// CHECK: %[[IS1:.*]] = arith.cmpi eq, %[[SLOT]], %c1{{.*}} : index
// CHECK: %[[S1:.*]] = arith.select %[[IS1]], %{{.*}}, %{{.*}} : i32
// CHECK: %[[IS2:.*]] = arith.cmpi eq, %[[SLOT]], %c2{{.*}} : index
// CHECK: %[[S2:.*]] = arith.select %[[IS2]], %{{.*}}, %[[S1]] : i32
// CHECK: %[[IS3:.*]] = arith.cmpi eq, %[[SLOT]], %c3{{.*}} : index
// CHECK: %[[WORD:.*]] = arith.select %[[IS3]], %{{.*}}, %[[S2]] : i32
// f32 uniform: (w >> 8) * 2^-24.
// CHECK: %[[BITS:.*]] = arith.shrui %[[WORD]], %c8_i32 : i32
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 5.96046448E-8 : f32
// CHECK-DAG: %[[F:.*]] = arith.uitofp %[[BITS]] : i32 to f32
// CHECK: %[[U:.*]] = arith.mulf %[[F]], %[[SCALE]] : f32
// CHECK: linalg.yield %[[U]] : f32
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %[[PACKED]] {{\[}}[0, 1]] : tensor<3x4xf32> into tensor<12xf32>
// CHECK: %[[DRAW:.*]] = tensor.expand_shape %[[FLAT]] {{\[}}[0, 1]] output_shape [3, 4] : tensor<12xf32> into tensor<3x4xf32>
// CHECK: return %[[DRAW]]
func.func @uniform_f32(%k: tensor<2xi32>) -> tensor<3x4xf32> {
  %0 = bism.random_uniform %k : tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// f64 uniform: ((w0 << 32 | w1) >> 11) * 2^-53 on the element's two
// words, (w0, w1) or (w2, w3) of its counter; 5 elements: 3 counters of 2,
// the last element dropped.
// CHECK-LABEL: func.func @uniform_f64(
// CHECK: %[[PACKED:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<3x2xf64>)
// CHECK-COUNT-20: arith.mului_extended
// CHECK: %[[SLOT:.*]] = linalg.index 1 : index
// CHECK: %[[IS1:.*]] = arith.cmpi eq, %[[SLOT]], %c1{{.*}} : index
// CHECK: %[[FIRST:.*]] = arith.select %[[IS1]], %{{.*}}, %{{.*}} : i32
// CHECK: %[[IS1B:.*]] = arith.cmpi eq, %[[SLOT]], %c1{{.*}} : index
// CHECK: %[[SECOND:.*]] = arith.select %[[IS1B]], %{{.*}}, %{{.*}} : i32
// CHECK: %[[HI:.*]] = arith.extui %[[FIRST]] : i32 to i64
// CHECK: %[[LO:.*]] = arith.extui %[[SECOND]] : i32 to i64
// CHECK: %[[SHL:.*]] = arith.shli %[[HI]], %{{.*}} : i64
// CHECK: %[[OR:.*]] = arith.ori %[[SHL]], %[[LO]] : i64
// CHECK: %[[B53:.*]] = arith.shrui %[[OR]], %c11_i64 : i64
// CHECK-DAG: arith.constant 1.1102230246251565E-16 : f64
// CHECK-DAG: arith.uitofp %[[B53]] : i64 to f64
// CHECK: arith.mulf
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %[[PACKED]] {{\[}}[0, 1]] : tensor<3x2xf64> into tensor<6xf64>
// CHECK: %[[DRAW:.*]] = tensor.extract_slice %[[FLAT]][0] [5] [1] : tensor<6xf64> to tensor<5xf64>
// CHECK: return %[[DRAW]]
func.func @uniform_f64(%k: tensor<2xi32>) -> tensor<5xf64> {
  %0 = bism.random_uniform %k : tensor<5xf64>
  return %0 : tensor<5xf64>
}

// Normal: Box-Muller sqrt(-2 log u1) * cos(2 pi u2), u1 open (+0.5). f32
// log and cos are runtime/include/bism/runtime/DrawMath.h's polynomials in
// plain arith/math.fma (vectorisable, no libm), not exact-math libm calls.
// CHECK-LABEL: func.func @normal_f32(
// CHECK: linalg.generic
// CHECK: arith.uitofp
// CHECK: %[[HALF:.*]] = arith.constant 5.000000e-01 : f32
// CHECK: %[[U1:.*]] = arith.addf %{{.*}}, %[[HALF]] : f32
// CHECK-NOT: math.log
// CHECK-NOT: math.cos
// drawLog: k = (bits - bits(sqrt 1/2)) >> 23, m = bits - (k << 23), f = m - 1.
// CHECK: %[[BITS:.*]] = arith.bitcast %{{.*}} : f32 to i32
// CHECK: %[[OFF:.*]] = arith.subi %[[BITS]], %{{.*}} : i32
// CHECK: %[[K:.*]] = arith.shrsi %[[OFF]], %c23_i32{{.*}} : i32
// CHECK: %[[KS:.*]] = arith.shli %[[K]], %c23_i32{{.*}} : i32
// CHECK: %[[MB:.*]] = arith.subi %[[BITS]], %[[KS]] : i32
// CHECK: %[[M:.*]] = arith.bitcast %[[MB]] : i32 to f32
// CHECK: %[[F:.*]] = arith.subf %[[M]], %{{.*}} : f32
// CHECK: %[[FK:.*]] = arith.sitofp %[[K]] : i32 to f32
// The Cephes logf polynomial, Horner in fma, then k ln2 in two parts.
// CHECK-COUNT-8: math.fma %{{.*}}, %[[F]], %{{.*}} : f32
// CHECK: math.fma %[[FK]], %{{.*}}, %{{.*}} : f32
// CHECK: %[[LOG:.*]] = math.fma %[[FK]], %{{.*}}, %{{.*}} : f32
// CHECK: %[[R2:.*]] = arith.mulf %{{.*}}, %[[LOG]] : f32
// CHECK: %[[R:.*]] = math.sqrt %[[R2]] : f32
// drawCos2Pi: exact reduction of u2 by selects, then sin and cos polynomials.
// CHECK: arith.cmpf ogt
// CHECK: arith.select
// CHECK: %[[NEG:.*]] = arith.cmpf ogt
// CHECK: arith.select %[[NEG]]
// CHECK: %[[SIN:.*]] = arith.cmpf ogt
// CHECK: arith.select %[[SIN]]
// CHECK: math.fma
// CHECK: %[[V:.*]] = arith.select %[[SIN]], %{{.*}}, %{{.*}} : f32
// CHECK: %[[MINUS:.*]] = arith.negf %[[V]] : f32
// CHECK: %[[COS:.*]] = arith.select %[[NEG]], %[[MINUS]], %[[V]] : f32
// CHECK: %[[N:.*]] = arith.mulf %[[R]], %[[COS]] : f32
// CHECK-NEXT: linalg.yield %[[N]] : f32
func.func @normal_f32(%k: tensor<2xi32>) -> tensor<2x2xf32> {
  %0 = bism.random_normal %k : tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// f64 normal: libm log and cos, marked exact (kept out of the polynomial
// approximations).
// CHECK-LABEL: func.func @normal_f64(
// CHECK: linalg.generic
// CHECK: %[[LOG:.*]] = math.log %{{.*}} {bism.exact_math} : f64
// CHECK: %[[R2:.*]] = arith.mulf %{{.*}}, %[[LOG]] : f64
// CHECK: %[[R:.*]] = math.sqrt %[[R2]] : f64
// CHECK: %[[TWOPI:.*]] = arith.constant 6.2831853071795862 : f64
// CHECK: %[[ANGLE:.*]] = arith.mulf %[[TWOPI]], %{{.*}} : f64
// CHECK: %[[COS:.*]] = math.cos %[[ANGLE]] {bism.exact_math} : f64
// CHECK: %[[N:.*]] = arith.mulf %[[R]], %[[COS]] : f64
// CHECK: linalg.yield %[[N]] : f64
func.func @normal_f64(%k: tensor<2xi32>) -> tensor<2x2xf64> {
  %0 = bism.random_normal %k : tensor<2x2xf64>
  return %0 : tensor<2x2xf64>
}

// f32 gumbel: -drawLog(-drawLog(u)), two inlined polynomial logs.
// CHECK-LABEL: func.func @gumbel_f32(
// CHECK: linalg.generic
// CHECK-NOT: math.log
// CHECK: arith.bitcast %{{.*}} : f32 to i32
// CHECK: %[[HI1:.*]] = arith.constant 0.693359375 : f32
// CHECK-NEXT: %[[L1:.*]] = math.fma %{{.*}}, %[[HI1]], %{{.*}} : f32
// CHECK-NEXT: %[[N1:.*]] = arith.negf %[[L1]] : f32
// CHECK-NEXT: arith.bitcast %[[N1]] : f32 to i32
// CHECK-NOT: math.log
// CHECK: %[[HI2:.*]] = arith.constant 0.693359375 : f32
// CHECK-NEXT: %[[L2:.*]] = math.fma %{{.*}}, %[[HI2]], %{{.*}} : f32
// CHECK-NEXT: %[[G:.*]] = arith.negf %[[L2]] : f32
// CHECK-NEXT: linalg.yield %[[G]] : f32
func.func @gumbel_f32(%k: tensor<2xi32>) -> tensor<3xf32> {
  %0 = bism.random_gumbel %k : tensor<3xf32>
  return %0 : tensor<3xf32>
}

// Gumbel: -log(-log(u)), u open.
// CHECK-LABEL: func.func @gumbel_f64(
// CHECK: linalg.generic
// CHECK: arith.addf %{{.*}}, %{{.*}} : f64
// CHECK: %[[U:.*]] = arith.mulf
// CHECK: %[[L1:.*]] = math.log %[[U]] {bism.exact_math} : f64
// CHECK: %[[N1:.*]] = arith.negf %[[L1]] : f64
// CHECK: %[[L2:.*]] = math.log %[[N1]] {bism.exact_math} : f64
// CHECK: %[[G:.*]] = arith.negf %[[L2]] : f64
// CHECK: linalg.yield %[[G]] : f64
func.func @gumbel_f64(%k: tensor<2xi32>) -> tensor<3xf64> {
  %0 = bism.random_gumbel %k : tensor<3xf64>
  return %0 : tensor<3xf64>
}

// Rademacher: (w & 1) ? +1 : -1; a scalar is word 0 of counter 0 (one
// counter computed, one element kept).
// CHECK-LABEL: func.func @rademacher_scalar(
// CHECK: %[[PACKED:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<1x4xf32>)
// CHECK: %[[BIT:.*]] = arith.andi %{{.*}}, %c1_i32 : i32
// CHECK: %[[SET:.*]] = arith.cmpi ne, %[[BIT]], %{{.*}} : i32
// CHECK-DAG: %[[PLUS:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG: %[[MINUS:.*]] = arith.constant -1.000000e+00 : f32
// CHECK: arith.select %[[SET]], %[[PLUS]], %[[MINUS]] : f32
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %[[PACKED]]
// CHECK: %[[ONE:.*]] = tensor.extract_slice %[[FLAT]][0] [1] [1] : tensor<4xf32> to tensor<1xf32>
// CHECK: %[[DRAW:.*]] = tensor.collapse_shape %[[ONE]] [] : tensor<1xf32> into tensor<f32>
// CHECK: return %[[DRAW]]
func.func @rademacher_scalar(%k: tensor<2xi32>) -> tensor<f32> {
  %0 = bism.random_rademacher %k : tensor<f32>
  return %0 : tensor<f32>
}

// key_split: Philox on counter (index lo, index hi, 0, 0x6b657973), words 0, 1.
// CHECK-LABEL: func.func @key_split(
// CHECK-NOT: linalg.generic
// CHECK-DAG: %[[LO:.*]] = arith.constant 705032704 : i32
// CHECK-DAG: %[[HI:.*]] = arith.constant 1 : i32
// CHECK-DAG: %[[TAG:.*]] = arith.constant 1801812339 : i32
// CHECK: arith.mului_extended %{{.*}}, %[[LO]] : i32
// CHECK-COUNT-19: arith.mului_extended
// CHECK: %[[KEY:.*]] = tensor.from_elements %{{.*}}, %{{.*}} : tensor<2xi32>
// CHECK: return %[[KEY]]
func.func @key_split(%k: tensor<2xi32>) -> tensor<2xi32> {
  %0 = bism.key_split %k [5000000000]
  return %0 : tensor<2xi32>
}
