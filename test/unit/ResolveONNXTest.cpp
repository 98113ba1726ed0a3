//===- ResolveONNXTest.cpp - initial values of ONNX-backed model files ----===//
//
// A model file whose energy is named by ONNX file (the path relative to the
// model file), loaded as bism-run loads it (CompiledModel::load): the
// parameters declared from the file's initializers start at the
// initializers' values, element for element in row-major order, as does a
// hand-written `init = "value"` parameter, in f32 and in f64.
//
//===----------------------------------------------------------------------===//
#include "TempFiles.h"

#include "bism/Execution/CompiledModel.h"

#include "llvm/Support/Error.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <sys/stat.h>

using namespace bism;
using runtime::ElementType;
using runtime::HostTensor;

namespace {

/// E(v, h) = sum(h * (v W + c)), W [2, 3] with distinct entries, so that a
/// transposed or reordered fill shows.
constexpr const char *kEnergyTemplate = R"(
<ir_version: 8, opset_import: ["" : 17]>
energy (T[batch, 2] v, T[batch, 3] h) => (T[batch] e)
<T[2, 3] W = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0}, T[3] c = {-0.5, 0.25, 0.125}>
{
  axes = Constant <value_ints = [1]> ()
  vw = MatMul (v, W)
  field = Add (vw, c)
  coupling = Mul (field, h)
  e = ReduceSum <keepdims = 0> (coupling, axes)
}
)";

constexpr const char *kModelTemplate = R"(
func.func private @energy(tensor<4x2xT>, tensor<4x3xT>) -> tensor<4xT>
    attributes {bism.onnx_file = "onnx/energy.onnxtext"}
func.func private @logits(%v: tensor<4x2xT>, %a: tensor<2x3xT>) -> tensor<4x3xT> {
  %l = bism.matmul %v, %a : tensor<4x2xT>, tensor<2x3xT> -> tensor<4x3xT>
  return %l : tensor<4x3xT>
}
bism.model @m energy @energy [] posterior "bernoulli" @logits [@A] spec {} {
  bism.param @A : tensor<2x3xT> {group = "phi", init = "value",
      value = dense<[[0.5, -1.5, 2.5], [-3.5, 4.5, -5.5]]> : tensor<2x3xT>}
}
)";

using bism::test::replaceAll;

void writeFile(const std::string &path, const std::string &text) {
  std::ofstream file(path);
  file << text;
}

/// Loads the model in element type `onnxType`/`mlirType` and returns the
/// initial state by name.
std::vector<std::pair<std::string, std::vector<double>>>
initialParameters(const std::string &onnxType, const std::string &mlirType) {
  std::string dir = test::tempPath("resolve-onnx-" + mlirType);
  ::mkdir(dir.c_str(), 0700);
  ::mkdir((dir + "/onnx").c_str(), 0700);
  writeFile(dir + "/onnx/energy.onnxtext",
            replaceAll(kEnergyTemplate, "T[", onnxType + "["));
  writeFile(dir + "/model.mlir",
            replaceAll(kModelTemplate, "xT", "x" + mlirType));

  ModelLoadOptions options;
  options.path = dir + "/model.mlir";
  options.withTrainStep = false;
  auto model = CompiledModel::load(options);
  std::remove((dir + "/onnx/energy.onnxtext").c_str());
  std::remove((dir + "/model.mlir").c_str());
  ::rmdir((dir + "/onnx").c_str());
  ::rmdir(dir.c_str());
  if (!model) {
    ADD_FAILURE() << llvm::toString(model.takeError());
    return {};
  }
  ElementType type = mlirType == "f64" ? ElementType::f64 : ElementType::f32;
  HostTensor data(type, {8, 2});
  std::vector<HostTensor> state = (*model)->initialState(0, data);
  std::vector<std::pair<std::string, std::vector<double>>> named;
  for (size_t i = 0; i < state.size(); ++i) {
    EXPECT_EQ(state[i].elementType(), type);
    std::vector<double> values;
    for (int64_t j = 0; j < state[i].numElements(); ++j)
      values.push_back(state[i].elementAsDouble(j));
    named.emplace_back((*model)->stateSpecs()[i].name, values);
  }
  return named;
}

void expectInitialValues(const std::string &onnxType,
                         const std::string &mlirType) {
  auto state = initialParameters(onnxType, mlirType);
  ASSERT_GE(state.size(), 3u);
  // θ in the energy's order, then φ.
  EXPECT_EQ(state[0].first, "theta.W");
  EXPECT_EQ(state[0].second, (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(state[1].first, "theta.c");
  EXPECT_EQ(state[1].second, (std::vector<double>{-0.5, 0.25, 0.125}));
  EXPECT_EQ(state[2].first, "phi.A");
  EXPECT_EQ(state[2].second,
            (std::vector<double>{0.5, -1.5, 2.5, -3.5, 4.5, -5.5}));
}

TEST(ResolveONNX, ValueInitialisersFillRowMajorF32) {
  expectInitialValues("float", "f32");
}

TEST(ResolveONNX, ValueInitialisersFillRowMajorF64) {
  expectInitialValues("double", "f64");
}

} // namespace
