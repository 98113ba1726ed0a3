//===- OpNumericsTest.cpp - every bism op through the JIT vs OpReference.h --===//
//
// For each op family and each of f32/f64: generate MLIR text, random inputs
// from a fixed seed, run through bism::JitModule and compare with the plain
// C++ reference. The functions of one family share a module (one JIT per
// family and dtype); if that module does not compile, each function is
// compiled alone so the failure names the op. Every check carries a
// SCOPED_TRACE naming the op, dtype and shapes.
//
//===----------------------------------------------------------------------===//
#include "OpReference.h"

#include "bism/Execution/JitModule.h"
#include "bism/runtime/Blas.h"
#include "bism/runtime/HostTensor.h"
#include "bism/runtime/Philox.h"

#include "llvm/Support/Error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

using namespace bism;
using bism::ref::Shape;
using bism::ref::Tensor;
using runtime::ElementType;
using runtime::HostTensor;
using runtime::PhiloxKey;

namespace {

//===----------------------------------------------------------------------===//
// Types, tolerances, conversions
//===----------------------------------------------------------------------===//

template <typename T> struct DType;
template <> struct DType<float> {
  static constexpr const char *name = "f32";
  static constexpr const char *other = "f64";
  static constexpr double rtol = 1e-5, atol = 1e-7;
  static constexpr double eps = 1.2e-7;
  static constexpr double randomTol = 1e-6;
};
template <> struct DType<double> {
  static constexpr const char *name = "f64";
  static constexpr const char *other = "f32";
  static constexpr double rtol = 1e-12, atol = 1e-15;
  static constexpr double eps = 2.3e-16;
  static constexpr double randomTol = 1e-12;
};

template <typename T> struct ElementName;
template <> struct ElementName<float> { static std::string get() { return "f32"; } };
template <> struct ElementName<double> { static std::string get() { return "f64"; } };
template <> struct ElementName<uint8_t> { static std::string get() { return "i1"; } };
template <> struct ElementName<int32_t> { static std::string get() { return "i32"; } };

std::string tensorType(const Shape &shape, const std::string &element) {
  std::string s = "tensor<";
  for (int64_t d : shape)
    s += std::to_string(d) + "x";
  return s + element + ">";
}

template <typename T> std::string typeOf(const Tensor<T> &t) {
  return tensorType(t.shape, ElementName<T>::get());
}

std::string listString(const std::vector<int64_t> &values) {
  std::string s = "[";
  for (size_t i = 0; i < values.size(); ++i)
    s += (i ? ", " : "") + std::to_string(values[i]);
  return s + "]";
}

std::string arrayAttr(const std::vector<int64_t> &values) {
  std::string s = "array<i64";
  for (size_t i = 0; i < values.size(); ++i)
    s += (i ? ", " : ": ") + std::to_string(values[i]);
  return s + ">";
}

/// A float literal that parses back to exactly `value`.
std::string literal(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.17e", value);
  return buffer;
}

template <typename T> std::string denseText(const Tensor<T> &t) {
  std::string s;
  std::function<void(size_t, int64_t)> emit = [&](size_t dim, int64_t offset) {
    if (dim == t.shape.size()) {
      s += literal(double(t.data[size_t(offset)]));
      return;
    }
    int64_t stride = ref::numElements(Shape(t.shape.begin() + long(dim) + 1, t.shape.end()));
    s += "[";
    for (int64_t i = 0; i < t.shape[dim]; ++i) {
      if (i)
        s += ", ";
      emit(dim + 1, offset + i * stride);
    }
    s += "]";
  };
  emit(0, 0);
  return "dense<" + s + ">";
}

template <typename T> HostTensor toHost(const Tensor<T> &t) {
  return HostTensor::fromVector<T>(t.shape, t.data);
}
HostTensor toHost(const Tensor<uint8_t> &t) {
  HostTensor h(ElementType::i1, t.shape);
  if (t.size())
    std::memcpy(h.data(), t.data.data(), t.data.size());
  return h;
}
HostTensor keyTensor(PhiloxKey key) {
  return HostTensor::fromVector<int32_t>({2}, {int32_t(key[0]), int32_t(key[1])});
}

struct Tol {
  double rtol, atol;
};
template <typename T> Tol defaultTol() { return {DType<T>::rtol, DType<T>::atol}; }
/// For results that sum `terms` products of magnitude <= `magnitude`.
template <typename T> Tol sumTol(double terms, double magnitude = 1) {
  return {DType<T>::rtol, DType<T>::eps * terms * magnitude + DType<T>::atol};
}

//===----------------------------------------------------------------------===//
// Random inputs
//===----------------------------------------------------------------------===//

template <typename T>
Tensor<T> uniformTensor(std::mt19937 &rng, const Shape &shape, double lo, double hi) {
  std::uniform_real_distribution<double> dist(lo, hi);
  Tensor<T> t(shape);
  for (T &v : t.data)
    v = T(dist(rng));
  return t;
}

/// |x| in [lo, hi] with a random sign (for divisors and reciprocals).
template <typename T>
Tensor<T> awayFromZero(std::mt19937 &rng, const Shape &shape, double lo, double hi) {
  Tensor<T> t = uniformTensor<T>(rng, shape, lo, hi);
  std::bernoulli_distribution sign(0.5);
  for (T &v : t.data)
    if (sign(rng))
      v = -v;
  return t;
}

/// Small integers, so that comparisons see equal elements.
template <typename T> Tensor<T> smallIntegers(std::mt19937 &rng, const Shape &shape) {
  std::uniform_int_distribution<int> dist(-2, 2);
  Tensor<T> t(shape);
  for (T &v : t.data)
    v = T(dist(rng));
  return t;
}

//===----------------------------------------------------------------------===//
// Cases: one function each
//===----------------------------------------------------------------------===//

struct Expected {
  HostTensor tensor;
  Tol tol;
  bool exact;
};

struct Case {
  std::string name;        // function name
  std::string description; // op, dtype, shapes: the SCOPED_TRACE
  std::string func;        // func.func text
  std::vector<HostTensor> inputs;
  std::vector<Expected> outputs;
};

/// Builds one func.func: inputs become arguments, `op` lines bind SSA values,
/// outputs are returned and compared.
class CaseBuilder {
public:
  CaseBuilder(std::string name, std::string description)
      : name_(std::move(name)), description_(std::move(description)) {}

  template <typename T> std::string input(const Tensor<T> &t) {
    std::string value = "%arg" + std::to_string(args_.size());
    args_.push_back(value + ": " + typeOf(t));
    inputs_.push_back(toHost(t));
    return value;
  }
  std::string key(PhiloxKey key) {
    std::string value = "%arg" + std::to_string(args_.size());
    args_.push_back(value + ": tensor<2xi32>");
    inputs_.push_back(keyTensor(key));
    return value;
  }
  /// Appends "%vN = text" and returns "%vN".
  std::string op(const std::string &text) {
    std::string value = "%v" + std::to_string(lines_.size());
    lines_.push_back(value + " = " + text);
    return value;
  }
  template <typename T>
  void output(const std::string &value, const Tensor<T> &expected, Tol tol, bool exact = false) {
    results_.push_back(value);
    resultTypes_.push_back(typeOf(expected));
    outputs_.push_back({toHost(expected), tol, exact});
  }
  template <typename T> void exactOutput(const std::string &value, const Tensor<T> &expected) {
    output(value, expected, Tol{0, 0}, /*exact=*/true);
  }

  Case build() const {
    std::string f = "  func.func @" + name_ + "(";
    for (size_t i = 0; i < args_.size(); ++i)
      f += (i ? ", " : "") + args_[i];
    f += ") -> (";
    for (size_t i = 0; i < resultTypes_.size(); ++i)
      f += (i ? ", " : "") + resultTypes_[i];
    f += ") {\n";
    for (const std::string &line : lines_)
      f += "    " + line + "\n";
    f += "    return ";
    for (size_t i = 0; i < results_.size(); ++i)
      f += (i ? ", " : "") + results_[i];
    f += " : ";
    for (size_t i = 0; i < resultTypes_.size(); ++i)
      f += (i ? ", " : "") + resultTypes_[i];
    f += "\n  }\n";
    Case c;
    c.name = name_;
    c.description = description_;
    c.func = f;
    c.inputs = inputs_;
    for (const Expected &e : outputs_)
      c.outputs.push_back(e);
    return c;
  }

private:
  std::string name_, description_;
  std::vector<std::string> args_, lines_, results_, resultTypes_;
  std::vector<HostTensor> inputs_;
  std::vector<Expected> outputs_;
};

std::string shortened(const std::string &text, size_t limit = 4000) {
  if (text.size() <= limit)
    return text;
  return text.substr(0, limit) + "\n... (" + std::to_string(text.size() - limit) +
         " more characters)";
}

std::string indexString(int64_t linear, const Shape &shape) {
  return listString(ref::unravel(linear, shape));
}

std::string shortNumber(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3g", value);
  return buffer;
}

void compareOutput(const std::string &what, const HostTensor &got, const Expected &expected) {
  const HostTensor &want = expected.tensor;
  if (got.elementType() != want.elementType() || got.shape() != want.shape()) {
    ADD_FAILURE() << what << ": got type " << got.typeString() << ", expected "
                  << want.typeString();
    return;
  }
  int64_t n = want.numElements();
  int64_t bad = 0;
  std::ostringstream report;
  report.precision(17);
  for (int64_t i = 0; i < n; ++i) {
    double g = got.elementAsDouble(i), e = want.elementAsDouble(i);
    bool ok;
    if (expected.exact) {
      size_t size = runtime::elementSize(want.elementType());
      ok = std::memcmp(static_cast<const char *>(got.data()) + size_t(i) * size,
                       static_cast<const char *>(want.data()) + size_t(i) * size, size) == 0;
    } else if (std::isnan(e) || std::isnan(g)) {
      ok = std::isnan(e) && std::isnan(g);
    } else if (std::isinf(e) || std::isinf(g)) {
      ok = e == g;
    } else {
      ok = std::fabs(g - e) <= expected.tol.atol + expected.tol.rtol * std::fabs(e);
    }
    if (!ok && bad++ < 6)
      report << "\n  at " << indexString(i, want.shape()) << ": expected " << e << ", got "
             << g << " (diff " << (g - e) << ")";
  }
  if (bad)
    ADD_FAILURE() << what << " (" << want.typeString() << "): " << bad << " of " << n
                  << " elements differ"
                  << (expected.exact ? std::string(" (bitwise comparison)")
                                     : " (rtol " + shortNumber(expected.tol.rtol) + ", atol " +
                                           shortNumber(expected.tol.atol) + ")")
                  << report.str();
}

void runCase(JitModule &jit, const Case &c) {
  SCOPED_TRACE(c.description);
  auto results = jit.call(c.name, c.inputs);
  if (!results) {
    ADD_FAILURE() << c.description << ": call failed: " << llvm::toString(results.takeError());
    return;
  }
  if (results->size() != c.outputs.size()) {
    ADD_FAILURE() << c.description << ": " << results->size() << " results, expected "
                  << c.outputs.size();
    return;
  }
  for (size_t i = 0; i < c.outputs.size(); ++i)
    compareOutput(c.description + ", result " + std::to_string(i), (*results)[i], c.outputs[i]);
}

std::unique_ptr<JitModule> compileOrReport(const std::string &what, const std::string &text,
                                           const JitOptions &options) {
  auto jit = JitModule::compileSource(text, options);
  if (!jit) {
    ADD_FAILURE() << what << " does not compile:\n"
                  << shortened(llvm::toString(jit.takeError())) << "\nmodule:\n"
                  << shortened(text, 2000);
    return nullptr;
  }
  return std::move(*jit);
}

/// Compiles all cases as one module and runs them; if the module does not
/// compile, compiles each case alone so the failure names the op.
void runCases(const std::vector<Case> &cases, const JitOptions &options = {}) {
  std::string text = "module {\n";
  for (const Case &c : cases)
    text += c.func;
  text += "}\n";
  auto jit = JitModule::compileSource(text, options);
  if (jit) {
    for (const Case &c : cases)
      runCase(**jit, c);
    return;
  }
  std::string error = llvm::toString(jit.takeError());
  if (cases.size() > 1)
    std::fprintf(stderr,
                 "note: the module of %zu functions does not compile; compiling them "
                 "one by one:\n%s\n",
                 cases.size(), shortened(error, 1500).c_str());
  for (const Case &c : cases) {
    SCOPED_TRACE(c.description);
    if (auto one = compileOrReport(c.description, "module {\n" + c.func + "}\n", options))
      runCase(*one, c);
  }
}

template <typename T> std::string fname(const std::string &base) {
  return base + "_" + DType<T>::name;
}

//===----------------------------------------------------------------------===//
// The typed suite
//===----------------------------------------------------------------------===//

template <typename T> class OpNumerics : public ::testing::Test {
protected:
  std::mt19937 rng{20240601u};
  const std::string E = DType<T>::name;
  std::string tt(const Shape &shape) const { return tensorType(shape, E); }
  std::string desc(const std::string &op, const std::vector<Shape> &shapes) const {
    std::string s = op + " " + E;
    for (const Shape &shape : shapes)
      s += " " + ref::shapeString(shape);
    return s;
  }
};

using FloatTypes = ::testing::Types<float, double>;
class TypeNames {
public:
  template <typename T> static std::string GetName(int) { return DType<T>::name; }
};
TYPED_TEST_SUITE(OpNumerics, FloatTypes, TypeNames);

const std::vector<Shape> kEdgeShapes = {{2, 3}, {}, {1, 3, 1, 2}, {7}, {4, 1}, {2, 3, 2, 2}};

struct UnarySpec {
  std::string op;
  double lo, hi;
  bool signedAway = false;
  std::string attrs; // e.g. "{alpha = 5.0e-01 : f64}"
  double alpha = 0;
};

TYPED_TEST(OpNumerics, Unary) {
  using T = TypeParam;
  auto U = [](std::string op, double lo, double hi, bool signedAway = false,
              std::string attrs = "", double alpha = 0) {
    return UnarySpec{std::move(op), lo, hi, signedAway, std::move(attrs), alpha};
  };
  const std::vector<UnarySpec> specs = {
      U("neg", -3, 3),           U("exp", -10, 10),
      U("log", 1e-3, 100),       U("log1p", -0.9, 10),
      U("sqrt", 0, 100),         U("square", -10, 10),
      U("abs", -5, 5),           U("reciprocal", 0.1, 10, true),
      U("tanh", -5, 5),          U("sigmoid", -20, 20),
      U("softplus", -30, 30),    U("relu", -3, 3),
      U("elu", -3, 3, false, "", 1.0),
      U("elu", -3, 3, false, "{alpha = 5.000000e-01 : f64}", 0.5),
      U("leaky_relu", -3, 3, false, "", 0.01),
      U("leaky_relu", -3, 3, false, "{alpha = 2.000000e-01 : f64}", 0.2),
  };
  std::vector<Case> cases;
  for (size_t i = 0; i < specs.size(); ++i) {
    const UnarySpec &s = specs[i];
    for (size_t j = 0; j < 2; ++j) {
      Shape shape = kEdgeShapes[(i + 3 * j) % kEdgeShapes.size()];
      Tensor<T> x = s.signedAway ? awayFromZero<T>(this->rng, shape, s.lo, s.hi)
                                 : uniformTensor<T>(this->rng, shape, s.lo, s.hi);
      std::string label = s.op + (s.attrs.empty() ? "" : " " + s.attrs);
      CaseBuilder b(fname<T>("unary" + std::to_string(i) + "_" + std::to_string(j)),
                    this->desc(label, {shape}));
      std::string a = b.input(x);
      std::string r = b.op("bism." + s.op + " " + a + " " + s.attrs + " : " + this->tt(shape));
      b.output(r, ref::unary(s.op, x, s.alpha), defaultTol<T>());
      cases.push_back(b.build());
    }
  }
  // Accuracy where naive formulas fail: log1p near 0 and softplus far below
  // 0 must keep relative accuracy (no absolute slack).
  {
    Shape shape{64};
    Tensor<T> x = uniformTensor<T>(this->rng, shape, -1e-4, 1e-4);
    CaseBuilder b(fname<T>("log1p_small"), this->desc("log1p near 0", {shape}));
    std::string r = b.op("bism.log1p " + b.input(x) + " : " + this->tt(shape));
    b.output(r, ref::unary("log1p", x), Tol{DType<T>::rtol, 0});
    cases.push_back(b.build());
  }
  {
    Shape shape{64};
    Tensor<T> x = uniformTensor<T>(this->rng, shape, -40, -20);
    CaseBuilder b(fname<T>("softplus_negative"), this->desc("softplus far below 0", {shape}));
    std::string r = b.op("bism.softplus " + b.input(x) + " : " + this->tt(shape));
    b.output(r, ref::unary("softplus", x), Tol{DType<T>::rtol, 0});
    cases.push_back(b.build());
  }
  {
    Shape shape{64};
    Tensor<T> x = uniformTensor<T>(this->rng, shape, 20, 80);
    CaseBuilder b(fname<T>("softplus_positive"), this->desc("softplus far above 0", {shape}));
    std::string r = b.op("bism.softplus " + b.input(x) + " : " + this->tt(shape));
    b.output(r, ref::unary("softplus", x), defaultTol<T>());
    cases.push_back(b.build());
  }
  runCases(cases);
}

TYPED_TEST(OpNumerics, Binary) {
  using T = TypeParam;
  const std::vector<std::string> ops = {"add", "sub", "mul", "div", "pow", "maximum", "minimum"};
  const std::vector<Shape> shapes = {{3, 4}, {}, {2, 1, 3, 2}, {1}};
  std::vector<Case> cases;
  for (size_t i = 0; i < ops.size(); ++i) {
    const std::string &op = ops[i];
    for (size_t j = 0; j < shapes.size(); ++j) {
      const Shape &shape = shapes[j];
      Tensor<T> lhs = op == "pow" ? uniformTensor<T>(this->rng, shape, 0.1, 3)
                                  : uniformTensor<T>(this->rng, shape, -4, 4);
      Tensor<T> rhs = op == "div"   ? awayFromZero<T>(this->rng, shape, 0.25, 4)
                      : op == "pow" ? uniformTensor<T>(this->rng, shape, -2, 2)
                                    : uniformTensor<T>(this->rng, shape, -4, 4);
      CaseBuilder b(fname<T>(op + std::to_string(j)), this->desc(op, {shape, shape}));
      std::string l = b.input(lhs), r = b.input(rhs);
      std::string v = b.op("bism." + op + " " + l + ", " + r + " : " + this->tt(shape));
      Tensor<T> expected = ref::binary(op, lhs, rhs);
      if (op == "maximum" || op == "minimum")
        b.exactOutput(v, expected);
      else
        b.output(v, expected, defaultTol<T>());
      cases.push_back(b.build());
    }
  }
  // Both operands the same value.
  {
    Shape shape{5};
    Tensor<T> x = uniformTensor<T>(this->rng, shape, -2, 2);
    CaseBuilder b(fname<T>("same_operand"), this->desc("sub/mul x, x", {shape}));
    std::string a = b.input(x);
    std::string s = b.op("bism.sub " + a + ", " + a + " : " + this->tt(shape));
    std::string m = b.op("bism.mul " + a + ", " + a + " : " + this->tt(shape));
    b.exactOutput(s, ref::binary("sub", x, x));
    b.output(m, ref::binary("mul", x, x), defaultTol<T>());
    cases.push_back(b.build());
  }
  runCases(cases);
}

TYPED_TEST(OpNumerics, Broadcast) {
  using T = TypeParam;
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{4}, {3, 4}},       {{3, 1}, {3, 4}},           {{}, {2, 3}},
      {{1}, {5}},          {{2, 1, 3, 1}, {2, 4, 3, 5}}, {{1, 1, 1, 1}, {2, 2, 2, 2}},
      {{5}, {1, 5}},       {{1, 3}, {2, 4, 3}},        {{2, 3}, {2, 3}},
      {{}, {}},
  };
  std::vector<Case> cases;
  for (size_t i = 0; i < shapes.size(); ++i) {
    auto [from, to] = shapes[i];
    Tensor<T> x = uniformTensor<T>(this->rng, from, -5, 5);
    CaseBuilder b(fname<T>("broadcast" + std::to_string(i)), this->desc("broadcast", {from, to}));
    std::string v =
        b.op("bism.broadcast " + b.input(x) + " : " + this->tt(from) + " to " + this->tt(to));
    b.exactOutput(v, ref::broadcastTo(x, to));
    cases.push_back(b.build());
  }
  // numpy-style binary ops: broadcast both operands to the common shape.
  const std::vector<std::pair<Shape, Shape>> pairs = {
      {{3, 1}, {1, 4}}, {{}, {2, 3}}, {{2, 1, 4, 1}, {3, 1, 5}}, {{5}, {2, 1, 5}}, {{1}, {1, 1}}};
  const std::vector<std::string> ops = {"add", "mul", "sub", "maximum", "div"};
  for (size_t i = 0; i < pairs.size(); ++i) {
    auto [sa, sb] = pairs[i];
    Shape out;
    ASSERT_TRUE(ref::broadcastShapes(sa, sb, out));
    const std::string &op = ops[i % ops.size()];
    Tensor<T> a = uniformTensor<T>(this->rng, sa, -3, 3);
    Tensor<T> c = awayFromZero<T>(this->rng, sb, 0.5, 3);
    CaseBuilder b(fname<T>("bcast_binary" + std::to_string(i)),
                  this->desc(op + " (broadcast operands)", {sa, sb}));
    std::string x = b.input(a), y = b.input(c);
    std::string bx = b.op("bism.broadcast " + x + " : " + this->tt(sa) + " to " + this->tt(out));
    std::string by = b.op("bism.broadcast " + y + " : " + this->tt(sb) + " to " + this->tt(out));
    std::string v = b.op("bism." + op + " " + bx + ", " + by + " : " + this->tt(out));
    b.output(v, ref::binary(op, a, c), defaultTol<T>());
    cases.push_back(b.build());
  }
  runCases(cases);
}

TYPED_TEST(OpNumerics, CompareSelect) {
  using T = TypeParam;
  const std::vector<std::string> predicates = {"eq", "ne", "lt", "le", "gt", "ge"};
  const std::vector<Shape> shapes = {{2, 5}, {}, {1, 3, 1, 2}};
  std::vector<Case> cases;
  for (size_t i = 0; i < predicates.size(); ++i)
    for (size_t j = 0; j < shapes.size(); ++j) {
      const Shape &shape = shapes[j];
      Tensor<T> lhs = smallIntegers<T>(this->rng, shape), rhs = smallIntegers<T>(this->rng, shape);
      CaseBuilder b(fname<T>("compare_" + predicates[i] + std::to_string(j)),
                    this->desc("compare " + predicates[i], {shape}));
      std::string l = b.input(lhs), r = b.input(rhs);
      std::string c = b.op("bism.compare " + predicates[i] + ", " + l + ", " + r + " : " +
                           this->tt(shape));
      std::string s = b.op("bism.select " + c + ", " + l + ", " + r + " : " + this->tt(shape));
      Tensor<uint8_t> mask = ref::compare(predicates[i], lhs, rhs);
      b.exactOutput(c, mask);
      b.exactOutput(s, ref::select(mask, lhs, rhs));
      cases.push_back(b.build());
    }
  // select with a broadcast i1 condition and a constant condition.
  {
    Shape cs{3, 1}, shape{3, 4};
    Tensor<T> p = uniformTensor<T>(this->rng, cs, -1, 1), q = uniformTensor<T>(this->rng, cs, -1, 1);
    Tensor<T> x = uniformTensor<T>(this->rng, shape, -1, 1), y = uniformTensor<T>(this->rng, shape, -1, 1);
    CaseBuilder b(fname<T>("select_broadcast"), this->desc("select (broadcast i1 condition)", {cs, shape}));
    std::string pv = b.input(p), qv = b.input(q), xv = b.input(x), yv = b.input(y);
    std::string c = b.op("bism.compare gt, " + pv + ", " + qv + " : " + this->tt(cs));
    std::string bc = b.op("bism.broadcast " + c + " : tensor<3x1xi1> to tensor<3x4xi1>");
    std::string s = b.op("bism.select " + bc + ", " + xv + ", " + yv + " : " + this->tt(shape));
    std::string k = b.op("bism.constant dense<[true, false, false, true]> : tensor<4xi1>");
    std::string bk = b.op("bism.broadcast " + k + " : tensor<4xi1> to tensor<3x4xi1>");
    std::string s2 = b.op("bism.select " + bk + ", " + xv + ", " + yv + " : " + this->tt(shape));
    Tensor<uint8_t> mask = ref::broadcastTo(ref::compare("gt", p, q), shape);
    Tensor<uint8_t> constant = ref::broadcastTo(Tensor<uint8_t>({4}, {1, 0, 0, 1}), shape);
    b.exactOutput(s, ref::select(mask, x, y));
    b.exactOutput(s2, ref::select(constant, x, y));
    cases.push_back(b.build());
  }
  runCases(cases);
}

TYPED_TEST(OpNumerics, Convert) {
  using T = TypeParam;
  using Other = std::conditional_t<std::is_same<T, float>::value, double, float>;
  std::vector<Case> cases;
  const std::vector<Shape> shapes = {{2, 3}, {}, {1, 4, 1, 2}};
  for (size_t j = 0; j < shapes.size(); ++j) {
    const Shape &shape = shapes[j];
    Tensor<T> x = uniformTensor<T>(this->rng, shape, -1e3, 1e3);
    CaseBuilder b(fname<T>("convert" + std::to_string(j)),
                  this->desc(std::string("convert to ") + DType<T>::other, {shape}));
    std::string v = b.op("bism.convert " + b.input(x) + " : " + this->tt(shape) + " to " +
                         tensorType(shape, DType<T>::other));
    b.exactOutput(v, ref::convert<Other>(x));
    cases.push_back(b.build());
  }
  {
    // Rounding, overflow and underflow of f64 -> f32 (and exact f32 -> f64).
    Shape shape{6};
    Tensor<T> x(shape, std::vector<T>{T(1) / T(3), T(-2.5), T(1e30), T(-1e-30), T(0.1), T(-0.0)});
    if constexpr (std::is_same<T, double>::value) {
      x.data[2] = 1e300;
      x.data[3] = 1e-50;
    }
    CaseBuilder b(fname<T>("convert_special"),
                  this->desc(std::string("convert to ") + DType<T>::other + " special values", {shape}));
    std::string v = b.op("bism.convert " + b.input(x) + " : " + this->tt(shape) + " to " +
                         tensorType(shape, DType<T>::other));
    b.exactOutput(v, ref::convert<Other>(x));
    cases.push_back(b.build());
  }
  runCases(cases);
}

TYPED_TEST(OpNumerics, Constant) {
  using T = TypeParam;
  std::vector<Case> cases;
  const std::vector<Shape> shapes = {{2, 3}, {}, {1, 2, 1, 2}};
  for (size_t j = 0; j < shapes.size(); ++j) {
    const Shape &shape = shapes[j];
    Tensor<T> c = uniformTensor<T>(this->rng, shape, -10, 10);
    Tensor<T> x = uniformTensor<T>(this->rng, shape, -10, 10);
    CaseBuilder b(fname<T>("constant" + std::to_string(j)), this->desc("constant", {shape}));
    std::string xv = b.input(x);
    std::string cv = b.op("bism.constant " + denseText(c) + " : " + this->tt(shape));
    std::string sv = b.op("bism.constant dense<" + literal(2.5) + "> : " + this->tt(shape));
    std::string sum = b.op("bism.add " + xv + ", " + cv + " : " + this->tt(shape));
    b.exactOutput(cv, c);
    b.exactOutput(sv, Tensor<T>(shape, T(2.5)));
    b.output(sum, ref::binary("add", x, c), defaultTol<T>());
    cases.push_back(b.build());
  }
  {
    // A function of constants only, and one that returns its argument.
    Shape shape{3};
    Tensor<T> x = uniformTensor<T>(this->rng, shape, -1, 1);
    CaseBuilder b(fname<T>("identity"), this->desc("return argument / broadcast splat", {shape}));
    std::string xv = b.input(x);
    std::string one = b.op("bism.constant dense<" + literal(1.0) + "> : " + this->tt({}));
    std::string wide = b.op("bism.broadcast " + one + " : " + this->tt({}) + " to " + this->tt({2, 2}));
    b.exactOutput(xv, x);
    b.exactOutput(wide, Tensor<T>({2, 2}, T(1)));
    cases.push_back(b.build());
  }
  runCases(cases);
}

struct MatmulSpec {
  Shape lhs, rhs;
  bool tl = false, tr = false;
};

std::string matmulAttrs(bool tl, bool tr) {
  if (tl && tr)
    return " {transpose_lhs, transpose_rhs}";
  if (tl)
    return " {transpose_lhs}";
  if (tr)
    return " {transpose_rhs}";
  return "";
}

template <typename T>
Case matmulCase(std::mt19937 &rng, const std::string &name, const MatmulSpec &s) {
  Tensor<T> a = uniformTensor<T>(rng, s.lhs, -1, 1), c = uniformTensor<T>(rng, s.rhs, -1, 1);
  Tensor<T> expected = ref::matmul(a, c, s.tl, s.tr);
  int64_t k = s.tl ? s.lhs[s.lhs.size() - 2] : s.lhs.back();
  std::string e = DType<T>::name;
  std::string label = "matmul" + matmulAttrs(s.tl, s.tr) + " " + e + " " +
                      ref::shapeString(s.lhs) + " " + ref::shapeString(s.rhs);
  CaseBuilder b(name, label);
  std::string x = b.input(a), y = b.input(c);
  std::string v = b.op("bism.matmul " + x + ", " + y + matmulAttrs(s.tl, s.tr) + " : " +
                       tensorType(s.lhs, e) + ", " + tensorType(s.rhs, e) + " -> " +
                       typeOf(expected));
  b.output(v, expected, sumTol<T>(double(k)));
  return b.build();
}

TYPED_TEST(OpNumerics, Matmul) {
  using T = TypeParam;
  const std::vector<MatmulSpec> specs = {
      {{3, 4}, {4, 5}},
      {{4, 3}, {4, 5}, true, false},
      {{3, 4}, {5, 4}, false, true},
      {{4, 3}, {5, 4}, true, true},
      {{2, 3, 4}, {2, 4, 5}},
      {{2, 4, 3}, {2, 5, 4}, true, true},
      {{2, 2, 3, 4}, {2, 2, 4, 2}},
      {{2, 2, 4, 3}, {2, 2, 4, 2}, true, false},
      {{1, 1}, {1, 1}},
      {{1, 7}, {7, 1}},
      {{7, 1}, {1, 7}},
      {{1, 1, 5}, {1, 5, 1}},
      // Above the default BLAS threshold (M*N*K >= 32768), with transposes.
      {{40, 30}, {30, 50}},
      {{30, 40}, {50, 30}, true, true},
      {{2, 40, 30}, {2, 30, 50}},
      {{2, 30, 40}, {2, 30, 50}, true, false},
  };
  std::vector<Case> cases;
  for (size_t i = 0; i < specs.size(); ++i)
    cases.push_back(matmulCase<T>(this->rng, fname<T>("matmul" + std::to_string(i)), specs[i]));
  runCases(cases);
  // The same without BLAS: the loop lowering of the large cases.
  std::vector<Case> loops(cases.end() - 4, cases.end());
  for (Case &c : loops)
    c.description += " (BLAS disabled)";
  JitOptions noBlas;
  noBlas.blasMinFlops = -1;
  runCases(loops, noBlas);
}

TYPED_TEST(OpNumerics, MatmulBlas) {
  using T = TypeParam;
  std::vector<Case> cases = {
      matmulCase<T>(this->rng, fname<T>("blas"), {{100, 560}, {560, 400}}),
      matmulCase<T>(this->rng, fname<T>("blas_tt"), {{560, 100}, {400, 560}, true, true}),
      matmulCase<T>(this->rng, fname<T>("blas_batch"), {{3, 64, 80}, {3, 80, 72}}),
  };
  std::string text = "module {\n";
  for (const Case &c : cases)
    text += c.func;
  text += "}\n";
  auto jit = compileOrReport(std::string("BLAS matmuls ") + DType<T>::name, text, JitOptions{});
  if (!jit)
    return;
  for (const Case &c : cases) {
    SCOPED_TRACE(c.description);
    int64_t before = runtime::blasCallCount();
    runCase(*jit, c);
    EXPECT_GT(runtime::blasCallCount(), before) << c.description << ": no BLAS call was made";
  }
  // With BLAS disabled the same product runs in loops and calls no BLAS.
  JitOptions noBlas;
  noBlas.blasMinFlops = -1;
  auto loops = compileOrReport(std::string("BLAS-disabled matmul ") + DType<T>::name,
                               "module {\n" + cases[0].func + "}\n", noBlas);
  if (!loops)
    return;
  SCOPED_TRACE(cases[0].description + " (BLAS disabled)");
  int64_t before = runtime::blasCallCount();
  runCase(*loops, cases[0]);
  EXPECT_EQ(runtime::blasCallCount(), before) << "blasMinFlops = -1 still called BLAS";
}

struct ConvSpec {
  Shape input, filter;
  ref::Conv2DParams params;
};

TYPED_TEST(OpNumerics, Conv2D) {
  using T = TypeParam;
  auto P = [](std::vector<int64_t> s, std::vector<int64_t> p, std::vector<int64_t> d, int64_t g) {
    ref::Conv2DParams params;
    params.strides = s;
    params.padding = p;
    params.dilations = d;
    params.groups = g;
    return params;
  };
  const std::vector<ConvSpec> specs = {
      {{2, 3, 7, 7}, {4, 3, 3, 3}, {}},
      {{1, 3, 8, 9}, {2, 3, 3, 3}, P({2, 2}, {0, 0, 0, 0}, {1, 1}, 1)},
      {{1, 2, 6, 5}, {3, 2, 3, 2}, P({1, 1}, {1, 0, 2, 1}, {1, 1}, 1)},
      {{1, 2, 9, 9}, {2, 2, 3, 3}, P({1, 1}, {0, 0, 0, 0}, {2, 3}, 1)},
      {{2, 4, 6, 6}, {6, 2, 3, 3}, P({1, 1}, {1, 1, 1, 1}, {1, 1}, 2)},
      {{1, 3, 5, 5}, {3, 1, 3, 3}, P({1, 1}, {1, 1, 1, 1}, {1, 1}, 3)}, // depthwise
      {{2, 3, 4, 4}, {5, 3, 1, 1}, {}},                                 // 1x1
      {{1, 4, 11, 10}, {4, 2, 3, 2}, P({2, 3}, {2, 1, 0, 2}, {2, 1}, 2)},
      {{1, 1, 1, 1}, {1, 1, 1, 1}, {}},
      {{1, 1, 3, 3}, {1, 1, 3, 3}, P({1, 1}, {2, 2, 2, 2}, {1, 1}, 1)}, // padding > input
  };
  std::vector<Case> cases;
  for (size_t i = 0; i < specs.size(); ++i) {
    const ConvSpec &s = specs[i];
    Tensor<T> x = uniformTensor<T>(this->rng, s.input, -1, 1);
    Tensor<T> w = uniformTensor<T>(this->rng, s.filter, -1, 1);
    Tensor<T> expected = ref::conv2d(x, w, s.params);
    std::string attrs = "{strides = " + arrayAttr(s.params.strides) +
                        ", padding = " + arrayAttr(s.params.padding) +
                        ", dilations = " + arrayAttr(s.params.dilations) +
                        ", groups = " + std::to_string(s.params.groups) + " : i64}";
    CaseBuilder b(fname<T>("conv" + std::to_string(i)),
                  this->desc("conv2d " + attrs, {s.input, s.filter}));
    std::string xv = b.input(x), wv = b.input(w);
    std::string v = b.op("bism.conv2d " + xv + ", " + wv + " " + attrs + " : " +
                         this->tt(s.input) + ", " + this->tt(s.filter) + " -> " + typeOf(expected));
    b.output(v, expected, sumTol<T>(double(s.filter[1] * s.filter[2] * s.filter[3])));
    cases.push_back(b.build());
  }
  runCases(cases);
}

struct PoolSpec {
  bool isMax;
  Shape input;
  ref::Pool2DParams params;
};

TYPED_TEST(OpNumerics, Pooling) {
  using T = TypeParam;
  auto P = [](std::vector<int64_t> k, std::vector<int64_t> s, std::vector<int64_t> p,
              bool include = false) {
    ref::Pool2DParams params;
    params.kernel = k;
    params.strides = s;
    params.padding = p;
    params.countIncludePad = include;
    return params;
  };
  const std::vector<PoolSpec> specs = {
      {true, {1, 2, 6, 6}, P({2, 2}, {1, 1}, {0, 0, 0, 0})},
      {true, {2, 3, 7, 7}, P({3, 3}, {2, 2}, {1, 1, 1, 1})},
      {true, {1, 1, 5, 6}, P({2, 3}, {2, 1}, {1, 0, 0, 2})},
      {true, {1, 1, 1, 1}, P({1, 1}, {1, 1}, {0, 0, 0, 0})},
      {false, {1, 2, 6, 6}, P({2, 2}, {2, 2}, {0, 0, 0, 0})},
      {false, {2, 1, 5, 5}, P({3, 3}, {2, 2}, {1, 1, 1, 1})},
      {false, {2, 1, 5, 5}, P({3, 3}, {2, 2}, {1, 1, 1, 1}, true)},
      {false, {1, 2, 4, 7}, P({2, 3}, {1, 2}, {1, 2, 0, 1})},
      {false, {1, 2, 4, 7}, P({2, 3}, {1, 2}, {1, 2, 0, 1}, true)},
      {false, {1, 3, 3, 3}, P({3, 3}, {1, 1}, {0, 0, 0, 0})},
  };
  std::vector<Case> cases;
  for (size_t i = 0; i < specs.size(); ++i) {
    const PoolSpec &s = specs[i];
    // All-negative inputs: a max that lets zero padding win shows up.
    Tensor<T> x = s.isMax ? uniformTensor<T>(this->rng, s.input, -5, -1)
                          : uniformTensor<T>(this->rng, s.input, -1, 1);
    Tensor<T> expected = ref::pool2d(s.isMax, x, s.params);
    std::string op = s.isMax ? "max_pool2d" : "avg_pool2d";
    std::string attrs = "{kernel_shape = " + arrayAttr(s.params.kernel) +
                        ", strides = " + arrayAttr(s.params.strides) +
                        ", padding = " + arrayAttr(s.params.padding) +
                        (s.params.countIncludePad ? ", count_include_pad" : "") + "}";
    CaseBuilder b(fname<T>("pool" + std::to_string(i)), this->desc(op + " " + attrs, {s.input}));
    std::string v = b.op("bism." + op + " " + b.input(x) + " " + attrs + " : " +
                         this->tt(s.input) + " -> " + typeOf(expected));
    if (s.isMax)
      b.exactOutput(v, expected);
    else
      b.output(v, expected, sumTol<T>(double(s.params.kernel[0] * s.params.kernel[1])));
    cases.push_back(b.build());
  }
  runCases(cases);
}

struct ReduceSpec {
  Shape shape;
  std::vector<int64_t> axes;
  bool keepDims;
};

TYPED_TEST(OpNumerics, Reductions) {
  using T = TypeParam;
  const std::vector<ReduceSpec> specs = {
      {{5}, {0}, false},
      {{3, 4}, {1}, false},
      {{3, 4}, {0}, true},
      {{2, 3, 4, 5}, {1, 3}, false},
      {{2, 3, 4}, {2, 0}, false},
      {{1, 1, 1}, {0, 1, 2}, true},
      {{3, 1, 4}, {1}, false},
      {{2, 3, 4, 5}, {0, 1, 2, 3}, false},
      {{1000}, {0}, true},
  };
  const std::vector<std::string> kinds = {"sum", "mean", "max", "logsumexp"};
  std::vector<Case> cases;
  for (const std::string &kind : kinds)
    for (size_t i = 0; i < specs.size(); ++i) {
      const ReduceSpec &s = specs[i];
      Tensor<T> x = kind == "max" ? uniformTensor<T>(this->rng, s.shape, -9, -1)
                                  : uniformTensor<T>(this->rng, s.shape, -1, 1);
      Tensor<T> expected = ref::reduce(kind, x, s.axes, s.keepDims);
      std::string op = "reduce_" + kind;
      std::string text = " axes " + listString(s.axes) + (s.keepDims ? " keep_dims" : "");
      CaseBuilder b(fname<T>(op + std::to_string(i)), this->desc(op + text, {s.shape}));
      std::string v = b.op("bism." + op + " " + b.input(x) + text + " : " + this->tt(s.shape) +
                           " -> " + typeOf(expected));
      int64_t count = x.size() / std::max<int64_t>(expected.size(), 1);
      if (kind == "max")
        b.exactOutput(v, expected);
      else
        b.output(v, expected, sumTol<T>(double(count)));
      cases.push_back(b.build());
    }
  // logsumexp far from 0: exp would overflow (or underflow) without the max shift.
  for (auto [lo, hi, tag] : {std::tuple{500.0, 800.0, "large"}, std::tuple{-800.0, -500.0, "small"}}) {
    Shape shape{4, 16};
    Tensor<T> x = uniformTensor<T>(this->rng, shape, lo, hi);
    if constexpr (std::is_same<T, float>::value)
      for (T &v : x.data)
        v = v / 8; // f32 exp overflows above ~88
    Tensor<T> expected = ref::reduce("logsumexp", x, {1}, false);
    CaseBuilder b(fname<T>(std::string("lse_") + tag),
                  this->desc(std::string("reduce_logsumexp of ") + tag + " values", {shape}));
    std::string v = b.op("bism.reduce_logsumexp " + b.input(x) + " axes [1] : " +
                         this->tt(shape) + " -> " + typeOf(expected));
    b.output(v, expected, defaultTol<T>());
    cases.push_back(b.build());
  }
  runCases(cases);
}

TYPED_TEST(OpNumerics, Transpose) {
  using T = TypeParam;
  const std::vector<std::pair<Shape, std::vector<int64_t>>> specs = {
      {{2, 3}, {1, 0}},          {{2, 3, 4}, {2, 0, 1}},     {{2, 3, 4, 5}, {3, 1, 0, 2}},
      {{1, 4, 1}, {2, 1, 0}},    {{2, 3, 4}, {0, 1, 2}},     {{5}, {0}},
      {{}, {}},                  {{3, 1, 2, 2}, {1, 3, 2, 0}},
  };
  std::vector<Case> cases;
  for (size_t i = 0; i < specs.size(); ++i) {
    auto [shape, perm] = specs[i];
    Tensor<T> x = uniformTensor<T>(this->rng, shape, -1, 1);
    Tensor<T> expected = ref::transpose(x, perm);
    CaseBuilder b(fname<T>("transpose" + std::to_string(i)),
                  this->desc("transpose " + listString(perm), {shape}));
    std::string v = b.op("bism.transpose " + b.input(x) + " " + listString(perm) + " : " +
                         this->tt(shape) + " to " + typeOf(expected));
    b.exactOutput(v, expected);
    cases.push_back(b.build());
  }
  {
    // Two transposes in a row (folded into one by canonicalisation).
    Shape shape{2, 3, 4};
    Tensor<T> x = uniformTensor<T>(this->rng, shape, -1, 1);
    Tensor<T> once = ref::transpose(x, {1, 2, 0});
    Tensor<T> twice = ref::transpose(once, {1, 2, 0});
    CaseBuilder b(fname<T>("transpose_twice"), this->desc("transpose [1, 2, 0] twice", {shape}));
    std::string a = b.op("bism.transpose " + b.input(x) + " [1, 2, 0] : " + this->tt(shape) +
                         " to " + typeOf(once));
    std::string c = b.op("bism.transpose " + a + " [1, 2, 0] : " + typeOf(once) + " to " +
                         typeOf(twice));
    b.exactOutput(c, twice);
    cases.push_back(b.build());
  }
  runCases(cases);
}

TYPED_TEST(OpNumerics, Reshape) {
  using T = TypeParam;
  const std::vector<std::pair<Shape, Shape>> specs = {
      {{2, 3, 4}, {6, 4}}, {{6}, {1, 2, 1, 3}}, {{1}, {}}, {{}, {1, 1}}, {{2, 3}, {3, 2}},
      {{2, 2, 2, 2}, {16}},
  };
  std::vector<Case> cases;
  for (size_t i = 0; i < specs.size(); ++i) {
    auto [from, to] = specs[i];
    Tensor<T> x = uniformTensor<T>(this->rng, from, -1, 1);
    CaseBuilder b(fname<T>("reshape" + std::to_string(i)), this->desc("reshape", {from, to}));
    std::string v =
        b.op("bism.reshape " + b.input(x) + " : " + this->tt(from) + " to " + this->tt(to));
    b.exactOutput(v, ref::reshape(x, to));
    cases.push_back(b.build());
  }
  {
    // reshape after a transpose must see the transposed (row-major) order.
    Shape shape{2, 3};
    Tensor<T> x = uniformTensor<T>(this->rng, shape, -1, 1);
    Tensor<T> t = ref::transpose(x, {1, 0});
    CaseBuilder b(fname<T>("reshape_transposed"), this->desc("reshape of transpose", {shape}));
    std::string a = b.op("bism.transpose " + b.input(x) + " [1, 0] : " + this->tt(shape) +
                         " to " + this->tt({3, 2}));
    std::string v = b.op("bism.reshape " + a + " : " + this->tt({3, 2}) + " to " + this->tt({6}));
    b.exactOutput(v, ref::reshape(t, {6}));
    cases.push_back(b.build());
  }
  runCases(cases);
}

struct SliceSpec {
  Shape shape;
  std::vector<int64_t> starts, limits, strides;
};

TYPED_TEST(OpNumerics, Slice) {
  using T = TypeParam;
  const std::vector<SliceSpec> specs = {
      {{5}, {1}, {4}, {1}},
      {{4, 6}, {1, 0}, {4, 6}, {2, 3}},
      {{2, 3, 4, 5}, {0, 1, 1, 0}, {2, 3, 4, 5}, {1, 1, 2, 2}},
      {{1, 1}, {0, 0}, {1, 1}, {1, 5}},
      {{7, 3}, {6, 2}, {7, 3}, {1, 1}},
      {{8}, {0}, {8}, {3}},
      {{3, 4}, {0, 0}, {3, 4}, {1, 1}},
  };
  std::vector<Case> cases;
  for (size_t i = 0; i < specs.size(); ++i) {
    const SliceSpec &s = specs[i];
    Tensor<T> x = uniformTensor<T>(this->rng, s.shape, -1, 1);
    Tensor<T> expected = ref::slice(x, s.starts, s.limits, s.strides);
    std::string text = " starts " + listString(s.starts) + " limits " + listString(s.limits) +
                       " strides " + listString(s.strides);
    CaseBuilder b(fname<T>("slice" + std::to_string(i)), this->desc("slice" + text, {s.shape}));
    std::string v = b.op("bism.slice " + b.input(x) + text + " : " + this->tt(s.shape) + " to " +
                         typeOf(expected));
    b.exactOutput(v, expected);
    cases.push_back(b.build());
  }
  runCases(cases);
}

struct PadSpec {
  Shape shape;
  std::vector<int64_t> low, high, interior;
};

TYPED_TEST(OpNumerics, Pad) {
  using T = TypeParam;
  const std::vector<PadSpec> specs = {
      {{3}, {1}, {2}, {0}},
      {{2, 3}, {1, 0}, {0, 2}, {0, 1}},
      {{1, 2, 3, 2}, {0, 1, 0, 2}, {1, 0, 3, 0}, {2, 0, 1, 3}},
      {{1, 1}, {0, 0}, {0, 0}, {5, 5}},
  };
  std::vector<Case> cases;
  for (size_t i = 0; i < specs.size(); ++i) {
    const PadSpec &s = specs[i];
    Tensor<T> x = uniformTensor<T>(this->rng, s.shape, -1, 1);
    Tensor<T> expected = ref::pad(x, s.low, s.high, s.interior);
    std::string text = " low " + listString(s.low) + " high " + listString(s.high) +
                       " interior " + listString(s.interior);
    CaseBuilder b(fname<T>("pad" + std::to_string(i)), this->desc("pad" + text, {s.shape}));
    std::string v = b.op("bism.pad " + b.input(x) + text + " : " + this->tt(s.shape) + " to " +
                         typeOf(expected));
    b.exactOutput(v, expected);
    cases.push_back(b.build());
  }
  runCases(cases);
}

TYPED_TEST(OpNumerics, Reverse) {
  using T = TypeParam;
  const std::vector<std::pair<Shape, std::vector<int64_t>>> specs = {
      {{5}, {0}}, {{2, 3}, {1}}, {{2, 3, 4}, {0, 2}}, {{1, 3, 1, 2}, {0, 1, 2, 3}}};
  std::vector<Case> cases;
  for (size_t i = 0; i < specs.size(); ++i) {
    const auto &[shape, dims] = specs[i];
    Tensor<T> x = uniformTensor<T>(this->rng, shape, -1, 1);
    Tensor<T> expected = ref::reverse(x, dims);
    CaseBuilder b(fname<T>("reverse" + std::to_string(i)),
                  this->desc("reverse dims " + listString(dims), {shape}));
    std::string v = b.op("bism.reverse " + b.input(x) + " dims " + listString(dims) + " : " +
                         this->tt(shape));
    b.exactOutput(v, expected);
    cases.push_back(b.build());
  }
  runCases(cases);
}

TYPED_TEST(OpNumerics, Concat) {
  using T = TypeParam;
  const std::vector<std::pair<std::vector<Shape>, int64_t>> specs = {
      {{{2, 3}, {1, 3}}, 0},
      {{{2, 3}, {2, 1}, {2, 2}}, 1},
      {{{1, 2, 3, 4}, {1, 2, 2, 4}}, 2},
      {{{3}, {4}, {1}}, 0},
      {{{2, 1, 2}, {2, 1, 2}}, 2},
      {{{2, 2}}, 1},
  };
  std::vector<Case> cases;
  for (size_t i = 0; i < specs.size(); ++i) {
    auto [shapes, axis] = specs[i];
    std::vector<Tensor<T>> inputs;
    for (const Shape &s : shapes)
      inputs.push_back(uniformTensor<T>(this->rng, s, -1, 1));
    Tensor<T> expected = ref::concat(inputs, axis);
    CaseBuilder b(fname<T>("concat" + std::to_string(i)),
                  this->desc("concat axis " + std::to_string(axis), shapes));
    std::string operands, types;
    for (size_t j = 0; j < inputs.size(); ++j) {
      operands += (j ? ", " : "") + b.input(inputs[j]);
      types += (j ? ", " : "") + typeOf(inputs[j]);
    }
    std::string v = b.op("bism.concat " + operands + " axis " + std::to_string(axis) + " : " +
                         types + " -> " + typeOf(expected));
    b.exactOutput(v, expected);
    cases.push_back(b.build());
  }
  runCases(cases);
}

//===----------------------------------------------------------------------===//
// Random draws
//===----------------------------------------------------------------------===//

const std::vector<std::string> kRandomKinds = {"uniform", "normal", "gumbel", "rademacher"};

TYPED_TEST(OpNumerics, RandomExact) {
  using T = TypeParam;
  const std::vector<Shape> shapes = {{}, {7}, {3, 5}, {2, 1, 3, 4}};
  const std::vector<PhiloxKey> keys = {{0, 0}, {0x12345678u, 0x9abcdef0u}, {0xffffffffu, 1}};
  std::vector<Case> cases;
  for (const std::string &kind : kRandomKinds)
    for (size_t j = 0; j < shapes.size(); ++j) {
      const Shape &shape = shapes[j];
      PhiloxKey key = keys[j % keys.size()];
      CaseBuilder b(fname<T>("random_" + kind + std::to_string(j)),
                    this->desc("random_" + kind, {shape}) + " key {" + std::to_string(key[0]) +
                        ", " + std::to_string(key[1]) + "}");
      std::string v = b.op("bism.random_" + kind + " " + b.key(key) + " : " + this->tt(shape));
      Tensor<T> expected = ref::random<T>(kind, key, shape);
      // f32 normal and gumbel use DrawMath.h's polynomials on both sides, so
      // they are exact too; f64 ones call libm (JIT and reference may differ).
      if (kind == "uniform" || kind == "rademacher" || std::is_same<T, float>::value)
        b.exactOutput(v, expected);
      else
        b.output(v, expected, Tol{DType<T>::randomTol, DType<T>::randomTol});
      cases.push_back(b.build());
    }
  {
    // Draws from a derived key.
    PhiloxKey key{42, 7};
    PhiloxKey derived = runtime::keySplit(key, 3);
    Shape shape{4, 4};
    CaseBuilder b(fname<T>("random_split"), this->desc("random_uniform/normal after key_split [3]", {shape}));
    std::string k = b.op("bism.key_split " + b.key(key) + " [3]");
    std::string u = b.op("bism.random_uniform " + k + " : " + this->tt(shape));
    std::string n = b.op("bism.random_normal " + k + " : " + this->tt(shape));
    b.exactOutput(u, ref::random<T>("uniform", derived, shape));
    if (std::is_same<T, float>::value)
      b.exactOutput(n, ref::random<T>("normal", derived, shape));
    else
      b.output(n, ref::random<T>("normal", derived, shape), Tol{DType<T>::randomTol, DType<T>::randomTol});
    cases.push_back(b.build());
  }
  runCases(cases);
}

TYPED_TEST(OpNumerics, RandomStatistics) {
  using T = TypeParam;
  const int64_t n = 100000;
  const PhiloxKey key{0x2545f491u, 0x4f6cdd1du};
  const Shape shape{250, 400};
  std::string text = "module {\n";
  for (const std::string &kind : kRandomKinds)
    text += "  func.func @" + kind + "(%key: tensor<2xi32>) -> " + this->tt(shape) +
            " {\n    %0 = bism.random_" + kind + " %key : " + this->tt(shape) +
            "\n    return %0 : " + this->tt(shape) + "\n  }\n";
  // Two streams split from one key must be uncorrelated.
  text += "  func.func @streams(%key: tensor<2xi32>) -> (" + this->tt(shape) + ", " +
          this->tt(shape) + ") {\n    %k0 = bism.key_split %key [0]\n    %k1 = bism.key_split "
          "%key [1]\n    %a = bism.random_uniform %k0 : " + this->tt(shape) +
          "\n    %b = bism.random_uniform %k1 : " + this->tt(shape) + "\n    return %a, %b : " +
          this->tt(shape) + ", " + this->tt(shape) + "\n  }\n}\n";
  auto jit = compileOrReport(std::string("random statistics module ") + DType<T>::name, text, {});
  if (!jit)
    return;
  const double pi = 3.14159265358979323846, euler = 0.57721566490153286;
  struct Stats {
    double mean, variance, meanTol, varianceTol;
  };
  // Tolerances: about 5 standard errors of the sample mean and variance at n = 1e5.
  const std::map<std::string, Stats> expectedStats = {
      {"uniform", {0.5, 1.0 / 12, 0.005, 0.0015}},
      {"normal", {0.0, 1.0, 0.016, 0.025}},
      {"gumbel", {euler, pi * pi / 6, 0.02, 0.08}},
      {"rademacher", {0.0, 1.0, 0.016, 0.001}},
  };
  for (const std::string &kind : kRandomKinds) {
    SCOPED_TRACE("random_" + kind + " " + DType<T>::name + " statistics over 1e5 draws");
    auto result = jit->call(kind, {keyTensor(key)});
    if (!result) {
      ADD_FAILURE() << "random_" << kind << ": call failed: " << llvm::toString(result.takeError());
      continue;
    }
    ASSERT_EQ(result->size(), 1u);
    const HostTensor &out = (*result)[0];
    ASSERT_EQ(out.elementType(), runtime::ElementTypeOf<T>::value);
    ASSERT_EQ(out.numElements(), n);
    const T *data = out.template dataAs<T>();
    int64_t outOfRange = 0;
    for (int64_t i = 0; i < n; ++i) {
      T v = data[i];
      bool ok = std::isfinite(v);
      if (kind == "uniform")
        ok = ok && v >= T(0) && v < T(1);
      if (kind == "rademacher")
        ok = v == T(1) || v == T(-1);
      if (!ok && outOfRange++ < 3)
        ADD_FAILURE() << "random_" << kind << " element " << i << " = " << v
                      << " is outside the support";
    }
    EXPECT_EQ(outOfRange, 0);
    auto [mean, variance] = ref::meanAndVariance(data, n);
    const Stats &s = expectedStats.at(kind);
    EXPECT_NEAR(mean, s.mean, s.meanTol) << "mean of random_" << kind;
    EXPECT_NEAR(variance, s.variance, s.varianceTol) << "variance of random_" << kind;
    // The reference itself satisfies the same bounds (a sanity check of the test).
    Tensor<T> reference = ref::random<T>(kind, key, shape);
    auto [refMean, refVariance] = ref::meanAndVariance(reference.data.data(), n);
    EXPECT_NEAR(refMean, s.mean, s.meanTol) << "reference mean of " << kind;
    EXPECT_NEAR(refVariance, s.variance, s.varianceTol) << "reference variance of " << kind;
    // 1e5 elements run through the vectorised loop: still bit for bit (f32;
    // f64 normal/gumbel call libm).
    if (std::is_same<T, float>::value || kind == "uniform" || kind == "rademacher") {
      int64_t differing = 0;
      for (int64_t i = 0; i < n; ++i)
        if (std::memcmp(&data[i], &reference.data[size_t(i)], sizeof(T)) != 0 && differing++ < 3)
          ADD_FAILURE() << "random_" << kind << " element " << i << " = " << data[i]
                        << ", reference " << reference.data[size_t(i)];
      EXPECT_EQ(differing, 0);
    }
  }
  {
    SCOPED_TRACE(std::string("key_split streams ") + DType<T>::name);
    auto result = jit->call("streams", {keyTensor(key)});
    if (!result) {
      ADD_FAILURE() << "streams: call failed: " << llvm::toString(result.takeError());
      return;
    }
    ASSERT_EQ(result->size(), 2u);
    const T *a = (*result)[0].template dataAs<T>();
    const T *b = (*result)[1].template dataAs<T>();
    long double sab = 0;
    for (int64_t i = 0; i < n; ++i)
      sab += (a[i] - 0.5L) * (b[i] - 0.5L);
    double correlation = double(sab / n) * 12.0;
    EXPECT_NEAR(correlation, 0.0, 0.016) << "streams from key_split [0] and [1] are correlated";
  }
}

TYPED_TEST(OpNumerics, KeySplit) {
  using T = TypeParam;
  const std::vector<PhiloxKey> keys = {{0, 0}, {1, 2}, {0xdeadbeefu, 0xfeedfaceu}};
  const std::vector<uint64_t> indices = {0, 1, 12345, 0xffffffffull, 12345678901ull};
  std::vector<Case> cases;
  for (size_t i = 0; i < keys.size(); ++i) {
    CaseBuilder b(fname<T>("key_split" + std::to_string(i)),
                  "key_split of key {" + std::to_string(keys[i][0]) + ", " +
                      std::to_string(keys[i][1]) + "}");
    std::string k = b.key(keys[i]);
    for (uint64_t index : indices) {
      std::string v = b.op("bism.key_split " + k + " [" + std::to_string(index) + "]");
      PhiloxKey split = runtime::keySplit(keys[i], index);
      b.exactOutput(v, Tensor<int32_t>({2}, {int32_t(split[0]), int32_t(split[1])}));
    }
    // Split twice.
    std::string k1 = b.op("bism.key_split " + k + " [5]");
    std::string k2 = b.op("bism.key_split " + k1 + " [6]");
    PhiloxKey twice = runtime::keySplit(runtime::keySplit(keys[i], 5), 6);
    b.exactOutput(k2, Tensor<int32_t>({2}, {int32_t(twice[0]), int32_t(twice[1])}));
    cases.push_back(b.build());
  }
  runCases(cases);
}

//===----------------------------------------------------------------------===//
// Rejected programs
//===----------------------------------------------------------------------===//

TYPED_TEST(OpNumerics, EmptyReductionRejected) {
  using T = TypeParam;
  for (const std::string kind : {"sum", "mean", "max", "logsumexp"}) {
    SCOPED_TRACE("reduce_" + kind + " over a size-0 axis, " + DType<T>::name);
    std::string text = "module {\n  func.func @f(%x: " + this->tt({3, 0}) + ") -> " +
                       this->tt({3}) + " {\n    %0 = bism.reduce_" + kind + " %x axes [1] : " +
                       this->tt({3, 0}) + " -> " + this->tt({3}) + "\n    return %0 : " +
                       this->tt({3}) + "\n  }\n}\n";
    auto jit = JitModule::compileSource(text);
    if (jit) {
      ADD_FAILURE() << "a reduction over an empty axis compiled";
      continue;
    }
    std::string error = llvm::toString(jit.takeError());
    EXPECT_NE(error.find("empty axis 1"), std::string::npos) << error;
    EXPECT_NE(error.find("reduce_" + kind), std::string::npos) << error;
  }
}

} // namespace
