//===- CompiledModel.cpp - a model file, built and compiled ---------------===//
#include "bism/Execution/CompiledModel.h"

#include "bism/Dialect/Bism.h"
#include "bism/Train/BuildTrainStep.h"
#include "bism/runtime/Dataset.h"
#include "bism/runtime/Philox.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/FormatVariadic.h"
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
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string jsonNumber(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.10g", value);
  return buffer;
}

/// The resolved spec, every field (defaults included), as the model file
/// spells them.
std::string specJson(const train::ModelInfo &info) {
  const train::TrainSpec &spec = info.spec;
  using namespace train;
  auto method = [&] {
    switch (spec.method) {
    case Method::BiSM: return "bism";
    case Method::Marginal: return "marginal";
    case Method::CD: return "cd";
    case Method::PCD: return "pcd";
    case Method::VaGES: return "vages";
    }
    return "?";
  }();
  const char *objectives[] = {"sm", "ssm", "dsm", "mdsm"};
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
      {"optimizer_theta", jsonString(optimizer(spec.thetaOptimizer))},
      {"lr_theta", jsonNumber(spec.thetaOptimizer.learningRate)},
      {"optimizer_phi", jsonString(optimizer(spec.phiOptimizer))},
      {"lr_phi", jsonNumber(spec.phiOptimizer.learningRate)},
      {"betas", "[" + jsonNumber(spec.thetaOptimizer.beta1) + ", " +
                    jsonNumber(spec.thetaOptimizer.beta2) + "]"},
      {"epsilon", jsonNumber(spec.thetaOptimizer.epsilon)},
      {"batch_size", std::to_string(info.batchSize())},
      {"iterations", std::to_string(spec.iterations)},
      {"seed", std::to_string(spec.seed)},
      {"dataset", jsonString(spec.dataset)},
  };
  if (info.posterior)
    fields.push_back({"temperature", jsonNumber(info.temperature)});
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

} // namespace

CompiledModel::CompiledModel() = default;
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
  auto file = openInputFile(options.path, &message);
  if (!file)
    return makeError("cannot open model file '" + options.path + "': " +
                     (message.empty() ? "unknown error" : message));
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
  modelOp.setSpecAttr(spec.getDictionary(context));

  FailureOr<train::ModelInfo> info = train::readModel(modelOp);
  if (failed(info))
    return makeError("invalid model in '" + options.path +
                     "' (see the message above)");
  model->info_ = *info;
  model->configJson_ = specJson(model->info_);

  train::TrainStepSignature signature = train::trainStepSignature(model->info_);
  for (const train::NamedType &state : signature.state)
    model->state_.push_back(tensorSpec(state.name, state.type));
  model->batch_ = tensorSpec(signature.batch.name, signature.batch.type);
  for (const train::NamedType &metric : signature.metrics)
    model->metrics_.push_back(metric.name);

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

  if (options.withTrainStep) {
    if (failed(train::buildTrainStep(*model->module_, model->info_)))
      return makeError("cannot build the training step of '" + options.path +
                       "'");
    model->trainStepName_ = train::trainStepNames(model->info_).trainStep;
  }
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
    std::string name =
        "theta." + cast<FlatSymbolRefAttr>(param).getValue().str();
    auto it = llvm::find_if(state_, [&](const TensorSpec &spec) {
      return spec.name == name;
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
  runtime::PhiloxKey seedKey = {uint32_t(seed), uint32_t(seed >> 32)};
  for (const TensorSpec &spec : state_) {
    HostTensor tensor(spec.type, spec.shape);
    StringRef name(spec.name);
    for (auto [index, param] : llvm::enumerate(info_.params)) {
      StringRef prefix = param.group == train::ParamGroup::Theta ? "theta." : "phi.";
      if (name != (prefix + param.name).str())
        continue;
      runtime::PhiloxKey key = runtime::keySplit(seedKey, kInitStream + index);
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
CompiledModel::freeEnergies(const std::vector<HostTensor> &state,
                            const HostTensor &points) {
  if (!hasFreeEnergy())
    return makeError("the model has no free_energy function");
  int64_t batch = batchSize(), dims = visibleDims();
  if (points.rank() != 2 || points.shape()[1] != dims)
    return makeError("points are " + points.typeString() + "; the model's " +
                     "visible width is " + std::to_string(dims));
  HostTensor chunk(elementType(), {batch, dims});
  HostTensor energies(elementType(), {batch});
  int64_t n = points.shape()[0];
  std::vector<double> result(static_cast<size_t>(n));
  std::vector<int64_t> rows(static_cast<size_t>(batch));
  for (int64_t start = 0; start < n; start += batch) {
    // The last chunk is padded with its first row; the extras are ignored.
    for (int64_t i = 0; i < batch; ++i)
      rows[size_t(i)] = start + i < n ? start + i : start;
    runtime::gatherRows(points, rows.data(), batch, chunk);
    if (auto error = jit_->invoke(freeEnergy_.name,
                                  callArguments(freeEnergy_, state, {&chunk}),
                                  {&energies}))
      return std::move(error);
    for (int64_t i = 0; i < batch && start + i < n; ++i)
      result[size_t(start + i)] = energies.elementAsDouble(i);
  }
  return result;
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
  double peak = -INFINITY;
  for (double v : values)
    peak = std::max(peak, v);
  double sum = 0;
  for (double v : values)
    sum += std::exp(v - peak);
  return peak + std::log(sum);
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
                          uint64_t seed) {
  if (!hasGibbs())
    return makeError("the model has no gibbs function");
  const FunctionSignature *signature = jit_->lookup(gibbs_.name);
  // gibbs(v, θ..., u_h [B,H], z_v [B,D]).
  const TensorSignature &uh = signature->inputs[signature->inputs.size() - 2];
  const TensorSignature &zv = signature->inputs.back();
  HostTensor current = start, next(start.elementType(), start.shape());
  HostTensor uniform(uh.elementType, uh.shape), normal(zv.elementType, zv.shape);
  runtime::PhiloxKey seedKey = {uint32_t(seed), uint32_t(seed >> 32)};
  for (int64_t sweep = 0; sweep < sweeps; ++sweep) {
    runtime::PhiloxKey sweepKey = runtime::keySplit(seedKey, uint64_t(sweep));
    runtime::PhiloxKey uKey = runtime::keySplit(sweepKey, 0);
    runtime::PhiloxKey zKey = runtime::keySplit(sweepKey, 1);
    bool f64 = elementType() == ElementType::f64;
    for (int64_t i = 0; i < uniform.numElements(); ++i) {
      auto w = runtime::philoxWordsForElement(uKey, uint64_t(i));
      if (f64)
        uniform.dataAs<double>()[i] = runtime::uniformFromWords<double>(w);
      else
        uniform.dataAs<float>()[i] = runtime::uniformFromWords<float>(w);
    }
    for (int64_t i = 0; i < normal.numElements(); ++i) {
      auto w = runtime::philoxWordsForElement(zKey, uint64_t(i));
      if (f64)
        normal.dataAs<double>()[i] = runtime::normalFromWords<double>(w);
      else
        normal.dataAs<float>()[i] = runtime::normalFromWords<float>(w);
    }
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

} // namespace bism
