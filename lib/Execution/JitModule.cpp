//===- JitModule.cpp - compile a bism module and call its functions -------===//
//
// compile(): the CPU pipeline lowers a copy of the module to the LLVM
// dialect, which is translated to LLVM IR, given packed entry points
// (`_mlir__mlir_ciface_<f>`), optimised and compiled to a relocatable object
// for the host CPU; the object is linked into an ORC LLJIT with the runtime
// symbols (runtimeSymbols) and the process's. The object is what the on-disk
// cache stores ("The object cache" below): a hit links the stored object and
// skips the pipeline and LLVM entirely.
//
//===----------------------------------------------------------------------===//
#include "bism/Execution/JitModule.h"

#include "bism/Dialect/Bism.h"
#include "bism/Lowering/Passes.h"
#include "bism/runtime/Blas.h"
#include "bism/runtime/Collective.h"
#include "bism/runtime/CudaDriver.h"
#include "bism/runtime/CudaExecutor.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
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
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/ExecutionEngine/Orc/Core.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/JITLink/JITLink.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/ExecutionEngine/Orc/ObjectLinkingLayer.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/BLAKE3.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ThreadPool.h"
#include "llvm/Support/Threading.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Transforms/Utils/SplitModule.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <link.h>
#include <mutex>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

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

/// The first statically shaped tensor or buffer in `module` larger than the
/// memory budget, as an error at its location; checked before lowering,
/// which would otherwise abort allocating it (a huge splat constant).
llvm::Error checkStaticSizes(ModuleOp module) {
  std::string error;
  auto check = [&](Type type, Location loc) {
    auto shaped = dyn_cast<ShapedType>(type);
    if (!shaped || !shaped.hasRank() || !shaped.hasStaticShape() ||
        !(isa<TensorType>(type) || isa<MemRefType>(type)))
      return true;
    Type element = shaped.getElementType();
    uint64_t bytes = element.isIntOrFloat()
                         ? (element.getIntOrFloatBitWidth() + 7) / 8
                         : 8;
    bool overflow = false;
    for (int64_t dim : shaped.getShape())
      overflow |= __builtin_mul_overflow(bytes, uint64_t(dim), &bytes);
    if (!overflow && bytes <= runtime::memoryBudget())
      return true;
    std::string where;
    if (auto file = dyn_cast<FileLineColLoc>(loc))
      where = (file.getFilename().str() + ":" + llvm::Twine(file.getLine()) +
               ":" + llvm::Twine(file.getColumn()) + ": ")
                  .str();
    error = where + typeToString(type) + " needs " +
            (overflow ? std::string("more than 2^64")
                      : std::to_string(bytes)) +
            " bytes, more than " + runtime::describeMemoryBudget();
    return false;
  };
  module.walk([&](Operation *op) {
    for (Value result : op->getResults())
      if (!check(result.getType(), op->getLoc()))
        return WalkResult::interrupt();
    for (Region &region : op->getRegions())
      for (Block &block : region)
        for (BlockArgument argument : block.getArguments())
          if (!check(argument.getType(), op->getLoc()))
            return WalkResult::interrupt();
    return WalkResult::advance();
  });
  return error.empty() ? llvm::Error::success() : makeError(error);
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
  add("_mlir_ciface_bism_rt_all_reduce_mean_f32",
      &_mlir_ciface_bism_rt_all_reduce_mean_f32);
  add("_mlir_ciface_bism_rt_all_reduce_mean_f64",
      &_mlir_ciface_bism_rt_all_reduce_mean_f64);
  // The CUDA executor: the MLIR GPU runtime ABI and cuBLAS.
  for (const runtime::cuda::Symbol &symbol : runtime::cuda::jitSymbols())
    add(symbol.name, symbol.address);
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

//===----------------------------------------------------------------------===//
// Compilation to a native object
//===----------------------------------------------------------------------===//

/// The host the objects are compiled for, detected once per process.
struct HostTarget {
  std::optional<llvm::orc::JITTargetMachineBuilder> builder;
  std::optional<llvm::DataLayout> dataLayout;
  /// Triple, CPU name and CPU features, one per line: part of the cache key.
  std::string description;
  /// Why the host could not be set up (empty on success).
  std::string error;
};

const HostTarget &hostTarget() {
  static const HostTarget *host = [] {
    initializeNativeTargetOnce();
    auto *result = new HostTarget();
    auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
    if (!builder) {
      result->error = llvm::toString(builder.takeError());
      return result;
    }
    // What LLJIT's JITLink object layer expects of x86-64/AArch64 ELF
    // objects (it sets the same when it compiles IR itself).
    builder->setRelocationModel(llvm::Reloc::PIC_);
    builder->setCodeModel(llvm::CodeModel::Small);
    auto machine = builder->createTargetMachine();
    if (!machine) {
      result->error = llvm::toString(machine.takeError());
      return result;
    }
    result->dataLayout = (*machine)->createDataLayout();
    result->description = builder->getTargetTriple().str() + "\n" +
                          builder->getCPU() + "\n" +
                          builder->getFeatures().getString();
    result->builder = std::move(*builder);
    return result;
  }();
  return *host;
}

/// Defines `_mlir_<f>(void **args)` calling `f(*args[0], *args[1], ...)` for
/// a function `f` returning void: the packed interface JitModule::invoke
/// calls (the one mlir::ExecutionEngine generates).
void addPackedWrapper(llvm::Module &module, llvm::Function &function) {
  llvm::LLVMContext &context = module.getContext();
  llvm::IRBuilder<> builder(context);
  auto *type = llvm::FunctionType::get(builder.getVoidTy(), builder.getPtrTy(),
                                       /*isVarArg=*/false);
  auto *wrapper =
      llvm::Function::Create(type, llvm::GlobalValue::ExternalLinkage,
                             "_mlir_" + function.getName(), module);
  builder.SetInsertPoint(llvm::BasicBlock::Create(context, "entry", wrapper));
  llvm::Value *list = wrapper->getArg(0);
  llvm::SmallVector<llvm::Value *, 8> args;
  for (llvm::Argument &arg : function.args()) {
    llvm::Value *slot =
        builder.CreateConstGEP1_64(builder.getPtrTy(), list, arg.getArgNo());
    llvm::Value *pointer = builder.CreateLoad(builder.getPtrTy(), slot);
    args.push_back(builder.CreateLoad(arg.getType(), pointer));
  }
  builder.CreateCall(&function, args);
  builder.CreateRetVoid();
}

/// A module is compiled in parts of at least this many functions.
constexpr unsigned kFunctionsPerPart = 32;

/// The CUDA toolkit the CUDA lowering runs ptxas from: $CUDA_HOME, else
/// the one bism was built with, else /usr/local/cuda.
std::string cudaToolkitDirectory() {
  if (const char *home = std::getenv("CUDA_HOME"); home && *home)
    return home;
#ifdef BISM_CUDA_TOOLKIT_DIR
  return BISM_CUDA_TOOLKIT_DIR;
#else
  return "/usr/local/cuda";
#endif
}

/// The names of the functions that run a module's global constructors and
/// destructors (exposeInitialisers), which JitModule::load calls.
constexpr const char *kModuleInit = "bism_module_init";
constexpr const char *kModuleFini = "bism_module_fini";

/// Replaces `llvm.global_ctors` and `llvm.global_dtors` by two exported
/// functions that call them in order (constructors by ascending priority,
/// destructors by descending): the JIT links objects without a platform
/// that would run them. Returns an error message, or "".
std::string exposeInitialisers(llvm::Module &module) {
  for (bool constructors : {true, false}) {
    llvm::GlobalVariable *list = module.getNamedGlobal(
        constructors ? "llvm.global_ctors" : "llvm.global_dtors");
    if (!list)
      continue;
    // (priority, position in the list, function)
    std::vector<std::tuple<uint64_t, size_t, llvm::Function *>> entries;
    if (auto *array =
            llvm::dyn_cast_or_null<llvm::ConstantArray>(list->getInitializer()))
      for (llvm::Value *element : array->operands()) {
        auto *entry = llvm::dyn_cast<llvm::ConstantStruct>(element);
        auto *priority = entry ? llvm::dyn_cast<llvm::ConstantInt>(
                                     entry->getOperand(0))
                               : nullptr;
        auto *function = entry ? llvm::dyn_cast<llvm::Function>(
                                     entry->getOperand(1))
                               : nullptr;
        if (!priority || !function)
          return "unsupported entry in " + list->getName().str();
        entries.push_back({priority->getZExtValue(), entries.size(), function});
      }
    // By priority, then in list order (llvm.global_ctors' semantics).
    llvm::sort(entries, [&](const auto &a, const auto &b) {
      if (std::get<0>(a) != std::get<0>(b))
        return constructors ? std::get<0>(a) < std::get<0>(b)
                            : std::get<0>(a) > std::get<0>(b);
      return std::get<1>(a) < std::get<1>(b);
    });
    const char *name = constructors ? kModuleInit : kModuleFini;
    if (module.getFunction(name))
      return std::string("the module already defines ") + name;
    llvm::LLVMContext &context = module.getContext();
    auto *runner = llvm::Function::Create(
        llvm::FunctionType::get(llvm::Type::getVoidTy(context), false),
        llvm::GlobalValue::ExternalLinkage, name, module);
    llvm::IRBuilder<> builder(llvm::BasicBlock::Create(context, "entry", runner));
    for (auto &[priority, position, function] : entries)
      builder.CreateCall(function->getFunctionType(), function);
    builder.CreateRetVoid();
    list->eraseFromParent();
  }
  return "";
}

/// Relocatable objects in one string: "BISMOBJS", u32 count, then per
/// object a u64 size and its bytes (little-endian).
constexpr char kObjectsMagic[8] = {'B', 'I', 'S', 'M', 'O', 'B', 'J', 'S'};

std::string packObjects(llvm::ArrayRef<std::string> objects) {
  std::string packed(kObjectsMagic, sizeof(kObjectsMagic));
  char word[8];
  llvm::support::endian::write32le(word, uint32_t(objects.size()));
  packed.append(word, 4);
  for (const std::string &object : objects) {
    llvm::support::endian::write64le(word, object.size());
    packed.append(word, 8);
    packed += object;
  }
  return packed;
}

/// The objects packObjects packed, or an error naming what is wrong.
llvm::Expected<std::vector<llvm::StringRef>>
unpackObjects(llvm::StringRef packed) {
  auto malformed = [](const llvm::Twine &what) {
    return makeError("malformed object list: " + what);
  };
  if (!packed.consume_front(llvm::StringRef(kObjectsMagic, sizeof(kObjectsMagic))))
    return malformed("no magic");
  if (packed.size() < 4)
    return malformed("no count");
  uint32_t count = llvm::support::endian::read32le(packed.data());
  packed = packed.drop_front(4);
  std::vector<llvm::StringRef> objects;
  for (uint32_t i = 0; i < count; ++i) {
    if (packed.size() < 8)
      return malformed("object " + llvm::Twine(i) + " has no size");
    uint64_t size = llvm::support::endian::read64le(packed.data());
    packed = packed.drop_front(8);
    if (size > packed.size())
      return malformed("object " + llvm::Twine(i) + " is cut short");
    objects.push_back(packed.take_front(size));
    packed = packed.drop_front(size);
  }
  if (!packed.empty() || objects.empty())
    return malformed(objects.empty() ? "no object" : "trailing bytes");
  return objects;
}

/// Lowers a copy of `module` with the CPU pipeline, translates it to LLVM IR,
/// adds the packed wrappers, optimises at `options.optLevel` and emits
/// relocatable objects for the host (packObjects).
llvm::Expected<std::string>
compileToObject(ModuleOp module, const JitOptions &options,
                const std::vector<FunctionSignature> &signatures,
                const HostTarget &host, DiagnosticCollector &diagnostics) {
  MLIRContext *context = module.getContext();
  OwningOpRef<ModuleOp> lowered(module.clone());
  PassManager pm = PassManager::on<ModuleOp>(context);
  bool cuda = options.device == "cuda";
  if (cuda) {
    CudaPipelineOptions pipelineOptions;
    pipelineOptions.chip = options.cudaChip;
    // PTX ISA 8.0 covers sm_80/sm_90 (CUDA 12+); Blackwell needs 8.6.
    pipelineOptions.features =
        llvm::StringRef(options.cudaChip).starts_with("sm_1") ? "+ptx86"
                                                              : "+ptx80";
    pipelineOptions.format = "bin";
    pipelineOptions.toolkit = cudaToolkitDirectory();
    buildLowerToCudaPipeline(pm, pipelineOptions);
  } else {
    CpuPipelineOptions pipelineOptions;
    pipelineOptions.blasMinFlops = options.blasMinFlops;
    pipelineOptions.parallelMinPoints = options.parallelMinPoints;
    buildLowerToCpuPipeline(pm, pipelineOptions);
  }
  if (failed(pm.run(*lowered))) {
    std::string message = diagnostics.take();
    return makeError(std::string("lowering to ") +
                     (cuda ? "CUDA" : "the CPU") + " failed" +
                     (message.empty() ? std::string() : ":\n" + message));
  }

  // invoke() passes one descriptor pointer per input and per output and
  // expects nothing back: check that the lowering produced exactly that.
  for (const FunctionSignature &signature : signatures) {
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

  auto jitError = [&](const llvm::Twine &message) {
    std::string diags = diagnostics.take();
    return makeError("JIT compilation failed: " + message +
                     (diags.empty() ? std::string() : "\n" + diags));
  };
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(*lowered, llvmContext);
  if (!llvmModule)
    return jitError("could not convert to LLVM IR");
  // The object loader runs no initialisers: the module's (the CUDA
  // lowering's GPU module loads) become functions load() calls.
  if (std::string error = exposeInitialisers(*llvmModule); !error.empty())
    return jitError(error);

  unsigned optLevel = std::min(options.optLevel, 3u);
  static const llvm::CodeGenOptLevel codeGenLevels[] = {
      llvm::CodeGenOptLevel::None, llvm::CodeGenOptLevel::Less,
      llvm::CodeGenOptLevel::Default, llvm::CodeGenOptLevel::Aggressive};
  for (const FunctionSignature &signature : signatures) {
    llvm::Function *function =
        llvmModule->getFunction("_mlir_ciface_" + signature.name);
    if (!function || function->isDeclaration())
      return jitError("no definition of _mlir_ciface_" + signature.name +
                      " in LLVM IR");
    addPackedWrapper(*llvmModule, *function);
  }

  // The module's functions (each kernel one, noinline) are optimised and
  // compiled in parts, one per thread, each in an LLVMContext of its own
  // (a part travels as bitcode): code generation is most of a compile, and
  // the parts link as one program. Small modules stay whole.
  unsigned functionCount = 0;
  for (llvm::Function &function : *llvmModule)
    functionCount += !function.isDeclaration();
  unsigned parts = std::min<unsigned>(
      llvm::hardware_concurrency().compute_thread_count(),
      std::max<unsigned>(1, functionCount / kFunctionsPerPart));
  std::vector<llvm::SmallString<0>> bitcode;
  if (parts > 1) {
    llvm::SplitModule(
        *llvmModule, parts,
        [&](std::unique_ptr<llvm::Module> part) {
          bitcode.emplace_back();
          llvm::raw_svector_ostream os(bitcode.back());
          llvm::WriteBitcodeToFile(*part, os);
        },
        /*PreserveLocals=*/false, /*RoundRobin=*/true);
  }

  // Optimises and compiles one module for the host: the IR passes of
  // -O<optLevel>, with the target machine, so the loop and SLP vectorisers
  // see its vector registers (AVX2/AVX-512); the kernels are written for
  // them (bism-outline-kernels, noalias buffers, polynomial math).
  auto emit = [&](llvm::Module &part, std::string &object) -> std::string {
    llvm::orc::JITTargetMachineBuilder builder = *host.builder;
    builder.setCodeGenOptLevel(codeGenLevels[optLevel]);
    auto machine = builder.createTargetMachine();
    if (!machine)
      return llvm::toString(machine.takeError());
    part.setDataLayout((*machine)->createDataLayout());
    part.setTargetTriple((*machine)->getTargetTriple());
    auto transformer = makeOptimizingTransformer(optLevel, /*sizeLevel=*/0,
                                                 machine->get());
    if (llvm::Error error = transformer(&part))
      return llvm::toString(std::move(error));
    llvm::SmallVector<char, 0> bytes;
    llvm::raw_svector_ostream os(bytes);
    llvm::legacy::PassManager codegen;
    if ((*machine)->addPassesToEmitFile(codegen, os, nullptr,
                                        llvm::CodeGenFileType::ObjectFile))
      return "the target cannot emit object files";
    codegen.run(part);
    object.assign(bytes.data(), bytes.size());
    return "";
  };

  std::vector<std::string> objects(std::max<size_t>(1, bitcode.size()));
  std::vector<std::string> failures(objects.size());
  if (bitcode.empty()) {
    failures[0] = emit(*llvmModule, objects[0]);
  } else {
    llvm::DefaultThreadPool pool(llvm::hardware_concurrency(parts));
    for (size_t i = 0; i < bitcode.size(); ++i)
      pool.async([&, i] {
        llvm::LLVMContext partContext;
        auto part = llvm::parseBitcodeFile(
            llvm::MemoryBufferRef(
                llvm::StringRef(bitcode[i].data(), bitcode[i].size()),
                "part"),
            partContext);
        if (!part) {
          failures[i] = llvm::toString(part.takeError());
          return;
        }
        failures[i] = emit(**part, objects[i]);
      });
    pool.wait();
  }
  for (const std::string &failure : failures)
    if (!failure.empty())
      return jitError(failure);
  return packObjects(objects);
}

//===----------------------------------------------------------------------===//
// The object cache
//===----------------------------------------------------------------------===//
//
// An entry is what compileToObject emits, in a file named after its key
// (<hex>.bismobj in the cache directory):
//
//   offset  size  field
//        0     8  kEntryMagic
//        8     4  kCacheFormatVersion (little-endian)
//       12     4  zero
//       16    32  the key (BLAKE3)
//       48     8  payload size in bytes (little-endian)
//       56    32  BLAKE3 of the payload
//       88     n  payload: the relocatable objects (packObjects)
//
// The key hashes everything the object depends on: the module as printed
// (generic form, without locations, which only reach diagnostics), the
// JitOptions that change code, the host (triple, CPU, features), the LLVM
// version, the GNU build IDs of the binaries doing the compiling (this code
// and the lowering passes, libMLIR, libLLVM) and kCacheFormatVersion. An
// entry that is unreadable, truncated, corrupt (checksum) or for another key
// is ignored with a one-line note, and rewritten after compiling. Entries
// are written to a temporary file in the same directory and renamed, so
// readers see whole entries or none; concurrent writers of one key write
// the same bytes. After each write, entries unused for kCacheMaxAge and the
// least recently used ones beyond kCacheMaxBytes are deleted (a hit
// refreshes its entry's time).

/// Bump when the entry layout, the compilation (pipeline, passes, code
/// generation options, packed wrappers) or the key changes in a way the
/// build IDs would not catch, e.g. a build without build IDs.
constexpr uint32_t kCacheFormatVersion = 2;
constexpr char kEntryMagic[8] = {'B', 'I', 'S', 'M', 'O', 'B', 'J', '\n'};
constexpr size_t kEntryHeaderSize = 88;
constexpr const char *kEntrySuffix = ".bismobj";
constexpr uint64_t kCacheMaxBytes = uint64_t(1) << 30;
constexpr std::chrono::hours kCacheMaxAge(24 * 30);

using CacheKey = llvm::BLAKE3Result<32>;

/// A raw_ostream that feeds a BLAKE3 hasher (hashing a printed module
/// without holding its text).
class HashingStream : public llvm::raw_ostream {
public:
  explicit HashingStream(llvm::BLAKE3 &hasher) : hasher(hasher) {}
  ~HashingStream() override { flush(); }

private:
  llvm::BLAKE3 &hasher;
  uint64_t position = 0;
  void write_impl(const char *data, size_t size) override {
    hasher.update(llvm::StringRef(data, size));
    position += size;
  }
  uint64_t current_pos() const override { return position; }
};

/// Feeds a length-prefixed field, so that fields cannot run into each other.
void hashField(llvm::BLAKE3 &hasher, llvm::StringRef field) {
  uint8_t size[8];
  llvm::support::endian::write64le(size, field.size());
  hasher.update(llvm::ArrayRef<uint8_t>(size));
  hasher.update(field);
}

/// The GNU build ID (hex) of the loaded ELF object, or its path, size and
/// modification time when it has none.
std::string objectIdentity(const dl_phdr_info &object) {
  for (int i = 0; i < object.dlpi_phnum; ++i) {
    const ElfW(Phdr) &header = object.dlpi_phdr[i];
    if (header.p_type != PT_NOTE)
      continue;
    size_t align = header.p_align == 8 ? 8 : 4;
    const char *at =
        reinterpret_cast<const char *>(object.dlpi_addr + header.p_vaddr);
    const char *end = at + header.p_memsz;
    while (at + sizeof(ElfW(Nhdr)) <= end) {
      const auto *note = reinterpret_cast<const ElfW(Nhdr) *>(at);
      const char *name = at + sizeof(ElfW(Nhdr));
      const char *desc = name + llvm::alignTo(note->n_namesz, align);
      const char *next = desc + llvm::alignTo(note->n_descsz, align);
      if (next > end)
        break;
      if (note->n_type == NT_GNU_BUILD_ID && note->n_namesz == 4 &&
          std::memcmp(name, "GNU", 4) == 0)
        return "build-id " +
               llvm::toHex(llvm::StringRef(desc, note->n_descsz), true);
      at = next;
    }
  }
  std::string path = object.dlpi_name && *object.dlpi_name
                         ? object.dlpi_name
                         : "/proc/self/exe";
  llvm::sys::fs::file_status status;
  if (llvm::sys::fs::status(path, status))
    return "file " + path;
  return "file " + path + " " + std::to_string(status.getSize()) + " " +
         std::to_string(status.getLastModificationTime()
                            .time_since_epoch()
                            .count());
}

/// The identities of the binaries that compile: the one holding this code
/// (and, linked statically into it, the lowering), libMLIR and libLLVM.
const std::string &compilerIdentity() {
  static const std::string *identity = [] {
    struct Search {
      uintptr_t self;
      std::string text;
    } search{reinterpret_cast<uintptr_t>(&objectIdentity), {}};
    dl_iterate_phdr(
        [](dl_phdr_info *object, size_t, void *data) -> int {
          auto &search = *static_cast<Search *>(data);
          bool self = false;
          for (int i = 0; i < object->dlpi_phnum; ++i) {
            const ElfW(Phdr) &header = object->dlpi_phdr[i];
            uintptr_t start = object->dlpi_addr + header.p_vaddr;
            if (header.p_type == PT_LOAD && search.self >= start &&
                search.self < start + header.p_memsz)
              self = true;
          }
          llvm::StringRef file =
              llvm::sys::path::filename(object->dlpi_name ? object->dlpi_name : "");
          if (self || file.starts_with("libMLIR") || file.starts_with("libLLVM"))
            search.text += (self ? std::string("self") : file.str()) + ": " +
                           objectIdentity(*object) + "\n";
          return 0;
        },
        &search);
    return new std::string(std::move(search.text));
  }();
  return *identity;
}

CacheKey cacheKey(ModuleOp module, const JitOptions &options,
                  const HostTarget &host) {
  llvm::BLAKE3 hasher;
  hashField(hasher, "bism object cache " + std::to_string(kCacheFormatVersion));
  hashField(hasher, LLVM_VERSION_STRING);
  hashField(hasher, compilerIdentity());
  hashField(hasher, host.description);
  hashField(hasher, "blasMinFlops " + std::to_string(options.blasMinFlops));
  hashField(hasher, "parallelMinPoints " +
                        std::to_string(options.parallelMinPoints));
  hashField(hasher,
            "optLevel " + std::to_string(std::min(options.optLevel, 3u)));
  if (options.device != "cpu")
    hashField(hasher, "device " + options.device + " " + options.cudaChip);
  // Every flag set, so that command-line printing options (elision of large
  // constants, debug info) cannot change what is hashed.
  OpPrintingFlags flags;
  flags.printGenericOpForm()
      .assumeVerified()
      .enableDebugInfo(false)
      .elideLargeElementsAttrs(std::numeric_limits<int64_t>::max())
      .elideLargeResourceString(std::numeric_limits<int64_t>::max())
      .printLargeElementsAttrWithHex(100)
      .useLocalScope(false)
      .printValueUsers(false)
      .printUniqueSSAIDs(false)
      .printNameLocAsPrefix(false)
      .skipRegions(false);
  {
    HashingStream os(hasher);
    module->print(os, flags);
  }
  return hasher.final<32>();
}

/// Notes on the cache go to stderr, one line each; a note about writing
/// only once per process.
void printCacheNote(const std::string &note) {
  llvm::errs() << "bism: JIT cache: " << note << "\n";
}

/// Reads the entry at `path`; returns its payload, or nothing with `note`
/// saying why (empty when there is simply no entry).
std::optional<std::string> readCacheEntry(const std::string &path,
                                          const CacheKey &key,
                                          std::string &note) {
  auto file = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                          /*RequiresNullTerminator=*/false,
                                          /*IsVolatile=*/true);
  if (!file) {
    if (file.getError() != std::errc::no_such_file_or_directory &&
        file.getError() != std::errc::not_a_directory)
      note = "unreadable (" + file.getError().message() + ")";
    return std::nullopt;
  }
  llvm::StringRef data = (*file)->getBuffer();
  if (data.size() < kEntryHeaderSize) {
    note = "truncated (" + std::to_string(data.size()) + " bytes)";
    return std::nullopt;
  }
  const uint8_t *bytes = reinterpret_cast<const uint8_t *>(data.data());
  if (std::memcmp(bytes, kEntryMagic, sizeof(kEntryMagic)) != 0) {
    note = "not a bism cache entry (bad magic)";
    return std::nullopt;
  }
  uint32_t version = llvm::support::endian::read32le(bytes + 8);
  if (version != kCacheFormatVersion) {
    note = "format version " + std::to_string(version) + ", expected " +
           std::to_string(kCacheFormatVersion);
    return std::nullopt;
  }
  if (std::memcmp(bytes + 16, key.data(), key.size()) != 0) {
    note = "written for another key";
    return std::nullopt;
  }
  uint64_t size = llvm::support::endian::read64le(bytes + 48);
  if (data.size() - kEntryHeaderSize != size) {
    note = "truncated or padded (" +
           std::to_string(data.size() - kEntryHeaderSize) +
           " payload bytes, the header says " + std::to_string(size) + ")";
    return std::nullopt;
  }
  llvm::StringRef payload = data.drop_front(kEntryHeaderSize);
  CacheKey checksum = llvm::BLAKE3::hash<32>(llvm::arrayRefFromStringRef(payload));
  if (std::memcmp(bytes + 56, checksum.data(), checksum.size()) != 0) {
    note = "checksum mismatch (corrupted)";
    return std::nullopt;
  }
  return payload.str();
}

/// Deletes the entries unused for kCacheMaxAge, then the least recently used
/// ones while the directory holds more than kCacheMaxBytes of them (never
/// `keep`), and temporary files older than a day (left by killed writers).
void pruneCache(const std::string &dir, const std::string &keep) {
  struct Entry {
    std::string path;
    uint64_t size;
    llvm::sys::TimePoint<> time;
  };
  std::vector<Entry> entries;
  uint64_t total = 0;
  auto now = std::chrono::system_clock::now();
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec)) {
    llvm::StringRef name = llvm::sys::path::filename(it->path());
    llvm::sys::fs::file_status status;
    if (llvm::sys::fs::status(it->path(), status) ||
        status.type() != llvm::sys::fs::file_type::regular_file)
      continue;
    if (name.contains(".tmp-")) {
      if (now - status.getLastModificationTime() > std::chrono::hours(24))
        llvm::sys::fs::remove(it->path());
      continue;
    }
    if (!name.ends_with(kEntrySuffix))
      continue;
    if (now - status.getLastModificationTime() > kCacheMaxAge &&
        it->path() != keep) {
      llvm::sys::fs::remove(it->path());
      continue;
    }
    entries.push_back({it->path(), status.getSize(),
                       status.getLastModificationTime()});
    total += status.getSize();
  }
  if (total <= kCacheMaxBytes)
    return;
  std::sort(entries.begin(), entries.end(),
            [](const Entry &a, const Entry &b) { return a.time < b.time; });
  for (const Entry &entry : entries) {
    if (total <= kCacheMaxBytes)
      break;
    if (entry.path == keep)
      continue;
    if (!llvm::sys::fs::remove(entry.path))
      total -= entry.size;
  }
}

/// Writes the entry atomically (temporary file, then rename); returns why it
/// failed, or "".
std::string writeCacheEntry(const std::string &dir, const std::string &path,
                            const CacheKey &key, llvm::StringRef object) {
  if (std::error_code ec = llvm::sys::fs::create_directories(dir))
    return "cannot create '" + dir + "': " + ec.message();
  uint8_t header[kEntryHeaderSize] = {};
  std::memcpy(header, kEntryMagic, sizeof(kEntryMagic));
  llvm::support::endian::write32le(header + 8, kCacheFormatVersion);
  std::memcpy(header + 16, key.data(), key.size());
  llvm::support::endian::write64le(header + 48, object.size());
  CacheKey checksum = llvm::BLAKE3::hash<32>(llvm::arrayRefFromStringRef(object));
  std::memcpy(header + 56, checksum.data(), checksum.size());

  int fd;
  llvm::SmallString<256> temporary;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueFile(path + ".tmp-%%%%%%%%", fd, temporary))
    return "cannot create a file in '" + dir + "': " + ec.message();
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os.write(reinterpret_cast<const char *>(header), sizeof(header));
    os << object;
    os.close();
    if (os.has_error()) {
      std::string message = os.error().message();
      os.clear_error();
      llvm::sys::fs::remove(temporary);
      return "cannot write '" + temporary.str().str() + "': " + message;
    }
  }
  if (std::error_code ec = llvm::sys::fs::rename(temporary, path)) {
    llvm::sys::fs::remove(temporary);
    return "cannot rename to '" + path + "': " + ec.message();
  }
  pruneCache(dir, path);
  return "";
}

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
  // Parallel kernels become OpenMP runtime calls (libomp, the pool the
  // runtime's BLAS calls use too).
  registerOpenMPDialectTranslation(registry);
}

std::string defaultCacheDirectory() {
  auto env = [](const char *name) -> std::string {
    const char *value = std::getenv(name);
    return value ? value : "";
  };
  std::string disabled = env("BISM_NO_CACHE");
  if (!disabled.empty() && disabled != "0")
    return "";
  if (std::string dir = env("BISM_CACHE_DIR"); !dir.empty())
    return dir;
  // The XDG base directory specification ignores relative paths.
  if (std::string dir = env("XDG_CACHE_HOME");
      !dir.empty() && llvm::sys::path::is_absolute(dir))
    return dir + "/bism";
  if (std::string home = env("HOME"); !home.empty())
    return home + "/.cache/bism";
  return "";
}

const char *cacheOutcomeName(CacheOutcome outcome) {
  switch (outcome) {
  case CacheOutcome::Disabled:
    return "no cache";
  case CacheOutcome::Miss:
    return "cache miss";
  case CacheOutcome::Hit:
    return "cache hit";
  case CacheOutcome::Rejected:
    return "cache entry rejected";
  }
  return "?";
}

namespace {
/// With BISM_PERF_MAP=1, appends "address size name" for every function the
/// JIT links to /tmp/perf-<pid>.map, the file `perf report` reads to name
/// JIT-compiled code: kernels show as `<function>.k<n>` in profiles.
class PerfMapPlugin : public llvm::orc::ObjectLinkingLayer::Plugin {
public:
  static bool enabled() {
    const char *value = std::getenv("BISM_PERF_MAP");
    return value && *value && std::strcmp(value, "0") != 0;
  }

  void modifyPassConfig(llvm::orc::MaterializationResponsibility &,
                        llvm::jitlink::LinkGraph &,
                        llvm::jitlink::PassConfiguration &config) override {
    config.PostFixupPasses.push_back(
        [](llvm::jitlink::LinkGraph &graph) -> llvm::Error {
          static std::mutex mutex;
          std::lock_guard<std::mutex> lock(mutex);
          std::string path =
              "/tmp/perf-" + std::to_string(::getpid()) + ".map";
          std::error_code ec;
          llvm::raw_fd_ostream out(path, ec, llvm::sys::fs::OF_Append);
          if (ec)
            return llvm::Error::success(); // profiling aid only
          // Functions by address. Code the graph names no symbol for (the
          // bodies OpenMP outlines from a kernel, which follow it) is
          // listed under the preceding function's name.
          std::vector<std::pair<uint64_t, llvm::jitlink::Symbol *>> functions;
          for (llvm::jitlink::Symbol *symbol : graph.defined_symbols())
            if (symbol->hasName() && symbol->getSize() > 0 &&
                (symbol->getBlock().getSection().getMemProt() &
                 llvm::orc::MemProt::Exec) != llvm::orc::MemProt::None)
              functions.push_back({symbol->getAddress().getValue(), symbol});
          llvm::sort(functions, llvm::less_first());
          for (size_t i = 0; i < functions.size(); ++i) {
            auto [address, symbol] = functions[i];
            uint64_t end = address + symbol->getSize();
            out << llvm::format_hex_no_prefix(address, 1) << " "
                << llvm::format_hex_no_prefix(symbol->getSize(), 1) << " "
                << *symbol->getName() << "\n";
            const llvm::jitlink::Block &block = symbol->getBlock();
            uint64_t limit = i + 1 < functions.size()
                                 ? functions[i + 1].first
                                 : block.getAddress().getValue() +
                                       block.getSize();
            if (limit > end && &functions[std::min(i + 1, functions.size() - 1)]
                                       .second->getBlock()
                                       .getSection() == &block.getSection())
              out << llvm::format_hex_no_prefix(end, 1) << " "
                  << llvm::format_hex_no_prefix(limit - end, 1) << " "
                  << *symbol->getName() << ".outlined\n";
          }
          return llvm::Error::success();
        });
  }
  llvm::Error
  notifyFailed(llvm::orc::MaterializationResponsibility &) override {
    return llvm::Error::success();
  }
  llvm::Error notifyRemovingResources(llvm::orc::JITDylib &,
                                      llvm::orc::ResourceKey) override {
    return llvm::Error::success();
  }
  void notifyTransferringResources(llvm::orc::JITDylib &,
                                   llvm::orc::ResourceKey,
                                   llvm::orc::ResourceKey) override {}
};
} // namespace

JitModule::JitModule() = default;
JitModule::~JitModule() {
  for (std::vector<void *> &buffers : deviceBuffers_)
    for (void *buffer : buffers)
      runtime::cuda::deviceFree(buffer);
  if (!deviceBuffers_.empty())
    (void)runtime::cuda::synchronize();
  if (moduleFini_)
    moduleFini_();
}

llvm::Error JitModule::load(llvm::StringRef object) {
  const HostTarget &host = hostTarget();
  entryPoints_.clear();
  if (moduleFini_)
    moduleFini_();
  moduleFini_ = nullptr;
  jit_.reset();
  auto jit = llvm::orc::LLJITBuilder()
                 .setJITTargetMachineBuilder(*host.builder)
                 .setDataLayout(*host.dataLayout)
                 // No initialisers to run (compileToObject checks), so no
                 // platform support; process symbols (libm, libc) resolve.
                 .setPlatformSetUp(llvm::orc::setUpInactivePlatform)
                 .create();
  if (!jit)
    return jit.takeError();
  if (PerfMapPlugin::enabled())
    if (auto *linker = llvm::dyn_cast<llvm::orc::ObjectLinkingLayer>(
            &(*jit)->getObjLinkingLayer()))
      linker->addPlugin(std::make_shared<PerfMapPlugin>());
  // Link errors reach the session's reporter, and lookup() then fails with
  // only "Failed to materialize symbols": keep the first off stderr and put
  // it in the lookup error, where it says what went wrong.
  auto linkError = std::make_shared<std::string>();
  (*jit)->getExecutionSession().setErrorReporter(
      [linkError](llvm::Error error) {
        std::string text = llvm::toString(std::move(error));
        if (linkError->empty())
          *linkError = text;
      });
  llvm::orc::JITDylib &main = (*jit)->getMainJITDylib();
  if (llvm::Error error = main.define(llvm::orc::absoluteSymbols(
          runtimeSymbols(llvm::orc::MangleAndInterner(
              (*jit)->getExecutionSession(), (*jit)->getDataLayout())))))
    return error;
  auto objects = unpackObjects(object);
  if (!objects)
    return objects.takeError();
  for (llvm::StringRef part : *objects)
    if (llvm::Error error = (*jit)->addObjectFile(
            llvm::MemoryBuffer::getMemBufferCopy(part, "bism-jit-object")))
      return error;
  for (const FunctionSignature &signature : functions_) {
    auto entry = (*jit)->lookup("_mlir__mlir_ciface_" + signature.name);
    if (!entry) {
      std::string lookupError = llvm::toString(entry.takeError());
      return makeError("JIT: no entry point for '" + signature.name + "': " +
                       (linkError->empty() ? lookupError : *linkError));
    }
    entryPoints_.push_back(entry->toPtr<void (*)(void **)>());
  }
  for (FunctionSignature &signature : functions_) {
    auto bytes = (*jit)->lookup(signature.name + kArenaBytesSuffix.str());
    if (bytes)
      signature.arenaBytes = *bytes->toPtr<const int64_t *>();
    else
      llvm::consumeError(bytes.takeError());
  }
  // The module's initialisers (exposeInitialisers), if it has any.
  if (auto init = (*jit)->lookup(kModuleInit))
    init->toPtr<void (*)()>()();
  else
    llvm::consumeError(init.takeError());
  if (auto fini = (*jit)->lookup(kModuleFini))
    moduleFini_ = fini->toPtr<void (*)()>();
  else
    llvm::consumeError(fini.takeError());
  if (device_ == "cuda")
    if (std::string error = runtime::cuda::takeError(); !error.empty())
      return makeError("JIT: loading the GPU modules failed: " + error);
  jit_ = std::move(*jit);
  return llvm::Error::success();
}

llvm::Expected<std::unique_ptr<JitModule>>
JitModule::compile(ModuleOp module, const JitOptions &requested) {
  initializeNativeTargetOnce();
  JitOptions options = requested;
  if (options.device != "cpu" && options.device != "cuda")
    return makeError("unknown device '" + options.device +
                     "' (expected cpu or cuda)");
  if (options.device == "cuda") {
    // Said before compiling anything: there is nothing to run it on.
    if (std::string reason = runtime::cuda::unavailableReason();
        !reason.empty())
      return makeError(reason);
    if (std::string reason = runtime::cuda::cublasUnavailableReason();
        !reason.empty())
      return makeError(reason);
    if (options.cudaChip.empty()) {
      int major = 0, minor = 0;
      if (std::string reason = runtime::cuda::computeCapability(major, minor);
          !reason.empty())
        return makeError(reason);
      options.cudaChip =
          "sm_" + std::to_string(major) + std::to_string(minor);
    }
    runtime::cuda::setAllowTf32(options.allowTf32);
  }
  if (llvm::Error error = checkStaticSizes(module))
    return std::move(error);
  MLIRContext *context = module.getContext();
  // The pipeline needs the bufferisation and LLVM-conversion interfaces of
  // every dialect involved, whatever the caller registered.
  context->appendDialectRegistry(executionRegistry());

  auto signatures = collectSignatures(module);
  if (!signatures)
    return signatures.takeError();

  DiagnosticCollector diagnostics(context);
  if (failed(verify(module)))
    return makeError("invalid module:\n" + diagnostics.take());
  const HostTarget &host = hostTarget();
  if (!host.error.empty())
    return makeError("JIT compilation failed: " + host.error);

  std::unique_ptr<JitModule> result(new JitModule());
  result->functions_ = std::move(*signatures);
  result->device_ = options.device;

  std::optional<CacheKey> key;
  if (!options.cacheDir.empty()) {
    key = cacheKey(module, options, host);
    llvm::SmallString<256> path(options.cacheDir);
    llvm::sys::path::append(path, llvm::toHex(*key, /*LowerCase=*/true) +
                                      kEntrySuffix);
    result->cacheEntryPath_ = path.str().str();
    result->cacheOutcome_ = CacheOutcome::Miss;
    std::string note;
    if (std::optional<std::string> object =
            readCacheEntry(result->cacheEntryPath_, *key, note)) {
      if (llvm::Error error = result->load(*object)) {
        note = "cannot be linked (" + llvm::toString(std::move(error)) + ")";
      } else {
        result->cacheOutcome_ = CacheOutcome::Hit;
        // Refresh its time for pruneCache's least-recently-used order.
        ::utimensat(AT_FDCWD, result->cacheEntryPath_.c_str(), nullptr, 0);
        return result;
      }
    }
    if (!note.empty()) {
      result->cacheOutcome_ = CacheOutcome::Rejected;
      result->cacheNote_ = "ignoring " + result->cacheEntryPath_ + ": " + note;
      printCacheNote(result->cacheNote_ + "; recompiling");
    }
  }

  auto object = compileToObject(module, options, result->functions_, host,
                                diagnostics);
  if (!object)
    return object.takeError();
  llvm::StringRef bytes(*object);
  if (llvm::Error error = result->load(bytes)) {
    std::string message = llvm::toString(std::move(error));
    if (llvm::StringRef(message).starts_with("JIT: "))
      return makeError(message);
    return makeError("JIT compilation failed: " + message);
  }
  // Only an object that linked is saved.
  if (key) {
    std::string failure =
        writeCacheEntry(options.cacheDir, result->cacheEntryPath_, *key, bytes);
    if (!failure.empty()) {
      result->cacheNote_ +=
          (result->cacheNote_.empty() ? "" : "; ") + failure;
      static std::atomic<bool> noted{false};
      if (!noted.exchange(true))
        printCacheNote("not saving compiled objects: " + failure);
    }
  }
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

  if (device_ == "cuda")
    return invokeOnDevice(index, inputs, outputs);
  size_t count = inputs.size() + outputs.size();
  // Kept from call to call: a training step has dozens of arguments, and
  // the step allocates nothing once it runs (compiled code never calls
  // back into invoke, so one set per thread suffices).
  static thread_local std::vector<Descriptor> descriptors;
  static thread_local std::vector<void *> args;
  descriptors.resize(count);
  args.resize(count);
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

llvm::Error JitModule::invokeOnDevice(size_t index,
                                      llvm::ArrayRef<const HostTensor *> inputs,
                                      llvm::ArrayRef<HostTensor *> outputs) {
  namespace cuda = runtime::cuda;
  const std::string &name = functions_[index].name;
  // The function's device buffers, made on its first call.
  deviceBuffers_.resize(functions_.size());
  std::vector<void *> &buffers = deviceBuffers_[index];
  size_t count = inputs.size() + outputs.size();
  if (buffers.empty()) {
    for (size_t i = 0; i < count; ++i) {
      const HostTensor &tensor =
          i < inputs.size() ? *inputs[i] : *outputs[i - inputs.size()];
      // (At least one byte: a null buffer would be an error.)
      buffers.push_back(cuda::deviceAlloc(std::max<size_t>(1, tensor.byteSize())));
    }
    if (std::string error = cuda::synchronize(); !error.empty()) {
      for (void *buffer : buffers)
        cuda::deviceFree(buffer);
      buffers.clear();
      return makeError(name + ": CUDA: " + error);
    }
  }
  static thread_local std::vector<Descriptor> descriptors;
  static thread_local std::vector<void *> args;
  descriptors.resize(count);
  args.resize(count);
  for (size_t i = 0; i < inputs.size(); ++i) {
    cuda::copyToDevice(buffers[i], inputs[i]->data(), inputs[i]->byteSize());
    descriptors[i].fill(buffers[i], inputs[i]->shape());
  }
  for (size_t i = 0; i < outputs.size(); ++i)
    descriptors[inputs.size() + i].fill(buffers[inputs.size() + i],
                                        outputs[i]->shape());
  for (size_t i = 0; i < count; ++i) {
    descriptors[i].address = descriptors[i].words;
    args[i] = &descriptors[i].address;
  }
  entryPoints_[index](args.data());
  for (size_t i = 0; i < outputs.size(); ++i)
    cuda::copyToHost(outputs[i]->data(), buffers[inputs.size() + i],
                     outputs[i]->byteSize());
  if (std::string error = cuda::synchronize(); !error.empty())
    return makeError(name + ": CUDA: " + error);
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
