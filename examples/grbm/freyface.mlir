// Gaussian-Bernoulli RBM on Frey faces (28x20 = 560 visible, 400 latent),
// trained with BiDSM (K = 5, N = 5, sigma = 0.3, learning rate 2e-4), the
// setting of the BiSM paper's Frey face experiment.
//
//   E(v, h) = 1/2 sum_i (v_i - b_i)^2 exp(-2 logsigma_i) - c.h - (v W).h
//   q(h | v) = relaxed Bernoulli with logits v A + d, temperature 0.1
//   F(v) = -log sum_h exp(-E(v, h)) (free_energy; method = "marginal" trains
//          with exact-marginal score matching instead)
//   gibbs: one Gibbs sweep with the model's conditionals (method = "cd" or
//          "pcd" trains with CD-k / PCD instead)
//   component_log_mass, ais_anneal: the AIS test log-likelihood (bism-run
//          eval --ll ais anneals W and c from 0, the base model, to 1)
//
//   bism-opt examples/grbm/freyface.mlir --bism-build-train-step

// Per-sample energies of a batch: v [B, 560], h [B, 400] -> [B].
func.func private @energy(%v: tensor<?x560xf32>, %h: tensor<?x400xf32>,
                          %w: tensor<560x400xf32>, %b: tensor<560xf32>,
                          %c: tensor<400xf32>, %logsigma: tensor<560xf32>)
    -> tensor<?xf32> {
  %half_scalar = bism.constant dense<0.5> : tensor<f32>
  %half = bism.broadcast %half_scalar : tensor<f32> to tensor<?xf32>
  %minus_two = bism.constant dense<-2.0> : tensor<560xf32>
  %b_batch = bism.broadcast %b : tensor<560xf32> to tensor<?x560xf32>
  %centred = bism.sub %v, %b_batch : tensor<?x560xf32>
  %sq = bism.square %centred : tensor<?x560xf32>
  %scaled = bism.mul %logsigma, %minus_two : tensor<560xf32>
  %precision = bism.exp %scaled : tensor<560xf32>
  %precision_batch = bism.broadcast %precision : tensor<560xf32> to tensor<?x560xf32>
  %weighted = bism.mul %sq, %precision_batch : tensor<?x560xf32>
  %quadratic_sum = bism.reduce_sum %weighted axes [1] : tensor<?x560xf32> -> tensor<?xf32>
  %quadratic = bism.mul %quadratic_sum, %half : tensor<?xf32>
  %vw = bism.matmul %v, %w : tensor<?x560xf32>, tensor<560x400xf32> -> tensor<?x400xf32>
  %c_batch = bism.broadcast %c : tensor<400xf32> to tensor<?x400xf32>
  %field = bism.add %vw, %c_batch : tensor<?x400xf32>
  %coupling = bism.mul %field, %h : tensor<?x400xf32>
  %interaction = bism.reduce_sum %coupling axes [1] : tensor<?x400xf32> -> tensor<?xf32>
  %e = bism.sub %quadratic, %interaction : tensor<?xf32>
  return %e : tensor<?xf32>
}

// Posterior logits l = v A + d, [B, 400].
func.func private @posterior_logits(%v: tensor<?x560xf32>, %a: tensor<560x400xf32>,
                                    %d: tensor<400xf32>) -> tensor<?x400xf32> {
  %va = bism.matmul %v, %a : tensor<?x560xf32>, tensor<560x400xf32> -> tensor<?x400xf32>
  %d_batch = bism.broadcast %d : tensor<400xf32> to tensor<?x400xf32>
  %l = bism.add %va, %d_batch : tensor<?x400xf32>
  return %l : tensor<?x400xf32>
}

// Free energy F(v) = 1/2 sum_i (v_i - b_i)^2 exp(-2 logsigma_i)
//                   - sum_j softplus(c_j + (v W)_j), [B]: the exact
// marginal, used by spec method = "marginal" (exact-marginal DSM/SSM).
func.func private @free_energy(%v: tensor<?x560xf32>, %w: tensor<560x400xf32>,
                               %b: tensor<560xf32>, %c: tensor<400xf32>,
                               %logsigma: tensor<560xf32>) -> tensor<?xf32> {
  %half_scalar = bism.constant dense<0.5> : tensor<f32>
  %half = bism.broadcast %half_scalar : tensor<f32> to tensor<?xf32>
  %minus_two = bism.constant dense<-2.0> : tensor<560xf32>
  %b_batch = bism.broadcast %b : tensor<560xf32> to tensor<?x560xf32>
  %centred = bism.sub %v, %b_batch : tensor<?x560xf32>
  %sq = bism.square %centred : tensor<?x560xf32>
  %scaled = bism.mul %logsigma, %minus_two : tensor<560xf32>
  %precision = bism.exp %scaled : tensor<560xf32>
  %precision_batch = bism.broadcast %precision : tensor<560xf32> to tensor<?x560xf32>
  %weighted = bism.mul %sq, %precision_batch : tensor<?x560xf32>
  %quadratic_sum = bism.reduce_sum %weighted axes [1] : tensor<?x560xf32> -> tensor<?xf32>
  %quadratic = bism.mul %quadratic_sum, %half : tensor<?xf32>
  %vw = bism.matmul %v, %w : tensor<?x560xf32>, tensor<560x400xf32> -> tensor<?x400xf32>
  %c_batch = bism.broadcast %c : tensor<400xf32> to tensor<?x400xf32>
  %field = bism.add %vw, %c_batch : tensor<?x400xf32>
  %sp = bism.softplus %field : tensor<?x400xf32>
  %latent = bism.reduce_sum %sp axes [1] : tensor<?x400xf32> -> tensor<?xf32>
  %f = bism.sub %quadratic, %latent : tensor<?xf32>
  return %f : tensor<?xf32>
}

// One Gibbs sweep v -> h -> v' with the GRBM's conditionals, used by spec
// methods "cd" and "pcd" (u_h uniform [B, 400], z_v standard normal [B, 560]):
//   p(h_j = 1 | v) = sigmoid(c_j + (v W)_j),  h = (u_h < p) as 0/1,
//   v' = b + sigma^2 (W h) + sigma z_v,  sigma = exp(logsigma).
func.func private @gibbs(%v: tensor<?x560xf32>, %w: tensor<560x400xf32>,
                         %b: tensor<560xf32>, %c: tensor<400xf32>,
                         %logsigma: tensor<560xf32>, %u_h: tensor<?x400xf32>,
                         %z_v: tensor<?x560xf32>) -> tensor<?x560xf32> {
  %vw = bism.matmul %v, %w : tensor<?x560xf32>, tensor<560x400xf32> -> tensor<?x400xf32>
  %c_batch = bism.broadcast %c : tensor<400xf32> to tensor<?x400xf32>
  %field = bism.add %vw, %c_batch : tensor<?x400xf32>
  %p = bism.sigmoid %field : tensor<?x400xf32>
  %on = bism.compare lt, %u_h, %p : tensor<?x400xf32>
  %one_scalar = bism.constant dense<1.0> : tensor<f32>
  %one = bism.broadcast %one_scalar : tensor<f32> to tensor<?x400xf32>
  %zero_scalar = bism.constant dense<0.0> : tensor<f32>
  %zero = bism.broadcast %zero_scalar : tensor<f32> to tensor<?x400xf32>
  %h = bism.select %on, %one, %zero : tensor<?x400xf32>
  %wh = bism.matmul %h, %w {transpose_rhs} : tensor<?x400xf32>, tensor<560x400xf32> -> tensor<?x560xf32>
  %sigma = bism.exp %logsigma : tensor<560xf32>
  %variance = bism.square %sigma : tensor<560xf32>
  %variance_batch = bism.broadcast %variance : tensor<560xf32> to tensor<?x560xf32>
  %sigma_batch = bism.broadcast %sigma : tensor<560xf32> to tensor<?x560xf32>
  %b_batch = bism.broadcast %b : tensor<560xf32> to tensor<?x560xf32>
  %shift = bism.mul %wh, %variance_batch : tensor<?x560xf32>
  %mean = bism.add %b_batch, %shift : tensor<?x560xf32>
  %spread = bism.mul %z_v, %sigma_batch : tensor<?x560xf32>
  %next = bism.add %mean, %spread : tensor<?x560xf32>
  return %next : tensor<?x560xf32>
}

// log ∫ exp(−E(v, h)) dv for each of C = 64 binary latent configurations h
// (rows of hs). With 400 latents the exact log Z (all 2^400 of them) is out
// of reach; AIS (bism-run eval --ll ais) uses this function for the log Z of
// its base model (W = 0, c = 0: every configuration has the same mass):
// with s = exp(logsigma) and a = W h, E is a Gaussian in v of mean
// m = b + s^2 a, so the integral is
//   c.h + sum_i [ (m_i^2 - b_i^2) / (2 s_i^2) + 1/2 log(2 pi s_i^2) ]
//     = c.h + sum_i [ b_i a_i + 1/2 s_i^2 a_i^2 + logsigma_i + 1/2 log 2 pi ].
func.func private @component_log_mass(%hs: tensor<64x400xf32>, %w: tensor<560x400xf32>,
                                      %b: tensor<560xf32>, %c: tensor<400xf32>,
                                      %logsigma: tensor<560xf32>) -> tensor<64xf32> {
  %half = bism.constant dense<0.5> : tensor<64x560xf32>
  %half_log_2pi = bism.constant dense<0.91893853320467274> : tensor<64x560xf32>
  %two = bism.constant dense<2.0> : tensor<560xf32>
  %a = bism.matmul %hs, %w {transpose_rhs} : tensor<64x400xf32>, tensor<560x400xf32> -> tensor<64x560xf32>
  %b_batch = bism.broadcast %b : tensor<560xf32> to tensor<64x560xf32>
  %linear = bism.mul %a, %b_batch : tensor<64x560xf32>
  %two_logsigma = bism.mul %logsigma, %two : tensor<560xf32>
  %variance = bism.exp %two_logsigma : tensor<560xf32>
  %variance_batch = bism.broadcast %variance : tensor<560xf32> to tensor<64x560xf32>
  %a_sq = bism.square %a : tensor<64x560xf32>
  %quad_full = bism.mul %a_sq, %variance_batch : tensor<64x560xf32>
  %quad = bism.mul %quad_full, %half : tensor<64x560xf32>
  %logsigma_batch = bism.broadcast %logsigma : tensor<560xf32> to tensor<64x560xf32>
  %norm = bism.add %logsigma_batch, %half_log_2pi : tensor<64x560xf32>
  %t0 = bism.add %linear, %quad : tensor<64x560xf32>
  %t1 = bism.add %t0, %norm : tensor<64x560xf32>
  %visible = bism.reduce_sum %t1 axes [1] : tensor<64x560xf32> -> tensor<64xf32>
  %c_batch = bism.broadcast %c : tensor<400xf32> to tensor<64x400xf32>
  %ch_terms = bism.mul %hs, %c_batch : tensor<64x400xf32>
  %ch = bism.reduce_sum %ch_terms axes [1] : tensor<64x400xf32> -> tensor<64xf32>
  %log_mass = bism.add %ch, %visible : tensor<64xf32>
  return %log_mass : tensor<64xf32>
}

// unroll_optimizer = "same": the N unrolled steps continue the phi Adam
// optimiser, as when docs/results.md's figures were made; the default,
// "sgd" (unroll_lr), is the BiSM paper's Eqn. (13).
bism.model @grbm energy @energy [@W, @b, @c, @logsigma]
    free_energy @free_energy [@W, @b, @c, @logsigma]
    gibbs @gibbs [@W, @b, @c, @logsigma]
    component_log_mass @component_log_mass [@W, @b, @c, @logsigma]
    posterior "bernoulli" @posterior_logits [@A, @d] temperature 0.1
    spec {method = "bism", objective = "dsm", noise_std = 0.3,
          divergence = "kl", inner_steps = 5, unroll_steps = 5,
          optimizer_theta = "adam", lr_theta = 2.0e-4,
          optimizer_phi = "adam", lr_phi = 2.0e-4, unroll_optimizer = "same",
          betas = [0.9, 0.95],
          batch_size = 100, iterations = 20000, seed = 0,
          dataset = "freyface", ais_anneal = ["W", "c"]} {
  bism.param @W : tensor<560x400xf32> {group = "theta", init = "normal", std = 0.01}
  bism.param @b : tensor<560xf32> {group = "theta", init = "constant", value = 0.5}
  bism.param @c : tensor<400xf32> {group = "theta", init = "zeros"}
  bism.param @logsigma : tensor<560xf32> {group = "theta", init = "zeros"}
  bism.param @A : tensor<560x400xf32> {group = "phi", init = "normal", std = 0.01}
  bism.param @d : tensor<400xf32> {group = "phi", init = "zeros"}
}
