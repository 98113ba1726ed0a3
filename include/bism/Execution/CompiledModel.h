//===- CompiledModel.h - a model file, built and compiled -------*- C++ -*-===//
//
// What bism-run works from: a model file read, its spec overridden
// (`--set key=value`), verified, its training step built and everything
// JIT-compiled, exposed through the runtime's calling conventions
// (runtime::TrainProgram, plain HostTensors) so the host loop stays free of
// compiler types.
//
//===----------------------------------------------------------------------===//
#ifndef BISM_EXECUTION_COMPILEDMODEL_H
#define BISM_EXECUTION_COMPILEDMODEL_H

#include "bism/Execution/JitModule.h"
#include "bism/Train/Model.h"
#include "bism/runtime/Trainer.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <memory>
#include <string>
#include <vector>

namespace bism {

struct ModelLoadOptions {
  std::string path;
  /// "key=value" spec overrides, applied in order. Values parse as MLIR
  /// attributes (10, 1e-3, [0.9, 0.99], "dsm") or else as a bare string
  /// (dsm); K, N and L stand for inner_steps, unroll_steps and particles.
  std::vector<std::string> overrides;
  /// Which bism.model when the file has several (empty: the only one).
  std::string modelName;
  JitOptions jit;
  /// Compile the training step (false: only the evaluation functions).
  bool withTrainStep = true;
};

class CompiledModel {
public:
  ~CompiledModel();
  static llvm::Expected<std::unique_ptr<CompiledModel>>
  load(const ModelLoadOptions &options);

  const train::ModelInfo &info() const { return info_; }
  /// The resolved spec as a JSON object (defaults + file + overrides).
  const std::string &configJson() const { return configJson_; }
  /// The visible width D and the batch size B the functions were built for.
  int64_t visibleDims() const;
  int64_t batchSize() const { return info_.batchSize(); }
  runtime::ElementType elementType() const;

  /// train_step with its state layout and metrics ("J" is the loss).
  runtime::TrainProgram trainProgram();
  /// Parameters from their initialisers (Philox, keyed by `seed` and the
  /// parameter's position), moments and counters zero, a PCD chain from the
  /// first `B` rows of `data`.
  std::vector<runtime::HostTensor> initialState(uint64_t seed,
                                                const runtime::HostTensor &data) const;
  /// The state tensors' specs, in train_step order.
  const std::vector<runtime::TensorSpec> &stateSpecs() const { return state_; }

  /// Free energies F(v) of the rows of `points` ([n, D] f64), as f64 [n].
  llvm::Expected<std::vector<double>>
  freeEnergies(const std::vector<runtime::HostTensor> &state,
               const runtime::HostTensor &points);
  bool hasFreeEnergy() const { return !freeEnergy_.name.empty(); }
  /// Exact log Z = logsumexp over h ∈ {0,1}^H of component_log_mass(h).
  bool hasExactLogPartition() const;
  llvm::Expected<double> logPartition(const std::vector<runtime::HostTensor> &state);
  /// Mean exact log-likelihood of the rows of `points`.
  llvm::Expected<double>
  exactLogLikelihood(const std::vector<runtime::HostTensor> &state,
                     const runtime::HostTensor &points);
  /// `sweeps` Gibbs sweeps of the model's `gibbs` function from `start`
  /// ([B, D]); noise from Philox with `seed`.
  bool hasGibbs() const { return !gibbs_.name.empty(); }
  llvm::Expected<runtime::HostTensor>
  gibbsChain(const std::vector<runtime::HostTensor> &state,
             const runtime::HostTensor &start, int64_t sweeps, uint64_t seed);

private:
  CompiledModel();
  /// A model function compiled for calls: its θ arguments, by state index.
  struct Callable {
    std::string name;
    std::vector<size_t> stateIndices;
  };
  llvm::Error resolveCallable(mlir::func::FuncOp func, mlir::ArrayAttr params,
                              Callable &callable);
  std::vector<const runtime::HostTensor *>
  callArguments(const Callable &callable,
                const std::vector<runtime::HostTensor> &state,
                std::vector<const runtime::HostTensor *> leading) const;

  std::unique_ptr<mlir::MLIRContext> context_;
  mlir::OwningOpRef<mlir::ModuleOp> module_;
  train::ModelInfo info_;
  std::string configJson_;
  std::vector<runtime::TensorSpec> state_;
  runtime::TensorSpec batch_;
  std::vector<std::string> metrics_;
  std::string trainStepName_;
  Callable freeEnergy_, componentLogMass_, gibbs_;
  int64_t latentDims_ = 0;
  std::unique_ptr<JitModule> jit_;
};

} // namespace bism

#endif // BISM_EXECUTION_COMPILEDMODEL_H
