//===- GrbmReference.h - the GRBM's closed forms in plain C++ ---*- C++ -*-===//
//
// Gaussian-Bernoulli RBM (DESIGN.md §2), v: [B, Dv], W: [Dv, Dh], b: [Dv],
// c: [Dh], logσ: [Dv], P_j = e^{−2 logσ_j}:
//   E(v, h) = ½ Σ_j (v_j − b_j)² P_j − cᵀh − (vW)·h
//   F(v)    = ½ Σ_j (v_j − b_j)² P_j − Σ_k softplus(c_k + (vW)_k)
//   −∇_v F  = −(v − b) ⊙ P + sigmoid(c + vW) Wᵀ
// and the exact-marginal DSM loss mean_i ½‖−∇F(ṽ_i) + ε_i/σ‖², ṽ = v + σε,
// with its hand-derived θ gradient.
// Shared by the tests that check compiled GRBM code against these formulas.
//
//===----------------------------------------------------------------------===//
#ifndef BISM_TEST_GRBMREFERENCE_H
#define BISM_TEST_GRBMREFERENCE_H

#include "FiniteDifference.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace bism::testing {

inline double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
inline double softplus(double x) {
  return std::max(x, 0.0) + std::log1p(std::exp(-std::fabs(x)));
}

struct Grbm {
  int64_t dv = 0, dh = 0;
  runtime::HostTensor w, b, c, logSigma;

  /// Random parameters: W, b, c uniform in [−1, 1], logσ in [−0.5, 0.5],
  /// from the seeds `seed` ... `seed + 3`.
  static Grbm random(int64_t dv, int64_t dh, unsigned seed = 7) {
    Grbm model;
    model.dv = dv;
    model.dh = dh;
    model.w = randomTensor({dv, dh}, seed);
    model.b = randomTensor({dv}, seed + 1);
    model.c = randomTensor({dh}, seed + 2);
    model.logSigma = randomTensor({dv}, seed + 3, -0.5, 0.5);
    return model;
  }

  double W(int64_t j, int64_t k) const { return w.dataAs<double>()[j * dh + k]; }
  double P(int64_t j) const { return std::exp(-2 * logSigma.dataAs<double>()[j]); }
  /// a_ik = c_k + (vW)_ik.
  double pre(const runtime::HostTensor &v, int64_t i, int64_t k) const {
    double a = c.dataAs<double>()[k];
    for (int64_t j = 0; j < dv; ++j)
      a += v.dataAs<double>()[i * dv + j] * W(j, k);
    return a;
  }
  /// s_ij = −(v_ij − b_j) P_j + Σ_k sigmoid(a_ik) W_jk.
  runtime::HostTensor score(const runtime::HostTensor &v) const {
    int64_t batch = v.shape()[0];
    runtime::HostTensor s(runtime::ElementType::f64, {batch, dv});
    for (int64_t i = 0; i < batch; ++i)
      for (int64_t j = 0; j < dv; ++j) {
        double value =
            -(v.dataAs<double>()[i * dv + j] - b.dataAs<double>()[j]) * P(j);
        for (int64_t k = 0; k < dh; ++k)
          value += sigmoid(pre(v, i, k)) * W(j, k);
        s.dataAs<double>()[i * dv + j] = value;
      }
    return s;
  }
  runtime::HostTensor freeEnergy(const runtime::HostTensor &v) const {
    int64_t batch = v.shape()[0];
    runtime::HostTensor f(runtime::ElementType::f64, {batch});
    for (int64_t i = 0; i < batch; ++i) {
      double value = 0.0;
      for (int64_t j = 0; j < dv; ++j) {
        double d = v.dataAs<double>()[i * dv + j] - b.dataAs<double>()[j];
        value += 0.5 * d * d * P(j);
      }
      for (int64_t k = 0; k < dh; ++k)
        value -= softplus(pre(v, i, k));
      f.dataAs<double>()[i] = value;
    }
    return f;
  }
  /// E(v_i, h_i) per sample, h: [B, Dh] (any real values).
  runtime::HostTensor energy(const runtime::HostTensor &v,
                             const runtime::HostTensor &h) const {
    int64_t batch = v.shape()[0];
    runtime::HostTensor e(runtime::ElementType::f64, {batch});
    for (int64_t i = 0; i < batch; ++i) {
      double value = 0.0;
      for (int64_t j = 0; j < dv; ++j) {
        double d = v.dataAs<double>()[i * dv + j] - b.dataAs<double>()[j];
        value += 0.5 * d * d * P(j);
      }
      for (int64_t k = 0; k < dh; ++k)
        value -= pre(v, i, k) * h.dataAs<double>()[i * dh + k];
      e.dataAs<double>()[i] = value;
    }
    return e;
  }
  /// ṽ = v + σ ε.
  static runtime::HostTensor noised(const runtime::HostTensor &v,
                                    const runtime::HostTensor &eps,
                                    double sigma) {
    runtime::HostTensor vt = v;
    for (int64_t i = 0; i < vt.numElements(); ++i)
      vt.dataAs<double>()[i] += sigma * eps.dataAs<double>()[i];
    return vt;
  }
  /// mean_i ½ Σ_j (s_ij(ṽ) + ε_ij/σ)² with s = −∇F.
  double exactDsmLoss(const runtime::HostTensor &v,
                      const runtime::HostTensor &eps, double sigma) const {
    runtime::HostTensor s = score(noised(v, eps, sigma));
    int64_t batch = v.shape()[0];
    double loss = 0.0;
    for (int64_t i = 0; i < batch * dv; ++i) {
      double r = s.dataAs<double>()[i] + eps.dataAs<double>()[i] / sigma;
      loss += 0.5 * r * r;
    }
    return loss / double(batch);
  }

  /// The exact-marginal DSM loss and its θ gradient, derived by hand.
  /// Per sample i (index dropped where clear), with ṽ = v + σ_n ε fixed in θ:
  ///   a_k = c_k + Σ_m ṽ_m W_mk,   p_k = sigmoid(a_k),   p'_k = p_k (1 − p_k),
  ///   P_j = e^{−2 logσ_j},
  ///   s_j = −(ṽ_j − b_j) P_j + Σ_k p_k W_jk,
  ///   r_j = s_j + ε_j / σ_n,      L = (1/B) Σ_i ½ Σ_j r_ij².
  /// Let g_ij = ∂L/∂s_ij = r_ij / B. The partials of s_j:
  ///   ∂s_j/∂b_j     = P_j
  ///   ∂s_j/∂logσ_j  = −(ṽ_j − b_j) · (−2 P_j) = 2 (ṽ_j − b_j) P_j
  ///   ∂s_j/∂c_k     = W_jk p'_k
  ///   ∂s_j/∂W_mk    = δ_jm p_k + W_jk p'_k ṽ_m
  /// so, summing over samples:
  ///   ∂L/∂b_j    = Σ_i g_ij P_j
  ///   ∂L/∂logσ_j = Σ_i g_ij · 2 (ṽ_ij − b_j) P_j
  ///   ∂L/∂c_k    = Σ_i p'_ik (gW)_ik,               (gW)_ik = Σ_j g_ij W_jk
  ///   ∂L/∂W_mk   = Σ_i [ g_im p_ik + ṽ_im p'_ik (gW)_ik ]
  ///              = (gᵀ p)_mk + (ṽᵀ (p' ⊙ gW))_mk.
  struct DsmGradient {
    runtime::HostTensor dW, db, dc, dLogSigma;
    double loss = 0.0;
  };
  DsmGradient exactDsmGradient(const runtime::HostTensor &v,
                               const runtime::HostTensor &eps,
                               double sigma) const {
    using runtime::ElementType;
    int64_t batch = v.shape()[0];
    DsmGradient out{runtime::HostTensor(ElementType::f64, {dv, dh}),
                    runtime::HostTensor(ElementType::f64, {dv}),
                    runtime::HostTensor(ElementType::f64, {dh}),
                    runtime::HostTensor(ElementType::f64, {dv}), 0.0};
    runtime::HostTensor vt = noised(v, eps, sigma);
    runtime::HostTensor s = score(vt);
    auto at = [](const runtime::HostTensor &t, int64_t i) {
      return t.dataAs<double>()[i];
    };
    std::vector<double> g(dv), p(dh), dp(dh), gW(dh);
    for (int64_t i = 0; i < batch; ++i) {
      for (int64_t j = 0; j < dv; ++j) {
        double r = at(s, i * dv + j) + at(eps, i * dv + j) / sigma;
        out.loss += 0.5 * r * r / double(batch);
        g[j] = r / double(batch);
      }
      for (int64_t k = 0; k < dh; ++k) {
        p[k] = sigmoid(pre(vt, i, k));
        dp[k] = p[k] * (1 - p[k]);
        gW[k] = 0.0;
        for (int64_t j = 0; j < dv; ++j)
          gW[k] += g[j] * W(j, k);
      }
      for (int64_t j = 0; j < dv; ++j) {
        double centred = at(vt, i * dv + j) - at(b, j);
        out.db.dataAs<double>()[j] += g[j] * P(j);
        out.dLogSigma.dataAs<double>()[j] += g[j] * 2 * centred * P(j);
      }
      for (int64_t k = 0; k < dh; ++k) {
        out.dc.dataAs<double>()[k] += dp[k] * gW[k];
        for (int64_t m = 0; m < dv; ++m)
          out.dW.dataAs<double>()[m * dh + k] +=
              g[m] * p[k] + at(vt, i * dv + m) * dp[k] * gW[k];
      }
    }
    return out;
  }
};

} // namespace bism::testing

#endif // BISM_TEST_GRBMREFERENCE_H
