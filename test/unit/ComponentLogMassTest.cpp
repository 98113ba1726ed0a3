//===- ComponentLogMassTest.cpp - the GRBM's component_log_mass clause ----===//
//
// examples/grbm/checkerboard.mlir declares `component_log_mass
// @component_log_mass [θ]`: for each binary latent configuration h, log ∫
// exp(−E(v, h; θ)) dv. The example (switched to f64) is read with readModel
// and its function compiled with JitModule, then checked with random θ
// against 2-D quadrature (trapezoid rule on a wide, fine grid, in f64):
//   - one component against the quadrature of exp(−E(v, h)),
//   - logsumexp over all 16 components (log Z) against the quadrature of
//     exp(−F(v)), F the closed-form free energy,
// and every component against the closed form in C++.
//
//===----------------------------------------------------------------------===//
#include "GrbmReference.h"
#include "TempFiles.h"

#include "bism/Dialect/Bism.h"
#include "bism/Execution/JitModule.h"
#include "bism/Train/Model.h"
#include "bism/Train/SpecializeBatch.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/Error.h"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <sstream>

using namespace bism;
using bism::testing::Grbm;
using runtime::ElementType;
using runtime::HostTensor;

namespace {

constexpr int64_t D = 2, H = 4, C = 16;

using bism::test::readExample;
using bism::test::replaceAll;

/// log ∫ exp(f(v)) dv over [−R, R]², trapezoid rule with step h (the
/// integrands are Gaussians or mixtures of them with σ ≥ e^{−1/2}: the rule
/// is exact to rounding for this step, the range covers every mean ± 15σ).
double logIntegral(const std::function<double(double, double)> &f) {
  const double R = 45.0, step = 0.05;
  const int n = int(2 * R / step) + 1;
  std::vector<double> values(size_t(n) * n);
  double top = -INFINITY;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      double value = f(-R + i * step, -R + j * step);
      values[size_t(i) * n + j] = value;
      top = std::max(top, value);
    }
  double sum = 0.0;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      double weight = (i == 0 || i == n - 1 ? 0.5 : 1.0) *
                      (j == 0 || j == n - 1 ? 0.5 : 1.0);
      sum += weight * std::exp(values[size_t(i) * n + j] - top);
    }
  return top + std::log(sum * step * step);
}

/// Row n of the configurations: h_k = bit k of n.
HostTensor allConfigurations() {
  HostTensor hs(ElementType::f64, {C, H});
  for (int64_t n = 0; n < C; ++n)
    for (int64_t k = 0; k < H; ++k)
      hs.dataAs<double>()[n * H + k] = double((n >> k) & 1);
  return hs;
}

TEST(ComponentLogMass, CheckerboardExampleMatchesQuadrature) {
  mlir::DialectRegistry registry;
  registerExecutionDialects(registry);
  mlir::MLIRContext context(registry);
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &diag) {
    diagnostics += diag.str() + "\n";
    return mlir::success();
  });
  std::string text =
      replaceAll(readExample("grbm/checkerboard.mlir"), "f32", "f64");
  auto module = mlir::parseSourceString<mlir::ModuleOp>(text, &context);
  ASSERT_TRUE(module) << diagnostics;
  ASSERT_TRUE(succeeded(train::specializeBatch(*module))) << diagnostics;
  auto models = llvm::to_vector(module->getOps<ModelOp>());
  ASSERT_EQ(models.size(), 1u);
  auto info = train::readModel(models[0]);
  ASSERT_TRUE(succeeded(info)) << diagnostics;
  ASSERT_TRUE(info->componentLogMass);
  EXPECT_EQ(info->componentLogMass.getSymName(), "component_log_mass");
  EXPECT_EQ(info->componentLogMassParams, (std::vector<size_t>{0, 1, 2, 3}));
  info->componentLogMass.setPublic();
  models[0].erase();
  auto jit = JitModule::compile(*module);
  ASSERT_TRUE(bool(jit)) << llvm::toString(jit.takeError());

  for (unsigned seed : {31u, 32u}) {
    Grbm m = Grbm::random(D, H, seed);
    HostTensor hs = allConfigurations();
    auto result =
        (*jit)->call("component_log_mass", {hs, m.w, m.b, m.c, m.logSigma});
    ASSERT_TRUE(bool(result)) << llvm::toString(result.takeError());
    const HostTensor &logMass = (*result)[0];
    ASSERT_EQ(logMass.shape(), (std::vector<int64_t>{C}));
    auto b = [&](int64_t j) { return m.b.dataAs<double>()[j]; };
    auto c = [&](int64_t k) { return m.c.dataAs<double>()[k]; };
    auto s2 = [&](int64_t j) { return 1.0 / m.P(j); };

    // Closed form: c·h + Σ_j [(m_j² − b_j²)/(2 s_j²) + ½ log(2π s_j²)],
    // m = b + s² ⊙ (W h).
    for (int64_t n = 0; n < C; ++n) {
      double expected = 0.0;
      for (int64_t k = 0; k < H; ++k)
        expected += c(k) * double((n >> k) & 1);
      for (int64_t j = 0; j < D; ++j) {
        double a = 0.0;
        for (int64_t k = 0; k < H; ++k)
          a += m.W(j, k) * double((n >> k) & 1);
        double mean = b(j) + s2(j) * a;
        expected += (mean * mean - b(j) * b(j)) / (2 * s2(j)) +
                    0.5 * std::log(2 * M_PI * s2(j));
      }
      EXPECT_NEAR(logMass.elementAsDouble(n), expected,
                  1e-12 * std::max(1.0, std::fabs(expected)))
          << "configuration " << n;
    }

    // One component (h = (1, 0, 1, 1)) against ∫ exp(−E(v, h)) dv.
    const int64_t n = 0b1101;
    auto negEnergy = [&](double v0, double v1) {
      double v[2] = {v0, v1}, value = 0.0;
      for (int64_t j = 0; j < D; ++j)
        value -= 0.5 * (v[j] - b(j)) * (v[j] - b(j)) * m.P(j);
      for (int64_t k = 0; k < H; ++k)
        if ((n >> k) & 1)
          value += c(k) + v[0] * m.W(0, k) + v[1] * m.W(1, k);
      return value;
    };
    double component = logIntegral(negEnergy);
    EXPECT_NEAR(logMass.elementAsDouble(n), component,
                1e-6 * std::max(1.0, std::fabs(component)));

    // log Z: logsumexp over the 16 components against ∫ exp(−F(v)) dv.
    double top = -INFINITY, sum = 0.0;
    for (int64_t i = 0; i < C; ++i)
      top = std::max(top, logMass.elementAsDouble(i));
    for (int64_t i = 0; i < C; ++i)
      sum += std::exp(logMass.elementAsDouble(i) - top);
    double logZ = top + std::log(sum);
    auto negFreeEnergy = [&](double v0, double v1) {
      double v[2] = {v0, v1}, value = 0.0;
      for (int64_t j = 0; j < D; ++j)
        value -= 0.5 * (v[j] - b(j)) * (v[j] - b(j)) * m.P(j);
      for (int64_t k = 0; k < H; ++k)
        value += bism::testing::softplus(c(k) + v[0] * m.W(0, k) + v[1] * m.W(1, k));
      return value;
    };
    double quadrature = logIntegral(negFreeEnergy);
    EXPECT_NEAR(logZ, quadrature, 1e-6 * std::max(1.0, std::fabs(quadrature)));
    std::printf("seed %u: log Z = %.12f (components), %.12f (quadrature)\n",
                seed, logZ, quadrature);
  }
}

} // namespace
