//===- GrbmClosedFormTest.cpp - AD of the GRBM against closed forms -------===//
//
// Gaussian-Bernoulli RBM (DESIGN.md §2), v: [B, Dv], W: [Dv, Dh], b: [Dv],
// c: [Dh], logσ: [Dv]:
//   E(v, h) = ½ Σ_j (v_j − b_j)² e^{−2 logσ_j} − cᵀh − (vW)·h
//   F(v)    = ½ Σ_j (v_j − b_j)² e^{−2 logσ_j} − Σ_k softplus(c_k + (vW)_k)
// The free energy is written in bism (broadcasts explicit), differentiated by
// --bism-autodiff through JitModule, and compared with hand-derived
// expressions evaluated in plain C++:
//   - the score −∇_v F = −(v − b) e^{−2 logσ} + sigmoid(c + vW) Wᵀ (1e-12);
//   - the gradient of the exact-marginal DSM loss, a bism.grad of a function
//     that itself contains bism.grad (1e-10 relative), and as a cross-check
//     of the hand derivation, central differences of the loss.
//
//===----------------------------------------------------------------------===//
#include "FiniteDifference.h"
#include "GrbmReference.h"

#include "llvm/Support/Error.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

using namespace bism;
using bism::testing::Grbm;
using bism::testing::randomTensor;
using bism::testing::sigmoid;
using bism::testing::relativeError;
using runtime::ElementType;
using runtime::HostTensor;

namespace {

constexpr int64_t B = 5, Dv = 3, Dh = 4;
/// DSM noise scale (a fixed hyperparameter, not the model's σ).
constexpr double kNoise = 0.5;

// F(v) per sample (FE_OUT = the [B] free energies); FE_SUM adds Σ_i F_i.
const char *kGrbm = R"mlir(
!v = tensor<5x3xf64>
!w = tensor<3x4xf64>
!b = tensor<3xf64>
!c = tensor<4xf64>
!a = tensor<5x4xf64>
!n = tensor<5xf64>

func.func @free_energy(%v: !v, %w: !w, %b: !b, %c: !c, %ls: !b) -> !n {
  %bb = bism.broadcast %b : !b to !v
  %cen = bism.sub %v, %bb : !v
  %sq = bism.square %cen : !v
  %m2 = bism.constant dense<-2.0> : !b
  %sls = bism.mul %ls, %m2 : !b
  %p = bism.exp %sls : !b
  %pb = bism.broadcast %p : !b to !v
  %wq = bism.mul %sq, %pb : !v
  %qs = bism.reduce_sum %wq axes [1] : !v -> !n
  %half = bism.constant dense<0.5> : !n
  %q = bism.mul %qs, %half : !n
  %vw = bism.matmul %v, %w : !v, !w -> !a
  %cb = bism.broadcast %c : !c to !a
  %pre = bism.add %vw, %cb : !a
  %sp = bism.softplus %pre : !a
  %lat = bism.reduce_sum %sp axes [1] : !a -> !n
  %f = bism.sub %q, %lat : !n
  return %f : !n
}

func.func @free_energy_sum(%v: !v, %w: !w, %b: !b, %c: !c, %ls: !b) -> tensor<f64> {
  %f = func.call @free_energy(%v, %w, %b, %c, %ls) : (!v, !w, !b, !c, !b) -> !n
  %s = bism.reduce_sum %f axes [0] : !n -> tensor<f64>
  return %s : tensor<f64>
}

// s(v) = −∇_v Σ_i F(v_i).
func.func @score(%v: !v, %w: !w, %b: !b, %c: !c, %ls: !b) -> !v {
  %g = bism.grad @free_energy_sum(%v, %w, %b, %c, %ls) wrt [0]
      : (!v, !w, !b, !c, !b) -> !v
  %s = bism.neg %g : !v
  return %s : !v
}

// L = mean_i ½‖s(ṽ_i) + ε_i/σ‖², ṽ = v + σε (σ = 0.5 the noise scale).
func.func @dsm_loss(%w: !w, %b: !b, %c: !c, %ls: !b, %v: !v, %eps: !v) -> tensor<f64> {
  %sigma = bism.constant dense<0.5> : !v
  %noise = bism.mul %eps, %sigma : !v
  %vt = bism.add %v, %noise : !v
  %g = bism.grad @free_energy_sum(%vt, %w, %b, %c, %ls) wrt [0]
      : (!v, !w, !b, !c, !b) -> !v
  %s = bism.neg %g : !v
  %inv = bism.constant dense<2.0> : !v
  %target = bism.mul %eps, %inv : !v
  %r = bism.add %s, %target : !v
  %r2 = bism.square %r : !v
  %sum = bism.reduce_sum %r2 axes [0, 1] : !v -> tensor<f64>
  %scale = bism.constant dense<0.1> : tensor<f64>
  %l = bism.mul %sum, %scale : tensor<f64>
  return %l : tensor<f64>
}

func.func @dsm_grad(%w: !w, %b: !b, %c: !c, %ls: !b, %v: !v, %eps: !v)
    -> (!w, !b, !c, !b) {
  %d:4 = bism.grad @dsm_loss(%w, %b, %c, %ls, %v, %eps) wrt [0, 1, 2, 3]
      : (!w, !b, !c, !b, !v, !v) -> (!w, !b, !c, !b)
  return %d#0, %d#1, %d#2, %d#3 : !w, !b, !c, !b
}
)mlir";

std::unique_ptr<JitModule> compileGrbm() {
  auto jit = JitModule::compileSource(kGrbm);
  if (!jit) {
    ADD_FAILURE() << llvm::toString(jit.takeError());
    return nullptr;
  }
  return std::move(*jit);
}

/// max |got − expected| / max |expected| (a true relative error).
double strictRelativeError(const HostTensor &got, const HostTensor &expected) {
  double scale = 0.0, worst = 0.0;
  for (int64_t i = 0; i < expected.numElements(); ++i) {
    scale = std::max(scale, std::fabs(expected.elementAsDouble(i)));
    worst = std::max(worst, std::fabs(got.elementAsDouble(i) - expected.elementAsDouble(i)));
  }
  return scale > 0 ? worst / scale : worst;
}

TEST(GrbmClosedForm, ScoreIsMinusGradOfFreeEnergy) {
  auto jit = compileGrbm();
  ASSERT_TRUE(jit);
  Grbm model = Grbm::random(Dv, Dh);
  HostTensor v = randomTensor({B, Dv}, 3, -1.5, 1.5);
  std::vector<HostTensor> args = {v, model.w, model.b, model.c, model.logSigma};

  auto f = jit->call("free_energy", args);
  ASSERT_TRUE(bool(f)) << llvm::toString(f.takeError());
  EXPECT_LT(relativeError((*f)[0], model.freeEnergy(v)), 1e-12) << "free energy";

  auto s = jit->call("score", args);
  ASSERT_TRUE(bool(s)) << llvm::toString(s.takeError());
  EXPECT_LT(relativeError((*s)[0], model.score(v)), 1e-12) << "score";
}

// The hand derivation of ∇_θ L for the exact-marginal DSM loss is
// Grbm::exactDsmGradient (GrbmReference.h).
using DsmGradient = Grbm::DsmGradient;
DsmGradient handDsmGradient(const Grbm &model, const HostTensor &v,
                            const HostTensor &eps) {
  return model.exactDsmGradient(v, eps, kNoise);
}

TEST(GrbmClosedForm, ExactMarginalDsmGradientMatchesHandDerivation) {
  auto jit = compileGrbm();
  ASSERT_TRUE(jit);
  Grbm model = Grbm::random(Dv, Dh);
  HostTensor v = randomTensor({B, Dv}, 4, 0.0, 1.0);
  HostTensor eps = randomTensor({B, Dv}, 5, -1.5, 1.5);
  std::vector<HostTensor> args = {model.w, model.b, model.c, model.logSigma, v, eps};
  DsmGradient expected = handDsmGradient(model, v, eps);

  auto loss = jit->call("dsm_loss", args);
  ASSERT_TRUE(bool(loss)) << llvm::toString(loss.takeError());
  EXPECT_NEAR((*loss)[0].elementAsDouble(0), expected.loss, 1e-12 * expected.loss)
      << "DSM loss";

  auto grad = jit->call("dsm_grad", args);
  ASSERT_TRUE(bool(grad)) << llvm::toString(grad.takeError());
  ASSERT_EQ(grad->size(), 4u);
  const HostTensor *hand[] = {&expected.dW, &expected.db, &expected.dc,
                              &expected.dLogSigma};
  const char *names[] = {"dL/dW", "dL/db", "dL/dc", "dL/dlogsigma"};
  for (size_t k = 0; k < 4; ++k)
    EXPECT_LT(strictRelativeError((*grad)[k], *hand[k]), 1e-10) << names[k];

  // The hand derivation itself against central differences of the loss.
  const double h = 1e-5;
  for (size_t k = 0; k < 4; ++k) {
    HostTensor fd(ElementType::f64, hand[k]->shape());
    for (int64_t i = 0; i < fd.numElements(); ++i) {
      std::vector<HostTensor> plus = args, minus = args;
      plus[k].dataAs<double>()[i] += h;
      minus[k].dataAs<double>()[i] -= h;
      auto up = jit->call("dsm_loss", plus), down = jit->call("dsm_loss", minus);
      ASSERT_TRUE(up && down);
      fd.dataAs<double>()[i] =
          ((*up)[0].elementAsDouble(0) - (*down)[0].elementAsDouble(0)) / (2 * h);
    }
    EXPECT_LT(relativeError(*hand[k], fd), 1e-6) << names[k] << " (hand vs FD)";
  }
}

} // namespace
