// Public functions must take and return ranked static tensors of f32, f64,
// i1, i32 or i64; the error names the function.
// RUN: not bism-run %s --entry f 2>&1 | FileCheck %s
// CHECK: bism-run: error: function 'g': argument 1 has type f32; callable functions take and return ranked static tensors
func.func @f(%x: tensor<2xf32>) -> tensor<2xf32> {
  return %x : tensor<2xf32>
}
func.func @g(%x: tensor<2xf32>, %s: f32) -> tensor<2xf32> {
  return %x : tensor<2xf32>
}
