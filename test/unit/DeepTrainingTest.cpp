//===- DeepTrainingTest.cpp - BiMDSM on a reduced deep image EBLVM ---------===//
//
// The deep image EBLVM of examples/deep (a ResNet energy with an additive
// coupling of the latents, a CNN Gaussian posterior), reduced to 8x8 images
// and a few channels (test/unit/data/deep/resnet_small.mlir, written by
// examples/deep/make_model.py), trained as bism-run trains it: the compiled
// BiMDSM step (K = 5 Fisher steps of φ, N = 0) driven by runtime::Trainer.
// A few hundred steps on images of bars must lower the training objective
// and the posterior Fisher divergence on held-out images by stated amounts
// (below).
//
//===----------------------------------------------------------------------===//
#include "TempFiles.h"

#include "bism/Execution/CompiledModel.h"
#include "bism/runtime/Metrics.h"
#include "bism/runtime/Trainer.h"

#include "llvm/Support/Error.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <random>

using namespace bism;
using runtime::ElementType;
using runtime::HostTensor;

namespace {

/// `count` 8x8 images, each one horizontal or vertical bar two pixels wide
/// at a random place and brightness in [0.6, 1] on a dark background:
/// structure a small convolutional energy can learn in a few hundred steps.
HostTensor barImages(int64_t count, uint32_t seed) {
  HostTensor images(ElementType::f64, {count, 64});
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> position(0, 6), orientation(0, 1);
  std::uniform_real_distribution<double> brightness(0.6, 1.0);
  double *pixels = images.dataAs<double>();
  for (int64_t n = 0; n < count; ++n) {
    int at = position(random);
    bool vertical = orientation(random);
    double value = brightness(random);
    for (int row = 0; row < 8; ++row)
      for (int column = 0; column < 8; ++column) {
        int along = vertical ? column : row;
        pixels[n * 64 + row * 8 + column] =
            along == at || along == at + 1 ? value : 0.05;
      }
  }
  return images;
}

/// The means of metric `name` in a run's metrics.jsonl, in step order.
std::vector<double> metricCurve(const std::string &path,
                                const std::string &name) {
  std::ifstream file(path);
  std::vector<double> curve;
  for (std::string line; std::getline(file, line);) {
    double value = 0;
    if (runtime::metricInLine(line, name, value))
      curve.push_back(value);
  }
  return curve;
}

TEST(DeepImageModel, BiMdsmStepsLowerObjectiveAndPosteriorFisher) {
  std::string path = std::string(BISM_DEEP_TEST_DATA) + "/resnet_small.mlir";
  ModelLoadOptions options;
  options.path = path;
  // The example's settings (BiMDSM, K = 5, N = 0, Fisher lower level,
  // Adam) with rates and a batch for a short run on tiny images.
  options.overrides = {"batch_size=50", "lr_theta=1e-3", "lr_phi=1e-3",
                       "iterations=300", "seed=3"};
  auto model = CompiledModel::load(options);
  ASSERT_TRUE(bool(model)) << llvm::toString(model.takeError());
  ASSERT_EQ((*model)->visibleDims(), 64);

  HostTensor train = barImages(2000, 1), test = barImages(500, 2);
  std::vector<HostTensor> initial = (*model)->initialState(3, train);
  auto fisherBefore = (*model)->posteriorFisher(initial, test, 4, 0);
  ASSERT_TRUE(bool(fisherBefore)) << llvm::toString(fisherBefore.takeError());
  auto lossBefore = (*model)->testObjective(initial, test, 4, 0);
  ASSERT_TRUE(bool(lossBefore)) << llvm::toString(lossBefore.takeError());

  std::string dir = bism::test::tempPath("deep-train");
  std::filesystem::create_directories(dir);
  runtime::TrainOptions trainOptions;
  trainOptions.iterations = 300;
  trainOptions.seed = 3;
  trainOptions.logEvery = 50;
  trainOptions.checkpointEvery = 300;
  trainOptions.outDir = dir;
  trainOptions.progress = false;
  trainOptions.say = [](const std::string &) {};
  runtime::Trainer trainer((*model)->trainProgram(), train, trainOptions);
  std::string error;
  ASSERT_TRUE(trainer.start(initial, error)) << error;
  ASSERT_TRUE(trainer.run(error)) << error;
  EXPECT_EQ(trainer.step(), 300);

  std::vector<double> loss = metricCurve(dir + "/metrics.jsonl", "J");
  std::filesystem::remove_all(dir);
  ASSERT_EQ(loss.size(), 6u);

  auto fisherAfter = (*model)->posteriorFisher(trainer.state(), test, 4, 0);
  ASSERT_TRUE(bool(fisherAfter)) << llvm::toString(fisherAfter.takeError());
  auto lossAfter = (*model)->testObjective(trainer.state(), test, 4, 0);
  ASSERT_TRUE(bool(lossAfter)) << llvm::toString(lossAfter.takeError());
  std::printf("[ reduced deep EBLVM, 300 BiMDSM steps ] train J %.4g -> %.4g "
              "(means of steps 1-50, 251-300); test loss %.4g -> %.4g; test "
              "posterior Fisher %.4g -> %.4g\n",
              loss.front(), loss.back(), *lossBefore, *lossAfter,
              *fisherBefore, *fisherAfter);

  // Seen (2 threads): J 3.21e5 -> 1.91e5, test loss 3.20e5 -> 1.85e5, test
  // posterior Fisher 1.11 -> 0.77. The bound on J leaves room for MDSM's
  // ½‖ε/σ0²‖², which no model removes. The lower level's own Fisher
  // divergence (lower_before) rises as the energy it tracks sharpens, so
  // only the held-out one, at the trained φ, is asserted.
  EXPECT_LT(loss.back(), 0.7 * loss.front());
  EXPECT_LT(*lossAfter, 0.7 * *lossBefore);
  EXPECT_LT(*fisherAfter, 0.85 * *fisherBefore);
}

} // namespace
