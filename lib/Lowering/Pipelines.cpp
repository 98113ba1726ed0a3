//===- Pipelines.cpp - the CPU lowering pipeline --------------------------===//
#include "bism/Lowering/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace bism {

#define GEN_PASS_DEF_BISMMARKENTRYPOINTS
#include "bism/Lowering/Passes.h.inc"

namespace {
struct MarkEntryPoints : impl::BismMarkEntryPointsBase<MarkEntryPoints> {
  void runOnOperation() override {
    getOperation().walk([](func::FuncOp func) {
      if (func.isPublic() && !func.isExternal())
        func->setAttr("llvm.emit_c_interface", UnitAttr::get(func.getContext()));
    });
  }
};
} // namespace

void buildLowerToCpuPipeline(OpPassManager &pm,
                             const CpuPipelineOptions &options) {
  pm.addPass(createBismLowerToLinalg());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createBismMarkEntryPoints());

  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  // Results become caller-owned out-parameters: the runtime allocates (and
  // reuses) every buffer that crosses the boundary.
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.hoistStaticAllocs = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  if (options.blasMinFlops >= 0) {
    BismMatmulToBlasOptions blas;
    blas.minFlops = options.blasMinFlops;
    pm.addPass(createBismMatmulToBlas(blas));
  }
  bufferization::BufferDeallocationPipelineOptions deallocation;
  bufferization::buildBufferDeallocationPipeline(pm, deallocation);

  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createConvertToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
}

void registerBismPassesAndPipelines() {
  registerBismPasses();
  PassPipelineRegistration<CpuPipelineOptions>(
      "bism-lower-cpu",
      "Lower bism to the LLVM dialect for CPU execution (BLAS for large "
      "matmuls)",
      buildLowerToCpuPipeline);
}

} // namespace bism
