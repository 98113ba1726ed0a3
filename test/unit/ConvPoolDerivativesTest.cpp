//===- ConvPoolDerivativesTest.cpp - conv/pool rules vs finite differences ===//
//
// The VJP and JVP rules of bism.conv2d, bism.max_pool2d and bism.avg_pool2d
// (lib/Dialect/Derivatives/ConvPoolDerivatives.cpp) against central
// differences, f64, fixed seeds.
//
//===----------------------------------------------------------------------===//
#include "FiniteDifference.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

using bism::testing::expectDerivativesMatchFiniteDifferences;
using bism::testing::randomTensor;

namespace {

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string text = "tensor<";
  for (int64_t size : shape)
    text += std::to_string(size) + "x";
  return text + "f64>";
}

std::string arrayText(const std::vector<int64_t> &values) {
  std::string text = "array<i64: ";
  for (size_t i = 0; i < values.size(); ++i)
    text += (i ? ", " : "") + std::to_string(values[i]);
  return text + ">";
}

struct ConvCase {
  std::vector<int64_t> input;  // N, C, H, W
  std::vector<int64_t> filter; // O, C/G, KH, KW
  std::vector<int64_t> strides;
  std::vector<int64_t> padding; // top, left, bottom, right
  std::vector<int64_t> dilations;
  int64_t groups;

  std::vector<int64_t> output() const {
    std::vector<int64_t> shape{input[0], filter[0]};
    for (int a = 0; a < 2; ++a)
      shape.push_back((input[2 + a] + padding[a] + padding[a + 2] -
                       dilations[a] * (filter[2 + a] - 1) - 1) /
                          strides[a] +
                      1);
    return shape;
  }

  std::string module() const {
    std::ostringstream text;
    text << "func.func @f(%x: " << shapeText(input) << ", %w: "
         << shapeText(filter) << ") -> " << shapeText(output()) << " {\n"
         << "  %y = bism.conv2d %x, %w {strides = " << arrayText(strides)
         << ", padding = " << arrayText(padding)
         << ", dilations = " << arrayText(dilations) << ", groups = " << groups
         << "} : " << shapeText(input) << ", " << shapeText(filter) << " -> "
         << shapeText(output()) << "\n"
         << "  return %y : " << shapeText(output()) << "\n}\n";
    return text.str();
  }
};

void checkConv(const ConvCase &c) {
  std::string module = c.module();
  SCOPED_TRACE(module);
  std::vector<bism::runtime::HostTensor> inputs{randomTensor(c.input, 11),
                                                randomTensor(c.filter, 12)};
  for (std::vector<int64_t> wrt :
       {std::vector<int64_t>{0}, std::vector<int64_t>{1},
        std::vector<int64_t>{0, 1}}) {
    SCOPED_TRACE("wrt size " + std::to_string(wrt.size()) + " first " +
                 std::to_string(wrt[0]));
    expectDerivativesMatchFiniteDifferences(module, "f", inputs, wrt);
  }
}

struct PoolCase {
  std::string op; // max_pool2d or avg_pool2d
  std::vector<int64_t> input;
  std::vector<int64_t> kernel;
  std::vector<int64_t> strides;
  std::vector<int64_t> padding; // top, left, bottom, right
  bool countIncludePad;

  std::vector<int64_t> output() const {
    std::vector<int64_t> shape{input[0], input[1]};
    for (int a = 0; a < 2; ++a)
      shape.push_back((input[2 + a] + padding[a] + padding[a + 2] -
                       kernel[a]) / strides[a] + 1);
    return shape;
  }

  std::string module() const {
    std::ostringstream text;
    text << "func.func @f(%x: " << shapeText(input) << ") -> "
         << shapeText(output()) << " {\n"
         << "  %y = bism." << op << " %x {kernel_shape = " << arrayText(kernel)
         << ", strides = " << arrayText(strides)
         << ", padding = " << arrayText(padding)
         << (countIncludePad ? ", count_include_pad" : "") << "} : "
         << shapeText(input) << " -> " << shapeText(output()) << "\n"
         << "  return %y : " << shapeText(output()) << "\n}\n";
    return text.str();
  }
};

void checkPool(const PoolCase &c) {
  std::string module = c.module();
  SCOPED_TRACE(module);
  expectDerivativesMatchFiniteDifferences(module, "f",
                                          {randomTensor(c.input, 21)}, {0});
}

//===----------------------------------------------------------------------===//
// conv2d
//===----------------------------------------------------------------------===//

TEST(ConvPoolDerivatives, ConvStride1SymmetricPadding) {
  checkConv(ConvCase{{2, 3, 5, 5}, {4, 3, 3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1});
}

TEST(ConvPoolDerivatives, ConvNoPadding) {
  checkConv(ConvCase{{1, 2, 5, 6}, {3, 2, 2, 3}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1});
}

TEST(ConvPoolDerivatives, ConvStride2AsymmetricPaddingNonSquare) {
  checkConv(ConvCase{{2, 3, 7, 6}, {2, 3, 3, 3}, {2, 2}, {1, 0, 2, 1}, {1, 1}, 1});
}

TEST(ConvPoolDerivatives, ConvDilation2) {
  checkConv(ConvCase{{1, 2, 7, 7}, {3, 2, 3, 3}, {1, 1}, {2, 1, 0, 1}, {2, 2}, 1});
}

TEST(ConvPoolDerivatives, ConvGroups2) {
  checkConv(ConvCase{{2, 4, 6, 6}, {6, 2, 3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, 2});
}

TEST(ConvPoolDerivatives, ConvGroups2DilatedStride1) {
  checkConv(ConvCase{{1, 4, 6, 5}, {2, 2, 2, 2}, {1, 1}, {1, 0, 0, 1}, {2, 1}, 2});
}

TEST(ConvPoolDerivatives, ConvDepthwise) {
  checkConv(ConvCase{{2, 3, 5, 5}, {3, 1, 3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, 3});
}

TEST(ConvPoolDerivatives, Conv1x1Kernel) {
  checkConv(ConvCase{{2, 3, 4, 5}, {2, 3, 1, 1}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1});
}

TEST(ConvPoolDerivatives, Conv1x1KernelStride2UnreadRows) {
  // The last row and column are never read.
  checkConv(ConvCase{{2, 3, 5, 4}, {2, 3, 1, 1}, {2, 2}, {0, 0, 0, 0}, {1, 1}, 1});
}

TEST(ConvPoolDerivatives, ConvMixedStridesAndDilations) {
  checkConv(ConvCase{{1, 2, 8, 7}, {2, 2, 2, 3}, {2, 3}, {0, 3, 1, 0}, {2, 1}, 1});
}

TEST(ConvPoolDerivatives, ConvPaddingWiderThanKernel) {
  checkConv(ConvCase{{1, 2, 4, 5}, {2, 2, 2, 2}, {2, 2}, {3, 0, 3, 4}, {1, 1}, 1});
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

TEST(ConvPoolDerivatives, MaxPoolKernel2Stride2) {
  checkPool(PoolCase{"max_pool2d", {2, 3, 6, 6}, {2, 2}, {2, 2}, {0, 0, 0, 0}, false});
}

TEST(ConvPoolDerivatives, MaxPoolKernel2Stride2NonSquareUnread) {
  checkPool(PoolCase{"max_pool2d", {1, 2, 5, 7}, {2, 2}, {2, 2}, {0, 0, 0, 0}, false});
}

TEST(ConvPoolDerivatives, MaxPoolKernel3Stride1Padding) {
  checkPool(PoolCase{"max_pool2d", {2, 2, 5, 5}, {3, 3}, {1, 1}, {1, 1, 1, 1}, false});
}

TEST(ConvPoolDerivatives, MaxPoolKernel3Stride2AsymmetricPadding) {
  checkPool(PoolCase{"max_pool2d", {1, 2, 6, 5}, {3, 2}, {2, 1}, {1, 0, 2, 1}, false});
}

TEST(ConvPoolDerivatives, AvgPoolNoPadding) {
  checkPool(PoolCase{"avg_pool2d", {2, 3, 6, 6}, {2, 2}, {2, 2}, {0, 0, 0, 0}, false});
}

TEST(ConvPoolDerivatives, AvgPoolPaddingExcluded) {
  checkPool(PoolCase{"avg_pool2d", {1, 2, 5, 5}, {3, 3}, {2, 2}, {1, 1, 1, 1}, false});
}

TEST(ConvPoolDerivatives, AvgPoolPaddingIncluded) {
  checkPool(PoolCase{"avg_pool2d", {1, 2, 5, 5}, {3, 3}, {2, 2}, {1, 1, 1, 1}, true});
}

TEST(ConvPoolDerivatives, AvgPoolAsymmetricPaddingStride1) {
  checkPool(PoolCase{"avg_pool2d", {2, 1, 4, 6}, {2, 3}, {1, 1}, {0, 2, 1, 0}, false});
  checkPool(PoolCase{"avg_pool2d", {2, 1, 4, 6}, {2, 3}, {1, 1}, {0, 2, 1, 0}, true});
}

//===----------------------------------------------------------------------===//
// Compositions of this family's ops only
//===----------------------------------------------------------------------===//

TEST(ConvPoolDerivatives, ConvThenPools) {
  const char *module = R"mlir(
func.func @f(%x: tensor<2x2x9x9xf64>, %w: tensor<4x1x3x3xf64>) -> tensor<2x4x2x2xf64> {
  %c = bism.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, groups = 2} : tensor<2x2x9x9xf64>, tensor<4x1x3x3xf64> -> tensor<2x4x9x9xf64>
  %m = bism.max_pool2d %c {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>} : tensor<2x4x9x9xf64> -> tensor<2x4x5x5xf64>
  %a = bism.avg_pool2d %m {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>} : tensor<2x4x5x5xf64> -> tensor<2x4x2x2xf64>
  return %a : tensor<2x4x2x2xf64>
}
)mlir";
  expectDerivativesMatchFiniteDifferences(
      module, "f", {randomTensor({2, 2, 9, 9}, 31), randomTensor({4, 1, 3, 3}, 32)},
      {0, 1});
}

//===----------------------------------------------------------------------===//
// Higher order: the rules' own output differentiated again
//===----------------------------------------------------------------------===//

// Second order: the VJP of a strided, padded, dilated, grouped conv as a
// function of (x, w, u), checked against finite differences (trilinear
// pieces, so the differences are exact up to rounding).
TEST(ConvPoolDerivatives, ConvVjpSecondOrder) {
  const char *module = R"mlir(
func.func @g(%x: tensor<2x4x7x6xf64>, %w: tensor<4x2x3x2xf64>) -> tensor<2x4x4x3xf64> {
  %y = bism.conv2d %x, %w {strides = array<i64: 2, 2>, padding = array<i64: 1, 0, 1, 2>, dilations = array<i64: 1, 2>, groups = 2} : tensor<2x4x7x6xf64>, tensor<4x2x3x2xf64> -> tensor<2x4x4x3xf64>
  return %y : tensor<2x4x4x3xf64>
}
func.func @f(%x: tensor<2x4x7x6xf64>, %w: tensor<4x2x3x2xf64>, %u: tensor<2x4x4x3xf64>) -> (tensor<2x4x7x6xf64>, tensor<4x2x3x2xf64>) {
  %d:2 = bism.vjp @g(%x, %w, %u) wrt [0, 1] : (tensor<2x4x7x6xf64>, tensor<4x2x3x2xf64>, tensor<2x4x4x3xf64>) -> (tensor<2x4x7x6xf64>, tensor<4x2x3x2xf64>)
  return %d#0, %d#1 : tensor<2x4x7x6xf64>, tensor<4x2x3x2xf64>
}
)mlir";
  expectDerivativesMatchFiniteDifferences(
      module, "f",
      {randomTensor({2, 4, 7, 6}, 41), randomTensor({4, 2, 3, 2}, 42),
       randomTensor({2, 4, 4, 3}, 43)},
      {0, 1, 2});
}

// Third order: the VJP (w.r.t. w and u) of the input cotangent of a conv,
// differentiated once more by the harness.
TEST(ConvPoolDerivatives, ConvVjpThirdOrder) {
  const char *module = R"mlir(
func.func @g(%x: tensor<1x2x6x5xf64>, %w: tensor<3x2x2x3xf64>) -> tensor<1x3x3x2xf64> {
  %y = bism.conv2d %x, %w {strides = array<i64: 2, 1>, padding = array<i64: 1, 1, 0, 0>, dilations = array<i64: 2, 2>} : tensor<1x2x6x5xf64>, tensor<3x2x2x3xf64> -> tensor<1x3x3x2xf64>
  return %y : tensor<1x3x3x2xf64>
}
func.func @dx(%x: tensor<1x2x6x5xf64>, %w: tensor<3x2x2x3xf64>, %u: tensor<1x3x3x2xf64>) -> tensor<1x2x6x5xf64> {
  %d = bism.vjp @g(%x, %w, %u) wrt [0] : (tensor<1x2x6x5xf64>, tensor<3x2x2x3xf64>, tensor<1x3x3x2xf64>) -> tensor<1x2x6x5xf64>
  return %d : tensor<1x2x6x5xf64>
}
func.func @f(%x: tensor<1x2x6x5xf64>, %w: tensor<3x2x2x3xf64>, %u: tensor<1x3x3x2xf64>, %v: tensor<1x2x6x5xf64>) -> (tensor<3x2x2x3xf64>, tensor<1x3x3x2xf64>) {
  %d:2 = bism.vjp @dx(%x, %w, %u, %v) wrt [1, 2] : (tensor<1x2x6x5xf64>, tensor<3x2x2x3xf64>, tensor<1x3x3x2xf64>, tensor<1x2x6x5xf64>) -> (tensor<3x2x2x3xf64>, tensor<1x3x3x2xf64>)
  return %d#0, %d#1 : tensor<3x2x2x3xf64>, tensor<1x3x3x2xf64>
}
)mlir";
  expectDerivativesMatchFiniteDifferences(
      module, "f",
      {randomTensor({1, 2, 6, 5}, 51), randomTensor({3, 2, 2, 3}, 52),
       randomTensor({1, 3, 3, 2}, 53), randomTensor({1, 2, 6, 5}, 54)},
      {0, 1, 2, 3});
}

// Second order through both pools: (x, u) -> VJP, piecewise linear in x.
TEST(ConvPoolDerivatives, PoolVjpSecondOrder) {
  const char *module = R"mlir(
func.func @g(%x: tensor<1x2x5x6xf64>) -> (tensor<1x2x5x6xf64>, tensor<1x2x3x3xf64>) {
  %m = bism.max_pool2d %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : tensor<1x2x5x6xf64> -> tensor<1x2x5x6xf64>
  %a = bism.avg_pool2d %x {kernel_shape = array<i64: 3, 2>, strides = array<i64: 2, 2>, padding = array<i64: 1, 0, 1, 0>} : tensor<1x2x5x6xf64> -> tensor<1x2x3x3xf64>
  return %m, %a : tensor<1x2x5x6xf64>, tensor<1x2x3x3xf64>
}
func.func @f(%x: tensor<1x2x5x6xf64>, %u: tensor<1x2x5x6xf64>, %v: tensor<1x2x3x3xf64>) -> tensor<1x2x5x6xf64> {
  %d = bism.vjp @g(%x, %u, %v) wrt [0] : (tensor<1x2x5x6xf64>, tensor<1x2x5x6xf64>, tensor<1x2x3x3xf64>) -> tensor<1x2x5x6xf64>
  return %d : tensor<1x2x5x6xf64>
}
)mlir";
  expectDerivativesMatchFiniteDifferences(
      module, "f",
      {randomTensor({1, 2, 5, 6}, 61), randomTensor({1, 2, 5, 6}, 62),
       randomTensor({1, 2, 3, 3}, 63)},
      {0, 1, 2});
}

} // namespace
