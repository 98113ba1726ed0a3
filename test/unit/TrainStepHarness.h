//===- TrainStepHarness.h - building and running the step in tests -*- C++ -*-===//
//
// Shared by TrainStepTest.cpp and ObjectivesTest.cpp: the GRBM and
// Gaussian-latent model files (f64, B = 8, D = 2, H = 4), buildStep (parse,
// --bism-build-train-step, JIT), the inputs/outputs of
// @train_step_with_noise in BuildTrainStep.h's order, the relaxed-Bernoulli
// GRBM terms and finite-difference helpers.
//
//===----------------------------------------------------------------------===//
#ifndef BISM_TEST_TRAINSTEPHARNESS_H
#define BISM_TEST_TRAINSTEPHARNESS_H

#include "FiniteDifference.h"
#include "GrbmReference.h"

#include "bism/Execution/JitModule.h"
#include "bism/Lowering/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/Error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

namespace bism::trainstep {

using bism::testing::Grbm;
using bism::testing::randomTensor;
using bism::testing::relativeError;
using bism::testing::sigmoid;
using bism::testing::softplus;
using runtime::ElementType;
using runtime::HostTensor;

inline constexpr int64_t B = 8, D = 2, H = 4;

//===----------------------------------------------------------------------===//
// Model files
//===----------------------------------------------------------------------===//

inline const char *kTypes = R"mlir(
!v = tensor<8x2xf64>
!h = tensor<8x4xf64>
!w = tensor<2x4xf64>
!d = tensor<2xf64>
!k = tensor<4xf64>
!n = tensor<8xf64>
)mlir";

/// GRBM, E = ½Σ(v−b)² e^{−2 logσ} − cᵀh − (vW)·h; relaxed Bernoulli q with
/// logits vA + d. θ = (W, b, c, logσ), φ = (A, d).
inline std::string grbmModel(const std::string &spec, double temperature = 0.1) {
  return std::string(kTypes) + R"mlir(
func.func private @energy(%v: !v, %h: !h, %w: !w, %b: !d, %c: !k, %ls: !d) -> !n {
  %half = bism.constant dense<0.5> : !n
  %m2 = bism.constant dense<-2.0> : !d
  %bb = bism.broadcast %b : !d to !v
  %cen = bism.sub %v, %bb : !v
  %sq = bism.square %cen : !v
  %sls = bism.mul %ls, %m2 : !d
  %p = bism.exp %sls : !d
  %pb = bism.broadcast %p : !d to !v
  %wq = bism.mul %sq, %pb : !v
  %qs = bism.reduce_sum %wq axes [1] : !v -> !n
  %q = bism.mul %qs, %half : !n
  %vw = bism.matmul %v, %w : !v, !w -> !h
  %cb = bism.broadcast %c : !k to !h
  %field = bism.add %vw, %cb : !h
  %coupling = bism.mul %field, %h : !h
  %inter = bism.reduce_sum %coupling axes [1] : !h -> !n
  %e = bism.sub %q, %inter : !n
  return %e : !n
}

func.func private @logits(%v: !v, %a: !w, %d: !k) -> !h {
  %va = bism.matmul %v, %a : !v, !w -> !h
  %db = bism.broadcast %d : !k to !h
  %l = bism.add %va, %db : !h
  return %l : !h
}

bism.model @grbm energy @energy [@W, @b, @c, @logsigma]
    posterior "bernoulli" @logits [@A, @d] temperature )mlir" +
         std::to_string(temperature) + R"mlir(
    spec {)mlir" + spec + R"mlir(} {
  bism.param @W : tensor<2x4xf64> {group = "theta", init = "normal", std = 0.01}
  bism.param @b : tensor<2xf64> {group = "theta", init = "zeros"}
  bism.param @c : tensor<4xf64> {group = "theta", init = "zeros"}
  bism.param @logsigma : tensor<2xf64> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x4xf64> {group = "phi", init = "normal", std = 0.01}
  bism.param @d : tensor<4xf64> {group = "phi", init = "zeros"}
}
)mlir";
}

/// The GRBM of grbmModel with `free_energy @free_energy [θ]` (its closed
/// form F(v) = ½Σ(v−b)²e^{−2logσ} − Σ softplus(c + vW)) and any further
/// model clauses and functions (`extraClauses`, `extraFunctions`) added.
inline std::string grbmWithFreeEnergy(const std::string &spec,
                                      const std::string &extraClauses = "",
                                      const std::string &extraFunctions = "") {
  std::string text = grbmModel(spec);
  const std::string model =
      "bism.model @grbm energy @energy [@W, @b, @c, @logsigma]";
  size_t at = text.find(model);
  EXPECT_NE(at, std::string::npos);
  text.insert(at + model.size(),
              "\n    free_energy @free_energy [@W, @b, @c, @logsigma]" +
                  extraClauses);
  text.insert(at, "\n" + std::string(R"mlir(func.func private @free_energy(%v: !v, %w: !w, %b: !d, %c: !k, %ls: !d) -> !n {
  %half = bism.constant dense<0.5> : !n
  %m2 = bism.constant dense<-2.0> : !d
  %bb = bism.broadcast %b : !d to !v
  %cen = bism.sub %v, %bb : !v
  %sq = bism.square %cen : !v
  %sls = bism.mul %ls, %m2 : !d
  %p = bism.exp %sls : !d
  %pb = bism.broadcast %p : !d to !v
  %wq = bism.mul %sq, %pb : !v
  %qs = bism.reduce_sum %wq axes [1] : !v -> !n
  %q = bism.mul %qs, %half : !n
  %vw = bism.matmul %v, %w : !v, !w -> !h
  %cb = bism.broadcast %c : !k to !h
  %pre = bism.add %vw, %cb : !h
  %sp = bism.softplus %pre : !h
  %lat = bism.reduce_sum %sp axes [1] : !h -> !n
  %f = bism.sub %q, %lat : !n
  return %f : !n
}
)mlir") +
                      extraFunctions + "\n");
  return text;
}

/// Gaussian latents: E = ½‖v − b‖² + ½‖h‖² − h·(vW + c); Gaussian q with
/// μ = vA + d and logstd = s (per latent). θ = (W, b, c), φ = (A, d, s).
inline std::string gaussianModel(const std::string &spec) {
  return std::string(kTypes) + R"mlir(
func.func private @energy(%v: !v, %h: !h, %w: !w, %b: !d, %c: !k) -> !n {
  %half = bism.constant dense<0.5> : !n
  %bb = bism.broadcast %b : !d to !v
  %cen = bism.sub %v, %bb : !v
  %sq = bism.square %cen : !v
  %qs = bism.reduce_sum %sq axes [1] : !v -> !n
  %hsq = bism.square %h : !h
  %hs = bism.reduce_sum %hsq axes [1] : !h -> !n
  %both = bism.add %qs, %hs : !n
  %quad = bism.mul %both, %half : !n
  %vw = bism.matmul %v, %w : !v, !w -> !h
  %cb = bism.broadcast %c : !k to !h
  %field = bism.add %vw, %cb : !h
  %coupling = bism.mul %field, %h : !h
  %inter = bism.reduce_sum %coupling axes [1] : !h -> !n
  %e = bism.sub %quad, %inter : !n
  return %e : !n
}

func.func private @posterior(%v: !v, %a: !w, %d: !k, %s: !k) -> (!h, !h) {
  %va = bism.matmul %v, %a : !v, !w -> !h
  %db = bism.broadcast %d : !k to !h
  %mu = bism.add %va, %db : !h
  %ls = bism.broadcast %s : !k to !h
  return %mu, %ls : !h, !h
}

bism.model @gauss energy @energy [@W, @b, @c]
    posterior "gaussian" @posterior [@A, @d, @s]
    spec {)mlir" + spec + R"mlir(} {
  bism.param @W : tensor<2x4xf64> {group = "theta", init = "normal", std = 0.01}
  bism.param @b : tensor<2xf64> {group = "theta", init = "zeros"}
  bism.param @c : tensor<4xf64> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x4xf64> {group = "phi", init = "normal", std = 0.01}
  bism.param @d : tensor<4xf64> {group = "phi", init = "zeros"}
  bism.param @s : tensor<4xf64> {group = "phi", init = "zeros"}
}
)mlir";
}

/// Parses `text`, runs --bism-build-train-step (with the evaluation
/// functions if asked), makes the private helpers in `makePublic` callable
/// and compiles.
inline std::unique_ptr<JitModule> buildStep(const std::string &text,
                                     const std::vector<std::string> &makePublic = {},
                                     bool evaluation = false) {
  mlir::DialectRegistry registry;
  registerExecutionDialects(registry);
  mlir::MLIRContext context(registry);
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &diag) {
    diagnostics += diag.str() + "\n";
    return mlir::success();
  });
  auto module = mlir::parseSourceString<mlir::ModuleOp>(text, &context);
  if (!module) {
    ADD_FAILURE() << "cannot parse the model:\n" << diagnostics << text;
    return nullptr;
  }
  mlir::PassManager pm(&context);
  BismBuildTrainStepOptions options;
  options.evaluation = evaluation;
  pm.addPass(createBismBuildTrainStep(options));
  if (mlir::failed(pm.run(*module))) {
    ADD_FAILURE() << "--bism-build-train-step failed:\n" << diagnostics;
    return nullptr;
  }
  for (const std::string &name : makePublic) {
    auto func = module->lookupSymbol<mlir::func::FuncOp>(name);
    if (!func) {
      ADD_FAILURE() << "the step has no @" << name;
      return nullptr;
    }
    func.setPublic();
  }
  auto jit = JitModule::compile(*module);
  if (!jit) {
    ADD_FAILURE() << llvm::toString(jit.takeError());
    return nullptr;
  }
  return std::move(*jit);
}

//===----------------------------------------------------------------------===//
// Inputs and outputs of @train_step_with_noise
//===----------------------------------------------------------------------===//

inline HostTensor scalar(double value) {
  HostTensor t(ElementType::f64, {});
  t.dataAs<double>()[0] = value;
  return t;
}

inline double at(const HostTensor &t, int64_t i) { return t.dataAs<double>()[i]; }

/// The step's state (BuildTrainStep.h order), batch and noise.
struct StepInputs {
  std::vector<HostTensor> theta, phi, mTheta, sTheta, mPhi, sPhi;
  HostTensor tTheta = scalar(0), tPhi = scalar(0), v;
  /// objective noise (ε or u), then per posterior stage (inner 0..K-1,
  /// unroll 0..N-1, upper) g1, g2 (Bernoulli) or ξ (Gaussian).
  std::vector<HostTensor> noise;

  std::vector<HostTensor> state() const {
    std::vector<HostTensor> all;
    for (const auto *group : {&theta, &phi, &mTheta, &sTheta, &mPhi, &sPhi})
      all.insert(all.end(), group->begin(), group->end());
    all.push_back(tTheta);
    all.push_back(tPhi);
    return all;
  }
  std::vector<HostTensor> all() const {
    std::vector<HostTensor> inputs = state();
    inputs.push_back(v);
    inputs.insert(inputs.end(), noise.begin(), noise.end());
    return inputs;
  }
  /// The posterior noise of stage `stage` (0-based over inner, unroll, upper).
  const HostTensor &stageNoise(size_t stage, size_t which, size_t perStage) const {
    return noise[1 + stage * perStage + which];
  }
};

struct StepOutputs {
  std::vector<HostTensor> theta, phi, mTheta, sTheta, mPhi, sPhi;
  HostTensor tTheta, tPhi;
  double j = 0, lowerBefore = 0, lowerAfter = 0, gradNorm = 0;
};

inline StepOutputs unpack(const std::vector<HostTensor> &r, size_t nt, size_t np) {
  StepOutputs out;
  size_t i = 0;
  auto take = [&](std::vector<HostTensor> &into, size_t count) {
    for (size_t k = 0; k < count; ++k)
      into.push_back(r[i++]);
  };
  take(out.theta, nt);
  take(out.phi, np);
  take(out.mTheta, nt);
  take(out.sTheta, nt);
  take(out.mPhi, np);
  take(out.sPhi, np);
  out.tTheta = r[i++];
  out.tPhi = r[i++];
  out.j = r[i++].elementAsDouble(0);
  out.lowerBefore = r[i++].elementAsDouble(0);
  out.lowerAfter = r[i++].elementAsDouble(0);
  out.gradNorm = r[i++].elementAsDouble(0);
  EXPECT_EQ(i, r.size()) << "unexpected number of results";
  return out;
}

inline std::vector<HostTensor> zerosLike(const std::vector<HostTensor> &tensors) {
  std::vector<HostTensor> out;
  for (const HostTensor &t : tensors)
    out.emplace_back(ElementType::f64, t.shape());
  return out;
}

/// Random moments (m in [−0.1, 0.1], s in [0.01, 0.1]) shaped like `params`.
inline void randomMoments(const std::vector<HostTensor> &params, unsigned seed,
                   std::vector<HostTensor> &m, std::vector<HostTensor> &s) {
  m.clear();
  s.clear();
  for (const HostTensor &p : params) {
    m.push_back(randomTensor(p.shape(), seed++, -0.1, 0.1));
    s.push_back(randomTensor(p.shape(), seed++, 0.01, 0.1));
  }
}

/// Bernoulli GRBM inputs; `stages` posterior stages (K + N + 1), each g1, g2.
inline StepInputs grbmInputs(const Grbm &model, size_t stages, bool rademacher = false,
                      unsigned seed = 100) {
  StepInputs in;
  in.theta = {model.w, model.b, model.c, model.logSigma};
  in.phi = {randomTensor({D, H}, seed), randomTensor({H}, seed + 1)};
  in.mTheta = zerosLike(in.theta);
  in.sTheta = zerosLike(in.theta);
  in.mPhi = zerosLike(in.phi);
  in.sPhi = zerosLike(in.phi);
  in.v = randomTensor({B, D}, seed + 2, -1.5, 1.5);
  HostTensor objective = randomTensor({B, D}, seed + 3, -1.5, 1.5);
  if (rademacher)
    for (int64_t i = 0; i < objective.numElements(); ++i)
      objective.dataAs<double>()[i] = objective.dataAs<double>()[i] < 0 ? -1.0 : 1.0;
  in.noise.push_back(objective);
  for (size_t stage = 0; stage < 2 * stages; ++stage)
    in.noise.push_back(randomTensor({B, H}, seed + 10 + unsigned(stage), -1.0, 2.0));
  return in;
}

/// Inputs of gaussianModel (θ = W, b, c; φ = A, d, s); `stages` posterior
/// stages, each ξ.
inline StepInputs gaussianInputs(size_t stages, unsigned seed) {
  StepInputs in;
  in.theta = {randomTensor({D, H}, seed), randomTensor({D}, seed + 1),
              randomTensor({H}, seed + 2)};
  in.phi = {randomTensor({D, H}, seed + 3), randomTensor({H}, seed + 4),
            randomTensor({H}, seed + 5, -0.5, 0.5)};
  in.mTheta = zerosLike(in.theta);
  in.sTheta = zerosLike(in.theta);
  in.mPhi = zerosLike(in.phi);
  in.sPhi = zerosLike(in.phi);
  in.v = randomTensor({B, D}, seed + 6, -1.5, 1.5);
  in.noise.push_back(randomTensor({B, D}, seed + 7, -1.5, 1.5));
  for (size_t stage = 0; stage < stages; ++stage)
    in.noise.push_back(randomTensor({B, H}, seed + 10 + unsigned(stage), -1.5, 1.5));
  return in;
}

//===----------------------------------------------------------------------===//
// The GRBM with a relaxed Bernoulli posterior
//===----------------------------------------------------------------------===//

/// ℓ = xA + d.
inline HostTensor affine(const HostTensor &x, const HostTensor &a, const HostTensor &d) {
  HostTensor l(ElementType::f64, {B, H});
  for (int64_t i = 0; i < B; ++i)
    for (int64_t k = 0; k < H; ++k) {
      double value = at(d, k);
      for (int64_t j = 0; j < D; ++j)
        value += at(x, i * D + j) * at(a, j * H + k);
      l.dataAs<double>()[i * H + k] = value;
    }
  return l;
}

/// Relaxed Bernoulli: h = sigmoid((ℓ + g1 − g2) / τ).
inline HostTensor relaxedSample(const HostTensor &logits, const HostTensor &g1,
                         const HostTensor &g2, double tau) {
  HostTensor h(ElementType::f64, {B, H});
  for (int64_t i = 0; i < B * H; ++i)
    h.dataAs<double>()[i] = sigmoid((at(logits, i) + at(g1, i) - at(g2, i)) / tau);
  return h;
}

/// The GRBM with a Bernoulli q(h|x) of logits ℓ = xA + d, at the relaxed h.
struct BernoulliGrbmTerms {
  HostTensor x, logits, h;
  /// s = −∇_x[E + log q] = −(x − b)P + W h − A(h − sigmoid(ℓ)).
  HostTensor s{ElementType::f64, {B, D}};

  BernoulliGrbmTerms(const Grbm &m, const HostTensor &a, const HostTensor &d,
                     double tau, HostTensor xIn, const HostTensor &g1,
                     const HostTensor &g2)
      : x(std::move(xIn)), logits(affine(x, a, d)),
        h(relaxedSample(logits, g1, g2, tau)) {
    for (int64_t i = 0; i < B; ++i)
      for (int64_t j = 0; j < D; ++j) {
        double value = -(at(x, i * D + j) - at(m.b, j)) * m.P(j);
        for (int64_t k = 0; k < H; ++k) {
          double hk = at(h, i * H + k);
          value += m.W(j, k) * hk - at(a, j * H + k) * (hk - sigmoid(at(logits, i * H + k)));
        }
        s.dataAs<double>()[i * D + j] = value;
      }
  }
};

//===----------------------------------------------------------------------===//
// Tensors, calls, finite differences
//===----------------------------------------------------------------------===//

inline HostTensor difference(const HostTensor &a, const HostTensor &b, double scale = 1.0) {
  HostTensor out = a;
  for (int64_t i = 0; i < out.numElements(); ++i)
    out.dataAs<double>()[i] = (at(a, i) - at(b, i)) * scale;
  return out;
}

inline double sumSquares(const std::vector<HostTensor> &tensors) {
  double sum = 0.0;
  for (const HostTensor &t : tensors)
    for (int64_t i = 0; i < t.numElements(); ++i)
      sum += at(t, i) * at(t, i);
  return sum;
}

inline std::vector<HostTensor> call(JitModule &jit, const std::string &name,
                             const std::vector<HostTensor> &inputs) {
  auto results = jit.call(name, inputs);
  if (!results) {
    ADD_FAILURE() << "@" << name << ": " << llvm::toString(results.takeError());
    return {};
  }
  return std::move(*results);
}

/// `train_step(state, v, key)` equals `train_step_with_noise(state, v,
/// noise)` when `in.noise` holds draw_noise(key).
inline void expectKeyedStepMatchesNoiseFed(JitModule &jit, const StepInputs &in,
                                           const HostTensor &key) {
  std::vector<HostTensor> keyed = in.state();
  keyed.push_back(in.v);
  keyed.push_back(key);
  std::vector<HostTensor> a = call(jit, "train_step", keyed);
  std::vector<HostTensor> b = call(jit, "train_step_with_noise", in.all());
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_LT(relativeError(a[i], b[i]), 1e-12) << "result " << i;
}

/// Central differences of the scalar `f` in every element of `params[k]`.
template <typename F>
inline std::vector<HostTensor> centralDifferences(const std::vector<HostTensor> &params,
                                           F f, double step = 1e-5) {
  std::vector<HostTensor> out;
  for (size_t k = 0; k < params.size(); ++k) {
    HostTensor fd(ElementType::f64, params[k].shape());
    for (int64_t i = 0; i < fd.numElements(); ++i) {
      std::vector<HostTensor> plus = params, minus = params;
      plus[k].dataAs<double>()[i] += step;
      minus[k].dataAs<double>()[i] -= step;
      fd.dataAs<double>()[i] = (f(plus) - f(minus)) / (2 * step);
    }
    out.push_back(fd);
  }
  return out;
}

inline const char *kThetaNames[] = {"W", "b", "c", "logsigma"};

} // namespace bism::trainstep

#endif // BISM_TEST_TRAINSTEPHARNESS_H
