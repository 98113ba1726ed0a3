// RUN: bism-opt %s --bism-lower-to-linalg --bism-approximate-math | FileCheck %s

// f32 transcendentals become polynomial arithmetic (vectorisable); f64 ones
// and the random draws' (which must equal the runtime's Philox reference)
// stay libm calls.

// CHECK-LABEL: func.func @f32_math(
// CHECK: linalg.generic
// CHECK-NOT: math.exp
// CHECK-NOT: math.log1p
// CHECK-NOT: math.tanh
// CHECK: math.fma
// CHECK: arith.bitcast
// CHECK: linalg.yield
func.func @f32_math(%a: tensor<64xf32>) -> tensor<64xf32> {
  %0 = bism.exp %a : tensor<64xf32>
  %1 = bism.log1p %0 : tensor<64xf32>
  %2 = bism.tanh %1 : tensor<64xf32>
  return %2 : tensor<64xf32>
}

// CHECK-LABEL: func.func @f64_math(
// CHECK: math.exp %{{.*}} : f64
// CHECK: math.log1p %{{.*}} : f64
func.func @f64_math(%a: tensor<64xf64>) -> tensor<64xf64> {
  %0 = bism.exp %a : tensor<64xf64>
  %1 = bism.log1p %0 : tensor<64xf64>
  return %1 : tensor<64xf64>
}

// CHECK-LABEL: func.func @normal_draw(
// CHECK: math.log %{{.*}} {bism.exact_math} : f32
// CHECK: math.cos %{{.*}} {bism.exact_math} : f32
func.func @normal_draw(%key: tensor<2xi32>) -> tensor<64xf32> {
  %0 = bism.random_normal %key : tensor<64xf32>
  return %0 : tensor<64xf32>
}
