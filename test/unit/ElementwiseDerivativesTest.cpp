//===- ElementwiseDerivativesTest.cpp - elementwise rules vs finite differences ===//
//
// Every elementwise derivative rule (lib/Dialect/Derivatives/
// ElementwiseDerivatives.cpp) checked against central differences in f64
// through the full pipeline: first order for each op, and second and third
// order (VJP of the op, then JVP of that) since derivative code is itself
// differentiated. Inputs come from fixed seeds, inside each op's domain and
// away from its kinks.
//
//===----------------------------------------------------------------------===//
#include "FiniteDifference.h"

#include "bism/Execution/JitModule.h"

#include "llvm/Support/Error.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

using namespace bism;
using namespace bism::testing;

namespace {

const std::vector<int64_t> kShape = {3, 4};
const char *const kType = "tensor<3x4xf64>";

/// Uniform in [low, high] with a random sign: |x| >= low, away from 0.
HostTensor awayFromZero(unsigned seed, double low = 0.1, double high = 1.5) {
  HostTensor magnitude = randomTensor(kShape, seed, low, high);
  HostTensor sign = randomTensor(kShape, seed + 1000, -1.0, 1.0);
  for (int64_t i = 0; i < magnitude.numElements(); ++i)
    if (sign.dataAs<double>()[i] < 0)
      magnitude.dataAs<double>()[i] = -magnitude.dataAs<double>()[i];
  return magnitude;
}

/// `base` plus an offset of magnitude in [0.1, 1]: no ties with `base`.
HostTensor awayFrom(const HostTensor &base, unsigned seed) {
  HostTensor offset = awayFromZero(seed, 0.1, 1.0);
  for (int64_t i = 0; i < offset.numElements(); ++i)
    offset.dataAs<double>()[i] += base.dataAs<double>()[i];
  return offset;
}

/// @f(%x) = op(%x). `op` is the op name, optionally followed by "@" and an
/// attribute dictionary (printed after the operand), e.g.
/// "bism.elu@{alpha = 0.5 : f64}".
std::string unaryModule(const std::string &op) {
  size_t at = op.find('@');
  std::string name = op.substr(0, at);
  std::string attrs = at == std::string::npos ? "" : " " + op.substr(at + 1);
  return "func.func @f(%x: " + std::string(kType) + ") -> " + kType + " {\n" +
         "  %r = " + name + " %x" + attrs + " : " + kType + "\n" +
         "  return %r : " + kType + "\n}\n";
}

std::string binaryModule(const std::string &op) {
  return "func.func @f(%x: " + std::string(kType) + ", %y: " + kType + ") -> " +
         kType + " {\n" + "  %r = " + op + " %x, %y : " + kType + "\n" +
         "  return %r : " + kType + "\n}\n";
}

/// Renames @f to @h and appends
///   @g(args..., u)        = vjp of @h w.r.t. all its arguments (2nd order),
///   @f(args..., u, v...)  = jvp of @g w.r.t. the original arguments (3rd).
/// @h has `arity` arguments of type kType and one result.
std::string higherOrderModule(const std::string &firstOrder, int arity) {
  std::string module = firstOrder;
  module.replace(module.find("@f("), 3, "@h(");
  std::string t = kType;
  auto repeat = [&](int n) {
    std::string s;
    for (int i = 0; i < n; ++i)
      s += (i ? ", " : "") + t;
    return s;
  };
  auto names = [](const std::string &prefix, int n) {
    std::string s;
    for (int i = 0; i < n; ++i)
      s += (i ? ", " : "") + prefix + std::to_string(i);
    return s;
  };
  auto typed = [&](const std::string &prefix, int n) {
    std::string s;
    for (int i = 0; i < n; ++i)
      s += (i ? ", " : "") + prefix + std::to_string(i) + ": " + t;
    return s;
  };
  std::string wrtAll = "[" + [&] {
    std::string s;
    for (int i = 0; i < arity; ++i)
      s += (i ? ", " : "") + std::to_string(i);
    return s;
  }() + "]";
  // @g(a..., u) -> arity cotangents.
  module += "func.func @g(" + typed("%a", arity) + ", %u: " + t + ") -> (" +
            repeat(arity) + ") {\n  %r:" + std::to_string(arity) +
            " = bism.vjp @h(" + names("%a", arity) + ", %u) wrt " + wrtAll +
            " : (" + repeat(arity + 1) + ") -> (" + repeat(arity) + ")\n" +
            "  return " + [&] {
              std::string s;
              for (int i = 0; i < arity; ++i)
                s += (i ? ", " : "") + std::string("%r#") + std::to_string(i);
              return s;
            }() + " : " + repeat(arity) + "\n}\n";
  // @f(a..., u, v...) -> tangents of @g's results along v (w.r.t. a...).
  module += "func.func @f(" + typed("%a", arity) + ", %u: " + t + ", " +
            typed("%v", arity) + ") -> (" + repeat(arity) + ") {\n  %r:" +
            std::to_string(arity) + " = bism.jvp @g(" + names("%a", arity) +
            ", %u, " + names("%v", arity) + ") wrt " + wrtAll + " : (" +
            repeat(2 * arity + 1) + ") -> (" + repeat(arity) + ")\n" +
            "  return " + [&] {
              std::string s;
              for (int i = 0; i < arity; ++i)
                s += (i ? ", " : "") + std::string("%r#") + std::to_string(i);
              return s;
            }() + " : " + repeat(arity) + "\n}\n";
  return module;
}

/// Checks @g (second order) and @f (third order) of `higherOrderModule`.
void expectHigherOrderMatches(const std::string &firstOrder,
                              const std::vector<HostTensor> &inputs) {
  int arity = int(inputs.size());
  std::string module = higherOrderModule(firstOrder, arity);
  std::vector<HostTensor> second = inputs;
  second.push_back(randomTensor(kShape, 77)); // u
  std::vector<int64_t> wrtSecond;
  for (int i = 0; i <= arity; ++i)
    wrtSecond.push_back(i);
  {
    SCOPED_TRACE("second order");
    expectDerivativesMatchFiniteDifferences(module, "g", second, wrtSecond);
  }
  std::vector<HostTensor> third = second;
  std::vector<int64_t> wrtThird = wrtSecond;
  for (int i = 0; i < arity; ++i) {
    third.push_back(randomTensor(kShape, 88 + i)); // v
    wrtThird.push_back(arity + 1 + i);
  }
  {
    SCOPED_TRACE("third order");
    expectDerivativesMatchFiniteDifferences(module, "f", third, wrtThird);
  }
}

//===----------------------------------------------------------------------===//
// Unary ops
//===----------------------------------------------------------------------===//

struct UnaryCase {
  std::string name;
  std::string op; // e.g. "bism.elu" or "bism.elu {alpha = 0.5 : f64}"
  std::function<HostTensor(unsigned)> input;
};

std::ostream &operator<<(std::ostream &os, const UnaryCase &c) {
  return os << c.name;
}

std::function<HostTensor(unsigned)> uniform(double low, double high) {
  return [=](unsigned seed) { return randomTensor(kShape, seed, low, high); };
}
std::function<HostTensor(unsigned)> nonZero(double low, double high) {
  return [=](unsigned seed) { return awayFromZero(seed, low, high); };
}

class ElementwiseUnary : public ::testing::TestWithParam<UnaryCase> {};

TEST_P(ElementwiseUnary, FirstOrder) {
  const UnaryCase &c = GetParam();
  expectDerivativesMatchFiniteDifferences(unaryModule(c.op), "f",
                                          {c.input(11)}, {0});
}

TEST_P(ElementwiseUnary, SecondAndThirdOrder) {
  const UnaryCase &c = GetParam();
  expectHigherOrderMatches(unaryModule(c.op), {c.input(12)});
}

std::vector<UnaryCase> unaryCases() {
  return {
      {"neg", "bism.neg", uniform(-1.5, 1.5)},
      {"exp", "bism.exp", uniform(-1.5, 1.5)},
      {"log", "bism.log", uniform(0.2, 3.0)},
      {"log1p", "bism.log1p", uniform(-0.6, 2.0)},
      {"sqrt", "bism.sqrt", uniform(0.2, 3.0)},
      {"square", "bism.square", uniform(-1.5, 1.5)},
      {"abs", "bism.abs", nonZero(0.1, 1.5)},
      {"reciprocal", "bism.reciprocal", nonZero(0.3, 2.0)},
      {"tanh", "bism.tanh", uniform(-2.0, 2.0)},
      {"sigmoid", "bism.sigmoid", uniform(-3.0, 3.0)},
      {"softplus", "bism.softplus", uniform(-3.0, 3.0)},
      {"relu", "bism.relu", nonZero(0.1, 1.5)},
      {"elu", "bism.elu", nonZero(0.1, 1.5)},
      {"elu_alpha", "bism.elu@{alpha = 0.5 : f64}", nonZero(0.1, 1.5)},
      {"leaky_relu", "bism.leaky_relu", nonZero(0.1, 1.5)},
      {"leaky_relu_alpha", "bism.leaky_relu@{alpha = 0.2 : f64}",
       nonZero(0.1, 1.5)},
  };
}

INSTANTIATE_TEST_SUITE_P(Elementwise, ElementwiseUnary,
                         ::testing::ValuesIn(unaryCases()),
                         [](const auto &info) { return info.param.name; });

//===----------------------------------------------------------------------===//
// Binary ops
//===----------------------------------------------------------------------===//

struct BinaryCase {
  std::string name;
  std::string op;
  /// (lhs, rhs) from a seed.
  std::function<std::vector<HostTensor>(unsigned)> inputs;
};

std::ostream &operator<<(std::ostream &os, const BinaryCase &c) {
  return os << c.name;
}

std::function<std::vector<HostTensor>(unsigned)>
independent(std::function<HostTensor(unsigned)> lhs,
            std::function<HostTensor(unsigned)> rhs) {
  return [=](unsigned seed) {
    return std::vector<HostTensor>{lhs(seed), rhs(seed + 500)};
  };
}

/// Operands that never tie (|lhs - rhs| >= 0.1), for maximum and minimum.
std::vector<HostTensor> untied(unsigned seed) {
  HostTensor lhs = randomTensor(kShape, seed, -1.0, 1.0);
  HostTensor rhs = awayFrom(lhs, seed + 500);
  return {lhs, rhs};
}

class ElementwiseBinary : public ::testing::TestWithParam<BinaryCase> {};

TEST_P(ElementwiseBinary, FirstOrder) {
  const BinaryCase &c = GetParam();
  std::string module = binaryModule(c.op);
  std::vector<HostTensor> inputs = c.inputs(21);
  {
    SCOPED_TRACE("w.r.t. both");
    expectDerivativesMatchFiniteDifferences(module, "f", inputs, {0, 1});
  }
  {
    SCOPED_TRACE("w.r.t. lhs");
    expectDerivativesMatchFiniteDifferences(module, "f", inputs, {0});
  }
  {
    SCOPED_TRACE("w.r.t. rhs");
    expectDerivativesMatchFiniteDifferences(module, "f", inputs, {1});
  }
}

TEST_P(ElementwiseBinary, SecondAndThirdOrder) {
  const BinaryCase &c = GetParam();
  expectHigherOrderMatches(binaryModule(c.op), c.inputs(22));
}

std::vector<BinaryCase> binaryCases() {
  return {
      {"add", "bism.add", independent(uniform(-1, 1), uniform(-1, 1))},
      {"sub", "bism.sub", independent(uniform(-1, 1), uniform(-1, 1))},
      {"mul", "bism.mul", independent(uniform(-1, 1), uniform(-1, 1))},
      {"div", "bism.div", independent(uniform(-1, 1), nonZero(0.4, 2.0))},
      {"pow", "bism.pow", independent(uniform(0.4, 2.0), uniform(-2.0, 2.0))},
      {"maximum", "bism.maximum", untied},
      {"minimum", "bism.minimum", untied},
  };
}

INSTANTIATE_TEST_SUITE_P(Elementwise, ElementwiseBinary,
                         ::testing::ValuesIn(binaryCases()),
                         [](const auto &info) { return info.param.name; });

//===----------------------------------------------------------------------===//
// select, convert, zero-derivative ops, a composed chain
//===----------------------------------------------------------------------===//

const char *const kSelectModule = R"(
func.func @f(%c: tensor<3x4xf64>, %a: tensor<3x4xf64>, %b: tensor<3x4xf64>) -> tensor<3x4xf64> {
  %zero = bism.constant dense<0.0> : tensor<3x4xf64>
  %m = bism.compare gt, %c, %zero : tensor<3x4xf64>
  %r = bism.select %m, %a, %b : tensor<3x4xf64>
  return %r : tensor<3x4xf64>
}
)";

TEST(ElementwiseDerivatives, Select) {
  std::vector<HostTensor> inputs = {awayFromZero(31), randomTensor(kShape, 32),
                                    randomTensor(kShape, 33)};
  for (std::vector<int64_t> wrt :
       {std::vector<int64_t>{0, 1, 2}, {1, 2}, {1}, {2}, {0}}) {
    SCOPED_TRACE("wrt size " + std::to_string(wrt.size()) + " first " +
                 std::to_string(wrt[0]));
    expectDerivativesMatchFiniteDifferences(kSelectModule, "f", inputs, wrt);
  }
  std::string first = kSelectModule;
  // Second and third order w.r.t. the branches (and the condition's source).
  expectHigherOrderMatches(first, inputs);
}

/// Compiles `module` and calls `name`, failing the test on any error.
std::vector<HostTensor> callOrFail(const std::string &module,
                                   const std::string &name,
                                   const std::vector<HostTensor> &inputs) {
  auto jit = JitModule::compileSource(module);
  if (!jit) {
    ADD_FAILURE() << llvm::toString(jit.takeError()) << "\nmodule:\n" << module;
    return {};
  }
  auto results = (*jit)->call(name, inputs);
  if (!results) {
    ADD_FAILURE() << llvm::toString(results.takeError());
    return {};
  }
  return std::move(*results);
}

void expectEqual(const HostTensor &got, const HostTensor &expected) {
  ASSERT_EQ(got.numElements(), expected.numElements());
  for (int64_t i = 0; i < got.numElements(); ++i)
    EXPECT_DOUBLE_EQ(got.elementAsDouble(i), expected.elementAsDouble(i))
        << "element " << i;
}

TEST(ElementwiseDerivatives, SelectConditionGetsNoDerivative) {
  // d/dc select(c > 0, a, b) is exactly zero, even next to the threshold.
  std::string module = std::string(kSelectModule) + R"(
func.func @vjp(%c: tensor<3x4xf64>, %a: tensor<3x4xf64>, %b: tensor<3x4xf64>, %u: tensor<3x4xf64>) -> tensor<3x4xf64> {
  %r = bism.vjp @f(%c, %a, %b, %u) wrt [0] : (tensor<3x4xf64>, tensor<3x4xf64>, tensor<3x4xf64>, tensor<3x4xf64>) -> tensor<3x4xf64>
  return %r : tensor<3x4xf64>
}
)";
  HostTensor c = randomTensor(kShape, 41, -1e-9, 1e-9);
  auto results = callOrFail(module, "vjp",
                            {c, randomTensor(kShape, 42),
                             randomTensor(kShape, 43), randomTensor(kShape, 44)});
  ASSERT_EQ(results.size(), 1u);
  expectEqual(results[0], HostTensor(ElementType::f64, kShape));
}

TEST(ElementwiseDerivatives, StopGradient) {
  // f(x) = stop_gradient(x) * x: vjp(u) = u * x and jvp(t) = t * x, not 2x.
  std::string module = R"(
func.func @f(%x: tensor<3x4xf64>) -> tensor<3x4xf64> {
  %s = bism.stop_gradient %x : tensor<3x4xf64>
  %r = bism.mul %s, %x : tensor<3x4xf64>
  return %r : tensor<3x4xf64>
}
func.func @vjp(%x: tensor<3x4xf64>, %u: tensor<3x4xf64>) -> tensor<3x4xf64> {
  %r = bism.vjp @f(%x, %u) wrt [0] : (tensor<3x4xf64>, tensor<3x4xf64>) -> tensor<3x4xf64>
  return %r : tensor<3x4xf64>
}
func.func @jvp(%x: tensor<3x4xf64>, %t: tensor<3x4xf64>) -> tensor<3x4xf64> {
  %r = bism.jvp @f(%x, %t) wrt [0] : (tensor<3x4xf64>, tensor<3x4xf64>) -> tensor<3x4xf64>
  return %r : tensor<3x4xf64>
}
)";
  HostTensor x = randomTensor(kShape, 51), seed = randomTensor(kShape, 52);
  HostTensor expected(ElementType::f64, kShape);
  for (int64_t i = 0; i < expected.numElements(); ++i)
    expected.dataAs<double>()[i] = x.dataAs<double>()[i] * seed.dataAs<double>()[i];
  for (const char *name : {"vjp", "jvp"}) {
    SCOPED_TRACE(name);
    auto results = callOrFail(module, name, {x, seed});
    ASSERT_EQ(results.size(), 1u);
    expectEqual(results[0], expected);
  }
}

TEST(ElementwiseDerivatives, ConstantsAndRandomDrawsAreConstant) {
  // Constants, keys and random draws only scale x: d/dx (x * c * n) = c * n.
  std::string module = R"(
func.func @f(%x: tensor<3x4xf64>) -> tensor<3x4xf64> {
  %k = bism.constant dense<[7, 11]> : tensor<2xi32>
  %k1 = bism.key_split %k [1]
  %k2 = bism.key_split %k [2]
  %k3 = bism.key_split %k [3]
  %k4 = bism.key_split %k [4]
  %n = bism.random_normal %k1 : tensor<3x4xf64>
  %v = bism.random_uniform %k2 : tensor<3x4xf64>
  %g = bism.random_gumbel %k3 : tensor<3x4xf64>
  %s = bism.random_rademacher %k4 : tensor<3x4xf64>
  %c = bism.constant dense<2.5> : tensor<3x4xf64>
  %a = bism.mul %x, %n : tensor<3x4xf64>
  %b = bism.mul %a, %c : tensor<3x4xf64>
  %d = bism.add %b, %v : tensor<3x4xf64>
  %e = bism.mul %d, %s : tensor<3x4xf64>
  %r = bism.add %e, %g : tensor<3x4xf64>
  return %r : tensor<3x4xf64>
}
)";
  expectDerivativesMatchFiniteDifferences(module, "f", {randomTensor(kShape, 61)},
                                          {0});
}

TEST(ElementwiseDerivatives, Convert) {
  // A round trip through f32 is the identity up to rounding; a large step
  // keeps f32 rounding out of the central difference of this linear map.
  std::string module = R"(
func.func @f(%x: tensor<3x4xf64>) -> tensor<3x4xf64> {
  %a = bism.convert %x : tensor<3x4xf64> to tensor<3x4xf32>
  %c = bism.constant dense<3.0> : tensor<3x4xf32>
  %b = bism.mul %a, %c : tensor<3x4xf32>
  %r = bism.convert %b : tensor<3x4xf32> to tensor<3x4xf64>
  return %r : tensor<3x4xf64>
}
)";
  FiniteDifferenceOptions options;
  options.step = 1e-1;
  options.tolerance = 1e-5;
  expectDerivativesMatchFiniteDifferences(module, "f", {randomTensor(kShape, 71)},
                                          {0}, options);
}

const char *const kChainModule = R"(
func.func @f(%x: tensor<3x4xf64>, %w: tensor<3x4xf64>) -> tensor<3x4xf64> {
  %one = bism.constant dense<1.0> : tensor<3x4xf64>
  %e = bism.exp %x : tensor<3x4xf64>
  %xw = bism.mul %x, %w : tensor<3x4xf64>
  %t = bism.tanh %xw : tensor<3x4xf64>
  %s = bism.sigmoid %w : tensor<3x4xf64>
  %sq = bism.square %x : tensor<3x4xf64>
  %den = bism.add %one, %sq : tensor<3x4xf64>
  %q = bism.div %t, %den : tensor<3x4xf64>
  %l = bism.log1p %e : tensor<3x4xf64>
  %sp = bism.softplus %xw : tensor<3x4xf64>
  %m = bism.maximum %q, %s : tensor<3x4xf64>
  %p = bism.pow %den, %w : tensor<3x4xf64>
  %a = bism.add %m, %l : tensor<3x4xf64>
  %b = bism.sub %a, %sp : tensor<3x4xf64>
  %r = bism.mul %b, %p : tensor<3x4xf64>
  return %r : tensor<3x4xf64>
}
)";

TEST(ElementwiseDerivatives, ComposedChain) {
  std::vector<HostTensor> inputs = {randomTensor(kShape, 81),
                                    randomTensor(kShape, 82)};
  expectDerivativesMatchFiniteDifferences(kChainModule, "f", inputs, {0, 1});
  expectDerivativesMatchFiniteDifferences(kChainModule, "f", inputs, {1});
  expectHigherOrderMatches(kChainModule, inputs);
}

} // namespace
