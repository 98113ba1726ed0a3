//===- EvaluationTest.cpp - bism-run's estimators against exact values ----===//
//
// CompiledModel's evaluations, each checked against a value computed another
// way (models in f64):
//   - AIS log Z (GRBM: examples/grbm/freyface.mlir shrunk to 6 visible, 10
//     latent units, and the checkerboard example with its multimodal
//     initialisation) against the exact log Z over all 2^H components;
//   - the SSM score against ½‖∇F‖² − tr ∇²F from the closed-form GRBM, within
//     the projection noise;
//   - the posterior Fisher divergence of a linear-Gaussian model against its
//     closed form;
//   - annealed Langevin samples of the GRBM (on F) and of the linear-Gaussian
//     model (on (v, h) jointly) against moments by quadrature / in closed
//     form;
//   - a Gibbs chain ending with the mean of p(v|h) against the GRBM's
//     conditional means.
//
//===----------------------------------------------------------------------===//
#include "GrbmReference.h"
#include "TempFiles.h"

#include "bism/Execution/CompiledModel.h"

#include "llvm/Support/Error.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace bism;
using bism::testing::Grbm;
using bism::testing::randomTensor;
using runtime::ElementType;
using runtime::HostTensor;

namespace {

using bism::test::readExample;
using bism::test::replaceAll;

/// Writes `text` to a temporary model file and compiles its evaluation
/// functions.
std::unique_ptr<CompiledModel>
compile(const std::string &name, const std::string &text,
        std::vector<std::string> overrides = {}) {
  std::string path = bism::test::tempPath(name);
  std::ofstream(path) << text;
  ModelLoadOptions options;
  options.path = path;
  options.overrides = std::move(overrides);
  options.withTrainStep = false;
  auto model = CompiledModel::load(options);
  std::remove(path.c_str());
  if (!model) {
    ADD_FAILURE() << llvm::toString(model.takeError());
    return nullptr;
  }
  return std::move(*model);
}

/// The state with θ parameter `name` set to `value`.
void setParam(const CompiledModel &model, std::vector<HostTensor> &state,
              const std::string &name, const HostTensor &value) {
  const auto &specs = model.stateSpecs();
  for (size_t i = 0; i < specs.size(); ++i)
    if (specs[i].name == name) {
      ASSERT_EQ(state[i].numElements(), value.numElements()) << name;
      state[i] = value;
      return;
    }
  FAIL() << "no state tensor " << name;
}

void setGrbm(const CompiledModel &model, std::vector<HostTensor> &state,
             const Grbm &grbm) {
  setParam(model, state, "theta.W", grbm.w);
  setParam(model, state, "theta.b", grbm.b);
  setParam(model, state, "theta.c", grbm.c);
  setParam(model, state, "theta.logsigma", grbm.logSigma);
}

/// The Frey face GRBM with 6 visible and 10 latent units, in f64.
std::string smallFreyGrbm() {
  std::string text = readExample("grbm/freyface.mlir");
  text = replaceAll(text, "560", "6");
  text = replaceAll(text, "400", "10");
  return replaceAll(text, "f32", "f64");
}

std::string checkerboardGrbm() {
  return replaceAll(readExample("grbm/checkerboard.mlir"), "f32", "f64");
}

TEST(Ais, MatchesExactLogPartitionOfASmallGrbm) {
  auto model = compile("ais-small.mlir", smallFreyGrbm());
  ASSERT_TRUE(model);
  ASSERT_TRUE(model->hasAis());
  std::vector<HostTensor> state = model->initialState(0, HostTensor());
  Grbm grbm = Grbm::random(6, 10, 11);
  setGrbm(*model, state, grbm);
  auto exact = model->logPartition(state);
  ASSERT_TRUE(bool(exact)) << llvm::toString(exact.takeError());
  AisOptions options;
  options.chains = 500;
  options.steps = 500;
  auto ais = model->aisLogPartition(state, options);
  ASSERT_TRUE(bool(ais)) << llvm::toString(ais.takeError());
  EXPECT_EQ(ais->chains, 500);
  // log Z of the base: W = c = 0, so Σ_j (logσ_j + ½ log 2π) + H log 2.
  double base = 10 * std::log(2.0);
  for (int64_t j = 0; j < 6; ++j)
    base += grbm.logSigma.dataAs<double>()[j] + 0.5 * std::log(2 * M_PI);
  EXPECT_NEAR(ais->logZBase, base, 1e-9);
  EXPECT_NEAR(ais->logZ, *exact, 0.03) << "standard error " << ais->standardError;
  EXPECT_LT(ais->standardError, 0.03);
  EXPECT_GT(ais->effectiveSampleSize, 100);
}

TEST(Ais, MatchesExactLogPartitionOfAMultimodalGrbm) {
  // The checkerboard example's initialisation, W ~ N(0, 3²): well separated
  // modes, which the annealing has to find.
  auto model = compile("ais-checkerboard.mlir", checkerboardGrbm());
  ASSERT_TRUE(model);
  std::vector<HostTensor> state = model->initialState(3, HostTensor());
  auto exact = model->logPartition(state);
  ASSERT_TRUE(bool(exact)) << llvm::toString(exact.takeError());
  AisOptions options;
  options.chains = 1000;
  options.steps = 1000;
  options.seed = 5;
  auto ais = model->aisLogPartition(state, options);
  ASSERT_TRUE(bool(ais)) << llvm::toString(ais.takeError());
  EXPECT_NEAR(ais->logZ, *exact, 0.03) << "standard error " << ais->standardError;
}

TEST(Ais, RejectsABaseWhoseLatentsDependOnParameters) {
  // With c not annealed the base's components have different masses.
  auto model = compile("ais-bad-base.mlir", smallFreyGrbm(),
                       {"ais_anneal=[\"W\"]"});
  ASSERT_TRUE(model);
  std::vector<HostTensor> state = model->initialState(0, HostTensor());
  setGrbm(*model, state, Grbm::random(6, 10, 11));
  auto ais = model->aisLogPartition(state, AisOptions());
  ASSERT_FALSE(bool(ais));
  EXPECT_NE(llvm::toString(ais.takeError())
                .find("differs between latent configurations"),
            std::string::npos);
}

TEST(SsmScore, MatchesTheClosedFormWithinProjectionNoise) {
  auto model = compile("ssm.mlir", checkerboardGrbm());
  ASSERT_TRUE(model);
  ASSERT_TRUE(model->hasSsmScore());
  std::vector<HostTensor> state = model->initialState(0, HostTensor());
  Grbm grbm = Grbm::random(2, 4, 21);
  setGrbm(*model, state, grbm);
  // 250 points: the last batch is padded.
  HostTensor points = randomTensor({250, 2}, 22, -1.0, 2.0);
  const int64_t projections = 400;
  auto ssm = model->ssmScore(state, points, projections, 9);
  ASSERT_TRUE(bool(ssm)) << llvm::toString(ssm.takeError());

  // Per point: ½‖s‖² − tr H, H = ∇²F = diag(P) − Σ_k σ'(a_k) W_·k W_·kᵀ;
  // a Rademacher u adds 2 u₁u₂ H₁₂ (variance 4 H₁₂²).
  HostTensor s = grbm.score(points);
  double expected = 0, variance = 0;
  for (int64_t i = 0; i < 250; ++i) {
    double h[2][2] = {{grbm.P(0), 0}, {0, grbm.P(1)}};
    for (int64_t k = 0; k < 4; ++k) {
      double p = bism::testing::sigmoid(grbm.pre(points, i, k));
      for (int j = 0; j < 2; ++j)
        for (int l = 0; l < 2; ++l)
          h[j][l] -= p * (1 - p) * grbm.W(j, k) * grbm.W(l, k);
    }
    double s0 = s.dataAs<double>()[2 * i], s1 = s.dataAs<double>()[2 * i + 1];
    expected += 0.5 * (s0 * s0 + s1 * s1) - (h[0][0] + h[1][1]);
    variance += 4 * h[0][1] * h[0][1];
  }
  expected /= 250;
  double standardError = std::sqrt(variance / 250 / (250.0 * projections));
  EXPECT_NEAR(*ssm, expected, 5 * standardError + 1e-9);
  EXPECT_GT(standardError, 0);
}

/// E(v, h) = ½‖v − hW‖² + ½‖h‖², q(h|v) = N(vA + d, diag(e^{2s})): h ~ N(0, I),
/// v | h ~ N(hW, I); p(h|v) has precision Λ = I + WWᵀ.
const char *kLinearGaussian = R"mlir(
func.func private @energy(%v: tensor<100x2xf64>, %h: tensor<100x2xf64>,
                          %w: tensor<2x2xf64>) -> tensor<100xf64> {
  %half = bism.constant dense<0.5> : tensor<100xf64>
  %hw = bism.matmul %h, %w : tensor<100x2xf64>, tensor<2x2xf64> -> tensor<100x2xf64>
  %r = bism.sub %v, %hw : tensor<100x2xf64>
  %r2 = bism.square %r : tensor<100x2xf64>
  %h2 = bism.square %h : tensor<100x2xf64>
  %t = bism.add %r2, %h2 : tensor<100x2xf64>
  %sum = bism.reduce_sum %t axes [1] : tensor<100x2xf64> -> tensor<100xf64>
  %e = bism.mul %sum, %half : tensor<100xf64>
  return %e : tensor<100xf64>
}
func.func private @posterior(%v: tensor<100x2xf64>, %a: tensor<2x2xf64>,
                             %d: tensor<2xf64>, %s: tensor<2xf64>)
    -> (tensor<100x2xf64>, tensor<100x2xf64>) {
  %va = bism.matmul %v, %a : tensor<100x2xf64>, tensor<2x2xf64> -> tensor<100x2xf64>
  %db = bism.broadcast %d : tensor<2xf64> to tensor<100x2xf64>
  %mu = bism.add %va, %db : tensor<100x2xf64>
  %logstd = bism.broadcast %s : tensor<2xf64> to tensor<100x2xf64>
  return %mu, %logstd : tensor<100x2xf64>, tensor<100x2xf64>
}
bism.model @linear_gaussian energy @energy [@W]
    posterior "gaussian" @posterior [@A, @d, @s]
    spec {method = "bism", objective = "dsm", inner_steps = 1,
          unroll_steps = 1, batch_size = 100} {
  bism.param @W : tensor<2x2xf64> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x2xf64> {group = "phi", init = "zeros"}
  bism.param @d : tensor<2xf64> {group = "phi", init = "zeros"}
  bism.param @s : tensor<2xf64> {group = "phi", init = "zeros"}
}
)mlir";

HostTensor matrix(std::vector<int64_t> shape, std::vector<double> values) {
  return HostTensor::fromVector<double>(std::move(shape), values);
}

TEST(PosteriorFisher, MatchesTheLinearGaussianClosedForm) {
  auto model = compile("fisher.mlir", kLinearGaussian);
  ASSERT_TRUE(model);
  ASSERT_TRUE(model->hasPosteriorFisher());
  std::vector<HostTensor> state = model->initialState(0, HostTensor());
  double W[2][2] = {{0.8, -0.3}, {0.5, 1.2}}, A[2][2] = {{0.4, 0.1}, {-0.2, 0.6}};
  double d[2] = {0.1, -0.3}, logStd[2] = {-0.4, -0.9};
  setParam(*model, state, "theta.W", matrix({2, 2}, {W[0][0], W[0][1], W[1][0], W[1][1]}));
  setParam(*model, state, "phi.A", matrix({2, 2}, {A[0][0], A[0][1], A[1][0], A[1][1]}));
  setParam(*model, state, "phi.d", matrix({2}, {d[0], d[1]}));
  setParam(*model, state, "phi.s", matrix({2}, {logStd[0], logStd[1]}));
  HostTensor points = randomTensor({150, 2}, 31, -2.0, 2.0);
  auto fisher = model->posteriorFisher(state, points, 400, 4);
  ASSERT_TRUE(bool(fisher)) << llvm::toString(fisher.takeError());

  // ∇_h (E + log q) = hΛ − vWᵀ − (h − μ)/σ² at h = μ + σ⊙ξ
  //                = (μΛ − vWᵀ) + ξ M,  M = diag(σ)Λ − diag(1/σ);
  // its expected ½‖·‖² is ½‖μΛ − vWᵀ‖² + ½‖M‖²_F.
  double lambda[2][2], sigma[2] = {std::exp(logStd[0]), std::exp(logStd[1])};
  for (int j = 0; j < 2; ++j)
    for (int l = 0; l < 2; ++l)
      lambda[j][l] = (j == l) + W[j][0] * W[l][0] + W[j][1] * W[l][1];
  double noiseTerm = 0;
  for (int j = 0; j < 2; ++j)
    for (int l = 0; l < 2; ++l) {
      double m = sigma[j] * lambda[j][l] - (j == l ? 1 / sigma[j] : 0.0);
      noiseTerm += 0.5 * m * m;
    }
  double expected = 0;
  for (int64_t i = 0; i < 150; ++i) {
    const double *v = points.dataAs<double>() + 2 * i;
    double mu[2], vWt[2];
    for (int l = 0; l < 2; ++l) {
      mu[l] = v[0] * A[0][l] + v[1] * A[1][l] + d[l];
      vWt[l] = v[0] * W[l][0] + v[1] * W[l][1];
    }
    for (int l = 0; l < 2; ++l) {
      double m = mu[0] * lambda[0][l] + mu[1] * lambda[1][l] - vWt[l];
      expected += 0.5 * m * m;
    }
  }
  expected = expected / 150 + noiseTerm;
  EXPECT_NEAR(*fisher, expected, 0.02 * expected);
}

// The approximate SSM with q the exact posterior is the SSM of the exact
// marginal score (BiSM's Theorem 1: −E − log q = log p(v) for every h), so
// for W = diag(a, b) — Λ = I + WWᵀ diagonal, q(h|v) = N(vWᵀΛ⁻¹, Λ⁻¹) in the
// model's family — it is mean_v ½ vᵀΣ⁻²v − tr Σ⁻¹ with Σ = I + WᵀW, for
// every draw of the Rademacher u and of h: exact to round-off.
TEST(ApproximateSsm, EqualsTheMarginalSsmWithTheExactPosterior) {
  auto model = compile("approx_ssm.mlir", kLinearGaussian);
  ASSERT_TRUE(model);
  ASSERT_TRUE(model->hasApproximateSsm());
  EXPECT_FALSE(model->hasSsmScore());
  std::vector<HostTensor> state = model->initialState(0, HostTensor());
  double a = 0.8, b = -1.5;
  double la = 1 + a * a, lb = 1 + b * b;
  setParam(*model, state, "theta.W", matrix({2, 2}, {a, 0, 0, b}));
  setParam(*model, state, "phi.A", matrix({2, 2}, {a / la, 0, 0, b / lb}));
  setParam(*model, state, "phi.d", matrix({2}, {0, 0}));
  setParam(*model, state, "phi.s",
           matrix({2}, {-0.5 * std::log(la), -0.5 * std::log(lb)}));
  HostTensor points = randomTensor({250, 2}, 41, -2.0, 2.0);
  auto ssm = model->approximateSsm(state, points, 3, 7);
  ASSERT_TRUE(bool(ssm)) << llvm::toString(ssm.takeError());
  double expected = 0;
  for (int64_t i = 0; i < 250; ++i) {
    double v0 = points.dataAs<double>()[2 * i],
           v1 = points.dataAs<double>()[2 * i + 1];
    expected += 0.5 * (v0 * v0 / (la * la) + v1 * v1 / (lb * lb));
  }
  expected = expected / 250 - (1 / la + 1 / lb);
  EXPECT_NEAR(*ssm, expected, 1e-10 * std::fabs(expected));

  // Another posterior: the estimate moves.
  setParam(*model, state, "phi.d", matrix({2}, {0.3, -0.2}));
  auto off = model->approximateSsm(state, points, 3, 7);
  ASSERT_TRUE(bool(off));
  EXPECT_GT(std::fabs(*off - expected), 1e-3);
}

/// Mean and covariance of the rows of `samples` (f64 or f32).
void moments(const HostTensor &samples, double mean[2], double cov[2][2]) {
  int64_t n = samples.shape()[0];
  mean[0] = mean[1] = 0;
  cov[0][0] = cov[0][1] = cov[1][0] = cov[1][1] = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int j = 0; j < 2; ++j)
      mean[j] += samples.elementAsDouble(2 * i + j) / double(n);
  for (int64_t i = 0; i < n; ++i)
    for (int j = 0; j < 2; ++j)
      for (int l = 0; l < 2; ++l)
        cov[j][l] += (samples.elementAsDouble(2 * i + j) - mean[j]) *
                     (samples.elementAsDouble(2 * i + l) - mean[l]) / double(n);
}

/// 2000 samples: 20 batches of annealed Langevin chains from `start`.
HostTensor langevinSamples(CompiledModel &model,
                           const std::vector<HostTensor> &state,
                           const HostTensor &start, LangevinOptions options) {
  HostTensor samples(ElementType::f64, {2000, 2});
  for (int64_t chain = 0; chain < 20; ++chain) {
    options.seed = uint64_t(100 + chain);
    auto result = model.langevinChain(state, start, options);
    EXPECT_TRUE(bool(result)) << llvm::toString(result.takeError());
    if (!result)
      return samples;
    for (int64_t i = 0; i < 200; ++i)
      samples.dataAs<double>()[chain * 200 + i] = result->elementAsDouble(i);
  }
  return samples;
}

TEST(Langevin, MatchesGrbmMomentsByQuadrature) {
  auto model = compile("langevin-grbm.mlir", checkerboardGrbm());
  ASSERT_TRUE(model);
  std::vector<HostTensor> state = model->initialState(0, HostTensor());
  Grbm grbm = Grbm::random(2, 4, 41);
  setGrbm(*model, state, grbm);
  LangevinOptions options;
  options.steps = 6000;
  options.stepSize = 5e-3;
  options.annealFraction = 0.5;
  HostTensor start(ElementType::f64, {100, 2});
  HostTensor samples = langevinSamples(*model, state, start, options);
  double mean[2], cov[2][2];
  moments(samples, mean, cov);

  // Moments of exp(−F) on a grid wide enough for every component.
  double qMean[2] = {0, 0}, qSecond[2][2] = {{0, 0}, {0, 0}}, total = 0;
  const double low = -8, high = 8, step = 0.02;
  int n = int((high - low) / step) + 1;
  HostTensor grid(ElementType::f64, {int64_t(n) * n, 2});
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      grid.dataAs<double>()[2 * (i * n + j)] = low + i * step;
      grid.dataAs<double>()[2 * (i * n + j) + 1] = low + j * step;
    }
  HostTensor f = grbm.freeEnergy(grid);
  double lowest = INFINITY;
  for (int64_t k = 0; k < f.numElements(); ++k)
    lowest = std::min(lowest, f.dataAs<double>()[k]);
  for (int64_t k = 0; k < f.numElements(); ++k) {
    double w = std::exp(lowest - f.dataAs<double>()[k]);
    double x[2] = {grid.dataAs<double>()[2 * k], grid.dataAs<double>()[2 * k + 1]};
    total += w;
    for (int a = 0; a < 2; ++a) {
      qMean[a] += w * x[a];
      for (int b = 0; b < 2; ++b)
        qSecond[a][b] += w * x[a] * x[b];
    }
  }
  for (int a = 0; a < 2; ++a) {
    qMean[a] /= total;
    EXPECT_NEAR(mean[a], qMean[a], 0.06) << "mean " << a;
  }
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b) {
      double qCov = qSecond[a][b] / total - qMean[a] * qMean[b];
      EXPECT_NEAR(cov[a][b], qCov, 0.1 * std::sqrt(qSecond[a][a] / total))
          << "covariance " << a << b;
    }
}

TEST(Langevin, SamplesTheJointOfContinuousLatents) {
  // No free energy: the chains run on (v, h) with ∇E; v's marginal is
  // N(0, I + WᵀW).
  auto model = compile("langevin-joint.mlir", kLinearGaussian);
  ASSERT_TRUE(model);
  ASSERT_TRUE(model->hasLangevin());
  std::vector<HostTensor> state = model->initialState(0, HostTensor());
  double W[2][2] = {{0.8, -0.3}, {0.5, 1.2}};
  setParam(*model, state, "theta.W", matrix({2, 2}, {W[0][0], W[0][1], W[1][0], W[1][1]}));
  LangevinOptions options;
  options.steps = 2000;
  options.stepSize = 1e-2;
  options.startTemperature = 1;
  HostTensor start(ElementType::f64, {100, 2});
  HostTensor samples = langevinSamples(*model, state, start, options);
  double mean[2], cov[2][2];
  moments(samples, mean, cov);
  for (int a = 0; a < 2; ++a) {
    EXPECT_NEAR(mean[a], 0.0, 0.12) << "mean " << a;
    for (int b = 0; b < 2; ++b) {
      double expected = (a == b) + W[0][a] * W[0][b] + W[1][a] * W[1][b];
      EXPECT_NEAR(cov[a][b], expected, 0.12 * std::max(1.0, expected))
          << "covariance " << a << b;
    }
  }
}

TEST(Langevin, SamplesTheVisibleConditionalAtFixedLatents) {
  // The BiSM paper's procedure for continuous latents: v from p(v | h) at a
  // fixed h, here N(h W, I). Rows 0-49 hold h₁, rows 50-99 h₂; without
  // given latents the posterior mean at the start is used (A = d = 0: h̄ = 0,
  // so p(v | 0) = N(0, I)).
  auto model = compile("langevin-conditional.mlir", kLinearGaussian);
  ASSERT_TRUE(model);
  std::vector<HostTensor> state = model->initialState(0, HostTensor());
  double W[2][2] = {{0.8, -0.3}, {0.5, 1.2}};
  setParam(*model, state, "theta.W", matrix({2, 2}, {W[0][0], W[0][1], W[1][0], W[1][1]}));
  const double h[2][2] = {{1.5, -0.5}, {-1.0, 2.0}};
  LangevinOptions options;
  options.steps = 2000;
  options.stepSize = 1e-2;
  options.startTemperature = 1;
  options.fixLatents = true;
  options.latents = HostTensor(ElementType::f64, {100, 2});
  for (int64_t i = 0; i < 100; ++i)
    for (int64_t k = 0; k < 2; ++k)
      options.latents.dataAs<double>()[2 * i + k] = h[i / 50][k];
  HostTensor start(ElementType::f64, {100, 2});
  double sum[2][2] = {}, sumSquares[2][2] = {};
  const int chains = 20;
  for (int chain = 0; chain < chains; ++chain) {
    options.seed = uint64_t(200 + chain);
    auto result = model->langevinChain(state, start, options);
    ASSERT_TRUE(bool(result)) << llvm::toString(result.takeError());
    for (int64_t i = 0; i < 100; ++i)
      for (int64_t a = 0; a < 2; ++a) {
        double value = result->elementAsDouble(2 * i + a);
        sum[i / 50][a] += value;
        sumSquares[i / 50][a] += value * value;
      }
  }
  const double n = 50.0 * chains;
  for (int g = 0; g < 2; ++g)
    for (int a = 0; a < 2; ++a) {
      double expected = h[g][0] * W[0][a] + h[g][1] * W[1][a];
      double mean = sum[g][a] / n;
      EXPECT_NEAR(mean, expected, 0.12) << "h" << g << " mean " << a;
      EXPECT_NEAR(sumSquares[g][a] / n - mean * mean, 1.0, 0.15)
          << "h" << g << " variance " << a;
    }

  // Latents of the wrong shape are refused, naming both shapes.
  options.latents = HostTensor(ElementType::f64, {100, 3});
  auto wrong = model->langevinChain(state, start, options);
  ASSERT_FALSE(bool(wrong));
  EXPECT_NE(llvm::toString(wrong.takeError()).find("100x3xf64"),
            std::string::npos);
}

TEST(Langevin, DenoisingStepIsTweediesFormula) {
  // With no Langevin steps the chain is its start plus the denoising step
  // v + σ² ∇_v log p: at fixed h, ∇_v log p(v | h) = h W − v for the
  // linear-Gaussian model; on the GRBM's marginal, −∇F by central
  // differences of the reference free energy.
  const double variance = 0.09;
  {
    auto model = compile("denoise-conditional.mlir", kLinearGaussian);
    ASSERT_TRUE(model);
    std::vector<HostTensor> state = model->initialState(0, HostTensor());
    double W[2][2] = {{0.8, -0.3}, {0.5, 1.2}};
    setParam(*model, state, "theta.W",
             matrix({2, 2}, {W[0][0], W[0][1], W[1][0], W[1][1]}));
    LangevinOptions options;
    options.steps = 0;
    options.fixLatents = true;
    options.denoiseVariance = variance;
    options.latents = randomTensor({100, 2}, 5);
    HostTensor start = randomTensor({100, 2}, 6);
    auto result = model->langevinChain(state, start, options);
    ASSERT_TRUE(bool(result)) << llvm::toString(result.takeError());
    const double *h = options.latents.dataAs<double>();
    for (int64_t i = 0; i < 100; ++i)
      for (int64_t a = 0; a < 2; ++a) {
        double v = start.dataAs<double>()[2 * i + a];
        double mean = h[2 * i] * W[0][a] + h[2 * i + 1] * W[1][a];
        EXPECT_NEAR(result->elementAsDouble(2 * i + a),
                    v + variance * (mean - v), 1e-12);
      }
    options.denoiseVariance = -1;
    auto refused = model->langevinChain(state, start, options);
    EXPECT_FALSE(bool(refused));
    llvm::consumeError(refused.takeError());
  }
  auto model = compile("denoise-grbm.mlir", checkerboardGrbm());
  ASSERT_TRUE(model);
  std::vector<HostTensor> state = model->initialState(0, HostTensor());
  Grbm grbm = Grbm::random(2, 4, 43);
  setGrbm(*model, state, grbm);
  LangevinOptions options;
  options.steps = 0;
  options.denoiseVariance = variance;
  HostTensor start = randomTensor({100, 2}, 7);
  auto result = model->langevinChain(state, start, options);
  ASSERT_TRUE(bool(result)) << llvm::toString(result.takeError());
  const double delta = 1e-5;
  for (int64_t a = 0; a < 2; ++a) {
    HostTensor up = start, down = start;
    for (int64_t i = 0; i < 100; ++i) {
      up.dataAs<double>()[2 * i + a] += delta;
      down.dataAs<double>()[2 * i + a] -= delta;
    }
    HostTensor fUp = grbm.freeEnergy(up), fDown = grbm.freeEnergy(down);
    for (int64_t i = 0; i < 100; ++i) {
      double gradient =
          (fUp.dataAs<double>()[i] - fDown.dataAs<double>()[i]) / (2 * delta);
      EXPECT_NEAR(result->elementAsDouble(2 * i + a),
                  start.dataAs<double>()[2 * i + a] - variance * gradient,
                  1e-7)
          << "row " << i << " coordinate " << a;
    }
  }
}

} // namespace

TEST(Gibbs, LastSweepMeanIsTheMeanOfTheVisibleConditional) {
  // The GRBM's p(v|h) = N(b + σ² W h, σ²): with the last sweep's visible
  // noise zeroed, each row is b + σ² W h for one of the 2^4 latent
  // configurations, and the draw of the same chain (same latents) differs
  // from it by σ ⊙ z, z standard normal.
  auto model = compile("gibbs-mean.mlir", checkerboardGrbm());
  ASSERT_TRUE(model);
  std::vector<HostTensor> state = model->initialState(0, HostTensor());
  Grbm grbm = Grbm::random(2, 4, 43);
  setGrbm(*model, state, grbm);
  HostTensor start = randomTensor({100, 2}, 44, -2.0, 2.0);
  auto mean = model->gibbsChain(state, start, 3, 5, /*lastSweepMean=*/true);
  auto draw = model->gibbsChain(state, start, 3, 5);
  ASSERT_TRUE(bool(mean)) << llvm::toString(mean.takeError());
  ASSERT_TRUE(bool(draw)) << llvm::toString(draw.takeError());

  double sum = 0, sumSquares = 0;
  for (int64_t i = 0; i < 100; ++i) {
    double best = 1e300;
    for (int h = 0; h < 16; ++h) {
      double distance = 0;
      for (int64_t j = 0; j < 2; ++j) {
        double field = 0;
        for (int64_t k = 0; k < 4; ++k)
          field += grbm.W(j, k) * double((h >> k) & 1);
        double expected = grbm.b.dataAs<double>()[j] + field / grbm.P(j);
        distance += std::abs(mean->elementAsDouble(2 * i + j) - expected);
      }
      best = std::min(best, distance);
    }
    EXPECT_LT(best, 1e-12) << "row " << i << " is not a conditional mean";
    for (int64_t j = 0; j < 2; ++j) {
      double z = (draw->elementAsDouble(2 * i + j) -
                  mean->elementAsDouble(2 * i + j)) *
                 std::sqrt(grbm.P(j));
      sum += z;
      sumSquares += z * z;
    }
  }
  // 200 standard normal draws: mean within 4 standard errors, variance near 1.
  EXPECT_LT(std::abs(sum / 200), 4 / std::sqrt(200.0));
  EXPECT_NEAR(sumSquares / 200, 1.0, 0.3);
}
