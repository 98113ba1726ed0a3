//===- Pipelines.cpp - the CPU lowering pipeline --------------------------===//
#include "bism/Lowering/Passes.h"

#include "bism/Dialect/Bism.h"
#include "bism/Kernels/Kernels.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Utils/MemRefUtils.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace bism {

#define GEN_PASS_DEF_BISMMARKENTRYPOINTS
#define GEN_PASS_DEF_BISMSPLITEMPTYTENSORS
#define GEN_PASS_DEF_BISMDROPOPTIMIZATIONBARRIERS
#define GEN_PASS_DEF_BISMREMATERIALIZEDRAWS
#include "bism/Lowering/Passes.h.inc"

namespace {
/// Whether `value` is a tensor.empty, or a reshape of one: a destination
/// with no contents that can be made again for free.
bool isEmptyChain(Value value) {
  Operation *def = value.getDefiningOp();
  if (isa_and_nonnull<tensor::EmptyOp>(def))
    return true;
  if (isa_and_nonnull<tensor::CollapseShapeOp, tensor::ExpandShapeOp>(def))
    return isEmptyChain(def->getOperand(0));
  return false;
}

/// A copy of `value`'s empty chain, created at the builder's point.
Value cloneEmptyChain(OpBuilder &builder, Value value) {
  Operation *def = value.getDefiningOp();
  if (isa<tensor::EmptyOp>(def))
    return builder.clone(*def)->getResult(0);
  IRMapping mapping;
  mapping.map(def->getOperand(0), cloneEmptyChain(builder, def->getOperand(0)));
  return builder.clone(*def, mapping)->getResult(0);
}

struct SplitEmptyTensors
    : impl::BismSplitEmptyTensorsBase<SplitEmptyTensors> {
  void runOnOperation() override {
    SmallVector<OpOperand *> extraUses;
    getOperation().walk([&](Operation *op) {
      for (Value result : op->getResults()) {
        if (!isa<RankedTensorType>(result.getType()) || !isEmptyChain(result))
          continue;
        // The earliest reader keeps the original; the others get copies.
        // (A reshape in the chain is itself split at its own uses.)
        SmallVector<OpOperand *> uses;
        for (OpOperand &use : result.getUses())
          if (!isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp>(
                  use.getOwner()))
            uses.push_back(&use);
        auto earliest = llvm::min_element(uses, [](OpOperand *a, OpOperand *b) {
          Operation *x = a->getOwner(), *y = b->getOwner();
          return x != y && x->getBlock() == y->getBlock() &&
                 x->isBeforeInBlock(y);
        });
        for (OpOperand *use : uses)
          if (use != *earliest)
            extraUses.push_back(use);
      }
    });
    for (OpOperand *use : extraUses) {
      OpBuilder builder(use->getOwner());
      use->set(cloneEmptyChain(builder, use->get()));
    }
  }
};

struct DropOptimizationBarriers
    : impl::BismDropOptimizationBarriersBase<DropOptimizationBarriers> {
  void runOnOperation() override {
    getOperation().walk([](OptimizationBarrierOp barrier) {
      barrier->replaceAllUsesWith(barrier.getOperands());
      barrier->erase();
    });
  }
};

/// Whether `value` is made from nothing but indices and scalars: a kernel
/// with no tensor inputs (a random draw, an iota) writing into empty
/// destinations, or a reshape or slice of one.
/// `wholeKernel` says whether a kernel op may be copied alone.
bool isRecomputable(Value value,
                    llvm::function_ref<bool(Operation *)> wholeKernel) {
  Operation *def = value.getDefiningOp();
  if (!def)
    return false;
  if (isEmptyChain(value))
    return true;
  if (isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp,
          tensor::ExtractSliceOp>(def))
    return def->getNumOperands() == 1 &&
           isRecomputable(def->getOperand(0), wholeKernel);
  auto generic = dyn_cast<linalg::GenericOp>(def);
  return generic && generic.getNumDpsInputs() == 0 &&
         llvm::all_of(generic.getDpsInits(), isEmptyChain) &&
         wholeKernel(generic);
}

/// A copy of the recomputable `value`'s chain at the builder's point. A
/// kernel's second and later copies get names of their own (`<name>.<n>`;
/// the first keeps the original's, which is erased): the outliner
/// takes the ops sharing a name for one kernel and calls it where the last
/// of them was.
Value cloneRecomputable(OpBuilder &builder, Value value,
                        llvm::StringMap<int64_t> &copies) {
  Operation *def = value.getDefiningOp();
  IRMapping mapping;
  for (Value operand : def->getOperands())
    if (isa<RankedTensorType>(operand.getType()))
      mapping.map(operand, cloneRecomputable(builder, operand, copies));
  Operation *copy = builder.clone(*def, mapping);
  if (auto name = copy->getAttrOfType<StringAttr>(kKernelNameAttr))
    if (int64_t index = copies[name.getValue()]++; index > 0)
      copy->setAttr(kKernelNameAttr,
                    builder.getStringAttr(name.getValue() + "." + Twine(index)));
  return copy->getResult(cast<OpResult>(value).getResultNumber());
}

struct RematerializeDraws
    : impl::BismRematerializeDrawsBase<RematerializeDraws> {
  void runOnOperation() override {
    // A kernel of several ops is left alone: only whole kernels are copied.
    llvm::StringMap<int64_t> opsOfKernel, copies;
    getOperation().walk([&](Operation *op) {
      if (auto name = op->getAttrOfType<StringAttr>(kKernelNameAttr))
        ++opsOfKernel[name.getValue()];
    });
    auto wholeKernel = [&](Operation *op) {
      auto name = op->getAttrOfType<StringAttr>(kKernelNameAttr);
      return !name || opsOfKernel.lookup(name.getValue()) == 1;
    };
    SmallVector<OpOperand *> uses;
    SetVector<Operation *> originals;
    getOperation().walk([&](Operation *op) {
      if (isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp,
              tensor::ExtractSliceOp, tensor::EmptyOp>(op))
        return;
      for (OpOperand &operand : op->getOpOperands()) {
        Value value = operand.get();
        if (!isa<RankedTensorType>(value.getType()) || isEmptyChain(value) ||
            !isRecomputable(value, wholeKernel))
          continue;
        // Only within one block: the copy goes before the user's ancestor
        // there.
        if (!value.getParentBlock()->findAncestorOpInBlock(*op))
          continue;
        uses.push_back(&operand);
        originals.insert(value.getDefiningOp());
      }
    });
    for (OpOperand *use : uses) {
      Block *block = use->get().getParentBlock();
      OpBuilder builder(block->findAncestorOpInBlock(*use->getOwner()));
      use->set(cloneRecomputable(builder, use->get(), copies));
    }
    // The originals, now unused, and what only they used.
    // (A set: an op reached twice must not be erased twice.)
    SetVector<Operation *> worklist(originals.begin(), originals.end());
    while (!worklist.empty()) {
      Operation *op = worklist.pop_back_val();
      if (!op->use_empty())
        continue;
      SmallVector<Operation *> producers;
      for (Value operand : op->getOperands())
        if (Operation *def = operand.getDefiningOp())
          if (isa<RankedTensorType>(operand.getType()))
            producers.push_back(def);
      op->erase();
      for (Operation *producer : producers)
        worklist.insert(producer);
    }
  }
};

struct MarkEntryPoints : impl::BismMarkEntryPointsBase<MarkEntryPoints> {
  void runOnOperation() override {
    getOperation().walk([](func::FuncOp func) {
      if (!func.isPublic() || func.isExternal())
        return;
      func->setAttr("llvm.emit_c_interface", UnitAttr::get(func.getContext()));
      // Each result becomes its own out-parameter: a value returned twice
      // (CSE merges equal metrics) is copied for the second.
      func.walk([](func::ReturnOp ret) {
        llvm::SmallPtrSet<Value, 8> seen;
        OpBuilder builder(ret);
        for (OpOperand &operand : ret->getOpOperands()) {
          auto type = dyn_cast<RankedTensorType>(operand.get().getType());
          if (!type || seen.insert(operand.get()).second)
            continue;
          Value empty = tensor::EmptyOp::create(builder, ret.getLoc(),
                                                type.getShape(),
                                                type.getElementType());
          operand.set(linalg::CopyOp::create(builder, ret.getLoc(),
                                             operand.get(), empty)
                          .getResult(0));
        }
      });
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
/// `llvm.noalias` on the kernel arguments `--bism-outline-kernels` found
/// unshared, so that LLVM vectorises kernel loops without runtime alias
/// checks (which it gives up on past a few pointers); the kernel and
/// exact-math attributes have done their work by then.
struct ApplyKernelNoalias
    : PassWrapper<ApplyKernelNoalias, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(ApplyKernelNoalias)
  StringRef getArgument() const override { return "bism-apply-kernel-noalias"; }
  void runOnOperation() override {
    getOperation().walk([](Operation *op) { op->removeAttr(kExactMathAttr); });
    getOperation().walk([](LLVM::LLVMFuncOp func) {
      func->removeAttr(kKernelKindAttr);
      auto positions =
          func->getAttrOfType<DenseI64ArrayAttr>(kNoaliasArgsAttr);
      if (!positions)
        return;
      for (int64_t position : positions.asArrayRef())
        if (position < int64_t(func.getNumArguments()))
          func.setArgAttr(unsigned(position),
                          LLVM::LLVMDialect::getNoAliasAttrName(),
                          UnitAttr::get(func.getContext()));
      func->removeAttr(kNoaliasArgsAttr);
    });
  }
};
/// Inner loops of at most kMaxUnrolledTrips iterations in kernel functions
/// are unrolled (and their copies' common work merged by CSE), so that the
/// loop around them is the innermost one, which LLVM vectorises: a packed
/// draw computes one Philox counter per outer iteration for its 2 or 4
/// elements, and a 100x4 kernel that reads a row broadcast runs 4 elements
/// per row.
struct UnrollSmallInnerLoops
    : PassWrapper<UnrollSmallInnerLoops, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(UnrollSmallInnerLoops)
  static constexpr int64_t kMaxUnrolledTrips = 4;
  StringRef getArgument() const override { return "bism-unroll-small-inner-loops"; }
  void runOnOperation() override {
    SmallVector<scf::ForOp> loops;
    getOperation().walk([&](func::FuncOp func) {
      if (!func->hasAttr(kKernelKindAttr))
        return;
      func.walk([&](scf::ForOp loop) {
        std::optional<APInt> tripCount = loop.getStaticTripCount();
        std::optional<int64_t> trips;
        if (tripCount)
          trips = tripCount->getSExtValue();
        bool innermost = !loop.getBody()
                              ->walk([](LoopLikeOpInterface) {
                                return WalkResult::interrupt();
                              })
                              .wasInterrupted();
        if (trips && *trips > 1 && *trips <= kMaxUnrolledTrips && innermost &&
            loop->getParentOfType<LoopLikeOpInterface>())
          loops.push_back(loop);
      });
    });
    for (scf::ForOp loop : loops)
      (void)loopUnrollFull(loop);
  }
};
} // namespace

void buildKernelPipeline(OpPassManager &pm, bool formKernels) {
  pm.addPass(createBismAutodiff());
  // One body per public function: the K plain steps, the unrolled steps and
  // the objective then share what they compute alike (CSE: the GRBM's
  // visible field once per step), and kernels fuse across what were calls.
  pm.addPass(createInlinerPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createBismLowerToLinalg());
  pm.addPass(createCanonicalizerPass());
  if (formKernels) {
    pm.addPass(createBismFormKernels());
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
  }
}

void buildBufferizationPipeline(OpPassManager &pm) {
  pm.addPass(createBismDropOptimizationBarriers());
  pm.addPass(createBismRematerializeDraws());
  pm.addPass(createBismMarkEntryPoints());
  pm.addPass(createBismSplitEmptyTensors());
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
}

void buildLowerToCpuPipeline(OpPassManager &pm,
                             const CpuPipelineOptions &options) {
  buildKernelPipeline(pm, options.formKernels);
  pm.addPass(createBismLowerCollectives());
  buildBufferizationPipeline(pm);
  if (options.blasMinFlops >= 0) {
    BismMatmulToBlasOptions blas;
    blas.minFlops = options.blasMinFlops;
    pm.addPass(createBismMatmulToBlas(blas));
  }
  if (options.formKernels)
    pm.addPass(createBismOutlineKernels());
  bufferization::BufferDeallocationPipelineOptions deallocation;
  bufferization::buildBufferDeallocationPipeline(pm, deallocation);

  if (options.planBuffers)
    pm.addPass(createBismPlanBuffers());
  bool parallel = options.formKernels && options.parallelMinPoints >= 0;
  if (parallel) {
    BismParallelizeKernelsOptions parallelize;
    parallelize.minPoints = options.parallelMinPoints;
    pm.addPass(createBismParallelizeKernels(parallelize));
  }

  pm.addNestedPass<func::FuncOp>(std::make_unique<StridedCopiesToLinalg>());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  if (options.formKernels) {
    pm.addPass(std::make_unique<UnrollSmallInnerLoops>());
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
  }
  if (parallel) {
    // One pool for kernels and BLAS: OpenMP's, which runtime/src/Blas.cpp
    // also uses.
    pm.addPass(createBismParallelToOpenMP());
  }
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  if (options.approximateMath)
    pm.addPass(createBismApproximateMath());
  // Intrinsics first (fma, sqrt, floor, fabs vectorise), libm for the rest;
  // log1p stays exact (the LLVM lowering's log(1 + x) loses small x).
  ConvertMathToLLVMPassOptions mathToLLVM;
  mathToLLVM.approximateLog1p = false;
  pm.addPass(createConvertMathToLLVMPass(mathToLLVM));
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createConvertToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(std::make_unique<ApplyKernelNoalias>());
  pm.addPass(createCanonicalizerPass());
}

void registerBismPassesAndPipelines() {
  registerBismPasses();
  PassPipelineRegistration<>(
      "bism-to-kernels",
      "Differentiate, inline, lower to linalg and form the kernels: the "
      "stage both back ends start from",
      [](OpPassManager &pm) { buildKernelPipeline(pm, /*formKernels=*/true); });
  PassPipelineRegistration<CudaPipelineOptions>(
      "bism-lower-cuda",
      "Lower bism to GPU kernels (NVVM, then PTX or cubin) and host code "
      "calling the CUDA executor (cuBLAS for matmuls)",
      buildLowerToCudaPipeline);
  PassPipelineRegistration<CpuPipelineOptions>(
      "bism-lower-cpu",
      "Lower bism to the LLVM dialect for CPU execution (BLAS for large "
      "matmuls)",
      buildLowerToCpuPipeline);
}

} // namespace bism
