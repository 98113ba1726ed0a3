//===- Model.cpp - read and verify a model file ---------------------------===//
#include "bism/Train/Model.h"

#include "bism/Autodiff/Autodiff.h"
#include "bism/Dialect/Bism.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringSwitch.h"

#include <optional>

using namespace mlir;

namespace bism::train {

const char *methodName(Method method) {
  switch (method) {
  case Method::BiSM: return "bism";
  case Method::Marginal: return "marginal";
  case Method::CD: return "cd";
  case Method::PCD: return "pcd";
  case Method::VaGES: return "vages";
  case Method::Importance: return "importance";
  case Method::BiDVL: return "bidvl";
  }
  return "?";
}

size_t ModelInfo::numTheta() const {
  return size_t(llvm::count_if(
      params, [](const ParamInfo &p) { return p.group == ParamGroup::Theta; }));
}

size_t ModelInfo::numPhi() const { return params.size() - numTheta(); }

namespace {

/// Reads the spec dictionary field by field; every error names the field.
class SpecReader {
public:
  SpecReader(ModelOp model) : model_(model), spec_(model.getSpec()) {}

  InFlightDiagnostic error(StringRef field) {
    return model_.emitOpError() << "spec field '" << field << "' ";
  }

  /// A number (integer or float literal) if present.
  FailureOr<std::optional<double>> number(StringRef field) {
    used_.push_back(field);
    Attribute attr = spec_.get(field);
    if (!attr)
      return std::optional<double>();
    if (auto f = dyn_cast<FloatAttr>(attr))
      return std::optional<double>(f.getValueAsDouble());
    if (auto i = dyn_cast<IntegerAttr>(attr))
      return std::optional<double>(double(i.getInt()));
    error(field) << "must be a number, got " << attr;
    return failure();
  }

  LogicalResult positive(StringRef field, double &out) {
    return atLeast(field, out, /*allowZero=*/false);
  }

  LogicalResult nonNegative(StringRef field, double &out) {
    return atLeast(field, out, /*allowZero=*/true);
  }

  /// A number above 0 (or from 0, with `allowZero`); absent leaves `out`.
  LogicalResult atLeast(StringRef field, double &out, bool allowZero) {
    auto value = number(field);
    if (failed(value))
      return failure();
    if (!*value)
      return success();
    if (allowZero ? !(**value >= 0) : !(**value > 0))
      return error(field) << (allowZero ? "must be >= 0, got "
                                        : "must be positive, got ")
                          << **value;
    out = **value;
    return success();
  }

  /// "median" or a positive number (a fixed bandwidth).
  LogicalResult bandwidth(StringRef field, bool &median, double &fixed) {
    Attribute attr = spec_.get(field);
    if (auto text = dyn_cast_or_null<StringAttr>(attr)) {
      used_.push_back(field);
      if (text.getValue() != "median")
        return error(field) << "must be \"median\" or a positive number, got "
                            << attr;
      median = true;
      return success();
    }
    if (failed(positive(field, fixed)))
      return failure();
    if (attr)
      median = false;
    return success();
  }

  /// An integer >= `minimum`; with a `maximum`, at most that (counts the
  /// step builder unrolls into the program, where a huge one would exhaust
  /// memory for minutes instead of failing).
  LogicalResult count(StringRef field, int64_t &out, int64_t minimum,
                      int64_t maximum = INT64_MAX) {
    used_.push_back(field);
    Attribute attr = spec_.get(field);
    if (!attr)
      return success();
    auto i = dyn_cast<IntegerAttr>(attr);
    if (!i || i.getInt() < minimum)
      return error(field) << "must be an integer >= " << minimum << ", got "
                          << attr;
    if (i.getInt() > maximum)
      return error(field) << "must be at most " << maximum
                          << " (the steps are unrolled into the compiled "
                             "program), got "
                          << i.getInt();
    out = i.getInt();
    return success();
  }

  /// A string from `choices` (mapped to its enum value).
  template <typename Enum>
  LogicalResult choice(StringRef field, Enum &out,
                       ArrayRef<std::pair<StringRef, Enum>> choices) {
    used_.push_back(field);
    Attribute attr = spec_.get(field);
    if (!attr)
      return success();
    auto text = dyn_cast<StringAttr>(attr);
    for (auto [name, value] : choices)
      if (text && text.getValue() == name) {
        out = value;
        return success();
      }
    InFlightDiagnostic diag = error(field);
    diag << "must be one of";
    for (auto [index, entry] : llvm::enumerate(choices))
      diag << (index ? ", " : " ") << "\"" << entry.first << "\"";
    return diag << "; got " << attr;
  }

  LogicalResult string(StringRef field, std::string &out) {
    used_.push_back(field);
    Attribute attr = spec_.get(field);
    if (!attr)
      return success();
    auto text = dyn_cast<StringAttr>(attr);
    if (!text)
      return error(field) << "must be a string, got " << attr;
    out = text.getValue().str();
    return success();
  }

  /// A list of strings.
  LogicalResult strings(StringRef field, std::vector<std::string> &out) {
    used_.push_back(field);
    Attribute attr = spec_.get(field);
    if (!attr)
      return success();
    auto list = dyn_cast<ArrayAttr>(attr);
    if (!list || !llvm::all_of(list, llvm::IsaPred<StringAttr>))
      return error(field) << "must be a list of strings, got " << attr;
    out.clear();
    for (Attribute entry : list)
      out.push_back(cast<StringAttr>(entry).getValue().str());
    return success();
  }

  LogicalResult betas(StringRef field, OptimizerSpec &theta,
                      OptimizerSpec &phi) {
    used_.push_back(field);
    Attribute attr = spec_.get(field);
    if (!attr)
      return success();
    auto list = dyn_cast<ArrayAttr>(attr);
    SmallVector<double> values;
    if (list)
      for (Attribute entry : list) {
        if (auto f = dyn_cast<FloatAttr>(entry))
          values.push_back(f.getValueAsDouble());
        else if (auto i = dyn_cast<IntegerAttr>(entry))
          values.push_back(double(i.getInt()));
      }
    if (!list || list.size() != 2 || values.size() != 2 ||
        llvm::any_of(values, [](double b) { return b < 0 || b >= 1; }))
      return error(field) << "must be two numbers in [0, 1), got " << attr;
    theta.beta1 = phi.beta1 = values[0];
    theta.beta2 = phi.beta2 = values[1];
    return success();
  }

  /// Fields not read by anyone are typos: reject them, listing the known.
  LogicalResult rejectUnknown() {
    for (NamedAttribute entry : spec_)
      if (!llvm::is_contained(used_, entry.getName().getValue())) {
        InFlightDiagnostic diag = model_.emitOpError()
                                  << "unknown spec field '"
                                  << entry.getName().getValue()
                                  << "'; known fields:";
        for (auto [index, field] : llvm::enumerate(used_))
          diag << (index ? ", " : " ") << field;
        return diag;
      }
    return success();
  }

private:
  ModelOp model_;
  DictionaryAttr spec_;
  SmallVector<StringRef> used_;
};

/// hypergradient, cg_iterations, cg_damping (method bism). Implicit takes
/// no unrolled steps: N defaults to 0 and an explicit N > 0 is refused
/// rather than silently dropped.
LogicalResult readHypergradient(SpecReader &reader, ModelOp model,
                                TrainSpec &spec) {
  using H = Hypergradient;
  if (failed(reader.choice<H>("hypergradient", spec.hypergradient,
                              {{"unrolled", H::Unrolled},
                               {"implicit", H::Implicit}})) ||
      failed(reader.count("cg_iterations", spec.cgIterations, 1,
                          kMaxCgIterations)) ||
      failed(reader.nonNegative("cg_damping", spec.cgDamping)))
    return failure();
  DictionaryAttr given = model.getSpec();
  if (given.get("hypergradient") && spec.method != Method::BiSM)
    return reader.error("hypergradient") << "applies to method \"bism\"";
  if (spec.hypergradient != H::Implicit)
    for (StringRef field : {"cg_iterations", "cg_damping"})
      if (given.get(field))
        return reader.error(field)
               << "applies to hypergradient = \"implicit\" (the conjugate-"
               << "gradient solve); the unrolled hypergradient has none";
  if (spec.hypergradient != H::Implicit)
    return success();
  if (given.get("unroll_steps") && spec.unrollSteps != 0)
    return reader.error("unroll_steps")
           << "must be 0 with hypergradient = \"implicit\" (the implicit "
           << "function theorem replaces the unrolled steps), got "
           << spec.unrollSteps;
  spec.unrollSteps = 0;
  return success();
}

LogicalResult readSpec(ModelOp model, ModelInfo &info) {
  SpecReader reader(model);
  TrainSpec &spec = info.spec;
  std::string method = "bism";
  if (failed(reader.string("method", method)))
    return failure();
  if (method != "bism" && method != "marginal" && method != "cd" &&
      method != "pcd" && method != "vages" && method != "importance" &&
      method != "bidvl")
    return reader.error("method")
           << "must be \"bism\", \"vages\", \"marginal\", \"importance\", "
           << "\"bidvl\", \"cd\" or \"pcd\", got \"" << method << "\"";
  spec.method = llvm::StringSwitch<Method>(method)
                    .Case("marginal", Method::Marginal)
                    .Case("cd", Method::CD)
                    .Case("pcd", Method::PCD)
                    .Case("vages", Method::VaGES)
                    .Case("importance", Method::Importance)
                    .Case("bidvl", Method::BiDVL)
                    .Default(Method::BiSM);
  bool vages = spec.method == Method::VaGES;

  using S = NoiseSchedule;
  if (failed(reader.choice<S>("noise_schedule", spec.noiseSchedule,
                              {{"geometric", S::Geometric},
                               {"linear", S::Linear}})) ||
      failed(reader.positive("sigma_min", spec.sigmaMin)) ||
      failed(reader.positive("sigma_max", spec.sigmaMax)) ||
      failed(reader.positive("sigma0", spec.sigma0)))
    return failure();
  if (spec.sigmaMin > spec.sigmaMax)
    return reader.error("sigma_min") << "(" << spec.sigmaMin
                                     << ") exceeds sigma_max ("
                                     << spec.sigmaMax << ")";
  using O = Objective;
  using D = Divergence;
  using P = Projection;
  using K = OptimizerKind;
  if (failed(reader.choice<O>("objective", spec.objective,
                              {{"sm", O::SM},
                               {"ssm", O::SSM},
                               {"dsm", O::DSM},
                               {"mdsm", O::MDSM},
                               {"ksd", O::KSD}})) ||
      failed(reader.positive("noise_std", spec.noiseStd)) ||
      failed(reader.bandwidth("ksd_bandwidth", spec.ksdMedianBandwidth,
                              spec.ksdBandwidth)) ||
      failed(reader.choice<P>("projection", spec.projection,
                              {{"rademacher", P::Rademacher},
                               {"gaussian", P::Gaussian}})) ||
      failed(reader.choice<D>("divergence", spec.divergence,
                              {{"kl", D::KL}, {"fisher", D::Fisher}})) ||
      failed(reader.count("inner_steps", spec.innerSteps, 0,
                          kMaxInnerSteps)) ||
      failed(reader.count("unroll_steps", spec.unrollSteps, 0,
                          kMaxUnrollSteps)) ||
      failed(reader.choice<K>("optimizer_theta", spec.thetaOptimizer.kind,
                              {{"adam", K::Adam}, {"sgd", K::SGD}})) ||
      failed(reader.choice<K>("optimizer_phi", spec.phiOptimizer.kind,
                              {{"adam", K::Adam}, {"sgd", K::SGD}})) ||
      failed(reader.positive("lr_theta", spec.thetaOptimizer.learningRate)) ||
      failed(reader.positive("lr_phi", spec.phiOptimizer.learningRate)) ||
      failed(reader.betas("betas", spec.thetaOptimizer, spec.phiOptimizer)))
    return failure();
  double epsilon = spec.thetaOptimizer.epsilon;
  if (failed(reader.positive("epsilon", epsilon)))
    return failure();
  std::string unrollOptimizer = "sgd";
  spec.unrollLearningRate = spec.phiOptimizer.learningRate;
  if (failed(reader.string("unroll_optimizer", unrollOptimizer)) ||
      failed(reader.positive("unroll_lr", spec.unrollLearningRate)))
    return failure();
  if (unrollOptimizer != "sgd" && unrollOptimizer != "same")
    return reader.error("unroll_optimizer")
           << "must be \"sgd\" (plain gradient steps of size unroll_lr, the "
           << "BiSM paper's Eqn. 13) or \"same\" (the phi optimiser, "
           << "continuing its state), got \"" << unrollOptimizer << "\"";
  spec.unrollWithPhiOptimizer = unrollOptimizer == "same";
  if (failed(reader.string("unroll_checkpoint", spec.unrollCheckpoint)))
    return failure();
  std::string scheduleError;
  if (!autodiff::parseCheckpointSchedule(spec.unrollCheckpoint, scheduleError))
    return reader.error("unroll_checkpoint") << scheduleError;
  if (spec.unrollWithPhiOptimizer && model.getSpec().get("unroll_lr"))
    return reader.error("unroll_lr")
           << "applies to unroll_optimizer = \"sgd\"; with \"same\" the "
           << "unrolled steps use lr_phi";
  spec.thetaOptimizer.epsilon = spec.phiOptimizer.epsilon = epsilon;
  if (failed(readHypergradient(reader, model, spec)))
    return failure();
  int64_t seed = 0, batchSize = info.batchSize();
  if (failed(reader.count("iterations", spec.iterations, 1)) ||
      failed(reader.count("seed", seed, 0)) ||
      failed(reader.count("batch_size", batchSize, 1)) ||
      failed(reader.string("dataset", spec.dataset)) ||
      failed(reader.count("gibbs_steps", spec.gibbsSteps, 1,
                          kMaxGibbsSteps)) ||
      failed(reader.count("particles", spec.particles, 2, kMaxParticles)) ||
      failed(reader.choice<VagesSampling>(
          "vages_sampling", spec.vagesSampling,
          {{"hard", VagesSampling::Hard},
           {"relaxed", VagesSampling::Relaxed}})) ||
      failed(reader.choice<VagesGroups>(
          "vages_groups", spec.vagesGroups,
          {{"independent", VagesGroups::Independent},
           {"shared", VagesGroups::Shared}})) ||
      failed(reader.strings("ais_anneal", spec.aisAnneal)) ||
      failed(reader.strings("spectral_norm", spec.spectralNorm)) ||
      failed(reader.count("spectral_norm_iterations",
                          spec.spectralNormIterations, 1, 50)) ||
      failed(reader.positive("bidvl_basic_ratio", spec.bidvlBasicRatio)) ||
      failed(reader.choice<bool>("bidvl_ratio", spec.bidvlBiasTerm,
                                 {{"basic", false}, {"basic_bias", true}})))
    return failure();
  // BiDVL: one lower-level step per upper step unless inner_steps says, and
  // no unrolled lower-level steps unless unroll_steps asks for them.
  if (spec.method == Method::BiDVL && !model.getSpec().get("inner_steps"))
    spec.innerSteps = 1;
  if (spec.method == Method::BiDVL && !model.getSpec().get("unroll_steps"))
    spec.unrollSteps = 0;
  for (const std::string &name : spec.spectralNorm)
    if (!llvm::any_of(info.params, [&](const ParamInfo &p) {
          return p.group == ParamGroup::Theta && p.name == name;
        }))
      return reader.error("spectral_norm")
             << "names '" << name << "', which is not a theta parameter of "
             << "the model";
  for (const std::string &name : spec.aisAnneal)
    if (!llvm::any_of(info.params, [&](const ParamInfo &p) {
          return p.group == ParamGroup::Theta && p.name == name;
        }))
      return reader.error("ais_anneal")
             << "names '" << name << "', which is not a theta parameter of "
             << "the model";
  spec.seed = uint64_t(seed);
  if (batchSize != info.batchSize())
    return reader.error("batch_size")
           << "(" << batchSize << ") does not match the batch dimension of "
           << "the energy's visible argument (" << info.batchSize()
           << "); write the batch dimension as '?' in the model's types "
           << "(tensor<?x...>) to choose it with batch_size";
  int64_t visibleDims = info.visibleType.getDimSize(1);
  if (spec.objective == O::SM && visibleDims > kMaxExactTraceDims)
    return reader.error("objective")
           << "is \"sm\", whose exact Hessian trace takes one Hessian-vector "
           << "product per visible dimension; this model has " << visibleDims
           << " (limit " << kMaxExactTraceDims << "): use \"ssm\" or \"dsm\"";
  if (spec.objective == O::KSD && spec.method != Method::Marginal && !vages &&
      spec.method != Method::Importance)
    return reader.error("objective")
           << "is \"ksd\", which methods \"marginal\", \"importance\" and "
           << "\"vages\" implement";
  if (spec.method == Method::Importance &&
      spec.particles > kMaxImportanceParticles)
    return reader.error("particles")
           << "must be at most " << kMaxImportanceParticles
           << " with method \"importance\" (its L energies are unrolled into "
           << "the compiled program), got " << spec.particles;
  if (vages) {
    if (spec.objective != O::DSM && spec.objective != O::MDSM &&
        spec.objective != O::KSD)
      return reader.error("objective")
             << "must be \"dsm\", \"mdsm\" or \"ksd\" with method \"vages\"";
    // VaGES does not unroll: the default N = 5 of BiSM does not apply.
    if (model.getSpec().get("unroll_steps") && spec.unrollSteps != 0)
      return reader.error("unroll_steps")
             << "must be 0 with method \"vages\" (no unrolled steps), got "
             << spec.unrollSteps;
    spec.unrollSteps = 0;
  }
  if ((spec.method == Method::BiSM || vages) && spec.divergence == D::Fisher &&
      info.posteriorKind == PosteriorKind::Bernoulli)
    return reader.error("divergence")
           << "is \"fisher\", which needs continuous latents (a \"gaussian\" "
           << "posterior); this model's posterior is \"bernoulli\"";
  if (spec.unrollCheckpoint != "none" && spec.unrollSteps == 0)
    return reader.error("unroll_checkpoint")
           << "is \"" << spec.unrollCheckpoint << "\", but there are no "
           << "unrolled steps to checkpoint (unroll_steps = 0)";
  return reader.rejectUnknown();
}

std::optional<double> asDouble(std::optional<APFloat> value) {
  if (!value)
    return std::nullopt;
  return value->convertToDouble();
}

ParamInfo describeParam(ParamOp param, ParamGroup group) {
  ParamInfo info;
  info.name = param.getSymName().str();
  info.type = cast<RankedTensorType>(param.getType());
  info.group = group;
  info.init = llvm::StringSwitch<Initializer>(param.getInit())
                  .Case("zeros", Initializer::Zeros)
                  .Case("constant", Initializer::Constant)
                  .Case("value", Initializer::Value)
                  .Case("normal", Initializer::Normal)
                  .Case("uniform", Initializer::Uniform)
                  .Default(Initializer::KaimingUniform);
  switch (info.init) {
  case Initializer::Zeros:
    break;
  case Initializer::Constant:
    info.a = cast<FloatAttr>(*param.getValue()).getValueAsDouble();
    break;
  case Initializer::Value:
    // The verifier checked that the tensor has the parameter's type.
    for (FloatAttr value :
         cast<DenseFPElementsAttr>(*param.getValue()).getValues<FloatAttr>())
      info.values.push_back(value.getValueAsDouble());
    break;
  case Initializer::Normal:
    info.a = asDouble(param.getMean()).value_or(0.0);
    info.b = *asDouble(param.getStd());
    break;
  case Initializer::Uniform:
    info.a = *asDouble(param.getLow());
    info.b = *asDouble(param.getHigh());
    break;
  case Initializer::KaimingUniform:
    info.a = asDouble(param.getGain()).value_or(1.0);
    break;
  }
  return info;
}

/// Checks `func`'s arguments from `firstParam` on against the listed params
/// and appends their descriptions.
LogicalResult readParamArguments(ModelOp model, func::FuncOp func,
                                 StringRef role, ArrayAttr names,
                                 unsigned firstParam, ParamGroup group,
                                 ModelInfo &info) {
  if (func.getNumArguments() != firstParam + names.size())
    return model.emitOpError()
           << "the " << role << " @" << func.getSymName() << " takes "
           << func.getNumArguments() << " arguments; expected " << firstParam
           << " data arguments and the " << names.size()
           << " listed parameters";
  for (auto [index, entry] : llvm::enumerate(names)) {
    auto ref = cast<FlatSymbolRefAttr>(entry);
    auto param = cast<ParamOp>(
        mlir::SymbolTable::lookupSymbolIn(model, ref.getAttr()));
    Type argument = func.getArgumentTypes()[firstParam + index];
    if (argument != param.getType())
      return model.emitOpError()
             << "parameter " << ref << " has type " << param.getType()
             << " but argument " << firstParam + index << " of the " << role
             << " @" << func.getSymName() << " has type " << argument;
    info.params.push_back(describeParam(param, group));
  }
  return success();
}

} // namespace

/// The method named by the spec (checked again, with the other fields, by
/// readSpec); anything unknown reads as "bism" here.
static Method specMethod(ModelOp model) {
  auto text = dyn_cast_or_null<StringAttr>(model.getSpec().get("method"));
  if (!text)
    return Method::BiSM;
  return llvm::StringSwitch<Method>(text.getValue())
      .Case("marginal", Method::Marginal)
      .Case("cd", Method::CD)
      .Case("pcd", Method::PCD)
      .Case("vages", Method::VaGES)
      .Case("importance", Method::Importance)
      .Case("bidvl", Method::BiDVL)
      .Default(Method::BiSM);
}

static FailureOr<func::FuncOp> lookupFunction(ModelOp model,
                                              FlatSymbolRefAttr name,
                                              StringRef role) {
  auto func = mlir::SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(
      model->getParentOp(), name.getAttr());
  if (!func || func.isExternal()) {
    model.emitOpError() << "the " << role << " " << name
                        << " is not a func.func with a body in the module";
    return failure();
  }
  return func;
}

/// Checks the parameters `names` listed for `func` (the `role` of a clause
/// whose function takes them from argument `firstParam` on) against the
/// argument types and against `info.params`, and appends their positions in
/// `info.params` to `positions`.
static LogicalResult listedParamPositions(ModelOp model, func::FuncOp func,
                                          StringRef role, ArrayAttr names,
                                          unsigned firstParam,
                                          const ModelInfo &info,
                                          std::vector<size_t> &positions) {
  FunctionType type = func.getFunctionType();
  for (auto [index, entry] : llvm::enumerate(names)) {
    auto ref = cast<FlatSymbolRefAttr>(entry);
    auto param = cast<ParamOp>(
        mlir::SymbolTable::lookupSymbolIn(model, ref.getAttr()));
    Type argument = type.getInput(firstParam + index);
    if (argument != param.getType())
      return model.emitOpError()
             << "parameter " << ref << " has type " << param.getType()
             << " but argument " << firstParam + index << " of the " << role
             << " @" << func.getSymName() << " has type " << argument;
    auto position = llvm::find_if(info.params, [&](const ParamInfo &p) {
      return p.name == ref.getValue();
    });
    if (position == info.params.end() || position->group != ParamGroup::Theta)
      return model.emitOpError()
             << "the " << role << " @" << func.getSymName() << " lists " << ref
             << ", which is not a theta parameter the model's method trains";
    positions.push_back(size_t(position - info.params.begin()));
  }
  return success();
}

/// Every declared parameter (of `group`, "" for all) is listed exactly once
/// among info.params; `unlisted` completes the error for one listed by
/// nobody ("is ...").
static LogicalResult requireListedOnce(ModelOp model, const ModelInfo &info,
                                       StringRef group, StringRef unlisted) {
  for (auto param : model.getBody().getOps<ParamOp>()) {
    if (!group.empty() && param.getGroup() != group)
      continue;
    size_t uses = llvm::count_if(info.params, [&](const ParamInfo &p) {
      return p.name == param.getSymName();
    });
    if (uses != 1)
      return param.emitOpError()
             << (uses == 0 ? unlisted : StringRef("is listed more than once"));
  }
  return success();
}

/// Methods "marginal", "cd", "pcd": F(v [B,D], θ...) -> [B]; every θ
/// parameter is listed.
static LogicalResult readMarginal(ModelOp model, ModelInfo &info,
                                  StringRef method = "marginal") {
  if (!model.getFreeEnergy())
    return model.emitOpError()
           << "spec field 'method' is \"" << method << "\", which needs a "
           << "'free_energy' clause";
  auto freeEnergy =
      lookupFunction(model, model.getFreeEnergyAttr(), "free energy");
  if (failed(freeEnergy))
    return failure();
  info.freeEnergy = *freeEnergy;
  FunctionType type = info.freeEnergy.getFunctionType();
  auto visible = type.getNumInputs() > 0
                     ? dyn_cast<RankedTensorType>(type.getInput(0))
                     : RankedTensorType();
  if (!visible || visible.getRank() != 2 ||
      !isa<FloatType>(visible.getElementType()))
    return model.emitOpError()
           << "the free energy @" << info.freeEnergy.getSymName()
           << " must start with v: tensor<BxDxT> (float T), got " << type;
  info.visibleType = visible;
  auto perSample = RankedTensorType::get({visible.getDimSize(0)},
                                         visible.getElementType());
  if (type.getNumResults() != 1 || type.getResult(0) != perSample)
    return model.emitOpError() << "the free energy @"
                               << info.freeEnergy.getSymName()
                               << " must return the per-sample free energies "
                               << perSample << ", got " << type.getResults();
  if (failed(readParamArguments(model, info.freeEnergy, "free energy",
                                *model.getFreeEnergyParams(), 1,
                                ParamGroup::Theta, info)))
    return failure();
  return requireListedOnce(model, info, "theta",
                           "is a theta parameter but the free energy does not "
                           "list it (method \"" + method.str() + "\")");
}

/// Methods "cd" and "pcd": the free energy (readMarginal), then the Gibbs
/// sweep G(v [B,D], θ_G..., u_h [B,H], z_v [B,D]) -> [B,D].
static LogicalResult readContrastive(ModelOp model, ModelInfo &info,
                                     StringRef method) {
  if (failed(readMarginal(model, info, method)))
    return failure();
  if (!model.getGibbs())
    return model.emitOpError()
           << "spec field 'method' is \"" << method << "\", which needs a "
           << "'gibbs' clause";
  auto gibbs = lookupFunction(model, model.getGibbsAttr(), "gibbs sweep");
  if (failed(gibbs))
    return failure();
  info.gibbs = *gibbs;
  ArrayAttr names = *model.getGibbsParams();
  FunctionType type = info.gibbs.getFunctionType();
  RankedTensorType visible = info.visibleType;
  auto signatureError = [&]() {
    std::string latentText;
    llvm::raw_string_ostream os(latentText);
    os << "tensor<" << visible.getDimSize(0) << "xHx"
       << visible.getElementType() << ">";
    return model.emitOpError()
           << "the gibbs sweep @" << info.gibbs.getSymName()
           << " must be (v: " << visible << ", the " << names.size()
           << " listed parameters, u_h: " << latentText << ", z_v: " << visible
           << ") -> " << visible << ", got " << type;
  };
  size_t n = names.size();
  if (type.getNumInputs() != n + 3 || type.getInput(0) != visible ||
      type.getInput(n + 2) != visible || type.getNumResults() != 1 ||
      type.getResult(0) != visible)
    return signatureError();
  auto latent = dyn_cast<RankedTensorType>(type.getInput(n + 1));
  if (!latent || latent.getRank() != 2 ||
      latent.getDimSize(0) != visible.getDimSize(0) ||
      latent.getElementType() != visible.getElementType())
    return signatureError();
  info.latentType = latent;
  return listedParamPositions(model, info.gibbs, "gibbs sweep", names, 1, info,
                              info.gibbsParams);
}

/// The optional `component_log_mass @C [θ...]` clause: C(hs [C,H], θ_C...)
/// -> [C], C a power of two no larger than 2^H (the runtime enumerates the
/// 2^H configurations in chunks of C), H the latent width where the model
/// has one.
/// Methods "bism" and "vages" do not train with a `free_energy` clause, but
/// evaluation (SSM score, Langevin sampling) uses it: F(v [B,D], θ_F...) ->
/// [B] with θ_F listed θ parameters of the model.
static LogicalResult readOptionalFreeEnergy(ModelOp model, ModelInfo &info) {
  if (info.freeEnergy || !model.getFreeEnergy())
    return success();
  auto func = lookupFunction(model, model.getFreeEnergyAttr(), "free energy");
  if (failed(func))
    return failure();
  FunctionType type = func->getFunctionType();
  ArrayAttr names = *model.getFreeEnergyParams();
  auto perSample = RankedTensorType::get({info.batchSize()},
                                         info.visibleType.getElementType());
  if (type.getNumInputs() != names.size() + 1 ||
      type.getInput(0) != info.visibleType || type.getNumResults() != 1 ||
      type.getResult(0) != perSample)
    return model.emitOpError()
           << "the free energy @" << func->getSymName() << " must be (v: "
           << info.visibleType << ", the " << names.size()
           << " listed parameters) -> " << perSample << ", got " << type;
  std::vector<size_t> positions;
  if (failed(listedParamPositions(model, *func, "free energy", names, 1, info,
                                  positions)))
    return failure();
  info.freeEnergy = *func;
  return success();
}

static LogicalResult readComponentLogMass(ModelOp model, ModelInfo &info) {
  if (!model.getComponentLogMass())
    return success();
  auto func = lookupFunction(model, model.getComponentLogMassAttr(),
                             "component_log_mass function");
  if (failed(func))
    return failure();
  info.componentLogMass = *func;
  ArrayAttr names = *model.getComponentLogMassParams();
  FunctionType type = info.componentLogMass.getFunctionType();
  Type element = info.visibleType.getElementType();
  // The latent width: that of the method's latents (the energy's h, the Gibbs
  // sweep's u_h), else of an energy clause the method does not use.
  int64_t latentWidth = info.latentType ? info.latentType.getDimSize(1) : -1;
  if (latentWidth < 0 && model.getEnergy())
    if (auto energy = mlir::SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(
            model->getParentOp(), model.getEnergyAttr()))
      if (energy.getNumArguments() > 1)
        if (auto h = dyn_cast<RankedTensorType>(energy.getArgumentTypes()[1]))
          if (h.getRank() == 2)
            latentWidth = h.getDimSize(1);
  auto error = [&]() {
    return model.emitOpError()
           << "the component_log_mass function @"
           << info.componentLogMass.getSymName() << " ";
  };
  auto configs = type.getNumInputs() > 0
                     ? dyn_cast<RankedTensorType>(type.getInput(0))
                     : RankedTensorType();
  if (type.getNumInputs() != names.size() + 1 || !configs ||
      configs.getRank() != 2 || configs.getElementType() != element ||
      !configs.hasStaticShape()) {
    std::string elementText;
    llvm::raw_string_ostream os(elementText);
    os << element;
    return error() << "must be (hs: tensor<CxHx" << elementText << ">, the "
                   << names.size() << " listed parameters) -> tensor<Cx"
                   << elementText << ">, got " << type;
  }
  int64_t chunk = configs.getDimSize(0), width = configs.getDimSize(1);
  if (latentWidth >= 0 && width != latentWidth)
    return error() << "takes configurations of " << width
                   << " latents, but the model's latent width is "
                   << latentWidth;
  if (chunk < 1 || !llvm::isPowerOf2_64(uint64_t(chunk)) ||
      (width < 63 && chunk > (int64_t(1) << width)))
    return error() << "takes chunks of C = " << chunk
                   << " configurations; C must be a power of two no larger "
                   << "than 2^H = 2^" << width;
  auto perConfig = RankedTensorType::get({chunk}, element);
  if (type.getNumResults() != 1 || type.getResult(0) != perConfig)
    return error() << "must return the per-configuration log masses "
                   << perConfig << ", got " << type.getResults();
  return listedParamPositions(model, info.componentLogMass,
                              "component_log_mass function", names, 1, info,
                              info.componentLogMassParams);
}

/// The energy clause E(v [B,D], h [B,H], θ...) -> [B]: its function,
/// visible and latent types and θ parameters.
static LogicalResult readEnergy(ModelOp model, ModelInfo &info) {
  auto energy = lookupFunction(model, model.getEnergyAttr(), "energy");
  if (failed(energy))
    return failure();
  info.energy = *energy;
  FunctionType energyType = info.energy.getFunctionType();
  auto visible = energyType.getNumInputs() > 0
                     ? dyn_cast<RankedTensorType>(energyType.getInput(0))
                     : RankedTensorType();
  auto latent = energyType.getNumInputs() > 1
                    ? dyn_cast<RankedTensorType>(energyType.getInput(1))
                    : RankedTensorType();
  if (!visible || !latent || visible.getRank() != 2 || latent.getRank() != 2 ||
      visible.getDimSize(0) != latent.getDimSize(0) ||
      visible.getElementType() != latent.getElementType() ||
      !isa<FloatType>(visible.getElementType()))
    return model.emitOpError()
           << "the energy @" << info.energy.getSymName()
           << " must start with v: tensor<BxDxT> and h: tensor<BxHxT> (same "
           << "batch B, float T), got " << energyType;
  info.visibleType = visible;
  info.latentType = latent;
  auto perSample = RankedTensorType::get({visible.getDimSize(0)},
                                         visible.getElementType());
  if (energyType.getNumResults() != 1 || energyType.getResult(0) != perSample)
    return model.emitOpError() << "the energy @" << info.energy.getSymName()
                               << " must return the per-sample energies "
                               << perSample << ", got "
                               << energyType.getResults();
  return readParamArguments(model, info.energy, "energy",
                            *model.getEnergyParams(), 2, ParamGroup::Theta,
                            info);
}

/// Method "importance": the energy, over binary latents (a "gaussian"
/// posterior clause says they are not); every θ parameter is the energy's.
/// A posterior clause is not used.
static LogicalResult readImportance(ModelOp model, ModelInfo &info) {
  if (!model.getEnergy())
    return model.emitOpError()
           << "spec field 'method' is \"importance\", which needs an "
           << "'energy' clause";
  if (model.getPosteriorKind() && *model.getPosteriorKind() == "gaussian")
    return model.emitOpError()
           << "spec field 'method' is \"importance\", which draws binary "
           << "latents uniformly; this model's posterior is \"gaussian\"";
  if (failed(readEnergy(model, info)))
    return failure();
  info.posteriorKind = PosteriorKind::Bernoulli; // the uniform proposal's latents
  if (failed(requireListedOnce(model, info, "theta",
                               "is a theta parameter but the energy does not "
                               "list it (method \"importance\")")))
    return failure();
  return readSpec(model, info);
}

/// Methods "bism" and "vages": the energy E(v, h, θ...) and the posterior
/// q(v, φ...), then the spec.
static LogicalResult readBilevel(ModelOp model, ModelInfo &info,
                                 StringRef method) {
  if (!model.getEnergy() || !model.getPosterior())
    return model.emitOpError()
           << "spec field 'method' is \"" << method << "\", which needs an "
           << "'energy' and a 'posterior' clause";
  if (failed(readEnergy(model, info)))
    return failure();
  auto posterior =
      lookupFunction(model, model.getPosteriorAttr(), "posterior");
  if (failed(posterior))
    return failure();
  info.posterior = *posterior;
  info.posteriorKind = *model.getPosteriorKind() == "bernoulli"
                           ? PosteriorKind::Bernoulli
                           : PosteriorKind::Gaussian;
  if (auto temperature = model.getTemperature())
    info.temperature = temperature->convertToDouble();

  RankedTensorType visible = info.visibleType, latent = info.latentType;

  // Posterior: (v, φ...) -> logits or (mu, logstd), each [B,H].
  FunctionType posteriorType = info.posterior.getFunctionType();
  if (posteriorType.getNumInputs() < 1 || posteriorType.getInput(0) != visible)
    return model.emitOpError() << "the posterior @"
                               << info.posterior.getSymName()
                               << " must take v: " << visible << " first";
  unsigned expectedResults =
      info.posteriorKind == PosteriorKind::Bernoulli ? 1 : 2;
  if (posteriorType.getNumResults() != expectedResults ||
      llvm::any_of(posteriorType.getResults(),
                   [&](Type type) { return type != latent; }))
    return model.emitOpError()
           << "the " << *model.getPosteriorKind() << " posterior @"
           << info.posterior.getSymName() << " must return "
           << (expectedResults == 1 ? "the logits" : "(mu, logstd)") << " as "
           << expectedResults << " x " << latent << ", got "
           << posteriorType.getResults();
  if (failed(readParamArguments(model, info.posterior, "posterior",
                                *model.getPosteriorParams(), 1, ParamGroup::Phi,
                                info)))
    return failure();

  // Every declared parameter is used by exactly one of the two functions.
  if (failed(requireListedOnce(model, info, "",
                               "is declared but neither the energy nor the "
                               "posterior lists it")))
    return failure();
  return readSpec(model, info);
}

/// Method "bidvl": the marginal energy (the free energy clause, θ), the
/// Gaussian inference model (the posterior, φ) and the generator G(h [B,H],
/// φ_G...) -> [B,D] (φ); every φ parameter is the posterior's or the
/// generator's, once.
static LogicalResult readBidvl(ModelOp model, ModelInfo &info) {
  if (!model.getFreeEnergy() || !model.getPosterior() || !model.getGenerator())
    return model.emitOpError()
           << "spec field 'method' is \"bidvl\", which needs a 'free_energy' "
           << "(the marginal energy), a \"gaussian\" 'posterior' (the "
           << "inference model) and a 'generator' clause";
  if (*model.getPosteriorKind() != "gaussian")
    return model.emitOpError()
           << "spec field 'method' is \"bidvl\", whose inference model is "
           << "Gaussian; this model's posterior is \""
           << *model.getPosteriorKind() << "\"";
  if (failed(readMarginal(model, info, "bidvl")))
    return failure();
  auto posterior = lookupFunction(model, model.getPosteriorAttr(), "posterior");
  auto generator = lookupFunction(model, model.getGeneratorAttr(), "generator");
  if (failed(posterior) || failed(generator))
    return failure();
  info.posterior = *posterior;
  info.generator = *generator;
  info.posteriorKind = PosteriorKind::Gaussian;
  RankedTensorType visible = info.visibleType;
  FunctionType posteriorType = info.posterior.getFunctionType();
  auto latent = posteriorType.getNumResults() == 2
                    ? dyn_cast<RankedTensorType>(posteriorType.getResult(0))
                    : RankedTensorType();
  if (posteriorType.getNumInputs() < 1 || posteriorType.getInput(0) != visible ||
      !latent || latent.getRank() != 2 ||
      latent.getDimSize(0) != visible.getDimSize(0) ||
      latent.getElementType() != visible.getElementType() ||
      posteriorType.getResult(1) != latent)
    return model.emitOpError()
           << "the inference model @" << info.posterior.getSymName()
           << " must be (v: " << visible << ", φ...) -> (mu, logstd), each "
           << "tensor<" << visible.getDimSize(0) << "xHx"
           << visible.getElementType() << ">, got " << posteriorType;
  info.latentType = latent;
  FunctionType generatorType = info.generator.getFunctionType();
  if (generatorType.getNumInputs() < 1 || generatorType.getInput(0) != latent ||
      generatorType.getNumResults() != 1 ||
      generatorType.getResult(0) != visible)
    return model.emitOpError()
           << "the generator @" << info.generator.getSymName()
           << " must be (h: " << latent << ", φ...) -> " << visible
           << ", got " << generatorType;
  if (failed(readParamArguments(model, info.posterior, "posterior",
                                *model.getPosteriorParams(), 1, ParamGroup::Phi,
                                info)))
    return failure();
  size_t first = info.params.size();
  if (failed(readParamArguments(model, info.generator, "generator",
                                *model.getGeneratorParams(), 1, ParamGroup::Phi,
                                info)))
    return failure();
  for (size_t i = first; i < info.params.size(); ++i)
    info.generatorParams.push_back(i);
  if (failed(requireListedOnce(model, info, "phi",
                               "is a phi parameter but neither the inference "
                               "model nor the generator lists it (method "
                               "\"bidvl\")")))
    return failure();
  return readSpec(model, info);
}

FailureOr<ModelInfo> readModel(ModelOp model) {
  ModelInfo info;
  info.name = model.getSymName().str();
  // The batch size is fixed before the model is read (specializeBatch).
  if (auto module = model->getParentOfType<ModuleOp>())
    if (Operation *dynamic = findDynamicShape(module))
      return dynamic->emitError()
             << "'?' (batch) dimension not yet set: run "
                "--bism-specialize-batch (bism::train::specializeBatch) before "
                "reading the model";
  Method method = specMethod(model);
  LogicalResult status = failure();
  if (method == Method::Marginal)
    status = success(succeeded(readMarginal(model, info)) &&
                     succeeded(readSpec(model, info)));
  else if (method == Method::Importance)
    status = readImportance(model, info);
  else if (method == Method::BiDVL)
    status = readBidvl(model, info);
  else if (method == Method::CD || method == Method::PCD)
    status = success(
        succeeded(readContrastive(model, info,
                                  method == Method::CD ? "cd" : "pcd")) &&
        succeeded(readSpec(model, info)));
  else
    status = readBilevel(model, info,
                         method == Method::VaGES ? "vages" : "bism");
  if (failed(status) || failed(readOptionalFreeEnergy(model, info)) ||
      failed(readComponentLogMass(model, info)))
    return failure();
  return info;
}

} // namespace bism::train
