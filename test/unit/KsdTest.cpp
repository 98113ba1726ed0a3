//===- KsdTest.cpp - objective "ksd" against direct formulas --------------===//
//
// The kernelized Stein discrepancy objective (docs/training.md "Objective
// ksd") of the GRBM of TrainStepHarness.h in f64 (B = 8, D = 2, H = 4),
// RBF kernel, fixed bandwidth:
//   (a) method marginal (the exact score −∇F): J against the O(B²)
//       U-statistic written out pair by pair with the kernel's derivatives
//       (1e-10), and the θ gradient against central finite differences of
//       that formula, for a fixed bandwidth and for the median heuristic
//       (h² = the lower median of the B(B−1)/2 squared distances, sorted
//       here);
//   (b) method vages (the VaES score, the VaGES gradient): J against the
//       U-statistic of ŝ and the θ gradient against the published formulas
//       with w = B ∂J/∂ŝ (1e-10), and against central finite differences of
//       the documented surrogate S(θ) (w, c, ḡ held at their values);
//   (c) with q the exact posterior, the mean of the VaGES-KSD gradient over
//       many draws is the exact-score KSD gradient (unbiased);
//   (d) method importance (IS-KSD): J against the U-statistic of the
//       self-normalised importance-sampling score (uniform binary latents),
//       the θ gradient against central finite differences of it.
//
//===----------------------------------------------------------------------===//
#include "TrainStepHarness.h"
#include "VagesReference.h"

#include <algorithm>
#include <cstdio>

using namespace bism;
using namespace bism::trainstep;

namespace {

constexpr double kBandwidth = 0.7;

std::string bandwidthSpec() {
  return "objective = \"ksd\", ksd_bandwidth = " + std::to_string(kBandwidth);
}

/// u(x, y) = k s(x)ᵀs(y) + s(x)ᵀ∇_y k + s(y)ᵀ∇_x k + tr ∇_x∇_y k with
/// k = exp(−‖x − y‖²/(2h²)), ∇_x k = −k (x − y)/h², ∇_y k = k (x − y)/h²,
/// tr ∇_x∇_y k = k (D/h² − ‖x − y‖²/h⁴).
double steinKernel(const double *x, const double *y, const double *sx,
                   const double *sy, double h) {
  double h2 = h * h, distance = 0.0;
  for (int64_t j = 0; j < D; ++j)
    distance += (x[j] - y[j]) * (x[j] - y[j]);
  double k = std::exp(-distance / (2 * h2));
  double u = k * (double(D) / h2 - distance / (h2 * h2));
  for (int64_t j = 0; j < D; ++j) {
    double gradX = -k * (x[j] - y[j]) / h2, gradY = -gradX;
    u += k * sx[j] * sy[j] + sx[j] * gradY + sy[j] * gradX;
  }
  return u;
}

/// The U-statistic 1/(B(B−1)) Σ_{b≠b'} u(x_b, x_b') for scores s.
double ksdStatistic(const HostTensor &x, const HostTensor &s, double h) {
  double sum = 0.0;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < B; ++c)
      if (b != c)
        sum += steinKernel(&x.dataAs<double>()[b * D], &x.dataAs<double>()[c * D],
                           &s.dataAs<double>()[b * D], &s.dataAs<double>()[c * D],
                           h);
  return sum / double(B * (B - 1));
}

/// w = B ∂J/∂s: w_b = 2/(B−1) Σ_{b'≠b} k_bb' [s_b' + (x_b − x_b')/h²].
HostTensor ksdWeights(const HostTensor &x, const HostTensor &s, double h) {
  HostTensor w(ElementType::f64, {B, D});
  double h2 = h * h;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < B; ++c) {
      if (b == c)
        continue;
      double distance = 0.0;
      for (int64_t j = 0; j < D; ++j) {
        double d = at(x, b * D + j) - at(x, c * D + j);
        distance += d * d;
      }
      double k = std::exp(-distance / (2 * h2));
      for (int64_t j = 0; j < D; ++j)
        w.dataAs<double>()[b * D + j] +=
            2.0 / double(B - 1) * k *
            (at(s, c * D + j) + (at(x, b * D + j) - at(x, c * D + j)) / h2);
    }
  return w;
}

/// Central differences of f over every element of the GRBM's θ (W, b, c,
/// logσ), step 1e-5.
template <typename F>
std::vector<HostTensor> finiteDifferences(const Grbm &model, F f) {
  std::vector<HostTensor> out;
  for (int p = 0; p < 4; ++p) {
    Grbm probe = model;
    HostTensor *tensors[] = {&probe.w, &probe.b, &probe.c, &probe.logSigma};
    HostTensor g(ElementType::f64, tensors[p]->shape());
    for (int64_t e = 0; e < g.numElements(); ++e) {
      const double step = 1e-5;
      double saved = tensors[p]->dataAs<double>()[e];
      tensors[p]->dataAs<double>()[e] = saved + step;
      double up = f(probe);
      tensors[p]->dataAs<double>()[e] = saved - step;
      double down = f(probe);
      tensors[p]->dataAs<double>()[e] = saved;
      g.dataAs<double>()[e] = (up - down) / (2 * step);
    }
    out.push_back(g);
  }
  return out;
}

/// θ, Adam moments (zero), t = 0 and v: the marginal step's arguments
/// (objective ksd takes no noise).
std::vector<HostTensor> marginalInputs(const Grbm &model, const HostTensor &v) {
  std::vector<HostTensor> theta = {model.w, model.b, model.c, model.logSigma};
  std::vector<HostTensor> in = theta;
  for (int copy = 0; copy < 2; ++copy)
    for (const HostTensor &t : zerosLike(theta))
      in.push_back(t);
  in.push_back(scalar(0));
  in.push_back(v);
  return in;
}

//===----------------------------------------------------------------------===//
// (a) Method marginal: the exact score
//===----------------------------------------------------------------------===//

TEST(Ksd, MarginalValueIsTheUStatistic) {
  auto jit = buildStep(grbmWithFreeEnergy("method = \"marginal\", " + bandwidthSpec()));
  ASSERT_TRUE(jit);
  Grbm model = Grbm::random(D, H, 500);
  HostTensor v = randomTensor({B, D}, 501, -1.5, 1.5);
  std::vector<HostTensor> out =
      call(*jit, "train_step_with_noise", marginalInputs(model, v));
  ASSERT_EQ(out.size(), 15u); // θ', m', s' (4 each), t', J, ‖∇θ‖
  double expected = ksdStatistic(v, model.score(v), kBandwidth);
  std::printf("exact-score KSD on the batch: %.12g\n", expected);
  EXPECT_NEAR(at(out[13], 0), expected, 1e-10 * std::fabs(expected));
}

TEST(Ksd, MarginalGradientMatchesFiniteDifferences) {
  auto jit = buildStep(grbmWithFreeEnergy("method = \"marginal\", " + bandwidthSpec()));
  ASSERT_TRUE(jit);
  Grbm model = Grbm::random(D, H, 510);
  HostTensor v = randomTensor({B, D}, 511, -1.5, 1.5);
  std::vector<HostTensor> g =
      call(*jit, "theta_gradient_with_noise", marginalInputs(model, v));
  ASSERT_EQ(g.size(), 4u);
  std::vector<HostTensor> fd = finiteDifferences(model, [&](const Grbm &m) {
    return ksdStatistic(v, m.score(v), kBandwidth);
  });
  for (size_t k = 0; k < 4; ++k)
    EXPECT_LT(relativeError(g[k], fd[k]), 1e-7) << kThetaNames[k];
}

/// The median heuristic: h = √(the lower median of the squared distances
/// between distinct points of x), by sorting.
double medianBandwidth(const HostTensor &x) {
  std::vector<double> distances;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = b + 1; c < B; ++c) {
      double d2 = 0.0;
      for (int64_t j = 0; j < D; ++j)
        d2 += std::pow(at(x, b * D + j) - at(x, c * D + j), 2);
      distances.push_back(d2);
    }
  std::sort(distances.begin(), distances.end());
  return std::sqrt(distances[(distances.size() - 1) / 2]);
}

TEST(Ksd, MarginalMedianBandwidth) {
  auto jit = buildStep(grbmWithFreeEnergy(
      "method = \"marginal\", objective = \"ksd\", ksd_bandwidth = \"median\""));
  ASSERT_TRUE(jit);
  Grbm model = Grbm::random(D, H, 515);
  HostTensor v = randomTensor({B, D}, 516, -1.5, 1.5);
  double h = medianBandwidth(v);
  std::vector<HostTensor> out =
      call(*jit, "train_step_with_noise", marginalInputs(model, v));
  ASSERT_EQ(out.size(), 15u);
  double expected = ksdStatistic(v, model.score(v), h);
  std::printf("median bandwidth %.6f, KSD %.12g\n", h, expected);
  EXPECT_NEAR(at(out[13], 0), expected, 1e-10 * std::fabs(expected));
  // The bandwidth depends on the data only: the gradient is the fixed-h one.
  std::vector<HostTensor> g =
      call(*jit, "theta_gradient_with_noise", marginalInputs(model, v));
  ASSERT_EQ(g.size(), 4u);
  std::vector<HostTensor> fd = finiteDifferences(model, [&](const Grbm &m) {
    return ksdStatistic(v, m.score(v), h);
  });
  for (size_t k = 0; k < 4; ++k)
    EXPECT_LT(relativeError(g[k], fd[k]), 1e-7) << kThetaNames[k];
}

//===----------------------------------------------------------------------===//
// (b) Method vages: the VaES score, the VaGES gradient
//===----------------------------------------------------------------------===//

HostTensor hardSample(const HostTensor &logits, const HostTensor &u) {
  HostTensor h(ElementType::f64, {B, H});
  for (int64_t e = 0; e < B * H; ++e)
    h.dataAs<double>()[e] = at(u, e) < sigmoid(at(logits, e)) ? 1.0 : 0.0;
  return h;
}

HostTensor particle(const HostTensor &all, int64_t i) {
  HostTensor out(ElementType::f64, {B, H});
  for (int64_t e = 0; e < B * H; ++e)
    out.dataAs<double>()[e] = at(all, i * B * H + e);
  return out;
}

TEST(Ksd, VagesMatchesFormulaAndSurrogateFiniteDifferences) {
  const int64_t L = 3;
  auto jit = buildStep(grbmModel("method = \"vages\", inner_steps = 0, particles = 3, " +
                                 bandwidthSpec()));
  ASSERT_TRUE(jit);
  Grbm model = Grbm::random(D, H, 520);
  // State; noise: lower g1, g2, then score, derivative, covariance u.
  StepInputs in;
  in.theta = {model.w, model.b, model.c, model.logSigma};
  in.phi = {randomTensor({D, H}, 521), randomTensor({H}, 522)};
  in.mTheta = in.sTheta = zerosLike(in.theta);
  in.mPhi = in.sPhi = zerosLike(in.phi);
  in.v = randomTensor({B, D}, 523, -1.5, 1.5);
  in.noise = {randomTensor({B, H}, 524, -1.0, 2.0),
              randomTensor({B, H}, 525, -1.0, 2.0)};
  std::vector<HostTensor> u;
  for (unsigned g = 0; g < 3; ++g)
    u.push_back(randomTensor({L, B, H}, 526 + g, 0.0, 1.0));
  in.noise.insert(in.noise.end(), u.begin(), u.end());
  const HostTensor &x = in.v; // KSD does not noise the data
  HostTensor logits = affine(x, in.phi[0], in.phi[1]);
  std::vector<HostTensor> hs[3];
  for (int g = 0; g < 3; ++g)
    for (int64_t i = 0; i < L; ++i)
      hs[g].push_back(hardSample(logits, particle(u[g], i)));
  ParticleGroups groups{hs[0], hs[1], hs[2]};

  HostTensor sHat = vaesScore(model, x, groups.score);
  HostTensor w = ksdWeights(x, sHat, kBandwidth);
  double expectedJ = ksdStatistic(x, sHat, kBandwidth);
  std::vector<HostTensor> expected = vagesGradientReference(model, x, w, groups);

  std::vector<HostTensor> r = call(*jit, "train_step_with_noise", in.all());
  ASSERT_FALSE(r.empty());
  StepOutputs out = unpack(r, 4, 2);
  EXPECT_NEAR(out.j, expectedJ, 1e-10 * std::fabs(expectedJ));
  std::vector<HostTensor> g = call(*jit, "theta_gradient_with_noise", in.all());
  ASSERT_EQ(g.size(), 4u);
  for (size_t k = 0; k < 4; ++k)
    EXPECT_LT(relativeError(g[k], expected[k]), 1e-10) << kThetaNames[k];

  // The surrogate S(θ) = mean_b Σ_i [w_bᵀ g_b(d_i; θ)/L + c_ib log p̃_b(c_i; θ)/(L−1)],
  // c_ib = w_bᵀ(g_b(c_i) − ḡ_b) at the θ of the step, differentiated by
  // central differences.
  HostTensor gBar = vaesScore(model, x, groups.covariance);
  std::vector<std::vector<double>> c(L, std::vector<double>(B, 0.0));
  for (int64_t i = 0; i < L; ++i)
    for (int64_t b = 0; b < B; ++b) {
      std::vector<double> gi = logJointScore(model, x, groups.covariance[i], b);
      for (int64_t j = 0; j < D; ++j)
        c[i][b] += at(w, b * D + j) * (gi[j] - at(gBar, b * D + j));
    }
  std::vector<HostTensor> fd = finiteDifferences(model, [&](const Grbm &m) {
    double s = 0.0;
    for (int64_t i = 0; i < L; ++i) {
      HostTensor energy = m.energy(x, groups.covariance[i]);
      for (int64_t b = 0; b < B; ++b) {
        std::vector<double> gd = logJointScore(m, x, groups.derivative[i], b);
        for (int64_t j = 0; j < D; ++j)
          s += at(w, b * D + j) * gd[j] / double(L * B);
        s += c[i][b] * -at(energy, b) / (double(L - 1) * double(B));
      }
    }
    return s;
  });
  for (size_t k = 0; k < 4; ++k)
    EXPECT_LT(relativeError(g[k], fd[k]), 1e-7) << kThetaNames[k];
}

//===----------------------------------------------------------------------===//
// (c) Unbiased with the exact posterior
//===----------------------------------------------------------------------===//

TEST(Ksd, VagesMeanWithExactPosteriorIsTheExactScoreGradient) {
  Grbm model = Grbm::random(D, H, 530);
  HostTensor v = randomTensor({B, D}, 531, -1.5, 1.5);
  auto marginal =
      buildStep(grbmWithFreeEnergy("method = \"marginal\", " + bandwidthSpec()));
  auto vages = buildStep(grbmModel(
      "method = \"vages\", inner_steps = 0, particles = 4, " + bandwidthSpec()));
  ASSERT_TRUE(marginal && vages);
  std::vector<HostTensor> exact =
      call(*marginal, "theta_gradient_with_noise", marginalInputs(model, v));
  ASSERT_EQ(exact.size(), 4u);
  StepInputs in = grbmInputs(model, 1, false, 532);
  in.phi = {model.w, model.c}; // logits c + xW: q = p(h | x)
  in.v = v;
  const int draws = 2000;
  std::vector<double> sum, sumSq, exactFlat;
  for (const HostTensor &t : exact)
    for (int64_t e = 0; e < t.numElements(); ++e)
      exactFlat.push_back(at(t, e));
  sum.assign(exactFlat.size(), 0.0);
  sumSq.assign(exactFlat.size(), 0.0);
  for (int key = 0; key < draws; ++key) {
    in.noise = call(*vages, "draw_noise",
                    {HostTensor::fromVector<int32_t>({2}, {4048 + key, 3})});
    ASSERT_EQ(in.noise.size(), 5u); // lower g1 g2, three groups' u
    std::vector<HostTensor> g = call(*vages, "theta_gradient_with_noise", in.all());
    size_t e = 0;
    for (const HostTensor &t : g)
      for (int64_t i = 0; i < t.numElements(); ++i, ++e) {
        double deviation = at(t, i) - exactFlat[e];
        sum[e] += deviation;
        sumSq[e] += deviation * deviation;
      }
  }
  double maxZ = 0.0, bias = 0.0, norm = 0.0;
  for (size_t e = 0; e < sum.size(); ++e) {
    double mean = sum[e] / draws;
    double se = std::sqrt(std::max(sumSq[e] / draws - mean * mean, 0.0) / draws);
    if (se > 0.0)
      maxZ = std::max(maxZ, std::fabs(mean) / se);
    bias += mean * mean;
    norm += exactFlat[e] * exactFlat[e];
  }
  std::printf("VaGES-KSD, exact posterior, L = 4, %d draws: relative error of "
              "the mean %.5f, max |mean/se| %.2f\n",
              draws, std::sqrt(bias / norm), maxZ);
  EXPECT_LT(maxZ, 4.5);
}

//===----------------------------------------------------------------------===//
// (d) Method importance: the self-normalised importance-sampling score
//===----------------------------------------------------------------------===//

/// s_b = Σ_i ω_i g_b(h_i), ω = softmax_i(−E(x_b, h_i)), h_i = [u_i < ½]:
/// the score of F̂ = −logsumexp_i(−E_i) + const.
HostTensor importanceScore(const Grbm &m, const HostTensor &x,
                           const HostTensor &u, int64_t L) {
  std::vector<HostTensor> hs, energies;
  for (int64_t i = 0; i < L; ++i) {
    HostTensor h(ElementType::f64, {B, H});
    for (int64_t e = 0; e < B * H; ++e)
      h.dataAs<double>()[e] = at(u, i * B * H + e) < 0.5 ? 1.0 : 0.0;
    energies.push_back(m.energy(x, h));
    hs.push_back(h);
  }
  HostTensor s(ElementType::f64, {B, D});
  for (int64_t b = 0; b < B; ++b) {
    double lowest = INFINITY, total = 0.0;
    for (const HostTensor &e : energies)
      lowest = std::min(lowest, at(e, b));
    for (const HostTensor &e : energies)
      total += std::exp(-(at(e, b) - lowest));
    for (int64_t i = 0; i < L; ++i) {
      double weight = std::exp(-(at(energies[i], b) - lowest)) / total;
      std::vector<double> g = logJointScore(m, x, hs[i], b);
      for (int64_t j = 0; j < D; ++j)
        s.dataAs<double>()[b * D + j] += weight * g[j];
    }
  }
  return s;
}

TEST(Ksd, ImportanceMatchesFormulaAndFiniteDifferences) {
  const int64_t L = 3;
  auto jit = buildStep(grbmModel("method = \"importance\", particles = 3, " +
                                 bandwidthSpec()));
  ASSERT_TRUE(jit);
  Grbm model = Grbm::random(D, H, 540);
  HostTensor v = randomTensor({B, D}, 541, -1.5, 1.5);
  HostTensor u = randomTensor({L, B, H}, 542, 0.0, 1.0);
  std::vector<HostTensor> in = marginalInputs(model, v);
  in.push_back(u);
  std::vector<HostTensor> out = call(*jit, "train_step_with_noise", in);
  ASSERT_EQ(out.size(), 15u);
  double expected = ksdStatistic(v, importanceScore(model, v, u, L), kBandwidth);
  EXPECT_NEAR(at(out[13], 0), expected, 1e-10 * std::fabs(expected));
  std::vector<HostTensor> g = call(*jit, "theta_gradient_with_noise", in);
  ASSERT_EQ(g.size(), 4u);
  std::vector<HostTensor> fd = finiteDifferences(model, [&](const Grbm &m) {
    return ksdStatistic(v, importanceScore(m, v, u, L), kBandwidth);
  });
  for (size_t k = 0; k < 4; ++k)
    EXPECT_LT(relativeError(g[k], fd[k]), 1e-7) << kThetaNames[k];
  // The noise: particles.u [L,B,H] uniform in [0, 1), nothing else.
  std::vector<HostTensor> noise =
      call(*jit, "draw_noise", {HostTensor::fromVector<int32_t>({2}, {5, 6})});
  ASSERT_EQ(noise.size(), 1u);
  ASSERT_EQ(noise[0].shape(), (std::vector<int64_t>{L, B, H}));
  for (int64_t e = 0; e < noise[0].numElements(); ++e) {
    EXPECT_GE(at(noise[0], e), 0.0);
    EXPECT_LT(at(noise[0], e), 1.0);
  }
}

} // namespace
