// RUN: bism-opt %s --bism-lower-to-linalg --bism-approximate-math | FileCheck %s

// f32 transcendentals become polynomial arithmetic (vectorisable); f64 ones
// stay libm calls. f32 random draws are already polynomial (DrawMath.h, the
// same operations as the runtime's Philox reference) and must not be touched.

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
// CHECK-NOT: math.log
// CHECK-NOT: math.cos
// CHECK: math.fma
// CHECK: math.sqrt
// CHECK: return
func.func @normal_draw(%key: tensor<2xi32>) -> tensor<64xf32> {
  %0 = bism.random_normal %key : tensor<64xf32>
  return %0 : tensor<64xf32>
}
