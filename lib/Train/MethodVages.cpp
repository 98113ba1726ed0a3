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

/// @M__vages_surrogate(θ..., x, h, w, ḡ) -> T, for one particle h:
///   g = ∇_x log p̃(x, h; θ) = −∇_x energy_sum,  c = stop_gradient(wᵀ(g − ḡ)),
///   S = mean_b [ w_bᵀ g_b / L + c_b log p̃(x_b, h_b; θ) / (L − 1) ].
/// Summed over the particles, its θ gradient is the chain rule through the
/// VaES estimate with the covariance correction (docs/training.md).
func::FuncOp StepBuilder::buildVagesSurrogate(func::FuncOp energySum) {
  SmallVector<Type> args = concat({theta_, visible_, latent_, visible_, visible_});
  func::FuncOp func = startFunction(names_.vagesSurrogate, args, {scalar_}, true);
  ValueRange a = func.getArguments();
  size_t nt = theta_.size();
  Value x = a[nt], h = a[nt + 1], w = a[nt + 2], gBar = a[nt + 3];
  SmallVector<Value> eArgs{x, h};
  eArgs.append(a.begin(), a.begin() + nt);
  Value g = db().neg(GradOp::create(builder_, loc_, TypeRange{visible_},
                                    energySum.getSymName(), eArgs,
                                    ArrayRef<int64_t>{0})
                         .getResult(0));
  Value logJoint = db().neg(call(info_.energy, eArgs)[0]);
  Value c = StopGradientOp::create(builder_, loc_,
                                   sumAxis(db().mul(w, db().sub(g, gBar)), 1))
                .getResult();
  double particles = double(spec_.particles);
  Value mean = scaled(sumAxis(db().mul(w, g), 1), 1.0 / particles);
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

/// @M__vages_gradient(θ..., φ..., x, objnoise, particle noise [L,B,H]...)
///   -> (J, ∇θ...): two loops over the particles i (the energy's batch is
/// fixed, so one particle per iteration), h_i = sample(x, φ, noise_i):
///   1. ŝ = mean_i g_i, g_i = ∇_x log p̃(x, h_i); J and w = ∂J_b/∂ŝ_b from ŝ;
///   2. ∇θ = Σ_i ∇θ vages_surrogate(θ, x, h_i, w, ŝ).
func::FuncOp StepBuilder::buildVagesGradient(func::FuncOp sampler,
                                             func::FuncOp energySum,
                                             func::FuncOp surrogate) {
  int64_t per = particleNoiseCount(info_);
  auto particleType = RankedTensorType::get(
      {spec_.particles, latent_.getDimSize(0), latent_.getDimSize(1)}, element_);
  SmallVector<Type> args = concat({theta_, phi_, visible_, visible_});
  args.append(per, particleType);
  SmallVector<Type> results = concat({scalar_, theta_});
  func::FuncOp func = startFunction(names_.vagesGradient, args, results, true);
  ValueRange a = func.getArguments();
  size_t nt = theta_.size(), np = phi_.size();
  SmallVector<Value> theta = slice(a, 0, nt);
  Value x = a[nt + np], eps = a[nt + np + 1];
  ValueRange noise = a.drop_front(nt + np + 2);

  // h_i from the i-th [B,H] slice of each particle noise tensor.
  auto particle = [&](Value i) {
    OpFoldResult zero = builder_.getIndexAttr(0), one = builder_.getIndexAttr(1);
    SmallVector<Value> sampleArgs{x};
    sampleArgs.append(a.begin() + nt, a.begin() + nt + np);
    for (Value tensor : noise)
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

  // 1. ŝ = mean_i g_i.
  Value sum = emitParticleLoop(
      {splat(visible_, 0.0)}, [&](Value i, ValueRange carried) {
        return SmallVector<Value>{db().add(carried[0], logJointScore(particle(i)))};
      })[0];
  Value sHat = scaled(sum, 1.0 / double(spec_.particles));

  // J = mean_b ½‖r_b‖² and w = ∂(½‖r_b‖²)/∂ŝ_b:
  //   DSM:  r = ŝ + ε/σ,           w = r;
  //   MDSM: r = ŝ/σ_b + ε/σ0²,     w = r/σ_b.
  Value r, w;
  if (spec_.objective == Objective::MDSM) {
    std::vector<double> inverse = mdsmSigmas(spec_, info_.batchSize());
    for (double &sigma : inverse)
      sigma = 1.0 / sigma;
    Value column = perSampleColumn(inverse);
    r = db().add(db().mul(sHat, column),
                 scaled(eps, 1.0 / (spec_.sigma0 * spec_.sigma0)));
    w = db().mul(r, column);
  } else {
    r = db().add(sHat, scaled(eps, 1.0 / spec_.noiseStd));
    w = r;
  }
  Value j = meanBatch(scaled(sumAxis(db().create<SquareOp>(r), 1), 0.5));

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
        sArgs.append({x, particle(i), w, sHat});
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
  if (spec_.objective != Objective::DSM && spec_.objective != Objective::MDSM)
    return emitError(loc_) << "model '" << info_.name
                           << "': method vages supports objectives \"dsm\" "
                           << "and \"mdsm\" only";
  if (spec_.particles < 2 || spec_.unrollSteps != 0 || spec_.innerSteps < 0)
    return emitError(loc_) << "model '" << info_.name
                           << "': method vages needs particles >= 2, "
                           << "inner_steps >= 0 and unroll_steps = 0";
  if (failed(requireUnusedNames({names_.sampleHard, names_.vagesSurrogate,
                                  names_.vagesGradient},
                                 "the training step")))
    return failure();
  FailureOr<LowerLevel> level = buildLowerLevel();
  if (failed(level))
    return failure();
  func::FuncOp sampler =
      hardParticles(info_) ? buildSampleHard() : level->sample;
  func::FuncOp surrogate = buildVagesSurrogate(level->energySum);
  func::FuncOp gradient =
      buildVagesGradient(sampler, level->energySum, surrogate);
  buildStepFunctions(*level, gradient);
  return success();
}

} // namespace bism::train::detail
