//===- BuildTrainStep.cpp - the BiSM training step as bism IR -------------===//
//
// Algorithm 1 of BiSM (DESIGN §2, docs/training.md "The training step"):
// K plain optimiser steps of φ on the lower-level loss G, then the θ gradient
// of J(θ, φᴺ(θ)) through N differentiable optimiser steps, then the optimiser
// step of θ. Every function is emitted in the bism dialect with AD ops; the
// K and N loops are unrolled here, in straight-line IR. The pieces the other
// methods share (posterior, energy, objectives, optimisers, noise, the public
// step functions) are here too; each other method is its own file
// (StepBuilder.h lists them).
//
//===----------------------------------------------------------------------===//
#include "StepBuilder.h"

#include "bism/Autodiff/Autodiff.h"
#include "bism/Lowering/Passes.h"
#include "bism/Train/ResolveONNX.h"
#include "bism/Train/SpecializeBatch.h"
#include "bism/Train/SpectralNorm.h"

#include "mlir/IR/Verifier.h"

using namespace mlir;

namespace bism::train {

using namespace detail;

TrainStepNames trainStepNames(const ModelInfo &info,
                              const BuildTrainStepOptions &options) {
  TrainStepNames names;
  names.trainStep = options.publicPrefix + "train_step";
  names.trainStepWithNoise = options.publicPrefix + "train_step_with_noise";
  names.drawNoise = options.publicPrefix + "draw_noise";
  names.thetaGradientWithNoise =
      options.publicPrefix + "theta_gradient_with_noise";
  std::string p = info.name + "__";
  names.samplePosterior = p + "sample_posterior";
  names.logQ = p + "log_q";
  names.energySum = p + "energy_sum";
  names.negLogJoint = p + "neg_log_joint";
  names.score = p + "score";
  names.upper = p + "upper";
  names.lower = p + "lower";
  names.phiStep = p + "phi_step";
  names.unrollStep = p + "unroll_step";
  names.jBi = p + "j_bi";
  names.implicitGradient = p + "implicit_gradient";
  names.lowerPhiGradientDot = p + "lower_phi_gradient_dot";
  names.freeEnergySum = p + "free_energy_sum";
  names.gibbsChain = p + "gibbs_chain";
  names.cdObjective = p + "cd_objective";
  names.sampleHard = p + "sample_hard";
  names.vagesGradient = p + "vages_gradient";
  names.vagesSurrogate = p + "vages_surrogate";
  names.scoreObjective = p + "score_objective";
  return names;
}

std::vector<double> mdsmSigmas(const TrainSpec &spec, int64_t batchSize) {
  std::vector<double> sigmas(batchSize);
  for (int64_t b = 0; b < batchSize; ++b) {
    double f = batchSize > 1 ? double(b) / double(batchSize - 1) : 0.0;
    sigmas[b] = spec.noiseSchedule == NoiseSchedule::Geometric
                    ? std::exp(std::log(spec.sigmaMin) +
                               f * (std::log(spec.sigmaMax) -
                                    std::log(spec.sigmaMin)))
                    : spec.sigmaMin + f * (spec.sigmaMax - spec.sigmaMin);
  }
  return sigmas;
}

TrainStepSignature trainStepSignature(const ModelInfo &info) {
  TrainStepSignature sig;
  auto scalar = RankedTensorType::get({}, info.visibleType.getElementType());
  auto addGroup = [&](StringRef prefix, ParamGroup group) {
    for (const ParamInfo &param : info.params)
      if (param.group == group)
        sig.state.push_back({(prefix + "." + param.name).str(), param.type});
  };
  const TrainSpec &spec = info.spec;
  if (spec.method == Method::Marginal || spec.method == Method::Importance) {
    // θ, m_θ, s_θ, t_theta; the objective's noise (importance: then the
    // particles' u [L,B,H]); J and ‖∇θ J‖.
    addGroup("theta", ParamGroup::Theta);
    addGroup("m_theta", ParamGroup::Theta);
    addGroup("s_theta", ParamGroup::Theta);
    sig.state.push_back({"t_theta", scalar});
    sig.batch = {"v", info.visibleType};
    if (hasObjectiveNoise(spec))
      sig.noise.push_back({spec.objective == Objective::SSM ? "u" : "eps",
                           info.visibleType});
    if (spec.method == Method::Importance)
      sig.noise.push_back(
          {"particles.u",
           RankedTensorType::get({spec.particles, info.latentType.getDimSize(0),
                                  info.latentType.getDimSize(1)},
                                 info.latentType.getElementType())});
    for (const char *name : {"J", "grad_norm_theta"})
      sig.metrics.push_back({name, scalar});
    return sig;
  }
  // θ, φ and both optimisers' moments and step counts (bism, vages, bidvl).
  auto addBilevelState = [&]() {
    addGroup("theta", ParamGroup::Theta);
    addGroup("phi", ParamGroup::Phi);
    addGroup("m_theta", ParamGroup::Theta);
    addGroup("s_theta", ParamGroup::Theta);
    addGroup("m_phi", ParamGroup::Phi);
    addGroup("s_phi", ParamGroup::Phi);
    sig.state.push_back({"t_theta", scalar});
    sig.state.push_back({"t_phi", scalar});
  };
  if (spec.method == Method::BiDVL) {
    // BiSM's state; the generator's latents ĥ, then ξ per unrolled step,
    // then ξ per lower step (the order the step consumes them).
    addBilevelState();
    sig.batch = {"v", info.visibleType};
    sig.noise.push_back({"generator.h", info.latentType});
    for (int64_t n = 0; n < spec.unrollSteps; ++n)
      sig.noise.push_back({"unroll" + std::to_string(n) + ".xi", info.latentType});
    for (int64_t k = 0; k < spec.innerSteps; ++k)
      sig.noise.push_back({"lower" + std::to_string(k) + ".xi", info.latentType});
    for (const char *name : {"J", "lower_before", "lower_after", "grad_norm_theta"})
      sig.metrics.push_back({name, scalar});
    return sig;
  }
  if (spec.method == Method::CD || spec.method == Method::PCD) {
    // θ, m_θ, s_θ, t_theta, [chain]; per sweep u_h, z_v; gap and ‖∇θ‖.
    addGroup("theta", ParamGroup::Theta);
    addGroup("m_theta", ParamGroup::Theta);
    addGroup("s_theta", ParamGroup::Theta);
    sig.state.push_back({"t_theta", scalar});
    if (spec.method == Method::PCD)
      sig.state.push_back({"chain", info.visibleType});
    sig.batch = {"v", info.visibleType};
    for (int64_t i = 0; i < spec.gibbsSteps; ++i) {
      std::string sweep = "gibbs" + std::to_string(i);
      sig.noise.push_back({sweep + ".u_h", info.latentType});
      sig.noise.push_back({sweep + ".z_v", info.visibleType});
    }
    for (const char *name : {"fe_gap", "grad_norm_theta"})
      sig.metrics.push_back({name, scalar});
    return sig;
  }
  addBilevelState();
  sig.batch = {"v", info.visibleType};

  if (hasObjectiveNoise(spec))
    sig.noise.push_back({spec.objective == Objective::SSM ? "u" : "eps",
                         info.visibleType});
  auto addPosterior = [&](const std::string &stage) {
    if (info.posteriorKind == PosteriorKind::Bernoulli) {
      sig.noise.push_back({stage + ".g1", info.latentType});
      sig.noise.push_back({stage + ".g2", info.latentType});
    } else {
      sig.noise.push_back({stage + ".xi", info.latentType});
    }
  };
  for (int64_t k = 0; k < spec.innerSteps; ++k)
    addPosterior("inner" + std::to_string(k));
  if (spec.method == Method::VaGES) {
    // The lower-level metrics' stage, then each group's L particles at once.
    addPosterior("lower");
    auto particles = RankedTensorType::get(
        {spec.particles, info.latentType.getDimSize(0),
         info.latentType.getDimSize(1)},
        info.latentType.getElementType());
    for (const std::string &group : vagesParticleGroups(info)) {
      if (hardParticles(info)) {
        sig.noise.push_back({group + ".u", particles});
      } else if (info.posteriorKind == PosteriorKind::Bernoulli) {
        sig.noise.push_back({group + ".g1", particles});
        sig.noise.push_back({group + ".g2", particles});
      } else {
        sig.noise.push_back({group + ".xi", particles});
      }
    }
  } else {
    for (int64_t n = 0; n < spec.unrollSteps; ++n)
      addPosterior("unroll" + std::to_string(n));
    addPosterior("upper");
  }

  for (const char *name : {"J", "lower_before", "lower_after", "grad_norm_theta"})
    sig.metrics.push_back({name, scalar});
  if (spec.method == Method::BiSM &&
      spec.hypergradient == Hypergradient::Implicit)
    sig.metrics.push_back({"cg_residual", scalar});
  return sig;
}

namespace detail {

//===----------------------------------------------------------------------===//
// Posterior
//===----------------------------------------------------------------------===//

/// @M__sample_posterior(x, φ..., noise...) -> h.
///   Gaussian:  h = μ + exp(logσ) ⊙ ξ
///   Bernoulli: h = sigmoid((ℓ + g1 − g2) / τ)
func::FuncOp StepBuilder::buildSamplePosterior() {
  SmallVector<Type> args = concat({visible_, phi_, posteriorNoiseTypes(1)});
  func::FuncOp func =
      startFunction(names_.samplePosterior, args, {latent_}, /*private=*/true);
  ValueRange a = func.getArguments();
  SmallVector<Value> postArgs = slice(a, 0, 1 + phi_.size());
  SmallVector<Value> out = call(info_.posterior, postArgs);
  ValueRange noise = a.drop_front(1 + phi_.size());
  Value h;
  if (info_.posteriorKind == PosteriorKind::Gaussian) {
    h = db().add(out[0], db().mul(db().create<ExpOp>(out[1]), noise[0]));
  } else {
    Value logistic = db().sub(noise[0], noise[1]);
    Value pre = db().add(out[0], logistic);
    h = db().create<SigmoidOp>(scaled(pre, 1.0 / info_.temperature));
  }
  ret(h);
  return func;
}

/// @M__log_q(x, h, φ...) -> [B].
///   Gaussian:  Σ_j [−½((h−μ)/σ)² − logσ − ½ log 2π]
///   Bernoulli: Σ_j [h·ℓ − softplus(ℓ)]
func::FuncOp StepBuilder::buildLogQ() {
  SmallVector<Type> args = concat({visible_, latent_, phi_});
  func::FuncOp func = startFunction(names_.logQ, args, {perSample_}, true);
  ValueRange a = func.getArguments();
  SmallVector<Value> postArgs{a[0]};
  postArgs.append(a.begin() + 2, a.end());
  SmallVector<Value> out = call(info_.posterior, postArgs);
  Value h = a[1];
  Value terms;
  if (info_.posteriorKind == PosteriorKind::Gaussian) {
    Value mu = out[0], logStd = out[1];
    Value z = db().mul(db().sub(h, mu), db().create<ExpOp>(db().neg(logStd)));
    Value quad = scaled(db().create<SquareOp>(z), -0.5);
    terms = db().sub(quad, logStd);
    terms = db().sub(terms, splat(latent_, 0.91893853320467274178 /* ½ log 2π */));
  } else {
    Value logits = out[0];
    terms = db().sub(db().mul(h, logits), db().create<SoftplusOp>(logits));
  }
  ret(sumAxis(terms, 1));
  return func;
}

//===----------------------------------------------------------------------===//
// Energy, joint, score
//===----------------------------------------------------------------------===//

/// @M__energy_sum(x, h, θ...) -> Σ_b E(x_b, h_b; θ).
func::FuncOp StepBuilder::buildEnergySum() {
  SmallVector<Type> args = concat({visible_, latent_, theta_});
  func::FuncOp func = startFunction(names_.energySum, args, {scalar_}, true);
  SmallVector<Value> energy = call(info_.energy, func.getArguments());
  ret(sumAxis(energy[0], 0));
  return func;
}

/// @M__neg_log_joint(x, h, θ..., φ...) -> Σ_b [E(x,h;θ) + log q(h|x;φ)].
func::FuncOp StepBuilder::buildNegLogJoint(func::FuncOp energySum,
                                           func::FuncOp logQ) {
  SmallVector<Type> args = concat({visible_, latent_, theta_, phi_});
  func::FuncOp func = startFunction(names_.negLogJoint, args, {scalar_}, true);
  ValueRange a = func.getArguments();
  Value e = call(energySum, slice(a, 0, 2 + theta_.size()))[0];
  SmallVector<Value> qArgs{a[0], a[1]};
  qArgs.append(a.begin() + 2 + theta_.size(), a.end());
  Value lq = sumAxis(call(logQ, qArgs)[0], 0);
  ret(db().add(e, lq));
  return func;
}

/// @M__score(x, h, θ..., φ...) -> s = −∇_x neg_log_joint (h held fixed).
func::FuncOp StepBuilder::buildScore(func::FuncOp negLogJoint) {
  SmallVector<Type> args = concat({visible_, latent_, theta_, phi_});
  func::FuncOp func = startFunction(names_.score, args, {visible_}, true);
  Value grad = GradOp::create(builder_, loc_, TypeRange{visible_},
                              negLogJoint.getSymName(), func.getArguments(),
                              ArrayRef<int64_t>{0})
                   .getResult(0);
  ret(db().neg(grad));
  return func;
}

//===----------------------------------------------------------------------===//
// Objectives
//===----------------------------------------------------------------------===//

/// @M__lower(θ..., φ..., x, noise...) -> G(θ, φ), h = sample(x, φ, noise):
///   KL:     mean_b [log q(h|x;φ) + E(x,h;θ)]
///   Fisher: ½ mean_b ‖∇_h (log q(h|x;φ) + E(x,h;θ))‖²
func::FuncOp StepBuilder::buildLower(func::FuncOp sample, func::FuncOp logQ,
                                     func::FuncOp energySum,
                                     func::FuncOp negLogJoint) {
  (void)energySum;
  SmallVector<Type> args =
      concat({theta_, phi_, visible_, posteriorNoiseTypes(1)});
  func::FuncOp func = startFunction(names_.lower, args, {scalar_}, true);
  ValueRange a = func.getArguments();
  SmallVector<Value> theta = slice(a, 0, theta_.size());
  SmallVector<Value> phi = slice(a, theta_.size(), phi_.size());
  Value x = a[theta_.size() + phi_.size()];
  ValueRange noise = a.drop_front(theta_.size() + phi_.size() + 1);

  SmallVector<Value> sampleArgs{x};
  sampleArgs.append(phi);
  sampleArgs.append(noise.begin(), noise.end());
  Value h = call(sample, sampleArgs)[0];

  Value g;
  if (spec_.divergence == Divergence::KL) {
    SmallVector<Value> qArgs{x, h};
    qArgs.append(phi);
    Value lq = call(logQ, qArgs)[0];
    SmallVector<Value> eArgs{x, h};
    eArgs.append(theta);
    Value e = call(info_.energy, eArgs)[0];
    g = meanBatch(db().add(lq, e));
  } else {
    SmallVector<Value> jointArgs{x, h};
    jointArgs.append(theta);
    jointArgs.append(phi);
    g = meanBatch(posteriorFisherPerSample(negLogJoint, jointArgs));
  }
  ret(g);
  return func;
}

Value StepBuilder::posteriorFisherPerSample(func::FuncOp negLogJoint,
                                            ValueRange jointArgs) {
  Value gradH = GradOp::create(builder_, loc_, TypeRange{latent_},
                               negLogJoint.getSymName(), jointArgs,
                               ArrayRef<int64_t>{1})
                    .getResult(0);
  return scaled(sumAxis(db().create<SquareOp>(gradH), 1), 0.5);
}

/// @M__upper(θ..., φ..., x, [objnoise,] noise...) -> J(θ, φ), with
/// h = sample(stop_gradient(x), φ, noise) and s = score(x, h, θ, φ); the
/// per-sample terms are perSampleObjective's. SM takes no objnoise.
func::FuncOp StepBuilder::buildUpper(func::FuncOp sample,
                                     func::FuncOp negLogJoint,
                                     func::FuncOp score) {
  SmallVector<Type> args = concat(
      {theta_, phi_, visible_, objectiveNoiseTypes(), posteriorNoiseTypes(1)});
  func::FuncOp func = startFunction(names_.upper, args, {scalar_}, true);
  ValueRange a = func.getArguments();
  size_t nt = theta_.size(), np = phi_.size();
  SmallVector<Value> theta = slice(a, 0, nt);
  SmallVector<Value> phi = slice(a, nt, np);
  Value x = a[nt + np];
  size_t numObj = objectiveNoiseTypes().size();
  Value objNoise = numObj ? a[nt + np + 1] : Value();
  ValueRange noise = a.drop_front(nt + np + 1 + numObj);

  Value stopped = StopGradientOp::create(builder_, loc_, x).getResult();
  SmallVector<Value> sampleArgs{stopped};
  sampleArgs.append(phi);
  sampleArgs.append(noise.begin(), noise.end());
  Value h = call(sample, sampleArgs)[0];

  SmallVector<Value> jointArgs{x, h};
  jointArgs.append(theta);
  jointArgs.append(phi);
  Value s = call(score, jointArgs)[0];
  ret(meanBatch(perSampleObjective(negLogJoint, jointArgs, s, objNoise)));
  return func;
}

/// Per sample b (all [B]), with s = score(x) and H the Hessian of
/// neg_log_joint in x (block diagonal over the batch, so (H u)_b involves
/// sample b only):
///   DSM  (x = v + σε):    ½‖s_b + ε_b/σ‖²
///   MDSM (x = v + σ_b ε): ½‖s_b/σ_b + ε_b/σ0²‖²
///   SSM  (x = v):         ½‖s_b‖² − u_bᵀ(H u)_b
///   SM   (x = v):         ½‖s_b‖² − Σ_d (H e_d)_{b,d}, e_d one-hot column d
///   KSD  (x = v):         row b of the kernelized Stein discrepancy's
///                         U-statistic (ksdPerSample)
Value StepBuilder::perSampleObjective(func::FuncOp negLogJoint,
                                      ValueRange jointArgs, Value s,
                                      Value objNoise) {
  auto halfSquaredNorm = [&](Value r) {
    return scaled(sumAxis(db().create<SquareOp>(r), 1), 0.5);
  };
  // (H u) for a [B,D] direction u, by forward-over-reverse.
  auto hvp = [&](Value u) {
    SmallVector<Value> hvpArgs(jointArgs.begin(), jointArgs.end());
    hvpArgs.push_back(u);
    return HvpOp::create(builder_, loc_, TypeRange{visible_},
                         negLogJoint.getSymName(), hvpArgs,
                         ArrayRef<int64_t>{0})
        .getResult(0);
  };
  switch (objective_) {
  case Objective::DSM:
    return halfSquaredNorm(
        db().add(s, scaled(objNoise, 1.0 / spec_.noiseStd)));
  case Objective::MDSM: {
    std::vector<double> inverse = batchSigmas();
    for (double &sigma : inverse)
      sigma = 1.0 / sigma;
    Value r = db().add(db().mul(s, perSampleColumn(inverse)),
                       scaled(objNoise, 1.0 / (spec_.sigma0 * spec_.sigma0)));
    return halfSquaredNorm(r);
  }
  case Objective::SSM: {
    assert(negLogJoint && "SSM takes Hessian-vector products");
    Value uHu = sumAxis(db().mul(objNoise, hvp(objNoise)), 1);
    return db().sub(halfSquaredNorm(s), uHu);
  }
  case Objective::SM: {
    // tr ∇_x s = −Σ_d e_dᵀ H e_d: one hvp per visible dimension d, with the
    // direction column d all ones; its column d is the per-sample H_dd.
    int64_t batch = visible_.getDimSize(0), dims = visible_.getDimSize(1);
    Value diagonal;
    for (int64_t d = 0; d < dims; ++d) {
      std::vector<double> oneHot(batch * dims, 0.0);
      for (int64_t b = 0; b < batch; ++b)
        oneHot[b * dims + d] = 1.0;
      Value direction = constant(visible_, oneHot);
      Value column = db().mul(direction, hvp(direction));
      diagonal = diagonal ? db().add(diagonal, column) : column;
    }
    return db().sub(halfSquaredNorm(s), sumAxis(diagonal, 1));
  }
  case Objective::KSD:
    return ksdPerSample(jointArgs[0], s);
  }
  llvm_unreachable("unknown objective");
}

/// The median heuristic's h² for the [B,B] squared distances d² [B,B]: the
/// lower median m of the B(B−1)/2 distances between distinct points, the
/// smallest m with #{b ≠ b' : d²_bb' ≤ m} ≥ B(B−1)/2 (pairs counted both
/// ways), found by bisection on [0, max d²] (kMedianBisections halvings,
/// unrolled: straight-line ops, no sort), floored at 1e-12 for a batch of
/// equal points; a constant for autodiff (stop_gradient).
Value StepBuilder::medianSquaredDistance(Value distance) {
  constexpr int kMedianBisections = 60;
  auto square = cast<RankedTensorType>(distance.getType());
  int64_t batch = square.getDimSize(0);
  std::vector<double> offDiagonal(batch * batch, 1.0);
  for (int64_t b = 0; b < batch; ++b)
    offDiagonal[b * batch + b] = 0.0;
  Value mask = constant(square, offDiagonal);
  Value zeros = splat(square, 0.0);
  Value d2 = StopGradientOp::create(builder_, loc_, distance).getResult();
  Value lo = splat(scalar_, 0.0);
  Value hi = ReduceMaxOp::create(builder_, loc_, scalar_, d2,
                                 ArrayRef<int64_t>{0, 1}, false);
  Value half = splat(scalar_, double(batch * (batch - 1)) / 2.0);
  for (int i = 0; i < kMedianBisections; ++i) {
    Value mid = scaled(db().add(lo, hi), 0.5);
    Value below = db().compare(ComparePredicate::le, d2,
                               db().broadcastTo(mid, square));
    Value count = sumAll(db().select(below, mask, zeros));
    Value enough = db().compare(ComparePredicate::ge, count, half);
    hi = db().select(enough, mid, hi);
    lo = db().select(enough, lo, mid);
  }
  return db().create<MaximumOp>(hi, splat(scalar_, 1e-12));
}

/// Row b of the KSD U-statistic with the RBF kernel k(x, y) =
/// exp(−‖x − y‖²/(2h²)) (Liu, Lee & Jordan 2016), h fixed or the median
/// heuristic's (medianSquaredDistance):
///   (1/(B−1)) Σ_{b'≠b} u(x_b, x_b'),
///   u(x, y) = sᵀ(x) k s(y) + sᵀ(x) ∇_y k + sᵀ(y) ∇_x k + tr ∇_x∇_y k
///           = k [sᵀ(x)s(y) + (s(x) − s(y))ᵀ(x − y)/h² + D/h² − ‖x − y‖²/h⁴],
/// as [B,B] matrices from three Gram products; mean_b of it is the KSD.
Value StepBuilder::ksdPerSample(Value x, Value s) {
  int64_t batch = visible_.getDimSize(0), dims = visible_.getDimSize(1);
  auto square = RankedTensorType::get({batch, batch}, element_);
  auto column = RankedTensorType::get({batch, 1}, element_);
  // A per-sample p [B] as the [B,B] matrices (p_b) and (p_b').
  auto alongRows = [&](Value perSample) {
    return db().broadcastTo(db().reshape(perSample, column), square);
  };
  auto alongColumns = [&](Value perSample) {
    return db().broadcastTo(perSample, square);
  };
  Value ss = db().matmul(s, s, false, true);
  Value sx = db().matmul(s, x, false, true); // s_bᵀ x_b'
  Value xx = db().matmul(x, x, false, true);
  Value sDotX = sumAxis(db().mul(s, x), 1);
  Value xNorm = sumAxis(db().mul(x, x), 1);
  Value distance =
      db().sub(db().add(alongRows(xNorm), alongColumns(xNorm)), scaled(xx, 2.0));
  // (s_b − s_b')ᵀ(x_b − x_b') = s_bᵀx_b + s_b'ᵀx_b' − s_bᵀx_b' − s_b'ᵀx_b.
  Value cross = db().sub(db().add(alongRows(sDotX), alongColumns(sDotX)),
                         db().add(sx, db().transpose(sx, {1, 0})));
  // x · c/h^(2p): constants for a fixed h, else the median's h² broadcast.
  std::function<Value(Value, double, int)> overBandwidth;
  if (spec_.ksdMedianBandwidth) {
    Value inverse = db().create<ReciprocalOp>(
        db().broadcastTo(medianSquaredDistance(distance), square));
    overBandwidth = [&, inverse](Value x, double c, int power) {
      for (int p = 0; p < power; ++p)
        x = db().mul(x, inverse);
      return scaled(x, c);
    };
  } else {
    double h2 = spec_.ksdBandwidth * spec_.ksdBandwidth;
    overBandwidth = [&, h2](Value x, double c, int power) {
      return scaled(x, c / std::pow(h2, power));
    };
  }
  Value kernel = db().create<ExpOp>(overBandwidth(distance, -0.5, 1));
  Value inner = db().add(db().add(ss, overBandwidth(cross, 1.0, 1)),
                         db().sub(spec_.ksdMedianBandwidth
                                      ? overBandwidth(splat(square, double(dims)), 1.0, 1)
                                      : splat(square, double(dims) / std::pow(spec_.ksdBandwidth, 2)),
                                  overBandwidth(distance, 1.0, 2)));
  std::vector<double> offDiagonal(batch * batch, 1.0 / double(batch - 1));
  for (int64_t b = 0; b < batch; ++b)
    offDiagonal[b * batch + b] = 0.0;
  Value u = db().mul(db().mul(kernel, inner), constant(square, offDiagonal));
  return sumAxis(u, 1);
}

/// @M__score_objective(x, s, [objnoise]) -> J = mean_b of the objective's
/// per-sample terms for a given score s (DSM, MDSM and KSD, which need no
/// Hessian of the energy): VaGES differentiates it in s.
func::FuncOp StepBuilder::buildScoreObjective() {
  SmallVector<Type> args = concat({visible_, visible_, objectiveNoiseTypes()});
  func::FuncOp func = startFunction(names_.scoreObjective, args, {scalar_}, true);
  ValueRange a = func.getArguments();
  Value noise = a.size() > 2 ? a[2] : Value();
  ret(meanBatch(perSampleObjective(func::FuncOp(), {a[0]}, a[1], noise)));
  return func;
}

/// A [B,1] constant of per-sample values, broadcast to [B,D].
Value StepBuilder::perSampleColumn(ArrayRef<double> values) {
  auto column = RankedTensorType::get({visible_.getDimSize(0), 1}, element_);
  return db().broadcastTo(constant(column, values), visible_);
}

Value StepBuilder::constant(RankedTensorType type, ArrayRef<double> values) {
  auto element = cast<FloatType>(element_);
  SmallVector<Attribute> attrs;
  for (double value : values)
    attrs.push_back(builder_.getFloatAttr(element, value));
  return db().create<ConstantOp>(DenseElementsAttr::get(type, attrs));
}

//===----------------------------------------------------------------------===//
// Optimisers
//===----------------------------------------------------------------------===//

/// Adam: t ← t+1; m ← β1 m + (1−β1) g; s ← β2 s + (1−β2) g²;
///       p ← p − lr · (m/(1−β1^t)) / (√(s/(1−β2^t)) + ε).
/// SGD:  t ← t+1; p ← p − lr g; moments unchanged.
OptState StepBuilder::optimizerStep(const OptimizerSpec &opt,
                                    const OptState &state, ValueRange gradients) {
  OptState next;
  next.t = db().add(state.t, splat(scalar_, 1.0));
  if (opt.kind == OptimizerKind::SGD) {
    for (auto [p, g] : llvm::zip_equal(state.params, gradients))
      next.params.push_back(db().sub(p, scaled(g, opt.learningRate)));
    next.first = state.first;
    next.second = state.second;
    return next;
  }
  Value bc1 = db().sub(splat(scalar_, 1.0),
                       db().create<PowOp>(splat(scalar_, opt.beta1), next.t));
  Value bc2 = db().sub(splat(scalar_, 1.0),
                       db().create<PowOp>(splat(scalar_, opt.beta2), next.t));
  for (size_t i = 0; i < state.params.size(); ++i) {
    Value p = state.params[i], g = gradients[i];
    auto type = cast<RankedTensorType>(p.getType());
    Value m = db().add(scaled(state.first[i], opt.beta1),
                       scaled(g, 1.0 - opt.beta1));
    Value s = db().add(scaled(state.second[i], opt.beta2),
                       scaled(db().create<SquareOp>(g), 1.0 - opt.beta2));
    Value mHat = db().div(m, db().broadcastTo(bc1, type));
    Value sHat = db().div(s, db().broadcastTo(bc2, type));
    Value denom = db().add(db().create<SqrtOp>(sHat), splat(type, opt.epsilon));
    Value update = scaled(db().div(mHat, denom), opt.learningRate);
    next.params.push_back(db().sub(p, update));
    next.first.push_back(m);
    next.second.push_back(s);
  }
  return next;
}

/// @M__phi_step(θ..., φ..., m..., s..., t, x, noise...) -> (φ'..., m'..., s'..., t'):
/// g = ∇_φ G(θ, φ; x, noise), then one step of `optimizer` (the φ
/// optimiser; for @M__unroll_step the unrolled steps' plain SGD, which
/// leaves the moments alone).
func::FuncOp StepBuilder::buildPhiStep(func::FuncOp lower, StringRef name,
                                       const OptimizerSpec &optimizer) {
  SmallVector<Type> args = concat({theta_, phi_, phi_, phi_, scalar_, visible_,
                                   posteriorNoiseTypes(1)});
  SmallVector<Type> results = concat({phi_, phi_, phi_, scalar_});
  func::FuncOp func = startFunction(name, args, results, true);
  ValueRange a = func.getArguments();
  size_t nt = theta_.size(), np = phi_.size();
  OptState state;
  state.params = slice(a, nt, np);
  state.first = slice(a, nt + np, np);
  state.second = slice(a, nt + 2 * np, np);
  state.t = a[nt + 3 * np];
  Value x = a[nt + 3 * np + 1];
  ValueRange noise = a.drop_front(nt + 3 * np + 2);

  SmallVector<Value> lowerArgs = slice(a, 0, nt + np);
  lowerArgs.push_back(x);
  lowerArgs.append(noise.begin(), noise.end());
  SmallVector<int64_t> wrt;
  for (size_t i = 0; i < np; ++i)
    wrt.push_back(nt + i);
  auto grad = GradOp::create(builder_, loc_, TypeRange(phi_),
                             lower.getSymName(), lowerArgs, wrt);
  OptState next =
      optimizerStep(optimizer, state, meanOverRanks(grad.getResults()));
  SmallVector<Value> out(next.params);
  out.append(next.first);
  out.append(next.second);
  out.push_back(next.t);
  ret(out);
  return func;
}

SmallVector<Value> StepBuilder::emitPhiSteps(
    func::FuncOp phiStep, ValueRange theta, ValueRange carried, Value x,
    int64_t count,
    llvm::function_ref<SmallVector<Value>(int64_t)> stepNoise) {
  SmallVector<Value> state(carried.begin(), carried.end());
  for (int64_t step = 0; step < count; ++step) {
    SmallVector<Value> stepArgs(theta.begin(), theta.end());
    stepArgs.append(state);
    stepArgs.push_back(x);
    stepArgs.append(stepNoise(step));
    state = call(phiStep, stepArgs);
  }
  return state;
}

SmallVector<Value> StepBuilder::emitUnrolledPhiSteps(
    func::FuncOp phiStep, ValueRange theta, ValueRange carried, Value x,
    int64_t count,
    llvm::function_ref<SmallVector<Value>(int64_t)> stepNoise) {
  if (count == 0)
    return SmallVector<Value>(carried.begin(), carried.end());
  SmallVector<SmallVector<Value>> noise;
  for (int64_t step = 0; step < count; ++step)
    noise.push_back(stepNoise(step));
  auto index = [&](int64_t value) {
    return arith::ConstantIndexOp::create(builder_, loc_, value).getResult();
  };
  auto loop = scf::ForOp::create(builder_, loc_, index(0), index(count),
                                 index(1), carried);
  loop->setAttr(autodiff::kCheckpointAttr,
                builder_.getStringAttr(spec_.unrollCheckpoint));
  OpBuilder::InsertionGuard guard(builder_);
  builder_.setInsertionPointToStart(loop.getBody());
  // Step n's noise: a switch on n over the noise that differs by step.
  SmallVector<Value> stepArgs(theta.begin(), theta.end());
  stepArgs.append(loop.getRegionIterArgs().begin(),
                  loop.getRegionIterArgs().end());
  stepArgs.push_back(x);
  SmallVector<size_t> varying;
  SmallVector<Type> varyingTypes;
  for (size_t slot = 0; slot < noise.front().size(); ++slot) {
    bool same = llvm::all_of(noise, [&](const SmallVector<Value> &step) {
      return step[slot] == noise.front()[slot];
    });
    if (!same) {
      varying.push_back(slot);
      varyingTypes.push_back(noise.front()[slot].getType());
    }
  }
  SmallVector<Value> current = noise.front();
  if (!varying.empty()) {
    SmallVector<int64_t> cases;
    for (int64_t step = 0; step + 1 < count; ++step)
      cases.push_back(step);
    auto choice = scf::IndexSwitchOp::create(builder_, loc_, varyingTypes,
                                             loop.getInductionVar(), cases,
                                             cases.size());
    auto yieldStep = [&](Region &region, int64_t step) {
      OpBuilder::InsertionGuard inCase(builder_);
      builder_.setInsertionPointToStart(&region.emplaceBlock());
      SmallVector<Value> values;
      for (size_t slot : varying)
        values.push_back(noise[size_t(step)][slot]);
      scf::YieldOp::create(builder_, loc_, values);
    };
    for (int64_t step = 0; step + 1 < count; ++step)
      yieldStep(choice.getCaseRegions()[size_t(step)], step);
    yieldStep(choice.getDefaultRegion(), count - 1);
    for (auto [slot, value] : llvm::zip(varying, choice.getResults()))
      current[slot] = value;
  }
  stepArgs.append(current);
  scf::YieldOp::create(builder_, loc_, call(phiStep, stepArgs));
  return SmallVector<Value>(loop.getResults());
}

/// @M__j_bi(θ..., φ⁰..., m..., s..., t, x, objnoise, noise_1..N..., noise_up...)
/// -> J(θ, φᴺ) with φⁿ = phi_step(θ, φⁿ⁻¹, ...) (optimiser state carried).
func::FuncOp StepBuilder::buildJBi(func::FuncOp phiStep, func::FuncOp upper) {
  int64_t n = spec_.unrollSteps;
  SmallVector<Type> args =
      concat({theta_, phi_, phi_, phi_, scalar_, visible_,
              objectiveNoiseTypes(), posteriorNoiseTypes(n + 1)});
  func::FuncOp func = startFunction(names_.jBi, args, {scalar_}, true);
  ValueRange a = func.getArguments();
  size_t nt = theta_.size(), np = phi_.size();
  SmallVector<Value> theta = slice(a, 0, nt);
  Value x = a[nt + 3 * np + 1];
  size_t numObj = objectiveNoiseTypes().size();
  ValueRange objNoise = a.slice(nt + 3 * np + 2, numObj);
  ValueRange noise = a.drop_front(nt + 3 * np + 2 + numObj);
  SmallVector<Value> carried = emitUnrolledPhiSteps(
      phiStep, theta, a.slice(nt, 3 * np + 1), x, n, [&](int64_t step) {
        return slice(noise, step * noisePerPosterior_, noisePerPosterior_);
      });
  SmallVector<Value> upperArgs(theta);
  upperArgs.append(carried.begin(), carried.begin() + np);
  upperArgs.push_back(x);
  upperArgs.append(objNoise.begin(), objNoise.end());
  ValueRange upNoise = noise.slice(n * noisePerPosterior_, noisePerPosterior_);
  upperArgs.append(upNoise.begin(), upNoise.end());
  ret(call(upper, upperArgs));
  return func;
}

//===----------------------------------------------------------------------===//
// Noise and the public step
//===----------------------------------------------------------------------===//

/// @draw_noise(key): noise tensor i (in signature order) is drawn from
/// key_split(key, i): ε ~ N(0,1), u Rademacher or N(0,1), ξ ~ N(0,1),
/// g1, g2 standard Gumbel, VaGES's hard-particle u standard uniform.
func::FuncOp StepBuilder::buildDrawNoise() {
  TrainStepSignature sig = trainStepSignature(info_);
  SmallVector<Type> results;
  for (const NamedType &noise : sig.noise)
    results.push_back(noise.type);
  func::FuncOp func = startFunction(names_.drawNoise, {key_}, results, false);
  Value key = func.getArgument(0);
  SmallVector<Value> out;
  for (size_t i = 0; i < sig.noise.size(); ++i) {
    Value k = KeySplitOp::create(builder_, loc_, key_, key, uint64_t(i));
    auto type = sig.noise[i].type;
    Value draw;
    // (BiDVL has no score-matching objective: its noise 0 is the
    // generator's ĥ, whatever `objective` says.)
    bool objective = i == 0 && spec_.method != Method::BiDVL &&
                     hasObjectiveNoise(spec_);
    if (spec_.method == Method::CD || spec_.method == Method::PCD)
      // Gibbs sweeps: u_h (even positions) uniform, z_v normal.
      draw = i % 2 == 0 ? RandomUniformOp::create(builder_, loc_, type, k)
                              .getResult()
                        : RandomNormalOp::create(builder_, loc_, type, k)
                              .getResult();
    else if (objective && spec_.objective == Objective::SSM &&
        spec_.projection == Projection::Rademacher)
      draw = RandomRademacherOp::create(builder_, loc_, type, k);
    else if ((hardParticles(info_) || spec_.method == Method::Importance) &&
             StringRef(sig.noise[i].name).ends_with("particles.u"))
      draw = RandomUniformOp::create(builder_, loc_, type, k);
    else if (!objective && info_.posteriorKind == PosteriorKind::Bernoulli)
      draw = RandomGumbelOp::create(builder_, loc_, type, k);
    else
      draw = RandomNormalOp::create(builder_, loc_, type, k);
    // Data parallel: this rank's rows of the global batch's draw (every
    // noise tensor is [B, ...], batch first).
    if (ranks_ > 1)
      draw.getDefiningOp()->setAttr(
          "offset", builder_.getI64IntegerAttr(rank_ * type.getNumElements()));
    out.push_back(draw);
  }
  ret(out);
  return func;
}

/// The arguments of @train_step_with_noise and @theta_gradient_with_noise:
/// state..., v, noise... (trainStepSignature's order).
SmallVector<Type> StepBuilder::withNoiseArguments() {
  TrainStepSignature sig = trainStepSignature(info_);
  SmallVector<Type> args;
  for (const NamedType &s : sig.state)
    args.push_back(s.type);
  args.push_back(visible_);
  for (const NamedType &noise : sig.noise)
    args.push_back(noise.type);
  return args;
}

func::FuncOp StepBuilder::startTrainStepWithNoise() {
  TrainStepSignature sig = trainStepSignature(info_);
  SmallVector<Type> results;
  for (const NamedType &state : sig.state)
    results.push_back(state.type);
  for (const NamedType &metric : sig.metrics)
    results.push_back(metric.type);
  return startFunction(names_.trainStepWithNoise, withNoiseArguments(),
                       results, false);
}

OptState StepBuilder::thetaStateOf(ValueRange arguments) {
  size_t nt = theta_.size();
  return {slice(arguments, 0, nt), slice(arguments, nt, nt),
          slice(arguments, 2 * nt, nt), arguments[3 * nt]};
}

/// Steps 1–4 of the BiSM step up to the θ gradient, on the arguments `a` of
/// a function with withNoiseArguments(): x, the metrics G before/after (when
/// `metrics`), the K plain φ steps, J_Bi and ∇θ J_Bi.
StepBuilder::StepCore StepBuilder::emitStepCore(ValueRange a,
                                                func::FuncOp lower,
                                                func::FuncOp phiStep,
                                                func::FuncOp upper,
                                                bool metrics) {
  size_t nt = theta_.size(), np = phi_.size();
  StepCore core;
  SmallVector<Value> theta = slice(a, 0, nt);
  core.theta = OptState{theta, slice(a, nt + np, nt),
                        slice(a, 2 * nt + np, nt), a[3 * nt + 3 * np]};
  OptState phiState{slice(a, nt, np), slice(a, 3 * nt + np, np),
                    slice(a, 3 * nt + 2 * np, np), a[3 * nt + 3 * np + 1]};
  size_t vIndex = 3 * nt + 3 * np + 2;
  Value v = a[vIndex];
  size_t numObj = objectiveNoiseTypes().size();
  ValueRange objNoise = a.slice(vIndex + 1, numObj);
  ValueRange postNoise = a.drop_front(vIndex + 1 + numObj);
  int64_t per = noisePerPosterior_, k = spec_.innerSteps, n = spec_.unrollSteps;
  auto stageNoise = [&](int64_t stage) {
    return postNoise.slice(stage * per, per);
  };
  ValueRange upperNoise = stageNoise(k + n);

  // x, the input of both levels: ṽ = v + σε (DSM), v + σ_b ε_b (MDSM, σ_b
  // the per-position schedule), v (SSM, SM).
  Value x = objectiveInput(v, objNoise);

  auto lowerLoss = [&](ValueRange phi) {
    SmallVector<Value> lowerArgs(theta);
    lowerArgs.append(phi.begin(), phi.end());
    lowerArgs.push_back(x);
    lowerArgs.append(upperNoise.begin(), upperNoise.end());
    return call(lower, lowerArgs)[0];
  };
  auto unpackPhi = [&](ValueRange values) {
    return OptState{slice(values, 0, np), slice(values, np, np),
                    slice(values, 2 * np, np), values[3 * np]};
  };

  // Metric: G before the K steps (evaluated with the upper level's noise).
  if (metrics)
    core.lowerBefore = meanOverRanks(lowerLoss(phiState.params));

  // 1. K plain optimiser steps of φ (θ frozen), fresh noise each.
  for (int64_t step = 0; step < k; ++step) {
    SmallVector<Value> stepArgs(theta);
    stepArgs.append(flattenOptState(phiState));
    stepArgs.push_back(x);
    ValueRange noise = stageNoise(step);
    stepArgs.append(noise.begin(), noise.end());
    phiState = unpackPhi(call(phiStep, stepArgs));
  }
  if (metrics)
    core.lowerAfter = meanOverRanks(lowerLoss(phiState.params));
  core.phi = phiState;

  // VaGES: J and its θ gradient from the L particles at φ after the K
  // steps. Implicit hypergradient: J, its θ gradient and the CG residual at
  // φ after the K steps, with the upper level's noise (Hypergradient.cpp).
  bool implicit = spec_.method == Method::BiSM &&
                  spec_.hypergradient == Hypergradient::Implicit;
  if (spec_.method == Method::VaGES || implicit) {
    SmallVector<Value> args(theta);
    args.append(phiState.params);
    args.push_back(x);
    args.append(objNoise.begin(), objNoise.end());
    ValueRange noise =
        implicit ? upperNoise : postNoise.drop_front((k + 1) * per);
    args.append(noise.begin(), noise.end());
    SmallVector<Value> out = call(upper, args);
    core.j = out[0];
    core.gradient.assign(out.begin() + 1, out.begin() + 1 + nt);
    if (implicit)
      core.cgResidual = out.back();
    return core;
  }

  // 2.–3. J(θ, φᴺ(θ)) through N unrolled steps from φ⁰ = φ (with its
  // optimiser state), and its θ gradient.
  SmallVector<Value> jArgs(theta);
  jArgs.append(flattenOptState(phiState));
  jArgs.push_back(x);
  jArgs.append(objNoise.begin(), objNoise.end());
  ValueRange jNoise = postNoise.slice(k * per, (n + 1) * per);
  jArgs.append(jNoise.begin(), jNoise.end());
  if (metrics)
    core.j = meanOverRanks(call(upper, jArgs)[0]);
  SmallVector<int64_t> wrt;
  for (size_t i = 0; i < nt; ++i)
    wrt.push_back(i);
  auto grad = GradOp::create(builder_, loc_, TypeRange(theta_),
                             upper.getSymName(), jArgs, wrt);
  core.gradient = meanOverRanks(grad.getResults());
  return core;
}

/// @train_step_with_noise(state..., v, noise...) -> (state'..., metrics...).
func::FuncOp StepBuilder::buildTrainStepWithNoise(func::FuncOp lower,
                                                  func::FuncOp phiStep,
                                                  func::FuncOp upper) {
  func::FuncOp func = startTrainStepWithNoise();
  StepCore core =
      emitStepCore(func.getArguments(), lower, phiStep, upper, /*metrics=*/true);

  Value gradNorm = gradientNorm(core.gradient);

  OptState nextTheta =
      optimizerStep(spec_.thetaOptimizer, core.theta, core.gradient);
  const OptState &phiState = core.phi;

  SmallVector<Value> out(nextTheta.params);
  out.append(phiState.params);
  out.append(nextTheta.first);
  out.append(nextTheta.second);
  out.append(phiState.first);
  out.append(phiState.second);
  out.push_back(nextTheta.t);
  out.push_back(phiState.t);
  out.append({core.j, core.lowerBefore, core.lowerAfter, gradNorm});
  if (core.cgResidual)
    out.push_back(core.cgResidual);
  ret(out);
  return func;
}

/// @theta_gradient_with_noise(state..., v, noise...) -> ∇θ J_Bi (one tensor
/// per θ parameter): the gradient @train_step_with_noise hands its θ
/// optimiser, for dumping.
func::FuncOp StepBuilder::buildThetaGradientWithNoise(func::FuncOp lower,
                                                      func::FuncOp phiStep,
                                                      func::FuncOp upper) {
  func::FuncOp func = startFunction(names_.thetaGradientWithNoise,
                                    withNoiseArguments(), theta_, false);
  StepCore core =
      emitStepCore(func.getArguments(), lower, phiStep, upper, /*metrics=*/false);
  ret(core.gradient);
  return func;
}

/// @train_step(state..., v, key) = train_step_with_noise(state..., v,
/// draw_noise(key)...).
func::FuncOp StepBuilder::buildTrainStep(func::FuncOp drawNoise,
                                         func::FuncOp withNoise) {
  FunctionType inner = withNoise.getFunctionType();
  size_t numNoise = drawNoise.getNumResults();
  SmallVector<Type> args(inner.getInputs().drop_back(numNoise));
  args.push_back(key_);
  func::FuncOp func =
      startFunction(names_.trainStep, args, inner.getResults(), false);
  ValueRange a = func.getArguments();
  SmallVector<Value> noise = call(drawNoise, {a.back()});
  SmallVector<Value> callArgs(a.drop_back());
  callArgs.append(noise);
  ret(call(withNoise, callArgs));
  return func;
}

Value StepBuilder::objectiveInput(Value v, ValueRange objNoise) {
  if (objective_ == Objective::DSM)
    return db().add(v, scaled(objNoise[0], spec_.noiseStd));
  if (objective_ == Objective::MDSM)
    return db().add(
        v, db().mul(objNoise[0],
                    perSampleColumn(batchSigmas())));
  return v;
}

/// ‖g‖₂ over all tensors together (0 for none).
Value StepBuilder::gradientNorm(ValueRange gradients) {
  Value normSq;
  for (Value g : gradients) {
    Value term = sumAll(db().create<SquareOp>(g));
    normSq = normSq ? db().add(normSq, term) : term;
  }
  return normSq ? db().create<SqrtOp>(normSq) : splat(scalar_, 0.0);
}

LogicalResult StepBuilder::build() {
  if (ranks_ > 1) {
    std::string why = dataParallelUnsupported(info_);
    if (!why.empty())
      return emitError(loc_) << "model '" << info_.name
                             << "' cannot be trained data-parallel: " << why;
    if (rank_ < 0 || rank_ >= ranks_)
      return emitError(loc_) << "rank " << rank_ << " is not one of the "
                             << ranks_ << " ranks";
  }
  if (spec_.method == Method::Marginal)
    return buildMarginal();
  if (spec_.method == Method::CD || spec_.method == Method::PCD)
    return buildContrastive();
  if (spec_.method == Method::VaGES)
    return buildVages();
  if (spec_.method == Method::Importance)
    return buildImportance();
  if (spec_.method == Method::BiDVL)
    return buildBidvl();
  // readModel rejects this too; kept for ModelInfos built by hand.
  if (spec_.objective == Objective::SM &&
      visible_.getDimSize(1) > kMaxExactTraceDims)
    return emitError(loc_) << "model '" << info_.name
                           << "': objective \"sm\" takes one Hessian-vector "
                           << "product per visible dimension; D = "
                           << visible_.getDimSize(1) << " exceeds " << kMaxExactTraceDims;
  if (spec_.innerSteps < 0 || spec_.unrollSteps < 0)
    return emitError(loc_) << "model '" << info_.name
                           << "': inner_steps and unroll_steps must be >= 0";
  if (failed(requireUnusedNames({names_.score, names_.upper, names_.jBi},
                                 "the training step")))
    return failure();
  FailureOr<LowerLevel> level = buildLowerLevel();
  if (failed(level))
    return failure();
  func::FuncOp score = buildScore(level->negLogJoint);
  func::FuncOp upper = buildUpper(level->sample, level->negLogJoint, score);
  if (spec_.hypergradient == Hypergradient::Implicit) {
    FailureOr<func::FuncOp> implicitGradient =
        buildImplicitGradient(level->lower, upper);
    if (failed(implicitGradient))
      return failure();
    buildStepFunctions(*level, *implicitGradient);
    return success();
  }
  FailureOr<func::FuncOp> unrollStep =
      buildUnrollStep(level->lower, level->phiStep);
  if (failed(unrollStep))
    return failure();
  func::FuncOp jBi = buildJBi(*unrollStep, upper);
  buildStepFunctions(*level, jBi);
  return success();
}

/// The function of the N unrolled steps: `phiStep` (unroll_optimizer =
/// "same", or no unrolled steps), else @M__unroll_step, plain SGD of size
/// unroll_lr on `lower`.
FailureOr<func::FuncOp> StepBuilder::buildUnrollStep(func::FuncOp lower,
                                                     func::FuncOp phiStep) {
  if (spec_.unrollWithPhiOptimizer || spec_.unrollSteps == 0)
    return phiStep;
  if (failed(requireUnusedNames({names_.unrollStep}, "the training step")))
    return failure();
  OptimizerSpec plain;
  plain.kind = OptimizerKind::SGD;
  plain.learningRate = spec_.unrollLearningRate;
  return buildPhiStep(lower, names_.unrollStep, plain);
}

FailureOr<StepBuilder::LowerLevel> StepBuilder::buildLowerLevel() {
  if (spec_.divergence == Divergence::Fisher &&
      info_.posteriorKind == PosteriorKind::Bernoulli)
    return emitError(loc_) << "model '" << info_.name
                           << "': the Fisher divergence needs a continuous "
                           << "(gaussian) posterior";
  if (failed(requireUnusedNames(
          {names_.trainStep, names_.trainStepWithNoise, names_.drawNoise,
           names_.thetaGradientWithNoise, names_.samplePosterior, names_.logQ,
           names_.energySum, names_.negLogJoint, names_.lower, names_.phiStep},
          "the training step")))
    return failure();
  LowerLevel level;
  level.sample = buildSamplePosterior();
  level.logQ = buildLogQ();
  level.energySum = buildEnergySum();
  level.negLogJoint = buildNegLogJoint(level.energySum, level.logQ);
  level.lower =
      buildLower(level.sample, level.logQ, level.energySum, level.negLogJoint);
  level.phiStep = buildPhiStep(level.lower, names_.phiStep, spec_.phiOptimizer);
  return level;
}

void StepBuilder::buildStepFunctions(const LowerLevel &level,
                                     func::FuncOp upper) {
  func::FuncOp drawNoise = buildDrawNoise();
  func::FuncOp withNoise =
      buildTrainStepWithNoise(level.lower, level.phiStep, upper);
  buildTrainStep(drawNoise, withNoise);
  buildThetaGradientWithNoise(level.lower, level.phiStep, upper);
}

LogicalResult StepBuilder::buildEvaluation(const EvaluationNames &eval,
                                           Objective training) {
  bool scores = hasScoreEvaluation(info_), latents = hasLatentEvaluation(info_),
       gradients = hasEnergyGradientEvaluation(info_),
       approximate = hasApproximateSsmEvaluation(info_);
  SmallVector<std::string> taken;
  if (scores)
    taken.append({eval.score, eval.ssm, names_.freeEnergySum, names_.score});
  if (latents || approximate)
    taken.append({names_.samplePosterior, names_.logQ, names_.negLogJoint});
  if (latents)
    taken.push_back(eval.posteriorFisher);
  if (approximate)
    taken.append({eval.approximateSsm, eval.objective, names_.score});
  if (gradients)
    taken.append({eval.energyGradient, eval.posteriorMean, names_.energySum});
  if (failed(requireUnusedNames(taken, "the evaluation functions")))
    return failure();
  if (scores) {
    func::FuncOp freeEnergySum = buildFreeEnergySum();
    func::FuncOp score = buildMarginalScore(freeEnergySum);
    score.setName(eval.score);
    score.setPublic();
    SmallVector<Type> args =
        concat({visible_, visible_, freeEnergyTheta()});
    func::FuncOp ssm = startFunction(eval.ssm, args, {perSample_}, false);
    ValueRange a = ssm.getArguments();
    SmallVector<Value> feArgs{a[0]};
    feArgs.append(a.begin() + 2, a.end());
    Value s = call(score, feArgs)[0];
    ret(perSampleObjective(freeEnergySum, feArgs, s, a[1]));
  }
  func::FuncOp energySum, sample, negLogJoint;
  if (gradients)
    energySum = buildEnergySum();
  if (latents || approximate) {
    sample = buildSamplePosterior();
    negLogJoint = buildNegLogJoint(energySum, buildLogQ());
  }
  if (approximate) {
    // (x, u, posterior noise..., θ..., φ...) -> [B]: the SSM objective with
    // the score through h ~ q(h|x) (the upper level of BiSSM at φ).
    func::FuncOp score = buildScore(negLogJoint);
    SmallVector<Type> args = concat(
        {visible_, visible_, posteriorNoiseTypes(1), theta_, phi_});
    func::FuncOp ssm = startFunction(eval.approximateSsm, args, {perSample_},
                                     false);
    ValueRange a = ssm.getArguments();
    size_t noiseCount = size_t(noisePerPosterior_);
    ValueRange noise = a.slice(2, noiseCount);
    SmallVector<Value> theta = slice(a, 2 + noiseCount, theta_.size());
    SmallVector<Value> phi =
        slice(a, 2 + noiseCount + theta_.size(), phi_.size());
    Value stopped = StopGradientOp::create(builder_, loc_, a[0]).getResult();
    SmallVector<Value> sampleArgs{stopped};
    sampleArgs.append(phi);
    sampleArgs.append(noise.begin(), noise.end());
    Value h = call(sample, sampleArgs)[0];
    SmallVector<Value> jointArgs{a[0], h};
    jointArgs.append(theta);
    jointArgs.append(phi);
    Value s = call(score, jointArgs)[0];
    ret(perSampleObjective(negLogJoint, jointArgs, s, a[1]));

    // (v, objective noise..., posterior noise..., θ..., φ...) -> [B]: the
    // training objective, as the upper level computes it at φ.
    objective_ = training;
    size_t objectiveCount = objectiveNoiseTypes().size();
    args = concat({visible_, objectiveNoiseTypes(), posteriorNoiseTypes(1),
                   theta_, phi_});
    func::FuncOp objective =
        startFunction(eval.objective, args, {perSample_}, false);
    a = objective.getArguments();
    ValueRange objectiveNoise = a.slice(1, objectiveCount);
    noise = a.slice(1 + objectiveCount, noiseCount);
    size_t first = 1 + objectiveCount + noiseCount;
    theta = slice(a, first, theta_.size());
    phi = slice(a, first + theta_.size(), phi_.size());
    Value x = objectiveInput(a[0], objectiveNoise);
    stopped = StopGradientOp::create(builder_, loc_, x).getResult();
    sampleArgs = {stopped};
    sampleArgs.append(phi);
    sampleArgs.append(noise.begin(), noise.end());
    h = call(sample, sampleArgs)[0];
    jointArgs = {x, h};
    jointArgs.append(theta);
    jointArgs.append(phi);
    s = call(score, jointArgs)[0];
    ret(perSampleObjective(negLogJoint, jointArgs, s,
                           objectiveCount ? objectiveNoise[0] : Value()));
    objective_ = spec_.objective;
  }
  if (latents) {
    // (x, ξ, θ..., φ...) -> [B].
    func::FuncOp fisher = startFunction(
        eval.posteriorFisher, concat({visible_, latent_, theta_, phi_}),
        {perSample_}, false);
    ValueRange a = fisher.getArguments();
    SmallVector<Value> theta = slice(a, 2, theta_.size());
    SmallVector<Value> phi = slice(a, 2 + theta_.size(), phi_.size());
    SmallVector<Value> sampleArgs{a[0]};
    sampleArgs.append(phi);
    sampleArgs.push_back(a[1]);
    Value h = call(sample, sampleArgs)[0];
    SmallVector<Value> jointArgs{a[0], h};
    jointArgs.append(theta);
    jointArgs.append(phi);
    ret(posteriorFisherPerSample(negLogJoint, jointArgs));
  }
  if (gradients) {
    // (x, h, θ...) -> (∇_x, ∇_h) of Σ E.
    func::FuncOp gradient =
        startFunction(eval.energyGradient, concat({visible_, latent_, theta_}),
                      {visible_, latent_}, false);
    ret(GradOp::create(builder_, loc_, TypeRange{visible_, latent_},
                       energySum.getSymName(), gradient.getArguments(),
                       ArrayRef<int64_t>{0, 1})
            .getResults());
    // (x, φ...) -> E_q[h | x].
    func::FuncOp mean = startFunction(eval.posteriorMean,
                                      concat({visible_, phi_}), {latent_}, false);
    SmallVector<Value> out = call(info_.posterior, mean.getArguments());
    Value expected = out[0];
    if (info_.posteriorKind != PosteriorKind::Gaussian)
      expected = db().create<SigmoidOp>(out[0]);
    ret(expected);
  }
  return success();
}

} // namespace detail

std::string dataParallelUnsupported(const ModelInfo &info) {
  const TrainSpec &spec = info.spec;
  if (spec.method != Method::BiSM && spec.method != Method::Marginal)
    return "only methods bism and marginal are built for several ranks so "
           "far, not '" + std::string(methodName(spec.method)) + "'";
  if (spec.method == Method::BiSM &&
      spec.hypergradient == Hypergradient::Implicit)
    return "the implicit hypergradient is not built for several ranks yet "
           "(its conjugate-gradient solve would need the ranks' mean "
           "Hessian-vector products)";
  if (spec.objective == Objective::KSD)
    return "the KSD couples every pair of samples in the batch, so it is "
           "not a mean over the ranks' rows";
  return "";
}

LogicalResult buildTrainStep(ModuleOp module, const ModelInfo &info,
                             const BuildTrainStepOptions &options) {
  return StepBuilder(module, info, options).build();
}

EvaluationNames evaluationNames(const BuildTrainStepOptions &options) {
  const std::string &p = options.publicPrefix;
  return {p + "eval_score",           p + "eval_ssm",
          p + "eval_posterior_fisher", p + "eval_energy_gradient",
          p + "eval_posterior_mean",   p + "eval_approximate_ssm",
          p + "eval_objective"};
}

bool hasApproximateSsmEvaluation(const ModelInfo &info) {
  return hasEnergyGradientEvaluation(info) && !hasScoreEvaluation(info);
}

bool hasScoreEvaluation(const ModelInfo &info) {
  return bool(info.freeEnergy);
}

bool hasEnergyGradientEvaluation(const ModelInfo &info) {
  return info.energy && info.posterior &&
         (info.spec.method == Method::BiSM || info.spec.method == Method::VaGES);
}

bool hasLatentEvaluation(const ModelInfo &info) {
  return hasEnergyGradientEvaluation(info) &&
         info.posteriorKind == PosteriorKind::Gaussian;
}

LogicalResult buildEvaluationFunctions(ModuleOp module, const ModelInfo &info,
                                       const BuildTrainStepOptions &options) {
  // The helpers get their own names (the step's are "<model>__*") and the
  // objective is SSM whatever the model trains with.
  ModelInfo evalInfo = info;
  evalInfo.name = info.name + "__eval";
  evalInfo.spec.objective = Objective::SSM;
  return StepBuilder(module, evalInfo, options)
      .buildEvaluation(evaluationNames(options), info.spec.objective);
}

} // namespace bism::train

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

namespace bism {
#define GEN_PASS_DEF_BISMBUILDTRAINSTEP
#include "bism/Lowering/Passes.h.inc"
} // namespace bism

namespace {
struct BuildTrainStepPass
    : bism::impl::BismBuildTrainStepBase<BuildTrainStepPass> {
  using BismBuildTrainStepBase::BismBuildTrainStepBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    // The batch dimension is set and the functions the model file names by
    // ONNX file are imported first, so that `bism-opt model.mlir
    // --bism-build-train-step` takes any model file.
    if (failed(bism::train::specializeBatch(module)) ||
        failed(mlir::verify(module)) ||
        failed(bism::train::resolveONNXReferences(module)) ||
        failed(bism::train::applySpectralNorm(module)))
      return signalPassFailure();
    SmallVector<bism::ModelOp> models(module.getOps<bism::ModelOp>());
    if (models.empty()) {
      module.emitError("--bism-build-train-step: the module holds no "
                       "bism.model");
      return signalPassFailure();
    }
    // Read every model first: a failure leaves the module untouched.
    std::vector<bism::train::ModelInfo> infos;
    for (bism::ModelOp model : models) {
      FailureOr<bism::train::ModelInfo> info = bism::train::readModel(model);
      if (failed(info))
        return signalPassFailure();
      infos.push_back(std::move(*info));
    }
    for (bism::train::ModelInfo &info : infos) {
      bism::train::BuildTrainStepOptions options;
      if (infos.size() > 1)
        options.publicPrefix = info.name + "__";
      options.rank = rank;
      options.ranks = ranks;
      if (failed(bism::train::buildTrainStep(module, info, options)))
        return signalPassFailure();
      // Evaluation runs on one rank (rank 0), on its own.
      options.rank = 0;
      options.ranks = 1;
      if (evaluation &&
          failed(bism::train::buildEvaluationFunctions(module, info, options)))
        return signalPassFailure();
    }
    if (!keepModel)
      for (bism::ModelOp model : models)
        model.erase();
  }
};
} // namespace
