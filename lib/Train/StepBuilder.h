//===- StepBuilder.h - the builder the training methods share -*- C++ -*-===//
//
// Private to lib/Train. StepBuilder emits a model's training step in the bism
// dialect. BuildTrainStep.cpp holds the shared pieces (posterior, energy,
// objectives, optimisers, noise, the public step functions) and method
// "bism" (its implicit hypergradient in Hypergradient.cpp); each other
// method is one file: MethodMarginal.cpp,
// MethodImportance.cpp, MethodContrastive.cpp (cd, pcd), MethodVages.cpp,
// MethodBidvl.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef BISM_LIB_TRAIN_STEPBUILDER_H
#define BISM_LIB_TRAIN_STEPBUILDER_H

#include "bism/Train/BuildTrainStep.h"

#include "bism/Dialect/Bism.h"
#include "bism/Dialect/DerivativeBuilder.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"

#include <cmath>
#include <functional>
#include <string>
#include <vector>

namespace bism::train::detail {

using namespace mlir;

/// The [B,H] noise tensors of one lower-level step: g1, g2 (Bernoulli) or ξ
/// (Gaussian) for BiSM and VaGES; ĥ and ξ for BiDVL.
inline int64_t posteriorNoiseCount(const ModelInfo &info) {
  if (info.spec.method == Method::BiDVL)
    return 2;
  if (info.spec.method != Method::BiSM && info.spec.method != Method::VaGES)
    return 0;
  return info.posteriorKind == PosteriorKind::Bernoulli ? 2 : 1;
}

/// VaGES draws hard 0/1 particles from one uniform u per particle.
inline bool hardParticles(const ModelInfo &info) {
  return info.spec.method == Method::VaGES &&
         info.posteriorKind == PosteriorKind::Bernoulli &&
         info.spec.vagesSampling == VagesSampling::Hard;
}

/// VaGES: the noise tensors of one particle (u; g1, g2; or ξ).
inline int64_t particleNoiseCount(const ModelInfo &info) {
  return hardParticles(info) ? 1 : posteriorNoiseCount(info);
}

/// VaGES: the particle groups, each L particles with its own noise: the
/// score estimate ŝ, the expected second derivative and the covariance
/// (independent), or one group for all three (shared).
inline std::vector<std::string> vagesParticleGroups(const ModelInfo &info) {
  if (info.spec.vagesGroups == VagesGroups::Shared)
    return {"particles"};
  return {"score_particles", "derivative_particles", "covariance_particles"};
}

/// SM and KSD need no noise of their own; DSM, MDSM (ε) and SSM (u) take
/// one [B,D].
inline bool hasObjectiveNoise(Objective objective) {
  return objective != Objective::SM && objective != Objective::KSD;
}
inline bool hasObjectiveNoise(const TrainSpec &spec) {
  return hasObjectiveNoise(spec.objective);
}


/// Parameters, moments and step count of one optimiser.
struct OptState {
  SmallVector<Value> params, first, second;
  Value t;
};

/// params..., first..., second..., t: the order functions take them in.
inline SmallVector<Value> flattenOptState(const OptState &state) {
  SmallVector<Value> out(state.params);
  out.append(state.first);
  out.append(state.second);
  out.push_back(state.t);
  return out;
}

class StepBuilder {
public:
  StepBuilder(ModuleOp module, const ModelInfo &info,
              const BuildTrainStepOptions &options)
      : module_(module), info_(info), spec_(info.spec),
        objective_(info.spec.objective),
        names_(trainStepNames(info, options)), rank_(options.rank),
        ranks_(options.ranks), builder_(module.getContext()),
        loc_(const_cast<func::FuncOp &>(info.energy ? info.energy
                                                     : info.freeEnergy)
                 .getLoc()) {
    element_ = info.visibleType.getElementType();
    scalar_ = RankedTensorType::get({}, element_);
    visible_ = info.visibleType;
    latent_ = info.latentType;
    perSample_ = RankedTensorType::get({info.batchSize()}, element_);
    key_ = RankedTensorType::get({2}, builder_.getI32Type());
    for (const ParamInfo &param : info.params)
      (param.group == ParamGroup::Theta ? theta_ : phi_).push_back(param.type);
    noisePerPosterior_ = posteriorNoiseCount(info);
  }

  LogicalResult build();
  /// The evaluation functions (buildEvaluationFunctions; this builder's
  /// model name is "<model>__eval" and its objective SSM); `training` is
  /// the model's own objective, for @eval_objective.
  LogicalResult buildEvaluation(const EvaluationNames &names,
                                Objective training);

private:
  ModuleOp module_;
  const ModelInfo &info_;
  const TrainSpec &spec_;
  /// The objective that perSampleObjective, objectiveNoiseTypes and
  /// objectiveInput build: spec_'s, but for @eval_objective the training
  /// one while the other evaluation functions use SSM.
  Objective objective_;
  TrainStepNames names_;
  /// Data parallel: this rank and the rank count (BuildTrainStepOptions).
  int64_t rank_, ranks_;
  OpBuilder builder_;
  Location loc_;
  Type element_;
  RankedTensorType scalar_, visible_, latent_, perSample_, key_;
  SmallVector<Type> theta_, phi_;
  int64_t noisePerPosterior_ = 1;

  DerivativeBuilder db() { return DerivativeBuilder(builder_, loc_); }

  /// Fails, naming `what` is being built, if one of `names` is already a
  /// symbol of the module.
  LogicalResult requireUnusedNames(ArrayRef<std::string> names,
                                   StringRef what) {
    SymbolTable symbols(module_);
    for (const std::string &name : names)
      if (symbols.lookup(name))
        return emitError(loc_)
               << "cannot build " << what << " of model '" << info_.name
               << "': @" << name << " is already defined";
    return success();
  }

  /// A new function at the end of the module; the builder is left at the
  /// start of its body.
  func::FuncOp startFunction(StringRef name, TypeRange arguments,
                             TypeRange results, bool isPrivate) {
    builder_.setInsertionPointToEnd(module_.getBody());
    auto func = func::FuncOp::create(builder_, loc_, name,
                                     builder_.getFunctionType(arguments, results));
    if (isPrivate)
      func.setPrivate();
    Block *entry = func.addEntryBlock();
    builder_.setInsertionPointToStart(entry);
    return func;
  }

  void ret(ValueRange values) { func::ReturnOp::create(builder_, loc_, values); }

  SmallVector<Value> call(StringRef callee, TypeRange results,
                          ValueRange operands) {
    auto op = func::CallOp::create(builder_, loc_, callee, results, operands);
    return SmallVector<Value>(op.getResults());
  }
  SmallVector<Value> call(func::FuncOp callee, ValueRange operands) {
    return call(callee.getSymName(), callee.getFunctionType().getResults(),
                operands);
  }

  Value splat(RankedTensorType type, double value) {
    return db().splat(type, value);
  }
  Value sumAxis(Value x, int64_t axis) {
    return db().reduceSum(x, {axis}, /*keepDims=*/false);
  }
  Value sumAll(Value x) {
    auto type = cast<RankedTensorType>(x.getType());
    if (type.getRank() == 0)
      return x;
    SmallVector<int64_t> axes;
    for (int64_t i = 0; i < type.getRank(); ++i)
      axes.push_back(i);
    return db().reduceSum(x, axes, /*keepDims=*/false);
  }
  Value meanBatch(Value perSample) {
    return ReduceMeanOp::create(builder_, loc_, scalar_, perSample,
                                ArrayRef<int64_t>{0}, false)
        .getResult();
  }
  /// The mean over the data-parallel ranks of each value (batch means
  /// computed on this rank's rows); the values themselves in one process.
  SmallVector<Value> meanOverRanks(ValueRange values) {
    SmallVector<Value> out;
    for (Value value : values)
      out.push_back(ranks_ > 1 && value
                        ? Value(AllReduceMeanOp::create(builder_, loc_, value))
                        : value);
    return out;
  }
  Value meanOverRanks(Value value) {
    return meanOverRanks(ValueRange{value}).front();
  }
  /// MDSM's σ_b for this rank's rows of the global batch.
  std::vector<double> batchSigmas() {
    int64_t local = info_.batchSize();
    std::vector<double> global = mdsmSigmas(spec_, local * ranks_);
    return std::vector<double>(global.begin() + rank_ * local,
                               global.begin() + (rank_ + 1) * local);
  }
  /// x * c for a scalar constant c.
  Value scaled(Value x, double c) { return db().scale(x, c); }

  static SmallVector<Value> slice(ValueRange values, size_t start, size_t count) {
    return SmallVector<Value>(values.begin() + start,
                              values.begin() + start + count);
  }
  static SmallVector<Type> concat(std::initializer_list<ArrayRef<Type>> lists) {
    SmallVector<Type> out;
    for (ArrayRef<Type> list : lists)
      out.append(list.begin(), list.end());
    return out;
  }
  SmallVector<Type> posteriorNoiseTypes(int64_t count) {
    return SmallVector<Type>(count * noisePerPosterior_, latent_);
  }

  // --- the pieces, in dependence order ---------------------------------
  func::FuncOp buildSamplePosterior();
  func::FuncOp buildLogQ();
  func::FuncOp buildEnergySum();
  func::FuncOp buildNegLogJoint(func::FuncOp energySum, func::FuncOp logQ);
  func::FuncOp buildScore(func::FuncOp negLogJoint);
  /// ½‖∇_h neg_log_joint(x, h, θ, φ)‖² per sample, [B].
  Value posteriorFisherPerSample(func::FuncOp negLogJoint,
                                 ValueRange jointArgs);
  func::FuncOp buildLower(func::FuncOp sample, func::FuncOp logQ,
                          func::FuncOp energySum, func::FuncOp negLogJoint);
  func::FuncOp buildUpper(func::FuncOp sample, func::FuncOp negLogJoint,
                          func::FuncOp score);
  /// The objective's per-sample terms [B] (docs/training.md, "Objectives")
  /// from the score s = score(jointArgs) and the objective noise (null for
  /// SM); SSM and SM take Hessian-vector products of negLogJoint (BiSM:
  /// Σ[E + log q] on (x, h, θ, φ); marginal: Σ F on (x, θ)), x first.
  Value perSampleObjective(func::FuncOp negLogJoint, ValueRange jointArgs,
                           Value s, Value objNoise);
  /// Row b of the KSD U-statistic for the score s at x [B,D] -> [B].
  Value ksdPerSample(Value x, Value s);
  Value medianSquaredDistance(Value distance);
  func::FuncOp buildScoreObjective();
  Value perSampleColumn(ArrayRef<double> values);
  Value constant(RankedTensorType type, ArrayRef<double> values);
  SmallVector<Type> objectiveNoiseTypes() {
    return hasObjectiveNoise(objective_) ? SmallVector<Type>{visible_}
                                       : SmallVector<Type>{};
  }
  func::FuncOp buildPhiStep(func::FuncOp lower, StringRef name,
                            const OptimizerSpec &optimizer);
  /// `count` calls of a φ step function (@M__phi_step, @M__unroll_step) at
  /// builder_: (φ..., m..., s..., t) = step(θ..., carried..., x,
  /// stepNoise(n)...) for n = 0…count−1, from `carried` = (φ..., m...,
  /// s..., t); returns the last.
  SmallVector<Value>
  emitPhiSteps(func::FuncOp phiStep, ValueRange theta, ValueRange carried,
               Value x, int64_t count,
               llvm::function_ref<SmallVector<Value>(int64_t)> stepNoise);
  /// The same steps as an scf.for marked bism.checkpoint (the spec's
  /// unroll_checkpoint), for steps that are differentiated through: the
  /// autodiff pass unrolls it and decides which φⁿ its reverse sweep keeps.
  SmallVector<Value>
  emitUnrolledPhiSteps(func::FuncOp phiStep, ValueRange theta,
                       ValueRange carried, Value x, int64_t count,
                       llvm::function_ref<SmallVector<Value>(int64_t)> stepNoise);
  /// The step function of the N unrolled steps on `lower`: `phiStep`
  /// (unroll_optimizer = "same", or N = 0) or a new @M__unroll_step (plain
  /// SGD of size unroll_lr).
  FailureOr<func::FuncOp> buildUnrollStep(func::FuncOp lower,
                                          func::FuncOp phiStep);
  func::FuncOp buildJBi(func::FuncOp phiStep, func::FuncOp upper);
  func::FuncOp buildDrawNoise();
  /// `upper`: j_bi (BiSM) or vages_gradient (VaGES), as emitStepCore.
  func::FuncOp buildTrainStepWithNoise(func::FuncOp lower, func::FuncOp phiStep,
                                       func::FuncOp upper);
  func::FuncOp buildTrainStep(func::FuncOp drawNoise, func::FuncOp withNoise);
  func::FuncOp buildThetaGradientWithNoise(func::FuncOp lower,
                                           func::FuncOp phiStep,
                                           func::FuncOp upper);

  // --- method marginal (s = −∇_x F; no posterior, no lower level) -------
  LogicalResult buildMarginal();
  /// The free energy's θ argument types, in its clause's order (the order
  /// of theta_ for methods marginal, cd and pcd).
  SmallVector<Type> freeEnergyTheta() {
    auto freeEnergy = info_.freeEnergy; // FuncOp accessors are not const
    return SmallVector<Type>(freeEnergy.getArgumentTypes().drop_front());
  }
  func::FuncOp buildFreeEnergySum();
  /// The score, upper level and public step functions of method marginal
  /// around a free_energy_sum(x, θ..., extra...) (extra: noise arguments
  /// of the step after the objective's).
  void buildScoreMatchingSteps(func::FuncOp freeEnergySum);
  /// What buildScoreMatchingSteps needs: SM's dimension bound, free names.
  LogicalResult checkScoreMatchingStep();
  // --- method bidvl (energy, inference model, generator) ----------------
  LogicalResult buildBidvl();
  SmallVector<Value> generatorArguments(ValueRange phi);
  func::FuncOp buildBidvlUpper();
  func::FuncOp buildBidvlLower();
  /// @M__j_bi(θ..., φ⁰..., m..., s..., t, v, ĥ, ξ_0…ξ_{N−1}) -> J(θ, φᴺ(θ))
  /// (N = unroll_steps > 0): N steps of `unrollStep` on the lower level,
  /// then `upper` at the generator's samples G(ĥ; φᴺ), not held fixed.
  func::FuncOp buildBidvlJBi(func::FuncOp unrollStep, func::FuncOp upper);
  /// The functions the bidvl step calls (unrollStep and jBi null for N = 0).
  struct BidvlLevels {
    func::FuncOp upper, lower, phiStep, unrollStep, jBi;
  };
  struct BidvlCore {
    OptState theta, phi; // after the step
    Value j, lowerBefore, lowerAfter;
    SmallVector<Value> gradient; // ∇θ J
  };
  BidvlCore emitBidvlCore(ValueRange arguments, BidvlLevels levels,
                          bool full);
  // --- method importance (marginal on an importance-sampled F) ----------
  LogicalResult buildImportance();
  func::FuncOp buildImportanceFreeEnergySum();
  func::FuncOp buildMarginalScore(func::FuncOp freeEnergySum);
  func::FuncOp buildMarginalUpper(func::FuncOp freeEnergySum,
                                  func::FuncOp score);
  /// x (ṽ for DSM/MDSM, v otherwise) from v and the objective noise.
  Value objectiveInput(Value v, ValueRange objNoise);
  /// J and ∇θ J on the arguments of @train_step_with_noise (marginal).
  std::pair<Value, SmallVector<Value>>
  emitMarginalCore(ValueRange arguments, func::FuncOp upper, bool withJ);
  func::FuncOp buildMarginalTrainStepWithNoise(func::FuncOp upper);
  func::FuncOp buildMarginalThetaGradientWithNoise(func::FuncOp upper);
  Value gradientNorm(ValueRange gradients);

  // --- methods cd and pcd (contrastive divergence with Gibbs sweeps) -----
  LogicalResult buildContrastive();
  func::FuncOp buildGibbsChain();
  func::FuncOp buildCdObjective(func::FuncOp freeEnergySum);
  /// The gap and ∇θ of cd_objective on the arguments of
  /// @train_step_with_noise, and v_k (the new chain for PCD).
  struct ContrastiveCore {
    Value gap, chain;
    SmallVector<Value> gradient;
  };
  ContrastiveCore emitContrastiveCore(ValueRange arguments,
                                      func::FuncOp gibbsChain,
                                      func::FuncOp cdObjective, bool withGap);
  func::FuncOp buildContrastiveTrainStepWithNoise(func::FuncOp gibbsChain,
                                                  func::FuncOp cdObjective);
  func::FuncOp buildContrastiveThetaGradientWithNoise(func::FuncOp gibbsChain,
                                                      func::FuncOp cdObjective);

  // --- methods bism and vages: the lower level and the public functions ---
  /// The posterior, energy and lower-level helpers both methods share.
  struct LowerLevel {
    func::FuncOp sample, logQ, energySum, negLogJoint, lower, phiStep;
  };
  /// Checks the divergence and the names, then emits the helpers.
  FailureOr<LowerLevel> buildLowerLevel();
  /// @draw_noise, @train_step_with_noise, @train_step and
  /// @theta_gradient_with_noise around `upper` (j_bi or vages_gradient).
  void buildStepFunctions(const LowerLevel &level, func::FuncOp upper);

  // --- method bism, hypergradient = "implicit" (Hypergradient.cpp) -------
  /// @M__implicit_gradient(θ..., φ..., x, objnoise, pn...) -> (J, ∇θ J...,
  /// cg_residual): the implicit-function-theorem θ gradient of J at φ.
  FailureOr<func::FuncOp> buildImplicitGradient(func::FuncOp lower,
                                                func::FuncOp upper);
  /// @M__lower_phi_gradient_dot(θ..., φ..., x, pn..., w...) ->
  /// ⟨∇φ G(θ, φ), w⟩, whose θ gradient is (∂²G/∂θ∂φ)ᵀ w.
  func::FuncOp buildLowerPhiGradientDot(func::FuncOp lower);
  /// Σ over the tensors of ⟨a_i, b_i⟩, a scalar.
  Value innerProduct(ValueRange a, ValueRange b);

  // --- method vages (K plain φ steps, then L particles; no unrolling) -----
  LogicalResult buildVages();
  func::FuncOp buildSampleHard();
  func::FuncOp buildVagesSurrogate(func::FuncOp energySum);
  func::FuncOp buildVagesGradient(func::FuncOp sampler, func::FuncOp energySum,
                                  func::FuncOp scoreObjective,
                                  func::FuncOp surrogate);
  /// scf.for i = 0..L carrying `init`; `body(i, carried)` emits one
  /// iteration at builder_ and returns what to yield.
  SmallVector<Value>
  emitParticleLoop(ValueRange init,
                   llvm::function_ref<SmallVector<Value>(Value, ValueRange)> body);

  /// What emitStepCore computes (metrics null unless asked for).
  struct StepCore {
    OptState theta, phi; // θ state as passed in; φ state after the K steps
    Value j, lowerBefore, lowerAfter;
    SmallVector<Value> gradient; // ∇θ J_Bi
    Value cgResidual; // implicit hypergradient only
  };
  SmallVector<Type> withNoiseArguments();
  /// @train_step_with_noise: withNoiseArguments() -> the signature's state
  /// and metrics.
  func::FuncOp startTrainStepWithNoise();
  /// The θ optimiser state at the front of a step's arguments: θ, m_θ, s_θ,
  /// t_theta (methods marginal, cd and pcd).
  OptState thetaStateOf(ValueRange arguments);
  /// `upper` is j_bi (BiSM), implicit_gradient (BiSM, implicit
  /// hypergradient) or vages_gradient (VaGES).
  StepCore emitStepCore(ValueRange arguments, func::FuncOp lower,
                        func::FuncOp phiStep, func::FuncOp upper, bool metrics);

  /// One optimiser step (Adam or SGD, identical in the plain and the
  /// differentiable case) of `state` along `gradients`.
  OptState optimizerStep(const OptimizerSpec &opt, const OptState &state,
                         ValueRange gradients);
};

} // namespace bism::train::detail

#endif // BISM_LIB_TRAIN_STEPBUILDER_H
