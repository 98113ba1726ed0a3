//===- VagesReference.h - VaGES's published formulas, written out -*- C++ -*-===//
//
// The VaGES θ gradient of the GRBM of TrainStepHarness.h for given particle
// groups and a given w = B ∂J/∂ŝ (docs/training.md "Method vages"), in the
// form of the VaGES paper's code: the mean over one group of w_bᵀ ∂g_b/∂θ
// plus the unbiased sample covariance over another (L/(L−1) ["coupled" −
// "uncoupled"]). VagesTest (DSM, MDSM) and KsdTest (KSD) share it.
//
//===----------------------------------------------------------------------===//
#ifndef BISM_TEST_UNIT_VAGESREFERENCE_H
#define BISM_TEST_UNIT_VAGESREFERENCE_H

#include "TrainStepHarness.h"

namespace bism::trainstep {

/// The three particle groups of VaGES (all the same for vages_groups =
/// "shared").
struct ParticleGroups {
  std::vector<HostTensor> score, derivative, covariance;
  static ParticleGroups shared(const std::vector<HostTensor> &hs) {
    return {hs, hs, hs};
  }
};

/// g(h) = ∇_x log p̃(x, h) = −(x − b) ⊙ P + W h for sample b, P_j = e^{−2 logσ_j}.
inline std::vector<double> logJointScore(const Grbm &m, const HostTensor &x,
                                         const HostTensor &h, int64_t b) {
  std::vector<double> value(D);
  for (int64_t j = 0; j < D; ++j) {
    value[j] = -(at(x, b * D + j) - at(m.b, j)) * m.P(j);
    for (int64_t k = 0; k < H; ++k)
      value[j] += m.W(j, k) * at(h, b * H + k);
  }
  return value;
}

/// VaES: ŝ = mean_i g(h_i) over the particles hs, [B,D].
inline HostTensor vaesScore(const Grbm &m, const HostTensor &x,
                            const std::vector<HostTensor> &hs) {
  HostTensor s(ElementType::f64, {B, D});
  for (const HostTensor &h : hs)
    for (int64_t b = 0; b < B; ++b) {
      std::vector<double> g = logJointScore(m, x, h, b);
      for (int64_t j = 0; j < D; ++j)
        s.dataAs<double>()[b * D + j] += g[j] / double(hs.size());
    }
  return s;
}

/// dW, db, dc, dlogσ of
///   mean_b w_bᵀ [ mean_{i ∈ derivative} ∂g_b(h_i)/∂θ
///                 + Cov_{i ∈ covariance}(g_b(h_i), ∇θ log p̃_b(h_i)) ],
/// the covariance L/(L−1) [mean_i a_i ∇θ log p̃_i − ā · mean_i ∇θ log p̃_i],
/// a_i = w_bᵀ g_b(h_i). ∂g_j/∂b_j = P_j, ∂g_j/∂logσ_j = 2(x_j − b_j)P_j,
/// ∂g_j/∂W_jk = h_k; ∇θ log p̃ = ((x − b)P, (x − b)²P, h, x hᵀ) for
/// (b, logσ, c, W).
inline std::vector<HostTensor> vagesGradientReference(const Grbm &m,
                                                      const HostTensor &x,
                                                      const HostTensor &w,
                                                      const ParticleGroups &groups) {
  const double L = double(groups.derivative.size());
  std::vector<HostTensor> out = {HostTensor(ElementType::f64, {D, H}),
                                 HostTensor(ElementType::f64, {D}),
                                 HostTensor(ElementType::f64, {H}),
                                 HostTensor(ElementType::f64, {D})};
  // θ flattened as (W, b, c, logσ).
  const int64_t numTheta = D * H + D + H + D;
  auto add = [&](const std::vector<double> &flat, double scale) {
    for (int64_t e = 0; e < D * H; ++e)
      out[0].dataAs<double>()[e] += scale * flat[e];
    for (int64_t j = 0; j < D; ++j) {
      out[1].dataAs<double>()[j] += scale * flat[D * H + j];
      out[3].dataAs<double>()[j] += scale * flat[D * H + D + H + j];
    }
    for (int64_t k = 0; k < H; ++k)
      out[2].dataAs<double>()[k] += scale * flat[D * H + D + k];
  };
  for (int64_t b = 0; b < B; ++b) {
    std::vector<double> centred(D), wb(D);
    for (int64_t j = 0; j < D; ++j) {
      centred[j] = at(x, b * D + j) - at(m.b, j);
      wb[j] = at(w, b * D + j);
    }
    // w_bᵀ ∂g_b(h)/∂θ and ∇θ log p̃_b(h), flattened.
    auto wDerivative = [&](const HostTensor &h) {
      std::vector<double> d(numTheta, 0.0);
      for (int64_t j = 0; j < D; ++j) {
        for (int64_t k = 0; k < H; ++k)
          d[j * H + k] = wb[j] * at(h, b * H + k);
        d[D * H + j] = wb[j] * m.P(j);
        d[D * H + D + H + j] = wb[j] * 2 * centred[j] * m.P(j);
      }
      return d;
    };
    auto logJointGradient = [&](const HostTensor &h) {
      std::vector<double> d(numTheta, 0.0);
      for (int64_t j = 0; j < D; ++j) {
        for (int64_t k = 0; k < H; ++k)
          d[j * H + k] = at(x, b * D + j) * at(h, b * H + k);
        d[D * H + j] = centred[j] * m.P(j);
        d[D * H + D + H + j] = centred[j] * centred[j] * m.P(j);
      }
      for (int64_t k = 0; k < H; ++k)
        d[D * H + D + k] = at(h, b * H + k);
      return d;
    };
    for (const HostTensor &h : groups.derivative)
      add(wDerivative(h), 1.0 / (L * double(B)));
    std::vector<double> coupled(numTheta, 0.0), meanGradient(numTheta, 0.0);
    double aBar = 0.0;
    for (const HostTensor &h : groups.covariance) {
      std::vector<double> gi = logJointScore(m, x, h, b), d = logJointGradient(h);
      double ai = 0.0;
      for (int64_t j = 0; j < D; ++j)
        ai += wb[j] * gi[j];
      aBar += ai / L;
      for (int64_t e = 0; e < numTheta; ++e) {
        coupled[e] += ai * d[e] / L;
        meanGradient[e] += d[e] / L;
      }
    }
    std::vector<double> covariance(numTheta);
    for (int64_t e = 0; e < numTheta; ++e)
      covariance[e] = coupled[e] - aBar * meanGradient[e];
    add(covariance, L / (L - 1.0) / double(B));
  }
  return out;
}

} // namespace bism::trainstep

#endif // BISM_TEST_UNIT_VAGESREFERENCE_H
