//===- MethodVages.cpp - method "vages" ---------------------------------===//
//
// VaGES: the K plain φ steps of BiSM, then the θ gradient of the DSM/MDSM
// loss of the VaES score estimate from L posterior particles, by two
// scf.for loops over the particles (docs/training.md "Method vages").
//
//===----------------------------------------------------------------------===//
#include "StepBuilder.h"

using namespace mlir;

namespace bism::train::detail {

/// @M__sample_hard(x, φ..., u) -> h = [u < sigmoid(ℓ)] as 0/1, ℓ the logits.
func::FuncOp StepBuilder::buildSampleHard() {
  SmallVector<Type> args = concat({visible_, phi_, latent_});
  func::FuncOp func = startFunction(names_.sampleHard, args, {latent_}, true);
  ValueRange a = func.getArguments();
  Value logits = call(info_.posterior, slice(a, 0, 1 + phi_.size()))[0];
  Value on = db().compare(ComparePredicate::lt, a.back(),
                          db().create<SigmoidOp>(logits));
  ret(db().select(on, splat(latent_, 1.0), splat(latent_, 0.0)));
  return func;
}

/// @M__vages_surrogate(θ..., x, h_d, [h_c,] w, ḡ) -> T, for particle i of
/// the derivative group (h_d) and of the covariance group (h_c; h_d itself
/// when the groups are shared), with g(h) = ∇_x log p̃(x, h; θ) =
/// −∇_x energy_sum:
///   c = stop_gradient(wᵀ(g(h_c) − ḡ)),  ḡ the covariance group's mean,
///   S = mean_b [ w_bᵀ g_b(h_d) / L + c_b log p̃(x_b, h_c,b; θ) / (L − 1) ].
/// Summed over i, its θ gradient is the chain rule through the VaES
/// estimate with the covariance correction (docs/training.md).
func::FuncOp StepBuilder::buildVagesSurrogate(func::FuncOp energySum) {
  bool independent = spec_.vagesGroups == VagesGroups::Independent;
  SmallVector<Type> args = concat({theta_, visible_, latent_});
  if (independent)
    args.push_back(latent_);
  args.append({visible_, visible_});
  func::FuncOp func = startFunction(names_.vagesSurrogate, args, {scalar_}, true);
  ValueRange a = func.getArguments();
  size_t nt = theta_.size();
  Value x = a[nt], hDerivative = a[nt + 1];
  Value hCovariance = independent ? a[nt + 2] : hDerivative;
  Value w = a[a.size() - 2], gBar = a.back();
  auto energyArgs = [&](Value h) {
    SmallVector<Value> eArgs{x, h};
    eArgs.append(a.begin(), a.begin() + nt);
    return eArgs;
  };
  auto logJointScore = [&](Value h) {
    return db().neg(GradOp::create(builder_, loc_, TypeRange{visible_},
                                   energySum.getSymName(), energyArgs(h),
                                   ArrayRef<int64_t>{0})
                        .getResult(0));
  };
  Value gDerivative = logJointScore(hDerivative);
  Value gCovariance = independent ? logJointScore(hCovariance) : gDerivative;
  Value logJoint = db().neg(call(info_.energy, energyArgs(hCovariance))[0]);
  Value c = StopGradientOp::create(
                builder_, loc_, sumAxis(db().mul(w, db().sub(gCovariance, gBar)), 1))
                .getResult();
  double particles = double(spec_.particles);
  Value mean = scaled(sumAxis(db().mul(w, gDerivative), 1), 1.0 / particles);
  Value covariance = scaled(db().mul(c, logJoint), 1.0 / (particles - 1.0));
  ret(meanBatch(db().add(mean, covariance)));
  return func;
}

SmallVector<Value> StepBuilder::emitParticleLoop(
    ValueRange init,
    llvm::function_ref<SmallVector<Value>(Value, ValueRange)> body) {
  auto index = [&](int64_t value) {
    return arith::ConstantIndexOp::create(builder_, loc_, value).getResult();
  };
  auto loop = scf::ForOp::create(builder_, loc_, index(0),
                                 index(spec_.particles), index(1), init);
  OpBuilder::InsertionGuard guard(builder_);
  builder_.setInsertionPointToStart(loop.getBody());
  SmallVector<Value> next =
      body(loop.getInductionVar(), loop.getRegionIterArgs());
  scf::YieldOp::create(builder_, loc_, next);
  return SmallVector<Value>(loop.getResults());
}

/// @M__vages_gradient(θ..., φ..., x, [objnoise], particle noise [L,B,H]...)
///   -> (J, ∇θ...), the particle noise group by group (vagesParticleGroups:
/// score, derivative, covariance; or one shared group). Two loops over the
/// particles i (the energy's batch is fixed, so one particle per group and
/// iteration), h = sample(x, φ, noise_i) of a group:
///   1. ŝ = mean_i g(h_score,i) and ḡ = mean_i g(h_cov,i), g(h) =
///      ∇_x log p̃(x, h); J = score_objective(x, ŝ, objnoise) and
///      w = B ∂J/∂ŝ (w_b = ∂(J's term b)/∂ŝ_b for DSM and MDSM);
///   2. ∇θ = Σ_i ∇θ vages_surrogate(θ, x, h_derivative,i, h_cov,i, w, ḡ).
func::FuncOp StepBuilder::buildVagesGradient(func::FuncOp sampler,
                                             func::FuncOp energySum,
                                             func::FuncOp scoreObjective,
                                             func::FuncOp surrogate) {
  int64_t per = particleNoiseCount(info_);
  size_t groups = vagesParticleGroups(info_).size();
  bool independent = groups > 1;
  auto particleType = RankedTensorType::get(
      {spec_.particles, latent_.getDimSize(0), latent_.getDimSize(1)}, element_);
  SmallVector<Type> objectiveNoise = objectiveNoiseTypes();
  SmallVector<Type> args = concat({theta_, phi_, visible_, objectiveNoise});
  args.append(groups * per, particleType);
  SmallVector<Type> results = concat({scalar_, theta_});
  func::FuncOp func = startFunction(names_.vagesGradient, args, results, true);
  ValueRange a = func.getArguments();
  size_t nt = theta_.size(), np = phi_.size();
  SmallVector<Value> theta = slice(a, 0, nt);
  Value x = a[nt + np];
  ValueRange objNoise = a.slice(nt + np + 1, objectiveNoise.size());
  ValueRange noise = a.drop_front(nt + np + 1 + objectiveNoise.size());

  // Particle i of a group from the i-th [B,H] slice of its noise tensors.
  enum Group { Score = 0, Derivative = 1, Covariance = 2 };
  auto particle = [&](Group group, Value i) {
    OpFoldResult zero = builder_.getIndexAttr(0), one = builder_.getIndexAttr(1);
    SmallVector<Value> sampleArgs{x};
    sampleArgs.append(a.begin() + nt, a.begin() + nt + np);
    for (Value tensor : noise.slice(independent ? group * per : 0, per))
      sampleArgs.push_back(tensor::ExtractSliceOp::create(
          builder_, loc_, latent_, tensor, {i, zero, zero},
          {one, builder_.getIndexAttr(latent_.getDimSize(0)),
           builder_.getIndexAttr(latent_.getDimSize(1))},
          {one, one, one}));
    return call(sampler, sampleArgs)[0];
  };
  auto logJointScore = [&](Value h) {
    SmallVector<Value> eArgs{x, h};
    eArgs.append(theta);
    return db().neg(GradOp::create(builder_, loc_, TypeRange{visible_},
                                   energySum.getSymName(), eArgs,
                                   ArrayRef<int64_t>{0})
                        .getResult(0));
  };

  // 1. ŝ = mean_i g(h_score,i); independent groups: ḡ = mean_i g(h_cov,i).
  SmallVector<Value> init{splat(visible_, 0.0)};
  if (independent)
    init.push_back(splat(visible_, 0.0));
  SmallVector<Value> sums =
      emitParticleLoop(init, [&](Value i, ValueRange carried) {
        SmallVector<Value> next{
            db().add(carried[0], logJointScore(particle(Score, i)))};
        if (independent)
          next.push_back(
              db().add(carried[1], logJointScore(particle(Covariance, i))));
        return next;
      });
  double inverseL = 1.0 / double(spec_.particles);
  Value sHat = scaled(sums[0], inverseL);
  Value gBar = independent ? scaled(sums[1], inverseL) : sHat;

  // J of the VaES score and w = B ∂J/∂ŝ (the surrogate averages over b):
  //   DSM:  r = ŝ + ε/σ,        J = mean_b ½‖r_b‖²,  w = r;
  //   MDSM: r = ŝ/σ_b + ε/σ0²,  J = mean_b ½‖r_b‖²,  w = r/σ_b;
  //   KSD:  J = the U-statistic, w_b = 2/(B−1) Σ_{b'≠b} (k ŝ_b' + ∇_{x_b'} k).
  SmallVector<Value> objectiveArgs{x, sHat};
  objectiveArgs.append(objNoise.begin(), objNoise.end());
  Value j = call(scoreObjective, objectiveArgs)[0];
  Value w = scaled(GradOp::create(builder_, loc_, TypeRange{visible_},
                                  scoreObjective.getSymName(), objectiveArgs,
                                  ArrayRef<int64_t>{1})
                       .getResult(0),
                   double(info_.batchSize()));

  // 2. Σ_i ∇θ S_i.
  SmallVector<Value> zeros;
  for (Type type : theta_)
    zeros.push_back(splat(cast<RankedTensorType>(type), 0.0));
  SmallVector<int64_t> wrt;
  for (size_t k = 0; k < nt; ++k)
    wrt.push_back(int64_t(k));
  SmallVector<Value> gradient =
      emitParticleLoop(zeros, [&](Value i, ValueRange carried) {
        SmallVector<Value> sArgs(theta);
        sArgs.append({x, particle(independent ? Derivative : Score, i)});
        if (independent)
          sArgs.push_back(particle(Covariance, i));
        sArgs.append({w, gBar});
        auto grad = GradOp::create(builder_, loc_, TypeRange(theta_),
                                   surrogate.getSymName(), sArgs, wrt);
        SmallVector<Value> next;
        for (auto [acc, g] : llvm::zip_equal(carried, grad.getResults()))
          next.push_back(db().add(acc, g));
        return next;
      });
  SmallVector<Value> out{j};
  out.append(gradient);
  ret(out);
  return func;
}

LogicalResult StepBuilder::buildVages() {
  // readModel rejects these too; kept for ModelInfos built by hand.
  if (spec_.objective != Objective::DSM && spec_.objective != Objective::MDSM &&
      spec_.objective != Objective::KSD)
    return emitError(loc_) << "model '" << info_.name
                           << "': method vages supports objectives \"dsm\", "
                           << "\"mdsm\" and \"ksd\" only";
  if (spec_.particles < 2 || spec_.unrollSteps != 0 || spec_.innerSteps < 0)
    return emitError(loc_) << "model '" << info_.name
                           << "': method vages needs particles >= 2, "
                           << "inner_steps >= 0 and unroll_steps = 0";
  if (failed(requireUnusedNames({names_.sampleHard, names_.vagesSurrogate,
                                  names_.vagesGradient, names_.scoreObjective},
                                 "the training step")))
    return failure();
  FailureOr<LowerLevel> level = buildLowerLevel();
  if (failed(level))
    return failure();
  func::FuncOp sampler =
      hardParticles(info_) ? buildSampleHard() : level->sample;
  func::FuncOp scoreObjective = buildScoreObjective();
  func::FuncOp surrogate = buildVagesSurrogate(level->energySum);
  func::FuncOp gradient =
      buildVagesGradient(sampler, level->energySum, scoreObjective, surrogate);
  buildStepFunctions(*level, gradient);
  return success();
}

} // namespace bism::train::detail
