//===- DrawBench.cpp - compiled random draws, ns per element -------------===//
//
// One draw of the Frey step's shape (100 x 400 f32), or the checkerboard
// step's (100 x 4), per call, compiled as
// bism-run compiles a step: Philox-4x32-10 and the conversion per element,
// vectorised. The counter reports nanoseconds per element drawn.
//
//===----------------------------------------------------------------------===//
#include "bism/Execution/JitModule.h"

#include <benchmark/benchmark.h>

#include <string>

using bism::JitModule;
using bism::runtime::ElementType;
using bism::runtime::HostTensor;

namespace {

void benchmarkDraw(benchmark::State &state, const char *kind, int64_t rows,
                   int64_t cols) {
  std::string type = "tensor<" + std::to_string(rows) + "x" +
                     std::to_string(cols) + "xf32>";
  std::string source = "func.func @draw(%k: tensor<2xi32>) -> " + type +
                       " {\n  %d = bism.random_" + kind + " %k : " + type +
                       "\n  return %d : " + type + "\n}\n";
  auto compiled = JitModule::compileSource(source, bism::JitOptions());
  if (!compiled) {
    state.SkipWithError(llvm::toString(compiled.takeError()).c_str());
    return;
  }
  HostTensor key(ElementType::i32, {2});
  key.dataAs<int32_t>()[0] = 1;
  key.dataAs<int32_t>()[1] = 2;
  HostTensor out(ElementType::f32, {rows, cols});
  for (auto _ : state) {
    if (llvm::Error error = (*compiled)->invoke("draw", {&key}, {&out})) {
      state.SkipWithError(llvm::toString(std::move(error)).c_str());
      return;
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["ns/element"] = benchmark::Counter(
      double(rows * cols),
      benchmark::Counter::kIsIterationInvariantRate |
          benchmark::Counter::kInvert);
}

} // namespace

BENCHMARK_CAPTURE(benchmarkDraw, uniform_100x400, "uniform", 100, 400)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(benchmarkDraw, normal_100x400, "normal", 100, 400)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(benchmarkDraw, gumbel_100x400, "gumbel", 100, 400)
    ->Unit(benchmark::kMicrosecond);
// The checkerboard step's posterior noise (batch 100, 4 latents).
BENCHMARK_CAPTURE(benchmarkDraw, gumbel_100x4, "gumbel", 100, 4)
    ->Unit(benchmark::kMicrosecond);
