//===- UnrollCheckpointTest.cpp - checkpointed unrolling, same gradient ---===//
//
// unroll_checkpoint recomputes some φⁿ in the reverse sweep instead of
// keeping them (lib/Autodiff, bism.checkpoint on the unrolled loop). The
// arithmetic of the recomputation is the forward's, and the reverse sweep of
// each iteration is the same ops with the same operands, so the θ gradient
// (@theta_gradient_with_noise, f64) equals the plain unroll's up to the
// order in which cotangents of θ are summed (a segment's contributions are
// summed before they join the rest): to 1e-12 (seen: at most 7.1e-16). Every
// schedule, with N long enough that the schedules differ (7 and 9), with
// the φ optimiser's Adam steps and the plain SGD steps, and K = 1 plain
// steps first. Also: the schedule names are parsed (and refused) as
// documented, and binomial's snapshots/segment lengths.
//
//===----------------------------------------------------------------------===//
#include "TrainStepHarness.h"

#include "bism/Autodiff/Autodiff.h"

using namespace bism;
using namespace bism::trainstep;

namespace {

std::vector<HostTensor> thetaGradient(const std::string &spec, size_t stages,
                                      const std::string &checkpoint) {
  std::string full = spec;
  if (!checkpoint.empty())
    full += ", unroll_checkpoint = \"" + checkpoint + "\"";
  auto jit = buildStep(grbmModel(full, /*temperature=*/0.5));
  if (!jit)
    return {};
  Grbm model = Grbm::random(D, H, 41);
  StepInputs in = grbmInputs(model, stages, false, 500);
  randomMoments(in.phi, 600, in.mPhi, in.sPhi);
  in.tPhi = scalar(4);
  return call(*jit, "theta_gradient_with_noise", in.all());
}

double maxRelativeError(const std::vector<HostTensor> &a,
                        const std::vector<HostTensor> &b) {
  double worst = 0;
  for (size_t k = 0; k < a.size(); ++k)
    worst = std::max(worst, relativeError(a[k], b[k]));
  return worst;
}

struct Case {
  const char *name;
  int64_t unrollSteps;
  const char *optimizer; // unroll_optimizer
};

class UnrollCheckpoint : public ::testing::TestWithParam<Case> {};

TEST_P(UnrollCheckpoint, EverySchedulesGradientEqualsThePlainUnrolls) {
  const Case &c = GetParam();
  std::string spec = "objective = \"dsm\", noise_std = 0.3, divergence = "
                     "\"kl\", inner_steps = 1, unroll_steps = " +
                     std::to_string(c.unrollSteps) +
                     ", optimizer_phi = \"adam\", lr_phi = 0.05, "
                     "unroll_optimizer = \"" +
                     c.optimizer + "\"";
  if (std::string(c.optimizer) == "sgd")
    spec += ", unroll_lr = 0.3";
  size_t stages = size_t(1 + c.unrollSteps + 1);
  std::vector<HostTensor> plain = thetaGradient(spec, stages, "");
  ASSERT_EQ(plain.size(), 4u);
  for (const char *schedule :
       {"every:1", "every:2", "every:3", "sqrt", "binomial", "binomial:1",
        "binomial:2", "binomial:3"}) {
    std::vector<HostTensor> checkpointed = thetaGradient(spec, stages, schedule);
    ASSERT_EQ(checkpointed.size(), 4u) << schedule;
    EXPECT_LE(maxRelativeError(checkpointed, plain), 1e-12)
        << schedule << " vs none, N = " << c.unrollSteps;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Schedules, UnrollCheckpoint,
    ::testing::Values(Case{"AdamN7", 7, "same"}, Case{"SgdN7", 7, "sgd"},
                      Case{"SgdN9", 9, "sgd"}),
    [](const ::testing::TestParamInfo<Case> &info) {
      return std::string(info.param.name);
    });

TEST(UnrollCheckpoint, SchedulesParseAsDocumented) {
  using autodiff::CheckpointSchedule;
  std::string error;
  auto parse = [&](const char *text) {
    error.clear();
    return autodiff::parseCheckpointSchedule(text, error);
  };
  ASSERT_TRUE(parse("none"));
  EXPECT_EQ(parse("none")->kind, CheckpointSchedule::Kind::None);
  ASSERT_TRUE(parse("every:4"));
  EXPECT_EQ(parse("every:4")->segmentLength(50), 4);
  ASSERT_TRUE(parse("sqrt"));
  EXPECT_EQ(parse("sqrt")->segmentLength(50), 8);
  EXPECT_EQ(parse("sqrt")->segmentLength(49), 7);
  ASSERT_TRUE(parse("binomial"));
  EXPECT_EQ(parse("binomial")->snapshots(50), 6);
  EXPECT_EQ(parse("binomial:3")->snapshots(50), 3);
  for (const char *bad : {"every", "every:0", "every:x", "sqrt:2", "binomial:0",
                          "none:1", "revolve", ""}) {
    EXPECT_FALSE(parse(bad)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

} // namespace
