//===- StructuralDerivativesTest.cpp - rules of the structural ops vs FD ---===//
//
// VJP and JVP of matmul, the reductions, broadcast, reshape, transpose,
// slice, concat, pad and reverse, each checked against central differences
// in f64 (FiniteDifference.h) at fixed seeds.
//
//===----------------------------------------------------------------------===//
#include "FiniteDifference.h"

#include <algorithm>
#include <string>
#include <vector>

using namespace bism;
using bism::testing::expectDerivativesMatchFiniteDifferences;
using bism::testing::randomTensor;
using runtime::HostTensor;

namespace {

using Shape = std::vector<int64_t>;

std::string shapeText(const Shape &shape) {
  std::string text = "tensor<";
  for (int64_t size : shape)
    text += std::to_string(size) + "x";
  return text + "f64>";
}

/// `func.func @f(%x: in) -> out { %y = <op> ; return %y }` where `op` is the
/// text after `%y = ` and may name %x.
std::string unaryModule(const std::string &op, const Shape &in,
                        const Shape &out) {
  return "func.func @f(%x: " + shapeText(in) + ") -> " + shapeText(out) +
         " {\n  %y = " + op + "\n  return %y : " + shapeText(out) + "\n}\n";
}

void checkUnary(const std::string &op, const Shape &in, const Shape &out,
                unsigned seed) {
  SCOPED_TRACE(op);
  expectDerivativesMatchFiniteDifferences(unaryModule(op, in, out), "f",
                                          {randomTensor(in, seed)}, {0});
}

//===----------------------------------------------------------------------===//
// Matmul
//===----------------------------------------------------------------------===//

struct MatmulCase {
  Shape batch;
  bool transposeLhs, transposeRhs;
};

void checkMatmul(const MatmulCase &c, unsigned seed) {
  const int64_t m = 3, k = 4, n = 5;
  Shape lhs = c.batch, rhs = c.batch, out = c.batch;
  if (c.transposeLhs)
    lhs.insert(lhs.end(), {k, m});
  else
    lhs.insert(lhs.end(), {m, k});
  if (c.transposeRhs)
    rhs.insert(rhs.end(), {n, k});
  else
    rhs.insert(rhs.end(), {k, n});
  out.insert(out.end(), {m, n});
  std::string attrs;
  if (c.transposeLhs || c.transposeRhs) {
    attrs = " {";
    if (c.transposeLhs)
      attrs += "transpose_lhs";
    if (c.transposeLhs && c.transposeRhs)
      attrs += ", ";
    if (c.transposeRhs)
      attrs += "transpose_rhs";
    attrs += "}";
  }
  std::string module =
      "func.func @f(%a: " + shapeText(lhs) + ", %b: " + shapeText(rhs) +
      ") -> " + shapeText(out) + " {\n  %c = bism.matmul %a, %b" + attrs +
      " : " + shapeText(lhs) + ", " + shapeText(rhs) + " -> " +
      shapeText(out) + "\n  return %c : " + shapeText(out) + "\n}\n";
  SCOPED_TRACE(module);
  expectDerivativesMatchFiniteDifferences(
      module, "f", {randomTensor(lhs, seed), randomTensor(rhs, seed + 1)},
      {0, 1});
}

TEST(StructuralDerivatives, MatmulAllTransposes) {
  unsigned seed = 10;
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      checkMatmul({{}, ta, tb}, seed += 2);
}

TEST(StructuralDerivatives, BatchMatmulAllTransposes) {
  unsigned seed = 30;
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      checkMatmul({{2}, ta, tb}, seed += 2);
  checkMatmul({{2, 2}, true, false}, 50);
}

TEST(StructuralDerivatives, MatmulOneOperand) {
  // Only the rhs is differentiated (wanted = {false, true}); also a square
  // product of an operand with itself.
  std::string module = R"(
func.func @f(%a: tensor<3x4xf64>, %b: tensor<4x2xf64>) -> tensor<3x2xf64> {
  %c = bism.matmul %a, %b : tensor<3x4xf64>, tensor<4x2xf64> -> tensor<3x2xf64>
  return %c : tensor<3x2xf64>
}
)";
  expectDerivativesMatchFiniteDifferences(
      module, "f", {randomTensor({3, 4}, 60), randomTensor({4, 2}, 61)}, {1});
  std::string square = R"(
func.func @f(%a: tensor<2x3x3xf64>) -> tensor<2x3x3xf64> {
  %c = bism.matmul %a, %a {transpose_rhs} : tensor<2x3x3xf64>, tensor<2x3x3xf64> -> tensor<2x3x3xf64>
  return %c : tensor<2x3x3xf64>
}
)";
  expectDerivativesMatchFiniteDifferences(square, "f",
                                          {randomTensor({2, 3, 3}, 62)}, {0});
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

struct ReduceCase {
  std::vector<int64_t> axes;
  bool keepDims;
};

Shape reducedShape(const Shape &in, const ReduceCase &c) {
  Shape out;
  for (int64_t dim = 0; dim < int64_t(in.size()); ++dim) {
    bool reduced =
        std::find(c.axes.begin(), c.axes.end(), dim) != c.axes.end();
    if (!reduced)
      out.push_back(in[size_t(dim)]);
    else if (c.keepDims)
      out.push_back(1);
  }
  return out;
}

std::string axesText(const std::vector<int64_t> &axes) {
  std::string text = "[";
  for (size_t i = 0; i < axes.size(); ++i)
    text += (i ? ", " : "") + std::to_string(axes[i]);
  return text + "]";
}

void checkReductions(const std::string &opName, unsigned seed) {
  const Shape in = {3, 4, 5};
  const std::vector<ReduceCase> cases = {
      {{1}, false},    {{1}, true},        {{0, 2}, false}, {{2, 0}, true},
      {{0, 1, 2}, false}, {{0, 1, 2}, true}, {{0}, false}};
  for (const ReduceCase &c : cases) {
    Shape out = reducedShape(in, c);
    std::string op = "bism." + opName + " %x axes " + axesText(c.axes) +
                     (c.keepDims ? " keep_dims" : "") + " : " + shapeText(in) +
                     " -> " + shapeText(out);
    checkUnary(op, in, out, seed++);
  }
}

TEST(StructuralDerivatives, ReduceSum) { checkReductions("reduce_sum", 100); }
TEST(StructuralDerivatives, ReduceMean) { checkReductions("reduce_mean", 200); }
TEST(StructuralDerivatives, ReduceMax) { checkReductions("reduce_max", 300); }
TEST(StructuralDerivatives, ReduceLogSumExp) {
  checkReductions("reduce_logsumexp", 400);
}

TEST(StructuralDerivatives, ReduceMaxTies) {
  // Rows with two equal maxima: the cotangent splits evenly between them,
  // which is what central differences see at a two-way tie (for the JVP,
  // (max + min) / 2 of the two tangents = their mean).
  std::string module = unaryModule(
      "bism.reduce_max %x axes [1] : tensor<3x4xf64> -> tensor<3xf64>", {3, 4},
      {3});
  HostTensor x(runtime::ElementType::f64, {3, 4});
  const double values[] = {0.5, 0.9, 0.9, -0.1,   // tie at 1, 2
                           0.7, 0.2, 0.3, 0.7,    // tie at 0, 3
                           -0.4, 0.8, 0.1, 0.05}; // unique
  for (int i = 0; i < 12; ++i)
    x.dataAs<double>()[i] = values[i];
  expectDerivativesMatchFiniteDifferences(module, "f", {x}, {0});
}

//===----------------------------------------------------------------------===//
// Shape ops
//===----------------------------------------------------------------------===//

TEST(StructuralDerivatives, Broadcast) {
  struct Case {
    Shape in, out;
  };
  const std::vector<Case> cases = {
      {{3}, {4, 3}},          // rank-expanding
      {{4, 1}, {4, 3}},       // size-1 expanding
      {{1, 3}, {2, 4, 3}},    // both
      {{3, 1}, {2, 3, 5}},    // both, inner
      {{1, 1}, {2, 3}},       // all size 1
      {{}, {2, 3}},           // scalar
      {{2, 3}, {2, 3}},       // identity
  };
  unsigned seed = 500;
  for (const Case &c : cases)
    checkUnary("bism.broadcast %x : " + shapeText(c.in) + " to " +
                   shapeText(c.out),
               c.in, c.out, seed++);
}

TEST(StructuralDerivatives, Reshape) {
  checkUnary("bism.reshape %x : tensor<2x3x4xf64> to tensor<6x4xf64>",
             {2, 3, 4}, {6, 4}, 600);
  checkUnary("bism.reshape %x : tensor<6xf64> to tensor<1x2x3xf64>", {6},
             {1, 2, 3}, 601);
}

// The identity, through both results: (x, x²) behind the barrier, then
// their product, so both cotangents must pass.
TEST(StructuralDerivatives, OptimizationBarrier) {
  std::string module = R"(
func.func @f(%x: tensor<2x3xf64>) -> tensor<2x3xf64> {
  %sq = bism.square %x : tensor<2x3xf64>
  %b:2 = bism.optimization_barrier %x, %sq : tensor<2x3xf64>, tensor<2x3xf64>
  %y = bism.mul %b#0, %b#1 : tensor<2x3xf64>
  %z = bism.tanh %y : tensor<2x3xf64>
  return %z : tensor<2x3xf64>
}
)";
  expectDerivativesMatchFiniteDifferences(module, "f",
                                          {randomTensor({2, 3}, 650)}, {0});
}

// In one process the mean over the ranks is the identity, and so must its
// derivatives be (their value over several ranks is checked end to end by
// test/Execution/data_parallel.mlir under mpirun).
TEST(StructuralDerivatives, AllReduceMean) {
  std::string module = R"(
func.func @f(%x: tensor<2x3xf64>) -> tensor<2x3xf64> {
  %sq = bism.square %x : tensor<2x3xf64>
  %m = bism.all_reduce_mean %sq : tensor<2x3xf64>
  %y = bism.mul %m, %x : tensor<2x3xf64>
  %z = bism.tanh %y : tensor<2x3xf64>
  return %z : tensor<2x3xf64>
}
)";
  expectDerivativesMatchFiniteDifferences(module, "f",
                                          {randomTensor({2, 3}, 651)}, {0});
}

TEST(StructuralDerivatives, Transpose) {
  checkUnary("bism.transpose %x [2, 0, 1] : tensor<2x3x4xf64> to "
             "tensor<4x2x3xf64>",
             {2, 3, 4}, {4, 2, 3}, 700);
  checkUnary("bism.transpose %x [1, 0] : tensor<3x5xf64> to tensor<5x3xf64>",
             {3, 5}, {5, 3}, 701);
}

TEST(StructuralDerivatives, Slice) {
  // Strided in both dimensions, a limit short of the end.
  checkUnary("bism.slice %x starts [1, 2] limits [6, 9] strides [2, 3] : "
             "tensor<7x9xf64> to tensor<3x3xf64>",
             {7, 9}, {3, 3}, 800);
  // Unit strides, rank 3, one dimension untouched.
  checkUnary("bism.slice %x starts [0, 1, 2] limits [2, 3, 4] strides [1, 1, "
             "1] : tensor<2x4x5xf64> to tensor<2x2x2xf64>",
             {2, 4, 5}, {2, 2, 2}, 801);
  // Stride past the end (single element per dimension).
  checkUnary("bism.slice %x starts [4, 0] limits [5, 3] strides [7, 2] : "
             "tensor<5x3xf64> to tensor<1x2xf64>",
             {5, 3}, {1, 2}, 802);
}

TEST(StructuralDerivatives, Concat) {
  std::string module = R"(
func.func @f(%a: tensor<2x1x3xf64>, %b: tensor<2x4x3xf64>, %c: tensor<2x2x3xf64>) -> tensor<2x7x3xf64> {
  %y = bism.concat %a, %b, %c axis 1 : tensor<2x1x3xf64>, tensor<2x4x3xf64>, tensor<2x2x3xf64> -> tensor<2x7x3xf64>
  return %y : tensor<2x7x3xf64>
}
)";
  std::vector<HostTensor> inputs = {randomTensor({2, 1, 3}, 900),
                                    randomTensor({2, 4, 3}, 901),
                                    randomTensor({2, 2, 3}, 902)};
  expectDerivativesMatchFiniteDifferences(module, "f", inputs, {0, 1, 2});
  // Only some inputs differentiated: the JVP fills zeros for the others.
  expectDerivativesMatchFiniteDifferences(module, "f", inputs, {0, 2});
  expectDerivativesMatchFiniteDifferences(module, "f", inputs, {1});

  std::string axis0 = R"(
func.func @f(%a: tensor<2x3xf64>, %b: tensor<3x3xf64>) -> tensor<5x3xf64> {
  %y = bism.concat %a, %b axis 0 : tensor<2x3xf64>, tensor<3x3xf64> -> tensor<5x3xf64>
  return %y : tensor<5x3xf64>
}
)";
  expectDerivativesMatchFiniteDifferences(
      axis0, "f", {randomTensor({2, 3}, 903), randomTensor({3, 3}, 904)},
      {0, 1});
}

TEST(StructuralDerivatives, Pad) {
  checkUnary("bism.pad %x low [0, 1] high [0, 1] interior [0, 1] : "
             "tensor<2x3xf64> to tensor<2x7xf64>",
             {2, 3}, {2, 7}, 1000);
  checkUnary("bism.pad %x low [2, 0, 1] high [1, 3, 0] interior [2, 0, 3] : "
             "tensor<3x2x2xf64> to tensor<10x5x6xf64>",
             {3, 2, 2}, {10, 5, 6}, 1001);
}

TEST(StructuralDerivatives, Reverse) {
  checkUnary("bism.reverse %x dims [0, 2] : tensor<2x3x4xf64>", {2, 3, 4},
             {2, 3, 4}, 1100);
  checkUnary("bism.reverse %x dims [1] : tensor<3x5xf64>", {3, 5}, {3, 5},
             1101);
}

//===----------------------------------------------------------------------===//
// Compositions
//===----------------------------------------------------------------------===//

TEST(StructuralDerivatives, DenseLayerLogSumExp) {
  // logsumexp over units of x W + b: matmul, broadcast and a reduction
  // chained, with every argument differentiated.
  std::string module = R"(
func.func @f(%x: tensor<4x3xf64>, %w: tensor<3x5xf64>, %b: tensor<5xf64>) -> tensor<4xf64> {
  %h = bism.matmul %x, %w : tensor<4x3xf64>, tensor<3x5xf64> -> tensor<4x5xf64>
  %bb = bism.broadcast %b : tensor<5xf64> to tensor<4x5xf64>
  %z = bism.add %h, %bb : tensor<4x5xf64>
  %y = bism.reduce_logsumexp %z axes [1] : tensor<4x5xf64> -> tensor<4xf64>
  return %y : tensor<4xf64>
}
)";
  expectDerivativesMatchFiniteDifferences(
      module, "f",
      {randomTensor({4, 3}, 1200), randomTensor({3, 5}, 1201),
       randomTensor({5}, 1202)},
      {0, 1, 2});
}

TEST(StructuralDerivatives, SliceConcatPadReverseChain) {
  std::string module = R"(
func.func @f(%x: tensor<4x6xf64>) -> tensor<2x4xf64> {
  %s = bism.slice %x starts [0, 1] limits [4, 6] strides [2, 2] : tensor<4x6xf64> to tensor<2x3xf64>
  %r = bism.reverse %s dims [1] : tensor<2x3xf64>
  %p = bism.pad %r low [0, 0] high [0, 0] interior [0, 0] : tensor<2x3xf64> to tensor<2x3xf64>
  %t = bism.slice %x starts [1, 0] limits [2, 6] strides [1, 5] : tensor<4x6xf64> to tensor<1x2xf64>
  %tt = bism.transpose %t [1, 0] : tensor<1x2xf64> to tensor<2x1xf64>
  %y = bism.concat %p, %tt axis 1 : tensor<2x3xf64>, tensor<2x1xf64> -> tensor<2x4xf64>
  %m = bism.mul %y, %y : tensor<2x4xf64>
  return %m : tensor<2x4xf64>
}
)";
  expectDerivativesMatchFiniteDifferences(module, "f",
                                          {randomTensor({4, 6}, 1300)}, {0});
}

//===----------------------------------------------------------------------===//
// Higher order: derivative code is differentiated again
//===----------------------------------------------------------------------===//

/// A scalar through every structural op (plus add/mul), its gradient @f
/// (checked: second order) and the gradient @g of the squared gradient norm
/// (checked: third order).
const char *kHigherOrderModule = R"(
func.func @h(%x: tensor<3x4xf64>, %w: tensor<5x4xf64>, %b: tensor<5xf64>) -> tensor<f64> {
  %z = bism.matmul %x, %w {transpose_rhs} : tensor<3x4xf64>, tensor<5x4xf64> -> tensor<3x5xf64>
  %bb = bism.broadcast %b : tensor<5xf64> to tensor<3x5xf64>
  %z2 = bism.add %z, %bb : tensor<3x5xf64>
  %l = bism.reduce_logsumexp %z2 axes [1] : tensor<3x5xf64> -> tensor<3xf64>
  %s = bism.slice %z2 starts [0, 0] limits [3, 5] strides [2, 2] : tensor<3x5xf64> to tensor<2x3xf64>
  %p = bism.pad %s low [1, 0] high [0, 1] interior [0, 1] : tensor<2x3xf64> to tensor<3x6xf64>
  %r = bism.reverse %p dims [1] : tensor<3x6xf64>
  %q = bism.mul %r, %r : tensor<3x6xf64>
  %tq = bism.transpose %q [1, 0] : tensor<3x6xf64> to tensor<6x3xf64>
  %rs = bism.reshape %tq : tensor<6x3xf64> to tensor<18xf64>
  %mean = bism.reduce_mean %rs axes [0] : tensor<18xf64> -> tensor<f64>
  %mx = bism.reduce_max %z2 axes [0] keep_dims : tensor<3x5xf64> -> tensor<1x5xf64>
  %mxr = bism.reshape %mx : tensor<1x5xf64> to tensor<5xf64>
  %c = bism.concat %l, %mxr axis 0 : tensor<3xf64>, tensor<5xf64> -> tensor<8xf64>
  %c2 = bism.mul %c, %c : tensor<8xf64>
  %sum = bism.reduce_sum %c2 axes [0] : tensor<8xf64> -> tensor<f64>
  %e = bism.add %sum, %mean : tensor<f64>
  return %e : tensor<f64>
}
func.func @f(%x: tensor<3x4xf64>, %w: tensor<5x4xf64>, %b: tensor<5xf64>) -> (tensor<3x4xf64>, tensor<5x4xf64>, tensor<5xf64>) {
  %gx, %gw, %gb = bism.grad @h(%x, %w, %b) wrt [0, 1, 2] : (tensor<3x4xf64>, tensor<5x4xf64>, tensor<5xf64>) -> (tensor<3x4xf64>, tensor<5x4xf64>, tensor<5xf64>)
  return %gx, %gw, %gb : tensor<3x4xf64>, tensor<5x4xf64>, tensor<5xf64>
}
func.func @n(%x: tensor<3x4xf64>, %w: tensor<5x4xf64>, %b: tensor<5xf64>) -> tensor<f64> {
  %gx, %gw, %gb = bism.grad @h(%x, %w, %b) wrt [0, 1, 2] : (tensor<3x4xf64>, tensor<5x4xf64>, tensor<5xf64>) -> (tensor<3x4xf64>, tensor<5x4xf64>, tensor<5xf64>)
  %sx = bism.mul %gx, %gx : tensor<3x4xf64>
  %nx = bism.reduce_sum %sx axes [0, 1] : tensor<3x4xf64> -> tensor<f64>
  %sw = bism.mul %gw, %gw : tensor<5x4xf64>
  %nw = bism.reduce_sum %sw axes [0, 1] : tensor<5x4xf64> -> tensor<f64>
  %sb = bism.mul %gb, %gb : tensor<5xf64>
  %nb = bism.reduce_sum %sb axes [0] : tensor<5xf64> -> tensor<f64>
  %a = bism.add %nx, %nw : tensor<f64>
  %n = bism.add %a, %nb : tensor<f64>
  return %n : tensor<f64>
}
func.func @g(%x: tensor<3x4xf64>, %w: tensor<5x4xf64>, %b: tensor<5xf64>) -> (tensor<3x4xf64>, tensor<5x4xf64>, tensor<5xf64>) {
  %gx, %gw, %gb = bism.grad @n(%x, %w, %b) wrt [0, 1, 2] : (tensor<3x4xf64>, tensor<5x4xf64>, tensor<5xf64>) -> (tensor<3x4xf64>, tensor<5x4xf64>, tensor<5xf64>)
  return %gx, %gw, %gb : tensor<3x4xf64>, tensor<5x4xf64>, tensor<5xf64>
}
)";

std::vector<HostTensor> higherOrderInputs() {
  return {randomTensor({3, 4}, 1400), randomTensor({5, 4}, 1401),
          randomTensor({5}, 1402)};
}

TEST(StructuralDerivatives, SecondOrder) {
  expectDerivativesMatchFiniteDifferences(kHigherOrderModule, "f",
                                          higherOrderInputs(), {0, 1, 2});
}

TEST(StructuralDerivatives, ThirdOrder) {
  expectDerivativesMatchFiniteDifferences(kHigherOrderModule, "g",
                                          higherOrderInputs(), {0, 1, 2});
}

} // namespace
