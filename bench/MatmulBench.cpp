//===- MatmulBench.cpp - compiled matmul: BLAS path vs loops -------------===//
//
// The Frey-face GRBM's product (batch 100, 560 visible, 400 latent) compiled
// twice from the same bism IR: once with the BLAS threshold (default), once
// with BLAS disabled (plain loops). Report the ratio of the two times.
//
//===----------------------------------------------------------------------===//
#include "bism/Execution/JitModule.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

using bism::JitModule;
using bism::runtime::ElementType;
using bism::runtime::HostTensor;

namespace {

std::string matmulSource(int64_t m, int64_t k, int64_t n, const char *type) {
  char buffer[512];
  std::snprintf(buffer, sizeof(buffer),
                "func.func @matmul(%%a: tensor<%ldx%ldx%s>, %%b: tensor<%ldx%ldx%s>)"
                " -> tensor<%ldx%ldx%s> {\n"
                "  %%c = bism.matmul %%a, %%b : tensor<%ldx%ldx%s>, "
                "tensor<%ldx%ldx%s> -> tensor<%ldx%ldx%s>\n"
                "  return %%c : tensor<%ldx%ldx%s>\n}\n",
                long(m), long(k), type, long(k), long(n), type, long(m), long(n),
                type, long(m), long(k), type, long(k), long(n), type, long(m),
                long(n), type, long(m), long(n), type);
  return buffer;
}

HostTensor randomTensor(std::vector<int64_t> shape, unsigned seed) {
  HostTensor tensor(ElementType::f32, std::move(shape));
  std::mt19937 generator(seed);
  std::normal_distribution<float> normal;
  float *data = tensor.dataAs<float>();
  for (int64_t i = 0; i < tensor.numElements(); ++i)
    data[i] = normal(generator);
  return tensor;
}

void benchmarkMatmul(benchmark::State &state, int64_t blasMinFlops) {
  const int64_t m = 100, k = 560, n = 400;
  bism::JitOptions options;
  options.blasMinFlops = blasMinFlops;
  auto compiled = JitModule::compileSource(matmulSource(m, k, n, "f32"), options);
  if (!compiled) {
    state.SkipWithError(llvm::toString(compiled.takeError()).c_str());
    return;
  }
  HostTensor a = randomTensor({m, k}, 1), b = randomTensor({k, n}, 2);
  HostTensor c(ElementType::f32, {m, n});
  for (auto _ : state) {
    if (llvm::Error error = (*compiled)->invoke("matmul", {&a, &b}, {&c})) {
      state.SkipWithError(llvm::toString(std::move(error)).c_str());
      return;
    }
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * m * n * k, benchmark::Counter::kIsIterationInvariantRate,
      benchmark::Counter::kIs1000);
}

} // namespace

BENCHMARK_CAPTURE(benchmarkMatmul, frey_100x560x400_blas, 32768)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(benchmarkMatmul, frey_100x560x400_loops, -1)
    ->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
