// SM's exact Hessian trace takes one Hessian-vector product per visible
// dimension: readModel rejects it above D = 64, naming the field.
// RUN: bism-opt %s -verify-diagnostics --bism-build-train-step

func.func @e(%v: tensor<2x65xf32>, %h: tensor<2x3xf32>, %w: tensor<65x3xf32>) -> tensor<2xf32> {
  %vw = bism.matmul %v, %w : tensor<2x65xf32>, tensor<65x3xf32> -> tensor<2x3xf32>
  %p = bism.mul %vw, %h : tensor<2x3xf32>
  %e = bism.reduce_sum %p axes [1] : tensor<2x3xf32> -> tensor<2xf32>
  return %e : tensor<2xf32>
}
func.func @q(%v: tensor<2x65xf32>, %a: tensor<65x3xf32>) -> tensor<2x3xf32> {
  %l = bism.matmul %v, %a : tensor<2x65xf32>, tensor<65x3xf32> -> tensor<2x3xf32>
  return %l : tensor<2x3xf32>
}
// expected-error @+1 {{spec field 'objective' is "sm", whose exact Hessian trace takes one Hessian-vector product per visible dimension; this model has 65 (limit 64): use "ssm" or "dsm"}}
bism.model @m energy @e [@W] posterior "bernoulli" @q [@A] spec {objective = "sm"} {
  bism.param @W : tensor<65x3xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<65x3xf32> {group = "phi", init = "zeros"}
}
