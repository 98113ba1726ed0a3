//===- MathApproximationTest.cpp - f32 polynomial math against libm ------===//
//
// The CPU pipeline computes f32 exp, log, log1p, tanh (and what is built on
// them: sigmoid, softplus, elu's expm1) with MLIR's polynomial
// approximations (--bism-approximate-math) so that kernels vectorise. Each
// is compared with libm on a dense sweep of its useful range; the largest
// error is printed and bounded, in units in the last place of the f32
// result (near zero crossings, where ulps of tiny results explode, the
// absolute error is bounded instead).
//
//===----------------------------------------------------------------------===//
#include "bism/Execution/JitModule.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

using namespace bism;
using namespace bism::runtime;

namespace {

constexpr int64_t kPoints = 1 << 16;

/// Distance in f32 ulps between `value` and the correctly rounded `exact`.
double ulpError(float value, double exact) {
  float rounded = float(exact);
  if (value == rounded)
    return 0;
  float next = std::nextafter(rounded, value > rounded ? INFINITY : -INFINITY);
  double ulp = std::fabs(double(next) - double(rounded));
  return std::fabs(double(value) - exact) / ulp;
}

struct Case {
  const char *op;
  double lo, hi;
  double (*reference)(double);
  double maxUlps;
  /// Absolute error accepted where the result is below `tiny`.
  double tiny = 0, maxAbsolute = 0;
};

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }
double softplus(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::fabs(x))); }
double elu(double x) { return x > 0 ? x : std::expm1(x); }

void check(const Case &c) {
  std::string source =
      std::string("func.func @f(%x: tensor<") + std::to_string(kPoints) +
      "xf32>) -> tensor<" + std::to_string(kPoints) + "xf32> {\n  %y = bism." +
      c.op + " %x : tensor<" + std::to_string(kPoints) + "xf32>\n  return %y : tensor<" +
      std::to_string(kPoints) + "xf32>\n}\n";
  auto jit = JitModule::compileSource(source);
  ASSERT_TRUE(bool(jit)) << llvm::toString(jit.takeError());
  HostTensor x(ElementType::f32, {kPoints});
  float *in = x.dataAs<float>();
  for (int64_t i = 0; i < kPoints; ++i)
    in[i] = float(c.lo + (c.hi - c.lo) * double(i) / double(kPoints - 1));
  auto results = (*jit)->call("f", {x});
  ASSERT_TRUE(bool(results)) << llvm::toString(results.takeError());
  const float *out = (*results)[0].dataAs<float>();
  double worstUlps = 0, worstAbsolute = 0, worstAt = 0;
  for (int64_t i = 0; i < kPoints; ++i) {
    double exact = c.reference(double(in[i]));
    if (std::fabs(exact) < c.tiny) {
      worstAbsolute = std::max(worstAbsolute, std::fabs(double(out[i]) - exact));
      continue;
    }
    double error = ulpError(out[i], exact);
    if (error > worstUlps) {
      worstUlps = error;
      worstAt = in[i];
    }
  }
  std::printf("%-9s on [%g, %g]: max %.2f ulp (at %g)", c.op, c.lo, c.hi,
              worstUlps, worstAt);
  if (c.tiny > 0)
    std::printf(", max absolute %.3g where |result| < %g", worstAbsolute, c.tiny);
  std::printf("\n");
  EXPECT_LE(worstUlps, c.maxUlps) << c.op;
  EXPECT_LE(worstAbsolute, c.maxAbsolute) << c.op;
}

TEST(MathApproximation, WithinStatedUlpsOfLibm) {
  // The bounds are the measured maxima (printed; 2026-12, znver4) rounded
  // up: exp 0.96, log 0.83, log1p 1.56, tanh 4.42 (near ±1), sigmoid 1.98,
  // softplus 1.96, elu 2.35 ulp.
  const Case cases[] = {
      {"exp", -87, 88, [](double x) { return std::exp(x); }, 1},
      {"log", 1e-30, 1e30, [](double x) { return std::log(x); }, 1, 1e-3, 1e-7},
      {"log", 0.01, 10, [](double x) { return std::log(x); }, 1, 1e-3, 1e-7},
      {"log1p", -0.999, 1e6, [](double x) { return std::log1p(x); }, 2},
      {"tanh", -10, 10, [](double x) { return std::tanh(x); }, 5, 1e-4, 2e-7},
      {"sigmoid", -80, 80, sigmoid, 2},
      {"softplus", -80, 80, softplus, 2},
      {"elu", -20, 5, elu, 3},
  };
  for (const Case &c : cases)
    check(c);
}

} // namespace
