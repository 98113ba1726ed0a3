//===- JitModule.cpp - compile a bism module and call its functions -------===//
#include "bism/Execution/JitModule.h"

#include "bism/Dialect/Bism.h"
#include "bism/Lowering/Passes.h"
#include "bism/runtime/Blas.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <mutex>

using namespace mlir;
using bism::runtime::ElementType;
using bism::runtime::HostTensor;

namespace bism {

namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

void initializeNativeTargetOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
  });
}

std::string shapeString(llvm::ArrayRef<int64_t> shape, ElementType type) {
  std::string s;
  for (int64_t dim : shape)
    s += std::to_string(dim) + "x";
  s += runtime::elementTypeName(type);
  return s;
}

/// Collects diagnostics emitted while active as "loc: error: message" lines.
class DiagnosticCollector {
public:
  explicit DiagnosticCollector(MLIRContext *context)
      : handler(context, [this](Diagnostic &diag) {
          // Passes on nested functions may run on several threads.
          std::lock_guard<std::mutex> lock(mutex);
          append(diag);
          return success();
        }) {}

  std::string take() {
    std::lock_guard<std::mutex> lock(mutex);
    std::string result = std::move(text);
    text.clear();
    while (!result.empty() && result.back() == '\n')
      result.pop_back();
    return result;
  }

private:
  std::mutex mutex;
  std::string text;
  ScopedDiagnosticHandler handler;

  void append(Diagnostic &diag) {
    llvm::raw_string_ostream os(text);
    Location loc = diag.getLocation();
    if (auto fileLoc = loc->findInstanceOf<FileLineColLoc>())
      os << fileLoc.getFilename().getValue() << ":" << fileLoc.getLine() << ":"
         << fileLoc.getColumn() << ": ";
    else if (!isa<UnknownLoc>(loc))
      os << loc << ": ";
    switch (diag.getSeverity()) {
    case DiagnosticSeverity::Error:
      os << "error: ";
      break;
    case DiagnosticSeverity::Warning:
      os << "warning: ";
      break;
    case DiagnosticSeverity::Note:
      os << "note: ";
      break;
    case DiagnosticSeverity::Remark:
      os << "remark: ";
      break;
    }
    os << diag.str() << "\n";
    for (Diagnostic &note : diag.getNotes())
      append(note);
  }
};

/// Maps a tensor type to a signature, or returns false.
bool toSignature(Type type, TensorSignature &signature) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape() || tensor.getRank() > 8)
    return false;
  Type element = tensor.getElementType();
  if (element.isF32())
    signature.elementType = ElementType::f32;
  else if (element.isF64())
    signature.elementType = ElementType::f64;
  else if (element.isSignlessInteger(1))
    signature.elementType = ElementType::i1;
  else if (element.isSignlessInteger(32))
    signature.elementType = ElementType::i32;
  else if (element.isSignlessInteger(64))
    signature.elementType = ElementType::i64;
  else
    return false;
  signature.shape.assign(tensor.getShape().begin(), tensor.getShape().end());
  return true;
}

std::string typeToString(Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << type;
  return s;
}

llvm::Expected<std::vector<FunctionSignature>> collectSignatures(ModuleOp module) {
  std::vector<FunctionSignature> result;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (!func.isPublic() || func.isExternal())
      continue;
    FunctionSignature signature;
    signature.name = func.getSymName().str();
    FunctionType type = func.getFunctionType();
    for (auto [i, input] : llvm::enumerate(type.getInputs())) {
      TensorSignature tensor;
      if (!toSignature(input, tensor))
        return makeError("function '" + signature.name + "': argument " +
                         llvm::Twine(i) + " has type " + typeToString(input) +
                         "; callable functions take and return ranked "
                         "static tensors of f32, f64, i1, i32 or i64 (rank "
                         "at most 8)");
      signature.inputs.push_back(std::move(tensor));
    }
    for (auto [i, output] : llvm::enumerate(type.getResults())) {
      TensorSignature tensor;
      if (!toSignature(output, tensor))
        return makeError("function '" + signature.name + "': result " +
                         llvm::Twine(i) + " has type " + typeToString(output) +
                         "; callable functions take and return ranked "
                         "static tensors of f32, f64, i1, i32 or i64 (rank "
                         "at most 8)");
      signature.outputs.push_back(std::move(tensor));
    }
    result.push_back(std::move(signature));
  }
  return result;
}

const DialectRegistry &executionRegistry() {
  static const DialectRegistry *registry = [] {
    auto *r = new DialectRegistry();
    registerExecutionDialects(*r);
    return r;
  }();
  return *registry;
}

/// The runtime functions compiled code may call, by symbol name.
llvm::orc::SymbolMap runtimeSymbols(llvm::orc::MangleAndInterner interner) {
  llvm::orc::SymbolMap symbols;
  auto add = [&](const char *name, auto *function) {
    symbols[interner(name)] = {llvm::orc::ExecutorAddr::fromPtr(function),
                               llvm::JITSymbolFlags::Exported |
                                   llvm::JITSymbolFlags::Callable};
  };
  add("_mlir_ciface_bism_rt_gemm_f32", &_mlir_ciface_bism_rt_gemm_f32);
  add("_mlir_ciface_bism_rt_gemm_f64", &_mlir_ciface_bism_rt_gemm_f64);
  add("_mlir_ciface_bism_rt_batch_gemm_f32",
      &_mlir_ciface_bism_rt_batch_gemm_f32);
  add("_mlir_ciface_bism_rt_batch_gemm_f64",
      &_mlir_ciface_bism_rt_batch_gemm_f64);
  return symbols;
}

/// A memref descriptor of any rank, laid out as MLIR expects:
/// {allocated, aligned, offset, sizes[rank], strides[rank]}.
struct Descriptor {
  int64_t words[3 + 2 * 8];
  void *address = words;

  void fill(void *data, llvm::ArrayRef<int64_t> shape) {
    size_t rank = shape.size();
    words[0] = reinterpret_cast<int64_t>(data);
    words[1] = reinterpret_cast<int64_t>(data);
    words[2] = 0;
    int64_t stride = 1;
    for (size_t i = rank; i-- > 0;) {
      words[3 + i] = shape[i];
      words[3 + rank + i] = stride;
      stride *= shape[i];
    }
  }
};

} // namespace

std::string TensorSignature::str() const {
  return shapeString(shape, elementType);
}

void registerExecutionDialects(DialectRegistry &registry) {
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registry.insert<BismDialect>();
  registerDerivativeRules(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
}

JitModule::JitModule() = default;
JitModule::~JitModule() = default;

llvm::Expected<std::unique_ptr<JitModule>>
JitModule::compile(ModuleOp module, const JitOptions &options) {
  initializeNativeTargetOnce();
  MLIRContext *context = module.getContext();
  // The pipeline needs the bufferisation and LLVM-conversion interfaces of
  // every dialect involved, whatever the caller registered.
  context->appendDialectRegistry(executionRegistry());

  auto signatures = collectSignatures(module);
  if (!signatures)
    return signatures.takeError();

  OwningOpRef<ModuleOp> lowered(module.clone());
  DiagnosticCollector diagnostics(context);
  if (failed(verify(*lowered)))
    return makeError("invalid module:\n" + diagnostics.take());

  PassManager pm = PassManager::on<ModuleOp>(context);
  CpuPipelineOptions pipelineOptions;
  pipelineOptions.blasMinFlops = options.blasMinFlops;
  buildLowerToCpuPipeline(pm, pipelineOptions);
  if (failed(pm.run(*lowered))) {
    std::string message = diagnostics.take();
    return makeError("lowering to the CPU failed" +
                     (message.empty() ? std::string() : ":\n" + message));
  }

  // invoke() passes one descriptor pointer per input and per output and
  // expects nothing back: check that the lowering produced exactly that.
  for (const FunctionSignature &signature : *signatures) {
    auto wrapper = lowered->lookupSymbol<LLVM::LLVMFuncOp>(
        "_mlir_ciface_" + signature.name);
    if (!wrapper)
      return makeError("function '" + signature.name +
                       "': the lowering produced no C interface "
                       "(_mlir_ciface_" + signature.name + ")");
    LLVM::LLVMFunctionType type = wrapper.getFunctionType();
    size_t expected = signature.inputs.size() + signature.outputs.size();
    if (!isa<LLVM::LLVMVoidType>(type.getReturnType()) ||
        type.getNumParams() != expected)
      return makeError(
          "function '" + signature.name +
          "': unexpected calling convention after lowering (expected " +
          llvm::Twine(expected) +
          " descriptor pointers, results as out-parameters, and no return "
          "value; got " + typeToString(type) + ")");
  }

  unsigned optLevel = std::min(options.optLevel, 3u);
  auto transformer = makeOptimizingTransformer(optLevel, /*sizeLevel=*/0,
                                               /*targetMachine=*/nullptr);
  ExecutionEngineOptions engineOptions;
  engineOptions.transformer = transformer;
  static const llvm::CodeGenOptLevel codeGenLevels[] = {
      llvm::CodeGenOptLevel::None, llvm::CodeGenOptLevel::Less,
      llvm::CodeGenOptLevel::Default, llvm::CodeGenOptLevel::Aggressive};
  engineOptions.jitCodeGenOptLevel = codeGenLevels[optLevel];
  auto engine = ExecutionEngine::create(*lowered, engineOptions);
  if (!engine) {
    std::string message = llvm::toString(engine.takeError());
    std::string diags = diagnostics.take();
    return makeError("JIT compilation failed: " + message +
                     (diags.empty() ? std::string() : "\n" + diags));
  }
  (*engine)->registerSymbols(runtimeSymbols);
  (*engine)->initialize();

  std::unique_ptr<JitModule> result(new JitModule());
  result->functions_ = std::move(*signatures);
  for (const FunctionSignature &signature : result->functions_) {
    auto entry = (*engine)->lookupPacked("_mlir_ciface_" + signature.name);
    if (!entry)
      return makeError("JIT: no entry point for '" + signature.name +
                       "': " + llvm::toString(entry.takeError()));
    result->entryPoints_.push_back(*entry);
  }
  result->engine_ = std::move(*engine);
  return result;
}

llvm::Expected<std::unique_ptr<JitModule>>
JitModule::compileSource(llvm::StringRef source, const JitOptions &options) {
  MLIRContext context(executionRegistry());
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(source, "<source>"), llvm::SMLoc());
  std::string diagnostics;
  llvm::raw_string_ostream os(diagnostics);
  OwningOpRef<ModuleOp> module;
  {
    SourceMgrDiagnosticHandler handler(sourceMgr, &context, os);
    module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  }
  if (!module)
    return makeError("cannot parse the module:\n" + diagnostics);
  return compile(*module, options);
}

const FunctionSignature *JitModule::lookup(llvm::StringRef name) const {
  for (const FunctionSignature &signature : functions_)
    if (signature.name == name)
      return &signature;
  return nullptr;
}

llvm::Error JitModule::invoke(llvm::StringRef name,
                              llvm::ArrayRef<const HostTensor *> inputs,
                              llvm::ArrayRef<HostTensor *> outputs) {
  const FunctionSignature *signature = lookup(name);
  if (!signature) {
    std::string available;
    for (const FunctionSignature &f : functions_)
      available += (available.empty() ? "" : ", ") + f.name;
    return makeError("no function named '" + name + "'" +
                     (available.empty() ? std::string(" (none is callable)")
                                        : " (available: " + available + ")"));
  }
  size_t index = size_t(signature - functions_.data());

  auto check = [&](const char *what, size_t i, const HostTensor *tensor,
                   const TensorSignature &expected) -> llvm::Error {
    if (!tensor)
      return makeError(name + ": " + what + " " + llvm::Twine(i) + " is null");
    if (tensor->elementType() != expected.elementType ||
        tensor->shape() != expected.shape)
      return makeError(name + ": " + what + " " + llvm::Twine(i) +
                       " has type " + tensor->typeString() + ", expected " +
                       expected.str());
    if (!tensor->data())
      return makeError(name + ": " + what + " " + llvm::Twine(i) +
                       " has no storage");
    return llvm::Error::success();
  };
  if (inputs.size() != signature->inputs.size())
    return makeError(name + ": expected " +
                     llvm::Twine(signature->inputs.size()) + " inputs, got " +
                     llvm::Twine(inputs.size()));
  if (outputs.size() != signature->outputs.size())
    return makeError(name + ": expected " +
                     llvm::Twine(signature->outputs.size()) +
                     " outputs, got " + llvm::Twine(outputs.size()));
  for (size_t i = 0; i < inputs.size(); ++i)
    if (llvm::Error error = check("input", i, inputs[i], signature->inputs[i]))
      return error;
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (llvm::Error error =
            check("output", i, outputs[i], signature->outputs[i]))
      return error;
    for (size_t j = 0; j < inputs.size(); ++j)
      if (outputs[i]->data() == inputs[j]->data())
        return makeError(name + ": output " + llvm::Twine(i) +
                         " shares storage with input " + llvm::Twine(j));
  }

  size_t count = inputs.size() + outputs.size();
  llvm::SmallVector<Descriptor, 8> descriptors(count);
  llvm::SmallVector<void *, 8> args(count);
  for (size_t i = 0; i < inputs.size(); ++i)
    descriptors[i].fill(const_cast<void *>(inputs[i]->data()),
                        inputs[i]->shape());
  for (size_t i = 0; i < outputs.size(); ++i)
    descriptors[inputs.size() + i].fill(outputs[i]->data(),
                                        outputs[i]->shape());
  // Each argument of `_mlir_ciface_<name>` is a descriptor pointer; the packed
  // interface takes, per argument, a pointer to where that pointer is stored.
  for (size_t i = 0; i < count; ++i) {
    descriptors[i].address = descriptors[i].words;
    args[i] = &descriptors[i].address;
  }
  entryPoints_[index](args.data());
  return llvm::Error::success();
}

llvm::Expected<std::vector<HostTensor>>
JitModule::call(llvm::StringRef name, llvm::ArrayRef<HostTensor> inputs) {
  const FunctionSignature *signature = lookup(name);
  std::vector<HostTensor> outputs;
  if (signature)
    for (const TensorSignature &output : signature->outputs)
      outputs.emplace_back(output.elementType, output.shape);
  llvm::SmallVector<const HostTensor *, 8> inputPointers;
  for (const HostTensor &input : inputs)
    inputPointers.push_back(&input);
  llvm::SmallVector<HostTensor *, 8> outputPointers;
  for (HostTensor &output : outputs)
    outputPointers.push_back(&output);
  if (llvm::Error error = invoke(name, inputPointers, outputPointers))
    return std::move(error);
  return outputs;
}

} // namespace bism
