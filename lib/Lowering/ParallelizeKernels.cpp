//===- ParallelizeKernels.cpp - kernels' outer loops over the thread pool -===//
//
// Tiling the first (parallel) loop of a kernel's linalg op by one gives an
// scf.parallel whose iterations are whole rows of the result (a flat,
// one-loop kernel is tiled into chunks instead); OpenMP's static schedule
// then hands each thread a contiguous block of rows. The inner loops stay as
// they are, so they vectorise as in the serial code and every output element
// is computed by the same instructions whatever the thread count.
//
//===----------------------------------------------------------------------===//
#include "bism/Kernels/Kernels.h"
#include "bism/Lowering/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;

namespace bism {
#define GEN_PASS_DEF_BISMPARALLELIZEKERNELS
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

bool worthParallelizing(linalg::LinalgOp op, int64_t minPoints) {
  if (!op.hasPureBufferSemantics() || op.getNumLoops() == 0 ||
      op.getIteratorTypesArray().front() != utils::IteratorType::parallel)
    return false;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  std::optional<int64_t> points = iterationPoints(op);
  return points && *points >= minPoints && ranges.front() >= 2;
}

/// The first loop is cut into tiles of whole rows (its iterations) that
/// hold at least a 64th of the kernel's points, rounded to a multiple of
/// kChunkAlignment points: a kernel with long rows is handed out row by
/// row (its inner loops vectorise as they are), a flat kernel or one of
/// short rows (a packed draw's 4 elements per counter) in chunks, each a
/// long vectorised loop.
constexpr int64_t kChunksPerKernel = 64;
constexpr int64_t kChunkAlignment = 64;

int64_t outerTileSize(linalg::LinalgOp op) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  int64_t rowPoints = 1, points = 1;
  for (int64_t range : ranges)
    points *= range;
  for (int64_t range : llvm::drop_begin(ranges))
    rowPoints *= range;
  int64_t chunk = (points + kChunksPerKernel - 1) / kChunksPerKernel;
  chunk = (chunk + kChunkAlignment - 1) / kChunkAlignment * kChunkAlignment;
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
      SmallVector<int64_t> tileSizes(op.getNumLoops(), 0);
      tileSizes.front() = outerTileSize(op);
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

} // namespace
