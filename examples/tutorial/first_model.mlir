// The tutorial's first model (docs/tutorial.md): 2-D data, 2 Gaussian
// latents, an MLP decoder in the energy and an MLP encoder as the
// posterior, trained with bi-level DSM.
//
//   E(v, h) = ½‖h‖² + ½ Σᵢ (vᵢ − μᵢ(h))² exp(−2 logσᵢ) + Σᵢ logσᵢ
//   μ(h)    = tanh(h W1 + b1) W2 + b2                       2 -> 32 -> 2
//   q(h|v)  = N(m(v), exp(s(v))²),  e = tanh(v A1 + a1),
//             m = e Am + am,  s = e As + as                  2 -> 32 -> 2+2
//
// p(v) = ∫ p(v, h) dh has no closed form, and neither has p(h|v): the case
// bi-level score matching is for.

// Per-sample energies: v [B, 2], h [B, 2] -> [B].
func.func private @energy(%v: tensor<?x2xf32>, %h: tensor<?x2xf32>,
                          %w1: tensor<2x32xf32>, %b1: tensor<32xf32>,
                          %w2: tensor<32x2xf32>, %b2: tensor<2xf32>,
                          %logsigma: tensor<2xf32>) -> tensor<?xf32> {
  %half_scalar = bism.constant dense<0.5> : tensor<f32>
  %half = bism.broadcast %half_scalar : tensor<f32> to tensor<?xf32>
  // The decoder's mean μ(h).
  %x = bism.matmul %h, %w1 : tensor<?x2xf32>, tensor<2x32xf32> -> tensor<?x32xf32>
  %b1b = bism.broadcast %b1 : tensor<32xf32> to tensor<?x32xf32>
  %xb = bism.add %x, %b1b : tensor<?x32xf32>
  %hidden = bism.tanh %xb : tensor<?x32xf32>
  %y = bism.matmul %hidden, %w2 : tensor<?x32xf32>, tensor<32x2xf32> -> tensor<?x2xf32>
  %b2b = bism.broadcast %b2 : tensor<2xf32> to tensor<?x2xf32>
  %mu = bism.add %y, %b2b : tensor<?x2xf32>
  // ½ Σ (v − μ)² / σ² + Σ log σ.
  %r = bism.sub %v, %mu : tensor<?x2xf32>
  %r2 = bism.square %r : tensor<?x2xf32>
  %minus_two = bism.constant dense<-2.0> : tensor<2xf32>
  %lp = bism.mul %logsigma, %minus_two : tensor<2xf32>
  %precision = bism.exp %lp : tensor<2xf32>
  %pb = bism.broadcast %precision : tensor<2xf32> to tensor<?x2xf32>
  %weighted = bism.mul %r2, %pb : tensor<?x2xf32>
  %fit = bism.reduce_sum %weighted axes [1] : tensor<?x2xf32> -> tensor<?xf32>
  %lsb = bism.broadcast %logsigma : tensor<2xf32> to tensor<?x2xf32>
  %norm = bism.reduce_sum %lsb axes [1] : tensor<?x2xf32> -> tensor<?xf32>
  // ½‖h‖²: the latents' standard normal prior.
  %h2 = bism.square %h : tensor<?x2xf32>
  %prior = bism.reduce_sum %h2 axes [1] : tensor<?x2xf32> -> tensor<?xf32>
  %sum = bism.add %fit, %prior : tensor<?xf32>
  %halved = bism.mul %sum, %half : tensor<?xf32>
  %e = bism.add %halved, %norm : tensor<?xf32>
  return %e : tensor<?xf32>
}

// The posterior's encoder: (mean, log standard deviation), each [B, 2].
func.func private @encoder(%v: tensor<?x2xf32>, %a1: tensor<2x32xf32>,
                           %ab1: tensor<32xf32>, %am: tensor<32x2xf32>,
                           %abm: tensor<2xf32>, %as: tensor<32x2xf32>,
                           %abs: tensor<2xf32>)
    -> (tensor<?x2xf32>, tensor<?x2xf32>) {
  %x = bism.matmul %v, %a1 : tensor<?x2xf32>, tensor<2x32xf32> -> tensor<?x32xf32>
  %b = bism.broadcast %ab1 : tensor<32xf32> to tensor<?x32xf32>
  %xb = bism.add %x, %b : tensor<?x32xf32>
  %e = bism.tanh %xb : tensor<?x32xf32>
  %m = bism.matmul %e, %am : tensor<?x32xf32>, tensor<32x2xf32> -> tensor<?x2xf32>
  %bm = bism.broadcast %abm : tensor<2xf32> to tensor<?x2xf32>
  %mean = bism.add %m, %bm : tensor<?x2xf32>
  %s = bism.matmul %e, %as : tensor<?x32xf32>, tensor<32x2xf32> -> tensor<?x2xf32>
  %bs = bism.broadcast %abs : tensor<2xf32> to tensor<?x2xf32>
  %logstd = bism.add %s, %bs : tensor<?x2xf32>
  return %mean, %logstd : tensor<?x2xf32>, tensor<?x2xf32>
}

bism.model @first
    energy @energy [@W1, @b1, @W2, @b2, @logsigma]
    posterior "gaussian" @encoder [@A1, @a1, @Am, @am, @As, @as]
    spec {method = "bism", objective = "dsm", noise_std = 0.3,
          divergence = "kl", inner_steps = 5, unroll_steps = 2,
          lr_theta = 1.0e-3, lr_phi = 1.0e-3, unroll_lr = 0.1,
          batch_size = 100, iterations = 6000, seed = 0,
          dataset = "data/result0.npy,data/result1.npy"} {
  bism.param @W1 : tensor<2x32xf32> {group = "theta", init = "kaiming_uniform"}
  bism.param @b1 : tensor<32xf32> {group = "theta", init = "zeros"}
  bism.param @W2 : tensor<32x2xf32> {group = "theta", init = "kaiming_uniform"}
  bism.param @b2 : tensor<2xf32> {group = "theta", init = "zeros"}
  bism.param @logsigma : tensor<2xf32> {group = "theta", init = "zeros"}
  bism.param @A1 : tensor<2x32xf32> {group = "phi", init = "kaiming_uniform"}
  bism.param @a1 : tensor<32xf32> {group = "phi", init = "zeros"}
  bism.param @Am : tensor<32x2xf32> {group = "phi", init = "normal", std = 0.1}
  bism.param @am : tensor<2xf32> {group = "phi", init = "zeros"}
  bism.param @As : tensor<32x2xf32> {group = "phi", init = "normal", std = 0.01}
  bism.param @as : tensor<2xf32> {group = "phi", init = "zeros"}
}
