//===- OpReference.h - plain C++ reference semantics of the bism ops -*- C++ -*-===//
//
// Straightforward, loop-based implementations of every bism op, written from
// the op documentation (dialects/BismOps.td) and not from the lowering, so the
// numerics tests compare two independent implementations. Accumulation and
// transcendental functions run in a wider type (double for f32, long double
// for f64) and round once at the end.
//
//===----------------------------------------------------------------------===//
#ifndef BISM_TEST_UNIT_OPREFERENCE_H
#define BISM_TEST_UNIT_OPREFERENCE_H

#include "bism/runtime/Philox.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

namespace bism::ref {

using Shape = std::vector<int64_t>;

inline int64_t numElements(const Shape &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// Row-major strides in elements.
inline Shape stridesOf(const Shape &shape) {
  Shape strides(shape.size(), 1);
  for (int64_t i = int64_t(shape.size()) - 2; i >= 0; --i)
    strides[size_t(i)] = strides[size_t(i) + 1] * shape[size_t(i) + 1];
  return strides;
}

/// Multi-index of a row-major linear index.
inline Shape unravel(int64_t linear, const Shape &shape) {
  Shape index(shape.size(), 0);
  for (int64_t i = int64_t(shape.size()) - 1; i >= 0; --i) {
    int64_t d = shape[size_t(i)];
    if (d > 0) {
      index[size_t(i)] = linear % d;
      linear /= d;
    }
  }
  return index;
}

inline int64_t ravel(const Shape &index, const Shape &shape) {
  int64_t linear = 0;
  for (size_t i = 0; i < shape.size(); ++i)
    linear = linear * shape[i] + index[i];
  return linear;
}

/// "2x3" ("scalar" for rank 0), for messages.
inline std::string shapeString(const Shape &shape) {
  if (shape.empty())
    return "scalar";
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? "x" : "") + std::to_string(shape[i]);
  return s;
}

template <typename T> struct Tensor {
  Shape shape;
  std::vector<T> data;

  Tensor() = default;
  explicit Tensor(Shape s, T fill = T())
      : shape(std::move(s)), data(size_t(numElements(shape)), fill) {}
  Tensor(Shape s, std::vector<T> values) : shape(std::move(s)), data(std::move(values)) {
    assert(int64_t(data.size()) == numElements(shape));
  }
  int64_t size() const { return int64_t(data.size()); }
  T &at(const Shape &index) { return data[size_t(ravel(index, shape))]; }
  const T &at(const Shape &index) const { return data[size_t(ravel(index, shape))]; }
};

/// The wider type reference arithmetic runs in.
template <typename T>
using Wide = std::conditional_t<std::is_same<T, float>::value, double, long double>;

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

/// One bism unary op by mnemonic ("exp", "elu", ...); alpha for elu/leaky_relu.
template <typename T> T unaryScalar(const std::string &op, T value, double alpha = 0) {
  using W = Wide<T>;
  W x = W(value), a = W(T(alpha));
  W r;
  if (op == "neg") r = -x;
  else if (op == "exp") r = std::exp(x);
  else if (op == "log") r = std::log(x);
  else if (op == "log1p") r = std::log1p(x);
  else if (op == "sqrt") r = std::sqrt(x);
  else if (op == "square") r = x * x;
  else if (op == "abs") r = std::fabs(x);
  else if (op == "reciprocal") r = W(1) / x;
  else if (op == "tanh") r = std::tanh(x);
  else if (op == "sigmoid") r = W(1) / (W(1) + std::exp(-x));
  else if (op == "softplus") r = std::max(x, W(0)) + std::log1p(std::exp(-std::fabs(x)));
  else if (op == "relu") r = x > 0 ? x : W(0);
  else if (op == "elu") r = x > 0 ? x : a * std::expm1(x);
  else if (op == "leaky_relu") r = x > 0 ? x : a * x;
  else std::abort();
  return T(r);
}

template <typename T>
Tensor<T> unary(const std::string &op, const Tensor<T> &x, double alpha = 0) {
  Tensor<T> out(x.shape);
  for (int64_t i = 0; i < x.size(); ++i)
    out.data[size_t(i)] = unaryScalar(op, x.data[size_t(i)], alpha);
  return out;
}

template <typename T> T binaryScalar(const std::string &op, T lhs, T rhs) {
  using W = Wide<T>;
  W a = W(lhs), b = W(rhs);
  if (op == "add") return T(a + b);
  if (op == "sub") return T(a - b);
  if (op == "mul") return T(a * b);
  if (op == "div") return T(a / b);
  if (op == "pow") return T(std::pow(a, b));
  if (op == "maximum") return lhs > rhs ? lhs : rhs;
  if (op == "minimum") return lhs < rhs ? lhs : rhs;
  std::abort();
}

/// numpy broadcasting of two shapes; false if incompatible.
inline bool broadcastShapes(const Shape &a, const Shape &b, Shape &out) {
  size_t rank = std::max(a.size(), b.size());
  out.assign(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      return false;
    out[i] = da == 1 ? db : da;
  }
  return true;
}

/// numpy broadcast of `x` to `shape` (dimensions aligned from the right).
template <typename T> Tensor<T> broadcastTo(const Tensor<T> &x, const Shape &shape) {
  assert(x.shape.size() <= shape.size());
  size_t offset = shape.size() - x.shape.size();
  Tensor<T> out(shape);
  Shape source(x.shape.size());
  for (int64_t i = 0; i < out.size(); ++i) {
    Shape index = unravel(i, shape);
    for (size_t d = 0; d < x.shape.size(); ++d) {
      assert(x.shape[d] == 1 || x.shape[d] == shape[offset + d]);
      source[d] = x.shape[d] == 1 ? 0 : index[offset + d];
    }
    out.data[size_t(i)] = x.at(source);
  }
  return out;
}

/// Elementwise binary op with numpy broadcasting of the operands.
template <typename T>
Tensor<T> binary(const std::string &op, const Tensor<T> &lhs, const Tensor<T> &rhs) {
  Shape shape;
  if (!broadcastShapes(lhs.shape, rhs.shape, shape))
    std::abort();
  Tensor<T> a = broadcastTo(lhs, shape), b = broadcastTo(rhs, shape);
  Tensor<T> out(shape);
  for (int64_t i = 0; i < out.size(); ++i)
    out.data[size_t(i)] = binaryScalar(op, a.data[size_t(i)], b.data[size_t(i)]);
  return out;
}

/// bism.compare: "eq", "ne", "lt", "le", "gt", "ge" (ordered); 1 byte per i1.
template <typename T>
Tensor<uint8_t> compare(const std::string &predicate, const Tensor<T> &lhs,
                        const Tensor<T> &rhs) {
  assert(lhs.shape == rhs.shape);
  Tensor<uint8_t> out(lhs.shape);
  for (int64_t i = 0; i < lhs.size(); ++i) {
    T a = lhs.data[size_t(i)], b = rhs.data[size_t(i)];
    bool r;
    if (predicate == "eq") r = a == b;
    else if (predicate == "ne") r = !std::isnan(a) && !std::isnan(b) && a != b;
    else if (predicate == "lt") r = a < b;
    else if (predicate == "le") r = a <= b;
    else if (predicate == "gt") r = a > b;
    else if (predicate == "ge") r = a >= b;
    else std::abort();
    out.data[size_t(i)] = r ? 1 : 0;
  }
  return out;
}

template <typename T>
Tensor<T> select(const Tensor<uint8_t> &condition, const Tensor<T> &onTrue,
                 const Tensor<T> &onFalse) {
  Tensor<T> out(onTrue.shape);
  for (int64_t i = 0; i < out.size(); ++i)
    out.data[size_t(i)] =
        condition.data[size_t(i)] ? onTrue.data[size_t(i)] : onFalse.data[size_t(i)];
  return out;
}

template <typename To, typename From> Tensor<To> convert(const Tensor<From> &x) {
  Tensor<To> out(x.shape);
  for (int64_t i = 0; i < x.size(); ++i)
    out.data[size_t(i)] = To(x.data[size_t(i)]);
  return out;
}

//===----------------------------------------------------------------------===//
// Matmul, convolution, pooling
//===----------------------------------------------------------------------===//

/// [B..., M, K] x [B..., K, N]; transposeLhs/Rhs swap the two minor dims of
/// an operand first. Batch dimensions must be equal.
template <typename T>
Tensor<T> matmul(const Tensor<T> &lhs, const Tensor<T> &rhs, bool transposeLhs = false,
                 bool transposeRhs = false) {
  size_t rank = lhs.shape.size();
  assert(rank >= 2 && rhs.shape.size() == rank);
  Shape batch(lhs.shape.begin(), lhs.shape.end() - 2);
  assert(Shape(rhs.shape.begin(), rhs.shape.end() - 2) == batch);
  int64_t l0 = lhs.shape[rank - 2], l1 = lhs.shape[rank - 1];
  int64_t r0 = rhs.shape[rank - 2], r1 = rhs.shape[rank - 1];
  int64_t m = transposeLhs ? l1 : l0, k = transposeLhs ? l0 : l1;
  int64_t n = transposeRhs ? r0 : r1;
  assert((transposeRhs ? r1 : r0) == k);
  Shape shape = batch;
  shape.push_back(m);
  shape.push_back(n);
  Tensor<T> out(shape);
  int64_t batches = numElements(batch);
  for (int64_t b = 0; b < batches; ++b) {
    const T *a = lhs.data.data() + b * l0 * l1;
    const T *c = rhs.data.data() + b * r0 * r1;
    T *o = out.data.data() + b * m * n;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        Wide<T> sum = 0;
        for (int64_t p = 0; p < k; ++p) {
          T x = transposeLhs ? a[p * l1 + i] : a[i * l1 + p];
          T y = transposeRhs ? c[j * r1 + p] : c[p * r1 + j];
          sum += Wide<T>(x) * Wide<T>(y);
        }
        o[i * n + j] = T(sum);
      }
  }
  return out;
}

struct Conv2DParams {
  std::vector<int64_t> strides{1, 1};
  std::vector<int64_t> padding{0, 0, 0, 0}; // top, left, bottom, right
  std::vector<int64_t> dilations{1, 1};
  int64_t groups = 1;
};

inline int64_t windowOutput(int64_t input, int64_t padBefore, int64_t padAfter,
                            int64_t extent, int64_t stride) {
  return (input + padBefore + padAfter - extent) / stride + 1;
}

/// NCHW input, OIHW filter (I = C / groups), zero padding.
template <typename T>
Tensor<T> conv2d(const Tensor<T> &input, const Tensor<T> &filter, const Conv2DParams &p) {
  int64_t N = input.shape[0], C = input.shape[1], H = input.shape[2], W = input.shape[3];
  int64_t O = filter.shape[0], Cg = filter.shape[1], KH = filter.shape[2],
          KW = filter.shape[3];
  assert(Cg * p.groups == C && O % p.groups == 0);
  (void)C;
  int64_t OH = windowOutput(H, p.padding[0], p.padding[2], p.dilations[0] * (KH - 1) + 1,
                            p.strides[0]);
  int64_t OW = windowOutput(W, p.padding[1], p.padding[3], p.dilations[1] * (KW - 1) + 1,
                            p.strides[1]);
  Tensor<T> out({N, O, OH, OW});
  int64_t outPerGroup = O / p.groups;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o) {
      int64_t g = o / outPerGroup;
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          Wide<T> sum = 0;
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t kh = 0; kh < KH; ++kh)
              for (int64_t kw = 0; kw < KW; ++kw) {
                int64_t h = oh * p.strides[0] - p.padding[0] + kh * p.dilations[0];
                int64_t w = ow * p.strides[1] - p.padding[1] + kw * p.dilations[1];
                if (h < 0 || h >= H || w < 0 || w >= W)
                  continue;
                sum += Wide<T>(input.at({n, g * Cg + c, h, w})) *
                       Wide<T>(filter.at({o, c, kh, kw}));
              }
          out.at({n, o, oh, ow}) = T(sum);
        }
    }
  return out;
}

struct Pool2DParams {
  std::vector<int64_t> kernel{2, 2};
  std::vector<int64_t> strides{1, 1};
  std::vector<int64_t> padding{0, 0, 0, 0}; // top, left, bottom, right
  bool countIncludePad = false;             // avg only
};

/// max (padding never wins) or avg (divides by the number of real elements
/// unless countIncludePad, then by the kernel area).
template <typename T>
Tensor<T> pool2d(bool isMax, const Tensor<T> &input, const Pool2DParams &p) {
  int64_t N = input.shape[0], C = input.shape[1], H = input.shape[2], W = input.shape[3];
  int64_t KH = p.kernel[0], KW = p.kernel[1];
  int64_t OH = windowOutput(H, p.padding[0], p.padding[2], KH, p.strides[0]);
  int64_t OW = windowOutput(W, p.padding[1], p.padding[3], KW, p.strides[1]);
  Tensor<T> out({N, C, OH, OW});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          Wide<T> sum = 0, best = -std::numeric_limits<Wide<T>>::infinity();
          int64_t count = 0;
          for (int64_t kh = 0; kh < KH; ++kh)
            for (int64_t kw = 0; kw < KW; ++kw) {
              int64_t h = oh * p.strides[0] - p.padding[0] + kh;
              int64_t w = ow * p.strides[1] - p.padding[1] + kw;
              if (h < 0 || h >= H || w < 0 || w >= W)
                continue;
              Wide<T> v = input.at({n, c, h, w});
              sum += v;
              best = std::max(best, v);
              ++count;
            }
          Wide<T> divisor = p.countIncludePad ? Wide<T>(KH * KW) : Wide<T>(count);
          out.at({n, c, oh, ow}) = T(isMax ? best : sum / divisor);
        }
  return out;
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

inline Shape reducedShape(const Shape &shape, const std::vector<int64_t> &axes,
                          bool keepDims) {
  Shape out;
  for (int64_t d = 0; d < int64_t(shape.size()); ++d) {
    bool reduced = std::find(axes.begin(), axes.end(), d) != axes.end();
    if (!reduced)
      out.push_back(shape[size_t(d)]);
    else if (keepDims)
      out.push_back(1);
  }
  return out;
}

/// kind: "sum", "mean", "max", "logsumexp" (stable: max + log(sum(exp(x - max)))).
template <typename T>
Tensor<T> reduce(const std::string &kind, const Tensor<T> &x, const std::vector<int64_t> &axes,
                 bool keepDims) {
  using W = Wide<T>;
  Shape keptShape = reducedShape(x.shape, axes, /*keepDims=*/true);
  int64_t outSize = numElements(keptShape);
  int64_t count = x.size() / std::max<int64_t>(outSize, 1);
  auto outIndex = [&](int64_t i) {
    Shape index = unravel(i, x.shape);
    for (int64_t axis : axes)
      index[size_t(axis)] = 0;
    return ravel(index, keptShape);
  };
  std::vector<W> best(size_t(outSize), -std::numeric_limits<W>::infinity());
  for (int64_t i = 0; i < x.size(); ++i) {
    W &b = best[size_t(outIndex(i))];
    b = std::max(b, W(x.data[size_t(i)]));
  }
  std::vector<W> acc(size_t(outSize), W(0));
  for (int64_t i = 0; i < x.size(); ++i) {
    int64_t o = outIndex(i);
    W v = W(x.data[size_t(i)]);
    acc[size_t(o)] += kind == "logsumexp" ? std::exp(v - best[size_t(o)]) : v;
  }
  Tensor<T> out(reducedShape(x.shape, axes, keepDims));
  for (int64_t o = 0; o < outSize; ++o) {
    W r;
    if (kind == "sum") r = acc[size_t(o)];
    else if (kind == "mean") r = acc[size_t(o)] / W(count);
    else if (kind == "max") r = best[size_t(o)];
    else if (kind == "logsumexp") r = best[size_t(o)] + std::log(acc[size_t(o)]);
    else std::abort();
    out.data[size_t(o)] = T(r);
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Shape manipulation
//===----------------------------------------------------------------------===//

template <typename T> Tensor<T> reshape(const Tensor<T> &x, const Shape &shape) {
  assert(numElements(shape) == x.size());
  return Tensor<T>(shape, x.data);
}

/// Result dim i is operand dim permutation[i].
template <typename T>
Tensor<T> transpose(const Tensor<T> &x, const std::vector<int64_t> &permutation) {
  Shape shape;
  for (int64_t d : permutation)
    shape.push_back(x.shape[size_t(d)]);
  Tensor<T> out(shape);
  Shape source(x.shape.size());
  for (int64_t i = 0; i < out.size(); ++i) {
    Shape index = unravel(i, shape);
    for (size_t d = 0; d < permutation.size(); ++d)
      source[size_t(permutation[d])] = index[d];
    out.data[size_t(i)] = x.at(source);
  }
  return out;
}

/// [start, limit) with positive strides in every dimension.
template <typename T>
Tensor<T> slice(const Tensor<T> &x, const std::vector<int64_t> &starts,
                const std::vector<int64_t> &limits, const std::vector<int64_t> &strides) {
  Shape shape;
  for (size_t d = 0; d < x.shape.size(); ++d)
    shape.push_back((limits[d] - starts[d] + strides[d] - 1) / strides[d]);
  Tensor<T> out(shape);
  Shape source(x.shape.size());
  for (int64_t i = 0; i < out.size(); ++i) {
    Shape index = unravel(i, shape);
    for (size_t d = 0; d < shape.size(); ++d)
      source[d] = starts[d] + index[d] * strides[d];
    out.data[size_t(i)] = x.at(source);
  }
  return out;
}

/// Zero padding: `low` before, `high` after, `interior` between elements.
template <typename T>
Tensor<T> pad(const Tensor<T> &x, const std::vector<int64_t> &low,
              const std::vector<int64_t> &high, const std::vector<int64_t> &interior) {
  Shape shape;
  for (size_t d = 0; d < x.shape.size(); ++d)
    shape.push_back(low[d] + high[d] + x.shape[d] +
                    std::max<int64_t>(x.shape[d] - 1, 0) * interior[d]);
  Tensor<T> out(shape);
  for (int64_t i = 0; i < x.size(); ++i) {
    Shape index = unravel(i, x.shape);
    for (size_t d = 0; d < index.size(); ++d)
      index[d] = low[d] + index[d] * (interior[d] + 1);
    out.at(index) = x.data[size_t(i)];
  }
  return out;
}

template <typename T> Tensor<T> reverse(const Tensor<T> &x, const std::vector<int64_t> &dims) {
  Tensor<T> out(x.shape);
  for (int64_t i = 0; i < x.size(); ++i) {
    Shape index = unravel(i, x.shape);
    for (int64_t d : dims)
      index[size_t(d)] = x.shape[size_t(d)] - 1 - index[size_t(d)];
    out.at(index) = x.data[size_t(i)];
  }
  return out;
}

template <typename T> Tensor<T> concat(const std::vector<Tensor<T>> &inputs, int64_t axis) {
  Shape shape = inputs.front().shape;
  shape[size_t(axis)] = 0;
  for (const Tensor<T> &input : inputs)
    shape[size_t(axis)] += input.shape[size_t(axis)];
  Tensor<T> out(shape);
  int64_t offset = 0;
  for (const Tensor<T> &input : inputs) {
    for (int64_t i = 0; i < input.size(); ++i) {
      Shape index = unravel(i, input.shape);
      index[size_t(axis)] += offset;
      out.at(index) = input.data[size_t(i)];
    }
    offset += input.shape[size_t(axis)];
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Random draws (bism/runtime/Philox.h is the specification)
//===----------------------------------------------------------------------===//

/// kind: "uniform", "normal", "gumbel", "rademacher"; element i takes its
/// words as runtime::wordsForDrawElement gives them.
template <typename T>
Tensor<T> random(const std::string &kind, runtime::PhiloxKey key, const Shape &shape) {
  using runtime::DrawKind;
  DrawKind drawKind = kind == "uniform"  ? DrawKind::Uniform
                      : kind == "normal" ? DrawKind::Normal
                      : kind == "gumbel" ? DrawKind::Gumbel
                                         : DrawKind::Rademacher;
  int wordsPerElement =
      runtime::drawWordsPerElement(drawKind, std::is_same<T, float>::value);
  Tensor<T> out(shape);
  for (int64_t i = 0; i < out.size(); ++i) {
    runtime::PhiloxCounter w =
        runtime::wordsForDrawElement(key, uint64_t(i), wordsPerElement);
    T v;
    if (kind == "uniform") v = runtime::uniformFromWords<T>(w);
    else if (kind == "normal") v = runtime::normalFromWords<T>(w);
    else if (kind == "gumbel") v = runtime::gumbelFromWords<T>(w);
    else if (kind == "rademacher") v = runtime::rademacherFromWords<T>(w);
    else std::abort();
    out.data[size_t(i)] = v;
  }
  return out;
}

/// Mean and (population) variance, accumulated in long double.
template <typename T> std::pair<double, double> meanAndVariance(const T *data, int64_t n) {
  long double sum = 0, sumSq = 0;
  for (int64_t i = 0; i < n; ++i)
    sum += data[i];
  long double mean = sum / n;
  for (int64_t i = 0; i < n; ++i)
    sumSq += (data[i] - mean) * (data[i] - mean);
  return {double(mean), double(sumSq / n)};
}

} // namespace bism::ref

#endif // BISM_TEST_UNIT_OPREFERENCE_H
