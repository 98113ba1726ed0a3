//===- ObjectivesTest.cpp - SM, MDSM and the θ-gradient dump --------------===//
//
// The SM and MDSM upper levels of the built step (docs/training.md,
// "Objectives") against direct C++ evaluations of their formulas, f64, the
// GRBM of TrainStepHarness.h (B = 8, D = 2, H = 4):
//   - SM with q the exact posterior (Theorem 1: s = −∇F, ∇s = −∇²F in
//     closed form), and with an arbitrary φ against a finite-difference
//     trace of the compiled AD score (@grbm__score) and the closed form;
//   - MDSM (geometric and linear σ schedule) with the exact posterior and
//     with an arbitrary φ, the same ε;
//   - @theta_gradient_with_noise against θ − θ' of an SGD (lr 1) step of
//     @train_step_with_noise and against central differences of J (K = 0,
//     N = 1), for SM, MDSM and DSM.
//
//===----------------------------------------------------------------------===//
#include "TrainStepHarness.h"

using namespace bism;
using namespace bism::trainstep;

namespace {

/// SM takes no objective noise: the GRBM inputs without noise[0].
StepInputs smInputs(const Grbm &model, size_t stages, unsigned seed) {
  StepInputs in = grbmInputs(model, stages, false, seed);
  in.noise.erase(in.noise.begin());
  return in;
}

/// SM with q exact: mean_i [½‖∇F‖² − tr ∇²F], ∇²F = diag(P) − W diag(σ'(a)) Wᵀ.
double exactSmLoss(const Grbm &m, const HostTensor &v) {
  HostTensor s = m.score(v);
  double sum = 0.0;
  for (int64_t i = 0; i < B; ++i) {
    for (int64_t j = 0; j < D; ++j) {
      double sj = at(s, i * D + j);
      sum += 0.5 * sj * sj - m.P(j);
    }
    for (int64_t k = 0; k < H; ++k) {
      double p = sigmoid(m.pre(v, i, k)), w2 = 0.0;
      for (int64_t j = 0; j < D; ++j)
        w2 += m.W(j, k) * m.W(j, k);
      sum += p * (1 - p) * w2;
    }
  }
  return sum / B;
}

/// σ_b over the batch from lo to hi: geometric exp(linspace(log lo, log hi))
/// or linear linspace(lo, hi).
std::vector<double> sigmaSchedule(bool geometric, double lo, double hi) {
  std::vector<double> out;
  for (int64_t b = 0; b < B; ++b) {
    double f = double(b) / double(B - 1);
    out.push_back(geometric ? lo * std::pow(hi / lo, f) : lo + f * (hi - lo));
  }
  return out;
}

HostTensor mdsmNoised(const HostTensor &v, const HostTensor &eps,
                      const std::vector<double> &sigmas) {
  HostTensor x = v;
  for (int64_t i = 0; i < B; ++i)
    for (int64_t j = 0; j < D; ++j)
      x.dataAs<double>()[i * D + j] += sigmas[i] * at(eps, i * D + j);
  return x;
}

/// mean_i ½‖s_i/σ_i + ε_i/σ0²‖² for a score s at ṽ.
double mdsmLoss(const HostTensor &s, const HostTensor &eps,
                const std::vector<double> &sigmas, double sigma0) {
  double sum = 0.0;
  for (int64_t i = 0; i < B; ++i)
    for (int64_t j = 0; j < D; ++j) {
      double r = at(s, i * D + j) / sigmas[i] + at(eps, i * D + j) / (sigma0 * sigma0);
      sum += 0.5 * r * r;
    }
  return sum / B;
}

//===----------------------------------------------------------------------===//
// SM
//===----------------------------------------------------------------------===//

TEST(Objectives, SmExactPosteriorGivesExactMarginalSm) {
  auto jit = buildStep(grbmModel("objective = \"sm\", inner_steps = 0, unroll_steps = 0"));
  ASSERT_TRUE(jit);
  for (unsigned seed : {11u, 12u, 13u}) {
    Grbm model = Grbm::random(D, H, seed);
    StepInputs in = smInputs(model, 1, seed * 10);
    ASSERT_EQ(in.noise.size(), 2u) << "g1, g2 of the upper stage only";
    in.phi = {model.w, model.c};
    std::vector<HostTensor> r = call(*jit, "train_step_with_noise", in.all());
    ASSERT_FALSE(r.empty());
    double expected = exactSmLoss(model, in.v);
    EXPECT_NEAR(unpack(r, 4, 2).j, expected, 1e-10 * std::fabs(expected))
        << "seed " << seed;
  }
}

// Arbitrary φ: J = mean_i [½‖s‖² + tr ∇_v s], the trace by central
// differences of the compiled score (h fixed at the sample drawn at v),
// and by the closed form ∇_x s = −diag(P) + A diag(σ'(ℓ)) Aᵀ.
TEST(Objectives, SmArbitraryPosteriorMatchesFiniteDifferenceTrace) {
  const double tau = 0.3;
  auto jit = buildStep(grbmModel("objective = \"sm\", inner_steps = 0, unroll_steps = 0",
                                 tau),
                       {"grbm__score"});
  ASSERT_TRUE(jit);
  Grbm model = Grbm::random(D, H, 17);
  StepInputs in = smInputs(model, 1, 170);
  const HostTensor &a = in.phi[0], &d = in.phi[1];
  HostTensor h = relaxedSample(affine(in.v, a, d), in.noise[0], in.noise[1], tau);
  auto score = [&](const HostTensor &x) {
    std::vector<HostTensor> args = {x, h};
    args.insert(args.end(), in.theta.begin(), in.theta.end());
    args.insert(args.end(), in.phi.begin(), in.phi.end());
    std::vector<HostTensor> r = call(*jit, "grbm__score", args);
    return r.empty() ? HostTensor(ElementType::f64, {B, D}) : r[0];
  };
  HostTensor s = score(in.v);
  // The compiled score is the closed form's (same h).
  BernoulliGrbmTerms terms(model, a, d, tau, in.v, in.noise[0], in.noise[1]);
  EXPECT_LT(relativeError(s, terms.s), 1e-12);

  const double step = 1e-5;
  std::vector<double> trace(B, 0.0);
  for (int64_t j = 0; j < D; ++j) {
    HostTensor plus = in.v, minus = in.v;
    for (int64_t i = 0; i < B; ++i) {
      plus.dataAs<double>()[i * D + j] += step;
      minus.dataAs<double>()[i * D + j] -= step;
    }
    HostTensor sp = score(plus), sm = score(minus);
    for (int64_t i = 0; i < B; ++i)
      trace[i] += (at(sp, i * D + j) - at(sm, i * D + j)) / (2 * step);
  }
  double fd = 0.0, closed = 0.0;
  for (int64_t i = 0; i < B; ++i) {
    double half = 0.0, tr = 0.0;
    for (int64_t j = 0; j < D; ++j) {
      half += 0.5 * at(s, i * D + j) * at(s, i * D + j);
      tr -= model.P(j);
    }
    for (int64_t k = 0; k < H; ++k) {
      double p = sigmoid(at(terms.logits, i * H + k)), a2 = 0.0;
      for (int64_t j = 0; j < D; ++j)
        a2 += at(a, j * H + k) * at(a, j * H + k);
      tr += p * (1 - p) * a2;
    }
    fd += half + trace[i];
    closed += half + tr;
  }
  fd /= B;
  closed /= B;

  std::vector<HostTensor> r = call(*jit, "train_step_with_noise", in.all());
  ASSERT_FALSE(r.empty());
  double j = unpack(r, 4, 2).j;
  EXPECT_NEAR(j, fd, 1e-6 * std::fabs(fd)) << "finite-difference trace";
  EXPECT_NEAR(j, closed, 1e-10 * std::fabs(closed)) << "closed-form trace";
}

TEST(Objectives, SmKeyedStepDrawsOnlyPosteriorNoise) {
  auto jit = buildStep(grbmModel("objective = \"sm\", inner_steps = 1, unroll_steps = 1"));
  ASSERT_TRUE(jit);
  Grbm model = Grbm::random(D, H, 19);
  StepInputs in = smInputs(model, 3, 190);
  HostTensor key = HostTensor::fromVector<int32_t>({2}, {7, 99});
  std::vector<HostTensor> noise = call(*jit, "draw_noise", {key});
  ASSERT_EQ(noise.size(), 6u) << "g1, g2 for inner, unroll and upper";
  for (const HostTensor &n : noise)
    EXPECT_EQ(n.shape(), (std::vector<int64_t>{B, H}));
  in.noise = noise;
  expectKeyedStepMatchesNoiseFed(*jit, in, key);
}

//===----------------------------------------------------------------------===//
// MDSM
//===----------------------------------------------------------------------===//

struct MdsmCase {
  const char *schedule;
  double lo, hi, sigma0;
};
const MdsmCase kMdsmCases[] = {{"geometric", 0.05, 0.5, 0.1},
                               {"linear", 0.1, 0.6, 0.3}};

std::string mdsmSpec(const MdsmCase &c, const std::string &rest) {
  return "objective = \"mdsm\", noise_schedule = \"" + std::string(c.schedule) +
         "\", sigma_min = " + std::to_string(c.lo) +
         ", sigma_max = " + std::to_string(c.hi) +
         ", sigma0 = " + std::to_string(c.sigma0) + ", " + rest;
}

TEST(Objectives, MdsmExactPosteriorMatchesFormula) {
  for (const MdsmCase &c : kMdsmCases) {
    SCOPED_TRACE(c.schedule);
    auto jit = buildStep(grbmModel(mdsmSpec(c, "inner_steps = 0, unroll_steps = 0")));
    ASSERT_TRUE(jit);
    std::vector<double> sigmas =
        sigmaSchedule(std::string(c.schedule) == "geometric", c.lo, c.hi);
    for (unsigned seed : {21u, 22u}) {
      Grbm model = Grbm::random(D, H, seed);
      StepInputs in = grbmInputs(model, 1, false, seed * 10);
      in.phi = {model.w, model.c};
      std::vector<HostTensor> r = call(*jit, "train_step_with_noise", in.all());
      ASSERT_FALSE(r.empty());
      HostTensor x = mdsmNoised(in.v, in.noise[0], sigmas);
      double expected = mdsmLoss(model.score(x), in.noise[0], sigmas, c.sigma0);
      EXPECT_NEAR(unpack(r, 4, 2).j, expected, 1e-10 * std::fabs(expected))
          << "seed " << seed;
    }
  }
}

// Arbitrary φ: s from the relaxed-Bernoulli GRBM terms at ṽ (h drawn at ṽ),
// and the KL lower level evaluated on the same ṽ (lower_before).
TEST(Objectives, MdsmArbitraryPosteriorMatchesFormula) {
  const double tau = 0.2;
  for (const MdsmCase &c : kMdsmCases) {
    SCOPED_TRACE(c.schedule);
    auto jit = buildStep(grbmModel(mdsmSpec(c, "inner_steps = 0, unroll_steps = 0"), tau));
    ASSERT_TRUE(jit);
    std::vector<double> sigmas =
        sigmaSchedule(std::string(c.schedule) == "geometric", c.lo, c.hi);
    Grbm model = Grbm::random(D, H, 27);
    StepInputs in = grbmInputs(model, 1, false, 270);
    std::vector<HostTensor> r = call(*jit, "train_step_with_noise", in.all());
    ASSERT_FALSE(r.empty());
    HostTensor x = mdsmNoised(in.v, in.noise[0], sigmas);
    BernoulliGrbmTerms t(model, in.phi[0], in.phi[1], tau, x, in.noise[1], in.noise[2]);
    double expected = mdsmLoss(t.s, in.noise[0], sigmas, c.sigma0);
    EXPECT_NEAR(unpack(r, 4, 2).j, expected, 1e-10 * std::fabs(expected));
    // The lower level sees ṽ: G = mean [log q(h|ṽ) + E(ṽ, h)].
    HostTensor e = model.energy(x, t.h);
    double g = 0.0;
    for (int64_t i = 0; i < B; ++i) {
      g += at(e, i);
      for (int64_t k = 0; k < H; ++k) {
        double l = at(t.logits, i * H + k);
        g += at(t.h, i * H + k) * l - softplus(l);
      }
    }
    g /= B;
    EXPECT_NEAR(unpack(r, 4, 2).lowerBefore, g, 1e-10 * std::fabs(g));
  }
}

//===----------------------------------------------------------------------===//
// @theta_gradient_with_noise
//===----------------------------------------------------------------------===//

struct GradientCase {
  const char *name, *spec;
  bool hasObjectiveNoise;
};
const GradientCase kGradientCases[] = {
    {"sm", "objective = \"sm\"", false},
    {"mdsm", "objective = \"mdsm\", sigma_min = 0.1, sigma_max = 0.5, sigma0 = 0.2", true},
    {"dsm", "objective = \"dsm\", noise_std = 0.3", true},
};

// (a) = θ − θ' of the same step built with SGD on θ, lr 1 (K = 1, N = 2,
// Adam on φ), so the dump is the gradient the optimiser gets.
TEST(Objectives, ThetaGradientIsTheStepsGradient) {
  for (const GradientCase &c : kGradientCases) {
    SCOPED_TRACE(c.name);
    auto jit = buildStep(grbmModel(std::string(c.spec) +
                                       ", inner_steps = 1, unroll_steps = 2, "
                                       "optimizer_theta = \"sgd\", lr_theta = 1.0, "
                                       "lr_phi = 0.05",
                                   0.5));
    ASSERT_TRUE(jit);
    Grbm model = Grbm::random(D, H, 31);
    StepInputs in = c.hasObjectiveNoise ? grbmInputs(model, 4, false, 310)
                                        : smInputs(model, 4, 310);
    randomMoments(in.phi, 320, in.mPhi, in.sPhi);
    in.tPhi = scalar(2);
    std::vector<HostTensor> step = call(*jit, "train_step_with_noise", in.all());
    std::vector<HostTensor> grad = call(*jit, "theta_gradient_with_noise", in.all());
    ASSERT_FALSE(step.empty());
    ASSERT_EQ(grad.size(), 4u);
    StepOutputs out = unpack(step, 4, 2);
    double normSq = 0.0;
    for (size_t k = 0; k < 4; ++k) {
      EXPECT_EQ(grad[k].shape(), in.theta[k].shape());
      EXPECT_LT(relativeError(grad[k], difference(in.theta[k], out.theta[k])), 1e-12)
          << kThetaNames[k];
      for (int64_t i = 0; i < grad[k].numElements(); ++i)
        normSq += at(grad[k], i) * at(grad[k], i);
    }
    EXPECT_NEAR(out.gradNorm, std::sqrt(normSq), 1e-12 * out.gradNorm);
  }
}

// (b) K = 0, N = 1: J = J(θ, φ¹(θ)) with φ⁰ the φ input; the dump against
// central differences of the J metric in θ.
TEST(Objectives, ThetaGradientMatchesFiniteDifferencesOfJ) {
  for (const GradientCase &c : kGradientCases) {
    SCOPED_TRACE(c.name);
    auto jit = buildStep(grbmModel(std::string(c.spec) +
                                       ", inner_steps = 0, unroll_steps = 1, "
                                       "lr_phi = 0.05",
                                   0.5));
    ASSERT_TRUE(jit);
    Grbm model = Grbm::random(D, H, 41);
    StepInputs in = c.hasObjectiveNoise ? grbmInputs(model, 2, false, 410)
                                        : smInputs(model, 2, 410);
    randomMoments(in.phi, 420, in.mPhi, in.sPhi);
    in.tPhi = scalar(3);
    std::vector<HostTensor> grad = call(*jit, "theta_gradient_with_noise", in.all());
    ASSERT_EQ(grad.size(), 4u);
    std::vector<HostTensor> fd = centralDifferences(in.theta, [&](const auto &theta) {
      StepInputs p = in;
      p.theta = theta;
      std::vector<HostTensor> r = call(*jit, "train_step_with_noise", p.all());
      return r.empty() ? NAN : unpack(r, 4, 2).j;
    });
    for (size_t k = 0; k < 4; ++k)
      EXPECT_LT(relativeError(grad[k], fd[k]), 1e-6) << "dJ/d" << kThetaNames[k];
  }
}

} // namespace
