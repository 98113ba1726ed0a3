//===- MethodContrastive.cpp - methods "cd" and "pcd" -------------------===//
//
// Contrastive divergence with k Gibbs sweeps of the model's sampler, from
// the data (CD-k) or from a persistent chain (PCD) (docs/training.md
// "Methods cd and pcd").
//
//===----------------------------------------------------------------------===//
#include "StepBuilder.h"

using namespace mlir;

namespace bism::train::detail {

/// @M__gibbs_chain(x, θ..., u_h_0, z_v_0, ..., u_h_{k−1}, z_v_{k−1}) -> v_k:
/// k sweeps of the model's Gibbs function G from x.
func::FuncOp StepBuilder::buildGibbsChain() {
  SmallVector<Type> args = concat({visible_, theta_});
  for (int64_t i = 0; i < spec_.gibbsSteps; ++i)
    args.append({latent_, visible_});
  func::FuncOp func = startFunction(names_.gibbsChain, args, {visible_}, true);
  ValueRange a = func.getArguments();
  size_t nt = theta_.size();
  Value x = a[0];
  for (int64_t i = 0; i < spec_.gibbsSteps; ++i) {
    SmallVector<Value> sweepArgs{x};
    for (size_t index : info_.gibbsParams)
      sweepArgs.push_back(a[1 + index]);
    sweepArgs.push_back(a[1 + nt + 2 * i]);
    sweepArgs.push_back(a[2 + nt + 2 * i]);
    x = call(info_.gibbs, sweepArgs)[0];
  }
  ret(x);
  return func;
}

/// @M__cd_objective(θ..., v, v_k) -> mean_b F(v_b) − mean_b
/// F(stop_gradient(v_k)_b): its θ gradient is the CD gradient.
func::FuncOp StepBuilder::buildCdObjective(func::FuncOp freeEnergySum) {
  SmallVector<Type> args = concat({theta_, visible_, visible_});
  func::FuncOp func = startFunction(names_.cdObjective, args, {scalar_}, true);
  ValueRange a = func.getArguments();
  size_t nt = theta_.size();
  SmallVector<Value> theta = slice(a, 0, nt);
  auto meanF = [&](Value x) {
    SmallVector<Value> feArgs{x};
    feArgs.append(theta);
    return scaled(call(freeEnergySum, feArgs)[0],
                  1.0 / double(info_.batchSize()));
  };
  Value negative = StopGradientOp::create(builder_, loc_, a[nt + 1]).getResult();
  ret(db().sub(meanF(a[nt]), meanF(negative)));
  return func;
}

StepBuilder::ContrastiveCore
StepBuilder::emitContrastiveCore(ValueRange a, func::FuncOp gibbsChain,
                                 func::FuncOp cdObjective, bool withGap) {
  size_t nt = theta_.size();
  bool persistent = spec_.method == Method::PCD;
  size_t vIndex = 3 * nt + 1 + (persistent ? 1 : 0);
  Value v = a[vIndex];
  ValueRange noise = a.drop_front(vIndex + 1);
  SmallVector<Value> theta = slice(a, 0, nt);
  // CD starts the chain at the data batch, PCD at the carried chain.
  SmallVector<Value> chainArgs{persistent ? a[3 * nt + 1] : v};
  chainArgs.append(theta);
  chainArgs.append(noise.begin(), noise.end());
  ContrastiveCore core;
  core.chain = call(gibbsChain, chainArgs)[0];
  SmallVector<Value> objArgs(theta);
  objArgs.push_back(v);
  objArgs.push_back(core.chain);
  if (withGap)
    core.gap = call(cdObjective, objArgs)[0];
  SmallVector<int64_t> wrt;
  for (size_t i = 0; i < nt; ++i)
    wrt.push_back(i);
  auto grad = GradOp::create(builder_, loc_, TypeRange(theta_),
                             cdObjective.getSymName(), objArgs, wrt);
  core.gradient.assign(grad.getResults().begin(), grad.getResults().end());
  return core;
}

/// @train_step_with_noise(θ..., m..., s..., t_theta, [chain], v, noise...)
///   -> (θ'..., m'..., s'..., t_theta', [v_k], fe_gap, ‖∇θ‖).
func::FuncOp
StepBuilder::buildContrastiveTrainStepWithNoise(func::FuncOp gibbsChain,
                                                func::FuncOp cdObjective) {
  func::FuncOp func = startTrainStepWithNoise();
  ValueRange a = func.getArguments();
  ContrastiveCore core =
      emitContrastiveCore(a, gibbsChain, cdObjective, /*withGap=*/true);
  OptState next =
      optimizerStep(spec_.thetaOptimizer, thetaStateOf(a), core.gradient);
  SmallVector<Value> out(next.params);
  out.append(next.first);
  out.append(next.second);
  out.push_back(next.t);
  if (spec_.method == Method::PCD)
    out.push_back(core.chain);
  out.push_back(core.gap);
  out.push_back(gradientNorm(core.gradient));
  ret(out);
  return func;
}

/// @theta_gradient_with_noise(as train_step_with_noise) -> ∇θ cd_objective.
func::FuncOp StepBuilder::buildContrastiveThetaGradientWithNoise(
    func::FuncOp gibbsChain, func::FuncOp cdObjective) {
  func::FuncOp func = startFunction(names_.thetaGradientWithNoise,
                                    withNoiseArguments(), theta_, false);
  ret(emitContrastiveCore(func.getArguments(), gibbsChain, cdObjective,
                          /*withGap=*/false)
          .gradient);
  return func;
}

LogicalResult StepBuilder::buildContrastive() {
  if (!info_.gibbs || spec_.gibbsSteps < 1 || !latent_)
    return emitError(loc_) << "model '" << info_.name
                           << "': methods cd and pcd need a gibbs function "
                           << "and gibbs_steps >= 1";
  if (failed(requireUnusedNames(
          {names_.trainStep, names_.trainStepWithNoise, names_.drawNoise,
           names_.thetaGradientWithNoise, names_.freeEnergySum,
           names_.gibbsChain, names_.cdObjective},
          "the training step")))
    return failure();
  func::FuncOp freeEnergySum = buildFreeEnergySum();
  func::FuncOp gibbsChain = buildGibbsChain();
  func::FuncOp cdObjective = buildCdObjective(freeEnergySum);
  func::FuncOp drawNoise = buildDrawNoise();
  func::FuncOp withNoise =
      buildContrastiveTrainStepWithNoise(gibbsChain, cdObjective);
  buildTrainStep(drawNoise, withNoise);
  buildContrastiveThetaGradientWithNoise(gibbsChain, cdObjective);
  return success();
}

} // namespace bism::train::detail
