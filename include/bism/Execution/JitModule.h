//===- JitModule.h - compile a bism module and call its functions -*- C++ -*-===//
#ifndef BISM_EXECUTION_JITMODULE_H
#define BISM_EXECUTION_JITMODULE_H

#include "bism/runtime/HostTensor.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>
#include <vector>

namespace llvm::orc {
class LLJIT;
}

namespace bism {

struct TensorSignature {
  runtime::ElementType elementType;
  std::vector<int64_t> shape;
  /// "2x3xf32"
  std::string str() const;
};

struct FunctionSignature {
  std::string name;
  std::vector<TensorSignature> inputs;
  std::vector<TensorSignature> outputs;
  /// Bytes of the planned arena of the function's temporaries (what a call
  /// needs besides its inputs and outputs); -1 where nothing was planned.
  int64_t arenaBytes = -1;
};

/// The default directory of the on-disk cache of compiled objects:
/// $BISM_CACHE_DIR, else $XDG_CACHE_HOME/bism, else $HOME/.cache/bism; empty
/// (no cache) when none of them is set or when BISM_NO_CACHE is set to
/// anything but "" or "0".
std::string defaultCacheDirectory();

struct JitOptions {
  /// Smallest M*N*K sent to BLAS (see CpuPipelineOptions); -1 disables BLAS.
  int64_t blasMinFlops = 32768;
  /// Smallest kernel iteration space run on the thread pool (see
  /// CpuPipelineOptions); -1 keeps every kernel serial.
  int64_t parallelMinPoints = 16384;
  /// LLVM optimisation level 0-3.
  unsigned optLevel = 2;
  /// Where the functions run: "cpu", or "cuda" (GPU kernels and cuBLAS on
  /// the CUDA executor, runtime/include/bism/runtime/CudaExecutor.h; invoke
  /// copies inputs into device buffers the module keeps and results back).
  std::string device = "cpu";
  /// CUDA: the GPU architecture to compile for ("sm_90"); empty: the
  /// executor's device.
  std::string cudaChip;
  /// CUDA: let cuBLAS use TF32 tensor cores for f32 products (faster,
  /// about 1e-3 relative error; off: f32 results match the CPU's).
  bool allowTf32 = false;
  /// Where compiled objects are cached, keyed by a hash of the module, these
  /// options, the host CPU and the compiler build (JitModule.cpp, "The
  /// object cache"); empty disables the cache.
  std::string cacheDir = defaultCacheDirectory();
};

/// What JitModule::compile did with the object cache.
enum class CacheOutcome {
  /// No cache directory.
  Disabled,
  /// No entry: compiled, and the entry written.
  Miss,
  /// A valid entry: loaded without lowering or code generation.
  Hit,
  /// An entry that was unreadable, corrupt or for another key: ignored,
  /// compiled, and the entry rewritten (cacheNote() says why).
  Rejected,
};

/// "no cache", "cache miss", "cache hit" or "cache entry rejected".
const char *cacheOutcomeName(CacheOutcome outcome);

/// Every dialect a bism module at model, step or lowered level may contain.
void registerExecutionDialects(mlir::DialectRegistry &registry);

/// A module compiled for the CPU or a CUDA GPU (JitOptions::device). Public
/// func.func ops taking and returning
/// ranked static tensors become callable; results are written into
/// caller-owned buffers (so steady-state calls allocate nothing).
class JitModule {
public:
  ~JitModule();

  /// Compiles a copy of `module` (bism or any tensor-level IR): records the
  /// public function signatures, runs the `bism-lower-cpu` pipeline, compiles
  /// the result to a native object for the host CPU and links that into an
  /// ORC JIT. With `options.cacheDir`, a valid cache entry for the same
  /// module and options is linked instead (no lowering, no code generation);
  /// a missing or invalid one is (re)written after compiling.
  static llvm::Expected<std::unique_ptr<JitModule>>
  compile(mlir::ModuleOp module, const JitOptions &options = {});

  /// Parses MLIR text (diagnostics go into the returned error) and compiles.
  static llvm::Expected<std::unique_ptr<JitModule>>
  compileSource(llvm::StringRef source, const JitOptions &options = {});

  /// Whether the object came from the cache, and the entry's path (empty
  /// when the cache is disabled); cacheNote() is why an entry was rejected
  /// or could not be written (empty if neither).
  CacheOutcome cacheOutcome() const { return cacheOutcome_; }
  bool cacheHit() const { return cacheOutcome_ == CacheOutcome::Hit; }
  const std::string &cacheEntryPath() const { return cacheEntryPath_; }
  const std::string &cacheNote() const { return cacheNote_; }

  const FunctionSignature *lookup(llvm::StringRef name) const;
  const std::vector<FunctionSignature> &functions() const { return functions_; }
  const std::string &device() const { return device_; }

  /// Calls `name`; checks that inputs and outputs match its signature
  /// (element type and shape) and writes the results into `outputs`. Outputs
  /// must not share storage with inputs.
  llvm::Error invoke(llvm::StringRef name,
                     llvm::ArrayRef<const runtime::HostTensor *> inputs,
                     llvm::ArrayRef<runtime::HostTensor *> outputs);

  /// Allocates the outputs and calls `name`.
  llvm::Expected<std::vector<runtime::HostTensor>>
  call(llvm::StringRef name, llvm::ArrayRef<runtime::HostTensor> inputs);

private:
  JitModule();
  /// invoke() on the CUDA device: inputs into the function's device
  /// buffers, the call, results back, one synchronisation.
  llvm::Error invokeOnDevice(size_t index,
                             llvm::ArrayRef<const runtime::HostTensor *> inputs,
                             llvm::ArrayRef<runtime::HostTensor *> outputs);
  /// Links `objects` (relocatable objects for the host, as compileToObject
  /// packs them) into a fresh JIT and looks up the entry points of
  /// `functions_`.
  llvm::Error load(llvm::StringRef objects);

  std::vector<FunctionSignature> functions_;
  /// Packed entry point (`_mlir__mlir_ciface_<name>`) of each function, in
  /// the order of `functions_`; looked up once at compile time.
  std::vector<void (*)(void **)> entryPoints_;
  /// "cpu" or "cuda".
  std::string device_ = "cpu";
  /// CUDA: per function, the device buffers of its inputs then outputs
  /// (allocated on the first call, kept: a step allocates nothing after).
  std::vector<std::vector<void *>> deviceBuffers_;
  /// Runs the module's global destructors (the CUDA modules' unloads);
  /// null when it has none.
  void (*moduleFini_)() = nullptr;
  std::unique_ptr<llvm::orc::LLJIT> jit_;
  CacheOutcome cacheOutcome_ = CacheOutcome::Disabled;
  std::string cacheEntryPath_, cacheNote_;
};

} // namespace bism

#endif // BISM_EXECUTION_JITMODULE_H
