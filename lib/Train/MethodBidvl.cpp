//===- MethodBidvl.cpp - method "bidvl" ----------------------------------===//
//
// BiDVL (Kan et al., CVPR 2022) as its released code trains it ("offset"
// updates, docs/training.md "Method bidvl"): a marginal energy E_θ(v) (the
// free energy clause), a Gaussian inference model q_φ1(h|v) (the
// posterior) and a generator G_φ2(h), h ~ N(0, I). Per minibatch:
//   1. θ descends J = mean_b E(v_b) − mean_b E(x̂_b), x̂ = sg(G(ĥ)): the
//      generator is the EBM's negative sampler;
//   2. K steps of φ = (φ1, φ2) on the lower level (the symmetric KL between
//      the model's and the generator's joints, written out in
//      `buildBidvlLower`) at the updated θ.
// With unroll_steps = N > 0, N lower-level steps come first, differentiable
// in θ: θ descends J(θ, φᴺ(θ)) with x̂ = G(ĥ; φᴺ(θ)) (no stop_gradient;
// @M__j_bi), and the K steps continue from φᴺ.
//
//===----------------------------------------------------------------------===//
#include "StepBuilder.h"

using namespace mlir;

namespace bism::train::detail {

/// φ's generator parameters (info.generatorParams) out of all φ values.
SmallVector<Value> StepBuilder::generatorArguments(ValueRange phi) {
  SmallVector<Value> out;
  for (size_t position : info_.generatorParams)
    out.push_back(phi[position - theta_.size()]);
  return out;
}

/// @M__bidvl_upper(θ..., v, x̂) -> mean_b E(v_b; θ) − mean_b E(x̂_b; θ).
func::FuncOp StepBuilder::buildBidvlUpper() {
  SmallVector<Type> args = concat({theta_, visible_, visible_});
  func::FuncOp func = startFunction(names_.upper, args, {scalar_}, true);
  ValueRange a = func.getArguments();
  size_t nt = theta_.size();
  auto meanEnergy = [&](Value x) {
    SmallVector<Value> energyArgs{x};
    energyArgs.append(a.begin(), a.begin() + nt);
    return meanBatch(call(info_.freeEnergy, energyArgs)[0]);
  };
  ret(db().sub(meanEnergy(a[nt]), meanEnergy(a[nt + 1])));
  return func;
}

/// @M__lower(θ..., φ..., v, ĥ, ξ) -> the lower-level loss of φ = (φ1, φ2):
///   mean_b E(G(ĥ)_b; θ)                               generator → low energy
///   + ‖μ_sg(φ1)(G(ĥ)) − ĥ‖² / (B·H)                   latent reconstruction
///   + mean_b w_b [‖G(h_b) − v_b‖² + KL(q(h|v_b) ‖ N(0, I))]   data side
/// with (μ, logσ) = q(v; φ1), h = μ + e^{logσ} ξ, KL_b = ½ Σ_k (μ² + e^{2logσ}
/// − 1 − 2 logσ), and w_b = λ (basic ratio) or λ · sg(clamp(exp(mean_b' E(v_b')
/// − E(v_b)), 0.8, 1.2)) (with the bias term). The encoder is held fixed
/// (stop_gradient on φ1) in the latent reconstruction, whose gradient
/// reaches φ2 through G(ĥ).
func::FuncOp StepBuilder::buildBidvlLower() {
  SmallVector<Type> args = concat({theta_, phi_, visible_, latent_, latent_});
  func::FuncOp func = startFunction(names_.lower, args, {scalar_}, true);
  ValueRange a = func.getArguments();
  size_t nt = theta_.size(), np = phi_.size();
  SmallVector<Value> theta = slice(a, 0, nt), phi = slice(a, nt, np);
  Value v = a[nt + np], hHat = a[nt + np + 1], xi = a[nt + np + 2];
  auto posterior = info_.posterior; // FuncOp accessors are not const
  size_t numEncoder = posterior.getNumArguments() - 1;
  SmallVector<Value> encoder = slice(phi, 0, numEncoder);
  SmallVector<Value> generator = generatorArguments(phi);
  auto energy = [&](Value x) {
    SmallVector<Value> energyArgs{x};
    energyArgs.append(theta);
    return call(info_.freeEnergy, energyArgs)[0];
  };
  auto generate = [&](Value h) {
    SmallVector<Value> generatorArgs{h};
    generatorArgs.append(generator);
    return call(info_.generator, generatorArgs)[0];
  };
  auto infer = [&](Value x, ValueRange params) {
    SmallVector<Value> posteriorArgs{x};
    posteriorArgs.append(params.begin(), params.end());
    return call(info_.posterior, posteriorArgs);
  };
  auto sumSquares = [&](Value d) {
    return sumAll(db().create<SquareOp>(d));
  };
  double batch = double(info_.batchSize()), hidden = double(latent_.getDimSize(1));

  Value generated = generate(hHat);
  Value energyGenerated = meanBatch(energy(generated));
  SmallVector<Value> frozenEncoder;
  for (Value p : encoder)
    frozenEncoder.push_back(StopGradientOp::create(builder_, loc_, p).getResult());
  Value latentReconstruction = scaled(
      sumSquares(db().sub(infer(generated, frozenEncoder)[0], hHat)),
      1.0 / (batch * hidden));

  SmallVector<Value> moments = infer(v, encoder);
  Value mu = moments[0], logStd = moments[1];
  Value h = db().add(mu, db().mul(db().create<ExpOp>(logStd), xi));
  Value reconstruction =
      sumAxis(db().create<SquareOp>(db().sub(generate(h), v)), 1);
  Value kl = scaled(
      sumAxis(db().sub(db().add(db().create<SquareOp>(mu),
                                db().create<ExpOp>(scaled(logStd, 2.0))),
                       db().add(splat(latent_, 1.0), scaled(logStd, 2.0))),
              1),
      0.5);
  Value dataSide = db().add(reconstruction, kl);
  if (spec_.bidvlBiasTerm) {
    Value e = energy(v);
    Value offset = db().sub(db().broadcastTo(meanBatch(e), perSample_), e);
    Value ratio = db().create<MinimumOp>(
        db().create<MaximumOp>(db().create<ExpOp>(offset), splat(perSample_, 0.8)),
        splat(perSample_, 1.2));
    dataSide = db().mul(dataSide,
                        StopGradientOp::create(builder_, loc_, ratio).getResult());
  }
  Value weighted = scaled(meanBatch(dataSide), spec_.bidvlBasicRatio);
  ret(db().add(db().add(energyGenerated, latentReconstruction), weighted));
  return func;
}

/// @M__j_bi(θ..., φ⁰..., m..., s..., t, v, ĥ, ξ_0 … ξ_{N−1}) -> J(θ, φᴺ(θ)):
/// (φⁿ, mⁿ, sⁿ, tⁿ) = unroll_step(θ, φⁿ⁻¹, ..., v, ĥ, ξ_{n−1}), n = 1…N,
/// then upper(θ, v, G(ĥ; φᴺ)). Unlike the step without unrolling, the
/// generator's samples are not held fixed: they depend on θ through the N
/// lower-level steps, and bism.grad of this function in θ differentiates
/// through them (second derivatives of the lower level, E included).
func::FuncOp StepBuilder::buildBidvlJBi(func::FuncOp unrollStep,
                                        func::FuncOp upper) {
  int64_t n = spec_.unrollSteps;
  SmallVector<Type> args =
      concat({theta_, phi_, phi_, phi_, scalar_, visible_, latent_});
  args.append(n, latent_);
  func::FuncOp func = startFunction(names_.jBi, args, {scalar_}, true);
  ValueRange a = func.getArguments();
  size_t nt = theta_.size(), np = phi_.size();
  SmallVector<Value> theta = slice(a, 0, nt);
  Value v = a[nt + 3 * np + 1], hHat = a[nt + 3 * np + 2];
  ValueRange xis = a.drop_front(nt + 3 * np + 3);
  SmallVector<Value> carried = emitUnrolledPhiSteps(
      unrollStep, theta, a.slice(nt, 3 * np + 1), v, n,
      [&](int64_t step) { return SmallVector<Value>{hHat, xis[step]}; });
  SmallVector<Value> generatorArgs{hHat};
  generatorArgs.append(generatorArguments(slice(carried, 0, np)));
  SmallVector<Value> upperArgs(theta);
  upperArgs.append({v, call(info_.generator, generatorArgs)[0]});
  ret(call(upper, upperArgs));
  return func;
}

/// The step on the arguments of @train_step_with_noise (θ, φ, m_θ, s_θ, m_φ,
/// s_φ, t_θ, t_φ, v, ĥ, ξ^unroll_0 … ξ^unroll_{N−1}, ξ_0 … ξ_{K−1}): θ's
/// gradient and, with `full`, the new state and the metrics.
StepBuilder::BidvlCore StepBuilder::emitBidvlCore(ValueRange a,
                                                  BidvlLevels levels,
                                                  bool full) {
  size_t nt = theta_.size(), np = phi_.size();
  int64_t n = spec_.unrollSteps;
  OptState theta, phi;
  theta.params = slice(a, 0, nt);
  phi.params = slice(a, nt, np);
  theta.first = slice(a, nt + np, nt);
  theta.second = slice(a, 2 * nt + np, nt);
  phi.first = slice(a, 3 * nt + np, np);
  phi.second = slice(a, 3 * nt + 2 * np, np);
  theta.t = a[3 * nt + 3 * np];
  phi.t = a[3 * nt + 3 * np + 1];
  Value v = a[3 * nt + 3 * np + 2], hHat = a[3 * nt + 3 * np + 3];
  ValueRange unrollXis = a.slice(3 * nt + 3 * np + 4, n);
  ValueRange xis = a.drop_front(3 * nt + 3 * np + 4 + n);
  auto generate = [&](ValueRange phiParams) {
    SmallVector<Value> generatorArgs{hHat};
    generatorArgs.append(generatorArguments(phiParams));
    return call(info_.generator, generatorArgs)[0];
  };
  SmallVector<int64_t> wrt;
  for (size_t i = 0; i < nt; ++i)
    wrt.push_back(int64_t(i));
  BidvlCore core;
  SmallVector<Value> upperArgs(theta.params);
  if (n == 0) {
    // 1. θ on the energy difference, the generated samples held fixed.
    Value generated =
        StopGradientOp::create(builder_, loc_, generate(phi.params)).getResult();
    upperArgs.append({v, generated});
    auto grad = GradOp::create(builder_, loc_, TypeRange(theta_),
                               levels.upper.getSymName(), upperArgs, wrt);
    core.gradient.assign(grad.getResults().begin(), grad.getResults().end());
  } else {
    // 1. θ on J(θ, φᴺ(θ)), through the N unrolled lower-level steps.
    SmallVector<Value> jArgs(theta.params);
    jArgs.append(flattenOptState(phi));
    jArgs.push_back(v);
    jArgs.push_back(hHat);
    jArgs.append(unrollXis.begin(), unrollXis.end());
    auto grad = GradOp::create(builder_, loc_, TypeRange(theta_),
                               levels.jBi.getSymName(), jArgs, wrt);
    core.gradient.assign(grad.getResults().begin(), grad.getResults().end());
  }
  if (!full)
    return core;
  if (n > 0) {
    // φᴺ, where φ continues from: the same N steps as plain calls. Steps of
    // the φ optimiser ("same") carry its state on; the plain SGD steps
    // leave its moments and step count as they were.
    SmallVector<Value> unrolled = emitPhiSteps(
        levels.unrollStep, theta.params, flattenOptState(phi), v, n,
        [&](int64_t step) { return SmallVector<Value>{hHat, unrollXis[step]}; });
    phi.params = slice(unrolled, 0, np);
    if (spec_.unrollWithPhiOptimizer) {
      phi.first = slice(unrolled, np, np);
      phi.second = slice(unrolled, 2 * np, np);
      phi.t = unrolled[3 * np];
    }
    upperArgs.append({v, generate(phi.params)});
  }
  core.j = call(levels.upper, upperArgs)[0];
  core.theta = optimizerStep(spec_.thetaOptimizer, theta, core.gradient);

  // 2. K steps of φ at the new θ; the metric G before and after them with
  // the first step's ξ.
  auto lowerLoss = [&](ValueRange phiParams) {
    SmallVector<Value> lowerArgs(core.theta.params);
    lowerArgs.append(phiParams.begin(), phiParams.end());
    lowerArgs.append({v, hHat, xis[0]});
    return call(levels.lower, lowerArgs)[0];
  };
  core.lowerBefore = lowerLoss(phi.params);
  SmallVector<Value> stepped = emitPhiSteps(
      levels.phiStep, core.theta.params, flattenOptState(phi), v,
      int64_t(xis.size()),
      [&](int64_t step) { return SmallVector<Value>{hHat, xis[step]}; });
  phi.params = slice(stepped, 0, np);
  phi.first = slice(stepped, np, np);
  phi.second = slice(stepped, 2 * np, np);
  phi.t = stepped[3 * np];
  core.phi = phi;
  core.lowerAfter = lowerLoss(phi.params);
  return core;
}

LogicalResult StepBuilder::buildBidvl() {
  // readModel checks these too; kept for ModelInfos built by hand.
  if (!info_.generator || !info_.freeEnergy || !info_.posterior ||
      info_.posteriorKind != PosteriorKind::Gaussian)
    return emitError(loc_) << "model '" << info_.name
                           << "': method bidvl needs a free energy, a "
                           << "Gaussian posterior and a generator";
  if (spec_.innerSteps < 1)
    return emitError(loc_) << "model '" << info_.name
                           << "': method bidvl needs inner_steps >= 1";
  if (spec_.unrollSteps < 0)
    return emitError(loc_) << "model '" << info_.name
                           << "': unroll_steps must be >= 0";
  std::vector<std::string> names = {
      names_.trainStep, names_.trainStepWithNoise, names_.drawNoise,
      names_.thetaGradientWithNoise, names_.upper, names_.lower,
      names_.phiStep};
  if (spec_.unrollSteps > 0)
    names.push_back(names_.jBi);
  if (failed(requireUnusedNames(names, "the training step")))
    return failure();
  BidvlLevels levels;
  levels.upper = buildBidvlUpper();
  levels.lower = buildBidvlLower();
  levels.phiStep =
      buildPhiStep(levels.lower, names_.phiStep, spec_.phiOptimizer);
  if (spec_.unrollSteps > 0) {
    FailureOr<func::FuncOp> unrollStep =
        buildUnrollStep(levels.lower, levels.phiStep);
    if (failed(unrollStep))
      return failure();
    levels.unrollStep = *unrollStep;
    levels.jBi = buildBidvlJBi(levels.unrollStep, levels.upper);
  }
  func::FuncOp drawNoise = buildDrawNoise();

  func::FuncOp withNoise = startTrainStepWithNoise();
  BidvlCore core = emitBidvlCore(withNoise.getArguments(), levels, true);
  SmallVector<Value> out(core.theta.params);
  out.append(core.phi.params);
  out.append(core.theta.first);
  out.append(core.theta.second);
  out.append(core.phi.first);
  out.append(core.phi.second);
  out.push_back(core.theta.t);
  out.push_back(core.phi.t);
  out.append({core.j, core.lowerBefore, core.lowerAfter,
              gradientNorm(core.gradient)});
  ret(out);
  buildTrainStep(drawNoise, withNoise);

  func::FuncOp gradient = startFunction(names_.thetaGradientWithNoise,
                                        withNoiseArguments(), theta_, false);
  ret(emitBidvlCore(gradient.getArguments(), levels, false).gradient);
  return success();
}

} // namespace bism::train::detail
