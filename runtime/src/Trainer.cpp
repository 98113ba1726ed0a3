//===- Trainer.cpp - the training host loop -------------------------------===//
#include "bism/runtime/Trainer.h"
#include "bism/runtime/Dataset.h"
#include "bism/runtime/FileIO.h"

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace bism::runtime {

PhiloxKey stepKey(uint64_t seed, int64_t step) {
  return keySplit({uint32_t(seed), uint32_t(seed >> 32)}, uint64_t(step));
}

namespace {
std::string specString(const TensorSpec &spec) {
  std::string text;
  for (int64_t dim : spec.shape)
    text += std::to_string(dim) + "x";
  return text + elementTypeName(spec.type);
}

bool matches(const HostTensor &tensor, const TensorSpec &spec) {
  return tensor.elementType() == spec.type && tensor.shape() == spec.shape;
}

std::string joinPath(const std::string &dir, const std::string &file) {
  return dir.empty() ? file : dir + "/" + file;
}
} // namespace

Trainer::Trainer(TrainProgram program, const HostTensor &trainData,
                 TrainOptions options)
    : program_(std::move(program)), data_(trainData),
      options_(std::move(options)) {
  for (const TensorSpec &spec : program_.state)
    nextState_.emplace_back(spec.type, spec.shape);
  for (size_t i = 0; i < program_.metrics.size(); ++i)
    metrics_.emplace_back(program_.batch.type, std::vector<int64_t>{});
  batch_ = HostTensor(program_.batch.type, program_.batch.shape);
  key_ = HostTensor(ElementType::i32, {2});
}

void Trainer::say(const std::string &message) const {
  if (options_.say)
    options_.say(message);
}

bool Trainer::checkShapes(std::string &error) const {
  if (state_.size() != program_.state.size()) {
    error = "the state has " + std::to_string(state_.size()) +
            " tensors, the step expects " +
            std::to_string(program_.state.size());
    return false;
  }
  for (size_t i = 0; i < state_.size(); ++i)
    if (!matches(state_[i], program_.state[i])) {
      error = "state tensor '" + program_.state[i].name + "' is " +
              state_[i].typeString() + ", the step expects " +
              specString(program_.state[i]);
      return false;
    }
  if (data_.rank() != 2 || program_.batch.shape.size() != 2 ||
      data_.shape()[1] != program_.batch.shape[1]) {
    error = "the training data is " + data_.typeString() +
            " but the model's batch is " + specString(program_.batch) +
            " (rows are examples; the widths must agree)";
    return false;
  }
  if (data_.shape()[0] < globalBatch()) {
    error = "the training data has " + std::to_string(data_.shape()[0]) +
            " rows, fewer than the batch size " +
            std::to_string(globalBatch());
    return false;
  }

  return true;
}

bool Trainer::start(std::vector<HostTensor> state, std::string &error) {
  state_ = std::move(state);
  step_ = 0;
  return checkShapes(error);
}

bool Trainer::resume(const Checkpoint &checkpoint, std::string &error) {
  const std::string *step = checkpoint.findMeta("step");
  if (!step) {
    error = "the checkpoint has no step (not written by bism-run train?)";
    return false;
  }
  std::vector<HostTensor> state;
  for (const TensorSpec &spec : program_.state) {
    const HostTensor *tensor = checkpoint.findTensor(spec.name);
    if (!tensor) {
      error = "the checkpoint lacks '" + spec.name +
              "' (was it written for another model or method?)";
      return false;
    }
    state.push_back(*tensor);
  }
  // A step that is not a count would index the data order out of bounds.
  char *end = nullptr;
  errno = 0;
  long long parsed = std::strtoll(step->c_str(), &end, 10);
  if (step->empty() || *end != '\0' || errno == ERANGE || parsed < 0) {
    error = "the checkpoint's step '" + *step +
            "' is not a step count (a non-negative integer)";
    return false;
  }
  state_ = std::move(state);
  step_ = parsed;
  savedStep_ = step_; // the checkpoint resumed from is the last good one
  return checkShapes(error);
}

Checkpoint Trainer::checkpoint() const {
  Checkpoint checkpoint;
  checkpoint.meta = options_.checkpointMeta;
  checkpoint.setMeta("step", std::to_string(step_));
  checkpoint.setMeta("seed", std::to_string(options_.seed));
  for (size_t i = 0; i < state_.size(); ++i)
    checkpoint.tensors.emplace_back(program_.state[i].name, state_[i]);
  return checkpoint;
}

bool Trainer::statesAgree(std::string &error) const {
  if (ranks() == 1)
    return true;
  // FNV-1a of every state tensor's bytes, compared with rank 0's.
  uint64_t hash = 0xcbf29ce484222325ull;
  for (const HostTensor &tensor : state_) {
    const auto *bytes = static_cast<const unsigned char *>(tensor.data());
    for (size_t i = 0, n = tensor.byteSize(); i < n; ++i)
      hash = (hash ^ bytes[i]) * 0x100000001b3ull;
  }
  uint64_t first = hash;
  options_.group->broadcast(&first, int64_t(sizeof first), 0);
  double differing = hash == first ? 0.0 : 1.0;
  options_.group->allReduceSum(&differing, 1);
  if (differing == 0)
    return true;
  error = "the ranks' states have drifted apart by step " +
          std::to_string(step_) + ": " + std::to_string(int64_t(differing)) +
          " of " + std::to_string(ranks()) +
          " ranks differ from rank 0 bit for bit (ranks on different CPU "
          "types, or with different bism builds, can round apart; run the "
          "ranks on alike machines)";
  return false;
}

bool Trainer::saveCheckpoints(std::string &error) {
  if (!statesAgree(error))
    return false;
  if (!writesFiles()) {
    savedStep_ = step_;
    return true;
  }
  Checkpoint current = checkpoint();
  // The kept copy first: a kill between the two writes leaves last.ckpt at
  // the step before, whose resume writes both again; the other order would
  // resume past this step and never keep it.
  if (options_.keepEvery > 0 && step_ % options_.keepEvery == 0 &&
      !writeCheckpoint(joinPath(options_.outDir,
                                "step-" + std::to_string(step_) + ".ckpt"),
                       current, error))
    return false;
  if (!writeCheckpoint(joinPath(options_.outDir, "last.ckpt"), current, error))
    return false;
  savedStep_ = step_;
  return true;
}

bool Trainer::run(std::string &error) {
  if (!checkShapes(error))
    return false;
  MetricsLog log;
  if (writesFiles() &&
      (!createDirectories(options_.outDir, error) ||
       !log.open(joinPath(options_.outDir, "metrics.jsonl"),
                 step_ > 0 ? step_ : -1, error)))
    return false;

  const int64_t rows = data_.shape()[0];
  const int64_t batchSize = globalBatch();
  const int64_t localBatch = program_.batch.shape[0];
  const int64_t batchesPerEpoch = rows / batchSize;
  size_t lossIndex = 0;
  for (size_t i = 0; i < program_.metrics.size(); ++i)
    if (program_.metrics[i] == program_.lossMetric)
      lossIndex = i;

  std::vector<const HostTensor *> inputs;
  for (HostTensor &tensor : state_)
    inputs.push_back(&tensor);
  inputs.push_back(&batch_);
  inputs.push_back(&key_);
  std::vector<HostTensor *> outputs;
  for (HostTensor &tensor : nextState_)
    outputs.push_back(&tensor);
  for (HostTensor &tensor : metrics_)
    outputs.push_back(&tensor);

  std::vector<double> sums(program_.metrics.size(), 0.0);
  int64_t summed = 0;
  ProgressLine progress(step_, options_.iterations,
                        options_.progress && writesFiles());
  // The starting state is checkpointed once its first step succeeds, so a
  // run that diverges early still leaves a good last.ckpt.
  bool checkpointDue = true;
  while (step_ < options_.iterations) {
    int64_t epoch = step_ / batchesPerEpoch;
    if (epoch != orderEpoch_) {
      shuffledOrder(rows, options_.seed, uint64_t(epoch), order_);
      orderEpoch_ = epoch;
    }
    gatherRows(data_,
               order_.data() + (step_ % batchesPerEpoch) * batchSize +
                   rank() * localBatch,
               localBatch, batch_);
    PhiloxKey key = stepKey(options_.seed, step_);
    std::memcpy(key_.data(), key.data(), sizeof(key));

    std::string why;
    if (!program_.step(inputs, outputs, why)) {
      progress.finish();
      error = "step " + std::to_string(step_ + 1) + ": " + why;
      return false;
    }
    for (size_t i = 0; i < metrics_.size(); ++i) {
      double value = metrics_[i].elementAsDouble(0);
      if (!std::isfinite(value)) {
        progress.finish();
        error = "training diverged: " + program_.metrics[i] + " is " +
                (std::isnan(value) ? "NaN" : "infinite") + " at step " +
                std::to_string(step_ + 1) + "; stopped. The last good "
                "checkpoint is " +
                quotedPath(joinPath(options_.outDir, "last.ckpt")) +
                " (step " + std::to_string(savedStep_) +
                "; a smaller learning rate may help)";
        return false;
      }
      sums[i] += value;
    }
    // state_ has just given finite metrics, so it is a good state: a due
    // checkpoint is written now, one step late, so that last.ckpt never
    // holds the state that diverged.
    if (checkpointDue) {
      if (!saveCheckpoints(error)) {
        progress.finish();
        return false;
      }
      checkpointDue = false;
    }
    // Swapping buffers (not vectors) keeps the pointers above valid.
    for (size_t i = 0; i < state_.size(); ++i)
      std::swap(state_[i], nextState_[i]);
    ++step_;
    ++summed;
    progress.update(step_, metrics_[lossIndex].elementAsDouble(0));

    bool last = step_ == options_.iterations;
    if (step_ % options_.logEvery == 0 || last) {
      MetricValues values;
      values.emplace_back("loss", sums[lossIndex] / double(summed));
      for (size_t i = 0; i < sums.size(); ++i)
        values.emplace_back(program_.metrics[i], sums[i] / double(summed));
      values.emplace_back("epoch", double(epoch));
      if (program_.evaluate && writesFiles() &&
          (last || (options_.evalEvery > 0 && step_ % options_.evalEvery == 0))) {
        MetricValues evaluation;
        auto started = std::chrono::steady_clock::now();
        bool evaluated = program_.evaluate(state_, last, evaluation, why);
        // The reported it/s is the training steps' alone.
        progress.exclude(std::chrono::duration<double>(
                             std::chrono::steady_clock::now() - started)
                             .count());
        if (!evaluated) {
          progress.finish();
          error = "evaluation at step " + std::to_string(step_) + ": " + why;
          return false;
        }
        values.insert(values.end(), evaluation.begin(), evaluation.end());
        lastEvaluation_ = std::move(evaluation);
      }
      if (writesFiles() && !log.write(step_, values, error))
        return false;
      std::fill(sums.begin(), sums.end(), 0.0);
      summed = 0;
    }
    if (last) {
      if (!saveCheckpoints(error)) {
        progress.finish();
        return false;
      }
    } else if (step_ % options_.checkpointEvery == 0) {
      checkpointDue = true;
    }
  }
  rate_ = progress.rate(step_);
  progress.finish();
  return true;
}

} // namespace bism::runtime
