//===- BuildTrainStep.h - the BiSM training step as bism IR -----*- C++ -*-===//
//
// `buildTrainStep` turns a verified model description (bism::train::ModelInfo,
// from readModel) into functions of the bism dialect that still contain AD
// ops (bism.grad, bism.hvp, bism.stop_gradient); `--bism-autodiff` (run first
// by the CPU pipeline) makes them plain code. docs/training.md has the exact
// formulas. The functions, with M the model's name, T its element type, B the
// batch size, D the visible and H the latent width:
//
//   public:
//   @draw_noise(key: tensor<2xi32>) -> (noise...)
//   @train_step_with_noise(state..., v: [B,D], noise...) -> (state'..., metrics...)
//   @train_step(state..., v: [B,D], key) -> (state'..., metrics...)
//   @theta_gradient_with_noise(state..., v, noise...) -> (∇θ J_Bi per θ param)
//
//   state   = θ params, φ params, m(θ)..., s(θ)..., m(φ)..., s(φ)...,
//             t_theta: tensor<T>, t_phi: tensor<T>   (m, s: Adam moments)
//   metrics = J, G before the K steps, G after the K steps, ‖∇θ J‖  (tensor<T>)
//   noise   = the objective's noise (DSM/MDSM ε or SSM u, [B,D]; none for
//             SM), then the
//             posterior noise of the K plain steps, of the N unrolled steps
//             and of the upper level, each ξ [B,H] (Gaussian) or g1, g2
//             [B,H] (Bernoulli, Gumbel).
//
//   private (x = ṽ = v + σε for DSM, v + σ_b ε for MDSM, v for SSM and SM;
//   pn = one posterior noise; objnoise absent for SM):
//   @M__sample_posterior(x, φ..., pn...) -> h [B,H]
//   @M__log_q(x, h, φ...) -> [B]
//   @M__energy_sum(x, h, θ...) -> T                 Σ_b E(x_b, h_b; θ)
//   @M__neg_log_joint(x, h, θ..., φ...) -> T        Σ_b [E + log q(h|x;φ)]
//   @M__score(x, h, θ..., φ...) -> [B,D]            −∇_x neg_log_joint
//   @M__upper(θ..., φ..., x, objnoise, pn...) -> T   J(θ, φ)
//   @M__lower(θ..., φ..., x, pn...) -> T             G(θ, φ)
//   @M__phi_step(θ..., φ..., m(φ)..., s(φ)..., t_phi, x, pn...)
//       -> (φ'..., m'..., s'..., t_phi')            one optimiser step on G
//   @M__j_bi(θ..., φ⁰..., m(φ)..., s(φ)..., t_phi, x, objnoise,
//            pn_1..., ..., pn_N..., pn_up...) -> T  J(θ, φᴺ(θ))
// With hypergradient = "implicit" (N = 0; Hypergradient.cpp) there is no
// @M__j_bi; instead
//   @M__lower_phi_gradient_dot(θ..., φ..., x, pn..., w...) -> T
//       ⟨∇φ G(θ, φ), w⟩ (w one tensor per φ param)
//   @M__implicit_gradient(θ..., φ..., x, objnoise, pn...)
//       -> (J, ∇θ J..., cg_residual)        at φ = φᴷ, pn the upper noise
// and the metrics end with cg_residual.
//
// Method "marginal" (spec method = "marginal"; s = −∇_x F, no posterior, no
// lower level) emits the same four public functions with
//   state   = θ params, m(θ)..., s(θ)..., t_theta
//   metrics = J, ‖∇θ J‖
//   noise   = the objective's noise only (ε or u; none for SM)
// and the private helpers
//   @M__free_energy_sum(x, θ...) -> T               Σ_b F(x_b; θ)
//   @M__score(x, θ...) -> [B,D]                     −∇_x free_energy_sum
//   @M__upper(θ..., x, objnoise) -> T               J(θ)
//
// Methods "cd" and "pcd" (contrastive divergence on F with k = gibbs_steps
// sweeps of the model's Gibbs function G) emit the same four public
// functions with
//   state   = θ params, m(θ)..., s(θ)..., t_theta, [PCD: chain [B,D]]
//   metrics = fe_gap = mean F(v) − mean F(v_k), ‖∇θ‖
//   noise   = per sweep i = 0..k−1: u_h [B,H] (uniform), z_v [B,D] (normal)
// and the private helpers
//   @M__free_energy_sum(x, θ...) -> T               Σ_b F(x_b; θ)
//   @M__gibbs_chain(x, θ..., u_h_0, z_v_0, ...) -> [B,D]   k sweeps of G
//   @M__cd_objective(θ..., v, v_k) -> T
//       mean_b F(v_b) − mean_b F(stop_gradient(v_k)_b)
// The θ gradient is a bism.grad of @M__cd_objective.
//
// Method "vages" (K plain φ steps as above, then the θ gradient from L =
// particles posterior samples h_i at x = ṽ; no unrolled steps, N = 0) emits
// the same four public functions with BiSM's state and metrics and
//   noise   = ε [B,D], the posterior noise of the K plain steps and of the
//             lower-level metrics ("lower"), each [B,H] as above, then the
//             particles' noise [L,B,H]: u (hard Bernoulli, uniform), g1, g2
//             (relaxed Bernoulli, Gumbel) or ξ (Gaussian)
// and, besides the BiSM helpers up to @M__phi_step (no score, upper, j_bi),
//   @M__sample_hard(x, φ..., u) -> h                h = [u < sigmoid(ℓ)]
//   @M__vages_surrogate(θ..., x, h, w, ḡ) -> T       one particle's surrogate
//   @M__vages_gradient(θ..., φ..., x, ε, particle noise...) -> (J, ∇θ...)
// The last loops over the particles with scf.for (the energy's batch is
// fixed): pass 1 sums g_i = ∇_x log p̃(x, h_i), pass 2 sums the bism.grad of
// the surrogate in θ (docs/training.md "Method vages").
//
// Method "bidvl" (a marginal energy E, a Gaussian inference model and a
// generator G; docs/training.md "Method bidvl") emits the same four public
// functions with BiSM's state and metrics and
//   noise   = ĥ ("generator.h"), ξ per unrolled step ("unroll0.xi", ...; N =
//             unroll_steps, default 0 for this method), ξ per lower step
//             ("lower0.xi", ...), each [B,H] N(0, I)
// and the private helpers
//   @M__upper(θ..., v, x̂) -> T                      mean E(v) − mean E(x̂)
//   @M__lower(θ..., φ..., v, ĥ, ξ) -> T              the lower-level loss
//   @M__phi_step(θ..., φ..., m(φ)..., s(φ)..., t_phi, v, ĥ, ξ) -> (...)
//   N > 0: @M__unroll_step (unroll_optimizer = "sgd", as BiSM's) and
//   @M__j_bi(θ..., φ⁰..., m(φ)..., s(φ)..., t_phi, v, ĥ, ξ_0, ..., ξ_{N−1})
//       -> T                                        upper(θ, v, G(ĥ; φᴺ(θ)))
// θ's gradient is a bism.grad of @M__upper at x̂ = stop_gradient(G(ĥ; φ))
// (N = 0) or of @M__j_bi (N > 0); the K lower steps follow, from φᴺ.
//
// With several models in one module the public names get the prefix
// "M__" as well (BuildTrainStepOptions::publicPrefix).
//
//===----------------------------------------------------------------------===//
#ifndef BISM_TRAIN_BUILDTRAINSTEP_H
#define BISM_TRAIN_BUILDTRAINSTEP_H

#include "bism/Train/Model.h"

#include <string>
#include <vector>

namespace bism::train {

struct BuildTrainStepOptions {
  /// Prepended to `train_step`, `train_step_with_noise`, `draw_noise` and
  /// `theta_gradient_with_noise`.
  std::string publicPrefix;
  /// Data parallel (docs/training.md, "Data parallel"): this process is
  /// rank `rank` of `ranks`, and the model's batch (already specialised to
  /// the local size B) is rows [rank·B, (rank+1)·B) of a global batch of
  /// ranks·B. With ranks > 1 the step averages its batch-mean gradients
  /// (θ's and every φ step's) and its metrics over the ranks with
  /// bism.all_reduce_mean, and draws this rank's rows of the global
  /// batch's noise, so every rank keeps the same state and P ranks compute
  /// what one process computes on the global batch.
  int64_t rank = 0, ranks = 1;
};

/// Why method/objective of `info` cannot be trained data-parallel (empty:
/// it can): the step must be a mean over independent samples.
std::string dataParallelUnsupported(const ModelInfo &info);

/// The names of the generated functions.
struct TrainStepNames {
  std::string trainStep, trainStepWithNoise, drawNoise, thetaGradientWithNoise;
  /// Private helpers, "<model>__<what>".
  std::string samplePosterior, logQ, energySum, negLogJoint, score, upper,
      lower, phiStep, unrollStep, jBi;
  /// Method bism with hypergradient = "implicit":
  /// "<model>__implicit_gradient", "<model>__lower_phi_gradient_dot".
  std::string implicitGradient, lowerPhiGradientDot;
  /// Method marginal: "<model>__free_energy_sum" (score and upper are
  /// shared with the names above).
  std::string freeEnergySum;
  /// Methods cd and pcd: "<model>__gibbs_chain", "<model>__cd_objective".
  std::string gibbsChain, cdObjective;
  /// Method vages: "<model>__sample_hard", "<model>__vages_gradient",
  /// "<model>__vages_surrogate".
  std::string sampleHard, vagesGradient, vagesSurrogate, scoreObjective;
};
TrainStepNames trainStepNames(const ModelInfo &info,
                              const BuildTrainStepOptions &options = {});

/// A named tensor in the step's signature.
struct NamedType {
  std::string name;
  mlir::RankedTensorType type;
};

/// The calling convention of the generated step (for the runtime).
struct TrainStepSignature {
  /// θ, φ, m_θ, s_θ, m_φ, s_φ, t_theta, t_phi (names "theta.W", "m_theta.W",
  /// "t_theta", ...).
  std::vector<NamedType> state;
  NamedType batch;
  /// In the order @draw_noise returns them ("eps" or "u" (none for SM),
  /// "inner0.xi" or
  /// "inner0.g1"/"inner0.g2", "unroll0.xi", ..., "upper.xi").
  std::vector<NamedType> noise;
  /// VaGES: "eps", "inner0.g1", ..., "lower.g1"/"lower.g2" (or
  /// "lower.xi"), then "particles.u" (or "particles.g1"/"particles.g2",
  /// "particles.xi"), [L,B,H]. BiDVL: "generator.h", "unroll0.xi", ...,
  /// "lower0.xi", ....
  /// "J", "lower_before", "lower_after", "grad_norm_theta" (marginal: "J",
  /// "grad_norm_theta"; its state is θ, m_θ, s_θ, t_theta; cd and pcd:
  /// "fe_gap", "grad_norm_theta", state θ, m_θ, s_θ, t_theta and, for pcd,
  /// "chain"; noise "gibbs0.u_h", "gibbs0.z_v", "gibbs1.u_h", ...).
  /// Method bism with hypergradient = "implicit" appends "cg_residual".
  std::vector<NamedType> metrics;
};
TrainStepSignature trainStepSignature(const ModelInfo &info);

/// MDSM: σ_b for batch positions b = 0..B−1, from sigmaMin to sigmaMax,
/// geometric (exp of a linspace of the logs) or linear (linspace); B = 1
/// gives sigmaMin.
std::vector<double> mdsmSigmas(const TrainSpec &spec, int64_t batchSize);

/// Emits the functions above into `module` (at its end). Fails, with an error
/// at the model's location, if a name is taken or the spec is unsupported.
llvm::LogicalResult buildTrainStep(mlir::ModuleOp module, const ModelInfo &info,
                                   const BuildTrainStepOptions &options = {});

/// The evaluation functions bism-run calls (eval, sample), public:
///   @eval_score(x [B,D], θ_F...) -> [B,D]            s = −∇_x F(x)
///   @eval_ssm(x [B,D], u [B,D], θ_F...) -> [B]       per sample
///       ½‖s‖² − uᵀ(∇²_x F)u: the SSM objective with the exact marginal
///       score (the test "SSM score"; E_u of it is the Fisher divergence
///       to the data up to a data-only constant)
///   @eval_posterior_fisher(x, ξ [B,H], θ..., φ...) -> [B]   per sample
///       ½‖∇_h (E(x,h;θ) + log q(h|x;φ))‖² at h = μ + e^{logσ} ξ: the
///       Fisher divergence of q(h|x) from p(h|x) (a gaussian posterior)
///   @eval_energy_gradient(x, h, θ...) -> (∇_x ΣE, ∇_h ΣE)  (Langevin
///       sampling: jointly on (x, h) for continuous latents, on x at fixed
///       h for binary ones)
///   @eval_posterior_mean(x, φ...) -> [B,H]   E_q[h | x]: μ (gaussian) or
///       sigmoid of the logits (bernoulli)
///   @eval_approximate_ssm(x, u, posterior noise..., θ..., φ...) -> [B]
///       ½‖s‖² − uᵀ(∇ₓ s)u with s the score through h ~ q(h|x) (BiSSM's
///       upper level at φ): a test score-matching loss for models without
///       a free energy
///   @eval_objective(v, objective noise..., posterior noise..., θ..., φ...)
///       -> [B]   the training objective's per-sample loss (the upper
///       level's, at φ: ε for DSM/MDSM with x = v + σε, u for SSM, none for
///       SM), the test counterpart of the loss J
/// θ_F are the free energy's parameters in its clause's order, θ and φ the
/// energy's and the posterior's. The first two exist when the model has a
/// free energy; the posterior Fisher divergence for methods bism and vages
/// with a gaussian posterior; the energy gradient and the posterior mean for
/// methods bism and vages with any posterior, and the last two for those
/// without a free energy. Private helpers are named "<model>__eval__<what>".
struct EvaluationNames {
  std::string score, ssm, posteriorFisher, energyGradient, posteriorMean,
      approximateSsm, objective;
};
EvaluationNames evaluationNames(const BuildTrainStepOptions &options = {});
/// Which of the functions above `info` gets.
bool hasScoreEvaluation(const ModelInfo &info);
/// The posterior Fisher divergence (a gaussian posterior).
bool hasLatentEvaluation(const ModelInfo &info);
/// The energy gradient and the posterior mean (an energy and a posterior).
bool hasEnergyGradientEvaluation(const ModelInfo &info);
/// The approximate SSM and the objective (an energy and a posterior, no free
/// energy).
bool hasApproximateSsmEvaluation(const ModelInfo &info);
llvm::LogicalResult
buildEvaluationFunctions(mlir::ModuleOp module, const ModelInfo &info,
                         const BuildTrainStepOptions &options = {});

} // namespace bism::train

#endif // BISM_TRAIN_BUILDTRAINSTEP_H
