// Gaussian-Bernoulli RBM on the 2-D checkerboard, trained with BiDSM
// (bi-level denoising score matching, K = 5 plain and N = 5 unrolled
// posterior steps per minibatch), as in the BiSM paper's toy experiment.
//
//   E(v, h) = 1/2 sum_i (v_i - b_i)^2 exp(-2 logsigma_i) - c.h - (v W).h
//   q(h | v) = relaxed Bernoulli with logits v A + d, temperature 0.1
//   F(v) = -log sum_h exp(-E(v, h)) (free_energy; method = "marginal" trains
//          with exact-marginal score matching instead)
//   gibbs: one Gibbs sweep with the model's conditionals (method = "cd" or
//          "pcd" trains with CD-k / PCD instead)
//   component_log_mass: log of the v-integral of exp(-E(v, h)) per binary h,
//          for the exact log-likelihood (log Z over all 2^4 configurations)
//
//   bism-opt examples/grbm/checkerboard.mlir --bism-build-train-step

// Per-sample energies of a batch: v [B, 2], h [B, 4] -> [B].
func.func private @energy(%v: tensor<?x2xf32>, %h: tensor<?x4xf32>,
                          %w: tensor<2x4xf32>, %b: tensor<2xf32>,
                          %c: tensor<4xf32>, %logsigma: tensor<2xf32>)
    -> tensor<?xf32> {
  %half_scalar = bism.constant dense<0.5> : tensor<f32>
  %half = bism.broadcast %half_scalar : tensor<f32> to tensor<?xf32>
  %minus_two = bism.constant dense<-2.0> : tensor<2xf32>
  %b_batch = bism.broadcast %b : tensor<2xf32> to tensor<?x2xf32>
  %centred = bism.sub %v, %b_batch : tensor<?x2xf32>
  %sq = bism.square %centred : tensor<?x2xf32>
  %scaled = bism.mul %logsigma, %minus_two : tensor<2xf32>
  %precision = bism.exp %scaled : tensor<2xf32>
  %precision_batch = bism.broadcast %precision : tensor<2xf32> to tensor<?x2xf32>
  %weighted = bism.mul %sq, %precision_batch : tensor<?x2xf32>
  %quadratic_sum = bism.reduce_sum %weighted axes [1] : tensor<?x2xf32> -> tensor<?xf32>
  %quadratic = bism.mul %quadratic_sum, %half : tensor<?xf32>
  %vw = bism.matmul %v, %w : tensor<?x2xf32>, tensor<2x4xf32> -> tensor<?x4xf32>
  %c_batch = bism.broadcast %c : tensor<4xf32> to tensor<?x4xf32>
  %field = bism.add %vw, %c_batch : tensor<?x4xf32>
  %coupling = bism.mul %field, %h : tensor<?x4xf32>
  %interaction = bism.reduce_sum %coupling axes [1] : tensor<?x4xf32> -> tensor<?xf32>
  %e = bism.sub %quadratic, %interaction : tensor<?xf32>
  return %e : tensor<?xf32>
}

// Posterior logits l = v A + d, [B, 4].
func.func private @posterior_logits(%v: tensor<?x2xf32>, %a: tensor<2x4xf32>,
                                    %d: tensor<4xf32>) -> tensor<?x4xf32> {
  %va = bism.matmul %v, %a : tensor<?x2xf32>, tensor<2x4xf32> -> tensor<?x4xf32>
  %d_batch = bism.broadcast %d : tensor<4xf32> to tensor<?x4xf32>
  %l = bism.add %va, %d_batch : tensor<?x4xf32>
  return %l : tensor<?x4xf32>
}

// Free energy F(v) = 1/2 sum_i (v_i - b_i)^2 exp(-2 logsigma_i)
//                   - sum_j softplus(c_j + (v W)_j), [B]: the exact
// marginal, used by spec method = "marginal" (exact-marginal DSM/SSM).
func.func private @free_energy(%v: tensor<?x2xf32>, %w: tensor<2x4xf32>,
                               %b: tensor<2xf32>, %c: tensor<4xf32>,
                               %logsigma: tensor<2xf32>) -> tensor<?xf32> {
  %half_scalar = bism.constant dense<0.5> : tensor<f32>
  %half = bism.broadcast %half_scalar : tensor<f32> to tensor<?xf32>
  %minus_two = bism.constant dense<-2.0> : tensor<2xf32>
  %b_batch = bism.broadcast %b : tensor<2xf32> to tensor<?x2xf32>
  %centred = bism.sub %v, %b_batch : tensor<?x2xf32>
  %sq = bism.square %centred : tensor<?x2xf32>
  %scaled = bism.mul %logsigma, %minus_two : tensor<2xf32>
  %precision = bism.exp %scaled : tensor<2xf32>
  %precision_batch = bism.broadcast %precision : tensor<2xf32> to tensor<?x2xf32>
  %weighted = bism.mul %sq, %precision_batch : tensor<?x2xf32>
  %quadratic_sum = bism.reduce_sum %weighted axes [1] : tensor<?x2xf32> -> tensor<?xf32>
  %quadratic = bism.mul %quadratic_sum, %half : tensor<?xf32>
  %vw = bism.matmul %v, %w : tensor<?x2xf32>, tensor<2x4xf32> -> tensor<?x4xf32>
  %c_batch = bism.broadcast %c : tensor<4xf32> to tensor<?x4xf32>
  %field = bism.add %vw, %c_batch : tensor<?x4xf32>
  %sp = bism.softplus %field : tensor<?x4xf32>
  %latent = bism.reduce_sum %sp axes [1] : tensor<?x4xf32> -> tensor<?xf32>
  %f = bism.sub %quadratic, %latent : tensor<?xf32>
  return %f : tensor<?xf32>
}

// One Gibbs sweep v -> h -> v' with the GRBM's conditionals, used by spec
// methods "cd" and "pcd" (u_h uniform [B, 4], z_v standard normal [B, 2]):
//   p(h_j = 1 | v) = sigmoid(c_j + (v W)_j),  h = (u_h < p) as 0/1,
//   v' = b + sigma^2 (W h) + sigma z_v,  sigma = exp(logsigma).
func.func private @gibbs(%v: tensor<?x2xf32>, %w: tensor<2x4xf32>,
                         %b: tensor<2xf32>, %c: tensor<4xf32>,
                         %logsigma: tensor<2xf32>, %u_h: tensor<?x4xf32>,
                         %z_v: tensor<?x2xf32>) -> tensor<?x2xf32> {
  %vw = bism.matmul %v, %w : tensor<?x2xf32>, tensor<2x4xf32> -> tensor<?x4xf32>
  %c_batch = bism.broadcast %c : tensor<4xf32> to tensor<?x4xf32>
  %field = bism.add %vw, %c_batch : tensor<?x4xf32>
  %p = bism.sigmoid %field : tensor<?x4xf32>
  %on = bism.compare lt, %u_h, %p : tensor<?x4xf32>
  %one_scalar = bism.constant dense<1.0> : tensor<f32>
  %one = bism.broadcast %one_scalar : tensor<f32> to tensor<?x4xf32>
  %zero_scalar = bism.constant dense<0.0> : tensor<f32>
  %zero = bism.broadcast %zero_scalar : tensor<f32> to tensor<?x4xf32>
  %h = bism.select %on, %one, %zero : tensor<?x4xf32>
  %wh = bism.matmul %h, %w {transpose_rhs} : tensor<?x4xf32>, tensor<2x4xf32> -> tensor<?x2xf32>
  %sigma = bism.exp %logsigma : tensor<2xf32>
  %variance = bism.square %sigma : tensor<2xf32>
  %variance_batch = bism.broadcast %variance : tensor<2xf32> to tensor<?x2xf32>
  %sigma_batch = bism.broadcast %sigma : tensor<2xf32> to tensor<?x2xf32>
  %b_batch = bism.broadcast %b : tensor<2xf32> to tensor<?x2xf32>
  %shift = bism.mul %wh, %variance_batch : tensor<?x2xf32>
  %mean = bism.add %b_batch, %shift : tensor<?x2xf32>
  %spread = bism.mul %z_v, %sigma_batch : tensor<?x2xf32>
  %next = bism.add %mean, %spread : tensor<?x2xf32>
  return %next : tensor<?x2xf32>
}

// log ∫ exp(−E(v, h)) dv for each of C = 16 binary latent configurations h
// (rows of hs), used for the exact log Z = logsumexp over all 2^4 of them:
// with s = exp(logsigma) and a = W h, E is a Gaussian in v of mean
// m = b + s^2 a, so the integral is
//   c.h + sum_i [ (m_i^2 - b_i^2) / (2 s_i^2) + 1/2 log(2 pi s_i^2) ]
//     = c.h + sum_i [ b_i a_i + 1/2 s_i^2 a_i^2 + logsigma_i + 1/2 log 2 pi ].
func.func private @component_log_mass(%hs: tensor<16x4xf32>, %w: tensor<2x4xf32>,
                                      %b: tensor<2xf32>, %c: tensor<4xf32>,
                                      %logsigma: tensor<2xf32>) -> tensor<16xf32> {
  %half = bism.constant dense<0.5> : tensor<16x2xf32>
  %half_log_2pi = bism.constant dense<0.91893853320467274> : tensor<16x2xf32>
  %two = bism.constant dense<2.0> : tensor<2xf32>
  %a = bism.matmul %hs, %w {transpose_rhs} : tensor<16x4xf32>, tensor<2x4xf32> -> tensor<16x2xf32>
  %b_batch = bism.broadcast %b : tensor<2xf32> to tensor<16x2xf32>
  %linear = bism.mul %a, %b_batch : tensor<16x2xf32>
  %two_logsigma = bism.mul %logsigma, %two : tensor<2xf32>
  %variance = bism.exp %two_logsigma : tensor<2xf32>
  %variance_batch = bism.broadcast %variance : tensor<2xf32> to tensor<16x2xf32>
  %a_sq = bism.square %a : tensor<16x2xf32>
  %quad_full = bism.mul %a_sq, %variance_batch : tensor<16x2xf32>
  %quad = bism.mul %quad_full, %half : tensor<16x2xf32>
  %logsigma_batch = bism.broadcast %logsigma : tensor<2xf32> to tensor<16x2xf32>
  %norm = bism.add %logsigma_batch, %half_log_2pi : tensor<16x2xf32>
  %t0 = bism.add %linear, %quad : tensor<16x2xf32>
  %t1 = bism.add %t0, %norm : tensor<16x2xf32>
  %visible = bism.reduce_sum %t1 axes [1] : tensor<16x2xf32> -> tensor<16xf32>
  %c_batch = bism.broadcast %c : tensor<4xf32> to tensor<16x4xf32>
  %ch_terms = bism.mul %hs, %c_batch : tensor<16x4xf32>
  %ch = bism.reduce_sum %ch_terms axes [1] : tensor<16x4xf32> -> tensor<16xf32>
  %log_mass = bism.add %ch, %visible : tensor<16xf32>
  return %log_mass : tensor<16xf32>
}

// unroll_optimizer = "same": the N unrolled steps continue the phi Adam
// optimiser, as when docs/results.md's figures were made; the default,
// "sgd" (unroll_lr), is the BiSM paper's Eqn. (13).
bism.model @grbm energy @energy [@W, @b, @c, @logsigma]
    free_energy @free_energy [@W, @b, @c, @logsigma]
    gibbs @gibbs [@W, @b, @c, @logsigma]
    component_log_mass @component_log_mass [@W, @b, @c, @logsigma]
    posterior "bernoulli" @posterior_logits [@A, @d] temperature 0.1
    spec {method = "bism", objective = "dsm", noise_std = 0.1,
          divergence = "kl", inner_steps = 5, unroll_steps = 5,
          optimizer_theta = "adam", lr_theta = 1.0e-3,
          optimizer_phi = "adam", lr_phi = 1.0e-2, unroll_optimizer = "same",
          betas = [0.9, 0.95],
          batch_size = 100, iterations = 20000, seed = 0,
          dataset = "checkerboard", ais_anneal = ["W", "c"]} {
  // Component means are b + sigma^2 W h: with data on [0,1]^2 and sigma near
  // 0.2, W must reach magnitudes of several units, so it starts there.
  bism.param @W : tensor<2x4xf32> {group = "theta", init = "normal", std = 3.0}
  bism.param @b : tensor<2xf32> {group = "theta", init = "constant", value = 0.5}
  bism.param @c : tensor<4xf32> {group = "theta", init = "zeros"}
  bism.param @logsigma : tensor<2xf32> {group = "theta", init = "constant", value = -1.0}
  bism.param @A : tensor<2x4xf32> {group = "phi", init = "normal", std = 0.01}
  bism.param @d : tensor<4xf32> {group = "phi", init = "zeros"}
}
