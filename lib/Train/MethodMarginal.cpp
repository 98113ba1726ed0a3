//===- MethodMarginal.cpp - method "marginal" ---------------------------===//
//
// Score matching on a free energy F(v; θ): s = −∇_x Σ_b F(x_b; θ), the
// objectives, optimiser and noise of the shared builder, no posterior and
// no lower level (docs/training.md "Method marginal").
//
//===----------------------------------------------------------------------===//
#include "StepBuilder.h"

using namespace mlir;

namespace bism::train::detail {

/// @M__free_energy_sum(x, θ...) -> T: Σ_b F(x_b; θ).
func::FuncOp StepBuilder::buildFreeEnergySum() {
  SmallVector<Type> args = concat({visible_, freeEnergyTheta()});
  func::FuncOp func = startFunction(names_.freeEnergySum, args, {scalar_}, true);
  ret(sumAll(call(info_.freeEnergy, func.getArguments())[0]));
  return func;
}

/// @M__score(x, θ..., [extra...]) -> [B,D]: s = −∇_x free_energy_sum, with
/// free_energy_sum's arguments (method importance adds its particles' noise).
func::FuncOp StepBuilder::buildMarginalScore(func::FuncOp freeEnergySum) {
  SmallVector<Type> args(freeEnergySum.getArgumentTypes());
  func::FuncOp func = startFunction(names_.score, args, {visible_}, true);
  Value g = GradOp::create(builder_, loc_, TypeRange{visible_},
                           freeEnergySum.getSymName(), func.getArguments(),
                           ArrayRef<int64_t>{0})
                .getResult(0);
  ret(db().neg(g));
  return func;
}

/// The arguments free_energy_sum takes after x and θ (none for method
/// marginal; the particles' noise for method importance).
static SmallVector<Type> extraFreeEnergyTypes(func::FuncOp freeEnergySum,
                                              size_t numTheta) {
  return SmallVector<Type>(
      freeEnergySum.getArgumentTypes().drop_front(1 + numTheta));
}

/// @M__upper(θ..., x, [objnoise], [extra...]) -> J(θ): perSampleObjective
/// with s = score(x, θ, extra) and the Hessian-vector products of
/// free_energy_sum.
func::FuncOp StepBuilder::buildMarginalUpper(func::FuncOp freeEnergySum,
                                             func::FuncOp score) {
  size_t nt = theta_.size();
  SmallVector<Type> objectiveNoise = objectiveNoiseTypes();
  SmallVector<Type> extra = extraFreeEnergyTypes(freeEnergySum, nt);
  SmallVector<Type> args = concat({theta_, visible_, objectiveNoise, extra});
  func::FuncOp func = startFunction(names_.upper, args, {scalar_}, true);
  ValueRange a = func.getArguments();
  Value x = a[nt];
  Value objNoise = objectiveNoise.empty() ? Value() : a[nt + 1];
  SmallVector<Value> feArgs{x};
  feArgs.append(a.begin(), a.begin() + nt);
  ValueRange extraArgs = a.take_back(extra.size());
  feArgs.append(extraArgs.begin(), extraArgs.end());
  Value s = call(score, feArgs)[0];
  ret(meanBatch(perSampleObjective(freeEnergySum, feArgs, s, objNoise)));
  return func;
}

/// The step's arguments θ, m, s, t, v, then its noise: the objective's,
/// then free_energy_sum's extra arguments; upper's in its order.
std::pair<Value, SmallVector<Value>>
StepBuilder::emitMarginalCore(ValueRange a, func::FuncOp upper, bool withJ) {
  size_t nt = theta_.size();
  size_t vIndex = 3 * nt + 1;
  Value v = a[vIndex];
  ValueRange noise = a.drop_front(vIndex + 1);
  ValueRange objNoise = noise.take_front(objectiveNoiseTypes().size());
  Value x = objectiveInput(v, objNoise);
  SmallVector<Value> upperArgs = slice(a, 0, nt);
  upperArgs.push_back(x);
  upperArgs.append(noise.begin(), noise.end());
  Value j = withJ ? meanOverRanks(call(upper, upperArgs)[0]) : Value();
  SmallVector<int64_t> wrt;
  for (size_t i = 0; i < nt; ++i)
    wrt.push_back(i);
  auto grad = GradOp::create(builder_, loc_, TypeRange(theta_),
                             upper.getSymName(), upperArgs, wrt);
  return {j, meanOverRanks(grad.getResults())};
}

/// @train_step_with_noise(θ..., m..., s..., t_theta, v, [noise])
///   -> (θ'..., m'..., s'..., t_theta', J, ‖∇θ J‖).
func::FuncOp StepBuilder::buildMarginalTrainStepWithNoise(func::FuncOp upper) {
  func::FuncOp func = startTrainStepWithNoise();
  ValueRange a = func.getArguments();
  auto [j, gradient] = emitMarginalCore(a, upper, /*withJ=*/true);
  OptState next = optimizerStep(spec_.thetaOptimizer, thetaStateOf(a), gradient);
  SmallVector<Value> out(next.params);
  out.append(next.first);
  out.append(next.second);
  out.push_back(next.t);
  out.push_back(j);
  out.push_back(gradientNorm(gradient));
  ret(out);
  return func;
}

/// @theta_gradient_with_noise(θ..., m..., s..., t_theta, v, [noise]) -> ∇θ J.
func::FuncOp
StepBuilder::buildMarginalThetaGradientWithNoise(func::FuncOp upper) {
  func::FuncOp func = startFunction(names_.thetaGradientWithNoise,
                                    withNoiseArguments(), theta_, false);
  ret(emitMarginalCore(func.getArguments(), upper, /*withJ=*/false).second);
  return func;
}

LogicalResult StepBuilder::buildMarginal() {
  if (failed(checkScoreMatchingStep()))
    return failure();
  buildScoreMatchingSteps(buildFreeEnergySum());
  return success();
}

LogicalResult StepBuilder::checkScoreMatchingStep() {
  if (spec_.objective == Objective::SM &&
      visible_.getDimSize(1) > kMaxExactTraceDims)
    return emitError(loc_) << "model '" << info_.name
                           << "': objective \"sm\" takes one Hessian-vector "
                           << "product per visible dimension; D = "
                           << visible_.getDimSize(1) << " exceeds "
                           << kMaxExactTraceDims;
  return requireUnusedNames({names_.trainStep, names_.trainStepWithNoise,
                             names_.drawNoise, names_.thetaGradientWithNoise,
                             names_.freeEnergySum, names_.score, names_.upper},
                            "the training step");
}

void StepBuilder::buildScoreMatchingSteps(func::FuncOp freeEnergySum) {
  func::FuncOp score = buildMarginalScore(freeEnergySum);
  func::FuncOp upper = buildMarginalUpper(freeEnergySum, score);
  func::FuncOp drawNoise = buildDrawNoise();
  func::FuncOp withNoise = buildMarginalTrainStepWithNoise(upper);
  buildTrainStep(drawNoise, withNoise);
  buildMarginalThetaGradientWithNoise(upper);
}

} // namespace bism::train::detail
