// RUN: bism-opt %s --split-input-file --verify-diagnostics --bism-build-train-step

// expected-error @+1 {{the module holds no bism.model}}
module {
  func.func @f(%x: tensor<2xf32>) -> tensor<2xf32> {
    return %x : tensor<2xf32>
  }
}

// -----

// expected-error @+1 {{@train_step is already defined}}
func.func @energy(%v: tensor<2x2xf32>, %h: tensor<2x3xf32>, %w: tensor<2x3xf32>) -> tensor<2xf32> {
  %vw = bism.matmul %v, %w : tensor<2x2xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
  %p = bism.mul %vw, %h : tensor<2x3xf32>
  %s = bism.reduce_sum %p axes [1] : tensor<2x3xf32> -> tensor<2xf32>
  return %s : tensor<2xf32>
}
func.func @logits(%v: tensor<2x2xf32>, %a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %l = bism.matmul %v, %a : tensor<2x2xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
  return %l : tensor<2x3xf32>
}
func.func @train_step() {
  return
}
bism.model @m energy @energy [@W] posterior "bernoulli" @logits [@A] spec {} {
  bism.param @W : tensor<2x3xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x3xf32> {group = "phi", init = "zeros"}
}
