//===- AutodiffNestedTest.cpp - higher-order AD through --bism-autodiff ---===//
//
// Nested compositions of bism.grad / bism.hvp / bism.jvp, written as MLIR
// text, compiled through JitModule (which runs --bism-autodiff) and checked
// in f64:
//   - against central differences of the same scalar, computed by running the
//     un-differentiated function through the JIT (the FD is over the outer
//     arguments only; the function itself may contain inner bism.grad ops);
//   - against closed forms for small polynomial/elementwise functions.
// Covered (DESIGN.md §2): ∇_θ ½‖∇_v E‖² (score-matching term, MLP energies
// with softplus/tanh/elu), ∇_θ uᵀ∇_v(uᵀ∇_v log p̃) (the SSM term, nested
// grads and bism.hvp), and ∇_θ J(θ, φᴺ(θ)) for N = 3 unrolled gradient steps
// on a lower-level loss that itself contains ∇_h E (third order in E),
// written inline, as func.call of a @step function and as an scf.for.
//
//===----------------------------------------------------------------------===//
#include "FiniteDifference.h"

#include "llvm/Support/Error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

using namespace bism;
using bism::testing::randomTensor;
using bism::testing::relativeError;
using runtime::ElementType;
using runtime::HostTensor;

namespace {

constexpr double kFdStep = 1e-5;
constexpr double kFdTolerance = 1e-6;

std::unique_ptr<JitModule> compileModule(const std::string &text) {
  auto jit = JitModule::compileSource(text);
  if (!jit) {
    ADD_FAILURE() << llvm::toString(jit.takeError()) << "\nmodule:\n" << text;
    return nullptr;
  }
  return std::move(*jit);
}

std::vector<HostTensor> callFunction(JitModule &jit, const std::string &name,
                                     const std::vector<HostTensor> &inputs) {
  auto results = jit.call(name, inputs);
  if (!results) {
    ADD_FAILURE() << "@" << name << ": " << llvm::toString(results.takeError());
    return {};
  }
  return std::move(*results);
}

double callScalar(JitModule &jit, const std::string &name,
                  const std::vector<HostTensor> &inputs) {
  std::vector<HostTensor> results = callFunction(jit, name, inputs);
  if (results.size() != 1 || results[0].numElements() != 1) {
    ADD_FAILURE() << "@" << name << " did not return one scalar";
    return NAN;
  }
  return results[0].elementAsDouble(0);
}

/// Central-difference gradient of the scalar function `name` w.r.t. its
/// argument `index`.
HostTensor finiteDifferenceGradient(JitModule &jit, const std::string &name,
                                    const std::vector<HostTensor> &inputs,
                                    size_t index, double step = kFdStep) {
  HostTensor gradient(ElementType::f64, inputs[index].shape());
  for (int64_t i = 0; i < gradient.numElements(); ++i) {
    std::vector<HostTensor> plus = inputs, minus = inputs;
    plus[index].dataAs<double>()[i] += step;
    minus[index].dataAs<double>()[i] -= step;
    gradient.dataAs<double>()[i] =
        (callScalar(jit, name, plus) - callScalar(jit, name, minus)) / (2 * step);
  }
  return gradient;
}

/// Calls `gradName` (the AD gradient of `name` w.r.t. `wrt`, one result per
/// entry) and compares each result with central differences of `name`.
void expectGradientMatchesFiniteDifferences(JitModule &jit, const std::string &name,
                                            const std::string &gradName,
                                            const std::vector<HostTensor> &inputs,
                                            const std::vector<size_t> &wrt,
                                            double tolerance = kFdTolerance) {
  SCOPED_TRACE("@" + gradName + " vs FD of @" + name);
  std::vector<HostTensor> ad = callFunction(jit, gradName, inputs);
  ASSERT_EQ(ad.size(), wrt.size());
  for (size_t k = 0; k < wrt.size(); ++k) {
    SCOPED_TRACE("w.r.t. argument " + std::to_string(wrt[k]));
    ASSERT_EQ(ad[k].shape(), inputs[wrt[k]].shape());
    HostTensor fd = finiteDifferenceGradient(jit, name, inputs, wrt[k]);
    double error = relativeError(ad[k], fd);
    EXPECT_LT(error, tolerance);
    // Guard against a vacuous check (a gradient that is identically zero).
    double norm = 0.0;
    for (int64_t i = 0; i < fd.numElements(); ++i)
      norm += std::fabs(fd.elementAsDouble(i));
    EXPECT_GT(norm, 1e-6) << "FD gradient is zero: the test checks nothing";
  }
}

std::string replaceAll(std::string text, const std::string &from,
                       const std::string &to) {
  for (size_t pos = text.find(from); pos != std::string::npos;
       pos = text.find(from, pos + to.size()))
    text.replace(pos, from.size(), to);
  return text;
}

//===----------------------------------------------------------------------===//
// (a) ∇_θ ½‖∇_v E(v;θ)‖², E = sum(act(v W1 + b1) W2)
//===----------------------------------------------------------------------===//

// Types: !v = [B=3, D=2], !w1 = [D, H=4], !b1 = [H], !w2 = [H, 1].
const char *kMlpTypes = R"mlir(
!v = tensor<3x2xf64>
!w1 = tensor<2x4xf64>
!b1 = tensor<4xf64>
!w2 = tensor<4x1xf64>
!hid = tensor<3x4xf64>
)mlir";

// @energy(v, W1, b1, W2) and @logp = -energy; ACT is replaced by the
// activation op.
const char *kMlpEnergy = R"mlir(
func.func @energy(%v: !v, %w1: !w1, %b1: !b1, %w2: !w2) -> tensor<f64> {
  %z = bism.matmul %v, %w1 : !v, !w1 -> !hid
  %bb = bism.broadcast %b1 : !b1 to !hid
  %a = bism.add %z, %bb : !hid
  %h = ACT %a : !hid
  %o = bism.matmul %h, %w2 : !hid, !w2 -> tensor<3x1xf64>
  %e = bism.reduce_sum %o axes [0, 1] : tensor<3x1xf64> -> tensor<f64>
  return %e : tensor<f64>
}

func.func @logp(%v: !v, %w1: !w1, %b1: !b1, %w2: !w2) -> tensor<f64> {
  %z = bism.matmul %v, %w1 : !v, !w1 -> !hid
  %bb = bism.broadcast %b1 : !b1 to !hid
  %a = bism.add %z, %bb : !hid
  %h = ACT %a : !hid
  %o = bism.matmul %h, %w2 : !hid, !w2 -> tensor<3x1xf64>
  %e = bism.reduce_sum %o axes [0, 1] : tensor<3x1xf64> -> tensor<f64>
  %l = bism.neg %e : tensor<f64>
  return %l : tensor<f64>
}
)mlir";

const char *kScoreNorm = R"mlir(
// First order, as a baseline: ∇_v E.
func.func @score(%v: !v, %w1: !w1, %b1: !b1, %w2: !w2) -> !v {
  %g = bism.grad @energy(%v, %w1, %b1, %w2) wrt [0]
      : (!v, !w1, !b1, !w2) -> !v
  return %g : !v
}

func.func @score_norm(%v: !v, %w1: !w1, %b1: !b1, %w2: !w2) -> tensor<f64> {
  %g = bism.grad @energy(%v, %w1, %b1, %w2) wrt [0]
      : (!v, !w1, !b1, !w2) -> !v
  %sq = bism.square %g : !v
  %s = bism.reduce_sum %sq axes [0, 1] : !v -> tensor<f64>
  %half = bism.constant dense<0.5> : tensor<f64>
  %r = bism.mul %s, %half : tensor<f64>
  return %r : tensor<f64>
}

func.func @score_norm_grad(%v: !v, %w1: !w1, %b1: !b1, %w2: !w2)
    -> (!w1, !b1, !w2) {
  %d:3 = bism.grad @score_norm(%v, %w1, %b1, %w2) wrt [1, 2, 3]
      : (!v, !w1, !b1, !w2) -> (!w1, !b1, !w2)
  return %d#0, %d#1, %d#2 : !w1, !b1, !w2
}
)mlir";

std::vector<HostTensor> mlpInputs(unsigned seed) {
  return {randomTensor({3, 2}, seed), randomTensor({2, 4}, seed + 1),
          randomTensor({4}, seed + 2), randomTensor({4, 1}, seed + 3)};
}

std::string mlpModule(const std::string &activation, const std::string &rest) {
  return std::string(kMlpTypes) +
         replaceAll(kMlpEnergy, "ACT", activation) + rest;
}

class AutodiffNestedScoreNorm : public ::testing::TestWithParam<const char *> {};

TEST_P(AutodiffNestedScoreNorm, GradOfHalfSquaredScoreMatchesFiniteDifferences) {
  auto jit = compileModule(mlpModule(GetParam(), kScoreNorm));
  ASSERT_TRUE(jit);
  std::vector<HostTensor> inputs = mlpInputs(11);

  // First order: the score itself against FD of the energy.
  {
    SCOPED_TRACE("@score vs FD of @energy");
    std::vector<HostTensor> score = callFunction(*jit, "score", inputs);
    ASSERT_EQ(score.size(), 1u);
    EXPECT_LT(relativeError(score[0],
                            finiteDifferenceGradient(*jit, "energy", inputs, 0)),
              kFdTolerance);
  }
  expectGradientMatchesFiniteDifferences(*jit, "score_norm", "score_norm_grad",
                                         inputs, {1, 2, 3});
}

INSTANTIATE_TEST_SUITE_P(AutodiffNested, AutodiffNestedScoreNorm,
                         ::testing::Values("bism.softplus", "bism.tanh",
                                           "bism.elu"),
                         [](const ::testing::TestParamInfo<const char *> &info) {
                           return std::string(info.param).substr(5);
                         });

//===----------------------------------------------------------------------===//
// (b) ∇_θ uᵀ∇_v(uᵀ∇_v log p̃), log p̃ = -E: nested grads and bism.hvp
//===----------------------------------------------------------------------===//

const char *kSsm = R"mlir(
func.func @u_dot_score(%v: !v, %u: !v, %w1: !w1, %b1: !b1, %w2: !w2) -> tensor<f64> {
  %s = bism.grad @logp(%v, %w1, %b1, %w2) wrt [0] : (!v, !w1, !b1, !w2) -> !v
  %us = bism.mul %u, %s : !v
  %r = bism.reduce_sum %us axes [0, 1] : !v -> tensor<f64>
  return %r : tensor<f64>
}

// uᵀ∇_v(uᵀ s) with a grad of a function containing a grad.
func.func @ssm_nested(%v: !v, %u: !v, %w1: !w1, %b1: !b1, %w2: !w2) -> tensor<f64> {
  %hs = bism.grad @u_dot_score(%v, %u, %w1, %b1, %w2) wrt [0]
      : (!v, !v, !w1, !b1, !w2) -> !v
  %m = bism.mul %u, %hs : !v
  %r = bism.reduce_sum %m axes [0, 1] : !v -> tensor<f64>
  return %r : tensor<f64>
}

// The same with bism.hvp (direction u for v).
func.func @ssm_hvp(%v: !v, %u: !v, %w1: !w1, %b1: !b1, %w2: !w2) -> tensor<f64> {
  %hu = bism.hvp @logp(%v, %w1, %b1, %w2, %u) wrt [0]
      : (!v, !w1, !b1, !w2, !v) -> !v
  %m = bism.mul %u, %hu : !v
  %r = bism.reduce_sum %m axes [0, 1] : !v -> tensor<f64>
  return %r : tensor<f64>
}

func.func @ssm_nested_grad(%v: !v, %u: !v, %w1: !w1, %b1: !b1, %w2: !w2)
    -> (!w1, !b1, !w2) {
  %d:3 = bism.grad @ssm_nested(%v, %u, %w1, %b1, %w2) wrt [2, 3, 4]
      : (!v, !v, !w1, !b1, !w2) -> (!w1, !b1, !w2)
  return %d#0, %d#1, %d#2 : !w1, !b1, !w2
}

func.func @ssm_hvp_grad(%v: !v, %u: !v, %w1: !w1, %b1: !b1, %w2: !w2)
    -> (!w1, !b1, !w2) {
  %d:3 = bism.grad @ssm_hvp(%v, %u, %w1, %b1, %w2) wrt [2, 3, 4]
      : (!v, !v, !w1, !b1, !w2) -> (!w1, !b1, !w2)
  return %d#0, %d#1, %d#2 : !w1, !b1, !w2
}
)mlir";

std::vector<HostTensor> ssmInputs() {
  std::vector<HostTensor> mlp = mlpInputs(21);
  // u: Rademacher-like ±1 direction, fixed.
  HostTensor u = randomTensor({3, 2}, 99);
  for (int64_t i = 0; i < u.numElements(); ++i)
    u.dataAs<double>()[i] = u.dataAs<double>()[i] < 0 ? -1.0 : 1.0;
  return {mlp[0], u, mlp[1], mlp[2], mlp[3]};
}

TEST(AutodiffNestedSsm, NestedGradAndHvpAgreeAndMatchFiniteDifferences) {
  for (const char *activation : {"bism.softplus", "bism.tanh"}) {
    SCOPED_TRACE(activation);
    auto jit = compileModule(mlpModule(activation, kSsm));
    ASSERT_TRUE(jit);
    std::vector<HostTensor> inputs = ssmInputs();

    // uᵀ H u by both routes, and against a second-order central difference
    // of log p̃ along u.
    double nested = callScalar(*jit, "ssm_nested", inputs);
    double hvp = callScalar(*jit, "ssm_hvp", inputs);
    EXPECT_NEAR(nested, hvp, 1e-12 * std::max(1.0, std::fabs(hvp)));
    {
      const double h = 1e-4;
      std::vector<HostTensor> args = {inputs[0], inputs[2], inputs[3], inputs[4]};
      std::vector<HostTensor> plus = args, minus = args;
      for (int64_t i = 0; i < args[0].numElements(); ++i) {
        plus[0].dataAs<double>()[i] += h * inputs[1].dataAs<double>()[i];
        minus[0].dataAs<double>()[i] -= h * inputs[1].dataAs<double>()[i];
      }
      double second = (callScalar(*jit, "logp", plus) - 2 * callScalar(*jit, "logp", args) +
                       callScalar(*jit, "logp", minus)) / (h * h);
      EXPECT_NEAR(hvp, second, 1e-5 * std::max(1.0, std::fabs(second)));
    }

    expectGradientMatchesFiniteDifferences(*jit, "ssm_nested", "ssm_nested_grad",
                                           inputs, {2, 3, 4});
    expectGradientMatchesFiniteDifferences(*jit, "ssm_hvp", "ssm_hvp_grad",
                                           inputs, {2, 3, 4});
  }
}

//===----------------------------------------------------------------------===//
// (c) ∇_θ J(θ, φᴺ(θ)), φⁿ = φⁿ⁻¹ − α ∇_φ G(θ, φⁿ⁻¹), N = 3
//===----------------------------------------------------------------------===//
//
// θ = (W [D, H], c [H]); φ = d [H]; fixed v [B, D], A [D, H]; B=3, D=2, H=4.
//   h(φ)      = tanh(v A + d)
//   E(v,h;θ)  = Σ ½h² − softplus(v W + c) ⊙ tanh(h)
//   G(θ,φ)    = ½‖∇_h E(v, h(φ); θ)‖²          (second order in E)
//   step: φ ← φ − α ∇_φ G                       (third order in E under ∇_θ)
//   J(θ,φ)    = E(v, h(φ); θ)/B + ½‖∇_v E(v, h(φ); θ)‖²/B
// @bilevel_inline writes the three steps and J inline, @bilevel_call calls
// @step and @J, @bilevel_for runs the steps in an scf.for with iter_args.

const char *kBilevelTypes = R"mlir(
!v = tensor<3x2xf64>
!m = tensor<2x4xf64>
!k = tensor<4xf64>
!h = tensor<3x4xf64>
)mlir";

const char *kBilevelEnergy = R"mlir(
func.func @energy2(%v: !v, %h: !h, %w: !m, %c: !k) -> tensor<f64> {
  %z = bism.matmul %v, %w : !v, !m -> !h
  %cb = bism.broadcast %c : !k to !h
  %a = bism.add %z, %cb : !h
  %sp = bism.softplus %a : !h
  %th = bism.tanh %h : !h
  %x = bism.mul %sp, %th : !h
  %hh = bism.square %h : !h
  %half = bism.constant dense<0.5> : !h
  %q = bism.mul %hh, %half : !h
  %e = bism.sub %q, %x : !h
  %r = bism.reduce_sum %e axes [0, 1] : !h -> tensor<f64>
  return %r : tensor<f64>
}

func.func @G(%w: !m, %c: !k, %d: !k, %v: !v, %a: !m) -> tensor<f64> {
  %z = bism.matmul %v, %a : !v, !m -> !h
  %db = bism.broadcast %d : !k to !h
  %pre = bism.add %z, %db : !h
  %h = bism.tanh %pre : !h
  %gh = bism.grad @energy2(%v, %h, %w, %c) wrt [1] : (!v, !h, !m, !k) -> !h
  %sq = bism.square %gh : !h
  %s = bism.reduce_sum %sq axes [0, 1] : !h -> tensor<f64>
  %half = bism.constant dense<0.5> : tensor<f64>
  %r = bism.mul %s, %half : tensor<f64>
  return %r : tensor<f64>
}
)mlir";

/// d_out = d_in − α ∇_φ G(θ, d_in), SSA names prefixed by `p`.
std::string stepText(const std::string &p, const std::string &in,
                     const std::string &out) {
  return "  %" + p + "g = bism.grad @G(%w, %c, " + in +
         ", %v, %a) wrt [2] : (!m, !k, !k, !v, !m) -> !k\n"
         "  %" + p + "alpha = bism.constant dense<0.2> : !k\n"
         "  %" + p + "s = bism.mul %" + p + "g, %" + p + "alpha : !k\n"
         "  " + out + " = bism.sub " + in + ", %" + p + "s : !k\n";
}

/// out = J(θ, d), SSA names prefixed by `p`.
std::string jText(const std::string &p, const std::string &d,
                  const std::string &out) {
  std::string t = R"mlir(
  %PzA = bism.matmul %v, %a : !v, !m -> !h
  %Pdb = bism.broadcast D : !k to !h
  %Ppre = bism.add %PzA, %Pdb : !h
  %Ph = bism.tanh %Ppre : !h
  %PzW = bism.matmul %v, %w : !v, !m -> !h
  %Pcb = bism.broadcast %c : !k to !h
  %Pact = bism.add %PzW, %Pcb : !h
  %Psp = bism.softplus %Pact : !h
  %Pth = bism.tanh %Ph : !h
  %Px = bism.mul %Psp, %Pth : !h
  %Phh = bism.square %Ph : !h
  %Phalf = bism.constant dense<0.5> : !h
  %Pq = bism.mul %Phh, %Phalf : !h
  %Pe = bism.sub %Pq, %Px : !h
  %Penergy = bism.reduce_sum %Pe axes [0, 1] : !h -> tensor<f64>
  %Pgv = bism.grad @energy2(%v, %Ph, %w, %c) wrt [0] : (!v, !h, !m, !k) -> !v
  %Pgsq = bism.square %Pgv : !v
  %Pgs = bism.reduce_sum %Pgsq axes [0, 1] : !v -> tensor<f64>
  %Phalf0 = bism.constant dense<0.5> : tensor<f64>
  %Pscore = bism.mul %Pgs, %Phalf0 : tensor<f64>
  %Psum = bism.add %Penergy, %Pscore : tensor<f64>
  %PinvB = bism.constant dense<0.33333333333333331> : tensor<f64>
  OUT = bism.mul %Psum, %PinvB : tensor<f64>
)mlir";
  t = replaceAll(t, "%P", "%" + p);
  t = replaceAll(t, " D ", " " + d + " ");
  return replaceAll(t, "OUT", out);
}

std::string bilevelModule() {
  std::string text = std::string(kBilevelTypes) + kBilevelEnergy;
  const std::string params = "(%w: !m, %c: !k, %d0: !k, %v: !v, %a: !m)";

  text += "\nfunc.func @step" + params + " -> !k {\n" +
          stepText("s", "%d0", "%next") + "  return %next : !k\n}\n";
  text += "\nfunc.func @J" + params + " -> tensor<f64> {\n" +
          jText("j", "%d0", "%r") + "  return %r : tensor<f64>\n}\n";

  text += "\nfunc.func @bilevel_inline" + params + " -> tensor<f64> {\n" +
          stepText("s1", "%d0", "%d1") + stepText("s2", "%d1", "%d2") +
          stepText("s3", "%d2", "%d3") + jText("j", "%d3", "%r") +
          "  return %r : tensor<f64>\n}\n";

  text += "\nfunc.func @bilevel_call" + params + R"mlir( -> tensor<f64> {
  %d1 = func.call @step(%w, %c, %d0, %v, %a) : (!m, !k, !k, !v, !m) -> !k
  %d2 = func.call @step(%w, %c, %d1, %v, %a) : (!m, !k, !k, !v, !m) -> !k
  %d3 = func.call @step(%w, %c, %d2, %v, %a) : (!m, !k, !k, !v, !m) -> !k
  %r = func.call @J(%w, %c, %d3, %v, %a) : (!m, !k, !k, !v, !m) -> tensor<f64>
  return %r : tensor<f64>
}
)mlir";

  text += "\nfunc.func @bilevel_for" + params + R"mlir( -> tensor<f64> {
  %lb = arith.constant 0 : index
  %ub = arith.constant 3 : index
  %one = arith.constant 1 : index
  %d3 = scf.for %i = %lb to %ub step %one iter_args(%di = %d0) -> (!k) {
)mlir" + stepText("f", "%di", "%dn") +
          "    scf.yield %dn : !k\n  }\n" + jText("j", "%d3", "%r") +
          "  return %r : tensor<f64>\n}\n";

  for (const char *variant : {"inline", "call", "for"}) {
    std::string name = std::string("bilevel_") + variant;
    text += "\nfunc.func @" + name + "_grad" + params + R"mlir( -> (!m, !k) {
  %g:2 = bism.grad @)mlir" + name + R"mlir((%w, %c, %d0, %v, %a) wrt [0, 1]
      : (!m, !k, !k, !v, !m) -> (!m, !k)
  return %g#0, %g#1 : !m, !k
}
)mlir";
  }
  return text;
}

std::vector<HostTensor> bilevelInputs() {
  return {randomTensor({2, 4}, 31), randomTensor({4}, 32), randomTensor({4}, 33),
          randomTensor({3, 2}, 34), randomTensor({2, 4}, 35)};
}

// One module per variant so a failing construct (func.call, scf.for) is
// reported alone: the shared functions plus @bilevel_<variant>{,_grad}.
std::string bilevelVariantModule(const std::string &variant) {
  const std::string all = bilevelModule();
  const std::string marker = "\nfunc.func @";
  std::string out;
  size_t pos = 0;
  while (pos != std::string::npos) {
    size_t next = all.find(marker, pos + 1);
    std::string chunk = all.substr(pos, next == std::string::npos
                                            ? std::string::npos
                                            : next - pos);
    bool isVariant = chunk.rfind(marker + "bilevel_", 0) == 0;
    if (!isVariant || chunk.rfind(marker + "bilevel_" + variant + "(", 0) == 0 ||
        chunk.rfind(marker + "bilevel_" + variant + "_grad(", 0) == 0)
      out += chunk;
    pos = next;
  }
  return out;
}

class AutodiffNestedBilevel : public ::testing::TestWithParam<const char *> {};

TEST_P(AutodiffNestedBilevel, UnrolledThreeStepGradientMatchesFiniteDifferences) {
  std::string variant = GetParam();
  auto jit = compileModule(bilevelVariantModule(variant));
  ASSERT_TRUE(jit);
  std::vector<HostTensor> inputs = bilevelInputs();
  expectGradientMatchesFiniteDifferences(*jit, "bilevel_" + variant,
                                         "bilevel_" + variant + "_grad", inputs,
                                         {0, 1});
}

INSTANTIATE_TEST_SUITE_P(AutodiffNested, AutodiffNestedBilevel,
                         ::testing::Values("inline", "call", "for"),
                         [](const ::testing::TestParamInfo<const char *> &info) {
                           return std::string(info.param);
                         });

// The three variants compute the same number (and so the same gradient).
TEST(AutodiffNestedBilevelAgreement, VariantsAgree) {
  auto jit = compileModule(bilevelModule());
  ASSERT_TRUE(jit);
  std::vector<HostTensor> inputs = bilevelInputs();
  double inlined = callScalar(*jit, "bilevel_inline", inputs);
  EXPECT_NEAR(callScalar(*jit, "bilevel_call", inputs), inlined, 1e-12);
  EXPECT_NEAR(callScalar(*jit, "bilevel_for", inputs), inlined, 1e-12);
  std::vector<HostTensor> g = callFunction(*jit, "bilevel_inline_grad", inputs);
  for (const char *other : {"bilevel_call_grad", "bilevel_for_grad"}) {
    SCOPED_TRACE(other);
    std::vector<HostTensor> h = callFunction(*jit, other, inputs);
    ASSERT_EQ(h.size(), g.size());
    for (size_t k = 0; k < g.size(); ++k)
      EXPECT_LT(relativeError(h[k], g[k]), 1e-12);
  }
}

//===----------------------------------------------------------------------===//
// Closed forms: second and third derivatives of small elementwise functions
//===----------------------------------------------------------------------===//

const char *kClosedForm = R"mlir(
!x = tensor<5xf64>

// f(x) = Σ x³: ∇f = 3x², H u = 6 x ⊙ u, ∇_x(wᵀ H u) = 6 u ⊙ w.
func.func @cube(%x: !x) -> tensor<f64> {
  %x2 = bism.square %x : !x
  %x3 = bism.mul %x2, %x : !x
  %s = bism.reduce_sum %x3 axes [0] : !x -> tensor<f64>
  return %s : tensor<f64>
}
func.func @cube_grad(%x: !x) -> !x {
  %g = bism.grad @cube(%x) wrt [0] : (!x) -> !x
  return %g : !x
}
func.func @cube_hvp(%x: !x, %u: !x) -> !x {
  %h = bism.hvp @cube(%x, %u) wrt [0] : (!x, !x) -> !x
  return %h : !x
}
func.func @cube_grad_dot(%x: !x, %u: !x) -> tensor<f64> {
  %g = bism.grad @cube(%x) wrt [0] : (!x) -> !x
  %m = bism.mul %g, %u : !x
  %s = bism.reduce_sum %m axes [0] : !x -> tensor<f64>
  return %s : tensor<f64>
}
// grad(grad(...)).
func.func @cube_grad_grad(%x: !x, %u: !x) -> !x {
  %h = bism.grad @cube_grad_dot(%x, %u) wrt [0] : (!x, !x) -> !x
  return %h : !x
}
// jvp of a function returning a grad (forward over reverse, by hand).
func.func @cube_jvp_of_grad(%x: !x, %u: !x) -> !x {
  %h = bism.jvp @cube_grad(%x, %u) wrt [0] : (!x, !x) -> !x
  return %h : !x
}
// vjp of a function returning a grad (reverse over reverse).
func.func @cube_vjp_of_grad(%x: !x, %u: !x) -> !x {
  %h = bism.vjp @cube_grad(%x, %u) wrt [0] : (!x, !x) -> !x
  return %h : !x
}
// Third order: ∇_x wᵀ H(x) u = 6 u ⊙ w.
func.func @cube_hvp_dot(%x: !x, %u: !x, %w: !x) -> tensor<f64> {
  %h = bism.hvp @cube(%x, %u) wrt [0] : (!x, !x) -> !x
  %m = bism.mul %h, %w : !x
  %s = bism.reduce_sum %m axes [0] : !x -> tensor<f64>
  return %s : tensor<f64>
}
func.func @cube_third(%x: !x, %u: !x, %w: !x) -> !x {
  %t = bism.grad @cube_hvp_dot(%x, %u, %w) wrt [0] : (!x, !x, !x) -> !x
  return %t : !x
}

// f(x) = Σ tanh x: H u = −2 tanh(x)(1 − tanh²x) ⊙ u.
func.func @tanh_sum(%x: !x) -> tensor<f64> {
  %t = bism.tanh %x : !x
  %s = bism.reduce_sum %t axes [0] : !x -> tensor<f64>
  return %s : tensor<f64>
}
func.func @tanh_hvp(%x: !x, %u: !x) -> !x {
  %h = bism.hvp @tanh_sum(%x, %u) wrt [0] : (!x, !x) -> !x
  return %h : !x
}

// f(x) = Σ elu x: H u = (x > 0 ? 0 : eˣ) ⊙ u, finite where eˣ overflows
// (x = 800): the unused branch's slope must not turn 0 into 0 · ∞ = NaN.
func.func @elu_sum(%x: !x) -> tensor<f64> {
  %e = bism.elu %x : !x
  %s = bism.reduce_sum %e axes [0] : !x -> tensor<f64>
  return %s : tensor<f64>
}
func.func @elu_hvp(%x: !x, %u: !x) -> !x {
  %h = bism.hvp @elu_sum(%x, %u) wrt [0] : (!x, !x) -> !x
  return %h : !x
}
// Reverse over reverse: ∇_x (u · ∇f) = elu''(x) ⊙ u.
func.func @elu_grad_dot(%x: !x, %u: !x) -> tensor<f64> {
  %g = bism.grad @elu_sum(%x) wrt [0] : (!x) -> !x
  %m = bism.mul %g, %u : !x
  %s = bism.reduce_sum %m axes [0] : !x -> tensor<f64>
  return %s : tensor<f64>
}
func.func @elu_grad_grad(%x: !x, %u: !x) -> !x {
  %h = bism.grad @elu_grad_dot(%x, %u) wrt [0] : (!x, !x) -> !x
  return %h : !x
}
func.func @elu_hvp_dot(%x: !x, %u: !x, %w: !x) -> tensor<f64> {
  %h = bism.hvp @elu_sum(%x, %u) wrt [0] : (!x, !x) -> !x
  %m = bism.mul %h, %w : !x
  %s = bism.reduce_sum %m axes [0] : !x -> tensor<f64>
  return %s : tensor<f64>
}
func.func @elu_third(%x: !x, %u: !x, %w: !x) -> !x {
  %t = bism.grad @elu_hvp_dot(%x, %u, %w) wrt [0] : (!x, !x, !x) -> !x
  return %t : !x
}

// f(x) = Σ sqrt x: ∇f = 1 / (2 sqrt x), H u = −u / (4 x^{3/2}); at x = 0
// both are 0 by convention (ElementwiseDerivatives.cpp), and finite.
func.func @sqrt_sum(%x: !x) -> tensor<f64> {
  %r = bism.sqrt %x : !x
  %s = bism.reduce_sum %r axes [0] : !x -> tensor<f64>
  return %s : tensor<f64>
}
func.func @sqrt_grad(%x: !x) -> !x {
  %g = bism.grad @sqrt_sum(%x) wrt [0] : (!x) -> !x
  return %g : !x
}
func.func @sqrt_hvp(%x: !x, %u: !x) -> !x {
  %h = bism.hvp @sqrt_sum(%x, %u) wrt [0] : (!x, !x) -> !x
  return %h : !x
}

// f(x, y) = Σ x² ⊙ y, joint HVP w.r.t. (x, y) with direction (u, w):
//   H = [[diag 2y, diag 2x], [diag 2x, 0]]
//   (H(u, w))_x = 2 y ⊙ u + 2 x ⊙ w,  (H(u, w))_y = 2 x ⊙ u.
func.func @xxy(%x: !x, %y: !x) -> tensor<f64> {
  %x2 = bism.square %x : !x
  %m = bism.mul %x2, %y : !x
  %s = bism.reduce_sum %m axes [0] : !x -> tensor<f64>
  return %s : tensor<f64>
}
func.func @xxy_hvp(%x: !x, %y: !x, %u: !x, %w: !x) -> (!x, !x) {
  %h:2 = bism.hvp @xxy(%x, %y, %u, %w) wrt [0, 1] : (!x, !x, !x, !x) -> (!x, !x)
  return %h#0, %h#1 : !x, !x
}
)mlir";

HostTensor elementwise(const std::vector<const HostTensor *> &args,
                       double (*f)(const double *)) {
  HostTensor out(ElementType::f64, args[0]->shape());
  for (int64_t i = 0; i < out.numElements(); ++i) {
    double values[4];
    for (size_t k = 0; k < args.size(); ++k)
      values[k] = args[k]->elementAsDouble(i);
    out.dataAs<double>()[i] = f(values);
  }
  return out;
}

TEST(AutodiffNestedClosedForm, HigherDerivativesOfElementwiseFunctions) {
  auto jit = compileModule(kClosedForm);
  ASSERT_TRUE(jit);
  HostTensor x = randomTensor({5}, 41, -2.0, 2.0);
  HostTensor u = randomTensor({5}, 42);
  HostTensor w = randomTensor({5}, 43);
  const double tol = 1e-12;

  auto expectOne = [&](const std::string &name, const std::vector<HostTensor> &in,
                       const HostTensor &expected) {
    SCOPED_TRACE("@" + name);
    std::vector<HostTensor> got = callFunction(*jit, name, in);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_LT(relativeError(got[0], expected), tol);
  };

  HostTensor threeXSquared =
      elementwise({&x}, [](const double *a) { return 3 * a[0] * a[0]; });
  HostTensor sixXU =
      elementwise({&x, &u}, [](const double *a) { return 6 * a[0] * a[1]; });
  HostTensor sixUW =
      elementwise({&u, &w}, [](const double *a) { return 6 * a[0] * a[1]; });
  expectOne("cube_grad", {x}, threeXSquared);
  expectOne("cube_hvp", {x, u}, sixXU);
  expectOne("cube_grad_grad", {x, u}, sixXU);
  expectOne("cube_jvp_of_grad", {x, u}, sixXU);
  expectOne("cube_vjp_of_grad", {x, u}, sixXU); // the Hessian is symmetric
  expectOne("cube_third", {x, u, w}, sixUW);
  expectOne("tanh_hvp", {x, u},
            elementwise({&x, &u}, [](const double *a) {
              double t = std::tanh(a[0]);
              return -2 * t * (1 - t * t) * a[1];
            }));

  HostTensor wide(ElementType::f64, {5});
  const double wideValues[5] = {800.0, 1.0, -0.5, -2.0, 0.3};
  std::copy(wideValues, wideValues + 5, wide.dataAs<double>());
  HostTensor eluSecond = elementwise({&wide, &u}, [](const double *a) {
    return a[0] > 0 ? 0.0 : std::exp(a[0]) * a[1];
  });
  expectOne("elu_hvp", {wide, u}, eluSecond);
  expectOne("elu_grad_grad", {wide, u}, eluSecond);
  expectOne("elu_third", {wide, u, w},
            elementwise({&wide, &u, &w}, [](const double *a) {
              return a[0] > 0 ? 0.0 : std::exp(a[0]) * a[1] * a[2];
            }));

  HostTensor roots(ElementType::f64, {5});
  const double rootValues[5] = {0.0, 1.0, 4.0, 0.25, 0.0};
  std::copy(rootValues, rootValues + 5, roots.dataAs<double>());
  expectOne("sqrt_grad", {roots}, elementwise({&roots}, [](const double *a) {
              return a[0] > 0 ? 0.5 / std::sqrt(a[0]) : 0.0;
            }));
  expectOne("sqrt_hvp", {roots, u},
            elementwise({&roots, &u}, [](const double *a) {
              return a[0] > 0 ? -0.25 * a[1] / std::pow(a[0], 1.5) : 0.0;
            }));

  HostTensor y = randomTensor({5}, 44);
  std::vector<HostTensor> h = callFunction(*jit, "xxy_hvp", {x, y, u, w});
  ASSERT_EQ(h.size(), 2u);
  HostTensor hx = elementwise({&x, &y, &u, &w}, [](const double *a) {
    return 2 * a[1] * a[2] + 2 * a[0] * a[3];
  });
  HostTensor hy =
      elementwise({&x, &u}, [](const double *a) { return 2 * a[0] * a[1]; });
  EXPECT_LT(relativeError(h[0], hx), tol) << "@xxy_hvp, x part";
  EXPECT_LT(relativeError(h[1], hy), tol) << "@xxy_hvp, y part";
}

} // namespace
