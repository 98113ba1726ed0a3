//===- BatchSizeTest.cpp - the `?` batch dimension set at compile time ----===//
//
// A model written with `?` batch dimensions (docs/training.md, "The batch
// dimension") is specialised to the spec's batch_size. Every batch
// reduction of the step is a mean, so the BiDSM step (K = 2 plain and N = 2
// unrolled Adam steps of φ) built for batch 8 and fed a batch of 4 rows
// twice gives the step built for batch 4 on those 4 rows: the same loss, the
// same lower-level losses and the same new θ and φ, up to round-off.
// CompiledModel applies `--set batch_size=N` (ModelLoadOptions::overrides)
// before specialising, so the example models train at any batch size.
//
//===----------------------------------------------------------------------===//
#include "TempFiles.h"
#include "TrainStepHarness.h"

#include "bism/Execution/CompiledModel.h"

#include <cstdio>

using namespace bism;
using namespace bism::trainstep;

namespace {

/// The harness's GRBM with its batch dimension written `?`: the batch-shaped
/// constant is a broadcast rank-0 constant, as elements attributes need
/// static shapes.
std::string dynamicBatchGrbm(int64_t batchSize) {
  std::string text = grbmModel(
      "objective = \"dsm\", noise_std = 0.3, divergence = \"kl\", "
      "inner_steps = 2, unroll_steps = 2, unroll_optimizer = \"same\", "
      "optimizer_phi = \"adam\", lr_phi = 0.05, lr_theta = 0.01, "
      "batch_size = " +
      std::to_string(batchSize));
  text = test::replaceAll(text, "tensor<8x", "tensor<?x");
  text = test::replaceAll(text, "tensor<8xf64>", "tensor<?xf64>");
  return test::replaceAll(
      text, "%half = bism.constant dense<0.5> : !n",
      "%half0 = bism.constant dense<0.5> : tensor<f64>\n"
      "  %half = bism.broadcast %half0 : tensor<f64> to !n");
}

/// The first `rows` rows of `t` ([B, ...]), `copies` times over.
HostTensor repeatRows(const HostTensor &t, int64_t rows, int64_t copies) {
  std::vector<int64_t> shape = t.shape();
  int64_t width = t.numElements() / shape[0];
  shape[0] = rows * copies;
  HostTensor out(ElementType::f64, shape);
  for (int64_t copy = 0; copy < copies; ++copy)
    for (int64_t i = 0; i < rows * width; ++i)
      out.dataAs<double>()[copy * rows * width + i] = at(t, i);
  return out;
}

StepInputs withBatch(const StepInputs &in, int64_t rows, int64_t copies) {
  StepInputs out = in;
  out.v = repeatRows(in.v, rows, copies);
  for (HostTensor &noise : out.noise)
    noise = repeatRows(noise, rows, copies);
  return out;
}

} // namespace

TEST(BatchSize, SpecialisedStepsGiveTheSameLossPerSample) {
  auto step8 = buildStep(dynamicBatchGrbm(8));
  auto step4 = buildStep(dynamicBatchGrbm(4));
  ASSERT_TRUE(step8 && step4);
  Grbm model = Grbm::random(D, H, 41);
  // K + N + 1 posterior stages.
  StepInputs in = grbmInputs(model, /*stages=*/5);
  StepInputs four = withBatch(in, 4, 1), twice = withBatch(in, 4, 2);
  ASSERT_EQ(twice.v.shape(), (std::vector<int64_t>{8, 2}));

  std::vector<HostTensor> r4 =
      call(*step4, "train_step_with_noise", four.all());
  std::vector<HostTensor> r8 =
      call(*step8, "train_step_with_noise", twice.all());
  ASSERT_FALSE(r4.empty() || r8.empty());
  StepOutputs a = unpack(r4, 4, 2), b = unpack(r8, 4, 2);
  EXPECT_NEAR(a.j, b.j, 1e-12 * std::abs(a.j));
  EXPECT_NEAR(a.lowerBefore, b.lowerBefore, 1e-12 * std::abs(a.lowerBefore));
  EXPECT_NEAR(a.lowerAfter, b.lowerAfter, 1e-12 * std::abs(a.lowerAfter));
  EXPECT_NEAR(a.gradNorm, b.gradNorm, 1e-12 * a.gradNorm);
  for (size_t k = 0; k < 4; ++k)
    EXPECT_LT(relativeError(a.theta[k], b.theta[k]), 1e-12) << "theta " << k;
  for (size_t k = 0; k < 2; ++k)
    EXPECT_LT(relativeError(a.phi[k], b.phi[k]), 1e-12) << "phi " << k;
  // The θ step moved: the comparison is not between two untouched states.
  EXPECT_GT(relativeError(a.theta[0], in.theta[0]), 1e-6);

  // A batch of 8 distinct rows gives another loss (the batch is really 8).
  std::vector<HostTensor> distinct =
      call(*step8, "train_step_with_noise", in.all());
  ASSERT_FALSE(distinct.empty());
  EXPECT_GT(std::abs(unpack(distinct, 4, 2).j - b.j), 1e-6);
}

TEST(BatchSize, SetOverrideSpecialisesAnExampleModel) {
  // The checkerboard example states batch_size = 100 once; --set chooses 50.
  ModelLoadOptions options;
  options.path = std::string(BISM_EXAMPLES_DIR) + "/grbm/checkerboard.mlir";
  options.overrides = {"batch_size=50"};
  auto model = CompiledModel::load(options);
  ASSERT_TRUE(bool(model)) << llvm::toString(model.takeError());
  EXPECT_EQ((*model)->batchSize(), 50);
  runtime::TrainProgram program = (*model)->trainProgram();
  EXPECT_EQ(program.batch.shape, (std::vector<int64_t>{50, 2}));

  // A model written with static types keeps them: batch_size must match.
  std::string text = test::replaceAll(
      test::readExample("grbm/checkerboard.mlir"), "tensor<?x", "tensor<100x");
  text = test::replaceAll(text, "tensor<?xf32>", "tensor<100xf32>");
  options.path = test::tempPath("static-batch.mlir");
  std::ofstream(options.path) << text;
  auto fixed = CompiledModel::load(options);
  std::remove(options.path.c_str());
  ASSERT_FALSE(bool(fixed));
  EXPECT_NE(llvm::toString(fixed.takeError()).find("invalid model"),
            std::string::npos);
}
