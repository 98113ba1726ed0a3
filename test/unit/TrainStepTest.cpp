//===- TrainStepTest.cpp - the built BiSM step against direct formulas ----===//
//
// Model files (f64, batch B = 8, D = 2 visible, H = 4 latent) are turned into
// @train_step_with_noise by --bism-build-train-step (docs/training.md,
// include/bism/Train/BuildTrainStep.h), compiled with JitModule and run with
// all of their noise supplied, then checked against plain C++:
//   (a) the θ gradient of J_Bi(θ, φᴺ(θ)) (N = 2 unrolled Adam steps of φ,
//       read off an SGD step with lr 1: g = θ − θ') equals central
//       differences of the J metric in θ (K = 0, so the only θ path is the
//       unrolled one), and with K = 2 central differences of @M__j_bi at the
//       φ the K plain steps returned; ‖g‖ equals the grad_norm metric;
//   (b) Theorem 1: with q the exact GRBM posterior (A = W, d = c), J equals
//       the exact-marginal DSM loss ½‖−∇F(ṽ) + ε/σ‖² (and SSM loss), for
//       relaxed h;
//   (c) each objective and divergence against its formula with the same
//       noise: DSM and SSM J, KL (Bernoulli and Gaussian posteriors) and
//       Fisher lower-level losses, the plain K step of φ;
//   (d) one Adam step of θ (betas 0.9, 0.95, bias correction) and of φ;
//   and train_step(key) = train_step_with_noise(draw_noise(key)).
//
// The GRBM closed forms (F, −∇F) come from GrbmReference.h, the model
// files and the step's calling convention from TrainStepHarness.h.
//
//===----------------------------------------------------------------------===//
#include "TrainStepHarness.h"

using namespace bism;
using namespace bism::trainstep;

namespace {

constexpr double kHalfLog2Pi = 0.91893853320467274178;

//===----------------------------------------------------------------------===//
// Direct evaluation of the formulas (docs/training.md)
//===----------------------------------------------------------------------===//

/// DSM: mean_i ½‖s(ṽ_i) + ε_i/σ‖², ṽ = v + σε, h drawn at ṽ.
double dsmObjective(const Grbm &m, const HostTensor &a, const HostTensor &d,
                    double tau, const HostTensor &v, const HostTensor &eps,
                    double sigma, const HostTensor &g1, const HostTensor &g2) {
  BernoulliGrbmTerms t(m, a, d, tau, Grbm::noised(v, eps, sigma), g1, g2);
  double sum = 0.0;
  for (int64_t i = 0; i < B * D; ++i) {
    double r = at(t.s, i) + at(eps, i) / sigma;
    sum += 0.5 * r * r;
  }
  return sum / B;
}

/// SSM: mean_i [½‖s‖² + uᵀ∇_x(uᵀ s)], with
/// ∇_x s = −∇²_x[E + log q] = −diag(P) + A diag(σ'(ℓ)) Aᵀ (h fixed).
double ssmObjective(const Grbm &m, const HostTensor &a, const HostTensor &d,
                    double tau, const HostTensor &v, const HostTensor &u,
                    const HostTensor &g1, const HostTensor &g2) {
  BernoulliGrbmTerms t(m, a, d, tau, v, g1, g2);
  double sum = 0.0;
  for (int64_t i = 0; i < B; ++i) {
    double value = 0.0;
    for (int64_t j = 0; j < D; ++j) {
      double s = at(t.s, i * D + j), uj = at(u, i * D + j);
      value += 0.5 * s * s - uj * uj * m.P(j);
    }
    for (int64_t k = 0; k < H; ++k) {
      double p = sigmoid(at(t.logits, i * H + k)), ua = 0.0;
      for (int64_t j = 0; j < D; ++j)
        ua += at(u, i * D + j) * at(a, j * H + k);
      value += p * (1 - p) * ua * ua;
    }
    sum += value;
  }
  return sum / B;
}

/// The exact-marginal SSM loss: mean_i [½‖∇F‖² − uᵀ∇²F u] with
/// ∇²F = diag(P) − W diag(σ'(c + vW)) Wᵀ.
double exactSsmLoss(const Grbm &m, const HostTensor &v, const HostTensor &u) {
  HostTensor s = m.score(v);
  double sum = 0.0;
  for (int64_t i = 0; i < B; ++i) {
    for (int64_t j = 0; j < D; ++j) {
      double sj = at(s, i * D + j), uj = at(u, i * D + j);
      sum += 0.5 * sj * sj - uj * uj * m.P(j);
    }
    for (int64_t k = 0; k < H; ++k) {
      double p = sigmoid(m.pre(v, i, k)), uw = 0.0;
      for (int64_t j = 0; j < D; ++j)
        uw += at(u, i * D + j) * m.W(j, k);
      sum += p * (1 - p) * uw * uw;
    }
  }
  return sum / B;
}

/// KL: mean_i [log q(h|x) + E(x, h)], log q = Σ_k [h ℓ − softplus(ℓ)].
double klBernoulli(const Grbm &m, const HostTensor &a, const HostTensor &d,
                   double tau, const HostTensor &x, const HostTensor &g1,
                   const HostTensor &g2) {
  HostTensor logits = affine(x, a, d);
  HostTensor h = relaxedSample(logits, g1, g2, tau);
  HostTensor e = m.energy(x, h);
  double sum = 0.0;
  for (int64_t i = 0; i < B; ++i) {
    double value = at(e, i);
    for (int64_t k = 0; k < H; ++k) {
      double l = at(logits, i * H + k);
      value += at(h, i * H + k) * l - softplus(l);
    }
    sum += value;
  }
  return sum / B;
}

/// The Gaussian-latent model: θ = (W, b, c), φ = (A, d, s).
struct GaussianTerms {
  HostTensor mu, h, field; // μ = xA + d, h = μ + e^s ξ, xW + c
  GaussianTerms(const std::vector<HostTensor> &theta,
                const std::vector<HostTensor> &phi, const HostTensor &x,
                const HostTensor &xi)
      : mu(affine(x, phi[0], phi[1])), h(mu), field(affine(x, theta[0], theta[2])) {
    for (int64_t i = 0; i < B; ++i)
      for (int64_t k = 0; k < H; ++k)
        h.dataAs<double>()[i * H + k] += std::exp(at(phi[2], k)) * at(xi, i * H + k);
  }
};

/// KL: mean_i Σ_k [−½ξ² − s_k − ½ log 2π] + E(x, h).
double klGaussian(const std::vector<HostTensor> &theta,
                  const std::vector<HostTensor> &phi, const HostTensor &x,
                  const HostTensor &xi) {
  GaussianTerms t(theta, phi, x, xi);
  double sum = 0.0;
  for (int64_t i = 0; i < B; ++i) {
    for (int64_t j = 0; j < D; ++j) {
      double c = at(x, i * D + j) - at(theta[1], j);
      sum += 0.5 * c * c;
    }
    for (int64_t k = 0; k < H; ++k) {
      double hk = at(t.h, i * H + k), z = at(xi, i * H + k);
      sum += 0.5 * hk * hk - hk * at(t.field, i * H + k);
      sum += -0.5 * z * z - at(phi[2], k) - kHalfLog2Pi;
    }
  }
  return sum / B;
}

/// Fisher: ½ mean_i ‖∇_h log q + ∇_h E‖²,
/// ∇_h log q = −(h − μ) e^{−2s}, ∇_h E = h − (xW + c).
double fisherGaussian(const std::vector<HostTensor> &theta,
                      const std::vector<HostTensor> &phi, const HostTensor &x,
                      const HostTensor &xi) {
  GaussianTerms t(theta, phi, x, xi);
  double sum = 0.0;
  for (int64_t i = 0; i < B; ++i)
    for (int64_t k = 0; k < H; ++k) {
      double hk = at(t.h, i * H + k);
      double r = -(hk - at(t.mu, i * H + k)) * std::exp(-2 * at(phi[2], k)) + hk -
                 at(t.field, i * H + k);
      sum += 0.5 * r * r;
    }
  return sum / B;
}

/// DSM with the Gaussian posterior: s = −(x − b) + W h − A (h − μ) e^{−2s}.
double dsmGaussian(const std::vector<HostTensor> &theta,
                   const std::vector<HostTensor> &phi, const HostTensor &v,
                   const HostTensor &eps, double sigma, const HostTensor &xi) {
  HostTensor x = Grbm::noised(v, eps, sigma);
  GaussianTerms t(theta, phi, x, xi);
  double sum = 0.0;
  for (int64_t i = 0; i < B; ++i)
    for (int64_t j = 0; j < D; ++j) {
      double s = -(at(x, i * D + j) - at(theta[1], j));
      for (int64_t k = 0; k < H; ++k) {
        double hk = at(t.h, i * H + k);
        s += at(theta[0], j * H + k) * hk -
             at(phi[0], j * H + k) * (hk - at(t.mu, i * H + k)) *
                 std::exp(-2 * at(phi[2], k));
      }
      double r = s + at(eps, i * D + j) / sigma;
      sum += 0.5 * r * r;
    }
  return sum / B;
}

/// Adam with bias correction (PyTorch's form):
///   t' = t + 1, m' = β1 m + (1−β1) g, s' = β2 s + (1−β2) g²,
///   p' = p − lr (m'/(1−β1^t')) / (√(s'/(1−β2^t')) + ε).
struct AdamResult {
  HostTensor p, m, s;
};
AdamResult adam(const HostTensor &p, const HostTensor &m, const HostTensor &s,
                const HostTensor &g, double t, double lr, double beta1 = 0.9,
                double beta2 = 0.95, double epsilon = 1e-8) {
  AdamResult r{p, m, s};
  double t1 = t + 1;
  for (int64_t i = 0; i < p.numElements(); ++i) {
    double gi = at(g, i);
    double mi = beta1 * at(m, i) + (1 - beta1) * gi;
    double si = beta2 * at(s, i) + (1 - beta2) * gi * gi;
    double mHat = mi / (1 - std::pow(beta1, t1));
    double sHat = si / (1 - std::pow(beta2, t1));
    r.p.dataAs<double>()[i] = at(p, i) - lr * mHat / (std::sqrt(sHat) + epsilon);
    r.m.dataAs<double>()[i] = mi;
    r.s.dataAs<double>()[i] = si;
  }
  return r;
}

//===----------------------------------------------------------------------===//
// (a) the BiSM θ gradient through N unrolled steps
//===----------------------------------------------------------------------===//

// K = 0, N = 2: J metric = J(θ, φ²(θ)), φ⁰ = the φ input. The θ gradient
// (from an SGD step with lr 1) against central differences of that metric.
TEST(TrainStep, BiDsmThetaGradientMatchesFiniteDifferencesOfJ) {
  auto jit = buildStep(grbmModel(
      "objective = \"dsm\", noise_std = 0.3, divergence = \"kl\", "
      "inner_steps = 0, unroll_steps = 2, optimizer_theta = \"sgd\", "
      "lr_theta = 1.0, optimizer_phi = \"adam\", lr_phi = 0.05",
      /*temperature=*/0.5));
  ASSERT_TRUE(jit);
  Grbm model = Grbm::random(D, H, 21);
  StepInputs in = grbmInputs(model, /*stages=*/3);
  randomMoments(in.phi, 300, in.mPhi, in.sPhi);
  in.tPhi = scalar(3);
  in.tTheta = scalar(5);

  std::vector<HostTensor> results = call(*jit, "train_step_with_noise", in.all());
  ASSERT_FALSE(results.empty());
  StepOutputs out = unpack(results, 4, 2);
  std::vector<HostTensor> grad;
  for (size_t k = 0; k < 4; ++k)
    grad.push_back(difference(in.theta[k], out.theta[k]));

  // The unrolled steps move φ (so the θ path through φ² is exercised) but
  // the step returns φ unchanged (K = 0; the unrolled φ are discarded).
  for (size_t k = 0; k < 2; ++k) {
    EXPECT_EQ(relativeError(out.phi[k], in.phi[k]), 0.0) << "phi " << k;
    EXPECT_EQ(relativeError(out.mPhi[k], in.mPhi[k]), 0.0);
    EXPECT_EQ(relativeError(out.sPhi[k], in.sPhi[k]), 0.0);
  }
  EXPECT_EQ(out.tPhi.elementAsDouble(0), 3.0);
  EXPECT_EQ(out.tTheta.elementAsDouble(0), 6.0);

  auto j = [&](const std::vector<HostTensor> &theta) {
    StepInputs perturbed = in;
    perturbed.theta = theta;
    std::vector<HostTensor> r = call(*jit, "train_step_with_noise", perturbed.all());
    return r.empty() ? NAN : unpack(r, 4, 2).j;
  };
  std::vector<HostTensor> fd = centralDifferences(in.theta, j);
  for (size_t k = 0; k < 4; ++k)
    EXPECT_LT(relativeError(grad[k], fd[k]), 1e-6) << "dJ/d" << kThetaNames[k];
  EXPECT_NEAR(out.gradNorm, std::sqrt(sumSquares(grad)), 1e-12 * out.gradNorm)
      << "grad_norm_theta";

  // The θ path through the unrolled steps matters: the gradient at fixed φ
  // (N = 0) differs.
  auto fixed = buildStep(grbmModel(
      "objective = \"dsm\", noise_std = 0.3, inner_steps = 0, unroll_steps = 0, "
      "optimizer_theta = \"sgd\", lr_theta = 1.0",
      0.5));
  ASSERT_TRUE(fixed);
  StepInputs firstOrder = in;
  firstOrder.noise = {in.noise[0], in.noise[5], in.noise[6]}; // ε, upper g1, g2
  std::vector<HostTensor> r0 = call(*fixed, "train_step_with_noise", firstOrder.all());
  ASSERT_FALSE(r0.empty());
  HostTensor g0 = difference(in.theta[0], unpack(r0, 4, 2).theta[0]);
  EXPECT_GT(relativeError(g0, grad[0]), 1e-4) << "N = 2 vs N = 0 dJ/dW";
}

// K = 2, N = 2: φ⁰ = φ after the K plain steps (a constant in θ). The θ
// gradient against central differences of @grbm__j_bi at the φ, moments
// and step count the step returned, with the unroll and upper noise.
TEST(TrainStep, BiDsmThetaGradientAfterPlainSteps) {
  const double sigma = 0.3;
  auto jit = buildStep(grbmModel("objective = \"dsm\", noise_std = 0.3, "
                                 "inner_steps = 2, unroll_steps = 2, "
                                 "optimizer_theta = \"sgd\", lr_theta = 1.0, "
                                 "lr_phi = 0.05",
                                 0.5),
                       {"grbm__j_bi"});
  ASSERT_TRUE(jit);
  Grbm model = Grbm::random(D, H, 31);
  StepInputs in = grbmInputs(model, /*stages=*/5, false, 200);
  randomMoments(in.phi, 400, in.mPhi, in.sPhi);
  in.tPhi = scalar(7);

  std::vector<HostTensor> results = call(*jit, "train_step_with_noise", in.all());
  ASSERT_FALSE(results.empty());
  StepOutputs out = unpack(results, 4, 2);
  EXPECT_EQ(out.tPhi.elementAsDouble(0), 9.0) << "t_phi after K = 2 steps";
  EXPECT_GT(relativeError(out.phi[0], in.phi[0]), 1e-3) << "the K steps move φ";

  HostTensor x = Grbm::noised(in.v, in.noise[0], sigma);
  auto jBiArgs = [&](const std::vector<HostTensor> &theta) {
    std::vector<HostTensor> args = theta;
    for (const auto *group : {&out.phi, &out.mPhi, &out.sPhi})
      args.insert(args.end(), group->begin(), group->end());
    args.push_back(out.tPhi);
    args.push_back(x);
    args.push_back(in.noise[0]);
    // unroll 0, 1 and upper: stages 2, 3, 4.
    args.insert(args.end(), in.noise.begin() + 5, in.noise.end());
    return args;
  };
  std::vector<HostTensor> j0 = call(*jit, "grbm__j_bi", jBiArgs(in.theta));
  ASSERT_FALSE(j0.empty());
  EXPECT_NEAR(j0[0].elementAsDouble(0), out.j, 1e-12 * std::fabs(out.j))
      << "J metric = j_bi(θ, φᴷ)";

  std::vector<HostTensor> fd = centralDifferences(in.theta, [&](const auto &theta) {
    std::vector<HostTensor> r = call(*jit, "grbm__j_bi", jBiArgs(theta));
    return r.empty() ? NAN : r[0].elementAsDouble(0);
  });
  for (size_t k = 0; k < 4; ++k)
    EXPECT_LT(relativeError(difference(in.theta[k], out.theta[k]), fd[k]), 1e-6)
        << "dJ/d" << kThetaNames[k];
}

// The unrolled steps by default (unroll_optimizer = "sgd", the BiSM
// paper's Eqn. 13): φ¹ = φ − α ∇φ G(θ, φ) with α = unroll_lr, whatever the
// φ optimiser and its state. By hand: ∇φ G from @grbm__phi_step of a model
// whose φ optimiser is SGD with step 1 (g = φ − φ'), then
// J = @grbm__upper(θ, φ − α g); @grbm__j_bi must equal it, with any moments.
// With unroll_optimizer = "same" the unrolled step is the φ optimiser's.
TEST(TrainStep, UnrolledStepsArePlainGradientSteps) {
  const double sigma = 0.3, alpha = 0.07;
  const char *common = "objective = \"dsm\", noise_std = 0.3, "
                       "inner_steps = 0, unroll_steps = 1, "
                       "optimizer_theta = \"sgd\", lr_theta = 1.0, ";
  auto jit = buildStep(
      grbmModel(std::string(common) +
                    "optimizer_phi = \"sgd\", lr_phi = 1.0, unroll_lr = 0.07",
                0.5),
      {"grbm__j_bi", "grbm__upper", "grbm__phi_step"});
  ASSERT_TRUE(jit);
  Grbm model = Grbm::random(D, H, 41);
  StepInputs in = grbmInputs(model, /*stages=*/2, false, 500);
  HostTensor x = Grbm::noised(in.v, in.noise[0], sigma);
  std::vector<HostTensor> unrollNoise = {in.noise[1], in.noise[2]},
                          upperNoise = {in.noise[3], in.noise[4]};

  // g = φ − phi_step(φ) with SGD of step 1.
  std::vector<HostTensor> stepArgs = in.theta;
  for (const auto *group : {&in.phi, &in.mPhi, &in.sPhi})
    stepArgs.insert(stepArgs.end(), group->begin(), group->end());
  stepArgs.push_back(in.tPhi);
  stepArgs.push_back(x);
  stepArgs.insert(stepArgs.end(), unrollNoise.begin(), unrollNoise.end());
  std::vector<HostTensor> stepped = call(*jit, "grbm__phi_step", stepArgs);
  ASSERT_FALSE(stepped.empty());
  std::vector<HostTensor> phi1;
  for (size_t k = 0; k < 2; ++k) {
    HostTensor moved = in.phi[k];
    for (int64_t i = 0; i < moved.numElements(); ++i) {
      double g = in.phi[k].dataAs<double>()[i] - stepped[k].dataAs<double>()[i];
      moved.dataAs<double>()[i] -= alpha * g;
    }
    phi1.push_back(moved);
  }
  std::vector<HostTensor> upperArgs = in.theta;
  upperArgs.insert(upperArgs.end(), phi1.begin(), phi1.end());
  upperArgs.push_back(x);
  upperArgs.push_back(in.noise[0]);
  upperArgs.insert(upperArgs.end(), upperNoise.begin(), upperNoise.end());
  std::vector<HostTensor> byHand = call(*jit, "grbm__upper", upperArgs);
  ASSERT_FALSE(byHand.empty());
  double expected = byHand[0].elementAsDouble(0);

  // j_bi with arbitrary Adam moments and step count: they play no part.
  auto jBi = [&](JitModule &module, const std::vector<HostTensor> &m,
                 const std::vector<HostTensor> &s, double t) {
    std::vector<HostTensor> args = in.theta;
    args.insert(args.end(), in.phi.begin(), in.phi.end());
    args.insert(args.end(), m.begin(), m.end());
    args.insert(args.end(), s.begin(), s.end());
    args.push_back(scalar(t));
    args.push_back(x);
    args.push_back(in.noise[0]);
    args.insert(args.end(), unrollNoise.begin(), unrollNoise.end());
    args.insert(args.end(), upperNoise.begin(), upperNoise.end());
    std::vector<HostTensor> r = call(module, "grbm__j_bi", args);
    return r.empty() ? NAN : r[0].elementAsDouble(0);
  };
  std::vector<HostTensor> m, s;
  randomMoments(in.phi, 600, m, s);
  EXPECT_NEAR(jBi(*jit, in.mPhi, in.sPhi, 0), expected,
              1e-12 * std::fabs(expected));
  EXPECT_NEAR(jBi(*jit, m, s, 9), expected, 1e-12 * std::fabs(expected));

  // "same": Adam (lr_phi 0.07) continuing its state gives another J.
  auto same = buildStep(
      grbmModel(std::string(common) + "optimizer_phi = \"adam\", "
                                      "lr_phi = 0.07, unroll_optimizer = "
                                      "\"same\"",
                0.5),
      {"grbm__j_bi"});
  ASSERT_TRUE(same);
  EXPECT_GT(std::fabs(jBi(*same, m, s, 9) - expected),
            1e-6 * std::fabs(expected));
}

//===----------------------------------------------------------------------===//
// (b) Theorem 1
//===----------------------------------------------------------------------===//

// q = the exact posterior (logits c + vW): −E − log q = −F for every h, so
// J_Bi = the exact-marginal loss whatever the relaxed sample.
TEST(TrainStep, Theorem1ExactPosteriorGivesExactMarginalDsm) {
  const double sigma = 0.3;
  auto jit = buildStep(grbmModel("objective = \"dsm\", noise_std = 0.3, "
                                 "inner_steps = 0, unroll_steps = 0"));
  ASSERT_TRUE(jit);
  for (unsigned seed : {41u, 42u, 43u}) {
    Grbm model = Grbm::random(D, H, seed);
    StepInputs in = grbmInputs(model, 1, false, seed * 10);
    in.phi = {model.w, model.c};
    std::vector<HostTensor> r = call(*jit, "train_step_with_noise", in.all());
    ASSERT_FALSE(r.empty());
    double expected = model.exactDsmLoss(in.v, in.noise[0], sigma);
    EXPECT_NEAR(unpack(r, 4, 2).j, expected, 1e-10 * std::fabs(expected))
        << "seed " << seed;
  }
}

TEST(TrainStep, Theorem1ExactPosteriorGivesExactMarginalSsm) {
  auto jit = buildStep(grbmModel("objective = \"ssm\", inner_steps = 0, "
                                 "unroll_steps = 0"));
  ASSERT_TRUE(jit);
  Grbm model = Grbm::random(D, H, 51);
  StepInputs in = grbmInputs(model, 1, /*rademacher=*/true, 510);
  in.phi = {model.w, model.c};
  std::vector<HostTensor> r = call(*jit, "train_step_with_noise", in.all());
  ASSERT_FALSE(r.empty());
  double expected = exactSsmLoss(model, in.v, in.noise[0]);
  EXPECT_NEAR(unpack(r, 4, 2).j, expected, 1e-10 * std::fabs(expected));
}

//===----------------------------------------------------------------------===//
// (c) objectives and divergences against their formulas
//===----------------------------------------------------------------------===//

TEST(TrainStep, DsmObjectiveMatchesFormula) {
  const double sigma = 0.3, tau = 0.1;
  auto jit = buildStep(grbmModel("objective = \"dsm\", noise_std = 0.3, "
                                 "inner_steps = 0, unroll_steps = 0",
                                 tau));
  ASSERT_TRUE(jit);
  Grbm model = Grbm::random(D, H, 61);
  StepInputs in = grbmInputs(model, 1, false, 610);
  std::vector<HostTensor> r = call(*jit, "train_step_with_noise", in.all());
  ASSERT_FALSE(r.empty());
  double expected = dsmObjective(model, in.phi[0], in.phi[1], tau, in.v,
                                 in.noise[0], sigma, in.noise[1], in.noise[2]);
  EXPECT_NEAR(unpack(r, 4, 2).j, expected, 1e-12 * std::fabs(expected));
}

TEST(TrainStep, SsmObjectiveMatchesFormula) {
  const double tau = 0.25;
  for (const char *projection : {"rademacher", "gaussian"}) {
    SCOPED_TRACE(projection);
    auto jit = buildStep(grbmModel(std::string("objective = \"ssm\", projection = \"") +
                                       projection +
                                       "\", inner_steps = 0, unroll_steps = 0",
                                   tau));
    ASSERT_TRUE(jit);
    Grbm model = Grbm::random(D, H, 71);
    StepInputs in = grbmInputs(model, 1, std::string(projection) == "rademacher", 710);
    std::vector<HostTensor> r = call(*jit, "train_step_with_noise", in.all());
    ASSERT_FALSE(r.empty());
    double expected = ssmObjective(model, in.phi[0], in.phi[1], tau, in.v,
                                   in.noise[0], in.noise[1], in.noise[2]);
    EXPECT_NEAR(unpack(r, 4, 2).j, expected, 1e-12 * std::fabs(expected));
  }
}

// KL with the relaxed Bernoulli q: lower_before = G(θ, φ) and lower_after =
// G(θ, φ¹) (both on ṽ with the upper level's posterior noise), and the
// plain step φ¹ = φ − ∇_φ G(θ, φ; inner-0 noise) (SGD, lr 1) against
// central differences of G.
TEST(TrainStep, KlLowerLossAndPlainPhiStep) {
  const double sigma = 0.3, tau = 0.5;
  auto jit = buildStep(grbmModel("objective = \"dsm\", noise_std = 0.3, "
                                 "divergence = \"kl\", inner_steps = 1, "
                                 "unroll_steps = 0, optimizer_phi = \"sgd\", "
                                 "lr_phi = 1.0",
                                 tau));
  ASSERT_TRUE(jit);
  Grbm model = Grbm::random(D, H, 81);
  StepInputs in = grbmInputs(model, 2, false, 810);
  HostTensor x = Grbm::noised(in.v, in.noise[0], sigma);
  std::vector<HostTensor> r = call(*jit, "train_step_with_noise", in.all());
  ASSERT_FALSE(r.empty());
  StepOutputs out = unpack(r, 4, 2);
  const HostTensor &g1 = in.noise[3], &g2 = in.noise[4]; // upper
  double before = klBernoulli(model, in.phi[0], in.phi[1], tau, x, g1, g2);
  double after = klBernoulli(model, out.phi[0], out.phi[1], tau, x, g1, g2);
  EXPECT_NEAR(out.lowerBefore, before, 1e-12 * std::fabs(before)) << "lower_before";
  EXPECT_NEAR(out.lowerAfter, after, 1e-12 * std::fabs(after)) << "lower_after";
  EXPECT_EQ(out.tPhi.elementAsDouble(0), 1.0);

  // ∇_φ G with the inner-0 noise: the lower_before metric when the upper
  // noise is the inner-0 noise, perturbed in φ.
  StepInputs same = in;
  same.noise[3] = in.noise[1];
  same.noise[4] = in.noise[2];
  std::vector<HostTensor> fd = centralDifferences(in.phi, [&](const auto &phi) {
    StepInputs p = same;
    p.phi = phi;
    std::vector<HostTensor> rr = call(*jit, "train_step_with_noise", p.all());
    return rr.empty() ? NAN : unpack(rr, 4, 2).lowerBefore;
  });
  for (size_t k = 0; k < 2; ++k)
    EXPECT_LT(relativeError(difference(in.phi[k], out.phi[k]), fd[k]), 1e-6)
        << "dG/dphi " << k;
}

// KL and Fisher with the Gaussian posterior: lower_before, lower_after, the
// plain SGD step of φ (against central differences of G) and DSM J at φ¹.
TEST(TrainStep, GaussianPosteriorDivergencesAndDsm) {
  const double sigma = 0.3;
  for (const char *divergence : {"kl", "fisher"}) {
    SCOPED_TRACE(divergence);
    auto jit = buildStep(gaussianModel(
        std::string("objective = \"dsm\", noise_std = 0.3, divergence = \"") +
        divergence + "\", inner_steps = 1, unroll_steps = 0, "
        "optimizer_phi = \"sgd\", lr_phi = 0.1"));
    ASSERT_TRUE(jit);
    StepInputs in = gaussianInputs(2, 900);
    HostTensor x = Grbm::noised(in.v, in.noise[0], sigma);
    std::vector<HostTensor> r = call(*jit, "train_step_with_noise", in.all());
    ASSERT_FALSE(r.empty());
    StepOutputs out = unpack(r, 3, 3);
    const HostTensor &xi = in.noise[2]; // upper
    bool kl = std::string(divergence) == "kl";
    auto g = [&](const std::vector<HostTensor> &phi) {
      return kl ? klGaussian(in.theta, phi, x, xi) : fisherGaussian(in.theta, phi, x, xi);
    };
    double before = g(in.phi), after = g(out.phi);
    EXPECT_NEAR(out.lowerBefore, before, 1e-12 * std::fabs(before)) << "lower_before";
    EXPECT_NEAR(out.lowerAfter, after, 1e-12 * std::fabs(after)) << "lower_after";
    EXPECT_GT(relativeError(out.phi[0], in.phi[0]), 1e-3) << "the K step moves φ";
    double j = dsmGaussian(in.theta, out.phi, in.v, in.noise[0], sigma, xi);
    EXPECT_NEAR(out.j, j, 1e-12 * std::fabs(j)) << "J at φ¹";

    // The plain step φ¹ = φ − 0.1 ∇_φ G(θ, φ; inner-0 ξ) against central
    // differences of lower_before with the upper ξ set to the inner-0 ξ.
    StepInputs same = in;
    same.noise[2] = in.noise[1];
    std::vector<HostTensor> fd = centralDifferences(in.phi, [&](const auto &phi) {
      StepInputs p = same;
      p.phi = phi;
      std::vector<HostTensor> rr = call(*jit, "train_step_with_noise", p.all());
      return rr.empty() ? NAN : unpack(rr, 3, 3).lowerBefore;
    });
    for (size_t k = 0; k < 3; ++k)
      EXPECT_LT(relativeError(difference(in.phi[k], out.phi[k], 1 / 0.1), fd[k]), 1e-6)
          << "dG/dphi " << k;
  }
}

//===----------------------------------------------------------------------===//
// (d) the optimisers
//===----------------------------------------------------------------------===//

// θ: Adam (lr 0.01, betas (0.9, 0.95), ε 1e-8) from moments m, s at step t,
// with the gradient g read off the same step built with SGD, lr 1.
// φ: one plain Adam step (K = 1) with ∇_φ G from the SGD build.
TEST(TrainStep, AdamStepsMatchReference) {
  const std::string common = "objective = \"dsm\", noise_std = 0.3, "
                             "inner_steps = 1, unroll_steps = 1, ";
  auto sgd = buildStep(grbmModel(common + "optimizer_theta = \"sgd\", lr_theta = 1.0, "
                                          "optimizer_phi = \"sgd\", lr_phi = 1.0",
                                 0.5));
  auto adamStep = buildStep(grbmModel(common + "optimizer_theta = \"adam\", lr_theta = 0.01, "
                                               "optimizer_phi = \"adam\", lr_phi = 0.02, "
                                               "betas = [0.9, 0.95]",
                                      0.5));
  ASSERT_TRUE(sgd && adamStep);
  Grbm model = Grbm::random(D, H, 91);
  StepInputs in = grbmInputs(model, 3, false, 910);
  randomMoments(in.theta, 500, in.mTheta, in.sTheta);
  randomMoments(in.phi, 600, in.mPhi, in.sPhi);
  in.tTheta = scalar(4);
  in.tPhi = scalar(0); // the first φ step: full bias correction

  std::vector<HostTensor> rs = call(*sgd, "train_step_with_noise", in.all());
  std::vector<HostTensor> ra = call(*adamStep, "train_step_with_noise", in.all());
  ASSERT_FALSE(rs.empty() || ra.empty());
  StepOutputs s = unpack(rs, 4, 2), a = unpack(ra, 4, 2);

  // φ: the K step is the same gradient in both builds (θ and φ inputs equal).
  for (size_t k = 0; k < 2; ++k) {
    HostTensor g = difference(in.phi[k], s.phi[k]);
    AdamResult ref = adam(in.phi[k], in.mPhi[k], in.sPhi[k], g, 0, 0.02);
    EXPECT_LT(relativeError(a.phi[k], ref.p), 1e-12) << "phi " << k;
    EXPECT_LT(relativeError(a.mPhi[k], ref.m), 1e-12) << "m_phi " << k;
    EXPECT_LT(relativeError(a.sPhi[k], ref.s), 1e-12) << "s_phi " << k;
    // SGD leaves the moments alone.
    EXPECT_EQ(relativeError(s.mPhi[k], in.mPhi[k]), 0.0);
  }
  EXPECT_EQ(a.tPhi.elementAsDouble(0), 1.0);

  // θ: the gradients differ between the builds (φ¹ differs), so take g from
  // a third build that has Adam on φ and SGD on θ.
  auto sgdTheta = buildStep(grbmModel(common + "optimizer_theta = \"sgd\", lr_theta = 1.0, "
                                               "optimizer_phi = \"adam\", lr_phi = 0.02",
                                      0.5));
  ASSERT_TRUE(sgdTheta);
  std::vector<HostTensor> rt = call(*sgdTheta, "train_step_with_noise", in.all());
  ASSERT_FALSE(rt.empty());
  StepOutputs t = unpack(rt, 4, 2);
  EXPECT_NEAR(t.j, a.j, 1e-14 * std::fabs(a.j));
  for (size_t k = 0; k < 4; ++k) {
    HostTensor g = difference(in.theta[k], t.theta[k]);
    AdamResult ref = adam(in.theta[k], in.mTheta[k], in.sTheta[k], g, 4, 0.01);
    EXPECT_LT(relativeError(a.theta[k], ref.p), 1e-12) << kThetaNames[k];
    EXPECT_LT(relativeError(a.mTheta[k], ref.m), 1e-12) << "m " << kThetaNames[k];
    EXPECT_LT(relativeError(a.sTheta[k], ref.s), 1e-12) << "s " << kThetaNames[k];
  }
  EXPECT_EQ(a.tTheta.elementAsDouble(0), 5.0);
}

TEST(TrainStep, UnrolledAdamStaysFiniteWhereAGradientIsExactlyZero) {
  // A visible unit that is 0 in every row of the batch (a border pixel of
  // an image data set) gives the posterior weights reading it an exactly
  // zero gradient; with zero Adam moments their unrolled update is
  // m / (sqrt(s) + ε) at s = 0, whose θ derivative passes sqrt'(0). It is
  // taken as 0 (sqrt(s) = sqrt(1 − β₂)|g| there, and 0 is |·|'s
  // derivative at 0 here, as for abs); before, 0 · ∞ made the θ gradient
  // NaN.
  auto jit = buildStep(grbmModel(
      "objective = \"dsm\", noise_std = 0.3, divergence = \"kl\", "
      "inner_steps = 1, unroll_steps = 2, unroll_optimizer = \"same\", "
      "optimizer_theta = \"sgd\", lr_theta = 1.0, optimizer_phi = \"adam\", "
      "lr_phi = 0.05",
      /*temperature=*/0.5));
  ASSERT_TRUE(jit);
  Grbm model = Grbm::random(D, H, 97);
  StepInputs in = grbmInputs(model, /*stages=*/4);
  for (int64_t i = 0; i < B; ++i) {
    in.v.dataAs<double>()[i * D] = 0.0;
    in.noise[0].dataAs<double>()[i * D] = 0.0; // ε: the noisy point too
  }
  std::vector<HostTensor> results = call(*jit, "train_step_with_noise", in.all());
  ASSERT_FALSE(results.empty());
  StepOutputs out = unpack(results, 4, 2);
  EXPECT_TRUE(std::isfinite(out.j));
  EXPECT_TRUE(std::isfinite(out.gradNorm));
  EXPECT_GT(out.gradNorm, 0.0);
  for (size_t k = 0; k < 4; ++k)
    for (int64_t i = 0; i < out.theta[k].numElements(); ++i)
      EXPECT_TRUE(std::isfinite(at(out.theta[k], i))) << kThetaNames[k] << i;
  // The weights reading the zero unit did not move in the K step.
  for (int64_t k = 0; k < H; ++k)
    EXPECT_EQ(at(out.phi[0], k), at(in.phi[0], k));
}

TEST(TrainStep, EvalObjectiveIsTheUpperLevelLossPerSample) {
  // bism-run's test loss: @eval_objective(v, ε, g1, g2, θ, φ) per sample,
  // whose batch mean is the loss J of a step with K = N = 0 (J at φ) fed
  // the same noise, for DSM (x = v + σε inside) and SSM (u).
  for (const char *objective : {"dsm", "ssm"}) {
    SCOPED_TRACE(objective);
    auto jit = buildStep(
        grbmModel(std::string("objective = \"") + objective +
                      "\", noise_std = 0.3, inner_steps = 0, "
                      "unroll_steps = 0",
                  /*temperature=*/0.5),
        {}, /*evaluation=*/true);
    ASSERT_TRUE(jit);
    Grbm model = Grbm::random(D, H, 99);
    StepInputs in = grbmInputs(model, /*stages=*/1);
    std::vector<HostTensor> step = call(*jit, "train_step_with_noise", in.all());
    ASSERT_FALSE(step.empty());
    double j = unpack(step, 4, 2).j;

    std::vector<HostTensor> args = {in.v, in.noise[0], in.noise[1], in.noise[2]};
    args.insert(args.end(), in.theta.begin(), in.theta.end());
    args.insert(args.end(), in.phi.begin(), in.phi.end());
    std::vector<HostTensor> perSample = call(*jit, "eval_objective", args);
    ASSERT_EQ(perSample.size(), 1u);
    ASSERT_EQ(perSample[0].shape(), (std::vector<int64_t>{B}));
    double mean = 0;
    for (int64_t i = 0; i < B; ++i)
      mean += at(perSample[0], i) / double(B);
    EXPECT_NEAR(mean, j, 1e-12 * std::abs(j));
  }
}

//===----------------------------------------------------------------------===//
// The keyed step
//===----------------------------------------------------------------------===//

TEST(TrainStep, KeyedStepIsStepWithDrawnNoise) {
  auto jit = buildStep(grbmModel("objective = \"dsm\", inner_steps = 1, unroll_steps = 1"));
  ASSERT_TRUE(jit);
  Grbm model = Grbm::random(D, H, 95);
  StepInputs in = grbmInputs(model, 3, false, 950);
  HostTensor key = HostTensor::fromVector<int32_t>({2}, {12345, 678});
  std::vector<HostTensor> noise = call(*jit, "draw_noise", {key});
  ASSERT_EQ(noise.size(), in.noise.size());
  in.noise = noise;
  expectKeyedStepMatchesNoiseFed(*jit, in, key);
  // Fresh noise per stage: the inner, unroll and upper draws differ.
  EXPECT_GT(relativeError(noise[1], noise[3]), 0.1);
  EXPECT_GT(relativeError(noise[3], noise[5]), 0.1);
}

} // namespace
