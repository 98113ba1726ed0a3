//===- VagesTest.cpp - method "vages" against direct formulas -------------===//
//
// The step --bism-build-train-step emits for spec method = "vages" (K plain
// φ steps, then the θ gradient from L posterior particles; docs/training.md
// "Method vages"), compiled with JitModule in f64 (B = 8, D = 2, H = 4):
//   (a) J and the θ gradient against a direct C++ evaluation of the
//       published formulas (the VaES score ŝ from one group of L particles,
//       the mean of r_bᵀ ∂g_i/∂θ over a second, the unbiased sample
//       covariance over a third), 1e-10, for hard and relaxed Bernoulli
//       particles, a Gaussian posterior and MDSM, and with the groups
//       shared (vages_groups = "shared": one group for all three);
//   (b) the lower level (K plain φ steps, lower_before/after) equals method
//       "bism" with N = 0 on the same noise, 1e-12;
//   (c) with q the exact GRBM posterior (A = W, d = c), K = 0 and hard
//       particles, over many draws: the error of one VaGES θ gradient
//       against the exact-marginal DSM gradient (method "marginal") shrinks
//       like 1/√L, the mean of independent groups is the exact gradient
//       (unbiased at every L ≥ 2) and the mean of shared groups is off by
//       a bias that shrinks like 1/L;
//   and train_step(key) = train_step_with_noise(draw_noise(key)).
//
//===----------------------------------------------------------------------===//
#include "TrainStepHarness.h"
#include "VagesReference.h"

#include "bism/Train/BuildTrainStep.h"

#include <cstdio>

using namespace bism;
using namespace bism::trainstep;

namespace {

std::string vagesSpec(int64_t particles, const std::string &extra = "") {
  return "method = \"vages\", objective = \"dsm\", noise_std = 0.3, "
         "particles = " +
         std::to_string(particles) + (extra.empty() ? "" : ", " + extra);
}

/// Row i of an [L, B, H] tensor as [B, H].
HostTensor particle(const HostTensor &all, int64_t i) {
  HostTensor out(ElementType::f64, {B, H});
  for (int64_t e = 0; e < B * H; ++e)
    out.dataAs<double>()[e] = at(all, i * B * H + e);
  return out;
}

/// Hard Bernoulli particle: h = [u < sigmoid(ℓ)].
HostTensor hardSample(const HostTensor &logits, const HostTensor &u) {
  HostTensor h(ElementType::f64, {B, H});
  for (int64_t e = 0; e < B * H; ++e)
    h.dataAs<double>()[e] = at(u, e) < sigmoid(at(logits, e)) ? 1.0 : 0.0;
  return h;
}

struct VagesReference {
  double j = 0.0;
  /// dW, db, dc, dlogσ.
  std::vector<HostTensor> gradient;
};

/// J and the VaGES θ gradient of the GRBM at x = ṽ (VagesReference.h):
///   ŝ = mean_{i ∈ score} g(h_i),  r_b = a_b ŝ_b + t_b,  w_b = a_b r_b,
///   J = mean_b ½‖r_b‖²;
/// DSM: a = 1, t = ε/σ; MDSM: a_b = 1/σ_b, t = ε/σ0².
VagesReference vagesReference(const Grbm &m, const HostTensor &x,
                              const std::vector<double> &a,
                              const HostTensor &t, const ParticleGroups &groups) {
  HostTensor sHat = vaesScore(m, x, groups.score);
  HostTensor w(ElementType::f64, {B, D});
  VagesReference out;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t j = 0; j < D; ++j) {
      double r = a[b] * at(sHat, b * D + j) + at(t, b * D + j);
      w.dataAs<double>()[b * D + j] = a[b] * r;
      out.j += 0.5 * r * r / double(B);
    }
  out.gradient = vagesGradientReference(m, x, w, groups);
  return out;
}

/// DSM: a = 1, t = ε/σ.
VagesReference dsmReference(const Grbm &m, const HostTensor &x,
                            const HostTensor &eps, double sigma,
                            const ParticleGroups &hs) {
  return vagesReference(m, x, std::vector<double>(B, 1.0),
                        difference(eps, HostTensor(ElementType::f64, {B, D}),
                                   1.0 / sigma),
                        hs);
}

/// State, batch and noise of the GRBM VaGES step with K = 0: ε, the lower
/// metrics' g1, g2, then the particle noise.
StepInputs grbmVagesInputs(const Grbm &model, std::vector<HostTensor> particles,
                           unsigned seed) {
  StepInputs in = grbmInputs(model, /*stages=*/1, false, seed);
  in.noise.insert(in.noise.end(), particles.begin(), particles.end());
  return in;
}

void expectMatchesReference(JitModule &jit, const StepInputs &in,
                            const VagesReference &expected, size_t numTheta,
                            size_t numPhi) {
  std::vector<HostTensor> r = call(jit, "train_step_with_noise", in.all());
  ASSERT_FALSE(r.empty());
  StepOutputs out = unpack(r, numTheta, numPhi);
  EXPECT_NEAR(out.j, expected.j, 1e-10 * expected.j);
  EXPECT_EQ(out.lowerBefore, out.lowerAfter) << "K = 0";
  std::vector<HostTensor> g = call(jit, "theta_gradient_with_noise", in.all());
  ASSERT_EQ(g.size(), numTheta);
  for (size_t k = 0; k < numTheta; ++k)
    EXPECT_LT(relativeError(g[k], expected.gradient[k]), 1e-10)
        << kThetaNames[k];
  EXPECT_NEAR(out.gradNorm, std::sqrt(sumSquares(g)),
              1e-10 * std::sqrt(sumSquares(g)));
}

//===----------------------------------------------------------------------===//
// (a) The formulas
//===----------------------------------------------------------------------===//

/// "shared" or "independent".
std::string groupsSpec(bool independent) {
  return std::string("vages_groups = ") +
         (independent ? "\"independent\"" : "\"shared\"");
}

/// Each group's particles h_i = sample(i-th [B,H] slices of its noise
/// tensors); `noise` holds the groups' tensors in signature order, `per`
/// tensors each (3 groups: score, derivative, covariance; 1: shared).
template <typename Sample>
ParticleGroups drawGroups(const std::vector<HostTensor> &noise, size_t per,
                          int64_t L, Sample sample) {
  std::vector<std::vector<HostTensor>> hs(noise.size() / per);
  for (size_t group = 0; group < hs.size(); ++group)
    for (int64_t i = 0; i < L; ++i) {
      std::vector<HostTensor> slices;
      for (size_t k = 0; k < per; ++k)
        slices.push_back(particle(noise[group * per + k], i));
      hs[group].push_back(sample(slices));
    }
  return hs.size() == 1 ? ParticleGroups::shared(hs[0])
                        : ParticleGroups{hs[0], hs[1], hs[2]};
}

/// Uniform [L,B,H] noise for `groups` groups of hard particles.
std::vector<HostTensor> uniformGroups(size_t groups, int64_t L, unsigned seed) {
  std::vector<HostTensor> out;
  for (size_t g = 0; g < groups; ++g)
    out.push_back(randomTensor({L, B, H}, seed + unsigned(g), 0.0, 1.0));
  return out;
}

TEST(Vages, HardParticlesMatchFormula) {
  for (bool independent : {true, false})
    for (int64_t L : {2, 3, 5}) {
      auto jit = buildStep(grbmModel(
          vagesSpec(L, "inner_steps = 0, " + groupsSpec(independent))));
      ASSERT_TRUE(jit);
      Grbm model = Grbm::random(D, H, 200 + unsigned(L));
      std::vector<HostTensor> u =
          uniformGroups(independent ? 3 : 1, L, 300 + unsigned(L));
      StepInputs in = grbmVagesInputs(model, u, 400 + unsigned(L));
      HostTensor x = Grbm::noised(in.v, in.noise[0], 0.3);
      HostTensor logits = affine(x, in.phi[0], in.phi[1]);
      ParticleGroups hs = drawGroups(u, 1, L, [&](const auto &n) {
        return hardSample(logits, n[0]);
      });
      SCOPED_TRACE(groupsSpec(independent) + ", L = " + std::to_string(L));
      expectMatchesReference(
          *jit, in, dsmReference(model, x, in.noise[0], 0.3, hs), 4, 2);
    }
}

// The step's gradient differs between the layouts on the same first group
// (the shared layout reuses the score group for the other two terms) in W
// and c; the b and logσ gradients depend on ŝ alone (∂g/∂b, ∂g/∂logσ and
// their ∇θ log p̃ do not depend on h), so they agree.
TEST(Vages, IndependentGroupsChangeTheGradient) {
  const int64_t L = 3;
  auto independent = buildStep(grbmModel(vagesSpec(L, "inner_steps = 0")));
  auto shared = buildStep(
      grbmModel(vagesSpec(L, "inner_steps = 0, " + groupsSpec(false))));
  ASSERT_TRUE(independent && shared);
  Grbm model = Grbm::random(D, H, 205);
  std::vector<HostTensor> u = uniformGroups(3, L, 305);
  StepInputs in = grbmVagesInputs(model, u, 405);
  std::vector<HostTensor> gi =
      call(*independent, "theta_gradient_with_noise", in.all());
  in.noise.resize(in.noise.size() - 2); // the score group only
  std::vector<HostTensor> gs = call(*shared, "theta_gradient_with_noise", in.all());
  ASSERT_EQ(gi.size(), 4u);
  ASSERT_EQ(gs.size(), 4u);
  for (size_t k : {0, 2})
    EXPECT_GT(relativeError(gi[k], gs[k]), 1e-3) << kThetaNames[k];
  for (size_t k : {1, 3})
    EXPECT_LT(relativeError(gi[k], gs[k]), 1e-12) << kThetaNames[k];
}

TEST(Vages, RelaxedParticlesMatchFormula) {
  const int64_t L = 3;
  const double tau = 0.5;
  for (bool independent : {true, false}) {
    auto jit = buildStep(grbmModel(
        vagesSpec(L, "inner_steps = 0, vages_sampling = \"relaxed\", " +
                         groupsSpec(independent)),
        tau));
    ASSERT_TRUE(jit);
    Grbm model = Grbm::random(D, H, 210);
    std::vector<HostTensor> gumbel;
    for (unsigned g = 0; g < (independent ? 6u : 2u); ++g)
      gumbel.push_back(randomTensor({L, B, H}, 310 + g, -1.0, 2.0));
    StepInputs in = grbmVagesInputs(model, gumbel, 410);
    HostTensor x = Grbm::noised(in.v, in.noise[0], 0.3);
    HostTensor logits = affine(x, in.phi[0], in.phi[1]);
    ParticleGroups hs = drawGroups(gumbel, 2, L, [&](const auto &n) {
      return relaxedSample(logits, n[0], n[1], tau);
    });
    SCOPED_TRACE(groupsSpec(independent));
    expectMatchesReference(
        *jit, in, dsmReference(model, x, in.noise[0], 0.3, hs), 4, 2);
  }
}

// Gaussian latents: E = ½‖v − b‖² + ½‖h‖² − h·(vW + c) has the GRBM's v and
// θ derivatives at logσ = 0 (½‖h‖² depends on neither).
TEST(Vages, GaussianPosteriorMatchesFormula) {
  const int64_t L = 4;
  auto jit = buildStep(gaussianModel(vagesSpec(L, "inner_steps = 0")));
  ASSERT_TRUE(jit);
  Grbm model = Grbm::random(D, H, 220);
  model.logSigma = HostTensor(ElementType::f64, {D});
  StepInputs in;
  in.theta = {model.w, model.b, model.c};
  in.phi = {randomTensor({D, H}, 320), randomTensor({H}, 321),
            randomTensor({H}, 322, -1.0, 0.0)};
  in.mTheta = in.sTheta = zerosLike(in.theta);
  in.mPhi = in.sPhi = zerosLike(in.phi);
  in.v = randomTensor({B, D}, 323, -1.5, 1.5);
  std::vector<HostTensor> xi;
  for (unsigned g = 0; g < 3; ++g)
    xi.push_back(randomTensor({L, B, H}, 324 + g, -2.0, 2.0));
  in.noise = {randomTensor({B, D}, 328, -1.5, 1.5),
              randomTensor({B, H}, 329, -2.0, 2.0)};
  in.noise.insert(in.noise.end(), xi.begin(), xi.end());
  HostTensor x = Grbm::noised(in.v, in.noise[0], 0.3);
  HostTensor mu = affine(x, in.phi[0], in.phi[1]);
  ParticleGroups hs = drawGroups(xi, 1, L, [&](const auto &n) {
    HostTensor h = mu;
    for (int64_t e = 0; e < B * H; ++e)
      h.dataAs<double>()[e] += std::exp(at(in.phi[2], e % H)) * at(n[0], e);
    return h;
  });
  VagesReference expected = dsmReference(model, x, in.noise[0], 0.3, hs);
  expected.gradient.pop_back(); // no logσ
  expectMatchesReference(*jit, in, expected, 3, 3);
}

// MDSM: x_b = v_b + σ_b ε_b, r_b = ŝ_b/σ_b + ε_b/σ0², w_b = r_b/σ_b.
TEST(Vages, MdsmMatchesFormula) {
  const int64_t L = 3;
  for (bool independent : {true, false}) {
    auto jit = buildStep(grbmModel(
        "method = \"vages\", objective = \"mdsm\", sigma_min = 0.1, "
        "sigma_max = 0.8, sigma0 = 0.5, inner_steps = 0, particles = 3, " +
        groupsSpec(independent)));
    ASSERT_TRUE(jit);
    Grbm model = Grbm::random(D, H, 215);
    std::vector<HostTensor> u = uniformGroups(independent ? 3 : 1, L, 315);
    StepInputs in = grbmVagesInputs(model, u, 415);
    train::TrainSpec spec;
    spec.sigmaMin = 0.1;
    spec.sigmaMax = 0.8;
    std::vector<double> sigmas = train::mdsmSigmas(spec, B), a(B);
    HostTensor x = in.v, t = in.noise[0];
    for (int64_t b = 0; b < B; ++b) {
      a[b] = 1.0 / sigmas[b];
      for (int64_t j = 0; j < D; ++j) {
        x.dataAs<double>()[b * D + j] += sigmas[b] * at(in.noise[0], b * D + j);
        t.dataAs<double>()[b * D + j] /= 0.5 * 0.5;
      }
    }
    HostTensor logits = affine(x, in.phi[0], in.phi[1]);
    ParticleGroups hs = drawGroups(u, 1, L, [&](const auto &n) {
      return hardSample(logits, n[0]);
    });
    SCOPED_TRACE(groupsSpec(independent));
    expectMatchesReference(*jit, in, vagesReference(model, x, a, t, hs), 4, 2);
  }
}

//===----------------------------------------------------------------------===//
// (b) The lower level is method bism's
//===----------------------------------------------------------------------===//

TEST(Vages, LowerLevelIsBismWithoutUnrolling) {
  auto vages = buildStep(grbmModel(vagesSpec(2, "inner_steps = 2")));
  auto bism = buildStep(grbmModel(
      "objective = \"dsm\", noise_std = 0.3, inner_steps = 2, unroll_steps = 0"));
  ASSERT_TRUE(vages && bism);
  Grbm model = Grbm::random(D, H, 230);
  // ε, inner0 g1 g2, inner1 g1 g2, upper (bism) / lower (vages) g1 g2.
  StepInputs in = grbmInputs(model, 3, false, 430);
  randomMoments(in.phi, 431, in.mPhi, in.sPhi);
  in.tPhi = scalar(3);
  std::vector<HostTensor> rb = call(*bism, "train_step_with_noise", in.all());
  for (unsigned group = 0; group < 3; ++group)
    in.noise.push_back(randomTensor({2, B, H}, 432 + group, 0.0, 1.0));
  std::vector<HostTensor> rv = call(*vages, "train_step_with_noise", in.all());
  ASSERT_FALSE(rb.empty() || rv.empty());
  StepOutputs b = unpack(rb, 4, 2), v = unpack(rv, 4, 2);
  for (size_t k = 0; k < 2; ++k) {
    EXPECT_LT(relativeError(v.phi[k], b.phi[k]), 1e-12) << "phi " << k;
    EXPECT_LT(relativeError(v.mPhi[k], b.mPhi[k]), 1e-12) << "m_phi " << k;
    EXPECT_LT(relativeError(v.sPhi[k], b.sPhi[k]), 1e-12) << "s_phi " << k;
    EXPECT_GT(relativeError(v.phi[k], in.phi[k]), 1e-6) << "φ moved";
  }
  EXPECT_EQ(v.tPhi.elementAsDouble(0), 5.0);
  EXPECT_NEAR(v.lowerBefore, b.lowerBefore, 1e-12 * std::fabs(b.lowerBefore));
  EXPECT_NEAR(v.lowerAfter, b.lowerAfter, 1e-12 * std::fabs(b.lowerAfter));
  EXPECT_EQ(v.tTheta.elementAsDouble(0), 1.0);
}

//===----------------------------------------------------------------------===//
// (c) Consistency: the exact posterior, L → ∞
//===----------------------------------------------------------------------===//

TEST(Vages, ExactPosteriorMeanAndErrorAgainstExactMarginalGradient) {
  const double sigma = 0.3;
  Grbm model = Grbm::random(D, H, 240);
  HostTensor v = randomTensor({B, D}, 241, -1.5, 1.5);
  HostTensor eps = randomTensor({B, D}, 242, -1.5, 1.5);
  std::vector<HostTensor> theta = {model.w, model.b, model.c, model.logSigma};

  // The target: method "marginal" (exact-marginal DSM on the free energy).
  auto marginal = buildStep(grbmWithFreeEnergy(
      "method = \"marginal\", objective = \"dsm\", noise_std = 0.3"));
  ASSERT_TRUE(marginal);
  std::vector<HostTensor> marginalIn = theta;
  for (int copy = 0; copy < 2; ++copy)
    for (const HostTensor &t : zerosLike(theta))
      marginalIn.push_back(t);
  marginalIn.push_back(scalar(0));
  marginalIn.push_back(v);
  marginalIn.push_back(eps);
  std::vector<HostTensor> exact =
      call(*marginal, "theta_gradient_with_noise", marginalIn);
  ASSERT_EQ(exact.size(), 4u);
  Grbm::DsmGradient hand = model.exactDsmGradient(v, eps, sigma);
  const HostTensor *handGradient[] = {&hand.dW, &hand.db, &hand.dc,
                                      &hand.dLogSigma};
  for (size_t k = 0; k < 4; ++k)
    ASSERT_LT(relativeError(exact[k], *handGradient[k]), 1e-10);
  const double exactNorm = std::sqrt(sumSquares(exact));

  // VaGES with A = W, d = c (logits c + xW: q = p(h | x)), K = 0, hard
  // particles from draw_noise(key) for `draws` keys at the fixed ε. Per
  // θ component e, the mean m_e and the standard error se_e of the
  // deviation from the exact gradient over the draws.
  const int64_t particleCounts[] = {2, 8, 32};
  const int draws = 3000;
  auto flatten = [](const std::vector<HostTensor> &tensors) {
    std::vector<double> out;
    for (const HostTensor &t : tensors)
      for (int64_t e = 0; e < t.numElements(); ++e)
        out.push_back(at(t, e));
    return out;
  };
  const std::vector<double> exactFlat = flatten(exact);
  struct Figures {
    double rms, bias, maxZ;
  };
  std::vector<Figures> figures[2];
  for (bool independent : {true, false})
    for (int64_t L : particleCounts) {
      auto jit = buildStep(grbmModel(
          vagesSpec(L, "inner_steps = 0, " + groupsSpec(independent))));
      ASSERT_TRUE(jit);
      StepInputs in = grbmInputs(model, 1, false, 440);
      in.phi = {model.w, model.c};
      in.v = v;
      std::vector<double> sum(exactFlat.size(), 0.0), sumSq(exactFlat.size(), 0.0);
      for (int key = 0; key < draws; ++key) {
        HostTensor k = HostTensor::fromVector<int32_t>({2}, {2024 + key, 7});
        in.noise = call(*jit, "draw_noise", {k});
        ASSERT_EQ(in.noise.size(), independent ? 6u : 4u);
        in.noise[0] = eps;
        std::vector<double> g =
            flatten(call(*jit, "theta_gradient_with_noise", in.all()));
        ASSERT_EQ(g.size(), exactFlat.size());
        for (size_t e = 0; e < g.size(); ++e) {
          double deviation = g[e] - exactFlat[e];
          sum[e] += deviation;
          sumSq[e] += deviation * deviation;
        }
      }
      Figures f{0.0, 0.0, 0.0};
      for (size_t e = 0; e < sum.size(); ++e) {
        double mean = sum[e] / draws, meanSq = sumSq[e] / draws;
        double se = std::sqrt(std::max(meanSq - mean * mean, 0.0) / draws);
        f.rms += meanSq;
        f.bias += mean * mean;
        if (se > 0.0)
          f.maxZ = std::max(f.maxZ, std::fabs(mean) / se);
      }
      f.rms = std::sqrt(f.rms) / exactNorm;
      f.bias = std::sqrt(f.bias) / exactNorm;
      figures[independent ? 0 : 1].push_back(f);
      std::printf("VaGES %-11s L = %2lld, %d draws: RMS relative error of "
                  "one gradient %.4f (x sqrt(L) = %.3f), relative error of "
                  "their mean %.5f, max |mean/se| over θ %.2f\n",
                  independent ? "independent" : "shared", (long long)L, draws,
                  f.rms, f.rms * std::sqrt(double(L)), f.bias, f.maxZ);
    }
  for (int layout = 0; layout < 2; ++layout) {
    SCOPED_TRACE(layout == 0 ? "independent" : "shared");
    // One gradient's error ∝ 1/√L: √L·error stays roughly constant.
    double lo = INFINITY, hi = 0.0;
    for (size_t i = 0; i < figures[layout].size(); ++i) {
      double scaled = figures[layout][i].rms * std::sqrt(double(particleCounts[i]));
      lo = std::min(lo, scaled);
      hi = std::max(hi, scaled);
    }
    EXPECT_LT(hi / lo, 2.0) << "error·√L should stay roughly constant";
  }
  // Independent groups are unbiased at every L: the mean's deviation is
  // within its standard error (|z| < 4.5 over the 16 θ components).
  for (const Figures &f : figures[0])
    EXPECT_LT(f.maxZ, 4.5);
  // Shared groups are not: at L = 2 the bias stands far out of the noise,
  // and it shrinks like 1/L (÷16 from L = 2 to 32 seen; ÷8 asserted).
  EXPECT_GT(figures[1][0].maxZ, 8.0);
  EXPECT_LT(figures[1][2].bias, figures[1][0].bias / 8);
}

//===----------------------------------------------------------------------===//
// The keyed step
//===----------------------------------------------------------------------===//

TEST(Vages, KeyedStepIsStepWithDrawnNoise) {
  auto jit = buildStep(grbmModel(vagesSpec(4, "inner_steps = 1")));
  ASSERT_TRUE(jit);
  Grbm model = Grbm::random(D, H, 250);
  StepInputs in = grbmInputs(model, 2, false, 450);
  HostTensor key = HostTensor::fromVector<int32_t>({2}, {99, 1});
  std::vector<HostTensor> noise = call(*jit, "draw_noise", {key});
  // ε, inner0 g1 g2, lower g1 g2, then score_particles.u,
  // derivative_particles.u, covariance_particles.u [4, B, H], uniform in
  // [0, 1) and different.
  ASSERT_EQ(noise.size(), 8u);
  for (size_t k = 5; k < 8; ++k) {
    ASSERT_EQ(noise[k].shape(), (std::vector<int64_t>{4, B, H}));
    for (int64_t e = 0; e < noise[k].numElements(); ++e) {
      EXPECT_GE(at(noise[k], e), 0.0);
      EXPECT_LT(at(noise[k], e), 1.0);
    }
  }
  EXPECT_GT(relativeError(noise[5], noise[6]), 0.1);
  EXPECT_GT(relativeError(noise[6], noise[7]), 0.1);
  in.noise = noise;
  expectKeyedStepMatchesNoiseFed(*jit, in, key);
}

} // namespace
