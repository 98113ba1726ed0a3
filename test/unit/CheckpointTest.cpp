//===- CheckpointTest.cpp - checkpoint files and metrics lines ------------===//
#include "bism/runtime/Checkpoint.h"
#include "bism/runtime/Metrics.h"
#include "bism/runtime/Npy.h"
#include "bism/runtime/Trainer.h"

#include "TempFiles.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <deque>
#include <cstdio>
#include <filesystem>
#include <unistd.h>

using namespace bism::runtime;
using bism::test::fileExists;
using bism::test::tempPath;

namespace {

Checkpoint sample() {
  Checkpoint checkpoint;
  checkpoint.setMeta("step", "200");
  checkpoint.setMeta("config", "{\n  \"method\": \"bism\"\n}\n");
  checkpoint.tensors.emplace_back(
      "theta.W", HostTensor::fromVector<float>({2, 3}, {1, 2, 3, 4, 5, 6}));
  checkpoint.tensors.emplace_back("t_theta",
                                  HostTensor::fromVector<double>({}, {7.5}));
  checkpoint.tensors.emplace_back("empty", HostTensor(ElementType::f32, {0, 4}));
  return checkpoint;
}

TEST(Checkpoint, RoundTripsBitForBit) {
  Checkpoint original = sample();
  std::string path = tempPath("round.ckpt"), error;
  ASSERT_TRUE(writeCheckpoint(path, original, error)) << error;
  Checkpoint loaded;
  ASSERT_TRUE(readCheckpoint(path, loaded, error)) << error;
  EXPECT_EQ(loaded.meta, original.meta);
  ASSERT_EQ(loaded.tensors.size(), original.tensors.size());
  for (size_t i = 0; i < loaded.tensors.size(); ++i) {
    EXPECT_EQ(loaded.tensors[i].first, original.tensors[i].first);
    const HostTensor &a = loaded.tensors[i].second, &b = original.tensors[i].second;
    EXPECT_EQ(a.typeString(), b.typeString());
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.byteSize()), 0);
  }
  EXPECT_EQ(*loaded.findMeta("step"), "200");
  EXPECT_EQ(loaded.findTensor("t_theta")->dataAs<double>()[0], 7.5);
  EXPECT_EQ(loaded.findTensor("nope"), nullptr);
  EXPECT_FALSE(fileExists(path + ".tmp"));
  std::remove(path.c_str());
}

// export: the parameters (theta.*, phi.*) as .npy files that read back bit
// for bit; with `all`, every tensor.
TEST(Checkpoint, ExportsParametersAsNpy) {
  Checkpoint original = sample();
  original.tensors.emplace_back(
      "phi.A", HostTensor::fromVector<double>({2}, {-0.25, 1e-300}));
  std::string dir = tempPath("export"), error;
  std::vector<std::string> written;
  ASSERT_TRUE(exportCheckpointNpy(original, dir, /*all=*/false, written, error))
      << error;
  ASSERT_EQ(written, (std::vector<std::string>{dir + "/theta.W.npy",
                                               dir + "/phi.A.npy"}));
  for (const std::string &name : {"theta.W", "phi.A"}) {
    HostTensor read;
    ASSERT_TRUE(readNpy(dir + "/" + name + ".npy", read, error)) << error;
    const HostTensor &expected = *original.findTensor(name);
    EXPECT_EQ(read.typeString(), expected.typeString());
    EXPECT_EQ(std::memcmp(read.data(), expected.data(), read.byteSize()), 0);
  }
  EXPECT_FALSE(fileExists(dir + "/t_theta.npy"));
  written.clear();
  ASSERT_TRUE(exportCheckpointNpy(original, dir, /*all=*/true, written, error));
  EXPECT_EQ(written.size(), original.tensors.size());
  EXPECT_TRUE(fileExists(dir + "/t_theta.npy"));
  // A folder that cannot be made: the error names it.
  written.clear();
  EXPECT_FALSE(exportCheckpointNpy(original, dir + "/theta.W.npy/sub", false,
                                   written, error));
  EXPECT_NE(error.find("theta.W.npy"), std::string::npos) << error;
  EXPECT_TRUE(written.empty());
}

// Every truncation and every single-bit flip is rejected with a message,
// never loaded (the trailing hash covers every byte before it).
TEST(Checkpoint, RejectsEveryTruncationAndBitFlip) {
  std::string bytes = encodeCheckpoint(sample());
  for (size_t size = 0; size < bytes.size(); ++size) {
    Checkpoint out;
    std::string error;
    EXPECT_FALSE(decodeCheckpoint(bytes.substr(0, size), "x.ckpt", out, error))
        << size;
    EXPECT_NE(error.find("'x.ckpt' is not a valid bism checkpoint"),
              std::string::npos)
        << error;
  }
  for (size_t byte = 0; byte < bytes.size(); ++byte)
    for (int bit = 0; bit < 8; bit += 3) {
      std::string flipped = bytes;
      flipped[byte] = char(flipped[byte] ^ (1 << bit));
      Checkpoint out;
      std::string error;
      EXPECT_FALSE(decodeCheckpoint(flipped, "x.ckpt", out, error))
          << byte << ":" << bit;
    }
}

TEST(Checkpoint, UnwritableFolderFailsCleanly) {
  std::string error;
  EXPECT_FALSE(writeCheckpoint("/nonexistent-folder/last.ckpt", sample(), error));
  EXPECT_NE(error.find("/nonexistent-folder/last.ckpt"), std::string::npos)
      << error;
}

// AUROC against the O(n·m) count over all pairs (ties ½), on scores with
// many ties, plus the closed cases: perfect, reversed, identical, empty.
TEST(Metrics, AurocIsTheFractionOfOrderedPairs) {
  std::vector<double> positives, negatives;
  uint64_t state = 12345;
  auto next = [&]() {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return double((state >> 33) % 20); // 20 levels: plenty of ties
  };
  for (int i = 0; i < 300; ++i)
    positives.push_back(next() + 3.0);
  for (int i = 0; i < 200; ++i)
    negatives.push_back(next());
  double pairs = 0.0;
  for (double p : positives)
    for (double n : negatives)
      pairs += p > n ? 1.0 : p == n ? 0.5 : 0.0;
  double expected = pairs / (300.0 * 200.0);
  EXPECT_NEAR(bism::runtime::auroc(positives, negatives), expected, 1e-12);
  EXPECT_GT(expected, 0.55); // shifted by 3 of 20 levels
  EXPECT_EQ(bism::runtime::auroc({2, 3}, {0, 1}), 1.0);
  EXPECT_EQ(bism::runtime::auroc({0, 1}, {2, 3}), 0.0);
  EXPECT_EQ(bism::runtime::auroc({1, 1}, {1}), 0.5);
  EXPECT_TRUE(std::isnan(bism::runtime::auroc({}, {1})));
  EXPECT_TRUE(std::isnan(bism::runtime::auroc({NAN}, {1})));
}

TEST(Metrics, FormatsOneJsonObjectPerLine) {
  EXPECT_EQ(formatMetricsLine(100, {{"loss", 0.25}, {"test_ll", NAN}}),
            "{\"step\": 100, \"loss\": 0.25, \"test_ll\": null}");
  EXPECT_EQ(metricsLineStep("{\"step\": 4200, \"loss\": 1}"), 4200);
  EXPECT_EQ(metricsLineStep("garbage"), -1);
}

// A resumed log keeps the lines up to the checkpoint's step and drops the
// ones a crashed run wrote after it.
// Figures not to be trusted are named: non-finite, absurdly large (the
// diverged run that printed test_ll -1.6e29), an AIS ESS under 10% of its
// chains; sound ones (a large log Z included) give no warning.
TEST(Metrics, WarnsAboutUntrustworthyFigures) {
  EXPECT_TRUE(metricWarnings({{"test_ll", -0.35}, {"ais_log_z", 2.5e9},
                              {"ais_ess", 40}},
                             100)
                  .empty());
  std::vector<std::string> warnings = metricWarnings(
      {{"test_ll", -1.57e29}, {"test_ssm", NAN}, {"ais_ess", 6}}, 100);
  ASSERT_EQ(warnings.size(), 3u);
  EXPECT_EQ(warnings[0], "test_ll = -1.57e+29 is absurdly large: the model "
                         "has most likely diverged");
  EXPECT_EQ(warnings[1], "test_ssm is nan: the model has diverged or the "
                         "evaluation failed");
  EXPECT_EQ(warnings[2], "AIS's effective sample size is 6.0 of 100 chains "
                         "(under 10%): its log Z, and the log-likelihood, "
                         "are unreliable; raise --ais-steps or --ais-chains");
}

TEST(Metrics, ResumeKeepsLinesUpToTheCheckpoint) {
  std::string path = tempPath("metrics.jsonl"), error;
  {
    MetricsLog log;
    ASSERT_TRUE(log.open(path, -1, error)) << error;
    for (int step = 100; step <= 400; step += 100)
      ASSERT_TRUE(log.write(step, {{"loss", step / 100.0}}, error)) << error;
  }
  {
    MetricsLog log;
    ASSERT_TRUE(log.open(path, 200, error)) << error;
    ASSERT_TRUE(log.write(300, {{"loss", 9}}, error)) << error;
  }
  std::FILE *file = std::fopen(path.c_str(), "r");
  ASSERT_NE(file, nullptr);
  char buffer[256];
  std::string text;
  while (std::fgets(buffer, sizeof(buffer), file))
    text += buffer;
  std::fclose(file);
  EXPECT_EQ(text, "{\"step\": 100, \"loss\": 1}\n{\"step\": 200, \"loss\": 2}\n"
                  "{\"step\": 300, \"loss\": 9}\n");
  std::remove(path.c_str());
}

TEST(Metrics, EvaluationFiguresAreValidJson) {
  // bism-run eval printed nan, -inf and a checkpoint's step verbatim.
  EXPECT_EQ(jsonFixedOrNull(-1.25, 6), "-1.250000");
  EXPECT_EQ(jsonFixedOrNull(NAN, 6), "null");
  EXPECT_EQ(jsonFixedOrNull(-INFINITY, 6), "null");
  EXPECT_EQ(jsonFixedOrNull(1e300, 2).size(), 304u);
  std::string count = "1400", text = "12x\"", empty;
  EXPECT_EQ(jsonStep(&count), "1400");
  EXPECT_EQ(jsonStep(&text), "\"12x\\\"\"");
  EXPECT_EQ(jsonStep(&empty), "\"\"");
  EXPECT_EQ(jsonStep(nullptr), "null");
}

TEST(Trainer, ResumeRefusesAStepThatIsNotACount) {
  // A negative step used to index the data order out of bounds (issue 16).
  TrainProgram program;
  program.state = {{"theta.x", ElementType::f64, {2}}};
  program.batch = {"v", ElementType::f64, {5, 2}};
  HostTensor data(ElementType::f64, {10, 2});
  for (const char *step : {"-5", "abc", "12x", "", "99999999999999999999"}) {
    Trainer trainer(program, data, TrainOptions());
    Checkpoint checkpoint;
    checkpoint.setMeta("step", step);
    checkpoint.tensors.emplace_back("theta.x", HostTensor(ElementType::f64, {2}));
    std::string error;
    EXPECT_FALSE(trainer.resume(checkpoint, error)) << step;
    EXPECT_NE(error.find("is not a step count"), std::string::npos) << error;
  }
  Trainer trainer(program, data, TrainOptions());
  Checkpoint checkpoint;
  checkpoint.setMeta("step", "40");
  checkpoint.tensors.emplace_back("theta.x", HostTensor(ElementType::f64, {2}));
  std::string error;
  EXPECT_TRUE(trainer.resume(checkpoint, error)) << error;
  EXPECT_EQ(trainer.step(), 40);
}

TEST(Trainer, KeptCheckpointIsWrittenBeforeLastCheckpoint) {
  // A kill between the two writes must not lose step-<s>.ckpt: here the
  // first write of last.ckpt (the starting state, step 0) fails, a folder
  // of that name being in the way, and the kept copy is already there.
  TrainProgram program;
  program.state = {{"theta.x", ElementType::f64, {1}}};
  program.batch = {"v", ElementType::f64, {1, 1}};
  program.metrics = {"J"};
  program.lossMetric = "J";
  program.step = [](const std::vector<const HostTensor *> &inputs,
                    const std::vector<HostTensor *> &outputs, std::string &) {
    outputs[0]->dataAs<double>()[0] = inputs[0]->dataAs<double>()[0] + 1;
    outputs[1]->dataAs<double>()[0] = 1.0;
    return true;
  };
  HostTensor data(ElementType::f64, {4, 1});
  std::string dir = tempPath("kept-first");
  std::filesystem::create_directories(dir + "/last.ckpt");
  TrainOptions options;
  options.iterations = 2;
  options.logEvery = 1;
  options.checkpointEvery = 2;
  options.keepEvery = 2;
  options.outDir = dir;
  options.progress = false;
  Trainer trainer(program, data, options);
  std::string error;
  ASSERT_TRUE(trainer.start({HostTensor(ElementType::f64, {1})}, error)) << error;
  EXPECT_FALSE(trainer.run(error));
  EXPECT_NE(error.find("last.ckpt"), std::string::npos) << error;
  Checkpoint kept;
  ASSERT_TRUE(readCheckpoint(dir + "/step-0.ckpt", kept, error)) << error;
  EXPECT_EQ(*kept.findMeta("step"), "0");
  std::filesystem::remove_all(dir);
}

namespace {
/// One rank of a data-parallel group whose other ranks are simulated:
/// rank 0 records what it broadcasts in `broadcasts`, another rank takes
/// them from there in order; the sum over the ranks adds `othersSum`.
class SimulatedGroup final : public ProcessGroup {
public:
  SimulatedGroup(int rank, int size) : rank_(rank), size_(size) {}
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void allReduceSum(float *data, int64_t count) override {
    for (int64_t i = 0; i < count; ++i)
      data[i] += float(othersSum);
  }
  void allReduceSum(double *data, int64_t count) override {
    for (int64_t i = 0; i < count; ++i)
      data[i] += othersSum;
  }
  void barrier() override {}
  void broadcast(void *data, int64_t bytes, int root) override {
    ASSERT_EQ(root, 0);
    if (rank_ == 0) {
      broadcasts.emplace_back(static_cast<char *>(data),
                              static_cast<char *>(data) + bytes);
      return;
    }
    ASSERT_FALSE(broadcasts.empty());
    ASSERT_EQ(broadcasts.front().size(), size_t(bytes));
    std::memcpy(data, broadcasts.front().data(), size_t(bytes));
    broadcasts.pop_front();
  }
  [[noreturn]] void abort(int) override { std::abort(); }

  std::deque<std::vector<char>> broadcasts;
  double othersSum = 0;

private:
  int rank_, size_;
};

/// The rows each step of a 1-row-per-rank run of `group` trains on (the
/// step records its batch's value), and whether the run succeeded.
std::vector<double> rowsSeen(ProcessGroup *group, int64_t batch,
                             const std::string &dir, std::string &error,
                             bool &ran) {
  std::vector<double> seen;
  TrainProgram program;
  program.state = {{"theta.x", ElementType::f64, {1}}};
  program.batch = {"v", ElementType::f64, {batch, 1}};
  program.metrics = {"J"};
  program.lossMetric = "J";
  program.step = [&seen, batch](const std::vector<const HostTensor *> &inputs,
                                const std::vector<HostTensor *> &outputs,
                                std::string &) {
    for (int64_t i = 0; i < batch; ++i)
      seen.push_back(inputs[1]->dataAs<double>()[i]);
    outputs[0]->dataAs<double>()[0] = inputs[0]->dataAs<double>()[0] + 1;
    outputs[1]->dataAs<double>()[0] = 1.0;
    return true;
  };
  HostTensor data(ElementType::f64, {8, 1});
  for (int64_t i = 0; i < 8; ++i)
    data.dataAs<double>()[i] = double(i);
  TrainOptions options;
  options.iterations = 6;
  options.checkpointEvery = 3;
  options.outDir = dir;
  options.progress = false;
  options.group = group;
  Trainer trainer(program, data, options);
  ran = trainer.start({HostTensor(ElementType::f64, {1})}, error) &&
        trainer.run(error);
  return seen;
}
} // namespace

TEST(Trainer, RanksTrainOnTheirRowsOfTheGlobalBatch) {
  // One process with batch 2, and ranks 0 and 1 of 2 with batch 1 each:
  // per step, rank 0 takes the first row and rank 1 the second (4 batches
  // per epoch, 6 steps: a new epoch's order too). Only rank 0 writes.
  std::string error;
  bool ran = false;
  std::string one = tempPath("ranks-one"), first = tempPath("ranks-0"),
              second = tempPath("ranks-1");
  std::vector<double> whole = rowsSeen(nullptr, 2, one, error, ran);
  ASSERT_TRUE(ran) << error;
  SimulatedGroup rank0(0, 2), rank1(1, 2);
  std::vector<double> rows0 = rowsSeen(&rank0, 1, first, error, ran);
  ASSERT_TRUE(ran) << error;
  rank1.broadcasts = rank0.broadcasts; // rank 0's state hashes
  std::vector<double> rows1 = rowsSeen(&rank1, 1, second, error, ran);
  ASSERT_TRUE(ran) << error;
  ASSERT_EQ(whole.size(), 12u);
  for (size_t step = 0; step < 6; ++step) {
    EXPECT_EQ(rows0[step], whole[2 * step]) << step;
    EXPECT_EQ(rows1[step], whole[2 * step + 1]) << step;
  }
  EXPECT_TRUE(std::filesystem::exists(first + "/last.ckpt"));
  EXPECT_TRUE(std::filesystem::exists(first + "/metrics.jsonl"));
  EXPECT_FALSE(std::filesystem::exists(second));
  for (const std::string &dir : {one, first})
    std::filesystem::remove_all(dir);
}

TEST(Trainer, RanksWhoseStatesDriftApartStop) {
  // At the first checkpoint, rank 1 finds rank 0's state hash differs from
  // its own (the simulated rank 0 broadcasts another one), and the other
  // rank reports a difference too: both stop with the same error.
  SimulatedGroup rank1(1, 2);
  rank1.broadcasts.emplace_back(8, '\x5a');
  rank1.othersSum = 1; // rank 0 found the difference as well
  std::string error;
  bool ran = true;
  rowsSeen(&rank1, 1, tempPath("ranks-drift"), error, ran);
  EXPECT_FALSE(ran);
  EXPECT_NE(error.find("the ranks' states have drifted apart by step 0: 2 of "
                       "2 ranks differ from rank 0"),
            std::string::npos)
      << error;
}

TEST(Trainer, StepKeysAreKeySplitsOfTheSeed) {
  PhiloxKey key = stepKey(0x100000002ull, 7);
  PhiloxKey expected = keySplit({2u, 1u}, 7);
  EXPECT_EQ(key, expected);
  EXPECT_NE(stepKey(0, 1), stepKey(0, 2));
}

} // namespace
