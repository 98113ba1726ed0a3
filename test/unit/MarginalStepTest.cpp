//===- MarginalStepTest.cpp - method "marginal" against closed forms ------===//
//
// The step --bism-build-train-step emits for spec method = "marginal"
// (score matching on a free energy F, s = −∇_v F; docs/training.md "Method
// marginal"), compiled with JitModule in f64 and checked against:
//   - the GRBM's exact-marginal DSM loss and its hand-derived θ gradient
//     (GrbmReference.h), 1e-10;
//   - method "bism" with the exact posterior (A = W, d = c, K = N = 0) on
//     the same noise (Theorem 1), 1e-10;
//   - a fully visible energy E(v) = ½‖v‖² + Σ_k u_k tanh((vW + c)_k) with
//     MDSM and SM against direct formulas for its score (1e-10), and the
//     MDSM θ gradient against central differences of J (1e-6).
//
//===----------------------------------------------------------------------===//
#include "TrainStepHarness.h"

using namespace bism;
using namespace bism::trainstep;

namespace {

/// Marginal-step inputs: θ, m_θ = s_θ = 0, t_theta = 0, v, objective noise.
std::vector<HostTensor> marginalInputs(const std::vector<HostTensor> &theta,
                                       const HostTensor &v,
                                       const std::vector<HostTensor> &noise) {
  std::vector<HostTensor> in = theta;
  for (int copy = 0; copy < 2; ++copy)
    for (const HostTensor &t : zerosLike(theta))
      in.push_back(t);
  in.push_back(scalar(0));
  in.push_back(v);
  in.insert(in.end(), noise.begin(), noise.end());
  return in;
}

/// Results: θ'..., m'..., s'..., t', J, ‖∇θ J‖.
double resultJ(const std::vector<HostTensor> &r, size_t nt) {
  EXPECT_EQ(r.size(), 3 * nt + 3);
  return r.size() == 3 * nt + 3 ? r[3 * nt + 1].elementAsDouble(0) : 0.0;
}

TEST(MarginalStep, GrbmExactMarginalDsmLossAndGradient) {
  const double sigma = 0.3;
  auto jit = buildStep(grbmWithFreeEnergy(
      "method = \"marginal\", objective = \"dsm\", noise_std = 0.3"));
  ASSERT_TRUE(jit);
  for (unsigned seed : {61u, 62u}) {
    Grbm model = Grbm::random(D, H, seed);
    std::vector<HostTensor> theta = {model.w, model.b, model.c, model.logSigma};
    HostTensor v = randomTensor({B, D}, seed + 100, -1.5, 1.5);
    HostTensor eps = randomTensor({B, D}, seed + 200, -1.5, 1.5);
    std::vector<HostTensor> in = marginalInputs(theta, v, {eps});
    Grbm::DsmGradient expected = model.exactDsmGradient(v, eps, sigma);
    EXPECT_NEAR(expected.loss, model.exactDsmLoss(v, eps, sigma),
                1e-12 * expected.loss);

    std::vector<HostTensor> r = call(*jit, "train_step_with_noise", in);
    ASSERT_FALSE(r.empty());
    EXPECT_NEAR(resultJ(r, 4), expected.loss, 1e-10 * expected.loss);

    std::vector<HostTensor> g = call(*jit, "theta_gradient_with_noise", in);
    ASSERT_EQ(g.size(), 4u);
    const HostTensor *hand[] = {&expected.dW, &expected.db, &expected.dc,
                                &expected.dLogSigma};
    for (size_t k = 0; k < 4; ++k)
      EXPECT_LT(relativeError(g[k], *hand[k]), 1e-10) << kThetaNames[k];
    EXPECT_NEAR(r.back().elementAsDouble(0), std::sqrt(sumSquares(g)),
                1e-10 * std::sqrt(sumSquares(g)))
        << "grad_norm_theta";
    // One Adam step from zero moments: θ' = θ − lr · g / (|g| + ε).
    for (size_t k = 0; k < 4; ++k)
      for (int64_t i = 0; i < g[k].numElements(); ++i) {
        double gi = at(g[k], i);
        double expectedStep = at(theta[k], i) - 1e-3 * gi / (std::fabs(gi) + 1e-8);
        EXPECT_NEAR(at(r[k], i), expectedStep, 1e-12) << kThetaNames[k] << i;
      }
    EXPECT_EQ(r[12].elementAsDouble(0), 1.0) << "t_theta";
  }
}

// Theorem 1: with q = the exact posterior (logits c + vW), E + log q = F for
// every h, so J of method "bism" (K = N = 0) equals J of method "marginal".
TEST(MarginalStep, Theorem1MarginalEqualsBismWithExactPosterior) {
  for (const std::string objective : {"dsm", "ssm"}) {
    std::string spec = "objective = \"" + objective +
                       "\", noise_std = 0.4, inner_steps = 0, unroll_steps = 0";
    auto marginal = buildStep(grbmWithFreeEnergy("method = \"marginal\", " + spec));
    auto bilevel = buildStep(grbmWithFreeEnergy("method = \"bism\", " + spec));
    ASSERT_TRUE(marginal && bilevel);
    Grbm model = Grbm::random(D, H, 71);
    StepInputs in = grbmInputs(model, 1, objective == "ssm", 710);
    in.phi = {model.w, model.c};
    std::vector<HostTensor> rb = call(*bilevel, "train_step_with_noise", in.all());
    std::vector<HostTensor> rm = call(
        *marginal, "train_step_with_noise",
        marginalInputs(in.theta, in.v, {in.noise[0]}));
    ASSERT_FALSE(rb.empty() || rm.empty());
    double jb = unpack(rb, 4, 2).j, jm = resultJ(rm, 4);
    EXPECT_NEAR(jm, jb, 1e-10 * std::fabs(jb)) << objective;
    if (objective == "dsm")
      EXPECT_NEAR(jm, model.exactDsmLoss(in.v, in.noise[0], 0.4),
                  1e-10 * std::fabs(jm));
  }
}

//===----------------------------------------------------------------------===//
// A fully visible energy
//===----------------------------------------------------------------------===//

/// E(v) = ½‖v‖² + Σ_k u_k tanh(z_k), z = vW + c; θ = (W, c, u).
std::string fullyVisibleModel(const std::string &spec) {
  return std::string(kTypes) + R"mlir(
func.func private @mlp_energy(%v: !v, %w: !w, %c: !k, %u: !k) -> !n {
  %half = bism.constant dense<0.5> : !n
  %sq = bism.square %v : !v
  %q = bism.reduce_sum %sq axes [1] : !v -> !n
  %qh = bism.mul %q, %half : !n
  %vw = bism.matmul %v, %w : !v, !w -> !h
  %cb = bism.broadcast %c : !k to !h
  %z = bism.add %vw, %cb : !h
  %t = bism.tanh %z : !h
  %ub = bism.broadcast %u : !k to !h
  %ut = bism.mul %t, %ub : !h
  %s = bism.reduce_sum %ut axes [1] : !h -> !n
  %e = bism.add %qh, %s : !n
  return %e : !n
}

bism.model @fv free_energy @mlp_energy [@W, @c, @u]
    spec {method = "marginal", )mlir" + spec + R"mlir(} {
  bism.param @W : tensor<2x4xf64> {group = "theta", init = "normal", std = 0.1}
  bism.param @c : tensor<4xf64> {group = "theta", init = "zeros"}
  bism.param @u : tensor<4xf64> {group = "theta", init = "normal", std = 0.1}
}
)mlir";
}

struct FullyVisible {
  HostTensor w = randomTensor({D, H}, 81), c = randomTensor({H}, 82),
             u = randomTensor({H}, 83);
  std::vector<HostTensor> theta() const { return {w, c, u}; }
  double z(const HostTensor &x, int64_t i, int64_t k) const {
    double value = at(c, k);
    for (int64_t j = 0; j < D; ++j)
      value += at(x, i * D + j) * at(w, j * H + k);
    return value;
  }
  /// s_ij = −x_ij − Σ_k u_k (1 − tanh² z_ik) W_jk.
  double score(const HostTensor &x, int64_t i, int64_t j) const {
    double value = -at(x, i * D + j);
    for (int64_t k = 0; k < H; ++k) {
      double t = std::tanh(z(x, i, k));
      value -= at(u, k) * (1 - t * t) * at(w, j * H + k);
    }
    return value;
  }
  /// tr ∇_x s_i = −D + Σ_k u_k 2 tanh z (1 − tanh² z) Σ_j W_jk².
  double trace(const HostTensor &x, int64_t i) const {
    double value = -double(D);
    for (int64_t k = 0; k < H; ++k) {
      double t = std::tanh(z(x, i, k)), norm = 0.0;
      for (int64_t j = 0; j < D; ++j)
        norm += at(w, j * H + k) * at(w, j * H + k);
      value += at(u, k) * 2 * t * (1 - t * t) * norm;
    }
    return value;
  }
};

TEST(MarginalStep, FullyVisibleMdsmMatchesFormulaAndFiniteDifferences) {
  const double sigmaMin = 0.1, sigmaMax = 0.8, sigma0 = 0.5;
  auto jit = buildStep(fullyVisibleModel(
      "objective = \"mdsm\", sigma_min = 0.1, sigma_max = 0.8, sigma0 = 0.5, "
      "noise_schedule = \"geometric\""));
  ASSERT_TRUE(jit);
  FullyVisible model;
  HostTensor v = randomTensor({B, D}, 84, -1.5, 1.5);
  HostTensor eps = randomTensor({B, D}, 85, -1.5, 1.5);

  // J = mean_b ½‖s(ṽ_b)/σ_b + ε_b/σ0²‖², ṽ_b = v_b + σ_b ε_b, σ_b geometric.
  HostTensor vt = v;
  std::vector<double> sigmas(B);
  for (int64_t i = 0; i < B; ++i) {
    sigmas[i] = std::exp(std::log(sigmaMin) +
                         double(i) / double(B - 1) *
                             (std::log(sigmaMax) - std::log(sigmaMin)));
    for (int64_t j = 0; j < D; ++j)
      vt.dataAs<double>()[i * D + j] += sigmas[i] * at(eps, i * D + j);
  }
  double expected = 0.0;
  for (int64_t i = 0; i < B; ++i)
    for (int64_t j = 0; j < D; ++j) {
      double r = model.score(vt, i, j) / sigmas[i] +
                 at(eps, i * D + j) / (sigma0 * sigma0);
      expected += 0.5 * r * r / double(B);
    }

  auto jOf = [&](const std::vector<HostTensor> &theta) {
    std::vector<HostTensor> r =
        call(*jit, "train_step_with_noise", marginalInputs(theta, v, {eps}));
    return r.empty() ? 0.0 : resultJ(r, 3);
  };
  EXPECT_NEAR(jOf(model.theta()), expected, 1e-10 * expected);

  std::vector<HostTensor> g = call(*jit, "theta_gradient_with_noise",
                                   marginalInputs(model.theta(), v, {eps}));
  ASSERT_EQ(g.size(), 3u);
  std::vector<HostTensor> fd = centralDifferences(model.theta(), jOf);
  const char *names[] = {"W", "c", "u"};
  for (size_t k = 0; k < 3; ++k)
    EXPECT_LT(relativeError(g[k], fd[k]), 1e-6) << names[k];
}

TEST(MarginalStep, FullyVisibleSmMatchesFormula) {
  auto jit = buildStep(fullyVisibleModel("objective = \"sm\""));
  ASSERT_TRUE(jit);
  FullyVisible model;
  HostTensor v = randomTensor({B, D}, 86, -1.5, 1.5);
  // J = mean_b [½‖s(v_b)‖² + tr ∇_v s(v_b)].
  double expected = 0.0;
  for (int64_t i = 0; i < B; ++i) {
    double term = model.trace(v, i);
    for (int64_t j = 0; j < D; ++j)
      term += 0.5 * model.score(v, i, j) * model.score(v, i, j);
    expected += term / double(B);
  }
  std::vector<HostTensor> r =
      call(*jit, "train_step_with_noise", marginalInputs(model.theta(), v, {}));
  ASSERT_FALSE(r.empty());
  EXPECT_NEAR(resultJ(r, 3), expected, 1e-10 * std::fabs(expected));
}

} // namespace
