//===- Trainer.h - the training host loop -----------------------*- C++ -*-===//
//
// Runs a compiled training step over a data set: minibatches in a seeded
// shuffled order, one counter-based key per step, metrics, held-out
// evaluation, checkpoints, NaN detection. It knows the step only as a
// callable with a fixed calling convention, so any backend (the CPU JIT now,
// CUDA later) plugs in.
//
// Everything a step consumes is a function of (seed, step): the batch is
// rows [(s mod E)·B, +B) of the permutation shuffledOrder(n, seed, s div E)
// (E = ⌊n/B⌋ batches per epoch, the remainder dropped), and the key is
// keySplit((seed lo, seed hi), s). So a run resumed from a checkpoint of
// step s repeats an uninterrupted run bit for bit. Data parallel, B is the
// global batch and each rank takes its contiguous share of those rows.
//
//===----------------------------------------------------------------------===//
#ifndef BISM_RUNTIME_TRAINER_H
#define BISM_RUNTIME_TRAINER_H

#include "bism/runtime/Checkpoint.h"
#include "bism/runtime/Collective.h"
#include "bism/runtime/HostTensor.h"
#include "bism/runtime/Metrics.h"
#include "bism/runtime/Philox.h"

#include <functional>
#include <string>
#include <vector>

namespace bism::runtime {

struct TensorSpec {
  std::string name;
  ElementType type;
  std::vector<int64_t> shape;
};

/// Calls a compiled function: inputs and caller-owned outputs, in order.
using CompiledCall =
    std::function<bool(const std::vector<const HostTensor *> &inputs,
                       const std::vector<HostTensor *> &outputs,
                       std::string &error)>;

/// The step the loop drives: step(state..., batch, key) → (state'..., metrics...).
struct TrainProgram {
  std::vector<TensorSpec> state;
  TensorSpec batch;
  /// Scalar outputs after the state, by name; `lossMetric` names the one
  /// reported as "loss".
  std::vector<std::string> metrics;
  std::string lossMetric;
  CompiledCall step;
  /// Optional held-out evaluation of a state (e.g. "test_ll"); `final` is
  /// true for the evaluation at the end of the run (expensive estimates such
  /// as AIS may run only then).
  std::function<bool(const std::vector<HostTensor> &state, bool final,
                     MetricValues &out, std::string &error)>
      evaluate;
};

struct TrainOptions {
  int64_t iterations = 0;
  uint64_t seed = 0;
  /// Metrics are means over this many steps, one line each.
  int64_t logEvery = 100;
  /// Held-out evaluation every this many steps (0: only at the end).
  int64_t evalEvery = 0;
  /// last.ckpt every this many steps and at the end (the state of step s is
  /// written once step s+1 has given finite metrics from it, so a
  /// divergence never reaches the file); step-<s>.ckpt kept
  /// every `keepEvery` (0: none).
  int64_t checkpointEvery = 1000;
  int64_t keepEvery = 0;
  std::string outDir;
  bool progress = true;
  /// Stored in every checkpoint (configuration, model file, ...).
  std::vector<std::pair<std::string, std::string>> checkpointMeta;
  /// Status messages (resuming, checkpoints, the summary).
  std::function<void(const std::string &)> say;
  /// Data parallel: the ranks training together (null: one process). Rank
  /// r's program takes rows [r·B, (r+1)·B) of the global batch of P·B rows
  /// (the one a single process would take). Only rank 0 writes metrics,
  /// checkpoints and progress; every rank keeps the state, and at every
  /// checkpoint the ranks check that their states are still equal bit for
  /// bit (ranks on different CPU types could round apart).
  ProcessGroup *group = nullptr;
};

/// The step's key: keySplit of the seed's key at counter `step`.
PhiloxKey stepKey(uint64_t seed, int64_t step);

class Trainer {
public:
  Trainer(TrainProgram program, const HostTensor &trainData,
          TrainOptions options);

  /// Starts at step 0 from `state` (in program.state order).
  bool start(std::vector<HostTensor> state, std::string &error);
  /// Continues from a checkpoint written by this loop.
  bool resume(const Checkpoint &checkpoint, std::string &error);
  /// Trains until options.iterations; false (state and last.ckpt of the
  /// last good step kept) on a non-finite metric or an I/O error.
  bool run(std::string &error);

  int64_t step() const { return step_; }
  const std::vector<HostTensor> &state() const { return state_; }
  /// The last evaluation's values (after run).
  const MetricValues &lastEvaluation() const { return lastEvaluation_; }
  double iterationsPerSecond() const { return rate_; }

  /// The checkpoint of the current state.
  Checkpoint checkpoint() const;

private:
  bool checkShapes(std::string &error) const;
  int64_t rank() const { return options_.group ? options_.group->rank() : 0; }
  int64_t ranks() const { return options_.group ? options_.group->size() : 1; }
  int64_t globalBatch() const {
    return program_.batch.shape.empty() ? 0 : program_.batch.shape[0] * ranks();
  }
  /// Rank 0 writes the run's files; the others only train.
  bool writesFiles() const { return rank() == 0; }
  /// False, with the error, when some rank's state differs from rank 0's
  /// (every rank gets the same answer).
  bool statesAgree(std::string &error) const;
  bool saveCheckpoints(std::string &error);
  void say(const std::string &message) const;

  TrainProgram program_;
  const HostTensor &data_;
  TrainOptions options_;
  std::vector<HostTensor> state_, nextState_, metrics_;
  HostTensor batch_, key_;
  std::vector<int64_t> order_;
  int64_t orderEpoch_ = -1;
  int64_t step_ = 0;
  /// The step of the last checkpoint written (−1: none yet).
  int64_t savedStep_ = -1;
  MetricValues lastEvaluation_;
  double rate_ = 0;
};

} // namespace bism::runtime

#endif // BISM_RUNTIME_TRAINER_H
