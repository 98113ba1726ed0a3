//===- MethodImportance.cpp - method "importance" ------------------------===//
//
// Score matching (any objective; KSD gives the VaGES paper's IS-KSD
// baseline) on an importance-sampled free energy: L binary latents drawn
// uniformly from {0,1}^H, F̂(x) = −log (1/L) Σ_i p̃(x, h_i)/2^{−H}. Its
// x-gradient is the self-normalised importance-sampling estimate of the
// score, and the θ gradient goes exactly through the estimate (method
// marginal's step around F̂; docs/training.md "Method importance").
//
//===----------------------------------------------------------------------===//
#include "StepBuilder.h"

using namespace mlir;

namespace bism::train::detail {

/// @M__importance_free_energy_sum(x, θ..., u [L,B,H]) -> T: Σ_b F̂(x_b),
///   F̂(x) = −logsumexp_i(−E(x, h_i; θ)) + log L − H log 2,
///   h_i = [u_i < ½] (uniform on {0,1}^H, so p̃/π = 2^H e^{−E}),
/// the L energies unrolled (kMaxImportanceParticles bounds L).
func::FuncOp StepBuilder::buildImportanceFreeEnergySum() {
  int64_t particles = spec_.particles, batch = latent_.getDimSize(0),
          hidden = latent_.getDimSize(1);
  auto noiseType = RankedTensorType::get({particles, batch, hidden}, element_);
  SmallVector<Type> args = concat({visible_, theta_, {noiseType}});
  func::FuncOp func =
      startFunction(names_.freeEnergySum, args, {scalar_}, true);
  ValueRange a = func.getArguments();
  Value x = a.front(), u = a.back();
  auto row = RankedTensorType::get({1, batch}, element_);
  SmallVector<Value> negativeEnergies;
  for (int64_t i = 0; i < particles; ++i) {
    Value ui = db().reshape(
        db().slice(u, {i, 0, 0}, {i + 1, batch, hidden}, {1, 1, 1}), latent_);
    Value h = db().select(db().compare(ComparePredicate::lt, ui,
                                       splat(latent_, 0.5)),
                          splat(latent_, 1.0), splat(latent_, 0.0));
    SmallVector<Value> energyArgs{x, h};
    ValueRange theta = a.slice(1, theta_.size());
    energyArgs.append(theta.begin(), theta.end());
    negativeEnergies.push_back(
        db().reshape(db().neg(call(info_.energy, energyArgs)[0]), row));
  }
  auto stacked = RankedTensorType::get({particles, batch}, element_);
  Value all = ConcatOp::create(builder_, loc_, stacked, negativeEnergies,
                               builder_.getI64IntegerAttr(0));
  Value logSum = ReduceLogSumExpOp::create(builder_, loc_, perSample_, all,
                                           ArrayRef<int64_t>{0}, false);
  double offset = std::log(double(particles)) - double(hidden) * std::log(2.0);
  ret(db().add(sumAll(db().neg(logSum)), splat(scalar_, offset * double(batch))));
  return func;
}

LogicalResult StepBuilder::buildImportance() {
  // readModel rejects these too; kept for ModelInfos built by hand.
  if (spec_.particles < 1 || spec_.particles > kMaxImportanceParticles)
    return emitError(loc_) << "model '" << info_.name
                           << "': method importance needs 1 <= particles <= "
                           << kMaxImportanceParticles;
  if (failed(checkScoreMatchingStep()))
    return failure();
  buildScoreMatchingSteps(buildImportanceFreeEnergySum());
  return success();
}

} // namespace bism::train::detail
