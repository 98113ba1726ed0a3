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

namespace mlir {
class ExecutionEngine;
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
};

struct JitOptions {
  /// Smallest M*N*K sent to BLAS (see CpuPipelineOptions); -1 disables BLAS.
  int64_t blasMinFlops = 32768;
  /// LLVM optimisation level 0-3.
  unsigned optLevel = 2;
};

/// Every dialect a bism module at model, step or lowered level may contain.
void registerExecutionDialects(mlir::DialectRegistry &registry);

/// A module compiled for the CPU. Public func.func ops taking and returning
/// ranked static tensors become callable; results are written into
/// caller-owned buffers (so steady-state calls allocate nothing).
class JitModule {
public:
  ~JitModule();

  /// Compiles a copy of `module` (bism or any tensor-level IR): records the
  /// public function signatures, runs the `bism-lower-cpu` pipeline and JITs.
  static llvm::Expected<std::unique_ptr<JitModule>>
  compile(mlir::ModuleOp module, const JitOptions &options = {});

  /// Parses MLIR text (diagnostics go into the returned error) and compiles.
  static llvm::Expected<std::unique_ptr<JitModule>>
  compileSource(llvm::StringRef source, const JitOptions &options = {});

  const FunctionSignature *lookup(llvm::StringRef name) const;
  const std::vector<FunctionSignature> &functions() const { return functions_; }

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
  std::vector<FunctionSignature> functions_;
  /// Packed entry point (`_mlir__mlir_ciface_<name>`) of each function, in
  /// the order of `functions_`; looked up once at compile time.
  std::vector<void (*)(void **)> entryPoints_;
  std::unique_ptr<mlir::ExecutionEngine> engine_;
};

} // namespace bism

#endif // BISM_EXECUTION_JITMODULE_H
