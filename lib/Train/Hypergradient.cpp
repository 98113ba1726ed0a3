//===- Hypergradient.cpp - method "bism", hypergradient = "implicit" -------===//
//
// The θ gradient of J(θ, φ*(θ)), φ* a minimiser of the lower level G, by the
// implicit function theorem instead of N unrolled φ steps
// (docs/training.md "Implicit hypergradient"): at φ = φᴷ, after the K plain
// steps,
//   dJ/dθ = ∂J/∂θ − (∂²G/∂θ∂φ)ᵀ v,   (∂²G/∂φ² + λI) v = ∂J/∂φ,
// with v from cg_iterations conjugate-gradient steps (unrolled, a static
// count) on Hessian-vector products of G in φ. G and J take the upper
// level's posterior noise, so both are deterministic in (θ, φ) and the
// Hessian is that of one function.
//
//===----------------------------------------------------------------------===//
#include "StepBuilder.h"

using namespace mlir;

namespace bism::train::detail {

Value StepBuilder::innerProduct(ValueRange a, ValueRange b) {
  Value sum;
  for (auto [x, y] : llvm::zip_equal(a, b)) {
    Value term = sumAll(db().mul(x, y));
    sum = sum ? db().add(sum, term) : term;
  }
  return sum ? sum : splat(scalar_, 0.0);
}

func::FuncOp StepBuilder::buildLowerPhiGradientDot(func::FuncOp lower) {
  SmallVector<Type> args =
      concat({theta_, phi_, visible_, posteriorNoiseTypes(1), phi_});
  func::FuncOp func =
      startFunction(names_.lowerPhiGradientDot, args, {scalar_}, true);
  ValueRange a = func.getArguments();
  size_t nt = theta_.size(), np = phi_.size();
  SmallVector<Value> lowerArgs(a.drop_back(np));
  SmallVector<int64_t> phiIndices;
  for (size_t i = 0; i < np; ++i)
    phiIndices.push_back(int64_t(nt + i));
  auto gradient = GradOp::create(builder_, loc_, TypeRange(phi_),
                                 lower.getSymName(), lowerArgs, phiIndices);
  ret(innerProduct(gradient.getResults(), a.take_back(np)));
  return func;
}

FailureOr<func::FuncOp>
StepBuilder::buildImplicitGradient(func::FuncOp lower, func::FuncOp upper) {
  // readSpec refuses this; kept for ModelInfos built by hand.
  if (spec_.unrollSteps != 0)
    return emitError(loc_) << "model '" << info_.name
                           << "': hypergradient = \"implicit\" takes no "
                           << "unrolled steps (unroll_steps = 0)";
  if (failed(requireUnusedNames(
          {names_.implicitGradient, names_.lowerPhiGradientDot},
          "the training step")))
    return failure();
  func::FuncOp gradientDot = buildLowerPhiGradientDot(lower);

  SmallVector<Type> args = concat(
      {theta_, phi_, visible_, objectiveNoiseTypes(), posteriorNoiseTypes(1)});
  SmallVector<Type> results = concat({{scalar_}, theta_, {scalar_}});
  func::FuncOp func =
      startFunction(names_.implicitGradient, args, results, true);
  ValueRange a = func.getArguments();
  size_t nt = theta_.size(), np = phi_.size();
  SmallVector<Value> theta = slice(a, 0, nt);
  SmallVector<Value> phi = slice(a, nt, np);
  Value x = a[nt + np];
  ValueRange noise = a.drop_front(nt + np + 1 + objectiveNoiseTypes().size());
  SmallVector<Value> lowerArgs(theta);
  lowerArgs.append(phi);
  lowerArgs.push_back(x);
  lowerArgs.append(noise.begin(), noise.end());
  SmallVector<int64_t> thetaIndices, phiIndices;
  for (size_t i = 0; i < nt + np; ++i)
    (i < nt ? thetaIndices : phiIndices).push_back(int64_t(i));

  // J and its partial derivatives at fixed φ; b = ∂J/∂φ is CG's right side.
  Value j = call(upper, a)[0];
  SmallVector<int64_t> thetaAndPhi(thetaIndices);
  thetaAndPhi.append(phiIndices);
  auto partials = GradOp::create(builder_, loc_, TypeRange(concat({theta_, phi_})),
                                 upper.getSymName(), a, thetaAndPhi);
  SmallVector<Value> dJdTheta = slice(partials.getResults(), 0, nt);
  SmallVector<Value> b = slice(partials.getResults(), nt, np);

  // (∂²G/∂φ² + λI) p, forward over reverse.
  auto dampedHessianTimes = [&](ValueRange direction) {
    SmallVector<Value> operands(lowerArgs);
    operands.append(direction.begin(), direction.end());
    auto hvp = HvpOp::create(builder_, loc_, TypeRange(phi_),
                             lower.getSymName(), operands, phiIndices);
    SmallVector<Value> out;
    for (auto [hp, p] : llvm::zip_equal(hvp.getResults(), direction))
      out.push_back(spec_.cgDamping > 0
                        ? db().add(hp, scaled(p, spec_.cgDamping))
                        : Value(hp));
    return out;
  };
  // y + c x over the φ tensors, c a scalar.
  auto plusScaled = [&](ValueRange y, Value c, ValueRange x) {
    SmallVector<Value> out;
    for (auto [yi, xi] : llvm::zip_equal(y, x))
      out.push_back(db().add(
          yi, db().mul(db().broadcastTo(
                           c, cast<RankedTensorType>(xi.getType())),
                       xi)));
    return out;
  };
  Value zero = splat(scalar_, 0.0), one = splat(scalar_, 1.0);
  // c / d, and 0 where d ≤ 0 (no NaN from a converged or flat direction).
  auto divideIfPositive = [&](Value c, Value d) {
    Value positive = db().compare(ComparePredicate::gt, d, zero);
    return db().select(positive, db().div(c, db().select(positive, d, one)),
                       zero);
  };

  // Conjugate gradients from v = 0. CG needs positive curvature: at the
  // first direction with pᵀAp ≤ 0 (φᴷ not at a minimum of G and λ too
  // small, or r = 0 once solved) it stops for good (`active` = 0), leaving
  // v where it was; cg_residual then reports how far from solved that is.
  SmallVector<Value> v, r(b), p(b);
  for (Value bi : b)
    v.push_back(db().zerosLike(bi));
  Value rr = innerProduct(r, r), active = one;
  for (int64_t iteration = 0; iteration < spec_.cgIterations; ++iteration) {
    SmallVector<Value> ap = dampedHessianTimes(p);
    Value pap = innerProduct(p, ap);
    active = db().select(db().compare(ComparePredicate::gt, pap, zero),
                         active, zero);
    Value alpha = db().mul(active, divideIfPositive(rr, pap));
    v = plusScaled(v, alpha, p);
    r = plusScaled(r, db().neg(alpha), ap);
    Value rrNext = innerProduct(r, r);
    p = plusScaled(r, divideIfPositive(rrNext, rr), p);
    rr = rrNext;
  }

  // (∂²G/∂θ∂φ)ᵀ v = ∇θ ⟨∇φ G(θ, φ), v⟩ with v held fixed.
  SmallVector<Value> dotArgs(lowerArgs);
  dotArgs.append(v);
  auto mixed = GradOp::create(builder_, loc_, TypeRange(theta_),
                              gradientDot.getSymName(), dotArgs, thetaIndices);
  SmallVector<Value> out{j};
  for (auto [partial, correction] : llvm::zip_equal(dJdTheta, mixed.getResults()))
    out.push_back(db().sub(partial, correction));

  // ‖b − (H + λI)v‖ / ‖b‖ from a fresh product (not CG's recursive r,
  // which drifts from the true residual in finite precision); 0 for b = 0.
  SmallVector<Value> residual;
  for (auto [bi, avi] : llvm::zip_equal(b, dampedHessianTimes(v)))
    residual.push_back(db().sub(bi, avi));
  out.push_back(
      divideIfPositive(gradientNorm(residual), gradientNorm(b)));
  ret(out);
  return func;
}

} // namespace bism::train::detail
