// A Gaussian-Bernoulli RBM with 2 visible and 4 binary latent units:
//   E(v, h) = 1/2 sum_i (v_i - b_i)^2 exp(-2 logsigma_i) - c.h - (vW).h
// Summing h out gives the free energy
//   F(v) = 1/2 sum_i (v_i - b_i)^2 exp(-2 logsigma_i) - sum_j softplus(c_j + (vW)_j).
// This draws a batch of 8 points uniformly in [0,1)^2 from the given key and
// returns the points and their free energies.
//
//   bism-run examples/basics/grbm_free_energy.mlir --entry free_energy --input "2xi32=0 42"

func.func @free_energy(%key: tensor<2xi32>) -> (tensor<8x2xf32>, tensor<8xf32>) {
  %w = bism.constant dense<[[0.5, -1.0, 0.25, 2.0], [1.5, 0.5, -0.75, -1.0]]> : tensor<2x4xf32>
  %b = bism.constant dense<[0.5, 0.5]> : tensor<2xf32>
  %c = bism.constant dense<[0.1, -0.2, 0.3, 0.0]> : tensor<4xf32>
  %logsigma = bism.constant dense<[-1.0, -0.5]> : tensor<2xf32>
  %half = bism.constant dense<0.5> : tensor<8xf32>
  %minus_two = bism.constant dense<-2.0> : tensor<2xf32>

  %v = bism.random_uniform %key : tensor<8x2xf32>

  // Quadratic visible term.
  %b_batch = bism.broadcast %b : tensor<2xf32> to tensor<8x2xf32>
  %centred = bism.sub %v, %b_batch : tensor<8x2xf32>
  %sq = bism.square %centred : tensor<8x2xf32>
  %scaled_logsigma = bism.mul %logsigma, %minus_two : tensor<2xf32>
  %precision = bism.exp %scaled_logsigma : tensor<2xf32>
  %precision_batch = bism.broadcast %precision : tensor<2xf32> to tensor<8x2xf32>
  %weighted = bism.mul %sq, %precision_batch : tensor<8x2xf32>
  %quadratic_sum = bism.reduce_sum %weighted axes [1] : tensor<8x2xf32> -> tensor<8xf32>
  %quadratic = bism.mul %quadratic_sum, %half : tensor<8xf32>

  // Latent term: sum_j softplus(c_j + (vW)_j).
  %vw = bism.matmul %v, %w : tensor<8x2xf32>, tensor<2x4xf32> -> tensor<8x4xf32>
  %c_batch = bism.broadcast %c : tensor<4xf32> to tensor<8x4xf32>
  %pre = bism.add %vw, %c_batch : tensor<8x4xf32>
  %sp = bism.softplus %pre : tensor<8x4xf32>
  %latent = bism.reduce_sum %sp axes [1] : tensor<8x4xf32> -> tensor<8xf32>

  %f = bism.sub %quadratic, %latent : tensor<8xf32>
  return %v, %f : tensor<8x2xf32>, tensor<8xf32>
}
