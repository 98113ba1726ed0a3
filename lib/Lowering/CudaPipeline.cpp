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

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/ParallelLoopMapper.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Utils/MemRefUtils.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Transforms/RegionUtils.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/ADT/TypeSwitch.h"

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


/// The gpu.all_reduce operation of a linalg reduction's combiner, if it has
/// one.
std::optional<gpu::AllReduceOperation> allReduceKind(Operation *combiner) {
  using Kind = gpu::AllReduceOperation;
  return llvm::TypeSwitch<Operation *, std::optional<Kind>>(combiner)
      .Case<arith::AddFOp, arith::AddIOp>([](auto) { return Kind::ADD; })
      .Case<arith::MulFOp, arith::MulIOp>([](auto) { return Kind::MUL; })
      .Case<arith::MaxNumFOp>([](auto) { return Kind::MAXNUMF; })
      .Case<arith::MinNumFOp>([](auto) { return Kind::MINNUMF; })
      .Case<arith::MaximumFOp>([](auto) { return Kind::MAXIMUMF; })
      .Case<arith::MinimumFOp>([](auto) { return Kind::MINIMUMF; })
      .Case<arith::MaxSIOp>([](auto) { return Kind::MAXSI; })
      .Case<arith::MinSIOp>([](auto) { return Kind::MINSI; })
      .Case<arith::AndIOp>([](auto) { return Kind::AND; })
      .Case<arith::OrIOp>([](auto) { return Kind::OR; })
      .Case<arith::XOrIOp>([](auto) { return Kind::XOR; })
      .Default([](Operation *) { return std::nullopt; });
}

/// How output `index` of a reduction folds: `combiner(accumulator, term)`.
struct OutputReduction {
  Operation *combiner = nullptr;
  Value term; // the combiner's other operand, computed from the inputs
  gpu::AllReduceOperation kind;
  TypedAttr neutral;
};

/// The reduction of each output of `op`, or failure when one is not a
/// single recognised combiner of the accumulator and a term that does not
/// read any accumulator (then the block reduction would be wrong).
FailureOr<SmallVector<OutputReduction>>
matchOutputReductions(linalg::GenericOp op) {
  SmallVector<BlockArgument> accumulators(op.getRegionOutputArgs());
  SmallVector<OutputReduction> result;
  for (unsigned index = 0; index < accumulators.size(); ++index) {
    SmallVector<Operation *> combiners;
    Value term = matchReduction(accumulators, index, combiners);
    if (!term || combiners.size() != 1)
      return failure();
    OutputReduction reduction;
    reduction.combiner = combiners.front();
    reduction.term = term;
    std::optional<gpu::AllReduceOperation> kind =
        allReduceKind(reduction.combiner);
    std::optional<TypedAttr> neutral =
        arith::getNeutralElement(reduction.combiner);
    if (!kind || !neutral)
      return failure();
    reduction.kind = *kind;
    reduction.neutral = *neutral;
    // The term may not depend on any accumulator.
    SetVector<Operation *> slice;
    BackwardSliceOptions options;
    options.omitBlockArguments = false;
    options.inclusive = true;
    if (Operation *def = term.getDefiningOp())
      (void)getBackwardSlice(def, &slice, options);
    for (Operation *sliced : slice)
      for (Value operand : sliced->getOperands())
        if (llvm::is_contained(accumulators, operand))
          return failure();
    if (llvm::is_contained(accumulators, term))
      return failure();
    result.push_back(reduction);
  }
  return result;
}

/// `linear` split into indices of a row-major space of `sizes`.
SmallVector<Value> delinearize(OpBuilder &builder, Location loc, Value linear,
                               ArrayRef<int64_t> sizes) {
  SmallVector<Value> indices(sizes.size());
  for (size_t i = sizes.size(); i-- > 0;) {
    if (i == 0) {
      indices[i] = linear;
      break;
    }
    Value size = arith::ConstantIndexOp::create(builder, loc, sizes[i]);
    indices[i] = arith::RemUIOp::create(builder, loc, linear, size);
    linear = arith::DivUIOp::create(builder, loc, linear, size);
  }
  return indices;
}

/// The element of `operand` (a memref, or a scalar operand itself) that
/// iteration `iv` of a linalg op reads through `map`.
Value loadAt(OpBuilder &builder, Location loc, Value operand, AffineMap map,
             ValueRange iv) {
  if (!isa<MemRefType>(operand.getType()))
    return operand;
  SmallVector<Value> indices;
  for (AffineExpr expr : map.getResults())
    indices.push_back(affine::AffineApplyOp::create(
        builder, loc, AffineMap::get(map.getNumDims(), 0, expr), iv));
  return memref::LoadOp::create(builder, loc, operand, indices);
}

struct MapKernelsToGpu : bism::impl::BismMapKernelsToGpuBase<MapKernelsToGpu> {
  using BismMapKernelsToGpuBase::BismMapKernelsToGpuBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    IRRewriter rewriter(&getContext());

    // Host copies of device buffers (results into the caller's buffers,
    // reshapes): a device-to-device copy on the stream where both sides
    // are contiguous, else a copy kernel.
    SmallVector<memref::CopyOp> copies;
    module.walk([&](memref::CopyOp copy) {
      if (!copy->getParentOfType<gpu::GPUModuleOp>())
        copies.push_back(copy);
    });
    auto contiguous = [](Value value) {
      auto type = dyn_cast<MemRefType>(value.getType());
      return type && memref::isStaticShapeAndContiguousRowMajor(type);
    };
    for (memref::CopyOp copy : copies) {
      rewriter.setInsertionPoint(copy);
      if (contiguous(copy.getSource()) && contiguous(copy.getTarget()))
        gpu::MemcpyOp::create(rewriter, copy.getLoc(), /*asyncToken=*/Type(),
                              ValueRange(), copy.getTarget(),
                              copy.getSource());
      else
        linalg::CopyOp::create(rewriter, copy.getLoc(), copy.getSource(),
                               copy.getTarget());
      rewriter.eraseOp(copy);
    }

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
    if (auto generic = dyn_cast<linalg::GenericOp>(op.getOperation()))
      if (succeeded(mapReductionToBlocks(rewriter, generic)))
        return success();
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

  /// A reduction (parallel dimensions first) as one block per output
  /// element: threads fold strided partial results, a gpu.all_reduce
  /// combines them, thread 0 folds the total into the output. Fails, with
  /// the IR untouched, where this does not apply.
  LogicalResult mapReductionToBlocks(IRRewriter &rewriter,
                                     linalg::GenericOp op) {
    unsigned parallelCount = op.getNumParallelLoops();
    unsigned reductionCount = op.getNumReductionLoops();
    if (reductionCount == 0)
      return failure();
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    if (llvm::any_of(ranges, ShapedType::isDynamic))
      return failure();
    ArrayRef<int64_t> parallelSizes = ArrayRef(ranges).take_front(parallelCount);
    ArrayRef<int64_t> reductionSizes = ArrayRef(ranges).drop_front(parallelCount);
    int64_t outputs = 1, terms = 1;
    for (int64_t size : parallelSizes)
      outputs *= size;
    for (int64_t size : reductionSizes)
      terms *= size;
    if (terms < minBlockReduction || outputs == 0)
      return failure();
    // Outputs index parallel dimensions only.
    for (OpOperand &init : op.getDpsInitsMutable())
      for (AffineExpr expr : op.getMatchingIndexingMap(&init).getResults())
        for (unsigned dim = parallelCount; dim < ranges.size(); ++dim)
          if (expr.isFunctionOfDim(dim))
            return failure();
    FailureOr<SmallVector<OutputReduction>> reductions =
        matchOutputReductions(op);
    if (failed(reductions))
      return failure();

    Location loc = op.getLoc();
    rewriter.setInsertionPoint(op);
    int64_t warps = (std::min(terms, int64_t(blockSize)) + 31) / 32;
    int64_t threads = std::min(int64_t(blockSize), warps * 32);
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    auto launch = gpu::LaunchOp::create(
        rewriter, loc,
        arith::ConstantIndexOp::create(rewriter, loc, outputs), one, one,
        arith::ConstantIndexOp::create(rewriter, loc, threads), one, one);
    Block &body = launch.getBody().front();
    rewriter.setInsertionPointToStart(&body);
    Value outputIndex = launch.getBlockIds().x;
    Value thread = launch.getThreadIds().x;
    SmallVector<Value> parallelIv =
        delinearize(rewriter, loc, outputIndex, parallelSizes);

    // Each thread's partial results, from the neutral elements.
    SmallVector<Value> neutrals;
    for (const OutputReduction &reduction : *reductions)
      neutrals.push_back(arith::ConstantOp::create(rewriter, loc,
                                                   reduction.neutral));
    auto strided = scf::ForOp::create(
        rewriter, loc, thread, arith::ConstantIndexOp::create(rewriter, loc, terms),
        arith::ConstantIndexOp::create(rewriter, loc, threads), neutrals);
    {
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(strided.getBody());
      SmallVector<Value> iv = parallelIv;
      llvm::append_range(iv, delinearize(rewriter, loc,
                                         strided.getInductionVar(),
                                         reductionSizes));
      IRMapping mapping;
      Block &region = op.getRegion().front();
      for (OpOperand *input : op.getDpsInputOperands())
        mapping.map(op.getMatchingBlockArgument(input),
                    loadAt(rewriter, loc, input->get(),
                           op.getMatchingIndexingMap(input), iv));
      for (auto [accumulator, partial] :
           llvm::zip(op.getRegionOutputArgs(), strided.getRegionIterArgs()))
        mapping.map(accumulator, partial);
      for (Operation &inner : region.without_terminator()) {
        if (auto index = dyn_cast<linalg::IndexOp>(inner)) {
          mapping.map(index.getResult(), iv[index.getDim()]);
          continue;
        }
        rewriter.clone(inner, mapping);
      }
      SmallVector<Value> next;
      for (Value yielded : region.getTerminator()->getOperands())
        next.push_back(mapping.lookupOrDefault(yielded));
      scf::YieldOp::create(rewriter, loc, next);
    }

    // The block's totals, folded into the outputs by thread 0.
    SmallVector<Value> totals;
    for (auto [reduction, partial] :
         llvm::zip(*reductions, strided.getResults()))
      totals.push_back(gpu::AllReduceOp::create(
          rewriter, loc, partial,
          gpu::AllReduceOperationAttr::get(rewriter.getContext(),
                                           reduction.kind),
          /*uniform=*/true));
    Value isFirst = arith::CmpIOp::create(
        rewriter, loc, arith::CmpIPredicate::eq, thread,
        arith::ConstantIndexOp::create(rewriter, loc, 0));
    auto ifFirst = scf::IfOp::create(rewriter, loc, isFirst,
                                     /*withElseRegion=*/false);
    {
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(ifFirst.thenBlock());
      for (auto [index, reduction] : llvm::enumerate(*reductions)) {
        OpOperand *init = op.getDpsInitOperand(index);
        AffineMap map = op.getMatchingIndexingMap(init);
        // (Outputs read no reduction dimension: any value does for those.)
        SmallVector<Value> iv = parallelIv;
        iv.resize(map.getNumDims(), thread);
        SmallVector<Value> indices;
        for (AffineExpr expr : map.getResults())
          indices.push_back(affine::AffineApplyOp::create(
              rewriter, loc, AffineMap::get(map.getNumDims(), 0, expr), iv));
        Value old = memref::LoadOp::create(rewriter, loc, init->get(), indices);
        IRMapping mapping;
        mapping.map(op.getRegionOutputArgs()[index], old);
        mapping.map(reduction.term, totals[index]);
        Value folded = rewriter.clone(*reduction.combiner, mapping)->getResult(0);
        memref::StoreOp::create(rewriter, loc, folded, init->get(), indices);
      }
    }
    gpu::TerminatorOp::create(rewriter, loc);
    rewriter.eraseOp(op);
    return success();
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


/// Each launch named after its kernel (`energy.k3` launches `energy_k3`,
/// then `energy_k3_1`, ...) before the kernel functions are inlined into
/// the step, so that gpu-kernel-outlining keeps the kernel stage's names
/// (profiles and PTX say which kernel is which).
struct NameLaunchesAfterKernels
    : PassWrapper<NameLaunchesAfterKernels, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(NameLaunchesAfterKernels)
  StringRef getArgument() const override {
    return "bism-name-launches-after-kernels";
  }
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      int count = 0;
      func.walk([&](gpu::LaunchOp launch) {
        std::string name = PtxIdentifiers::sanitized(func.getSymName());
        if (count++ > 0)
          name += "_" + std::to_string(count - 1);
        auto symbol = FlatSymbolRefAttr::get(func.getContext(), name);
        launch.setFunctionAttr(symbol);
        launch.setModuleAttr(symbol);
      });
    }
  }
};

/// One GPU function per kernel: the step's kernel functions are inlined
/// into each caller, so a kernel called from several places (each unrolled
/// step's energy) is outlined once per call; identical copies in a GPU
/// module (the kernel's name) are merged and their launches retargeted.
struct DeduplicateGpuKernels
    : PassWrapper<DeduplicateGpuKernels, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(DeduplicateGpuKernels)
  StringRef getArgument() const override {
    return "bism-deduplicate-gpu-kernels";
  }

  /// A hash of the function's type and operations (not their operands).
  static llvm::hash_code shapeHash(gpu::GPUFuncOp func) {
    llvm::hash_code hash = hash_value(func.getFunctionType());
    func.getBody().walk([&](Operation *op) {
      hash = llvm::hash_combine(
          hash, OperationEquivalence::computeHash(
                    op, OperationEquivalence::ignoreHashValue,
                    OperationEquivalence::ignoreHashValue,
                    OperationEquivalence::IgnoreLocations));
    });
    return hash;
  }

  static bool sameKernel(gpu::GPUFuncOp a, gpu::GPUFuncOp b) {
    return a.getFunctionType() == b.getFunctionType() &&
           OperationEquivalence::isRegionEquivalentTo(
               &a.getBody(), &b.getBody(),
               OperationEquivalence::IgnoreLocations);
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    // The launches of each kernel, found once.
    DenseMap<std::pair<StringAttr, StringAttr>,
             SmallVector<gpu::LaunchFuncOp>> launches;
    module.walk([&](gpu::LaunchFuncOp launch) {
      launches[{launch.getKernelModuleName(), launch.getKernelName()}]
          .push_back(launch);
    });
    for (auto gpuModule : module.getOps<gpu::GPUModuleOp>()) {
      DenseMap<llvm::hash_code, SmallVector<gpu::GPUFuncOp>> kept;
      for (auto func :
           llvm::make_early_inc_range(gpuModule.getOps<gpu::GPUFuncOp>())) {
        SmallVector<gpu::GPUFuncOp> &candidates = kept[shapeHash(func)];
        auto same = llvm::find_if(candidates, [&](gpu::GPUFuncOp other) {
          return sameKernel(func, other);
        });
        if (same == candidates.end()) {
          candidates.push_back(func);
          continue;
        }
        auto target = SymbolRefAttr::get(
            gpuModule.getNameAttr(),
            {FlatSymbolRefAttr::get(same->getNameAttr())});
        for (gpu::LaunchFuncOp launch :
             launches.lookup({gpuModule.getNameAttr(), func.getNameAttr()}))
          launch.setKernelAttr(target);
        func.erase();
      }
    }
  }
};

/// The buffer a view of memory (cast, reinterpret_cast, subview, reshape)
/// reads.
Value viewedBuffer(Value memref) {
  while (Operation *def = memref.getDefiningOp()) {
    auto view = dyn_cast<ViewLikeOpInterface>(def);
    if (!view)
      break;
    memref = view.getViewSource();
  }
  return memref;
}

/// Host scalars that GPU kernels use and that are computed from device
/// memory (a random key's words, through Philox on the host: the kernel
/// stage hoists such scalars out of the kernels for the CPU) are computed
/// inside each kernel instead: host code never reads device memory. After
/// convert-parallel-loops-to-gpu and the inlining of the step's kernel
/// functions into their callers; before gpu-kernel-outlining.
struct SinkDeviceReadsIntoLaunches
    : PassWrapper<SinkDeviceReadsIntoLaunches, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(SinkDeviceReadsIntoLaunches)
  StringRef getArgument() const override {
    return "bism-sink-device-reads-into-launches";
  }

  /// The host ops `value` is computed by, in order, when they read device
  /// memory (and are otherwise pure and region-free); empty otherwise.
  static SmallVector<Operation *> deviceReadingSlice(Value value,
                                                     Block *hostBlock) {
    SetVector<Operation *> slice;
    bool readsDevice = false, sinkable = true;
    SmallVector<Value> worklist{value};
    while (!worklist.empty() && sinkable) {
      Value next = worklist.pop_back_val();
      Operation *def = next.getDefiningOp();
      if (!def || isa<MemRefType>(next.getType()))
        continue; // block arguments and buffers are passed to the kernel
      if (def->getBlock() != hostBlock || def->getNumRegions() != 0 ||
          !(isPure(def) || isa<memref::LoadOp>(def))) {
        sinkable = false;
        break;
      }
      if (!slice.insert(def))
        continue;
      readsDevice |= isa<memref::LoadOp>(def);
      llvm::append_range(worklist, def->getOperands());
    }
    if (!sinkable || !readsDevice)
      return {};
    SmallVector<Operation *> ordered(slice.begin(), slice.end());
    llvm::sort(ordered, [](Operation *a, Operation *b) {
      return a->isBeforeInBlock(b);
    });
    return ordered;
  }

  /// The buffers each launch writes (a null entry: it may write any).
  DenseMap<Operation *, DenseSet<Value>> launchWrites;

  const DenseSet<Value> &writtenBy(gpu::LaunchOp launch) {
    auto [it, inserted] = launchWrites.try_emplace(launch.getOperation());
    if (!inserted)
      return it->second;
    DenseSet<Value> &written = it->second;
    launch.getBody().walk([&](Operation *inner) {
      auto effects = dyn_cast<MemoryEffectOpInterface>(inner);
      if (!effects) {
        // (Loops and branches: their bodies are walked too.)
        if (!isPure(inner) && !inner->hasTrait<OpTrait::IsTerminator>() &&
            !inner->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
          written.insert(Value());
        return;
      }
      SmallVector<MemoryEffects::EffectInstance> instances;
      effects.getEffects(instances);
      for (const auto &instance : instances)
        if (isa<MemoryEffects::Write>(instance.getEffect()))
          written.insert(instance.getValue()
                             ? viewedBuffer(instance.getValue())
                             : Value());
    });
    return written;
  }

  /// Whether host op `op` may write `buffer`: a launch that stores to it,
  /// a copy into it; any other op that takes it, conservatively.
  bool mayWrite(Operation *op, Value buffer) {
    if (auto launch = dyn_cast<gpu::LaunchOp>(op)) {
      const DenseSet<Value> &written = writtenBy(launch);
      return written.contains(buffer) || written.contains(Value());
    }
    if (auto copy = dyn_cast<gpu::MemcpyOp>(op))
      return viewedBuffer(copy.getDst()) == buffer;
    if (auto effects = dyn_cast<MemoryEffectOpInterface>(op))
      if (!effects.hasEffect<MemoryEffects::Write>())
        return false;
    return llvm::any_of(op->getOperands(), [&](Value operand) {
      return isa<MemRefType>(operand.getType()) &&
             viewedBuffer(operand) == buffer;
    });
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<gpu::LaunchOp> launches;
    module.walk([&](gpu::LaunchOp launch) { launches.push_back(launch); });
    for (gpu::LaunchOp launch : launches) {
      SetVector<Value> above;
      getUsedValuesDefinedAbove(launch.getBody(), above);
      for (Value value : above) {
        SmallVector<Operation *> slice =
            deviceReadingSlice(value, launch->getBlock());
        if (slice.empty())
          continue;
        // The buffers read must not be written between the read and the
        // launch (they would be read too late inside the kernel).
        for (Operation *op : slice) {
          auto load = dyn_cast<memref::LoadOp>(op);
          if (!load)
            continue;
          Value buffer = viewedBuffer(load.getMemRef());
          for (Operation *at = load->getNextNode(); at && at != launch;
               at = at->getNextNode()) {
            if (isPure(at) || llvm::is_contained(slice, at) ||
                !mayWrite(at, buffer))
              continue;
            load.emitOpError("is read on the host and its buffer is "
                             "written before the GPU kernel that needs the "
                             "value; the CUDA back end cannot move the "
                             "read into the kernel");
            return signalPassFailure();
          }
        }
        OpBuilder builder = OpBuilder::atBlockBegin(&launch.getBody().front());
        IRMapping mapping;
        for (Operation *op : slice)
          builder.clone(*op, mapping);
        Value inside = mapping.lookup(value);
        replaceAllUsesInRegionWith(value, inside, launch.getBody());
      }
    }
    // The host reads that no longer have users, then any left: host code
    // cannot dereference device pointers.
    for (auto func : module.getOps<func::FuncOp>())
      for (Block &block : func.getBody())
        for (Operation &op : llvm::make_early_inc_range(llvm::reverse(block)))
          if (op.use_empty() && op.getNumResults() != 0 &&
              (isPure(&op) || isa<memref::LoadOp>(op)))
            op.erase();
    WalkResult result = module.walk([&](Operation *op) {
      if (!isa<memref::LoadOp, memref::StoreOp>(op) ||
          op->getParentOfType<gpu::GPUModuleOp>() ||
          op->getParentOfType<gpu::LaunchOp>())
        return WalkResult::advance();
      op->emitOpError("reads or writes device memory from host code, which "
                      "the CUDA back end does not support");
      return WalkResult::interrupt();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

/// The CUDA executor's one stream (runtime/include/bism/runtime/
/// CudaExecutor.h), in place of gpu-async-region: every GPU op of a host
/// function is made asynchronous and chained on one token from a
/// `gpu.wait async` (the executor's stream), the executor's stream-ordered
/// calls (cuBLAS, `bism.stream_ordered`) need no wait, and the host waits
/// once, before returning. Other host ops with memory effects wait first
/// (none in a compiled step). GPU ops inside host control flow are refused.
struct GpuOneStream : PassWrapper<GpuOneStream, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(GpuOneStream)
  StringRef getArgument() const override { return "bism-gpu-one-stream"; }

  static bool isStreamOrderedCall(Operation *op, ModuleOp module) {
    auto call = dyn_cast<func::CallOp>(op);
    if (!call)
      return false;
    auto callee = module.lookupSymbol<func::FuncOp>(call.getCallee());
    return callee && callee->hasAttr("bism.stream_ordered");
  }

  static bool needsHostWait(Operation *op) {
    if (isPure(op) || isa<memref::AllocaOp, memref::DeallocOp>(op))
      return false;
    auto effects = dyn_cast<MemoryEffectOpInterface>(op);
    return !effects || !effects.hasNoEffect();
  }

  LogicalResult runOnFunction(func::FuncOp func, ModuleOp module) {
    if (func.isExternal())
      return success();
    WalkResult nested = func.walk([&](Operation *op) {
      if (isa<gpu::AsyncOpInterface>(op) &&
          op->getParentOp() != func.getOperation()) {
        op->emitOpError("GPU work inside host control flow is not supported "
                        "by the CUDA back end yet");
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (nested.wasInterrupted())
      return failure();
    OpBuilder builder(func.getContext());
    Type tokenType = builder.getType<gpu::AsyncTokenType>();
    Value token;
    for (Operation &op : llvm::make_early_inc_range(func.getBody().front())) {
      builder.setInsertionPoint(&op);
      if (auto async = dyn_cast<gpu::AsyncOpInterface>(&op)) {
        if (isa<gpu::WaitOp>(op))
          return op.emitOpError("unexpected before bism-gpu-one-stream");
        if (!token)
          token = gpu::WaitOp::create(builder, op.getLoc(), tokenType,
                                      ValueRange())
                      .getAsyncToken();
        async.addAsyncDependency(token);
        if (Value existing = async.getAsyncToken()) {
          token = existing;
          continue;
        }
        // The op again, with a token as its last result.
        SmallVector<Type> resultTypes(op.getResultTypes());
        resultTypes.push_back(tokenType);
        Operation *asyncOp = Operation::create(
            op.getLoc(), op.getName(), resultTypes, op.getOperands(),
            op.getDiscardableAttrDictionary(), op.getPropertiesStorage(),
            op.getSuccessors(), /*numRegions=*/0);
        builder.insert(asyncOp);
        op.replaceAllUsesWith(asyncOp->getResults().drop_back());
        op.erase();
        token = asyncOp->getResults().back();
        continue;
      }
      if (!token || isStreamOrderedCall(&op, module))
        continue;
      if (op.hasTrait<OpTrait::IsTerminator>() || needsHostWait(&op)) {
        gpu::WaitOp::create(builder, op.getLoc(), Type(), ValueRange{token});
        token = nullptr;
      }
    }
    return success();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (auto func : module.getOps<func::FuncOp>())
      if (failed(runOnFunction(func, module)))
        return signalPassFailure();
  }
};
} // namespace

namespace bism {

void buildLowerToCudaPipeline(OpPassManager &pm,
                              const CudaPipelineOptions &options) {
  buildKernelPipeline(pm, /*formKernels=*/true);
  // Data parallel: NCCL on the device buffers.
  BismLowerCollectivesOptions collectives;
  collectives.library = "nccl";
  pm.addPass(createBismLowerCollectives(collectives));
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
  pm.addPass(std::make_unique<NameLaunchesAfterKernels>());
  // One host function per entry point: its GPU work then chains on one
  // stream, and scalars the kernels need can move into them. (After the
  // loops are launches: the inliner's canonicalisation would unwrap the
  // one-iteration loop of a full reduction onto the host.)
  pm.addPass(createInlinerPass());
  pm.addPass(std::make_unique<SinkDeviceReadsIntoLaunches>());
  pm.addPass(createGpuKernelOutliningPass());
  pm.addPass(std::make_unique<DeduplicateGpuKernels>());
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
  pm.addPass(std::make_unique<GpuOneStream>());
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
