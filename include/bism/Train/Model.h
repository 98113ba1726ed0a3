//===- Model.h - a model file, read and verified ----------------*- C++ -*-===//
//
// A model file is a module holding the energy and posterior functions and one
// `bism.model` op that declares the parameters, names the functions and
// carries the training spec (see docs/training.md and
// examples/grbm/checkerboard.mlir). `readModel` verifies all of it and
// returns the plain description the step builder works from.
//
//===----------------------------------------------------------------------===//
#ifndef BISM_TRAIN_MODEL_H
#define BISM_TRAIN_MODEL_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"

#include <string>
#include <vector>

namespace bism {
class ModelOp;
}

namespace bism::train {

/// θ: energy parameters; φ: posterior parameters.
enum class ParamGroup { Theta, Phi };

enum class Initializer { Zeros, Constant, Value, Normal, Uniform, KaimingUniform };

struct ParamInfo {
  std::string name;
  mlir::RankedTensorType type;
  ParamGroup group;
  Initializer init;
  /// Constant: value; Normal: mean, std; Uniform: low, high;
  /// KaimingUniform: bound = gain * sqrt(3 / fan_in) with fan_in = dim 0 (a
  /// = gain, default 1).
  double a = 0.0, b = 0.0;
  /// Value: the initial tensor, row-major (ONNX initializers, hand-written
  /// `init = "value"`).
  std::vector<double> values;
};

enum class PosteriorKind {
  /// h = mu(v) + exp(logstd(v)) * xi; the posterior function returns
  /// (mu, logstd), both [B, H].
  Gaussian,
  /// Relaxed Bernoulli at temperature tau; the posterior function returns
  /// the logits l, [B, H]: h = sigmoid((l + g1 - g2) / tau) with g Gumbel,
  /// log q = sum(h * l - softplus(l)).
  Bernoulli,
};

/// BiSM: the bi-level step (energy + posterior). Marginal: score matching
/// on the free energy F(v; θ), s = −∇_v F (no posterior, no lower level).
/// CD / PCD: contrastive divergence on F with k Gibbs sweeps of the model's
/// conditionals (the `gibbs` function), from the data batch (CD) or from a
/// persistent chain carried in the step's state (PCD). VaGES: the K plain φ
/// steps of BiSM, then a θ gradient from L posterior particles (the VaES
/// score estimate and its covariance correction, no unrolling).
/// Importance: method marginal with the free energy estimated by
/// importance sampling from L uniform binary latents (the IS-KSD baseline
/// of the VaGES paper).
/// BiDVL: a marginal energy (the free energy clause), a Gaussian inference
/// model (the posterior) and a generator, trained bi-level with the
/// generator as the EBM's negative sampler (Kan et al., CVPR 2022).
enum class Method { BiSM, Marginal, CD, PCD, VaGES, Importance, BiDVL };
/// The spec's spelling of a method ("bism", "marginal", ...).
const char *methodName(Method method);

/// KSD: the kernelized Stein discrepancy of the model's score on the
/// minibatch (U-statistic, RBF kernel), for methods marginal and vages.
enum class Objective { SM, SSM, DSM, MDSM, KSD };
/// Upper bounds of the counts the step builder unrolls (K plain φ steps, N
/// differentiated ones, CD's Gibbs sweeps, VaGES particles): far above any
/// published setting, far below what exhausts memory while compiling.
constexpr int64_t kMaxInnerSteps = 1000, kMaxUnrollSteps = 200,
                  kMaxGibbsSteps = 1000, kMaxParticles = 10000;
/// Method importance unrolls its L energies into the estimate (the
/// gradient goes through them), so L stays small.
constexpr int64_t kMaxImportanceParticles = 100;
/// SM's exact Hessian trace costs one Hessian-vector product per visible
/// dimension; above this many, SSM or DSM is the sensible choice.
constexpr int64_t kMaxExactTraceDims = 64;
enum class NoiseSchedule { Geometric, Linear };
enum class Projection { Rademacher, Gaussian };
enum class Divergence { KL, Fisher };
enum class OptimizerKind { Adam, SGD };
/// VaGES with a Bernoulli posterior: hard 0/1 particles h = [u < sigmoid(ℓ)]
/// or relaxed ones as in BiSM.
enum class VagesSampling { Hard, Relaxed };
/// VaGES: independent groups of L particles for the score estimate, the
/// expected second derivative and the covariance (as published), or one
/// group for all three.
enum class VagesGroups { Independent, Shared };
/// Method bism: how ∇θ J_Bi accounts for φ's dependence on θ: through the N
/// unrolled φ steps, or by the implicit function theorem at φ after the K
/// steps, with a conjugate-gradient solve against the φ-Hessian of G.
enum class Hypergradient { Unrolled, Implicit };
/// The CG iterations are unrolled into the step (one Hessian-vector product
/// of G each).
constexpr int64_t kMaxCgIterations = 200;

struct OptimizerSpec {
  OptimizerKind kind = OptimizerKind::Adam;
  double learningRate = 1e-3;
  double beta1 = 0.9, beta2 = 0.95, epsilon = 1e-8;
};

/// The training spec: every field has a default and can be set from the model
/// file (`bism.model ... spec {key = value}`) or overridden by name.
struct TrainSpec {
  Method method = Method::BiSM;
  Objective objective = Objective::DSM;
  /// DSM: the noise standard deviation sigma.
  double noiseStd = 0.3;
  /// MDSM: per-sample sigma at batch position i from a geometric (logspace)
  /// or linear range [sigmaMin, sigmaMax] over the batch, and the fixed
  /// sigma0 (as in the MDSM paper's released code).
  NoiseSchedule noiseSchedule = NoiseSchedule::Geometric;
  double sigmaMin = 0.05, sigmaMax = 0.5, sigma0 = 0.1;
  /// KSD: the RBF kernel's bandwidth h, k(x, y) = exp(−‖x − y‖²/(2h²)):
  /// the median heuristic (h = the median distance between the minibatch's
  /// points, each step; `ksd_bandwidth = "median"`, the default) or fixed.
  bool ksdMedianBandwidth = true;
  double ksdBandwidth = 0.1;
  /// SSM: the distribution of the projection u.
  Projection projection = Projection::Rademacher;
  Divergence divergence = Divergence::KL;
  /// K: plain φ updates per minibatch; N: differentiable (unrolled) ones.
  /// readSpec's defaults differ by method: BiDVL K = 1, N = 0; VaGES N = 0.
  int64_t innerSteps = 5;
  int64_t unrollSteps = 5;
  /// CD / PCD: k, Gibbs sweeps per step.
  int64_t gibbsSteps = 1;
  /// VaGES: L posterior particles (>= 2, for the sample covariance) and how
  /// a Bernoulli posterior draws them. VaGES has N = 0 (unrollSteps).
  int64_t particles = 10;
  VagesSampling vagesSampling = VagesSampling::Hard;
  VagesGroups vagesGroups = VagesGroups::Independent;
  OptimizerSpec thetaOptimizer, phiOptimizer;
  /// The N unrolled φ steps: plain gradient steps φⁿ = φⁿ⁻¹ − α ∇φ G with
  /// α = unrollLearningRate (the BiSM paper's Eqn. 13; `unroll_optimizer =
  /// "sgd"`, the default), or steps of the φ optimiser continuing its state
  /// (`"same"`, as the K plain steps).
  bool unrollWithPhiOptimizer = false;
  /// α of the plain unrolled steps (`unroll_lr`; default lr_phi).
  double unrollLearningRate = 1e-3;
  /// Which φⁿ the reverse sweep through the N unrolled steps keeps
  /// (`unroll_checkpoint`: "none", "every:K", "sqrt", "binomial[:S]"; the
  /// bism.checkpoint schedule of autodiff::parseCheckpointSchedule): the
  /// others are recomputed, trading time for memory. The gradient is the
  /// same either way.
  std::string unrollCheckpoint = "none";
  /// Method bism: `hypergradient`; with Implicit, N = 0 and ∇θ J_Bi =
  /// ∂J/∂θ − (∂²G/∂θ∂φ)ᵀ v with (∂²G/∂φ² + λI) v = ∂J/∂φ solved by
  /// `cgIterations` CG steps, λ = `cgDamping` (docs/training.md).
  Hypergradient hypergradient = Hypergradient::Unrolled;
  int64_t cgIterations = 10;
  double cgDamping = 0.0;
  int64_t iterations = 20000;
  uint64_t seed = 0;
  std::string dataset;
  /// AIS (bism-run eval --ll ais): the θ parameters scaled by β ∈ [0, 1]
  /// between the base model (all of them zero; its latents must then be
  /// independent of v, as a GRBM's are with W = 0 and c = 0) and the model.
  std::vector<std::string> aisAnneal;
  /// θ parameters the energy uses spectrally normalised (SpectralNorm.h).
  std::vector<std::string> spectralNorm;
  int64_t spectralNormIterations = 10;
  /// BiDVL: λ, the basic importance ratio weighting the data-side (VAE)
  /// term of the lower level, and whether each sample's weight also takes
  /// the bias term clamp(exp(mean_b E − E(v_b)), 0.8, 1.2).
  double bidvlBasicRatio = 0.05;
  bool bidvlBiasTerm = false;
};

/// Everything the step builder needs, verified.
struct ModelInfo {
  std::string name;
  /// BiSM, VaGES: θ parameters in the energy's argument order, then φ
  /// parameters in the posterior's argument order. Marginal: θ parameters in the free
  /// energy's argument order (φ parameters, if declared, are unused).
  std::vector<ParamInfo> params;
  /// Marginal, CD, PCD: F(v [B,D], θ...) -> per-sample free energies [B].
  /// BiSM, VaGES: the optional free_energy clause (θ listed in its own
  /// order), used only by the evaluation functions.
  mlir::func::FuncOp freeEnergy;
  /// CD, PCD: one Gibbs sweep G(v [B,D], θ_G..., u_h [B,H], z_v [B,D]) ->
  /// v' [B,D]; θ_G are the θ parameters at positions `gibbsParams` of
  /// `params`, in G's argument order.
  mlir::func::FuncOp gibbs;
  std::vector<size_t> gibbsParams;
  /// Optional, for exact log-likelihoods: C(hs [C,H], θ_C...) -> [C], per
  /// binary latent configuration h (row of hs) log ∫ exp(−E(v, h; θ)) dv;
  /// θ_C are the θ parameters at positions `componentLogMassParams` of
  /// `params`. Null when the model has no `component_log_mass` clause.
  mlir::func::FuncOp componentLogMass;
  std::vector<size_t> componentLogMassParams;
  /// E(v [B,D], h [B,H], θ...) -> per-sample energies [B].
  mlir::func::FuncOp energy;
  /// Posterior network (v [B,D], φ...) -> logits or (mu, logstd).
  mlir::func::FuncOp posterior;
  /// BiDVL: the generator G(h [B,H], φ_G...) -> v [B,D]; φ_G are the φ
  /// parameters at positions `generatorParams` of `params`.
  mlir::func::FuncOp generator;
  std::vector<size_t> generatorParams;
  PosteriorKind posteriorKind = PosteriorKind::Gaussian;
  double temperature = 0.1;
  /// The visible and latent types: [B, D] and [B, H] (f32 or f64); the
  /// latent type is null for method Marginal and the type of G's u_h for
  /// CD and PCD.
  mlir::RankedTensorType visibleType, latentType;
  TrainSpec spec;

  int64_t batchSize() const { return visibleType.getDimSize(0); }
  size_t numTheta() const;
  size_t numPhi() const;
};

/// Verifies `model` (parameters, functions and their signatures, spec) and
/// returns its description; errors are emitted at the offending op or field.
llvm::FailureOr<ModelInfo> readModel(ModelOp model);

} // namespace bism::train

#endif // BISM_TRAIN_MODEL_H
