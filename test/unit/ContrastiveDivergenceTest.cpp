//===- ContrastiveDivergenceTest.cpp - methods "cd" and "pcd" -------------===//
//
// The step --bism-build-train-step emits for spec method = "cd" / "pcd"
// (docs/training.md "Methods cd and pcd"), compiled with JitModule in f64,
// on the harness's GRBM with its free energy and a Gibbs sweep, checked
// against a direct C++ computation with the same noise: the Gibbs sweeps
// (h = [u_h < sigmoid(c + vW)], v' = b + σ² ⊙ (W h) + σ ⊙ z_v) and
// ∇θ [mean F(v) − mean F(v_k)] from the closed forms
//   ∂F/∂W = −vᵀ sigmoid(c + vW), ∂F/∂c = −sigmoid(c + vW),
//   ∂F/∂b = −(v − b) e^{−2 logσ}, ∂F/∂logσ = −(v − b)² e^{−2 logσ},
// to 1e-10.
//
//===----------------------------------------------------------------------===//
#include "TrainStepHarness.h"

using namespace bism;
using namespace bism::trainstep;

namespace {

/// The harness's GRBM with `free_energy @free_energy [θ]` and `gibbs @gibbs
/// [θ]` added, spec `spec`.
std::string grbmWithGibbs(const std::string &spec) {
  return grbmWithFreeEnergy(spec, "\n    gibbs @gibbs [@W, @b, @c, @logsigma]",
                            R"mlir(
func.func private @gibbs(%v: !v, %w: !w, %b: !d, %c: !k, %ls: !d, %u: !h, %z: !v) -> !v {
  %vw = bism.matmul %v, %w : !v, !w -> !h
  %cb = bism.broadcast %c : !k to !h
  %pre = bism.add %vw, %cb : !h
  %p = bism.sigmoid %pre : !h
  %on = bism.compare lt, %u, %p : !h
  %one = bism.constant dense<1.0> : !h
  %zero = bism.constant dense<0.0> : !h
  %hs = bism.select %on, %one, %zero : !h
  %wh = bism.matmul %hs, %w {transpose_rhs} : !h, !w -> !v
  %s = bism.exp %ls : !d
  %var = bism.square %s : !d
  %varb = bism.broadcast %var : !d to !v
  %sb = bism.broadcast %s : !d to !v
  %bb = bism.broadcast %b : !d to !v
  %shift = bism.mul %wh, %varb : !v
  %mean = bism.add %bb, %shift : !v
  %spread = bism.mul %z, %sb : !v
  %next = bism.add %mean, %spread : !v
  return %next : !v
}
)mlir");
}

/// One Gibbs sweep in C++ with the given noise.
HostTensor gibbsSweep(const Grbm &m, const HostTensor &v, const HostTensor &u,
                      const HostTensor &z) {
  HostTensor h(ElementType::f64, {B, H});
  for (int64_t i = 0; i < B; ++i)
    for (int64_t k = 0; k < H; ++k)
      h.dataAs<double>()[i * H + k] =
          at(u, i * H + k) < sigmoid(m.pre(v, i, k)) ? 1.0 : 0.0;
  HostTensor next(ElementType::f64, {B, D});
  for (int64_t i = 0; i < B; ++i)
    for (int64_t j = 0; j < D; ++j) {
      double sigma = std::exp(at(m.logSigma, j)), wh = 0.0;
      for (int64_t k = 0; k < H; ++k)
        wh += m.W(j, k) * at(h, i * H + k);
      next.dataAs<double>()[i * D + j] =
          at(m.b, j) + sigma * sigma * wh + sigma * at(z, i * D + j);
    }
  return next;
}

/// ∇θ mean_b F(x_b), θ = (W, b, c, logσ), from the closed forms.
std::vector<HostTensor> meanFreeEnergyGradient(const Grbm &m, const HostTensor &x) {
  std::vector<HostTensor> g = zerosLike({m.w, m.b, m.c, m.logSigma});
  double *dW = g[0].dataAs<double>(), *db = g[1].dataAs<double>(),
         *dc = g[2].dataAs<double>(), *dls = g[3].dataAs<double>();
  for (int64_t i = 0; i < B; ++i) {
    for (int64_t k = 0; k < H; ++k) {
      double s = sigmoid(m.pre(x, i, k));
      dc[k] -= s / B;
      for (int64_t j = 0; j < D; ++j)
        dW[j * H + k] -= at(x, i * D + j) * s / B;
    }
    for (int64_t j = 0; j < D; ++j) {
      double centred = at(x, i * D + j) - at(m.b, j);
      db[j] -= centred * m.P(j) / B;
      dls[j] -= centred * centred * m.P(j) / B;
    }
  }
  return g;
}

double meanFreeEnergy(const Grbm &m, const HostTensor &x) {
  HostTensor f = m.freeEnergy(x);
  double sum = 0.0;
  for (int64_t i = 0; i < B; ++i)
    sum += at(f, i);
  return sum / B;
}

/// Per sweep: u_h uniform in [0, 1), z_v in [−1.5, 1.5].
std::vector<HostTensor> gibbsNoise(int64_t sweeps, unsigned seed) {
  std::vector<HostTensor> noise;
  for (int64_t i = 0; i < sweeps; ++i) {
    noise.push_back(randomTensor({B, H}, seed + 2 * unsigned(i), 0.0, 1.0));
    noise.push_back(randomTensor({B, D}, seed + 2 * unsigned(i) + 1, -1.5, 1.5));
  }
  return noise;
}

/// θ, m = s = 0, t = 0, [chain], v, noise.
std::vector<HostTensor> cdInputs(const std::vector<HostTensor> &theta,
                                 const HostTensor *chain, const HostTensor &v,
                                 const std::vector<HostTensor> &noise) {
  std::vector<HostTensor> in = theta;
  for (int copy = 0; copy < 2; ++copy)
    for (const HostTensor &t : zerosLike(theta))
      in.push_back(t);
  in.push_back(scalar(0));
  if (chain)
    in.push_back(*chain);
  in.push_back(v);
  in.insert(in.end(), noise.begin(), noise.end());
  return in;
}

/// Checks the step against C++ for k sweeps from `start` (v for CD, the
/// chain for PCD).
void checkStep(JitModule &jit, const Grbm &model, const HostTensor &v,
               const HostTensor *chain, int64_t k, unsigned seed) {
  std::vector<HostTensor> theta = {model.w, model.b, model.c, model.logSigma};
  std::vector<HostTensor> noise = gibbsNoise(k, seed);
  HostTensor vk = chain ? *chain : v;
  for (int64_t i = 0; i < k; ++i)
    vk = gibbsSweep(model, vk, noise[2 * i], noise[2 * i + 1]);
  std::vector<HostTensor> positive = meanFreeEnergyGradient(model, v);
  std::vector<HostTensor> negative = meanFreeEnergyGradient(model, vk);
  std::vector<HostTensor> expected;
  for (size_t p = 0; p < 4; ++p)
    expected.push_back(difference(positive[p], negative[p]));
  double gap = meanFreeEnergy(model, v) - meanFreeEnergy(model, vk);

  std::vector<HostTensor> in = cdInputs(theta, chain, v, noise);
  std::vector<HostTensor> g = call(jit, "theta_gradient_with_noise", in);
  ASSERT_EQ(g.size(), 4u);
  for (size_t p = 0; p < 4; ++p)
    EXPECT_LT(relativeError(g[p], expected[p]), 1e-10) << kThetaNames[p];

  std::vector<HostTensor> r = call(jit, "train_step_with_noise", in);
  size_t extra = chain ? 1 : 0;
  ASSERT_EQ(r.size(), 13 + extra + 2);
  EXPECT_NEAR(r[13 + extra].elementAsDouble(0), gap, 1e-10 * (1 + std::fabs(gap)))
      << "fe_gap";
  double norm = std::sqrt(sumSquares(expected));
  EXPECT_NEAR(r[14 + extra].elementAsDouble(0), norm, 1e-10 * norm)
      << "grad_norm_theta";
  EXPECT_EQ(r[12].elementAsDouble(0), 1.0) << "t_theta";
  // One Adam step from zero moments: θ' = θ − lr · g / (|g| + ε).
  for (size_t p = 0; p < 4; ++p)
    for (int64_t i = 0; i < g[p].numElements(); ++i) {
      double gi = at(expected[p], i);
      EXPECT_NEAR(at(r[p], i), at(theta[p], i) - 1e-3 * gi / (std::fabs(gi) + 1e-8),
                  1e-10)
          << kThetaNames[p] << i;
    }
  if (chain)
    EXPECT_LT(relativeError(r[13], vk), 1e-12) << "the new chain is v_k";
}

TEST(ContrastiveDivergence, Cd1GradientMatchesDirectComputation) {
  auto jit = buildStep(grbmWithGibbs("method = \"cd\""));
  ASSERT_TRUE(jit);
  for (unsigned seed : {31u, 32u}) {
    Grbm model = Grbm::random(D, H, seed);
    HostTensor v = randomTensor({B, D}, seed + 100, -1.5, 1.5);
    checkStep(*jit, model, v, nullptr, 1, seed + 200);
  }
}

TEST(ContrastiveDivergence, Cd3SweepsFromTheData) {
  auto jit = buildStep(grbmWithGibbs("method = \"cd\", gibbs_steps = 3"));
  ASSERT_TRUE(jit);
  Grbm model = Grbm::random(D, H, 41);
  HostTensor v = randomTensor({B, D}, 141, -1.5, 1.5);
  checkStep(*jit, model, v, nullptr, 3, 241);
}

TEST(ContrastiveDivergence, PcdRunsTheCarriedChainAndReturnsIt) {
  auto jit = buildStep(grbmWithGibbs("method = \"pcd\", gibbs_steps = 2"));
  ASSERT_TRUE(jit);
  Grbm model = Grbm::random(D, H, 51);
  HostTensor v = randomTensor({B, D}, 151, -1.5, 1.5);
  HostTensor chain = randomTensor({B, D}, 152, -2.0, 2.0);
  checkStep(*jit, model, v, &chain, 2, 251);
}

TEST(ContrastiveDivergence, DrawNoiseGivesUniformAndNormalPerSweep) {
  auto jit = buildStep(grbmWithGibbs("method = \"cd\", gibbs_steps = 2"));
  ASSERT_TRUE(jit);
  HostTensor key(ElementType::i32, {2});
  key.dataAs<int32_t>()[0] = 7;
  key.dataAs<int32_t>()[1] = 9;
  std::vector<HostTensor> noise = call(*jit, "draw_noise", {key});
  ASSERT_EQ(noise.size(), 4u);
  for (size_t i : {0u, 2u}) {
    ASSERT_EQ(noise[i].shape(), (std::vector<int64_t>{B, H}));
    for (int64_t e = 0; e < noise[i].numElements(); ++e) {
      EXPECT_GE(at(noise[i], e), 0.0);
      EXPECT_LT(at(noise[i], e), 1.0);
    }
  }
  for (size_t i : {1u, 3u})
    EXPECT_EQ(noise[i].shape(), (std::vector<int64_t>{B, D}));
}

} // namespace
