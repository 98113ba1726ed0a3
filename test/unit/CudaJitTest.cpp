//===- CudaJitTest.cpp - compiled functions on the GPU vs the CPU ---------===//
//
// JitModule with device "cuda": the same module compiled for the CPU and
// for the GPU gives the same results (f32 to 1e-5 relative to the largest
// magnitude, f64 to 1e-12, the random draws bit for bit: Philox and DrawMath's
// polynomials are the same integer and IEEE arithmetic on both), and a
// second call makes no new device allocation. Without a GPU these tests
// skip with the reason; the one that runs everywhere checks the error.
//
//===----------------------------------------------------------------------===//
#include "bism/Execution/JitModule.h"
#include "bism/runtime/CudaDriver.h"
#include "bism/runtime/CudaExecutor.h"

#include "FiniteDifference.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace bism;
using namespace bism::runtime;

namespace {

// A GRBM's energy, score and one differentiable posterior step (as in
// test/Lowering/lower_cuda.mlir), a long reduction (a block per row), a
// batched matmul (cuBLAS) and two random draws.
const char *kModule = R"mlir(
func.func @energy(%v: tensor<100x30xf32>, %h: tensor<100x20xf32>, %w: tensor<30x20xf32>,
                  %b: tensor<30xf32>, %c: tensor<20xf32>) -> tensor<f32> {
  %b_batch = bism.broadcast %b : tensor<30xf32> to tensor<100x30xf32>
  %centred = bism.sub %v, %b_batch : tensor<100x30xf32>
  %sq = bism.square %centred : tensor<100x30xf32>
  %quadratic = bism.reduce_sum %sq axes [0, 1] : tensor<100x30xf32> -> tensor<f32>
  %vw = bism.matmul %v, %w : tensor<100x30xf32>, tensor<30x20xf32> -> tensor<100x20xf32>
  %c_batch = bism.broadcast %c : tensor<20xf32> to tensor<100x20xf32>
  %field = bism.add %vw, %c_batch : tensor<100x20xf32>
  %coupling = bism.mul %field, %h : tensor<100x20xf32>
  %interaction = bism.reduce_sum %coupling axes [0, 1] : tensor<100x20xf32> -> tensor<f32>
  %e = bism.sub %quadratic, %interaction : tensor<f32>
  return %e : tensor<f32>
}

func.func @score(%v: tensor<100x30xf32>, %h: tensor<100x20xf32>, %w: tensor<30x20xf32>,
                 %b: tensor<30xf32>, %c: tensor<20xf32>) -> tensor<100x30xf32> {
  %s = bism.grad @energy(%v, %h, %w, %b, %c) wrt [0]
      : (tensor<100x30xf32>, tensor<100x20xf32>, tensor<30x20xf32>, tensor<30xf32>, tensor<20xf32>) -> tensor<100x30xf32>
  return %s : tensor<100x30xf32>
}

func.func private @lower_loss(%a: tensor<30x20xf32>, %v: tensor<100x30xf32>, %field: tensor<100x20xf32>) -> tensor<f32> {
  %logits = bism.matmul %v, %a : tensor<100x30xf32>, tensor<30x20xf32> -> tensor<100x20xf32>
  %q = bism.sigmoid %logits : tensor<100x20xf32>
  %weighted = bism.mul %q, %field : tensor<100x20xf32>
  %sp = bism.softplus %logits : tensor<100x20xf32>
  %terms = bism.sub %sp, %weighted : tensor<100x20xf32>
  %loss = bism.reduce_sum %terms axes [0, 1] : tensor<100x20xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

func.func @phi_step(%a: tensor<30x20xf32>, %v: tensor<100x30xf32>, %field: tensor<100x20xf32>) -> tensor<30x20xf32> {
  %g = bism.grad @lower_loss(%a, %v, %field) wrt [0]
      : (tensor<30x20xf32>, tensor<100x30xf32>, tensor<100x20xf32>) -> tensor<30x20xf32>
  %lr = bism.constant dense<0.1> : tensor<30x20xf32>
  %step = bism.mul %g, %lr : tensor<30x20xf32>
  %next = bism.sub %a, %step : tensor<30x20xf32>
  return %next : tensor<30x20xf32>
}

func.func @row_energy(%v: tensor<100x400xf32>) -> tensor<100xf32> {
  %sq = bism.square %v : tensor<100x400xf32>
  %e = bism.reduce_sum %sq axes [1] : tensor<100x400xf32> -> tensor<100xf32>
  return %e : tensor<100xf32>
}

func.func @batched(%a: tensor<8x16x32xf64>, %b: tensor<8x32x24xf64>) -> tensor<8x16x24xf64> {
  %c = bism.matmul %a, %b : tensor<8x16x32xf64>, tensor<8x32x24xf64> -> tensor<8x16x24xf64>
  return %c : tensor<8x16x24xf64>
}

func.func @draws(%key: tensor<2xi32>) -> (tensor<100x400xf32>, tensor<100x400xf32>) {
  %k1 = bism.key_split %key [0]
  %k2 = bism.key_split %key [1]
  %n = bism.random_normal %k1 : tensor<100x400xf32>
  %g = bism.random_gumbel %k2 : tensor<100x400xf32>
  return %n, %g : tensor<100x400xf32>, tensor<100x400xf32>
}

// Data parallel: NCCL on the GPU, MPI on the CPU; in one process both are
// the identity (a device-to-device copy on the GPU).
func.func @mean_over_ranks(%x: tensor<30x20xf32>, %s: tensor<f64>) -> (tensor<30x20xf32>, tensor<f64>) {
  %sq = bism.square %x : tensor<30x20xf32>
  %m = bism.all_reduce_mean %sq : tensor<30x20xf32>
  %t = bism.all_reduce_mean %s : tensor<f64>
  return %m, %t : tensor<30x20xf32>, tensor<f64>
}
)mlir";

std::string gpuSkipReason() { return cuda::unavailableReason(); }

std::unique_ptr<JitModule> compileFor(const std::string &device) {
  JitOptions options;
  options.device = device;
  options.cacheDir = "";
  auto jit = JitModule::compileSource(kModule, options);
  if (!jit) {
    ADD_FAILURE() << device << ": " << llvm::toString(jit.takeError());
    return nullptr;
  }
  return std::move(*jit);
}

HostTensor randomTensor(ElementType type, std::vector<int64_t> shape,
                        std::mt19937 &rng) {
  HostTensor tensor(type, std::move(shape));
  std::normal_distribution<double> normal;
  for (int64_t i = 0; i < tensor.numElements(); ++i) {
    if (type == ElementType::f32)
      tensor.dataAs<float>()[i] = float(normal(rng));
    else if (type == ElementType::f64)
      tensor.dataAs<double>()[i] = normal(rng);
    else
      tensor.dataAs<int32_t>()[i] = int32_t(rng());
  }
  return tensor;
}

TEST(CudaJit, WithoutAGpuCompilingSaysWhy) {
  if (gpuSkipReason().empty())
    GTEST_SKIP() << "a GPU is present";
  JitOptions options;
  options.device = "cuda";
  options.cacheDir = "";
  auto jit = JitModule::compileSource(kModule, options);
  ASSERT_FALSE(static_cast<bool>(jit));
  std::string message = llvm::toString(jit.takeError());
  EXPECT_EQ(message.rfind("no CUDA device", 0), 0u) << message;
}

TEST(CudaJit, FunctionsAgreeWithTheCpu) {
  if (std::string reason = gpuSkipReason(); !reason.empty())
    GTEST_SKIP() << reason;
  auto cpu = compileFor("cpu");
  auto gpu = compileFor("cuda");
  ASSERT_TRUE(cpu && gpu);
  std::mt19937 rng(7);
  for (const FunctionSignature &function : cpu->functions()) {
    SCOPED_TRACE(function.name);
    std::vector<HostTensor> inputs;
    for (const TensorSignature &input : function.inputs)
      inputs.push_back(randomTensor(input.elementType, input.shape, rng));
    auto expected = cpu->call(function.name, inputs);
    auto actual = gpu->call(function.name, inputs);
    ASSERT_TRUE(static_cast<bool>(expected))
        << llvm::toString(expected.takeError());
    ASSERT_TRUE(static_cast<bool>(actual)) << llvm::toString(actual.takeError());
    for (size_t i = 0; i < expected->size(); ++i) {
      const HostTensor &want = (*expected)[i], &got = (*actual)[i];
      if (function.name == "draws") {
        // Bit for bit.
        EXPECT_EQ(std::memcmp(want.data(), got.data(), want.byteSize()), 0)
            << "draw " << i;
        continue;
      }
      double tolerance = want.elementType() == ElementType::f64 ? 1e-12 : 1e-5;
      EXPECT_LE(bism::testing::relativeError(got, want), tolerance) << "result " << i;
    }
  }
}

TEST(CudaJit, ASecondCallAllocatesNothing) {
  if (std::string reason = gpuSkipReason(); !reason.empty())
    GTEST_SKIP() << reason;
  auto gpu = compileFor("cuda");
  ASSERT_TRUE(gpu);
  std::mt19937 rng(11);
  const FunctionSignature *phi = gpu->lookup("phi_step");
  ASSERT_NE(phi, nullptr);
  std::vector<HostTensor> inputs;
  for (const TensorSignature &input : phi->inputs)
    inputs.push_back(randomTensor(input.elementType, input.shape, rng));
  ASSERT_TRUE(static_cast<bool>(gpu->call("phi_step", inputs)));
  cuda::resetCounters();
  auto again = gpu->call("phi_step", inputs);
  ASSERT_TRUE(static_cast<bool>(again)) << llvm::toString(again.takeError());
  cuda::Counters counters = cuda::counters();
  EXPECT_EQ(counters.driverAllocations, 0u);
  EXPECT_GT(counters.launches, 0u);
  EXPECT_EQ(counters.cublasCalls, 2u);
}

} // namespace
