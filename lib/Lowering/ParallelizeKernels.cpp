//===- ParallelizeKernels.cpp - kernels' outer loops over the thread pool -===//
//
// Tiling the first (parallel) loop of a kernel's linalg op gives an
// scf.parallel whose iterations are whole rows of the result (a flat,
// one-loop kernel is tiled into chunks); a kernel whose first loop is a
// reduction (column sums over the batch) is tiled along its first parallel
// loop instead, each iteration a block of whole columns. OpenMP's static
// schedule then hands each thread a contiguous block of iterations. The
// inner loops stay as they are, so they vectorise as in the serial code
// and every output element is computed by the same instructions, in the
// same order, whatever the thread count.
//
//===----------------------------------------------------------------------===//
#include "bism/Kernels/Kernels.h"
#include "bism/Lowering/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;

namespace bism {
#define GEN_PASS_DEF_BISMPARALLELIZEKERNELS
#define GEN_PASS_DEF_BISMPARALLELTOOPENMP
#include "bism/Lowering/Passes.h.inc"
} // namespace bism

namespace {

/// The number of points of `op`'s iteration space, or nullopt when a loop
/// size is not static.
std::optional<int64_t> iterationPoints(linalg::LinalgOp op) {
  int64_t points = 1;
  for (int64_t size : op.getStaticLoopRanges()) {
    if (ShapedType::isDynamic(size))
      return std::nullopt;
    points *= size;
  }
  return points;
}

/// The loop the threads share: the first, when it is parallel; after
/// leading reductions (column sums over the batch), the first parallel
/// loop, each thread then summing whole columns over all rows in the
/// serial order. None when no loop is parallel.
std::optional<unsigned> sharedLoop(linalg::LinalgOp op) {
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  for (auto [index, iterator] : llvm::enumerate(iterators))
    if (iterator == utils::IteratorType::parallel)
      return unsigned(index);
  return std::nullopt;
}

/// Columns of a column-reducing kernel go out in tiles of a multiple of
/// kColumnAlignment, about kColumnTiles of them (enough to balance a few
/// threads, each tile still a vectorised inner loop).
constexpr int64_t kColumnTiles = 16;
constexpr int64_t kColumnAlignment = 16;

bool worthParallelizing(linalg::LinalgOp op, int64_t minPoints) {
  if (!op.hasPureBufferSemantics() || op.getNumLoops() == 0)
    return false;
  std::optional<unsigned> loop = sharedLoop(op);
  std::optional<int64_t> points = iterationPoints(op);
  if (!loop || !points || *points < minPoints)
    return false;
  int64_t size = op.getStaticLoopRanges()[*loop];
  return *loop == 0 ? size >= 2 : size >= 2 * kColumnAlignment;
}

/// The first loop is cut into tiles of whole rows (its iterations) that
/// hold at least a 64th of the kernel's points, rounded to a multiple of
/// kChunkAlignment points: a kernel with long rows is handed out row by
/// row (its inner loops vectorise as they are), a flat kernel or one of
/// short rows (a packed draw's 4 elements per counter) in chunks, each a
/// long vectorised loop.
constexpr int64_t kChunksPerKernel = 64;
constexpr int64_t kChunkAlignment = 64;

int64_t roundUp(int64_t value, int64_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

int64_t tileSize(linalg::LinalgOp op, unsigned loop) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (loop > 0)
    return roundUp((ranges[loop] + kColumnTiles - 1) / kColumnTiles,
                   kColumnAlignment);
  int64_t rowPoints = 1, points = 1;
  for (int64_t range : ranges)
    points *= range;
  for (int64_t range : llvm::drop_begin(ranges))
    rowPoints *= range;
  int64_t chunk = roundUp((points + kChunksPerKernel - 1) / kChunksPerKernel,
                          kChunkAlignment);
  return std::max<int64_t>(1, chunk / rowPoints);
}

struct ParallelizeKernels
    : bism::impl::BismParallelizeKernelsBase<ParallelizeKernels> {
  using BismParallelizeKernelsBase::BismParallelizeKernelsBase;

  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> candidates;
    getOperation().walk([&](func::FuncOp func) {
      if (!func->hasAttr(bism::kKernelKindAttr))
        return;
      func.walk([&](linalg::LinalgOp op) {
        if (worthParallelizing(op, minPoints))
          candidates.push_back(op);
      });
    });

    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : candidates) {
      unsigned loop = *sharedLoop(op);
      SmallVector<int64_t> tileSizes(op.getNumLoops(), 0);
      tileSizes[loop] = tileSize(op, loop);
      linalg::LinalgTilingOptions options;
      options.setTileSizes(tileSizes).setLoopType(
          linalg::LinalgTilingLoopType::ParallelLoops);
      rewriter.setInsertionPoint(op);
      if (failed(linalg::tileLinalgOp(rewriter, op, options))) {
        op.emitOpError("could not be tiled over threads");
        return signalPassFailure();
      }
      rewriter.eraseOp(op);
    }
  }
};

/// The OpenMP runtime's thread number and team size, declared once.
func::FuncOp declareRuntimeFunction(ModuleOp module, StringRef name) {
  if (auto existing = module.lookupSymbol<func::FuncOp>(name))
    return existing;
  OpBuilder builder = OpBuilder::atBlockBegin(module.getBody());
  auto type = builder.getFunctionType({}, {builder.getI32Type()});
  auto func = func::FuncOp::create(builder, module.getLoc(), name, type);
  func.setPrivate();
  return func;
}

struct ParallelToOpenMP
    : bism::impl::BismParallelToOpenMPBase<ParallelToOpenMP> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<scf::ParallelOp> loops;
    module.walk([&](scf::ParallelOp loop) { loops.push_back(loop); });
    if (loops.empty())
      return;
    func::FuncOp threadNum = declareRuntimeFunction(module, "omp_get_thread_num");
    func::FuncOp numThreads = declareRuntimeFunction(module, "omp_get_num_threads");
    for (scf::ParallelOp loop : loops) {
      if (loop.getNumLoops() != 1 || loop.getNumResults() != 0) {
        loop.emitOpError("only one-dimensional loops without reductions run "
                         "on the OpenMP pool");
        return signalPassFailure();
      }
      Location loc = loop.getLoc();
      OpBuilder b(loop);
      auto parallel = omp::ParallelOp::create(b, loc);
      b.setInsertionPointToStart(b.createBlock(&parallel.getRegion()));
      auto toIndex = [&](Value value) -> Value {
        return arith::IndexCastOp::create(b, loc, b.getIndexType(), value);
      };
      Value thread = toIndex(func::CallOp::create(b, loc, threadNum).getResult(0));
      Value threads = toIndex(func::CallOp::create(b, loc, numThreads).getResult(0));
      Value lower = loop.getLowerBound()[0], upper = loop.getUpperBound()[0];
      Value step = loop.getStep()[0];
      Value iterations = arith::CeilDivUIOp::create(
          b, loc, arith::SubIOp::create(b, loc, upper, lower), step);
      Value perThread = arith::CeilDivUIOp::create(b, loc, iterations, threads);
      Value first = arith::MinUIOp::create(
          b, loc, arith::MulIOp::create(b, loc, thread, perThread), iterations);
      Value last = arith::MinUIOp::create(
          b, loc, arith::AddIOp::create(b, loc, first, perThread), iterations);
      Value one = arith::ConstantIndexOp::create(b, loc, 1);
      auto forOp = scf::ForOp::create(b, loc, first, last, one);
      omp::TerminatorOp::create(b, loc);

      // The loop body, at iteration lower + k * step.
      b.setInsertionPointToStart(forOp.getBody());
      Value iv = arith::AddIOp::create(
          b, loc, lower,
          arith::MulIOp::create(b, loc, forOp.getInductionVar(), step));
      Block *body = loop.getBody();
      body->getTerminator()->erase(); // scf.reduce without operands
      body->getArgument(0).replaceAllUsesWith(iv);
      Block *forBody = forOp.getBody();
      forBody->getOperations().splice(forBody->getTerminator()->getIterator(),
                                      body->getOperations());
      loop.erase();
    }
  }
};

} // namespace
