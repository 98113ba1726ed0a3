//===- FiniteDifference.h - check derivatives against central differences -===//
//
// The one harness every derivative test uses. Given a module with a function
// `@f` (f64 tensors in, f64 tensors out), it appends
//   @f_vjp(args..., cotangents...) = bism.vjp @f(...) wrt [...]
//   @f_jvp(args..., tangents...)   = bism.jvp @f(...) wrt [...]
// compiles everything through the normal pipeline (so --bism-autodiff runs),
// and compares, for random cotangents u and tangents t:
//   - every element of each VJP result with the central difference of
//     sum_k <u_k, f_k(x)> along that element,
//   - each JVP result with the central difference of f along t.
// Errors are relative to the largest magnitude of the reference (at least
// 1e-2, below which central differences in f64 lose relative accuracy).
//
//===----------------------------------------------------------------------===//
#ifndef BISM_TEST_FINITEDIFFERENCE_H
#define BISM_TEST_FINITEDIFFERENCE_H

#include "bism/Execution/JitModule.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace bism::testing {

using runtime::ElementType;
using runtime::HostTensor;

inline HostTensor randomTensor(std::vector<int64_t> shape, unsigned seed,
                               double low = -1.0, double high = 1.0) {
  HostTensor tensor(ElementType::f64, std::move(shape));
  std::mt19937 generator(seed);
  std::uniform_real_distribution<double> uniform(low, high);
  double *data = tensor.dataAs<double>();
  for (int64_t i = 0; i < tensor.numElements(); ++i)
    data[i] = uniform(generator);
  return tensor;
}

inline std::string tensorTypeText(const TensorSignature &signature) {
  return "tensor<" + signature.str() + ">";
}

struct FiniteDifferenceOptions {
  double step = 1e-6;
  double tolerance = 1e-6;
  unsigned seed = 1234;
};

/// The maximum over elements of |got - expected| / max(1e-2, max |expected|).
inline double relativeError(const HostTensor &got, const HostTensor &expected) {
  double scale = 1e-2, worst = 0.0;
  for (int64_t i = 0; i < expected.numElements(); ++i)
    scale = std::max(scale, std::fabs(expected.elementAsDouble(i)));
  for (int64_t i = 0; i < expected.numElements(); ++i)
    worst = std::max(worst, std::fabs(got.elementAsDouble(i) -
                                      expected.elementAsDouble(i)));
  return worst / scale;
}

/// Adds the @f_vjp and @f_jvp wrappers to `module` (text ending in the
/// definition of @f among others).
inline std::string withDerivativeWrappers(const std::string &module,
                                          const FunctionSignature &f,
                                          const std::vector<int64_t> &wrt) {
  std::ostringstream text;
  // Strip a closing "}" of an explicit module so the wrappers go inside it.
  std::string body = module;
  bool explicitModule = body.find("module") != std::string::npos &&
                        body.find("module") < body.find("func.func");
  if (explicitModule)
    body = body.substr(0, body.rfind('}'));
  text << body << "\n";

  std::vector<std::string> argTypes, resultTypes, wrtTypes;
  for (const auto &input : f.inputs)
    argTypes.push_back(tensorTypeText(input));
  for (const auto &output : f.outputs)
    resultTypes.push_back(tensorTypeText(output));
  for (int64_t index : wrt)
    wrtTypes.push_back(argTypes[size_t(index)]);
  auto join = [](const std::vector<std::string> &items) {
    std::string joined;
    for (size_t i = 0; i < items.size(); ++i)
      joined += (i ? ", " : "") + items[i];
    return joined;
  };
  std::string wrtList;
  for (size_t i = 0; i < wrt.size(); ++i)
    wrtList += (i ? ", " : "") + std::to_string(wrt[i]);

  auto emitWrapper = [&](const std::string &name, const std::string &op,
                         const std::vector<std::string> &seedTypes,
                         const std::vector<std::string> &outTypes) {
    std::vector<std::string> params, operands, operandTypes;
    for (size_t i = 0; i < argTypes.size(); ++i) {
      params.push_back("%a" + std::to_string(i) + ": " + argTypes[i]);
      operands.push_back("%a" + std::to_string(i));
    }
    for (size_t i = 0; i < seedTypes.size(); ++i) {
      params.push_back("%s" + std::to_string(i) + ": " + seedTypes[i]);
      operands.push_back("%s" + std::to_string(i));
    }
    operandTypes = argTypes;
    operandTypes.insert(operandTypes.end(), seedTypes.begin(), seedTypes.end());
    std::vector<std::string> results;
    for (size_t i = 0; i < outTypes.size(); ++i)
      results.push_back("%r#" + std::to_string(i));
    text << "func.func @" << name << "(" << join(params) << ") -> ("
         << join(outTypes) << ") {\n"
         << "  %r:" << outTypes.size() << " = bism." << op << " @" << f.name
         << "(" << join(operands) << ") wrt [" << wrtList << "] : ("
         << join(operandTypes) << ") -> (" << join(outTypes) << ")\n"
         << "  return " << join(results) << " : " << join(outTypes) << "\n}\n";
  };
  emitWrapper(f.name + "_vjp", "vjp", resultTypes, wrtTypes);
  emitWrapper(f.name + "_jvp", "jvp", wrtTypes, resultTypes);
  if (explicitModule)
    text << "}\n";
  return text.str();
}

/// Checks the VJP and JVP of `@name` in `module` w.r.t. the arguments `wrt`
/// at `inputs` (all f64) against central differences.
inline void expectDerivativesMatchFiniteDifferences(
    const std::string &module, const std::string &name,
    const std::vector<HostTensor> &inputs, const std::vector<int64_t> &wrt,
    FiniteDifferenceOptions options = {}) {
  SCOPED_TRACE("function @" + name);
  auto plain = JitModule::compileSource(module);
  ASSERT_TRUE(bool(plain)) << llvm::toString(plain.takeError());
  const FunctionSignature *f = (*plain)->lookup(name);
  ASSERT_NE(f, nullptr);

  std::string augmented = withDerivativeWrappers(module, *f, wrt);
  auto compiled = JitModule::compileSource(augmented);
  ASSERT_TRUE(bool(compiled)) << llvm::toString(compiled.takeError())
                              << "\nmodule:\n" << augmented;
  JitModule &jit = **compiled;

  auto evaluate = [&](const std::vector<HostTensor> &args) {
    auto results = jit.call(name, args);
    EXPECT_TRUE(bool(results)) << llvm::toString(results.takeError());
    return results ? std::move(*results) : std::vector<HostTensor>{};
  };

  // Random seeds for the products.
  std::vector<HostTensor> cotangents, tangents;
  unsigned seed = options.seed;
  for (const auto &output : f->outputs)
    cotangents.push_back(randomTensor(output.shape, seed++));
  for (int64_t index : wrt)
    tangents.push_back(randomTensor(f->inputs[size_t(index)].shape, seed++));

  // VJP against the gradient of <u, f(x)> by central differences.
  std::vector<HostTensor> vjpArgs = inputs;
  vjpArgs.insert(vjpArgs.end(), cotangents.begin(), cotangents.end());
  auto vjp = jit.call(name + "_vjp", vjpArgs);
  ASSERT_TRUE(bool(vjp)) << llvm::toString(vjp.takeError());
  auto weighted = [&](const std::vector<HostTensor> &args) {
    std::vector<HostTensor> outputs = evaluate(args);
    double sum = 0.0;
    for (size_t k = 0; k < outputs.size(); ++k)
      for (int64_t i = 0; i < outputs[k].numElements(); ++i)
        sum += outputs[k].elementAsDouble(i) * cotangents[k].elementAsDouble(i);
    return sum;
  };
  for (size_t w = 0; w < wrt.size(); ++w) {
    SCOPED_TRACE("vjp w.r.t. argument " + std::to_string(wrt[w]));
    HostTensor expected(ElementType::f64, f->inputs[size_t(wrt[w])].shape);
    for (int64_t i = 0; i < expected.numElements(); ++i) {
      std::vector<HostTensor> plus = inputs, minus = inputs;
      plus[size_t(wrt[w])].dataAs<double>()[i] += options.step;
      minus[size_t(wrt[w])].dataAs<double>()[i] -= options.step;
      expected.dataAs<double>()[i] =
          (weighted(plus) - weighted(minus)) / (2 * options.step);
    }
    EXPECT_LT(relativeError((*vjp)[w], expected), options.tolerance);
  }

  // JVP against the directional central difference.
  std::vector<HostTensor> jvpArgs = inputs;
  jvpArgs.insert(jvpArgs.end(), tangents.begin(), tangents.end());
  auto jvp = jit.call(name + "_jvp", jvpArgs);
  ASSERT_TRUE(bool(jvp)) << llvm::toString(jvp.takeError());
  std::vector<HostTensor> plus = inputs, minus = inputs;
  for (size_t w = 0; w < wrt.size(); ++w)
    for (int64_t i = 0; i < tangents[w].numElements(); ++i) {
      double direction = tangents[w].dataAs<double>()[i] * options.step;
      plus[size_t(wrt[w])].dataAs<double>()[i] += direction;
      minus[size_t(wrt[w])].dataAs<double>()[i] -= direction;
    }
  std::vector<HostTensor> up = evaluate(plus), down = evaluate(minus);
  for (size_t k = 0; k < f->outputs.size(); ++k) {
    SCOPED_TRACE("jvp of result " + std::to_string(k));
    HostTensor expected(ElementType::f64, f->outputs[k].shape);
    for (int64_t i = 0; i < expected.numElements(); ++i)
      expected.dataAs<double>()[i] =
          (up[k].elementAsDouble(i) - down[k].elementAsDouble(i)) /
          (2 * options.step);
    EXPECT_LT(relativeError((*jvp)[k], expected), options.tolerance);
  }
}

} // namespace bism::testing

#endif // BISM_TEST_FINITEDIFFERENCE_H
