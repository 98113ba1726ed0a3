// The model of test/Execution/train_onnx.mlir with the energy written in the
// bism dialect (as examples/grbm/checkerboard.mlir's) instead of imported
// from grbm_energy.onnxtext, and the initializers' values as hand-written
// "value" initialisers: training it must give the same metrics.

func.func private @energy(%v: tensor<100x2xf32>, %h: tensor<100x4xf32>,
                          %w: tensor<2x4xf32>, %b: tensor<2xf32>,
                          %c: tensor<4xf32>, %logsigma: tensor<2xf32>)
    -> tensor<100xf32> {
  %half = bism.constant dense<0.5> : tensor<100xf32>
  %minus_two = bism.constant dense<-2.0> : tensor<2xf32>
  %b_batch = bism.broadcast %b : tensor<2xf32> to tensor<100x2xf32>
  %centred = bism.sub %v, %b_batch : tensor<100x2xf32>
  %sq = bism.square %centred : tensor<100x2xf32>
  %scaled = bism.mul %logsigma, %minus_two : tensor<2xf32>
  %precision = bism.exp %scaled : tensor<2xf32>
  %precision_batch = bism.broadcast %precision : tensor<2xf32> to tensor<100x2xf32>
  %weighted = bism.mul %sq, %precision_batch : tensor<100x2xf32>
  %quadratic_sum = bism.reduce_sum %weighted axes [1] : tensor<100x2xf32> -> tensor<100xf32>
  %quadratic = bism.mul %quadratic_sum, %half : tensor<100xf32>
  %vw = bism.matmul %v, %w : tensor<100x2xf32>, tensor<2x4xf32> -> tensor<100x4xf32>
  %c_batch = bism.broadcast %c : tensor<4xf32> to tensor<100x4xf32>
  %field = bism.add %vw, %c_batch : tensor<100x4xf32>
  %coupling = bism.mul %field, %h : tensor<100x4xf32>
  %interaction = bism.reduce_sum %coupling axes [1] : tensor<100x4xf32> -> tensor<100xf32>
  %e = bism.sub %quadratic, %interaction : tensor<100xf32>
  return %e : tensor<100xf32>
}

func.func private @posterior_logits(%v: tensor<100x2xf32>, %a: tensor<2x4xf32>,
                                    %d: tensor<4xf32>) -> tensor<100x4xf32> {
  %va = bism.matmul %v, %a : tensor<100x2xf32>, tensor<2x4xf32> -> tensor<100x4xf32>
  %d_batch = bism.broadcast %d : tensor<4xf32> to tensor<100x4xf32>
  %l = bism.add %va, %d_batch : tensor<100x4xf32>
  return %l : tensor<100x4xf32>
}

bism.model @grbm energy @energy [@W, @b, @c, @logsigma]
    posterior "bernoulli" @posterior_logits [@A, @d] temperature 0.1
    spec {method = "bism", objective = "dsm", noise_std = 0.1,
          inner_steps = 1, unroll_steps = 1, lr_theta = 1.0e-2,
          lr_phi = 1.0e-2, unroll_optimizer = "same", batch_size = 100,
          dataset = "checkerboard"} {
  bism.param @W : tensor<2x4xf32> {group = "theta", init = "value", value = dense<[[3.0, -2.5, 1.0, 0.5], [-1.0, 2.0, -3.0, 1.5]]> : tensor<2x4xf32>}
  bism.param @b : tensor<2xf32> {group = "theta", init = "value", value = dense<[0.5, 0.25]> : tensor<2xf32>}
  bism.param @c : tensor<4xf32> {group = "theta", init = "value", value = dense<[0.0, 0.1, -0.1, 0.2]> : tensor<4xf32>}
  bism.param @logsigma : tensor<2xf32> {group = "theta", init = "value", value = dense<[-1.0, -1.5]> : tensor<2xf32>}
  bism.param @A : tensor<2x4xf32> {group = "phi", init = "normal", std = 0.01}
  bism.param @d : tensor<4xf32> {group = "phi", init = "zeros"}
}
