//===- BidvlTest.cpp - method "bidvl" against direct formulas -------------===//
//
// A small BiDVL model in f64 (B = 4 images of D = 3 pixels, H = 2 latents):
// energy E(v) = ½‖v‖² − Σ_k softplus((vA + c)_k) (θ = A, c), Gaussian
// inference model μ = vP + b, logσ = s (φ1 = P, b, s), generator
// G(h) = tanh(hW + o) (φ2 = W, o). Written out in C++ here:
//   (a) the upper loss J = mean E(v) − mean E(G(ĥ)) and its θ gradient
//       (central finite differences), 1e-10 / 1e-7;
//   (b) the lower loss (docs/training.md "Method bidvl") with the basic
//       ratio and with the bias term, 1e-10, and its φ gradient (one SGD
//       step of size 1 of @M__phi_step) against central differences of the
//       formula with the encoder held at its value in the latent
//       reconstruction (the stop_gradient), 1e-7;
//   (c) the step's order: θ first, then the K φ steps at the new θ
//       (lower_before / lower_after at (θ', φ) and (θ', φ''));
//   (d) spectral_norm = ["A"]: the energy sees A / (uᵀAv), u, v from 20
//       power iterations (written out here too), in J (1e-10) and its
//       gradient (u, v held; finite differences, 1e-7); uᵀAv is within 1e-4
//       of the exact σ(A) (closed form for the 3×2 A);
//   (e) unroll_steps = N = 2: ∇θ of the step against central differences
//       of θ ↦ L_up(θ, φᴺ(θ)) = mean E_θ(v) − mean E_θ(G(ĥ; φᴺ(θ))), φᴺ by
//       plain calls of the compiled step function (@dvl__unroll_step, or
//       @dvl__phi_step for unroll_optimizer = "same") at each perturbed θ
//       and L_up by the formulas here, 1e-7 (with spectral_norm too, u, v
//       held); φ continuing from φᴺ; the noise names; N = 0 bit for bit the
//       step without the field.
//
//===----------------------------------------------------------------------===//
#include "TrainStepHarness.h"

#include "bism/Dialect/Bism.h"
#include "bism/Train/BuildTrainStep.h"
#include "bism/Train/Model.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>

using namespace bism;
using namespace bism::trainstep;

namespace {

constexpr int64_t kB = 4, kD = 3, kH = 2;

std::string bidvlModel(const std::string &spec) {
  return R"mlir(
!v = tensor<4x3xf64>
!h = tensor<4x2xf64>
func.func private @energy(%v: !v, %a: tensor<3x2xf64>, %c: tensor<2xf64>) -> tensor<4xf64> {
  %half = bism.constant dense<0.5> : tensor<4xf64>
  %sq = bism.square %v : !v
  %q = bism.reduce_sum %sq axes [1] : !v -> tensor<4xf64>
  %qh = bism.mul %q, %half : tensor<4xf64>
  %va = bism.matmul %v, %a : !v, tensor<3x2xf64> -> !h
  %cb = bism.broadcast %c : tensor<2xf64> to !h
  %pre = bism.add %va, %cb : !h
  %sp = bism.softplus %pre : !h
  %s = bism.reduce_sum %sp axes [1] : !h -> tensor<4xf64>
  %e = bism.sub %qh, %s : tensor<4xf64>
  return %e : tensor<4xf64>
}
func.func private @encoder(%v: !v, %p: tensor<3x2xf64>, %b: tensor<2xf64>, %s: tensor<2xf64>) -> (!h, !h) {
  %vp = bism.matmul %v, %p : !v, tensor<3x2xf64> -> !h
  %bb = bism.broadcast %b : tensor<2xf64> to !h
  %mu = bism.add %vp, %bb : !h
  %ls = bism.broadcast %s : tensor<2xf64> to !h
  return %mu, %ls : !h, !h
}
func.func private @generator(%h: !h, %w: tensor<2x3xf64>, %o: tensor<3xf64>) -> !v {
  %hw = bism.matmul %h, %w : !h, tensor<2x3xf64> -> !v
  %ob = bism.broadcast %o : tensor<3xf64> to !v
  %pre = bism.add %hw, %ob : !v
  %x = bism.tanh %pre : !v
  return %x : !v
}
bism.model @dvl free_energy @energy [@A, @c]
    generator @generator [@W, @o]
    posterior "gaussian" @encoder [@P, @b, @s]
    spec {method = "bidvl", )mlir" +
         spec + R"mlir(} {
  bism.param @A : tensor<3x2xf64> {group = "theta", init = "normal", std = 0.1}
  bism.param @c : tensor<2xf64> {group = "theta", init = "zeros"}
  bism.param @P : tensor<3x2xf64> {group = "phi", init = "normal", std = 0.1}
  bism.param @b : tensor<2xf64> {group = "phi", init = "zeros"}
  bism.param @s : tensor<2xf64> {group = "phi", init = "zeros"}
  bism.param @W : tensor<2x3xf64> {group = "phi", init = "normal", std = 0.1}
  bism.param @o : tensor<3xf64> {group = "phi", init = "zeros"}
}
)mlir";
}

using Vec = std::vector<double>;

/// θ = (A [D,H], c [H]); φ = (P [D,H], b [H], s [H], W [H,D], o [D]), each
/// flattened row-major, in the model's parameter order.
struct Params {
  std::vector<Vec> theta, phi;
};

Vec flat(const HostTensor &t) {
  return Vec(t.dataAs<double>(), t.dataAs<double>() + t.numElements());
}

Vec energy(const Vec &v, const Params &p) {
  const Vec &a = p.theta[0], &c = p.theta[1];
  Vec e(kB);
  for (int64_t i = 0; i < kB; ++i) {
    double value = 0.0;
    for (int64_t j = 0; j < kD; ++j)
      value += 0.5 * v[i * kD + j] * v[i * kD + j];
    for (int64_t k = 0; k < kH; ++k) {
      double pre = c[k];
      for (int64_t j = 0; j < kD; ++j)
        pre += v[i * kD + j] * a[j * kH + k];
      value -= softplus(pre);
    }
    e[i] = value;
  }
  return e;
}

double mean(const Vec &x) {
  double s = 0.0;
  for (double value : x)
    s += value;
  return s / double(x.size());
}

Vec generate(const Vec &h, const Params &p) {
  const Vec &w = p.phi[3], &o = p.phi[4];
  Vec x(kB * kD);
  for (int64_t i = 0; i < kB; ++i)
    for (int64_t j = 0; j < kD; ++j) {
      double pre = o[j];
      for (int64_t k = 0; k < kH; ++k)
        pre += h[i * kH + k] * w[k * kD + j];
      x[i * kD + j] = std::tanh(pre);
    }
  return x;
}

/// μ = vP + b (logσ = s for every sample).
Vec encodeMean(const Vec &v, const Params &p) {
  const Vec &pw = p.phi[0], &b = p.phi[1];
  Vec mu(kB * kH);
  for (int64_t i = 0; i < kB; ++i)
    for (int64_t k = 0; k < kH; ++k) {
      double value = b[k];
      for (int64_t j = 0; j < kD; ++j)
        value += v[i * kD + j] * pw[j * kH + k];
      mu[i * kH + k] = value;
    }
  return mu;
}

double upperLoss(const Vec &v, const Vec &generated, const Params &p) {
  return mean(energy(v, p)) - mean(energy(generated, p));
}

/// The lower loss; `frozen` supplies the encoder of the latent
/// reconstruction (its stop_gradient).
double lowerLoss(const Vec &v, const Vec &hHat, const Vec &xi, const Params &p,
                 const Params &frozen, double ratio, bool bias) {
  Vec generated = generate(hHat, p);
  double value = mean(energy(generated, p));
  Vec muHat = encodeMean(generated, frozen);
  double latent = 0.0;
  for (int64_t e = 0; e < kB * kH; ++e)
    latent += (muHat[e] - hHat[e]) * (muHat[e] - hHat[e]);
  value += latent / double(kB * kH);
  Vec mu = encodeMean(v, p);
  const Vec &logStd = p.phi[2];
  Vec h(kB * kH);
  for (int64_t i = 0; i < kB; ++i)
    for (int64_t k = 0; k < kH; ++k)
      h[i * kH + k] = mu[i * kH + k] + std::exp(logStd[k]) * xi[i * kH + k];
  Vec reconstructed = generate(h, p), e = energy(v, p);
  double dataSide = 0.0, meanEnergy = mean(e);
  for (int64_t i = 0; i < kB; ++i) {
    double term = 0.0;
    for (int64_t j = 0; j < kD; ++j)
      term += std::pow(reconstructed[i * kD + j] - v[i * kD + j], 2);
    for (int64_t k = 0; k < kH; ++k) {
      double m = mu[i * kH + k], ls = logStd[k];
      term += 0.5 * (m * m + std::exp(2 * ls) - 1 - 2 * ls);
    }
    double weight = bias ? std::clamp(std::exp(meanEnergy - e[i]), 0.8, 1.2) : 1.0;
    dataSide += weight * term / double(kB);
  }
  return value + ratio * dataSide;
}

/// Central differences of f over every element of `group` (p.theta or p.phi).
std::vector<Vec> differences(Params p, bool phi,
                             const std::function<double(const Params &)> &f) {
  std::vector<Vec> &group = phi ? p.phi : p.theta;
  std::vector<Vec> out;
  for (size_t k = 0; k < group.size(); ++k) {
    Vec g(group[k].size());
    for (size_t e = 0; e < g.size(); ++e) {
      const double step = 1e-5, saved = group[k][e];
      group[k][e] = saved + step;
      double up = f(p);
      group[k][e] = saved - step;
      double down = f(p);
      group[k][e] = saved;
      g[e] = (up - down) / (2 * step);
    }
    out.push_back(g);
  }
  return out;
}

double relative(const Vec &got, const Vec &expected) {
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < got.size(); ++i) {
    num += (got[i] - expected[i]) * (got[i] - expected[i]);
    den += expected[i] * expected[i];
  }
  return std::sqrt(num / std::max(den, 1e-300));
}

/// Random state and inputs; the step's arguments for N unrolled and K lower
/// steps (the φ optimiser's moments zero and t_φ = 0 unless set).
struct Inputs {
  std::vector<HostTensor> theta, phi;
  std::vector<HostTensor> mPhi, sPhi; // empty: zeros
  double tPhi = 0;
  HostTensor v, hHat;
  std::vector<HostTensor> unrollXi, xi;
  Params params() const {
    Params p;
    for (const HostTensor &t : theta)
      p.theta.push_back(flat(t));
    for (const HostTensor &t : phi)
      p.phi.push_back(flat(t));
    return p;
  }
  /// φ, m_φ, s_φ, t_φ: the φ part of the state (the carried values of
  /// @M__phi_step and @M__unroll_step).
  std::vector<HostTensor> phiState() const {
    std::vector<HostTensor> all(phi);
    for (const std::vector<HostTensor> *moments : {&mPhi, &sPhi})
      for (const HostTensor &t : moments->empty() ? zerosLike(phi) : *moments)
        all.push_back(t);
    all.push_back(scalar(tPhi));
    return all;
  }
  std::vector<HostTensor> step() const {
    std::vector<HostTensor> all(theta);
    all.insert(all.end(), phi.begin(), phi.end());
    for (int copy = 0; copy < 2; ++copy)
      for (const HostTensor &t : zerosLike(theta))
        all.push_back(t);
    std::vector<HostTensor> phiPart = phiState();
    all.insert(all.end(), phiPart.begin() + phi.size(), phiPart.end() - 1);
    all.push_back(scalar(0));
    all.push_back(phiPart.back());
    all.push_back(v);
    all.push_back(hHat);
    all.insert(all.end(), unrollXi.begin(), unrollXi.end());
    all.insert(all.end(), xi.begin(), xi.end());
    return all;
  }
};

Inputs randomInputs(unsigned seed, int64_t steps) {
  Inputs in;
  in.theta = {randomTensor({kD, kH}, seed, -1.0, 1.0),
              randomTensor({kH}, seed + 1, -0.5, 0.5)};
  in.phi = {randomTensor({kD, kH}, seed + 2, -1.0, 1.0),
            randomTensor({kH}, seed + 3, -0.5, 0.5),
            randomTensor({kH}, seed + 4, -0.7, 0.2),
            randomTensor({kH, kD}, seed + 5, -1.0, 1.0),
            randomTensor({kD}, seed + 6, -0.5, 0.5)};
  in.v = randomTensor({kB, kD}, seed + 7, -1.0, 1.0);
  in.hHat = randomTensor({kB, kH}, seed + 8, -1.5, 1.5);
  for (int64_t k = 0; k < steps; ++k)
    in.xi.push_back(randomTensor({kB, kH}, seed + 9 + unsigned(k), -1.5, 1.5));
  return in;
}

//===----------------------------------------------------------------------===//
// (a) Upper level
//===----------------------------------------------------------------------===//

TEST(Bidvl, UpperLossAndGradient) {
  auto jit = buildStep(bidvlModel("inner_steps = 1"));
  ASSERT_TRUE(jit);
  Inputs in = randomInputs(600, 1);
  Params p = in.params();
  Vec v = flat(in.v), generated = generate(flat(in.hHat), p);
  std::vector<HostTensor> out = call(*jit, "train_step_with_noise", in.step());
  ASSERT_EQ(out.size(), 2 * 3 + 5 * 3 + 2 + 4u);
  double expected = upperLoss(v, generated, p);
  EXPECT_NEAR(at(out[23], 0), expected, 1e-10 * std::fabs(expected));
  std::vector<HostTensor> g = call(*jit, "theta_gradient_with_noise", in.step());
  ASSERT_EQ(g.size(), 2u);
  std::vector<Vec> fd = differences(p, false, [&](const Params &q) {
    return upperLoss(v, generated, q);
  });
  for (size_t k = 0; k < 2; ++k)
    EXPECT_LT(relative(flat(g[k]), fd[k]), 1e-7) << "theta " << k;
}

//===----------------------------------------------------------------------===//
// (b) Lower level
//===----------------------------------------------------------------------===//

TEST(Bidvl, LowerLossAndGradient) {
  for (bool bias : {false, true}) {
    SCOPED_TRACE(bias ? "basic_bias" : "basic");
    const double ratio = 0.3;
    auto jit = buildStep(
        bidvlModel("inner_steps = 1, bidvl_basic_ratio = 0.3, "
                   "optimizer_phi = \"sgd\", lr_phi = 1.0, bidvl_ratio = " +
                   std::string(bias ? "\"basic_bias\"" : "\"basic\"")),
        {"dvl__lower", "dvl__phi_step"});
    ASSERT_TRUE(jit);
    Inputs in = randomInputs(610, 1);
    Params p = in.params();
    Vec v = flat(in.v), hHat = flat(in.hHat), xi = flat(in.xi[0]);
    std::vector<HostTensor> lowerArgs(in.theta);
    lowerArgs.insert(lowerArgs.end(), in.phi.begin(), in.phi.end());
    lowerArgs.insert(lowerArgs.end(), {in.v, in.hHat, in.xi[0]});
    std::vector<HostTensor> value = call(*jit, "dvl__lower", lowerArgs);
    ASSERT_EQ(value.size(), 1u);
    double expected = lowerLoss(v, hHat, xi, p, p, ratio, bias);
    EXPECT_NEAR(at(value[0], 0), expected, 1e-10 * std::fabs(expected));

    // φ' = φ − ∇φ G (SGD, step 1), against differences with the latent
    // reconstruction's encoder held at p.
    std::vector<HostTensor> stepArgs(in.theta);
    stepArgs.insert(stepArgs.end(), in.phi.begin(), in.phi.end());
    for (int copy = 0; copy < 2; ++copy)
      for (const HostTensor &t : zerosLike(in.phi))
        stepArgs.push_back(t);
    stepArgs.insert(stepArgs.end(), {scalar(0), in.v, in.hHat, in.xi[0]});
    std::vector<HostTensor> next = call(*jit, "dvl__phi_step", stepArgs);
    ASSERT_EQ(next.size(), 3 * 5 + 1u);
    std::vector<Vec> fd = differences(p, true, [&](const Params &q) {
      return lowerLoss(v, hHat, xi, q, p, ratio, bias);
    });
    for (size_t k = 0; k < 5; ++k) {
      Vec before = flat(in.phi[k]), after = flat(next[k]), gradient(before.size());
      for (size_t e = 0; e < before.size(); ++e)
        gradient[e] = before[e] - after[e];
      EXPECT_LT(relative(gradient, fd[k]), 1e-7) << "phi " << k;
    }
  }
}

//===----------------------------------------------------------------------===//
// (c) The step's order
//===----------------------------------------------------------------------===//

TEST(Bidvl, ThetaStepsFirstThenKLowerSteps) {
  auto jit = buildStep(bidvlModel("inner_steps = 2, bidvl_basic_ratio = 0.2"));
  ASSERT_TRUE(jit);
  Inputs in = randomInputs(620, 2);
  std::vector<HostTensor> out = call(*jit, "train_step_with_noise", in.step());
  ASSERT_EQ(out.size(), 27u);
  // θ' (outputs 0-1), φ'' (2-6), t_θ = 1, t_φ = 2.
  EXPECT_EQ(at(out[21], 0), 1.0);
  EXPECT_EQ(at(out[22], 0), 2.0);
  Params updated = in.params();
  updated.theta = {flat(out[0]), flat(out[1])};
  Vec v = flat(in.v), hHat = flat(in.hHat), xi0 = flat(in.xi[0]);
  double before = lowerLoss(v, hHat, xi0, updated, updated, 0.2, false);
  EXPECT_NEAR(at(out[24], 0), before, 1e-10 * std::fabs(before));
  Params after = updated;
  for (size_t k = 0; k < 5; ++k)
    after.phi[k] = flat(out[2 + k]);
  double expectedAfter = lowerLoss(v, hHat, xi0, after, after, 0.2, false);
  EXPECT_NEAR(at(out[25], 0), expectedAfter, 1e-10 * std::fabs(expectedAfter));
  EXPECT_LT(at(out[25], 0), at(out[24], 0)) << "two Adam steps lower G";
  // The noise: ĥ and one ξ per lower step, standard normal draws.
  std::vector<HostTensor> noise =
      call(*jit, "draw_noise", {HostTensor::fromVector<int32_t>({2}, {3, 4})});
  ASSERT_EQ(noise.size(), 3u);
  for (const HostTensor &t : noise)
    EXPECT_EQ(t.shape(), (std::vector<int64_t>{kB, kH}));
}

//===----------------------------------------------------------------------===//
// (d) Spectral normalisation
//===----------------------------------------------------------------------===//

/// The singular vectors the step estimates for the [3, 2] A: `iterations`
/// power iterations from u₀ = 1/√3 (v = normalise(uA), u = normalise(vAᵀ)).
struct SingularVectors {
  Vec u, v;
};
SingularVectors powerIteration(const Vec &a, int iterations) {
  auto normalise = [](Vec x) {
    double n = 0;
    for (double e : x)
      n += e * e;
    n = std::sqrt(n + 1e-24);
    for (double &e : x)
      e /= n;
    return x;
  };
  SingularVectors s{Vec(kD, 1.0 / std::sqrt(3.0)), Vec(kH, 0.0)};
  for (int i = 0; i < iterations; ++i) {
    Vec v(kH, 0.0), u(kD, 0.0);
    for (int64_t j = 0; j < kD; ++j)
      for (int64_t k = 0; k < kH; ++k)
        v[k] += s.u[j] * a[j * kH + k];
    s.v = normalise(v);
    for (int64_t j = 0; j < kD; ++j)
      for (int64_t k = 0; k < kH; ++k)
        u[j] += s.v[k] * a[j * kH + k];
    s.u = normalise(u);
  }
  return s;
}

/// A / (uᵀ A v) with given singular vectors.
Vec normalisedBy(const Vec &a, const SingularVectors &s) {
  double sigma = 0;
  for (int64_t j = 0; j < kD; ++j)
    for (int64_t k = 0; k < kH; ++k)
      sigma += s.u[j] * a[j * kH + k] * s.v[k];
  Vec out(a);
  for (double &x : out)
    x /= sigma;
  return out;
}

/// σ(A) exactly: the larger eigenvalue of AᵀA, square-rooted.
double largestSingularValue(const Vec &a) {
  double p = 0, q = 0, r = 0; // AᵀA = [[p, q], [q, r]]
  for (int64_t j = 0; j < kD; ++j) {
    p += a[j * kH] * a[j * kH];
    q += a[j * kH] * a[j * kH + 1];
    r += a[j * kH + 1] * a[j * kH + 1];
  }
  return std::sqrt(0.5 * (p + r + std::sqrt((p - r) * (p - r) + 4 * q * q)));
}

TEST(Bidvl, SpectralNormDividesTheEnergyWeightByItsLargestSingularValue) {
  const int iterations = 20;
  auto jit = buildStep(bidvlModel(
      "inner_steps = 1, spectral_norm = [\"A\"], spectral_norm_iterations = 20"));
  ASSERT_TRUE(jit);
  Inputs in = randomInputs(630, 1);
  Params p = in.params();
  Vec v = flat(in.v), generated = generate(flat(in.hHat), p);
  SingularVectors held = powerIteration(p.theta[0], iterations);
  auto normalisedLoss = [&](const Params &q) {
    Params sn = q;
    sn.theta[0] = normalisedBy(q.theta[0], held);
    return upperLoss(v, generated, sn);
  };
  std::vector<HostTensor> out = call(*jit, "train_step_with_noise", in.step());
  ASSERT_EQ(out.size(), 27u);
  double expected = normalisedLoss(p);
  EXPECT_NEAR(at(out[23], 0), expected, 1e-10 * std::fabs(expected));
  EXPECT_GT(std::fabs(expected - upperLoss(v, generated, p)), 1e-3)
      << "the normalisation changes the energy";
  // The estimate against the exact σ(A): uᵀAv approaches it like
  // (σ₂/σ₁)^(2K).
  double estimate = p.theta[0][0] / normalisedBy(p.theta[0], held)[0];
  std::printf("sigma(A) %.12f, after %d power iterations %.12f\n",
              largestSingularValue(p.theta[0]), iterations, estimate);
  EXPECT_NEAR(estimate, largestSingularValue(p.theta[0]),
              1e-4 * largestSingularValue(p.theta[0]));
  // Miyato's gradient: that of A / (uᵀ A v) with u, v held.
  std::vector<HostTensor> g = call(*jit, "theta_gradient_with_noise", in.step());
  ASSERT_EQ(g.size(), 2u);
  std::vector<Vec> fd = differences(p, false, normalisedLoss);
  for (size_t k = 0; k < 2; ++k)
    EXPECT_LT(relative(flat(g[k]), fd[k]), 1e-7) << "theta " << k;
  // The stored parameter stays A itself, moved by Adam.
  EXPECT_GT(relative(flat(out[0]), normalisedBy(flat(out[0]), held)), 1e-3);
}

//===----------------------------------------------------------------------===//
// (e) Unrolled lower-level steps (unroll_steps = N)
//===----------------------------------------------------------------------===//

HostTensor tensorOf(const HostTensor &like, const Vec &values) {
  return HostTensor::fromVector<double>(like.shape(), values);
}

/// The φ state (φᴺ, m, s, t) that N plain calls of the compiled step
/// function `stepName` reach at θ = `theta` from in's φ state, with
/// in.unrollXi.
std::vector<HostTensor> unrolledPhi(JitModule &jit, const std::string &stepName,
                                    const std::vector<HostTensor> &theta,
                                    const Inputs &in) {
  std::vector<HostTensor> carried = in.phiState();
  for (const HostTensor &xi : in.unrollXi) {
    std::vector<HostTensor> args(theta);
    args.insert(args.end(), carried.begin(), carried.end());
    args.insert(args.end(), {in.v, in.hHat, xi});
    carried = call(jit, stepName, args);
    EXPECT_EQ(carried.size(), 3 * 5 + 1u);
  }
  return carried;
}

/// L_up(θ, φᴺ(θ)) = mean E_θ(v) − mean E_θ(G(ĥ; φᴺ(θ))) at θ = q.theta: φᴺ
/// from the compiled step function, E and G from the formulas above.
double unrolledUpperLoss(JitModule &jit, const std::string &stepName,
                         const Inputs &in, const Params &q) {
  std::vector<HostTensor> theta;
  for (size_t k = 0; k < q.theta.size(); ++k)
    theta.push_back(tensorOf(in.theta[k], q.theta[k]));
  std::vector<HostTensor> carried = unrolledPhi(jit, stepName, theta, in);
  Params atN = q;
  for (size_t k = 0; k < atN.phi.size(); ++k)
    atN.phi[k] = flat(carried[k]);
  return upperLoss(flat(in.v), generate(flat(in.hHat), atN), q);
}

/// The two kinds of unrolled steps: plain SGD of size unroll_lr
/// (@dvl__unroll_step; the φ optimiser's state is left alone) and steps of
/// the φ optimiser, Adam, continuing its (random) state (@dvl__phi_step).
struct UnrollCase {
  const char *name;
  std::string spec, stepName;
  bool adamState;
};
std::vector<UnrollCase> unrollCases() {
  return {{"sgd", "unroll_steps = 2, unroll_lr = 0.5", "dvl__unroll_step",
           false},
          {"same", "unroll_steps = 2, unroll_optimizer = \"same\", lr_phi = 0.05",
           "dvl__phi_step", true}};
}

Inputs unrollInputs(unsigned seed, int64_t unrolled, int64_t lower,
                    bool adamState) {
  Inputs in = randomInputs(seed, lower);
  for (int64_t n = 0; n < unrolled; ++n)
    in.unrollXi.push_back(
        randomTensor({kB, kH}, seed + 20 + unsigned(n), -1.5, 1.5));
  if (adamState) {
    randomMoments(in.phi, seed + 30, in.mPhi, in.sPhi);
    in.tPhi = 3;
  }
  return in;
}

TEST(Bidvl, UnrolledThetaGradientMatchesFiniteDifferences) {
  for (const UnrollCase &c : unrollCases()) {
    SCOPED_TRACE(c.name);
    auto jit = buildStep(
        bidvlModel("inner_steps = 1, bidvl_basic_ratio = 0.3, " + c.spec),
        {c.stepName});
    ASSERT_TRUE(jit);
    Inputs in = unrollInputs(640, 2, 1, c.adamState);
    Params p = in.params();
    auto loss = [&](const Params &q) {
      return unrolledUpperLoss(*jit, c.stepName, in, q);
    };
    std::vector<HostTensor> out = call(*jit, "train_step_with_noise", in.step());
    ASSERT_EQ(out.size(), 27u);
    double expected = loss(p);
    EXPECT_NEAR(at(out[23], 0), expected, 1e-10 * std::fabs(expected)) << "J";
    std::vector<HostTensor> g =
        call(*jit, "theta_gradient_with_noise", in.step());
    ASSERT_EQ(g.size(), 2u);
    std::vector<Vec> fd = differences(p, false, loss);
    // The gradient with the generator's samples G(ĥ; φᴺ) held (no path
    // through the unrolled steps), to show that path matters.
    Params atN = p;
    std::vector<HostTensor> carried = unrolledPhi(*jit, c.stepName, in.theta, in);
    for (size_t k = 0; k < atN.phi.size(); ++k)
      atN.phi[k] = flat(carried[k]);
    Vec generatedN = generate(flat(in.hHat), atN), v = flat(in.v);
    std::vector<Vec> held = differences(p, false, [&](const Params &q) {
      return upperLoss(v, generatedN, q);
    });
    for (size_t k = 0; k < 2; ++k) {
      double error = relative(flat(g[k]), fd[k]),
             path = relative(held[k], fd[k]);
      std::printf("unroll %s, theta %zu: |AD - FD| / |FD| = %.3g "
                  "(the path through phi^N: %.3g of the gradient)\n",
                  c.name, k, error, path);
      EXPECT_LT(error, 1e-7) << "theta " << k;
      EXPECT_GT(path, 1e-3) << "theta " << k;
    }
  }
}

TEST(Bidvl, UnrolledStepContinuesFromPhiN) {
  for (const UnrollCase &c : unrollCases()) {
    SCOPED_TRACE(c.name);
    auto jit = buildStep(bidvlModel("inner_steps = 2, bidvl_basic_ratio = 0.3, "
                                    "optimizer_theta = \"sgd\", lr_theta = 0.1, " +
                                    c.spec),
                         {c.stepName, "dvl__phi_step"});
    ASSERT_TRUE(jit);
    Inputs in = unrollInputs(650, 2, 2, c.adamState);
    std::vector<HostTensor> out = call(*jit, "train_step_with_noise", in.step());
    ASSERT_EQ(out.size(), 27u);
    std::vector<HostTensor> g =
        call(*jit, "theta_gradient_with_noise", in.step());
    ASSERT_EQ(g.size(), 2u);
    // θ' = θ − 0.1 ∇θ L_up(θ, φᴺ(θ)).
    std::vector<HostTensor> thetaNext;
    for (size_t k = 0; k < 2; ++k) {
      Vec before = flat(in.theta[k]), gradient = flat(g[k]), expected(before);
      for (size_t e = 0; e < expected.size(); ++e)
        expected[e] -= 0.1 * gradient[e];
      EXPECT_LT(relative(flat(out[k]), expected), 1e-14) << "theta " << k;
      thetaNext.push_back(out[k]);
    }
    // φ: the N unrolled steps at θ (SGD: the φ optimiser's moments and t as
    // they were), then the K = 2 steps of @dvl__phi_step at θ'.
    std::vector<HostTensor> carried = unrolledPhi(*jit, c.stepName, in.theta, in);
    if (!c.adamState) {
      std::vector<HostTensor> state = in.phiState();
      std::copy(state.begin() + 5, state.end(), carried.begin() + 5);
    }
    Params atN = in.params();
    atN.theta = {flat(out[0]), flat(out[1])};
    for (size_t k = 0; k < 5; ++k)
      atN.phi[k] = flat(carried[k]);
    for (const HostTensor &xi : in.xi) {
      std::vector<HostTensor> args(thetaNext);
      args.insert(args.end(), carried.begin(), carried.end());
      args.insert(args.end(), {in.v, in.hHat, xi});
      carried = call(*jit, "dvl__phi_step", args);
    }
    // φ (2-6), m_φ (11-15), s_φ (16-20), t_φ (22).
    for (size_t k = 0; k < 15; ++k) {
      size_t index = k < 5 ? 2 + k : 6 + k;
      EXPECT_LT(relative(flat(out[index]), flat(carried[k])), 1e-13)
          << "output " << index;
    }
    EXPECT_EQ(at(out[22], 0), in.tPhi + (c.adamState ? 4 : 2));
    EXPECT_EQ(at(out[21], 0), 1.0);
    // lower_before at (θ', φᴺ), lower_after after the K steps, with ξ_0.
    Vec v = flat(in.v), hHat = flat(in.hHat), xi0 = flat(in.xi[0]);
    double before = lowerLoss(v, hHat, xi0, atN, atN, 0.3, false);
    EXPECT_NEAR(at(out[24], 0), before, 1e-10 * std::fabs(before));
    Params after = atN;
    for (size_t k = 0; k < 5; ++k)
      after.phi[k] = flat(carried[k]);
    double expectedAfter = lowerLoss(v, hHat, xi0, after, after, 0.3, false);
    EXPECT_NEAR(at(out[25], 0), expectedAfter, 1e-10 * std::fabs(expectedAfter));
  }
}

/// The step's noise names (trainStepSignature) for a spec.
std::vector<std::string> noiseNames(const std::string &spec) {
  mlir::DialectRegistry registry;
  registerExecutionDialects(registry);
  mlir::MLIRContext context(registry);
  auto module = mlir::parseSourceString<mlir::ModuleOp>(bidvlModel(spec), &context);
  EXPECT_TRUE(module);
  if (!module)
    return {};
  auto models = llvm::to_vector(module->getOps<ModelOp>());
  EXPECT_EQ(models.size(), 1u);
  auto info = train::readModel(models[0]);
  EXPECT_TRUE(succeeded(info));
  if (failed(info))
    return {};
  std::vector<std::string> names;
  for (const train::NamedType &noise : train::trainStepSignature(*info).noise)
    names.push_back(noise.name);
  return names;
}

bool sameBits(const std::vector<HostTensor> &a, const std::vector<HostTensor> &b) {
  if (a.empty() || a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i) {
    Vec x = flat(a[i]), y = flat(b[i]);
    if (a[i].shape() != b[i].shape() ||
        std::memcmp(x.data(), y.data(), x.size() * sizeof(double)) != 0)
      return false;
  }
  return true;
}

TEST(Bidvl, UnrolledNoiseIsNamedDrawnAndFed) {
  EXPECT_EQ(noiseNames("inner_steps = 1, unroll_steps = 2"),
            (std::vector<std::string>{"generator.h", "unroll0.xi",
                                      "unroll1.xi", "lower0.xi"}));
  // Without the field: no unrolled steps (not BiSM's default of 5).
  EXPECT_EQ(noiseNames("inner_steps = 2"),
            (std::vector<std::string>{"generator.h", "lower0.xi", "lower1.xi"}));
  auto jit = buildStep(bidvlModel("inner_steps = 1, unroll_steps = 2"));
  ASSERT_TRUE(jit);
  HostTensor key = HostTensor::fromVector<int32_t>({2}, {5, 6});
  std::vector<HostTensor> noise = call(*jit, "draw_noise", {key});
  ASSERT_EQ(noise.size(), 4u);
  for (const HostTensor &t : noise)
    EXPECT_EQ(t.shape(), (std::vector<int64_t>{kB, kH}));
  Inputs in = unrollInputs(660, 2, 1, false);
  in.hHat = noise[0];
  in.unrollXi = {noise[1], noise[2]};
  in.xi = {noise[3]};
  std::vector<HostTensor> keyed(in.step());
  keyed.resize(keyed.size() - 4);
  keyed.push_back(key);
  EXPECT_TRUE(sameBits(call(*jit, "train_step", keyed),
                       call(*jit, "train_step_with_noise", in.step())));
}

TEST(Bidvl, ZeroUnrollStepsIsTheStepWithoutTheField) {
  auto without = buildStep(bidvlModel("inner_steps = 2, bidvl_basic_ratio = 0.2"));
  auto zero = buildStep(bidvlModel("inner_steps = 2, bidvl_basic_ratio = 0.2, "
                                   "unroll_steps = 0, unroll_lr = 0.7"));
  ASSERT_TRUE(without && zero);
  Inputs in = randomInputs(670, 2);
  randomMoments(in.phi, 700, in.mPhi, in.sPhi);
  in.tPhi = 2;
  for (const char *name : {"train_step_with_noise", "theta_gradient_with_noise"})
    EXPECT_TRUE(sameBits(call(*without, name, in.step()),
                         call(*zero, name, in.step())))
        << name;
  HostTensor key = HostTensor::fromVector<int32_t>({2}, {7, 8});
  EXPECT_TRUE(sameBits(call(*without, "draw_noise", {key}),
                       call(*zero, "draw_noise", {key})));
}

TEST(Bidvl, UnrolledSpectralNormGradientHoldsTheSingularVectors) {
  const int iterations = 20;
  const std::string spec =
      "inner_steps = 1, bidvl_basic_ratio = 0.3, unroll_steps = 2, "
      "unroll_lr = 0.5";
  auto normalised = buildStep(bidvlModel(
      spec + ", spectral_norm = [\"A\"], spectral_norm_iterations = 20"));
  auto plain = buildStep(bidvlModel(spec), {"dvl__unroll_step"});
  ASSERT_TRUE(normalised && plain);
  Inputs in = unrollInputs(680, 2, 1, false);
  Params p = in.params();
  SingularVectors held = powerIteration(p.theta[0], iterations);
  // The plain model at A / (uᵀ A v), u, v those of the unperturbed A.
  auto loss = [&](const Params &q) {
    Params sn = q;
    sn.theta[0] = normalisedBy(q.theta[0], held);
    return unrolledUpperLoss(*plain, "dvl__unroll_step", in, sn);
  };
  std::vector<HostTensor> out =
      call(*normalised, "train_step_with_noise", in.step());
  ASSERT_EQ(out.size(), 27u);
  double expected = loss(p);
  EXPECT_NEAR(at(out[23], 0), expected, 1e-10 * std::fabs(expected));
  std::vector<HostTensor> g =
      call(*normalised, "theta_gradient_with_noise", in.step());
  ASSERT_EQ(g.size(), 2u);
  std::vector<Vec> fd = differences(p, false, loss);
  for (size_t k = 0; k < 2; ++k) {
    double error = relative(flat(g[k]), fd[k]);
    std::printf("unroll sgd + spectral_norm, theta %zu: |AD - FD| / |FD| = %.3g\n",
                k, error);
    EXPECT_LT(error, 1e-7) << "theta " << k;
  }
}

} // namespace
