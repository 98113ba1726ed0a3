//===- ResolveONNX.cpp - model-file functions imported from ONNX ----------===//
//
// Turns `func.func` declarations carrying `bism.onnx_file` into the imported
// functions and gives the bism.model clauses naming them their parameters
// (include/bism/Train/ResolveONNX.h has the rules).
//
//===----------------------------------------------------------------------===//
#include "bism/Train/ResolveONNX.h"

#include "bism/Dialect/Bism.h"
#include "bism/Import/ONNX/ImportONNX.h"
#include "bism/Lowering/Passes.h"
#include "bism/Support/InputFiles.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/BitVector.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <optional>
#include <string>

using namespace mlir;

namespace bism::train {

namespace {

/// A clause of a bism.model that names a function, with its parameter list.
struct Clause {
  ModelOp model;
  StringRef role;
  FlatSymbolRefAttr function;
  ArrayAttr params;
  /// The inherent attribute holding `params`, to replace the list.
  StringAttr paramsName;
};

SmallVector<Clause> clausesOf(ModelOp model) {
  SmallVector<Clause> clauses;
  auto add = [&](StringRef role, FlatSymbolRefAttr function, ArrayAttr params,
                 StringAttr paramsName) {
    if (function)
      clauses.push_back({model, role, function, params, paramsName});
  };
  add("energy", model.getEnergyAttr(), model.getEnergyParamsAttr(),
      model.getEnergyParamsAttrName());
  add("free_energy", model.getFreeEnergyAttr(), model.getFreeEnergyParamsAttr(),
      model.getFreeEnergyParamsAttrName());
  add("gibbs", model.getGibbsAttr(), model.getGibbsParamsAttr(),
      model.getGibbsParamsAttrName());
  add("component_log_mass", model.getComponentLogMassAttr(),
      model.getComponentLogMassParamsAttr(),
      model.getComponentLogMassParamsAttrName());
  add("generator", model.getGeneratorAttr(), model.getGeneratorParamsAttr(),
      model.getGeneratorParamsAttrName());
  add("posterior", model.getPosteriorAttr(), model.getPosteriorParamsAttr(),
      model.getPosteriorParamsAttrName());
  return clauses;
}

/// One float initializer of the imported function, a trailing argument.
struct Initializer {
  std::string onnxName;
  RankedTensorType type;
  DenseElementsAttr value;
};

/// `path` as given if absolute, else relative to the directory of the file
/// the declaration was read from (the working directory for stdin).
std::string resolvePath(func::FuncOp decl, StringRef path) {
  if (llvm::sys::path::is_absolute(path))
    return path.str();
  llvm::SmallString<256> resolved;
  if (auto file = decl.getLoc()->findInstanceOf<FileLineColRange>())
    resolved = llvm::sys::path::parent_path(file.getFilename().getValue());
  llvm::sys::path::append(resolved, path);
  return std::string(resolved);
}

/// The ONNX name as a bism.param symbol ("fc1.weight" -> fc1_weight), unique
/// among the model's symbols.
std::string paramSymbol(ModelOp model, StringRef onnxName) {
  std::string base;
  for (char c : onnxName)
    base += llvm::isAlnum(c) || c == '_' ? c : '_';
  if (base.empty() || llvm::isDigit(base.front()))
    base.insert(base.begin(), 'p');
  std::string name = base;
  for (int suffix = 1; SymbolTable::lookupSymbolIn(model, name); ++suffix)
    name = base + "_" + std::to_string(suffix);
  return name;
}

class Resolver {
public:
  Resolver(ModuleOp module, func::FuncOp decl) : module_(module), decl_(decl) {}

  LogicalResult run() {
    auto path = decl_->getAttrOfType<StringAttr>(kONNXFileAttrName);
    if (!path || path.getValue().empty())
      return decl_.emitError()
             << "'" << kONNXFileAttrName
             << "' must be a non-empty string (the ONNX "
             << "file's path), got " << decl_->getAttr(kONNXFileAttrName);
    file_ = resolvePath(decl_, path.getValue());
    if (failed(findClauses()))
      return failure();
    func::FuncOp function = import();
    if (!function)
      return failure();
    if (failed(checkSignature(function)))
      return failure();
    collectInitializers(function);
    for (Clause &clause : clauses_)
      if (failed(bindParameters(clause)))
        return failure();
    function.setVisibility(decl_.getVisibility());
    function->setAttr(kONNXFileAttrName, path);
    function->moveBefore(decl_);
    decl_.erase();
    return success();
  }

private:
  /// The clauses naming the declaration, and the group of its parameters.
  LogicalResult findClauses() {
    StringRef name = decl_.getSymName();
    if (std::optional<SymbolTable::UseRange> uses =
            SymbolTable::getSymbolUses(decl_, module_))
      for (const SymbolTable::SymbolUse &use : *uses)
        if (!isa<ModelOp>(use.getUser()))
          return use.getUser()->emitOpError()
                 << "uses @" << name << ", which is imported from the ONNX "
                 << "file '" << file_ << "' and takes its parameters as "
                 << "trailing arguments; only bism.model clauses may name it";
    for (ModelOp model : module_.getOps<ModelOp>())
      for (Clause &clause : clausesOf(model)) {
        if (clause.function.getValue() != name)
          continue;
        if (clause.role == "gibbs")
          return model.emitOpError()
                 << "names @" << name << " as its gibbs sweep, but @" << name
                 << " is imported from the ONNX file '" << file_
                 << "': a Gibbs sweep takes its parameters between v and the "
                 << "noise, so it must be written in the model file";
        StringRef group = clause.role == "posterior" ||
                                  clause.role == "generator"
                              ? "phi"
                              : "theta";
        if (!group_.empty() && group != group_)
          return decl_.emitError()
                 << "@" << name << " is named both by a posterior or generator "
                 << "clause and by an energy clause; its parameters would be in "
                 << "two groups";
        group_ = group.str();
        clauses_.push_back(clause);
      }
    if (clauses_.empty())
      return decl_.emitError()
             << "@" << name << " names the ONNX file '" << file_
             << "' but no bism.model clause names @" << name
             << "; imported functions are the energy, free_energy, "
             << "component_log_mass or posterior of a model";
    return success();
  }

  /// The imported function (in its own module), or null after an error at
  /// the declaration that carries the importer's message.
  func::FuncOp import() {
    // Bounded by protobuf's largest message, 2 GiB.
    std::string error;
    std::unique_ptr<llvm::MemoryBuffer> buffer =
        readBoundedInput(file_, uint64_t(2) << 30, error, "ONNX file");
    if (!buffer) {
      decl_.emitError() << "@" << decl_.getSymName() << ": " << error;
      return nullptr;
    }
    ONNXImportOptions options;
    options.functionName = decl_.getSymName().str();
    options.parameterGroup = group_;
    options.externalDataDirectory = llvm::sys::path::parent_path(file_).str();
    // The batch: every symbolic dimension not named in bism.onnx_dims.
    if (decl_.getNumArguments() > 0)
      if (auto first = dyn_cast<RankedTensorType>(decl_.getArgumentTypes()[0]))
        if (first.getRank() > 0)
          options.defaultDimSize = first.getDimSize(0);
    if (Attribute dims = decl_->getAttr(kONNXDimsAttrName)) {
      auto dictionary = dyn_cast<DictionaryAttr>(dims);
      if (!dictionary || !llvm::all_of(dictionary, [](NamedAttribute entry) {
            auto size = dyn_cast<IntegerAttr>(entry.getValue());
            return size && size.getInt() > 0;
          })) {
        decl_.emitError() << "'" << kONNXDimsAttrName
                          << "' must be a dictionary of positive sizes "
                          << "{name = size, ...}, got " << dims;
        return nullptr;
      }
      for (NamedAttribute entry : dictionary)
        options.dimSizes[entry.getName().str()] =
            cast<IntegerAttr>(entry.getValue()).getInt();
    }

    // The importer reports at the ONNX file; the user needs the declaration
    // that named it too.
    SmallVector<std::string> messages;
    {
      ScopedDiagnosticHandler capture(decl_.getContext(), [&](Diagnostic &d) {
        if (d.getSeverity() == DiagnosticSeverity::Error)
          messages.push_back(d.str());
        return success();
      });
      imported_ = importONNXBuffer(buffer->getBuffer(), file_,
                                   decl_.getContext(), options);
    }
    if (!imported_) {
      InFlightDiagnostic diag =
          decl_.emitError() << "cannot import @" << decl_.getSymName()
                            << " from the ONNX file '" << file_ << "': "
                            << (messages.empty() ? std::string("unknown error")
                                                 : messages.front());
      for (const std::string &message : llvm::drop_begin(messages))
        diag.attachNote() << message;
      return nullptr;
    }
    return cast<func::FuncOp>(imported_->getBody()->front());
  }

  /// Graph inputs and outputs against the declared signature.
  LogicalResult checkSignature(func::FuncOp function) {
    numInputs_ = unsigned(
        function->getAttrOfType<IntegerAttr>("bism.num_inputs").getInt());
    auto graphType =
        FunctionType::get(function.getContext(),
                          function.getArgumentTypes().take_front(numInputs_),
                          function.getResultTypes());
    if (graphType == decl_.getFunctionType())
      return success();
    auto names = [&](ArrayRef<DictionaryAttr> attrs) {
      std::string text;
      for (DictionaryAttr dict : attrs)
        if (auto name =
                dict ? dict.getAs<StringAttr>("bism.onnx_name") : StringAttr())
          text += (text.empty() ? "'" : ", '") + name.str() + "'";
      return text;
    };
    SmallVector<DictionaryAttr> inputAttrs, outputAttrs;
    function.getAllArgAttrs(inputAttrs);
    function.getAllResultAttrs(outputAttrs);
    inputAttrs.resize(numInputs_);
    InFlightDiagnostic diag = decl_.emitError()
                              << "@" << decl_.getSymName() << " is declared "
                              << decl_.getFunctionType()
                              << " but the graph in the ONNX file '" << file_
                              << "' computes " << graphType << " (inputs "
                              << names(inputAttrs) << "; outputs "
                              << names(outputAttrs) << ")";
    diag.attachNote() << "symbolic dimensions of the graph inputs take the "
                      << "declared batch size (dimension 0 of the first "
                      << "argument) unless '" << kONNXDimsAttrName
                      << "' names them";
    return diag;
  }

  /// Non-trainable initializers become constants; the others stay trailing
  /// arguments, described in `initializers_`, their values moved to the
  /// model (bism.init would duplicate them).
  void collectInitializers(func::FuncOp function) {
    Block &entry = function.front();
    OpBuilder builder = OpBuilder::atBlockBegin(&entry);
    llvm::BitVector frozen(function.getNumArguments());
    for (unsigned i = numInputs_; i < function.getNumArguments(); ++i) {
      auto value = function.getArgAttrOfType<DenseElementsAttr>(i, "bism.init");
      auto trainable = function.getArgAttrOfType<BoolAttr>(i, "bism.trainable");
      if (trainable && !trainable.getValue()) {
        Value constant = bism::ConstantOp::create(builder, function.getLoc(),
                                                  value.getType(), value);
        entry.getArgument(i).replaceAllUsesWith(constant);
        frozen.set(i);
        continue;
      }
      initializers_.push_back(
          {function.getArgAttrOfType<StringAttr>(i, "bism.param_name").str(),
           cast<RankedTensorType>(value.getType()), value});
      function.removeArgAttr(i, "bism.init");
    }
    (void)function.eraseArguments(frozen);
    function->removeAttr("bism.parameters");
    function->removeAttr("bism.param_group");
  }

  LogicalResult bindParameters(Clause &clause) {
    ModelOp model = clause.model;
    if (!clause.params.empty())
      return checkListedParameters(clause);
    // One set of new parameters per model, shared by its clauses.
    ArrayAttr &created = created_[model.getOperation()];
    if (!created) {
      OpBuilder builder = OpBuilder::atBlockEnd(&model.getBody().front());
      MLIRContext *context = model.getContext();
      SmallVector<Attribute> refs;
      for (const Initializer &init : initializers_) {
        std::string symbol = paramSymbol(model, init.onnxName);
        auto param = ParamOp::create(
            builder, decl_.getLoc(), StringAttr::get(context, symbol),
            TypeAttr::get(init.type), StringAttr::get(context, group_),
            StringAttr::get(context, "value"), init.value,
            /*mean=*/FloatAttr(), /*std=*/FloatAttr(), /*low=*/FloatAttr(),
            /*high=*/FloatAttr(), /*gain=*/FloatAttr());
        param->setAttr("bism.onnx_name",
                       StringAttr::get(context, init.onnxName));
        refs.push_back(FlatSymbolRefAttr::get(context, symbol));
      }
      created = ArrayAttr::get(context, refs);
    }
    model->setAttr(clause.paramsName, created);
    return success();
  }

  /// A non-empty list names one declared parameter per trainable
  /// initializer, in order and of the same type.
  LogicalResult checkListedParameters(Clause &clause) {
    auto describe = [&]() {
      std::string text;
      for (const Initializer &init : initializers_) {
        llvm::raw_string_ostream os(text);
        os << (text.empty() ? "'" : ", '") << init.onnxName << "' "
           << init.type;
      }
      return text.empty() ? std::string("none") : text;
    };
    if (clause.params.size() != initializers_.size())
      return clause.model.emitOpError()
             << "lists " << clause.params.size() << " parameters for the "
             << clause.role << " @" << decl_.getSymName()
             << ", imported from the ONNX file '" << file_ << "' with "
             << initializers_.size() << " trainable initializers ("
             << describe() << "); list one per initializer, in order, or "
             << "none ([]) to declare them from the file";
    for (auto [ref, init] : llvm::zip(clause.params, initializers_)) {
      auto param = SymbolTable::lookupSymbolIn(
          clause.model, cast<FlatSymbolRefAttr>(ref).getAttr());
      Type type = cast<ParamOp>(param).getType();
      if (type != init.type)
        return clause.model.emitOpError()
               << "parameter " << ref << " has type " << type
               << " but the ONNX initializer '" << init.onnxName
               << "' it stands for in @" << decl_.getSymName() << " has type "
               << init.type;
    }
    return success();
  }

  ModuleOp module_;
  func::FuncOp decl_;
  std::string file_;
  std::string group_;
  SmallVector<Clause> clauses_;
  OwningOpRef<ModuleOp> imported_;
  unsigned numInputs_ = 0;
  SmallVector<Initializer> initializers_;
  llvm::DenseMap<Operation *, ArrayAttr> created_;
};

} // namespace

LogicalResult resolveONNXReferences(ModuleOp module) {
  SmallVector<func::FuncOp> declarations;
  for (auto func : module.getOps<func::FuncOp>())
    if (func.isExternal() && func->hasAttr(kONNXFileAttrName))
      declarations.push_back(func);
  for (func::FuncOp decl : declarations) {
    // The declared types fix the graph's symbolic dimensions, the batch too.
    if (findDynamicShape(decl))
      return decl.emitError()
             << "'?' (batch) dimension in the declaration of @"
             << decl.getSymName()
             << ": set it first (--bism-specialize-batch, which "
                "--bism-build-train-step and bism-run run before importing)";
    if (failed(Resolver(module, decl).run()))
      return failure();
  }
  return success();
}

} // namespace bism::train

namespace bism {
#define GEN_PASS_DEF_BISMRESOLVEONNX
#include "bism/Lowering/Passes.h.inc"
} // namespace bism

namespace {
struct ResolveONNXPass : bism::impl::BismResolveONNXBase<ResolveONNXPass> {
  void runOnOperation() override {
    if (failed(bism::train::resolveONNXReferences(getOperation())))
      signalPassFailure();
  }
};
} // namespace
