//===- Pipelines.cpp - the CPU lowering pipeline --------------------------===//
#include "bism/Lowering/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Utils/MemRefUtils.h"
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

/// memref.copy from or into a non-contiguous buffer (what insert_slice and
/// strided extract_slice bufferise to) becomes linalg.copy, hence loops: the
/// LLVM lowering would otherwise call `memrefCopy` from
/// libmlir_c_runner_utils, which the JIT does not load.
struct StridedCopiesToLinalg
    : PassWrapper<StridedCopiesToLinalg, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(StridedCopiesToLinalg)
  StringRef getArgument() const override {
    return "bism-strided-copies-to-linalg";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<linalg::LinalgDialect>();
  }
  void runOnOperation() override {
    auto contiguous = [](Value value) {
      auto type = dyn_cast<MemRefType>(value.getType());
      return !type || memref::isStaticShapeAndContiguousRowMajor(type);
    };
    getOperation().walk([&](memref::CopyOp copy) {
      if (contiguous(copy.getSource()) && contiguous(copy.getTarget()))
        return;
      OpBuilder builder(copy);
      linalg::CopyOp::create(builder, copy.getLoc(), copy.getSource(),
                             copy.getTarget());
      copy.erase();
    });
  }
};
} // namespace

void buildLowerToCpuPipeline(OpPassManager &pm,
                             const CpuPipelineOptions &options) {
  pm.addPass(createBismAutodiff());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createBismLowerToLinalg());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createBismMarkEntryPoints());

  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  // scf.for loops carrying tensors (unrolled steps run as loops) yield new
  // buffers each iteration.
  bufferize.allowReturnAllocsFromLoops = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  // Results become caller-owned out-parameters: the runtime allocates (and
  // reuses) every buffer that crosses the boundary.
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.hoistStaticAllocs = true;
  outParams.modifyPublicFunctions = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  if (options.blasMinFlops >= 0) {
    BismMatmulToBlasOptions blas;
    blas.minFlops = options.blasMinFlops;
    pm.addPass(createBismMatmulToBlas(blas));
  }
  bufferization::BufferDeallocationPipelineOptions deallocation;
  bufferization::buildBufferDeallocationPipeline(pm, deallocation);

  pm.addNestedPass<func::FuncOp>(std::make_unique<StridedCopiesToLinalg>());
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
