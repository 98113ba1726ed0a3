//===- CudaPipeline.cpp - the kernel stage to GPU kernels (CUDA) ----------===//
//
// The CUDA back end starts from the same kernel stage as the CPU one
// (DESIGN.md §3, level 4½): bufferised, outlined kernels. Matmuls become
// cuBLAS calls of the executor; every other kernel becomes GPU loops
// (`--bism-map-kernels-to-gpu`), then `gpu.launch_func`s of kernels in
// `gpu.module`s, NVVM, and PTX or a cubin in a `gpu.binary`. Host code keeps
// the step's order of kernels and calls the MLIR GPU runtime ABI (mgpu*),
// which the executor in runtime/ implements on one stream.
//
//===----------------------------------------------------------------------===//
#include "bism/Kernels/Kernels.h"
#include "bism/Lowering/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/ParallelLoopMapper.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

#include <numeric>

using namespace mlir;

namespace bism {
#define GEN_PASS_DEF_BISMMAPKERNELSTOGPU
#include "bism/Lowering/Passes.h.inc"
} // namespace bism

namespace {

/// `op` with its parallel dimensions first (in order), then its reduction
/// dimensions: the loops a GPU thread runs sequentially go innermost.
FailureOr<linalg::LinalgOp> parallelDimensionsFirst(RewriterBase &rewriter,
                                                    linalg::LinalgOp op) {
  auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
  if (!generic || op.getNumReductionLoops() == 0)
    return op;
  SmallVector<unsigned> order;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  for (auto [dim, iterator] : llvm::enumerate(iterators))
    if (iterator == utils::IteratorType::parallel)
      order.push_back(unsigned(dim));
  for (auto [dim, iterator] : llvm::enumerate(iterators))
    if (iterator != utils::IteratorType::parallel)
      order.push_back(unsigned(dim));
  if (llvm::equal(order, llvm::seq<unsigned>(0, unsigned(order.size()))))
    return op;
  FailureOr<linalg::GenericOp> swapped =
      linalg::interchangeGenericOp(rewriter, generic, order);
  if (failed(swapped))
    return failure();
  return cast<linalg::LinalgOp>(swapped->getOperation());
}

struct MapKernelsToGpu : bism::impl::BismMapKernelsToGpuBase<MapKernelsToGpu> {
  using BismMapKernelsToGpuBase::BismMapKernelsToGpuBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    IRRewriter rewriter(&getContext());

    SmallVector<linalg::LinalgOp> ops;
    module.walk([&](linalg::LinalgOp op) {
      if (!op->getParentOfType<gpu::GPUModuleOp>())
        ops.push_back(op);
    });
    for (linalg::LinalgOp op : ops) {
      if (!op.hasPureBufferSemantics()) {
        op.emitOpError("must be on buffers before it is mapped to the GPU");
        return signalPassFailure();
      }
      if (failed(mapToGpu(rewriter, op))) {
        op.emitOpError("could not be mapped to GPU threads");
        return signalPassFailure();
      }
    }

    // Every buffer of the step lives on the device.
    SmallVector<memref::AllocOp> allocs;
    SmallVector<memref::DeallocOp> deallocs;
    module.walk([&](memref::AllocOp op) {
      if (!op->getParentOfType<gpu::GPUModuleOp>())
        allocs.push_back(op);
    });
    module.walk([&](memref::DeallocOp op) {
      if (!op->getParentOfType<gpu::GPUModuleOp>())
        deallocs.push_back(op);
    });
    for (memref::AllocOp alloc : allocs) {
      rewriter.setInsertionPoint(alloc);
      auto device = gpu::AllocOp::create(
          rewriter, alloc.getLoc(), alloc.getType(), /*asyncToken=*/Type(),
          /*asyncDependencies=*/ValueRange(), alloc.getDynamicSizes(),
          alloc.getSymbolOperands(), /*hostShared=*/false);
      rewriter.replaceOp(alloc, device.getMemref());
    }
    for (memref::DeallocOp dealloc : deallocs) {
      rewriter.setInsertionPoint(dealloc);
      gpu::DeallocOp::create(rewriter, dealloc.getLoc(), /*asyncToken=*/Type(),
                             ValueRange(), dealloc.getMemref());
      rewriter.eraseOp(dealloc);
    }
  }

  /// `op` as one flat scf.parallel tiled by blockSize and mapped to blocks
  /// and threads; reductions loop inside each thread.
  LogicalResult mapToGpu(IRRewriter &rewriter, linalg::LinalgOp op) {
    rewriter.setInsertionPoint(op);
    FailureOr<linalg::LinalgOp> reordered = parallelDimensionsFirst(rewriter, op);
    if (failed(reordered))
      return failure();
    op = *reordered;
    Location loc = op.getLoc();
    bool hasParallel = op.getNumParallelLoops() > 0;
    scf::ParallelOp parallel;
    if (!hasParallel) {
      // A full reduction: one thread (a one-iteration loop around it).
      Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
      Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
      parallel = scf::ParallelOp::create(rewriter, loc, ValueRange{zero},
                                         ValueRange{one}, ValueRange{one});
      rewriter.moveOpBefore(op, parallel.getBody()->getTerminator());
    }
    rewriter.setInsertionPoint(op);
    FailureOr<linalg::LinalgLoops> loops =
        linalg::linalgOpToParallelLoops(rewriter, op);
    if (failed(loops))
      return failure();
    rewriter.eraseOp(op);
    if (hasParallel) {
      if (loops->empty() || !isa<scf::ParallelOp>(loops->front()))
        return failure();
      parallel = cast<scf::ParallelOp>(loops->front());
    }
    if (parallel.getNumLoops() > 1) {
      // One flat loop over all the parallel dimensions (it takes the
      // place of the nest).
      Block *block = parallel->getBlock();
      Operation *before = parallel->getPrevNode();
      std::vector<unsigned> all(parallel.getNumLoops());
      std::iota(all.begin(), all.end(), 0u);
      collapseParallelLoops(rewriter, parallel, {all});
      // (It comes after the index arithmetic it needs.)
      parallel = nullptr;
      for (Operation *at = before ? before->getNextNode() : &block->front();
           at && !parallel; at = at->getNextNode())
        parallel = dyn_cast<scf::ParallelOp>(at);
      if (!parallel)
        return failure();
    }
    return mapParallel(rewriter, parallel);
  }

  LogicalResult mapParallel(IRRewriter &rewriter, scf::ParallelOp loop) {
    auto [blocks, threads] =
        tileParallelLoop(loop, {blockSize}, /*noMinMaxBounds=*/true);
    MLIRContext *ctx = &getContext();
    AffineMap identity = AffineMap::getMultiDimIdentityMap(1, ctx);
    auto mapping = [&](gpu::Processor processor) {
      return gpu::ParallelLoopDimMappingAttr::get(ctx, processor, identity,
                                                 identity);
    };
    if (failed(gpu::setMappingAttr(blocks, {mapping(gpu::Processor::BlockX)})) ||
        failed(gpu::setMappingAttr(threads, {mapping(gpu::Processor::ThreadX)})))
      return failure();
    return success();
  }
};

/// GPU modules and kernels with names PTX accepts: the kernel stage's
/// names ("score.k0") have dots, which are no part of a PTX identifier.
struct PtxIdentifiers
    : PassWrapper<PtxIdentifiers, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(PtxIdentifiers)
  StringRef getArgument() const override { return "bism-ptx-identifiers"; }

  static std::string sanitized(StringRef name) {
    std::string result = name.str();
    for (char &c : result)
      if (!llvm::isAlnum(c) && c != '_' && c != '$')
        c = '_';
    return result;
  }

  /// `name` sanitised, made unique within `table`.
  static StringAttr freshName(SymbolTable &table, StringRef name,
                              MLIRContext *ctx) {
    std::string base = sanitized(name), candidate = base;
    for (int suffix = 1; table.lookup(candidate); ++suffix)
      candidate = base + "_" + std::to_string(suffix);
    return StringAttr::get(ctx, candidate);
  }

  /// Gives `symbol` (in `table`) a PTX name, updating its uses in `root`.
  static LogicalResult rename(Operation *symbol, SymbolTable &table,
                              Operation *root) {
    StringRef name = SymbolTable::getSymbolName(symbol).getValue();
    if (sanitized(name) == name)
      return success();
    StringAttr fresh = freshName(table, name, symbol->getContext());
    if (failed(SymbolTable::replaceAllSymbolUses(symbol, fresh, root)))
      return failure();
    table.setSymbolName(symbol, fresh);
    return success();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    for (auto gpuModule :
         llvm::make_early_inc_range(module.getOps<gpu::GPUModuleOp>())) {
      SymbolTable inner(gpuModule);
      for (auto func : llvm::make_early_inc_range(
               gpuModule.getOps<gpu::GPUFuncOp>()))
        if (failed(rename(func, inner, module)))
          return signalPassFailure();
      if (failed(rename(gpuModule, symbols, module)))
        return signalPassFailure();
    }
  }
};

} // namespace

namespace bism {

void buildLowerToCudaPipeline(OpPassManager &pm,
                              const CudaPipelineOptions &options) {
  buildKernelPipeline(pm, /*formKernels=*/true);
  buildBufferizationPipeline(pm);
  // Every matmul goes to cuBLAS: even small ones are faster there than as
  // one thread per output element.
  BismMatmulToBlasOptions blas;
  blas.minFlops = 0;
  blas.library = "cublas";
  pm.addPass(createBismMatmulToBlas(blas));
  pm.addPass(createBismOutlineKernels());
  bufferization::BufferDeallocationPipelineOptions deallocation;
  bufferization::buildBufferDeallocationPipeline(pm, deallocation);

  // f32 transcendentals as the CPU's polynomials: the same arithmetic on
  // both devices (no libdevice approximations to differ by).
  BismMapKernelsToGpuOptions map;
  map.blockSize = options.blockSize;
  pm.addPass(createBismMapKernelsToGpu(map));
  pm.addPass(createConvertParallelLoopToGpuPass());
  pm.addPass(createGpuKernelOutliningPass());
  pm.addPass(std::make_unique<PtxIdentifiers>());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createBismApproximateMath());
  // What the GPU pipeline of MLIR (gpu-lower-to-nvvm-pipeline) does, with
  // the toolkit given to gpu-module-to-binary (ptxas for cubins).
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  GpuNVVMAttachTargetOptions target;
  target.chip = options.chip;
  target.features = options.features;
  target.optLevel = 3;
  pm.addPass(createGpuNVVMAttachTarget(target));
  pm.addPass(createLowerAffinePass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  OpPassManager &device = pm.nest<gpu::GPUModuleOp>();
  device.addPass(createConvertGpuOpsToNVVMOps());
  device.addPass(createCanonicalizerPass());
  device.addPass(createCSEPass());
  device.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createGpuAsyncRegionPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createGpuToLLVMConversionPass());
  GpuModuleToBinaryPassOptions binary;
  binary.toolkitPath = options.toolkit;
  binary.compilationTarget = options.format;
  pm.addPass(createGpuModuleToBinaryPass(binary));
  pm.addPass(createConvertToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
}

} // namespace bism
