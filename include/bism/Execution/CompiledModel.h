//===- CompiledModel.h - a model file, built and compiled -------*- C++ -*-===//
//
// What bism-run works from: a model file read, its spec overridden
// (`--set key=value`), verified, its training step built and everything
// JIT-compiled, exposed through the runtime's calling conventions
// (runtime::TrainProgram, plain HostTensors) so the host loop stays free of
// compiler types.
//
//===----------------------------------------------------------------------===//
#ifndef BISM_EXECUTION_COMPILEDMODEL_H
#define BISM_EXECUTION_COMPILEDMODEL_H

#include "bism/Execution/JitModule.h"
#include "bism/Train/Model.h"
#include "bism/runtime/Trainer.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace bism {

class CompiledModel;

/// A file a model was read from: the model file (by its file name) and each
/// ONNX file it names (by the path written in the model, relative to it).
struct ModelSourceFile {
  std::string name;
  std::string text;
};

struct ModelLoadOptions {
  std::string path;
  /// "key=value" spec overrides, applied in order. Values parse as MLIR
  /// attributes (10, 1e-3, [0.9, 0.99], "dsm") or else as a bare string
  /// (dsm); K, N and L stand for inner_steps, unroll_steps and particles.
  std::vector<std::string> overrides;
  /// Which bism.model when the file has several (empty: the only one).
  std::string modelName;
  JitOptions jit;
  /// Compile the training step (false: only the evaluation functions).
  bool withTrainStep = true;
  /// Data parallel: the step of rank `rank` of `ranks`, on its rows of the
  /// spec's (global) batch_size, which `ranks` must divide
  /// (BuildTrainStepOptions). batchSize() is then the rank's share.
  int64_t rank = 0, ranks = 1;
  /// Called with the model read (info(), visibleDims(), batchSize()) before
  /// anything is compiled, e.g. to check the data set; an error stops load.
  std::function<llvm::Error(const CompiledModel &)> beforeCompile;
};

/// Annealed importance sampling of log Z (CompiledModel::aisLogPartition).
struct AisOptions {
  /// Chains (rounded up to a multiple of the batch size) and intermediate
  /// distributions β = 0, 1/(steps−1), ..., 1: the BiSM paper's code uses
  /// 2000 of each.
  int64_t chains = 2000, steps = 2000;
  uint64_t seed = 0;
  /// Called every `steps / 10` transitions with (done, steps).
  std::function<void(int64_t, int64_t)> progress;
};

struct AisEstimate {
  double logZ = 0;
  /// log Z of the base model (β = 0).
  double logZBase = 0;
  /// Standard error of log Z from the spread of the importance weights
  /// (delta method: sd(w) / (mean(w) √n)); it understates the error when the
  /// weights are dominated by a few chains, which the ESS shows.
  double standardError = 0;
  /// Effective sample size (Σw)² / Σw² of the n chains.
  double effectiveSampleSize = 0;
  int64_t chains = 0, steps = 0;
};

/// Annealed Langevin dynamics x ← x − η ∇U(x) / T_t + √(2η) z, U = F(v)
/// (models with a free energy), E(v, h) on (v, h) jointly (continuous
/// latents, h starting at 0), or E(v, h̄) on v with h̄ the posterior mean at
/// the start points (binary latents; the BiSM paper's sampling, its
/// Appendix B.2); T_t falls geometrically from
/// `startTemperature` to 1 over the first `annealFraction` of the steps and
/// stays 1 after.
struct LangevinOptions {
  int64_t steps = 1000;
  double stepSize = 1e-4;
  double startTemperature = 10.0;
  double annealFraction = 0.9;
  uint64_t seed = 0;
  /// Energy + posterior models: sample v from p(v | h) at fixed h (the BiSM
  /// paper's procedure) instead of (v, h) jointly. Binary latents are always
  /// fixed, since Langevin needs a gradient in h.
  bool fixLatents = false;
  /// The fixed h ([B, H]); none (default-constructed): the posterior mean
  /// E_q[h | start].
  runtime::HostTensor latents;
  /// > 0: end with one denoising step v += σ² ∇_v log p(v) (Tweedie's
  /// formula for a score learned by DSM/MDSM at noise variance σ²).
  double denoiseVariance = 0;
};

class CompiledModel {
public:
  ~CompiledModel();
  static llvm::Expected<std::unique_ptr<CompiledModel>>
  load(const ModelLoadOptions &options);

  const train::ModelInfo &info() const { return info_; }
  /// Whether compiling hit the object cache (JitModule::cacheOutcome).
  CacheOutcome cacheOutcome() const { return jit_->cacheOutcome(); }
  /// The memory of one training step: the planned arena of its temporaries
  /// (-1 if not planned) and the bytes of its inputs and outputs (state,
  /// batch, key, metrics), which the runtime holds.
  struct StepMemory {
    int64_t arenaBytes = -1;
    int64_t inputOutputBytes = 0;
  };
  StepMemory trainStepMemory() const;
  /// The resolved spec as a JSON object (defaults + file + overrides).
  const std::string &configJson() const { return configJson_; }
  /// The model file, then the ONNX files it names, as read: what a
  /// checkpoint stores so that it can be evaluated without them.
  const std::vector<ModelSourceFile> &sources() const { return sources_; }
  /// The visible width D and the batch size B the functions were built for.
  int64_t visibleDims() const;
  int64_t batchSize() const { return info_.batchSize(); }
  runtime::ElementType elementType() const;

  /// train_step with its state layout and metrics ("J" is the loss).
  runtime::TrainProgram trainProgram();
  /// Parameters from their initialisers (Philox, keyed by `seed` and the
  /// parameter's position), moments and counters zero, a PCD chain from the
  /// first `B` rows of `data`.
  std::vector<runtime::HostTensor> initialState(uint64_t seed,
                                                const runtime::HostTensor &data) const;
  /// The state tensors' specs, in train_step order.
  const std::vector<runtime::TensorSpec> &stateSpecs() const { return state_; }

  /// Free energies F(v) of the rows of `points` ([n, D] f64), as f64 [n].
  llvm::Expected<std::vector<double>>
  freeEnergies(const std::vector<runtime::HostTensor> &state,
               const runtime::HostTensor &points);
  bool hasFreeEnergy() const { return !freeEnergy_.name.empty(); }
  /// Exact log Z = logsumexp over h ∈ {0,1}^H of component_log_mass(h).
  bool hasExactLogPartition() const;
  llvm::Expected<double> logPartition(const std::vector<runtime::HostTensor> &state);
  /// Mean exact log-likelihood of the rows of `points`.
  llvm::Expected<double>
  exactLogLikelihood(const std::vector<runtime::HostTensor> &state,
                     const runtime::HostTensor &points);
  /// `sweeps` Gibbs sweeps of the model's `gibbs` function from `start`
  /// ([B, D]); noise from Philox with `seed`. With `lastSweepMean` the last
  /// sweep gets z_v = 0: since a gibbs function draws v′ = mean + std ⊙ z_v
  /// (docs/training.md), that is the mean of p(v | h) at the last h, the
  /// picture without the pixel noise of a draw.
  bool hasGibbs() const { return !gibbs_.name.empty(); }
  /// Method bidvl: G(h) of the rows of `latents` ([n, H]), as f64 [n, D].
  bool hasGenerator() const { return !generator_.name.empty(); }
  llvm::Expected<runtime::HostTensor>
  generate(const std::vector<runtime::HostTensor> &state,
           const runtime::HostTensor &latents);
  /// Method bidvl: `count` samples G(h), h ~ N(0, I) drawn from `seed`.
  llvm::Expected<runtime::HostTensor>
  sampleGenerator(const std::vector<runtime::HostTensor> &state, int64_t count,
                  uint64_t seed);
  /// Method bidvl: G(μ_q(v)), the generator at the inference model's mean,
  /// of the rows of `points` ([n, D]), as f64 [n, D].
  llvm::Expected<runtime::HostTensor>
  reconstruct(const std::vector<runtime::HostTensor> &state,
              const runtime::HostTensor &points);
  int64_t latentWidth() const {
    return info_.latentType ? info_.latentType.getDimSize(1) : 0;
  }
  llvm::Expected<runtime::HostTensor>
  gibbsChain(const std::vector<runtime::HostTensor> &state,
             const runtime::HostTensor &start, int64_t sweeps, uint64_t seed,
             bool lastSweepMean = false);

  /// AIS from the base model (the spec's `ais_anneal` parameters zero) to
  /// the model, with Gibbs transitions at each β (the model's `gibbs`
  /// function on the scaled parameters) and the base's log Z from
  /// `component_log_mass` (checked to be the same for every configuration).
  bool hasAis() const;
  llvm::Expected<AisEstimate>
  aisLogPartition(const std::vector<runtime::HostTensor> &state,
                  const AisOptions &options);

  /// Mean over the rows of `points` of the SSM objective with the exact
  /// marginal score, ½‖∇F‖² − uᵀ∇²F u, with `projections` draws of u (the
  /// spec's projection distribution) per row, keyed by `seed`: the test
  /// "SSM score" (lower is better). Models with a free energy.
  bool hasSsmScore() const { return !evalSsm_.name.empty(); }
  llvm::Expected<double> ssmScore(const std::vector<runtime::HostTensor> &state,
                                  const runtime::HostTensor &points,
                                  int64_t projections, uint64_t seed);
  /// Mean over the rows of `points` and `draws` latent draws h ~ q(h|v) of
  /// ½‖∇_h log q(h|v) − ∇_h log p(h|v)‖² (continuous latents).
  bool hasPosteriorFisher() const { return !evalPosteriorFisher_.name.empty(); }
  /// Models with an energy and a posterior but no free energy: the mean
  /// over the rows of `points` of the SSM objective with the score through
  /// h ~ q(h|v) (BiSSM's upper level at the current φ), `projections` draws
  /// of u and of the posterior noise per row: a test score-matching loss
  /// (lower is better; biased by q's error, unlike the SSM score).
  bool hasApproximateSsm() const { return !evalApproximateSsm_.name.empty(); }
  llvm::Expected<double>
  approximateSsm(const std::vector<runtime::HostTensor> &state,
                 const runtime::HostTensor &points, int64_t projections,
                 uint64_t seed);
  /// The same models: the mean over the rows of `points` of the training
  /// objective's per-sample loss at the current φ (the upper level's J with
  /// the model's objective and noise), `draws` draws of its noise per row:
  /// the test counterpart of the training loss J (which the bi-level step
  /// takes after K steps of φ on the batch, so it runs a little lower).
  bool hasTestObjective() const { return !evalObjective_.name.empty(); }
  llvm::Expected<double>
  testObjective(const std::vector<runtime::HostTensor> &state,
                const runtime::HostTensor &points, int64_t draws,
                uint64_t seed);
  llvm::Expected<double>
  posteriorFisher(const std::vector<runtime::HostTensor> &state,
                  const runtime::HostTensor &points, int64_t draws,
                  uint64_t seed);

  /// E_q[h | v] of the rows of `points` ([B, D]): μ (gaussian) or the
  /// sigmoid of the logits (bernoulli); energy + posterior models.
  llvm::Expected<runtime::HostTensor>
  posteriorMean(const std::vector<runtime::HostTensor> &state,
                const runtime::HostTensor &points);

  /// Annealed Langevin chains from `start` ([B, D]); returns the v part.
  bool hasLangevin() const {
    return !evalScore_.name.empty() || !evalEnergyGradient_.name.empty();
  }
  llvm::Expected<runtime::HostTensor>
  langevinChain(const std::vector<runtime::HostTensor> &state,
                const runtime::HostTensor &start,
                const LangevinOptions &options);

private:
  CompiledModel();
  /// A model function compiled for calls: its θ arguments, by state index.
  struct Callable {
    std::string name;
    std::vector<size_t> stateIndices;
  };
  llvm::Error resolveCallable(mlir::func::FuncOp func, mlir::ArrayAttr params,
                              Callable &callable);
  std::vector<const runtime::HostTensor *>
  callArguments(const Callable &callable,
                const std::vector<runtime::HostTensor> &state,
                std::vector<const runtime::HostTensor *> leading) const;

  std::unique_ptr<mlir::MLIRContext> context_;
  mlir::OwningOpRef<mlir::ModuleOp> module_;
  train::ModelInfo info_;
  std::string configJson_;
  std::vector<ModelSourceFile> sources_;
  std::vector<runtime::TensorSpec> state_;
  runtime::TensorSpec batch_;
  std::vector<std::string> metrics_;
  std::string trainStepName_;
  /// Calls `callable` on the rows of `points` in batches (the last padded
  /// with its first row) with `noise` tensors after the batch, refilled per
  /// batch by `fill(noiseChunk, firstRow)`: the batch is rows [firstRow,
  /// firstRow + B) of noise chunk `noiseChunk`, chunks of noiseChunkRows_
  /// rows (the global batch), so that a data-parallel rank draws the noise
  /// one process would; returns the per-row results.
  llvm::Expected<std::vector<double>>
  perRow(const Callable &callable, const std::vector<runtime::HostTensor> &state,
         const runtime::HostTensor &points,
         std::vector<runtime::HostTensor> &noise,
         const std::function<void(int64_t, int64_t)> &fill);
  /// The rows of one evaluation noise chunk: the global batch.
  int64_t noiseChunkRows_ = 0;

  /// A noise argument: [B, width] draws of `draw` (CompiledModel.cpp's
  /// Draw).
  struct NoiseSpec {
    int64_t width;
    int draw;
  };
  /// The draw of the spec's SSM projections u (a Draw, as NoiseSpec::draw).
  int projectionDraw() const;
  /// The posterior's noise per latent draw: ξ (gaussian) or two Gumbel
  /// tensors (bernoulli).
  void appendPosteriorNoise(std::vector<NoiseSpec> &noise) const;
  /// The mean over the rows of `points` and `draws` noise draws of
  /// `callable(x, noise..., params...)`.
  llvm::Expected<double> meanOverDraws(const Callable &callable,
                                       const std::vector<runtime::HostTensor> &state,
                                       const runtime::HostTensor &points,
                                       const std::vector<NoiseSpec> &noise,
                                       int64_t draws, uint64_t seed);

  Callable freeEnergy_, componentLogMass_, gibbs_, generator_, inference_;
  /// The rows of `inputs` through `callable`'s first argument in B-row
  /// batches (the last padded with its first row), the state after it;
  /// result `resultIndex` of its `resultShapes` ([B, width] each) gathered
  /// as f64 [n, width]. `then`, when given, maps that result through a
  /// second callable of one [B, ·] argument and one [B, D] result.
  llvm::Expected<runtime::HostTensor>
  mapRows(const Callable &callable, const std::vector<runtime::HostTensor> &state,
          const runtime::HostTensor &inputs,
          const std::vector<std::vector<int64_t>> &resultShapes,
          size_t resultIndex, const Callable *then);
  Callable evalScore_, evalSsm_, evalPosteriorFisher_, evalEnergyGradient_,
      evalPosteriorMean_, evalApproximateSsm_, evalObjective_;
  int64_t latentDims_ = 0;
  std::unique_ptr<JitModule> jit_;
};

} // namespace bism

#endif // BISM_EXECUTION_COMPILEDMODEL_H
