//===- StepBench.cpp - time one compiled training step -------------------===//
//
//   bism-step-bench MODEL.mlir [--set key=value]... [--iters N] [--threads T]
//
// Compiles the model's train_step (as bism-run does) and times N calls on a
// fixed minibatch of its initial state (ones; the step's cost does not
// depend on the values), after 3 warm-up calls. Prints the median wall and
// CPU (all threads of the process) milliseconds per step: on a busy machine
// the CPU time of a single-threaded run is the steadier figure. Also the
// step's planned memory (temporaries, inputs and outputs).
//
//===----------------------------------------------------------------------===//
#include "bism/Execution/CompiledModel.h"
#include "bism/runtime/Allocator.h"
#include "bism/runtime/Threads.h"

#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <sys/resource.h>
#include <string>
#include <vector>

using bism::runtime::HostTensor;

static double processCpuSeconds() {
  timespec now;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return double(now.tv_sec) + 1e-9 * double(now.tv_nsec);
}

static long peakRssMiB() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
}

static double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

int main(int argc, char **argv) {
  bism::runtime::keepFreedBuffersForReuse(); // as bism-run does
  bism::ModelLoadOptions options;
  int64_t iterations = 20;
  int threads = -1; // OMP_NUM_THREADS, else all cores
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--set" && i + 1 < argc)
      options.overrides.push_back(argv[++i]);
    else if (arg == "--iters" && i + 1 < argc)
      iterations = std::atoll(argv[++i]);
    else if (arg == "--threads" && i + 1 < argc)
      threads = std::atoi(argv[++i]);
    else if (arg.rfind("--", 0) == 0) {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    } else
      options.path = arg;
  }
  if (options.path.empty() || iterations < 1) {
    std::fprintf(stderr, "usage: bism-step-bench MODEL.mlir [--set k=v]... "
                         "[--iters N] [--threads T]\n");
    return 2;
  }
  if (threads >= 0 || !std::getenv("OMP_NUM_THREADS"))
    bism::runtime::setThreadCount(std::max(threads, 0));
  auto started = std::chrono::steady_clock::now();
  auto model = bism::CompiledModel::load(options);
  if (!model) {
    llvm::errs() << "bism-step-bench: " << llvm::toString(model.takeError())
                 << "\n";
    return 1;
  }
  double compileSeconds = std::chrono::duration<double>(
                              std::chrono::steady_clock::now() - started)
                              .count();
  bism::runtime::TrainProgram program = (*model)->trainProgram();
  HostTensor batch(program.batch.type, program.batch.shape);
  for (int64_t i = 0; i < batch.numElements(); ++i) {
    if (batch.elementType() == bism::runtime::ElementType::f32)
      batch.dataAs<float>()[i] = 0.5f;
    else
      batch.dataAs<double>()[i] = 0.5;
  }
  std::vector<HostTensor> state = (*model)->initialState(0, batch);
  std::vector<HostTensor> next;
  for (const auto &spec : program.state)
    next.emplace_back(spec.type, spec.shape);
  std::vector<HostTensor> metrics;
  for (size_t i = 0; i < program.metrics.size(); ++i)
    metrics.emplace_back(program.state.front().type, std::vector<int64_t>{});
  HostTensor key(bism::runtime::ElementType::i32, {2});
  std::memset(key.data(), 0, 8);

  std::vector<const HostTensor *> inputs;
  for (HostTensor &tensor : state)
    inputs.push_back(&tensor);
  inputs.push_back(&batch);
  inputs.push_back(&key);
  std::vector<HostTensor *> outputs;
  for (HostTensor &tensor : next)
    outputs.push_back(&tensor);
  for (HostTensor &tensor : metrics)
    outputs.push_back(&tensor);

  std::vector<double> wall, cpu;
  for (int64_t i = 0; i < iterations + 3; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    double c0 = processCpuSeconds();
    std::string error;
    if (!program.step(inputs, outputs, error)) {
      std::fprintf(stderr, "bism-step-bench: %s\n", error.c_str());
      return 1;
    }
    double c1 = processCpuSeconds();
    auto t1 = std::chrono::steady_clock::now();
    if (i >= 3) {
      wall.push_back(std::chrono::duration<double>(t1 - t0).count() * 1e3);
      cpu.push_back((c1 - c0) * 1e3);
    }
  }
  bism::CompiledModel::StepMemory memory = (*model)->trainStepMemory();
  std::printf("%s: compile %.2f s, step median %.3f ms wall, %.3f ms cpu "
              "(%lld steps, %d threads), peak RSS %ld MiB, step memory "
              "%.2f MiB temporaries + %.2f MiB inputs/outputs, loss %g\n",
              options.path.c_str(), compileSeconds, median(wall), median(cpu),
              (long long)iterations, bism::runtime::threadCount(), peakRssMiB(),
              memory.arenaBytes / 1048576.0,
              memory.inputOutputBytes / 1048576.0,
              metrics.front().elementAsDouble(0));
  return 0;
}
