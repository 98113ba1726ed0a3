//===- VagesTest.cpp - method "vages" against direct formulas -------------===//
//
// The step --bism-build-train-step emits for spec method = "vages" (K plain
// φ steps, then the θ gradient from L posterior particles; docs/training.md
// "Method vages"), compiled with JitModule in f64 (B = 8, D = 2, H = 4):
//   (a) J and the θ gradient against a direct C++ evaluation of the
//       formulas (mean over particles of r_bᵀ ∂g_i/∂θ plus the covariance
//       term), 1e-10, for hard and relaxed Bernoulli particles, a Gaussian
//       posterior and MDSM;
//   (b) the lower level (K plain φ steps, lower_before/after) equals method
//       "bism" with N = 0 on the same noise, 1e-12;
//   (c) with q the exact GRBM posterior (A = W, d = c), K = 0 and hard
//       particles, the VaGES θ gradient converges to the exact-marginal DSM
//       gradient (method "marginal") like 1/√L (L = 10, 100, 1000, fixed
//       keys);
//   and train_step(key) = train_step_with_noise(draw_noise(key)).
//
//===----------------------------------------------------------------------===//
#include "TrainStepHarness.h"

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

/// J and the VaGES θ gradient of the GRBM for the particles `hs` at x = ṽ,
/// written out (docs/training.md "Method vages"), with P_j = e^{−2 logσ_j}:
///   g_i = ∇_x log p̃(x, h_i) = −(x − b) ⊙ P + W h_i,  ŝ = mean_i g_i,
///   r_b = a_b ŝ_b + t_b,  w_b = a_b r_b,  J = mean_b ½‖r_b‖²,
///   c_ib = w_bᵀ(g_ib − ŝ_b),
///   ∇θ = (1/B) Σ_b [ (1/L) Σ_i w_bᵀ ∂g_ib/∂θ + (1/(L−1)) Σ_i c_ib ∇θ log p̃_ib ]
/// (DSM: a = 1, t = ε/σ; MDSM: a_b = 1/σ_b, t = ε/σ0²)
/// with ∂g_j/∂b_j = P_j, ∂g_j/∂logσ_j = 2(x_j − b_j)P_j, ∂g_j/∂W_jk = h_k,
/// and ∇θ log p̃ = ((x − b)P, (x − b)²P, h, x hᵀ) for (b, logσ, c, W).
VagesReference vagesReference(const Grbm &m, const HostTensor &x,
                              const std::vector<double> &a,
                              const HostTensor &t,
                              const std::vector<HostTensor> &hs) {
  const double L = double(hs.size());
  VagesReference out;
  out.gradient = {HostTensor(ElementType::f64, {D, H}),
                  HostTensor(ElementType::f64, {D}),
                  HostTensor(ElementType::f64, {H}),
                  HostTensor(ElementType::f64, {D})};
  double *dW = out.gradient[0].dataAs<double>();
  double *db = out.gradient[1].dataAs<double>();
  double *dc = out.gradient[2].dataAs<double>();
  double *dls = out.gradient[3].dataAs<double>();
  for (int64_t b = 0; b < B; ++b) {
    std::vector<std::vector<double>> g(hs.size(), std::vector<double>(D));
    std::vector<double> sHat(D, 0.0), r(D), w(D), centred(D);
    for (int64_t j = 0; j < D; ++j)
      centred[j] = at(x, b * D + j) - at(m.b, j);
    for (size_t i = 0; i < hs.size(); ++i)
      for (int64_t j = 0; j < D; ++j) {
        double value = -centred[j] * m.P(j);
        for (int64_t k = 0; k < H; ++k)
          value += m.W(j, k) * at(hs[i], b * H + k);
        g[i][j] = value;
        sHat[j] += value / L;
      }
    for (int64_t j = 0; j < D; ++j) {
      r[j] = a[b] * sHat[j] + at(t, b * D + j);
      w[j] = a[b] * r[j];
      out.j += 0.5 * r[j] * r[j] / double(B);
    }
    for (size_t i = 0; i < hs.size(); ++i) {
      const double mean = 1.0 / (L * double(B));
      double c = 0.0;
      for (int64_t j = 0; j < D; ++j)
        c += w[j] * (g[i][j] - sHat[j]);
      const double cov = c / ((L - 1.0) * double(B));
      for (int64_t j = 0; j < D; ++j) {
        db[j] += mean * w[j] * m.P(j) + cov * centred[j] * m.P(j);
        dls[j] += mean * w[j] * 2 * centred[j] * m.P(j) +
                  cov * centred[j] * centred[j] * m.P(j);
        for (int64_t k = 0; k < H; ++k) {
          double hk = at(hs[i], b * H + k);
          dW[j * H + k] += mean * w[j] * hk + cov * at(x, b * D + j) * hk;
        }
      }
      for (int64_t k = 0; k < H; ++k)
        dc[k] += cov * at(hs[i], b * H + k);
    }
  }
  return out;
}

/// DSM: a = 1, t = ε/σ.
VagesReference dsmReference(const Grbm &m, const HostTensor &x,
                            const HostTensor &eps, double sigma,
                            const std::vector<HostTensor> &hs) {
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

TEST(Vages, HardParticlesMatchFormula) {
  for (int64_t L : {2, 3, 5}) {
    auto jit = buildStep(grbmModel(vagesSpec(L, "inner_steps = 0")));
    ASSERT_TRUE(jit);
    Grbm model = Grbm::random(D, H, 200 + unsigned(L));
    HostTensor u = randomTensor({L, B, H}, 300 + unsigned(L), 0.0, 1.0);
    StepInputs in = grbmVagesInputs(model, {u}, 400 + unsigned(L));
    HostTensor x = Grbm::noised(in.v, in.noise[0], 0.3);
    HostTensor logits = affine(x, in.phi[0], in.phi[1]);
    std::vector<HostTensor> hs;
    for (int64_t i = 0; i < L; ++i)
      hs.push_back(hardSample(logits, particle(u, i)));
    SCOPED_TRACE("L = " + std::to_string(L));
    expectMatchesReference(*jit, in, dsmReference(model, x, in.noise[0], 0.3, hs),
                           4, 2);
  }
}

TEST(Vages, RelaxedParticlesMatchFormula) {
  const int64_t L = 3;
  const double tau = 0.5;
  auto jit = buildStep(grbmModel(
      vagesSpec(L, "inner_steps = 0, vages_sampling = \"relaxed\""), tau));
  ASSERT_TRUE(jit);
  Grbm model = Grbm::random(D, H, 210);
  HostTensor g1 = randomTensor({L, B, H}, 310, -1.0, 2.0);
  HostTensor g2 = randomTensor({L, B, H}, 311, -1.0, 2.0);
  StepInputs in = grbmVagesInputs(model, {g1, g2}, 410);
  HostTensor x = Grbm::noised(in.v, in.noise[0], 0.3);
  HostTensor logits = affine(x, in.phi[0], in.phi[1]);
  std::vector<HostTensor> hs;
  for (int64_t i = 0; i < L; ++i)
    hs.push_back(relaxedSample(logits, particle(g1, i), particle(g2, i), tau));
  expectMatchesReference(*jit, in, dsmReference(model, x, in.noise[0], 0.3, hs),
                         4, 2);
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
  HostTensor xi = randomTensor({L, B, H}, 324, -2.0, 2.0);
  in.noise = {randomTensor({B, D}, 325, -1.5, 1.5),
              randomTensor({B, H}, 326, -2.0, 2.0), xi};
  HostTensor x = Grbm::noised(in.v, in.noise[0], 0.3);
  HostTensor mu = affine(x, in.phi[0], in.phi[1]);
  std::vector<HostTensor> hs;
  for (int64_t i = 0; i < L; ++i) {
    HostTensor h = mu;
    for (int64_t e = 0; e < B * H; ++e)
      h.dataAs<double>()[e] += std::exp(at(in.phi[2], e % H)) * at(xi, i * B * H + e);
    hs.push_back(h);
  }
  VagesReference expected = dsmReference(model, x, in.noise[0], 0.3, hs);
  expected.gradient.pop_back(); // no logσ
  expectMatchesReference(*jit, in, expected, 3, 3);
}

// MDSM: x_b = v_b + σ_b ε_b, r_b = ŝ_b/σ_b + ε_b/σ0², w_b = r_b/σ_b.
TEST(Vages, MdsmMatchesFormula) {
  const int64_t L = 3;
  auto jit = buildStep(grbmModel(
      "method = \"vages\", objective = \"mdsm\", sigma_min = 0.1, "
      "sigma_max = 0.8, sigma0 = 0.5, inner_steps = 0, particles = 3"));
  ASSERT_TRUE(jit);
  Grbm model = Grbm::random(D, H, 215);
  HostTensor u = randomTensor({L, B, H}, 315, 0.0, 1.0);
  StepInputs in = grbmVagesInputs(model, {u}, 415);
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
  std::vector<HostTensor> hs;
  for (int64_t i = 0; i < L; ++i)
    hs.push_back(hardSample(logits, particle(u, i)));
  expectMatchesReference(*jit, in, vagesReference(model, x, a, t, hs), 4, 2);
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
  in.noise.push_back(randomTensor({2, B, H}, 432, 0.0, 1.0));
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

TEST(Vages, ExactPosteriorConvergesToExactMarginalGradient) {
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
  // particles from draw_noise(key) for 8 fixed keys; the relative error of
  // the whole θ gradient, RMS over the keys.
  const int64_t particleCounts[] = {10, 100, 1000};
  std::vector<double> errors;
  for (int64_t L : particleCounts) {
    auto jit = buildStep(grbmModel(vagesSpec(L, "inner_steps = 0")));
    ASSERT_TRUE(jit);
    StepInputs in = grbmInputs(model, 1, false, 440);
    in.phi = {model.w, model.c};
    in.v = v;
    double sumSq = 0.0;
    const int keys = 8;
    for (int key = 0; key < keys; ++key) {
      HostTensor k = HostTensor::fromVector<int32_t>({2}, {2024 + key, 7});
      in.noise = call(*jit, "draw_noise", {k});
      ASSERT_EQ(in.noise.size(), 4u);
      in.noise[0] = eps;
      std::vector<HostTensor> g =
          call(*jit, "theta_gradient_with_noise", in.all());
      ASSERT_EQ(g.size(), 4u);
      std::vector<HostTensor> diff;
      for (size_t p = 0; p < 4; ++p)
        diff.push_back(difference(g[p], exact[p]));
      sumSq += sumSquares(diff) / (exactNorm * exactNorm);
    }
    double rms = std::sqrt(sumSq / keys);
    errors.push_back(rms);
    std::printf("VaGES exact posterior, L = %4lld: RMS relative gradient "
                "error %.4g (x sqrt(L) = %.3g)\n",
                (long long)L, rms, rms * std::sqrt(double(L)));
  }
  // Standard error ∝ 1/√L: each tenfold L shrinks it by √10 ≈ 3.2.
  EXPECT_LT(errors[1], errors[0] / 2);
  EXPECT_LT(errors[2], errors[1] / 2);
  double lo = INFINITY, hi = 0.0;
  for (size_t i = 0; i < errors.size(); ++i) {
    double scaled = errors[i] * std::sqrt(double(particleCounts[i]));
    lo = std::min(lo, scaled);
    hi = std::max(hi, scaled);
  }
  EXPECT_LT(hi / lo, 3.0) << "error·√L should stay roughly constant";
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
  // ε, inner0 g1 g2, lower g1 g2, particles.u [4, B, H] uniform in [0, 1).
  ASSERT_EQ(noise.size(), 6u);
  ASSERT_EQ(noise[5].shape(), (std::vector<int64_t>{4, B, H}));
  for (int64_t e = 0; e < noise[5].numElements(); ++e) {
    EXPECT_GE(at(noise[5], e), 0.0);
    EXPECT_LT(at(noise[5], e), 1.0);
  }
  in.noise = noise;
  expectKeyedStepMatchesNoiseFed(*jit, in, key);
}

} // namespace
