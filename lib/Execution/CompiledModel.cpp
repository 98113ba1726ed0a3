//===- CompiledModel.cpp - a model file, built and compiled ---------------===//
#include "bism/Execution/CompiledModel.h"

#include "bism/Dialect/Bism.h"
#include "bism/Support/InputFiles.h"
#include "bism/Train/BuildTrainStep.h"
#include "bism/Train/ResolveONNX.h"
#include "bism/Train/SpecializeBatch.h"
#include "bism/Train/SpectralNorm.h"
#include "bism/runtime/Dataset.h"
#include "bism/runtime/HostTensor.h"
#include "bism/runtime/Metrics.h"
#include "bism/runtime/Philox.h"

#include "mlir/IR/Verifier.h"
#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstdio>
#include <cstring>

using namespace mlir;
using bism::runtime::ElementType;
using bism::runtime::HostTensor;
using bism::runtime::TensorSpec;

namespace bism {

namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

ElementType elementTypeOf(Type type) {
  if (type.isF64())
    return ElementType::f64;
  if (type.isF32())
    return ElementType::f32;
  if (type.isInteger(1))
    return ElementType::i1;
  if (type.isInteger(32))
    return ElementType::i32;
  return ElementType::i64;
}

TensorSpec tensorSpec(const std::string &name, RankedTensorType type) {
  return {name, elementTypeOf(type.getElementType()),
          std::vector<int64_t>(type.getShape().begin(), type.getShape().end())};
}

/// Spec overrides: the value as an attribute, else as a bare string.
Attribute parseOverrideValue(StringRef text, MLIRContext *context) {
  // Plain numbers first: MLIR's syntax rejects float literals like 1e-3.
  int64_t integer;
  if (!text.getAsInteger(10, integer))
    return IntegerAttr::get(IntegerType::get(context, 64), integer);
  double number;
  if (!text.getAsDouble(number))
    return FloatAttr::get(Float64Type::get(context), number);
  Attribute attr;
  {
    ScopedDiagnosticHandler quiet(context, [](Diagnostic &) { return success(); });
    size_t consumed = 0;
    attr = parseAttribute(text, context, Type(), &consumed);
    if (attr && consumed != text.size())
      attr = {};
  }
  if (attr && (isa<IntegerAttr, FloatAttr, StringAttr, ArrayAttr>(attr)))
    return attr;
  return StringAttr::get(context, text);
}

std::string jsonString(StringRef text) {
  return runtime::jsonQuoted(text.str());
}

std::string jsonNumber(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.10g", value);
  return buffer;
}

/// The resolved spec, every field (defaults included), as the model file
/// spells them.
std::string specJson(const train::ModelInfo &info, const JitOptions &jit,
                     int64_t ranks) {
  const train::TrainSpec &spec = info.spec;
  using namespace train;
  const char *method = methodName(spec.method);
  const char *objectives[] = {"sm", "ssm", "dsm", "mdsm", "ksd"};
  auto optimizer = [](const OptimizerSpec &o) {
    return o.kind == OptimizerKind::Adam ? "adam" : "sgd";
  };
  std::vector<std::pair<std::string, std::string>> fields = {
      {"model", jsonString(info.name)},
      {"method", jsonString(method)},
      {"objective", jsonString(objectives[int(spec.objective)])},
      {"noise_std", jsonNumber(spec.noiseStd)},
      {"noise_schedule",
       jsonString(spec.noiseSchedule == NoiseSchedule::Geometric ? "geometric"
                                                                 : "linear")},
      {"sigma_min", jsonNumber(spec.sigmaMin)},
      {"sigma_max", jsonNumber(spec.sigmaMax)},
      {"sigma0", jsonNumber(spec.sigma0)},
      {"ksd_bandwidth", spec.ksdMedianBandwidth ? jsonString("median")
                                                : jsonNumber(spec.ksdBandwidth)},
      {"projection", jsonString(spec.projection == Projection::Rademacher
                                    ? "rademacher"
                                    : "gaussian")},
      {"divergence",
       jsonString(spec.divergence == Divergence::KL ? "kl" : "fisher")},
      {"inner_steps", std::to_string(spec.innerSteps)},
      {"unroll_steps", std::to_string(spec.unrollSteps)},
      {"gibbs_steps", std::to_string(spec.gibbsSteps)},
      {"particles", std::to_string(spec.particles)},
      {"vages_sampling", jsonString(spec.vagesSampling == VagesSampling::Hard
                                        ? "hard"
                                        : "relaxed")},
      {"vages_groups", jsonString(spec.vagesGroups == VagesGroups::Independent
                                      ? "independent"
                                      : "shared")},
      {"optimizer_theta", jsonString(optimizer(spec.thetaOptimizer))},
      {"lr_theta", jsonNumber(spec.thetaOptimizer.learningRate)},
      {"optimizer_phi", jsonString(optimizer(spec.phiOptimizer))},
      {"lr_phi", jsonNumber(spec.phiOptimizer.learningRate)},
      {"unroll_optimizer",
       jsonString(spec.unrollWithPhiOptimizer ? "same" : "sgd")},
      {"unroll_lr", jsonNumber(spec.unrollLearningRate)},
      {"hypergradient",
       jsonString(spec.hypergradient == Hypergradient::Implicit ? "implicit"
                                                                : "unrolled")},
      {"cg_iterations", std::to_string(spec.cgIterations)},
      {"cg_damping", jsonNumber(spec.cgDamping)},
      {"betas", "[" + jsonNumber(spec.thetaOptimizer.beta1) + ", " +
                    jsonNumber(spec.thetaOptimizer.beta2) + "]"},
      {"epsilon", jsonNumber(spec.thetaOptimizer.epsilon)},
      // The global batch: data parallel, info's is one rank's share.
      {"batch_size", std::to_string(info.batchSize() * ranks)},
      {"iterations", std::to_string(spec.iterations)},
      {"seed", std::to_string(spec.seed)},
      {"dataset", jsonString(spec.dataset)},
  };
  if (info.posterior)
    fields.push_back({"temperature", jsonNumber(info.temperature)});
  // Where it ran (checkpoints are portable: any device resumes them).
  fields.push_back({"device", jsonString(jit.device)});
  if (ranks > 1)
    fields.push_back({"ranks", std::to_string(ranks)});
  std::string out = "{\n";
  for (size_t i = 0; i < fields.size(); ++i)
    out += "  " + jsonString(fields[i].first) + ": " + fields[i].second +
           (i + 1 < fields.size() ? ",\n" : "\n");
  return out + "}\n";
}

template <typename T>
void fillParameter(HostTensor &tensor, const train::ParamInfo &param,
                   runtime::PhiloxKey key) {
  T *out = tensor.dataAs<T>();
  int64_t n = tensor.numElements();
  int64_t fanIn = tensor.rank() ? tensor.shape()[0] : 1;
  for (int64_t i = 0; i < n; ++i) {
    runtime::PhiloxCounter words = runtime::philoxWordsForElement(key, uint64_t(i));
    double value = 0;
    switch (param.init) {
    case train::Initializer::Zeros:
      break;
    case train::Initializer::Constant:
      value = param.a;
      break;
    case train::Initializer::Value:
      value = param.values[size_t(i)];
      break;
    case train::Initializer::Normal:
      value = param.a + param.b * double(runtime::normalFromWords<T>(words));
      break;
    case train::Initializer::Uniform:
      value = param.a + (param.b - param.a) *
                            double(runtime::uniformFromWords<T>(words));
      break;
    case train::Initializer::KaimingUniform: {
      double bound = param.a * std::sqrt(3.0 / double(fanIn));
      value = -bound + 2 * bound * double(runtime::uniformFromWords<T>(words));
      break;
    }
    }
    out[i] = T(value);
  }
}

/// Keys of parameter initialisation: far above any step counter.
constexpr uint64_t kInitStream = 0x696e697400000000ull; // "init"

enum class Draw { Uniform, Normal, Rademacher, Gumbel };

template <typename T>
void fillRandomAs(HostTensor &tensor, runtime::PhiloxKey key, Draw draw,
                  int64_t offset) {
  T *out = tensor.dataAs<T>();
  for (int64_t i = 0, n = tensor.numElements(); i < n; ++i) {
    auto words = runtime::philoxWordsForElement(key, uint64_t(offset + i));
    out[i] = draw == Draw::Uniform  ? runtime::uniformFromWords<T>(words)
             : draw == Draw::Normal ? runtime::normalFromWords<T>(words)
             : draw == Draw::Gumbel ? runtime::gumbelFromWords<T>(words)
                                    : runtime::rademacherFromWords<T>(words);
  }
}

/// Fills `tensor` (f32 or f64) with independent draws keyed by `key`:
/// elements [offset, offset + size) of its stream.
void fillRandom(HostTensor &tensor, runtime::PhiloxKey key, Draw draw,
                int64_t offset = 0) {
  if (tensor.elementType() == ElementType::f64)
    fillRandomAs<double>(tensor, key, draw, offset);
  else
    fillRandomAs<float>(tensor, key, draw, offset);
}

runtime::PhiloxKey seedKey(uint64_t seed) {
  return {uint32_t(seed), uint32_t(seed >> 32)};
}

double logSumExp(const std::vector<double> &values) {
  double peak = -INFINITY;
  for (double v : values)
    peak = std::max(peak, v);
  if (!std::isfinite(peak))
    return peak;
  double sum = 0;
  for (double v : values)
    sum += std::exp(v - peak);
  return peak + std::log(sum);
}

} // namespace

CompiledModel::CompiledModel() = default;
CompiledModel::StepMemory CompiledModel::trainStepMemory() const {
  StepMemory memory;
  const FunctionSignature *step = jit_->lookup(trainStepName_);
  if (!step)
    return memory;
  memory.arenaBytes = step->arenaBytes;
  for (const auto *group : {&step->inputs, &step->outputs})
    for (const TensorSignature &tensor : *group) {
      int64_t elements = 1;
      for (int64_t size : tensor.shape)
        elements *= size;
      memory.inputOutputBytes +=
          elements * int64_t(runtime::elementSize(tensor.elementType));
    }
  return memory;
}

CompiledModel::~CompiledModel() = default;

int64_t CompiledModel::visibleDims() const {
  return info_.visibleType.getDimSize(1);
}

ElementType CompiledModel::elementType() const {
  return elementTypeOf(info_.visibleType.getElementType());
}

llvm::Expected<std::unique_ptr<CompiledModel>>
CompiledModel::load(const ModelLoadOptions &options) {
  std::unique_ptr<CompiledModel> model(new CompiledModel());
  DialectRegistry registry;
  registerExecutionDialects(registry);
  model->context_ = std::make_unique<MLIRContext>(registry);
  MLIRContext *context = model->context_.get();
  // Errors point at the file; a dump of the whole model op would bury them.
  context->printOpOnDiagnostic(false);

  std::string message;
  std::unique_ptr<llvm::MemoryBuffer> file =
      readBoundedInput(options.path, runtime::memoryBudget(), message,
                       "model file");
  if (!file)
    return makeError(message);
  if (!checkMlirNesting(file->getBuffer(), options.path, message))
    return makeError(message);
  model->sources_.push_back(
      {llvm::sys::path::filename(options.path).str(), file->getBuffer().str()});
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  // Diagnostics name file:line:col of the model file (spec errors included).
  SourceMgrDiagnosticHandler handler(sourceMgr, context, llvm::errs());
  model->module_ = parseSourceFile<ModuleOp>(sourceMgr, context);
  if (!model->module_)
    return makeError("cannot parse model file '" + options.path + "'");
  SmallVector<ModelOp> models(model->module_->getOps<ModelOp>());
  ModelOp modelOp;
  for (ModelOp candidate : models)
    if (options.modelName.empty() || candidate.getSymName() == options.modelName)
      modelOp = modelOp ? ModelOp() : candidate;
  if (!modelOp) {
    std::string names;
    for (ModelOp candidate : models)
      names += " @" + candidate.getSymName().str();
    if (models.empty())
      return makeError("'" + options.path + "' declares no bism.model");
    return makeError(options.modelName.empty()
                         ? "'" + options.path + "' declares several models (" +
                               names + " ); choose one with --model NAME"
                         : "'" + options.path + "' has no model @" +
                               options.modelName + " (it has" + names + ")");
  }

  NamedAttrList spec(modelOp.getSpec());
  for (const std::string &override : options.overrides) {
    size_t eq = override.find('=');
    if (eq == std::string::npos || eq == 0)
      return makeError("--set '" + override + "': expected key=value");
    std::string key = override.substr(0, eq);
    key = llvm::StringSwitch<std::string>(key)
              .Case("K", "inner_steps")
              .Case("N", "unroll_steps")
              .Case("L", "particles")
              .Default(key);
    spec.set(key, parseOverrideValue(StringRef(override).drop_front(eq + 1),
                                     context));
  }
  if (options.ranks > 1) {
    // Each rank compiles its share of the global batch.
    auto batch = dyn_cast_or_null<IntegerAttr>(spec.get("batch_size"));
    if (!batch || batch.getInt() < 1)
      return makeError("data-parallel training needs the spec's batch_size "
                       "(an integer >= 1), the global batch the ranks share");
    if (batch.getInt() % options.ranks != 0)
      return makeError("batch_size " + std::to_string(batch.getInt()) +
                       " cannot be split evenly across " +
                       std::to_string(options.ranks) +
                       " ranks; choose a batch_size that is a multiple of "
                       "the process count");
    spec.set("batch_size",
             IntegerAttr::get(batch.getType(), batch.getInt() / options.ranks));
  }
  modelOp.setSpecAttr(spec.getDictionary(context));
  // The batch dimension (`?` in the types) is set from the spec's
  // batch_size, overrides included, before the ONNX functions are imported
  // with those types.
  if (failed(train::specializeBatch(*model->module_)) ||
      failed(mlir::verify(*model->module_)))
    return makeError("invalid model in '" + options.path +
                     "' (see the message above)");
  if (failed(train::resolveONNXReferences(*model->module_)))
    return makeError("cannot import the ONNX functions of '" + options.path +
                     "' (see the message above)");
  // The ONNX files, as the import just read them.
  for (auto func : model->module_->getOps<func::FuncOp>()) {
    auto onnx = func->getAttrOfType<StringAttr>(train::kONNXFileAttrName);
    if (!onnx || llvm::any_of(model->sources_, [&](const ModelSourceFile &f) {
          return f.name == onnx.getValue();
        }))
      continue;
    llvm::SmallString<256> path(onnx.getValue());
    if (!llvm::sys::path::is_absolute(path)) {
      path = llvm::sys::path::parent_path(options.path);
      llvm::sys::path::append(path, onnx.getValue());
    }
    auto bytes = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                             /*RequiresNullTerminator=*/false);
    if (!bytes)
      return makeError("cannot read '" + std::string(path) + "' again: " +
                       bytes.getError().message());
    model->sources_.push_back(
        {onnx.getValue().str(), (*bytes)->getBuffer().str()});
  }


  if (failed(train::applySpectralNorm(*model->module_)))
    return makeError("invalid model in '" + options.path +
                     "' (see the message above)");
  FailureOr<train::ModelInfo> info = train::readModel(modelOp);
  if (failed(info))
    return makeError("invalid model in '" + options.path +
                     "' (see the message above)");
  model->info_ = *info;
  model->configJson_ = specJson(model->info_, options.jit, options.ranks);
  model->noiseChunkRows_ = model->info_.batchSize() * options.ranks;

  train::TrainStepSignature signature = train::trainStepSignature(model->info_);
  for (const train::NamedType &state : signature.state)
    model->state_.push_back(tensorSpec(state.name, state.type));
  model->batch_ = tensorSpec(signature.batch.name, signature.batch.type);
  for (const train::NamedType &metric : signature.metrics)
    model->metrics_.push_back(metric.name);
  if (options.beforeCompile)
    if (llvm::Error error = options.beforeCompile(*model))
      return std::move(error);

  // The functions bism-run calls besides the step.
  std::vector<func::FuncOp> keep;
  auto lookup = [&](FlatSymbolRefAttr name) {
    return model->module_->lookupSymbol<func::FuncOp>(name.getAttr());
  };
  if (auto name = modelOp.getFreeEnergyAttr()) {
    keep.push_back(lookup(name));
    if (auto error = model->resolveCallable(
            keep.back(), modelOp.getFreeEnergyParamsAttr(), model->freeEnergy_))
      return std::move(error);
  }
  if (auto name = modelOp.getComponentLogMassAttr()) {
    keep.push_back(lookup(name));
    if (auto error = model->resolveCallable(keep.back(),
                                            modelOp.getComponentLogMassParamsAttr(),
                                            model->componentLogMass_))
      return std::move(error);
    model->latentDims_ =
        cast<RankedTensorType>(keep.back().getArgumentTypes()[0]).getDimSize(1);
  }
  if (auto name = modelOp.getGibbsAttr()) {
    keep.push_back(lookup(name));
    if (auto error = model->resolveCallable(
            keep.back(), modelOp.getGibbsParamsAttr(), model->gibbs_))
      return std::move(error);
  }
  // Method bidvl: the generator and the inference model, for samples and
  // reconstructions.
  if (model->info_.spec.method == train::Method::BiDVL) {
    keep.push_back(lookup(modelOp.getGeneratorAttr()));
    if (auto error = model->resolveCallable(
            keep.back(), modelOp.getGeneratorParamsAttr(), model->generator_))
      return std::move(error);
    keep.push_back(lookup(modelOp.getPosteriorAttr()));
    if (auto error = model->resolveCallable(
            keep.back(), modelOp.getPosteriorParamsAttr(), model->inference_))
      return std::move(error);
  }

  if (options.withTrainStep) {
    if (options.ranks > 1) {
      std::string why = train::dataParallelUnsupported(model->info_);
      if (!why.empty())
        return makeError("cannot train '" + options.path +
                         "' data-parallel: " + why);
    }
    train::BuildTrainStepOptions stepOptions;
    stepOptions.rank = options.rank;
    stepOptions.ranks = options.ranks;
    if (failed(train::buildTrainStep(*model->module_, model->info_,
                                     stepOptions)))
      return makeError("cannot build the training step of '" + options.path +
                       "'");
    model->trainStepName_ = train::trainStepNames(model->info_).trainStep;
  }
  if (failed(train::buildEvaluationFunctions(*model->module_, model->info_)))
    return makeError("cannot build the evaluation functions of '" +
                     options.path + "'");
  train::EvaluationNames evaluation = train::evaluationNames();
  if (train::hasScoreEvaluation(model->info_)) {
    model->evalScore_ = {evaluation.score, model->freeEnergy_.stateIndices};
    model->evalSsm_ = {evaluation.ssm, model->freeEnergy_.stateIndices};
  }
  if (train::hasEnergyGradientEvaluation(model->info_)) {
    // θ in the energy's order, then φ: the order of info().params.
    std::vector<size_t> theta, thetaPhi;
    for (const train::ParamInfo &param : model->info_.params) {
      bool isTheta = param.group == train::ParamGroup::Theta;
      std::string name = (isTheta ? "theta." : "phi.") + param.name;
      size_t index = size_t(
          llvm::find_if(model->state_, [&](const TensorSpec &spec) {
            return spec.name == name;
          }) -
          model->state_.begin());
      (isTheta ? theta : thetaPhi).push_back(index);
    }
    model->evalPosteriorMean_ = {evaluation.posteriorMean, thetaPhi};
    thetaPhi.insert(thetaPhi.begin(), theta.begin(), theta.end());
    if (train::hasApproximateSsmEvaluation(model->info_)) {
      model->evalApproximateSsm_ = {evaluation.approximateSsm, thetaPhi};
      model->evalObjective_ = {evaluation.objective, thetaPhi};
    }
    if (train::hasLatentEvaluation(model->info_))
      model->evalPosteriorFisher_ = {evaluation.posteriorFisher, thetaPhi};
    model->evalEnergyGradient_ = {evaluation.energyGradient, theta};
  }
  for (const Callable *callable :
       {&model->evalScore_, &model->evalSsm_, &model->evalPosteriorFisher_,
        &model->evalEnergyGradient_, &model->evalPosteriorMean_,
        &model->evalApproximateSsm_, &model->evalObjective_})
    if (!callable->name.empty())
      keep.push_back(lookup(FlatSymbolRefAttr::get(context, callable->name)));
  // Only what is called stays public; the rest is inlined or removed, which
  // keeps JIT compilation to the functions needed.
  for (auto func : model->module_->getOps<func::FuncOp>())
    func.setPrivate();
  for (func::FuncOp func : keep)
    func.setPublic();
  if (options.withTrainStep)
    model->module_->lookupSymbol<func::FuncOp>(model->trainStepName_).setPublic();
  modelOp->erase();
  PassManager pm(context);
  pm.addPass(createSymbolDCEPass());
  if (failed(pm.run(*model->module_)))
    return makeError("internal error preparing '" + options.path + "'");

  auto jit = JitModule::compile(*model->module_, options.jit);
  if (!jit)
    return jit.takeError();
  model->jit_ = std::move(*jit);
  return std::move(model);
}

llvm::Error CompiledModel::resolveCallable(func::FuncOp func, ArrayAttr params,
                                           Callable &callable) {
  callable.name = func.getSymName().str();
  callable.stateIndices.clear();
  for (Attribute param : params) {
    std::string bare = cast<FlatSymbolRefAttr>(param).getValue().str();
    std::string name = "theta." + bare;
    auto it = llvm::find_if(state_, [&](const TensorSpec &spec) {
      return spec.name == name || spec.name == "phi." + bare;
    });
    if (it == state_.end())
      return makeError("@" + callable.name + " takes parameter '" + name +
                       "', which the training state does not hold (method " +
                       "without it?)");
    callable.stateIndices.push_back(size_t(it - state_.begin()));
  }
  return llvm::Error::success();
}

std::vector<const HostTensor *>
CompiledModel::callArguments(const Callable &callable,
                             const std::vector<HostTensor> &state,
                             std::vector<const HostTensor *> leading) const {
  for (size_t index : callable.stateIndices)
    leading.push_back(&state[index]);
  return leading;
}

runtime::TrainProgram CompiledModel::trainProgram() {
  runtime::TrainProgram program;
  program.state = state_;
  program.batch = batch_;
  program.metrics = metrics_;
  program.lossMetric = metrics_.front();
  JitModule *jit = jit_.get();
  std::string name = trainStepName_;
  program.step = [jit, name](const std::vector<const HostTensor *> &inputs,
                             const std::vector<HostTensor *> &outputs,
                             std::string &error) {
    if (llvm::Error failure = jit->invoke(name, inputs, outputs)) {
      error = llvm::toString(std::move(failure));
      return false;
    }
    return true;
  };
  return program;
}

std::vector<HostTensor>
CompiledModel::initialState(uint64_t seed, const HostTensor &data) const {
  std::vector<HostTensor> state;
  runtime::PhiloxKey initKey = seedKey(seed);
  for (const TensorSpec &spec : state_) {
    HostTensor tensor(spec.type, spec.shape);
    StringRef name(spec.name);
    for (auto [index, param] : llvm::enumerate(info_.params)) {
      StringRef prefix = param.group == train::ParamGroup::Theta ? "theta." : "phi.";
      if (name != (prefix + param.name).str())
        continue;
      runtime::PhiloxKey key = runtime::keySplit(initKey, kInitStream + index);
      if (spec.type == ElementType::f64)
        fillParameter<double>(tensor, param, key);
      else
        fillParameter<float>(tensor, param, key);
    }
    if (name == "chain") {
      std::vector<int64_t> order;
      runtime::shuffledOrder(data.shape()[0], seed, 0, order);
      runtime::gatherRows(data, order.data(), spec.shape[0], tensor);
    }
    state.push_back(std::move(tensor));
  }
  return state;
}

llvm::Expected<std::vector<double>>
CompiledModel::perRow(const Callable &callable,
                      const std::vector<HostTensor> &state,
                      const HostTensor &points, std::vector<HostTensor> &noise,
                      const std::function<void(int64_t, int64_t)> &fill) {
  int64_t batch = batchSize(), dims = visibleDims();
  if (points.rank() != 2 || points.shape()[1] != dims)
    return makeError("points are " + points.typeString() + "; the model's " +
                     "visible width is " + std::to_string(dims));
  HostTensor chunk(elementType(), {batch, dims});
  HostTensor values(elementType(), {batch});
  int64_t n = points.shape()[0];
  std::vector<double> result(static_cast<size_t>(n));
  std::vector<int64_t> rows(static_cast<size_t>(batch));
  std::vector<const HostTensor *> leading = {&chunk};
  for (const HostTensor &tensor : noise)
    leading.push_back(&tensor);
  std::vector<const HostTensor *> arguments =
      callArguments(callable, state, leading);
  for (int64_t start = 0; start < n; start += batch) {
    // The last chunk is padded with its first row; the extras are ignored.
    for (int64_t i = 0; i < batch; ++i)
      rows[size_t(i)] = start + i < n ? start + i : start;
    runtime::gatherRows(points, rows.data(), batch, chunk);
    if (fill)
      fill(start / noiseChunkRows_, start % noiseChunkRows_);
    if (auto error = jit_->invoke(callable.name, arguments, {&values}))
      return std::move(error);
    for (int64_t i = 0; i < batch && start + i < n; ++i)
      result[size_t(start + i)] = values.elementAsDouble(i);
  }
  return result;
}

llvm::Expected<HostTensor>
CompiledModel::mapRows(const Callable &callable,
                       const std::vector<HostTensor> &state,
                       const HostTensor &inputs,
                       const std::vector<std::vector<int64_t>> &resultShapes,
                       size_t resultIndex, const Callable *then) {
  int64_t batch = batchSize();
  HostTensor chunk(elementType(), {batch, inputs.shape()[1]});
  std::vector<HostTensor> results;
  for (const std::vector<int64_t> &shape : resultShapes)
    results.emplace_back(elementType(), shape);
  int64_t dims = visibleDims();
  HostTensor mapped(elementType(), {batch, dims});
  HostTensor &last = then ? mapped : results[resultIndex];
  int64_t outWidth = last.shape()[1];
  int64_t n = inputs.shape()[0];
  HostTensor out(runtime::ElementType::f64, {n, outWidth});
  std::vector<int64_t> rows(static_cast<size_t>(batch));
  std::vector<HostTensor *> outputs;
  for (HostTensor &result : results)
    outputs.push_back(&result);
  for (int64_t start = 0; start < n; start += batch) {
    for (int64_t i = 0; i < batch; ++i)
      rows[size_t(i)] = start + i < n ? start + i : start;
    runtime::gatherRows(inputs, rows.data(), batch, chunk);
    if (auto error = jit_->invoke(callable.name,
                                  callArguments(callable, state, {&chunk}),
                                  outputs))
      return std::move(error);
    if (then)
      if (auto error = jit_->invoke(
              then->name, callArguments(*then, state, {&results[resultIndex]}),
              {&mapped}))
        return std::move(error);
    for (int64_t i = 0; i < batch && start + i < n; ++i)
      for (int64_t j = 0; j < outWidth; ++j)
        out.dataAs<double>()[(start + i) * outWidth + j] =
            last.elementAsDouble(i * outWidth + j);
  }
  return out;
}

llvm::Expected<HostTensor>
CompiledModel::generate(const std::vector<HostTensor> &state,
                        const HostTensor &latents) {
  if (!hasGenerator())
    return makeError("the model has no generator (method bidvl)");
  int64_t batch = batchSize(), width = latentWidth();
  if (latents.rank() != 2 || latents.shape()[1] != width)
    return makeError("latents are " + latents.typeString() +
                     "; the generator takes " + std::to_string(width) +
                     " per row");
  return mapRows(generator_, state, latents, {{batch, visibleDims()}}, 0,
                 nullptr);
}

llvm::Expected<HostTensor>
CompiledModel::sampleGenerator(const std::vector<HostTensor> &state,
                               int64_t count, uint64_t seed) {
  if (count < 1)
    return makeError("the number of generator samples must be >= 1");
  HostTensor latents(ElementType::f64, {count, latentWidth()});
  fillRandom(latents, seedKey(seed), Draw::Normal);
  return generate(state, latents);
}

llvm::Expected<HostTensor>
CompiledModel::reconstruct(const std::vector<HostTensor> &state,
                           const HostTensor &points) {
  if (!hasGenerator())
    return makeError("reconstructions need a generator and an inference "
                     "model (method bidvl)");
  int64_t batch = batchSize(), width = latentWidth();
  if (points.rank() != 2 || points.shape()[1] != visibleDims())
    return makeError("points are " + points.typeString() + "; the model's " +
                     "visible width is " + std::to_string(visibleDims()));
  return mapRows(inference_, state, points, {{batch, width}, {batch, width}},
                 0, &generator_);
}

llvm::Expected<std::vector<double>>
CompiledModel::freeEnergies(const std::vector<HostTensor> &state,
                            const HostTensor &points) {
  if (!hasFreeEnergy())
    return makeError("the model has no free_energy function");
  std::vector<HostTensor> noNoise;
  return perRow(freeEnergy_, state, points, noNoise, nullptr);
}

bool CompiledModel::hasExactLogPartition() const {
  return !componentLogMass_.name.empty() && latentDims_ <= 20;
}

llvm::Expected<double>
CompiledModel::logPartition(const std::vector<HostTensor> &state) {
  if (componentLogMass_.name.empty())
    return makeError("the model has no component_log_mass function, so no "
                     "exact log Z");
  if (latentDims_ > 20)
    return makeError("exact log Z sums 2^" + std::to_string(latentDims_) +
                     " components; limited to 20 latents");
  const FunctionSignature *signature = jit_->lookup(componentLogMass_.name);
  int64_t chunkSize = signature->inputs[0].shape[0];
  int64_t total = int64_t(1) << latentDims_;
  HostTensor configs(elementType(), {chunkSize, latentDims_});
  HostTensor masses(elementType(), {chunkSize});
  std::vector<double> values;
  values.reserve(size_t(total));
  for (int64_t start = 0; start < total; start += chunkSize) {
    for (int64_t c = 0; c < chunkSize; ++c) {
      int64_t config = std::min(start + c, total - 1);
      for (int64_t j = 0; j < latentDims_; ++j) {
        double bit = double((config >> j) & 1);
        if (elementType() == ElementType::f64)
          configs.dataAs<double>()[c * latentDims_ + j] = bit;
        else
          configs.dataAs<float>()[c * latentDims_ + j] = float(bit);
      }
    }
    if (auto error = jit_->invoke(
            componentLogMass_.name,
            callArguments(componentLogMass_, state, {&configs}), {&masses}))
      return std::move(error);
    for (int64_t c = 0; c < chunkSize && start + c < total; ++c)
      values.push_back(masses.elementAsDouble(c));
  }
  return logSumExp(values);
}

llvm::Expected<double>
CompiledModel::exactLogLikelihood(const std::vector<HostTensor> &state,
                                  const HostTensor &points) {
  auto logZ = logPartition(state);
  if (!logZ)
    return logZ.takeError();
  auto energies = freeEnergies(state, points);
  if (!energies)
    return energies.takeError();
  double sum = 0;
  for (double f : *energies)
    sum += f;
  return -sum / double(energies->size()) - *logZ;
}

llvm::Expected<HostTensor>
CompiledModel::gibbsChain(const std::vector<HostTensor> &state,
                          const HostTensor &start, int64_t sweeps,
                          uint64_t seed, bool lastSweepMean) {
  if (!hasGibbs())
    return makeError("the model has no gibbs function");
  const FunctionSignature *signature = jit_->lookup(gibbs_.name);
  // gibbs(v, θ..., u_h [B,H], z_v [B,D]).
  const TensorSignature &uh = signature->inputs[signature->inputs.size() - 2];
  const TensorSignature &zv = signature->inputs.back();
  HostTensor current = start, next(start.elementType(), start.shape());
  HostTensor uniform(uh.elementType, uh.shape), normal(zv.elementType, zv.shape);
  runtime::PhiloxKey key = seedKey(seed);
  for (int64_t sweep = 0; sweep < sweeps; ++sweep) {
    runtime::PhiloxKey sweepKey = runtime::keySplit(key, uint64_t(sweep));
    fillRandom(uniform, runtime::keySplit(sweepKey, 0), Draw::Uniform);
    if (lastSweepMean && sweep == sweeps - 1)
      std::memset(normal.data(), 0,
                  size_t(normal.numElements()) *
                      runtime::elementSize(normal.elementType()));
    else
      fillRandom(normal, runtime::keySplit(sweepKey, 1), Draw::Normal);
    std::vector<const HostTensor *> inputs =
        callArguments(gibbs_, state, {&current});
    inputs.push_back(&uniform);
    inputs.push_back(&normal);
    if (auto error = jit_->invoke(gibbs_.name, inputs, {&next}))
      return std::move(error);
    std::swap(current, next);
  }
  return current;
}

bool CompiledModel::hasAis() const {
  return hasFreeEnergy() && hasGibbs() && !componentLogMass_.name.empty() &&
         !info_.spec.aisAnneal.empty();
}

llvm::Expected<AisEstimate>
CompiledModel::aisLogPartition(const std::vector<HostTensor> &state,
                               const AisOptions &options) {
  if (!hasAis())
    return makeError(
        "AIS needs the model's free_energy, gibbs and component_log_mass "
        "functions and the spec's ais_anneal list (the parameters that are "
        "zero in the base model), e.g. ais_anneal = [\"W\", \"c\"]");
  if (options.chains < 2 || options.steps < 2)
    return makeError("AIS needs at least 2 chains and 2 distributions");
  std::vector<size_t> annealed;
  for (const std::string &name : info_.spec.aisAnneal) {
    auto it = llvm::find_if(state_, [&](const TensorSpec &spec) {
      return spec.name == "theta." + name;
    });
    if (it == state_.end())
      return makeError("ais_anneal names '" + name +
                       "', which the training state does not hold");
    annealed.push_back(size_t(it - state_.begin()));
  }
  // The model at β: the annealed parameters scaled by β, the rest as is.
  auto setBeta = [&](std::vector<HostTensor> &scaled, double beta) {
    for (size_t index : annealed) {
      const HostTensor &from = state[index];
      HostTensor &to = scaled[index];
      for (int64_t i = 0, n = from.numElements(); i < n; ++i) {
        double value = beta * from.elementAsDouble(i);
        if (to.elementType() == ElementType::f64)
          to.dataAs<double>()[i] = value;
        else
          to.dataAs<float>()[i] = float(value);
      }
    }
  };
  std::vector<HostTensor> previous = state, next = state;
  setBeta(previous, 0.0);

  // log Z of the base: 2^H components of equal mass (checked on a chunk of
  // random configurations).
  const FunctionSignature *massSignature = jit_->lookup(componentLogMass_.name);
  int64_t configCount = massSignature->inputs[0].shape[0];
  HostTensor configs(elementType(), {configCount, latentDims_});
  fillRandom(configs, runtime::keySplit(seedKey(options.seed), 0),
             Draw::Rademacher);
  for (int64_t i = 0; i < configs.numElements(); ++i) {
    double bit = configs.elementAsDouble(i) > 0 ? 1.0 : 0.0;
    if (elementType() == ElementType::f64)
      configs.dataAs<double>()[i] = bit;
    else
      configs.dataAs<float>()[i] = float(bit);
  }
  HostTensor masses(elementType(), {configCount});
  if (auto error = jit_->invoke(
          componentLogMass_.name,
          callArguments(componentLogMass_, previous, {&configs}), {&masses}))
    return std::move(error);
  double lowest = INFINITY, highest = -INFINITY;
  for (int64_t c = 0; c < configCount; ++c) {
    lowest = std::min(lowest, masses.elementAsDouble(c));
    highest = std::max(highest, masses.elementAsDouble(c));
  }
  double tolerance = (elementType() == ElementType::f64 ? 1e-9 : 1e-4) *
                     std::max(1.0, std::abs(highest));
  if (!std::isfinite(lowest) || highest - lowest > tolerance)
    return makeError(llvm::formatv(
        "AIS base: with the ais_anneal parameters zero, component_log_mass "
        "differs between latent configurations ({0} to {1}); the base "
        "model's latents must be independent of v and uniform",
        lowest, highest));
  AisEstimate estimate;
  estimate.logZBase = double(latentDims_) * std::log(2.0) + highest;

  // Chains in batches of B; v from the base by one Gibbs sweep at β = 0
  // (exact when v and h are independent there). The noise is drawn per
  // noise chunk of the global batch (noiseChunkRows_), so that a
  // data-parallel rank, whose B is its share, runs the same chains.
  int64_t batch = batchSize(), dims = visibleDims();
  int64_t chunkRows = noiseChunkRows_;
  int64_t groups =
      (options.chains + chunkRows - 1) / chunkRows * (chunkRows / batch);
  estimate.chains = groups * batch;
  estimate.steps = options.steps;
  const FunctionSignature *gibbsSignature = jit_->lookup(gibbs_.name);
  const TensorSignature &uh =
      gibbsSignature->inputs[gibbsSignature->inputs.size() - 2];
  std::vector<HostTensor> chains(size_t(groups),
                                 HostTensor(elementType(), {batch, dims}));
  HostTensor uniform(uh.elementType, uh.shape), normal(elementType(), {batch, dims});
  HostTensor swept(elementType(), {batch, dims});
  HostTensor fPrevious(elementType(), {batch}), fNext(elementType(), {batch});
  std::vector<double> logWeights(size_t(estimate.chains), 0.0);
  runtime::PhiloxKey key = runtime::keySplit(seedKey(options.seed), 1);
  auto sweep = [&](std::vector<HostTensor> &params, int64_t step,
                   int64_t group) -> llvm::Error {
    int64_t firstRow = group * batch;
    runtime::PhiloxKey sweepKey =
        runtime::keySplit(runtime::keySplit(key, uint64_t(step)),
                          uint64_t(firstRow / chunkRows));
    int64_t rowInChunk = firstRow % chunkRows;
    fillRandom(uniform, runtime::keySplit(sweepKey, 0), Draw::Uniform,
               rowInChunk * (uniform.numElements() / batch));
    fillRandom(normal, runtime::keySplit(sweepKey, 1), Draw::Normal,
               rowInChunk * dims);
    std::vector<const HostTensor *> inputs =
        callArguments(gibbs_, params, {&chains[size_t(group)]});
    inputs.push_back(&uniform);
    inputs.push_back(&normal);
    if (auto error = jit_->invoke(gibbs_.name, inputs, {&swept}))
      return error;
    std::swap(chains[size_t(group)], swept);
    return llvm::Error::success();
  };
  for (int64_t group = 0; group < groups; ++group)
    if (auto error = sweep(previous, 0, group))
      return std::move(error);

  // log w += log p*_k(v) − log p*_{k−1}(v) = F_{k−1}(v) − F_k(v), v drawn by
  // the transition that leaves p_{k−1} invariant.
  int64_t report = std::max<int64_t>(1, options.steps / 10);
  for (int64_t step = 1; step < options.steps; ++step) {
    setBeta(next, double(step) / double(options.steps - 1));
    for (int64_t group = 0; group < groups; ++group) {
      if (auto error = sweep(previous, step, group))
        return std::move(error);
      const HostTensor *v = &chains[size_t(group)];
      if (auto error = jit_->invoke(freeEnergy_.name,
                                    callArguments(freeEnergy_, previous, {v}),
                                    {&fPrevious}))
        return std::move(error);
      if (auto error = jit_->invoke(freeEnergy_.name,
                                    callArguments(freeEnergy_, next, {v}),
                                    {&fNext}))
        return std::move(error);
      for (int64_t i = 0; i < batch; ++i)
        logWeights[size_t(group * batch + i)] +=
            fPrevious.elementAsDouble(i) - fNext.elementAsDouble(i);
    }
    std::swap(previous, next);
    if (options.progress && (step % report == 0 || step == options.steps - 1))
      options.progress(step, options.steps - 1);
  }

  double n = double(estimate.chains);
  double logMean = logSumExp(logWeights) - std::log(n);
  if (!std::isfinite(logMean))
    return makeError("AIS: the importance weights are not finite (a "
                     "diverged model?)");
  // Weights relative to their mean: w̃ = w / mean(w).
  double sumSquares = 0;
  for (double lw : logWeights)
    sumSquares += std::exp(2 * (lw - logMean));
  estimate.effectiveSampleSize = n * n / sumSquares;
  double variance = std::max(0.0, sumSquares / n - 1.0) * n / (n - 1);
  estimate.standardError = std::sqrt(variance / n);
  estimate.logZ = estimate.logZBase + logMean;
  return estimate;
}

llvm::Expected<double>
CompiledModel::meanOverDraws(const Callable &callable,
                             const std::vector<HostTensor> &state,
                             const HostTensor &points,
                             const std::vector<NoiseSpec> &noiseSpecs,
                             int64_t draws, uint64_t seed) {
  std::vector<HostTensor> noise;
  for (const NoiseSpec &spec : noiseSpecs)
    noise.emplace_back(elementType(),
                       std::vector<int64_t>{batchSize(), spec.width});
  double sum = 0;
  int64_t count = 0;
  for (int64_t d = 0; d < draws; ++d) {
    runtime::PhiloxKey key = runtime::keySplit(seedKey(seed), uint64_t(d));
    auto values = perRow(callable, state, points, noise,
                         [&](int64_t chunk, int64_t firstRow) {
      runtime::PhiloxKey chunkKey = runtime::keySplit(key, uint64_t(chunk));
      // (The first tensor keyed as before there were several.)
      for (size_t i = 0; i < noise.size(); ++i)
        fillRandom(noise[i],
                   i == 0 ? chunkKey : runtime::keySplit(chunkKey, 1000 + i),
                   Draw(noiseSpecs[i].draw), firstRow * noiseSpecs[i].width);
    });
    if (!values)
      return values.takeError();
    for (double value : *values)
      sum += value;
    count += int64_t(values->size());
  }
  return sum / double(count);
}

llvm::Expected<double>
CompiledModel::ssmScore(const std::vector<HostTensor> &state,
                        const HostTensor &points, int64_t projections,
                        uint64_t seed) {
  if (!hasSsmScore())
    return makeError("the SSM score needs the model's free_energy function");
  if (projections < 1)
    return makeError("the SSM score needs at least one projection");
  Draw draw = info_.spec.projection == train::Projection::Rademacher
                  ? Draw::Rademacher
                  : Draw::Normal;
  return meanOverDraws(evalSsm_, state, points, {{visibleDims(), int(draw)}},
                       projections, seed);
}

llvm::Expected<double>
CompiledModel::approximateSsm(const std::vector<HostTensor> &state,
                              const HostTensor &points, int64_t projections,
                              uint64_t seed) {
  if (!hasApproximateSsm())
    return makeError("the approximate SSM is for models with an energy and a "
                     "posterior and no free energy");
  if (projections < 1)
    return makeError("the approximate SSM needs at least one projection");
  std::vector<NoiseSpec> noise = {{visibleDims(), projectionDraw()}};
  appendPosteriorNoise(noise);
  return meanOverDraws(evalApproximateSsm_, state, points, noise, projections,
                       seed);
}

llvm::Expected<double>
CompiledModel::testObjective(const std::vector<HostTensor> &state,
                             const HostTensor &points, int64_t draws,
                             uint64_t seed) {
  if (!hasTestObjective())
    return makeError("the test objective is for models with an energy and a "
                     "posterior and no free energy");
  if (draws < 1)
    return makeError("the test objective needs at least one noise draw");
  std::vector<NoiseSpec> noise;
  switch (info_.spec.objective) {
  case train::Objective::DSM:
  case train::Objective::MDSM:
    noise.push_back({visibleDims(), int(Draw::Normal)});
    break;
  case train::Objective::SSM:
    noise.push_back({visibleDims(), projectionDraw()});
    break;
  case train::Objective::SM:
  case train::Objective::KSD:
    break;
  }
  appendPosteriorNoise(noise);
  return meanOverDraws(evalObjective_, state, points, noise, draws, seed);
}

int CompiledModel::projectionDraw() const {
  return int(info_.spec.projection == train::Projection::Rademacher
                 ? Draw::Rademacher
                 : Draw::Normal);
}

void CompiledModel::appendPosteriorNoise(std::vector<NoiseSpec> &noise) const {
  int64_t latents = info_.latentType.getDimSize(1);
  if (info_.posteriorKind == train::PosteriorKind::Gaussian)
    noise.push_back({latents, int(Draw::Normal)});
  else
    noise.insert(noise.end(), {{latents, int(Draw::Gumbel)},
                               {latents, int(Draw::Gumbel)}});
}

llvm::Expected<double>
CompiledModel::posteriorFisher(const std::vector<HostTensor> &state,
                               const HostTensor &points, int64_t draws,
                               uint64_t seed) {
  if (!hasPosteriorFisher())
    return makeError("the posterior Fisher divergence needs continuous "
                     "latents (a \"gaussian\" posterior, methods bism or "
                     "vages)");
  if (draws < 1)
    return makeError("the posterior Fisher divergence needs at least one "
                     "draw");
  return meanOverDraws(evalPosteriorFisher_, state, points,
                       {{info_.latentType.getDimSize(1), int(Draw::Normal)}},
                       draws, seed);
}

llvm::Expected<HostTensor>
CompiledModel::posteriorMean(const std::vector<HostTensor> &state,
                             const HostTensor &points) {
  if (evalPosteriorMean_.name.empty())
    return makeError("the posterior mean needs an energy and a posterior "
                     "(method bism or vages)");
  int64_t batch = batchSize(), dims = visibleDims();
  if (points.rank() != 2 || points.shape()[0] != batch ||
      points.shape()[1] != dims || points.elementType() != elementType())
    return makeError("posterior mean of " + points.typeString() +
                     "; expected the batch shape " + std::to_string(batch) +
                     "x" + std::to_string(dims));
  HostTensor mean(elementType(),
                  std::vector<int64_t>{batch, info_.latentType.getDimSize(1)});
  if (auto error = jit_->invoke(
          evalPosteriorMean_.name,
          callArguments(evalPosteriorMean_, state, {&points}), {&mean}))
    return std::move(error);
  return mean;
}

llvm::Expected<HostTensor>
CompiledModel::langevinChain(const std::vector<HostTensor> &state,
                             const HostTensor &start,
                             const LangevinOptions &options) {
  if (!hasLangevin())
    return makeError("Langevin sampling needs a free_energy function, or an "
                     "energy and a posterior (method bism or vages)");
  if (options.steps < 0 || !(options.stepSize > 0) ||
      !(options.startTemperature >= 1) || !(options.annealFraction >= 0) ||
      options.annealFraction > 1 || !(options.denoiseVariance >= 0))
    return makeError("Langevin options: steps >= 0, step size > 0, start "
                     "temperature >= 1, anneal fraction in [0, 1], denoising "
                     "variance >= 0");
  int64_t batch = batchSize(), dims = visibleDims();
  if (start.rank() != 2 || start.shape()[0] != batch || start.shape()[1] != dims)
    return makeError("Langevin start is " + start.typeString() +
                     "; expected the batch shape " + std::to_string(batch) +
                     "x" + std::to_string(dims));
  // On (v) with U = F; on (v, h) with U = E (continuous latents); or on v
  // with U = E(v, h̄) at h̄ = E_q[h | start] (binary latents: the BiSM
  // paper's procedure, h from the posterior mean at the training points).
  bool marginal = !evalScore_.name.empty();
  bool joint = !marginal && !options.fixLatents &&
               info_.posteriorKind == train::PosteriorKind::Gaussian;
  std::vector<HostTensor> x = {start};
  HostTensor fixedLatents, latentDrift;
  if (!marginal) {
    std::vector<int64_t> latentShape = {batch, info_.latentType.getDimSize(1)};
    HostTensor latents(elementType(), latentShape);
    if (joint) {
      x.push_back(std::move(latents));
    } else {
      if (options.latents.data() == nullptr) { // none given
        auto mean = posteriorMean(state, start);
        if (!mean)
          return mean.takeError();
        latents = std::move(*mean);
      } else if (options.latents.shape() != latentShape ||
                 options.latents.elementType() != elementType()) {
        return makeError("Langevin latents are " +
                         options.latents.typeString() + "; expected " +
                         latents.typeString());
      } else {
        latents = options.latents;
      }
      fixedLatents = latents;
      latentDrift = std::move(latents);
    }
  }
  std::vector<HostTensor> drift = x, noise = x;
  int64_t annealSteps = int64_t(options.annealFraction * double(options.steps));
  runtime::PhiloxKey key = seedKey(options.seed);
  // drift = the energy's gradient (+∇E, or −∇F from eval_score) at x.
  auto evaluateDrift = [&]() -> llvm::Error {
    std::vector<HostTensor *> outputs;
    for (HostTensor &tensor : drift)
      outputs.push_back(&tensor);
    if (joint)
      return jit_->invoke(
          evalEnergyGradient_.name,
          callArguments(evalEnergyGradient_, state, {&x[0], &x[1]}), outputs);
    if (!marginal) {
      // ∇_v E(v, h̄); the h gradient is not used.
      outputs.push_back(&latentDrift);
      return jit_->invoke(
          evalEnergyGradient_.name,
          callArguments(evalEnergyGradient_, state, {&x[0], &fixedLatents}),
          outputs);
    }
    return jit_->invoke(evalScore_.name,
                        callArguments(evalScore_, state, {&x[0]}), outputs);
  };
  // eval_score returns s = −∇F; eval_energy_gradient returns +∇E.
  double sign = marginal ? 1.0 : -1.0;
  for (int64_t step = 0; step < options.steps; ++step) {
    double temperature =
        step < annealSteps
            ? std::pow(options.startTemperature,
                       1.0 - double(step) / double(annealSteps))
            : 1.0;
    if (auto error = evaluateDrift())
      return std::move(error);
    double scale = options.stepSize / temperature;
    double spread = std::sqrt(2 * options.stepSize);
    runtime::PhiloxKey stepKey = runtime::keySplit(key, uint64_t(step));
    for (size_t part = 0; part < x.size(); ++part) {
      fillRandom(noise[part], runtime::keySplit(stepKey, part), Draw::Normal);
      for (int64_t i = 0, n = x[part].numElements(); i < n; ++i) {
        double value = x[part].elementAsDouble(i) +
                       sign * scale * drift[part].elementAsDouble(i) +
                       spread * noise[part].elementAsDouble(i);
        if (elementType() == ElementType::f64)
          x[part].dataAs<double>()[i] = value;
        else
          x[part].dataAs<float>()[i] = float(value);
      }
    }
  }
  // Tweedie: a score learned by denoising at noise variance σ² gives the
  // mean of the clean point, E[v | ṽ] = ṽ + σ² ∇log p(ṽ), which removes the
  // chain's last noise.
  if (options.denoiseVariance > 0) {
    if (auto error = evaluateDrift())
      return std::move(error);
    for (int64_t i = 0, n = x[0].numElements(); i < n; ++i) {
      double value = x[0].elementAsDouble(i) +
                     sign * options.denoiseVariance * drift[0].elementAsDouble(i);
      if (elementType() == ElementType::f64)
        x[0].dataAs<double>()[i] = value;
      else
        x[0].dataAs<float>()[i] = float(value);
    }
  }
  return std::move(x[0]);
}

} // namespace bism
