//===- FormKernels.cpp - group the linalg step into named kernels ---------===//
//
// The kernel stage (DESIGN.md §3, level 4½): on linalg-on-tensors IR,
//   1. named reductions/transposes -> linalg.generic (so they can fuse);
//   2. add(matmul(a, b), x) -> matmul(a, b) accumulating into x;
//   3. elementwise fusion of producers into consumers, then along values
//      other kernels read too; cheap stored values recomputed by readers;
//   4. elementwise kernels over whole tensors as one flat loop;
//   5. every remaining linalg op is one kernel: named and given a kind.
// Both back ends consume the result and do not re-decide the grouping.
//
//===----------------------------------------------------------------------===//
#include "bism/Kernels/Kernels.h"
#include "bism/Lowering/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Linalg/Utils/Utils.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/StringMap.h"

using namespace mlir;

namespace bism {
#define GEN_PASS_DEF_BISMFORMKERNELS
#include "bism/Lowering/Passes.h.inc"
} // namespace bism

namespace {

bool isAllParallel(linalg::LinalgOp op) {
  return op.getNumLoops() == op.getNumParallelLoops();
}

/// Small bodies without transcendentals or divisions (broadcasts, scalings,
/// sums): recomputing one per use costs less than storing it and reading it
/// back.
bool isCheapToRecompute(linalg::GenericOp op) {
  int64_t count = 0;
  for (Operation &inner : op.getBody()->without_terminator()) {
    if (isa<math::MathDialect>(inner.getDialect()) ||
        isa<arith::DivFOp, arith::RemFOp>(inner) || ++count > 8)
      return false;
  }
  return true;
}

/// The most body ops a kernel grows to by fusing a chain of producers.
constexpr int64_t kMaxChainBodyOps = 256;

int64_t bodyOpCount(linalg::GenericOp op);

/// Whether to fuse the producer of `operand` into its consumer: only a
/// producer this consumer alone reads (so nothing is computed twice and the
/// fused op never has to yield the producer's value too, which would let
/// fused bodies grow along every shared value). Read through a
/// broadcasting map it is recomputed per element read: only when cheap.
bool shouldFuse(OpOperand *operand) {
  auto producer = operand->get().getDefiningOp<linalg::GenericOp>();
  auto consumer = dyn_cast<linalg::GenericOp>(operand->getOwner());
  if (!producer || !consumer || !isAllParallel(producer) ||
      producer->getNumResults() != 1)
    return false;
  // Each fusion copies both bodies: along a chain of n ops without a bound
  // that is n^2/2 copies (20,000 ops took minutes). A kernel of this many
  // ops already hides the one store and load a split costs.
  if (bodyOpCount(producer) + bodyOpCount(consumer) > kMaxChainBodyOps)
    return false;
  bool onlyThisConsumer = llvm::all_of(producer->getUsers(), [&](Operation *user) {
    return user == consumer.getOperation();
  });
  if (!onlyThisConsumer)
    return false;
  return consumer.getMatchingIndexingMap(operand).isPermutation() ||
         isCheapToRecompute(producer);
}

/// Bounds on a kernel grown by fusing along shared values: its body's ops
/// and its operands (registers and streams a CPU loop or GPU thread keeps).
constexpr int64_t kMaxFusedBodyOps = 64;
constexpr int64_t kMaxFusedOperands = 16;

int64_t bodyOpCount(linalg::GenericOp op) {
  return int64_t(op.getBody()->getOperations().size()) - 1;
}

/// Whether to fuse a producer that other ops read too into this consumer,
/// the fused kernel also writing the producer's results for them: only
/// between kernels over the same iteration space, each element of the
/// producer read where it is made (identity maps), so nothing is
/// recomputed and no read or write is added; the consumer then reads the
/// producer's inputs once with its own instead of its result (Adam's
/// moment updates and the parameter update that reads them become one
/// pass). The other readers must come after the consumer, which now
/// makes the values they read.
bool shouldFuseSharedValue(OpOperand *operand) {
  auto producer = operand->get().getDefiningOp<linalg::GenericOp>();
  auto consumer = dyn_cast<linalg::GenericOp>(operand->getOwner());
  if (!producer || !consumer || !isAllParallel(producer) ||
      !isAllParallel(consumer) ||
      producer.getStaticLoopRanges() != consumer.getStaticLoopRanges() ||
      !consumer.getMatchingIndexingMap(operand).isIdentity() ||
      producer->getBlock() != consumer->getBlock())
    return false;
  for (OpOperand &init : producer.getDpsInitsMutable())
    if (!producer.getMatchingIndexingMap(&init).isIdentity())
      return false;
  for (Value result : producer->getResults())
    for (Operation *user : result.getUsers())
      if (user != consumer.getOperation() &&
          (user->getBlock() != consumer->getBlock() ||
           !consumer->isBeforeInBlock(user)))
        return false;
  return bodyOpCount(producer) + bodyOpCount(consumer) <= kMaxFusedBodyOps &&
         int64_t(producer->getNumOperands() + consumer->getNumOperands()) <=
             kMaxFusedOperands;
}

/// Fuses producers that others read too (shouldFuseSharedValue) into a
/// consumer. linalg's own pattern keeps the producer for its other readers
/// (computing it twice); here they read the fused kernel's copy, which
/// they may since they all come after it.
struct FuseAlongSharedValue : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp consumer,
                                PatternRewriter &rewriter) const override {
    for (OpOperand &operand : consumer->getOpOperands()) {
      if (!linalg::areElementwiseOpsFusable(&operand) ||
          !shouldFuseSharedValue(&operand))
        continue;
      Operation *producer = operand.get().getDefiningOp();
      FailureOr<linalg::ElementwiseOpFusionResult> fused =
          linalg::fuseElementwiseOps(rewriter, &operand);
      if (failed(fused))
        continue;
      // In result order: `replacements` is a DenseMap keyed by pointers, and
      // the order of these replacements is the order in which the rewriter
      // revisits the readers, so iterating it made kernel formation differ
      // from run to run.
      for (Value original : llvm::concat<Value>(producer->getResults(),
                                                consumer->getResults())) {
        auto replacement = fused->replacements.find(original);
        if (replacement == fused->replacements.end())
          continue;
        rewriter.replaceUsesWithIf(original, replacement->second,
                                   [&](OpOperand &use) {
                                     return use.getOwner() != fused->fusedOp;
                                   });
      }
      if (producer->use_empty())
        rewriter.eraseOp(producer);
      return success();
    }
    return failure();
  }
};

/// Whether `op` runs over `ranges` (all parallel) reading and writing every
/// tensor operand whole in loop order (identity maps; rank-0 inputs read
/// as scalars).
bool isPointwiseOver(linalg::GenericOp op, ArrayRef<int64_t> ranges) {
  if (!isAllParallel(op) || op.getStaticLoopRanges() != ranges)
    return false;
  for (OpOperand &operand : op->getOpOperands()) {
    AffineMap map = op.getMatchingIndexingMap(&operand);
    bool scalar = map.getNumResults() == 0 && op.isDpsInput(&operand);
    if (!map.isIdentity() && !scalar)
      return false;
  }
  return true;
}

/// The ops of `producer`'s body that compute its yielded value `index`, in
/// body order, when that is cheap to do again elsewhere (a few arithmetic
/// ops, square roots, no other transcendental) from its inputs alone;
/// `inputs` gets the input positions it reads.
std::optional<SmallVector<Operation *>>
recomputableSlice(linalg::GenericOp producer, unsigned index,
                  llvm::SmallSetVector<unsigned, 4> &inputs) {
  constexpr size_t kMaxRecomputedOps = 12;
  Block *body = producer.getBody();
  llvm::SmallPtrSet<Operation *, 16> inSlice;
  SmallVector<Value> work = {body->getTerminator()->getOperand(index)};
  while (!work.empty()) {
    Value value = work.pop_back_val();
    if (auto argument = dyn_cast<BlockArgument>(value)) {
      if (argument.getOwner() != body)
        continue;
      if (argument.getArgNumber() >= producer.getNumDpsInputs())
        return std::nullopt; // reads an output's initial value
      inputs.insert(argument.getArgNumber());
      continue;
    }
    Operation *op = value.getDefiningOp();
    if (op->getBlock() != body || !inSlice.insert(op).second)
      continue; // defined outside the kernel (a constant), or seen
    if (!isa<arith::ArithDialect>(op->getDialect()) &&
        !isa<math::SqrtOp, math::FmaOp, math::AbsFOp>(op))
      return std::nullopt;
    if (inSlice.size() > kMaxRecomputedOps)
      return std::nullopt;
    llvm::append_range(work, op->getOperands());
  }
  SmallVector<Operation *> slice;
  for (Operation &op : body->without_terminator())
    if (inSlice.contains(&op))
      slice.push_back(&op);
  return slice;
}

/// `consumer` with its reads of `value` replaced by recomputing it from
/// `producer`'s inputs (`slice`): the needed inputs join the consumer's,
/// the slice is cloned at the top of its body.
void recomputeInConsumer(RewriterBase &rewriter, linalg::GenericOp producer,
                         Value value, ArrayRef<Operation *> slice,
                         ArrayRef<unsigned> producerInputs,
                         linalg::GenericOp consumer) {
  unsigned index = cast<OpResult>(value).getResultNumber();
  SmallVector<Value> inputs(consumer.getDpsInputs());
  SmallVector<AffineMap> maps;
  for (OpOperand *input : consumer.getDpsInputOperands())
    maps.push_back(consumer.getMatchingIndexingMap(input));
  unsigned rank = consumer.getNumLoops();
  // Position in `inputs` of each producer input the slice reads.
  DenseMap<unsigned, unsigned> position;
  for (unsigned producerInput : producerInputs) {
    Value needed = producer.getDpsInputs()[producerInput];
    auto found = llvm::find(inputs, needed);
    if (found == inputs.end()) {
      inputs.push_back(needed);
      maps.push_back(producer.getMatchingIndexingMap(
          producer.getDpsInputOperand(producerInput)));
      found = std::prev(inputs.end());
    }
    position[producerInput] = unsigned(found - inputs.begin());
  }
  for (OpOperand &init : consumer.getDpsInitsMutable())
    maps.push_back(consumer.getMatchingIndexingMap(&init));
  (void)rank;

  rewriter.setInsertionPoint(consumer);
  auto rebuilt = linalg::GenericOp::create(
      rewriter, consumer.getLoc(), consumer->getResultTypes(), inputs,
      consumer.getDpsInits(), maps, consumer.getIteratorTypesArray());
  rebuilt->setDiscardableAttrs(consumer->getDiscardableAttrDictionary());
  Block *oldBody = consumer.getBody();
  SmallVector<Type> argTypes;
  SmallVector<Location> argLocs;
  for (Value input : inputs) {
    argTypes.push_back(getElementTypeOrSelf(input.getType()));
    argLocs.push_back(input.getLoc());
  }
  for (Value init : consumer.getDpsInits()) {
    argTypes.push_back(getElementTypeOrSelf(init.getType()));
    argLocs.push_back(init.getLoc());
  }
  Block *body = rewriter.createBlock(&rebuilt.getRegion(), {}, argTypes, argLocs);
  IRMapping mapping;
  for (unsigned i = 0; i < consumer.getNumDpsInputs(); ++i)
    mapping.map(oldBody->getArgument(i), body->getArgument(i));
  for (unsigned i = 0; i < consumer.getNumDpsInits(); ++i)
    mapping.map(oldBody->getArgument(consumer.getNumDpsInputs() + i),
                body->getArgument(unsigned(inputs.size()) + i));
  IRMapping sliceMapping;
  for (auto [producerInput, at] : position)
    sliceMapping.map(producer.getBody()->getArgument(producerInput),
                     body->getArgument(at));
  for (Operation *op : slice)
    rewriter.clone(*op, sliceMapping);
  Value recomputed = sliceMapping.lookupOrDefault(
      producer.getBody()->getTerminator()->getOperand(index));
  for (OpOperand *input : consumer.getDpsInputOperands())
    if (input->get() == value)
      mapping.map(oldBody->getArgument(input->getOperandNumber()), recomputed);
  for (Operation &op : oldBody->getOperations())
    rewriter.clone(op, mapping);
  rewriter.replaceOp(consumer, rebuilt->getResults());
}

/// A value a kernel stores only for later kernels over the same iteration
/// space, when a few arithmetic ops make it from that kernel's inputs
/// (Adam's square root and ratio, stored by each unrolled step for the
/// reverse sweep), is made again by its readers: each reader reads at most
/// one tensor more than before (the value's own read goes), and the
/// kernel no longer writes it. A reader that already reads every input
/// needed recomputes it even where others keep reading it.
bool recomputeInsteadOfStoring(ModuleOp module) {
  bool changed = false;
  IRRewriter rewriter(module.getContext());
  SmallVector<linalg::GenericOp> producers;
  module.walk([&](linalg::GenericOp op) { producers.push_back(op); });
  llvm::DenseSet<Operation *> replaced;
  for (linalg::GenericOp producer : producers) {
    if (replaced.contains(producer.getOperation()))
      continue; // rebuilt as a reader above
    SmallVector<int64_t> ranges = producer.getStaticLoopRanges();
    if (!isPointwiseOver(producer, ranges))
      continue;
    for (Value value : producer->getResults()) {
      if (value.use_empty())
        continue;
      llvm::SmallSetVector<unsigned, 4> neededInputs;
      std::optional<SmallVector<Operation *>> slice = recomputableSlice(
          producer, cast<OpResult>(value).getResultNumber(), neededInputs);
      if (!slice)
        continue;
      // Readers and the tensors each would read in addition.
      SmallVector<std::pair<linalg::GenericOp, int64_t>> readers;
      bool everyReader = true;
      llvm::SmallPtrSet<Operation *, 4> seen;
      for (Operation *user : value.getUsers()) {
        if (!seen.insert(user).second)
          continue;
        auto consumer = dyn_cast<linalg::GenericOp>(user);
        bool readsWhole =
            consumer && isPointwiseOver(consumer, ranges) &&
            llvm::none_of(consumer.getDpsInits(),
                          [&](Value init) { return init == value; }) &&
            bodyOpCount(consumer) + int64_t(slice->size()) <= kMaxFusedBodyOps;
        if (!readsWhole) {
          everyReader = false;
          continue;
        }
        int64_t added = 0;
        for (unsigned input : neededInputs) {
          Value needed = producer.getDpsInputs()[input];
          if (cast<ShapedType>(needed.getType()).getRank() > 0 &&
              !llvm::is_contained(consumer.getDpsInputs(), needed))
            ++added;
        }
        readers.push_back({consumer, added});
      }
      for (auto [consumer, added] : readers) {
        if (added > 1 || (added == 1 && !everyReader))
          continue;
        replaced.insert(consumer.getOperation());
        recomputeInConsumer(rewriter, producer, value, *slice,
                            neededInputs.getArrayRef(), consumer);
        changed = true;
      }
    }
  }
  return changed;
}

/// A broadcast, transpose or constant fill read by several ops: one copy
/// per reader, each then fused into it (moving data costs more than
/// recomputing an index).
void duplicateDataMovementPerUser(ModuleOp module) {
  SmallVector<linalg::GenericOp> shared;
  module.walk([&](linalg::GenericOp op) {
    if (op->getNumResults() == 1 && !op->getResult(0).hasOneUse() &&
        isAllParallel(op) && op.getBody()->getOperations().size() == 1 &&
        llvm::all_of(op.getDpsInits(), [](Value init) {
          return init.getDefiningOp<tensor::EmptyOp>();
        }))
      shared.push_back(op);
  });
  for (linalg::GenericOp op : shared) {
    SmallVector<OpOperand *> uses;
    for (OpOperand &use : op->getResult(0).getUses())
      uses.push_back(&use);
    for (OpOperand *use : llvm::drop_begin(uses)) {
      OpBuilder builder(use->getOwner());
      use->set(builder.clone(*op)->getResult(0));
    }
  }
}

/// The value `op` fills its output with, when it is a linalg.fill of a
/// constant zero.
bool isZeroFill(Value value) {
  auto fill = value.getDefiningOp<linalg::FillOp>();
  if (!fill)
    return false;
  return matchPattern(fill.getInputs()[0], m_AnyZeroFloat());
}

/// add(matmul(a, b) into zeros, x) -> matmul(a, b) into x. BLAS computes
/// out += a·b, so the addition (a bias, or another product: summed
/// cotangents) costs nothing.
struct AccumulateIntoMatmul : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp add,
                                PatternRewriter &rewriter) const override {
    if (add.getNumDpsInputs() != 2 || add.getNumDpsInits() != 1 ||
        !isAllParallel(add) ||
        !llvm::all_of(add.getIndexingMapsArray(),
                      [](AffineMap map) { return map.isIdentity(); }))
      return failure();
    Block *body = add.getBody();
    if (body->getOperations().size() != 2)
      return failure();
    auto addf = dyn_cast<arith::AddFOp>(body->front());
    if (!addf)
      return failure();
    auto yield = cast<linalg::YieldOp>(body->getTerminator());
    if (yield.getValues()[0] != addf.getResult())
      return failure();
    // addf(in0, in1) in either order.
    Value lhsArg = addf.getLhs(), rhsArg = addf.getRhs();
    if (!isa<BlockArgument>(lhsArg) || !isa<BlockArgument>(rhsArg) ||
        lhsArg == rhsArg)
      return failure();
    for (int productIndex = 0; productIndex < 2; ++productIndex) {
      Value product = add.getDpsInputs()[productIndex];
      Value other = add.getDpsInputs()[1 - productIndex];
      auto matmul = product.getDefiningOp<linalg::LinalgOp>();
      if (!matmul || !isa<linalg::MatmulOp, linalg::BatchMatmulOp>(matmul) ||
          !product.hasOneUse() || matmul.getNumDpsInits() != 1 ||
          !isZeroFill(matmul.getDpsInits()[0]) ||
          other.getType() != product.getType())
        continue;
      rewriter.startOpModification(matmul);
      matmul.getDpsInitsMutable()[0].set(other);
      rewriter.finalizeOpModification(matmul);
      // The matmul must come after `other` is defined.
      if (Operation *definition = other.getDefiningOp())
        if (definition->getBlock() == matmul->getBlock() &&
            matmul->isBeforeInBlock(definition))
          rewriter.moveOpAfter(matmul, definition);
      rewriter.replaceOp(add, product);
      return success();
    }
    return failure();
  }
};

/// a·x accumulated into (a·y accumulated into z) -> a·(x + y) into z, and
/// likewise for a shared right operand: the reverse sweep sums the
/// cotangents of a value read in several places (the GRBM's weight
/// gradient vᵀ·g over the K and N steps), and one matmul of the summed
/// cotangents does the work of all.
struct MergeMatmulsSharingAnOperand : OpRewritePattern<linalg::MatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::MatmulOp outer,
                                PatternRewriter &rewriter) const override {
    auto inner = outer.getDpsInits()[0].getDefiningOp<linalg::MatmulOp>();
    if (!inner || !inner->getResult(0).hasOneUse() ||
        inner.getIndexingMapsAttr() != outer.getIndexingMapsAttr())
      return failure();
    Value innerLhs = inner.getDpsInputs()[0], innerRhs = inner.getDpsInputs()[1];
    Value outerLhs = outer.getDpsInputs()[0], outerRhs = outer.getDpsInputs()[1];
    bool sharedLhs = innerLhs == outerLhs && innerRhs.getType() == outerRhs.getType();
    bool sharedRhs = innerRhs == outerRhs && innerLhs.getType() == outerLhs.getType();
    if (!sharedLhs && !sharedRhs)
      return failure();
    Value first = sharedLhs ? innerRhs : innerLhs;
    Value second = sharedLhs ? outerRhs : outerLhs;
    auto type = cast<RankedTensorType>(first.getType());
    Location loc = outer.getLoc();
    AffineMap identity = rewriter.getMultiDimIdentityMap(unsigned(type.getRank()));
    Value empty = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                          type.getElementType());
    Value sum =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{type}, ValueRange{first, second},
            ValueRange{empty}, ArrayRef<AffineMap>{identity, identity, identity},
            SmallVector<utils::IteratorType>(type.getRank(),
                                             utils::IteratorType::parallel),
            [](OpBuilder &b, Location l, ValueRange args) {
              linalg::YieldOp::create(
                  b, l, Value(arith::AddFOp::create(b, l, args[0], args[1])));
            })
            .getResult(0);
    Value lhs = sharedLhs ? outerLhs : sum, rhs = sharedLhs ? sum : outerRhs;
    auto merged = linalg::MatmulOp::create(rewriter, loc, outer->getResultTypes(),
                                           ValueRange{lhs, rhs},
                                           ValueRange{inner.getDpsInits()[0]});
    merged.setIndexingMapsAttr(outer.getIndexingMapsAttr());
    rewriter.replaceOp(outer, merged->getResults());
    rewriter.eraseOp(inner);
    return success();
  }
};

/// linalg.reduce and linalg.transpose as linalg.generic.
struct GeneralizeForFusion : OpInterfaceRewritePattern<linalg::LinalgOp> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;
  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    if (!isa<linalg::ReduceOp, linalg::TransposeOp, linalg::BroadcastOp,
             linalg::MapOp>(op))
      return failure();
    return linalg::generalizeNamedOp(rewriter, op);
  }
};

/// An all-parallel generic whose operands are all read and written whole in
/// the order of its loops (identity maps; rank-0 operands read as scalars),
/// over at least two static dimensions, becomes the same computation over
/// one flat dimension between a collapse and an expand of its operands
/// (views, no copies). The CPU back end then vectorises it across rows (a
/// 100x4 draw is one loop of 400 rather than 100 loops of 4), and a GPU
/// back end launches one flat grid. `linalg.index` of a dimension becomes
/// its delinearisation, which cancels against the draws' linearisation.
/// Whether the body's loop indices, if it reads any, are only combined into
/// the element's row-major linear index (one affine.linearize_index of all
/// of them): flattening then leaves the work per element as it is. A body
/// that uses the indices apart (a draw that computes one Philox counter for
/// the four elements of an inner loop) keeps its loop nest.
static bool readsOnlyLinearIndex(linalg::GenericOp op) {
  SmallVector<linalg::IndexOp> indices;
  op.getBody()->walk([&](linalg::IndexOp index) { indices.push_back(index); });
  if (indices.empty())
    return true;
  auto linearize = dyn_cast<affine::AffineLinearizeIndexOp>(
      *indices.front()->getUsers().begin());
  if (!linearize || int64_t(indices.size()) != op.getNumLoops())
    return false;
  for (auto [dim, operand] : llvm::enumerate(linearize.getMultiIndex())) {
    auto index = operand.getDefiningOp<linalg::IndexOp>();
    if (!index || index.getDim() != dim || !index->hasOneUse())
      return false;
  }
  return true;
}

struct FlattenElementwise : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    int64_t rank = op.getNumLoops();
    if (rank < 2 || !isAllParallel(op))
      return failure();
    SmallVector<int64_t> shape = op.getStaticLoopRanges();
    if (llvm::any_of(shape, ShapedType::isDynamic) || !readsOnlyLinearIndex(op))
      return failure();
    for (OpOperand &operand : op->getOpOperands()) {
      AffineMap map = op.getMatchingIndexingMap(&operand);
      auto type = dyn_cast<RankedTensorType>(operand.get().getType());
      if (!type)
        return failure();
      bool scalar = map.getNumResults() == 0 && type.getRank() == 0;
      if (!map.isIdentity() && !scalar)
        return failure();
      if (op.isDpsInit(&operand) && scalar)
        return failure();
    }

    Location loc = op.getLoc();
    SmallVector<ReassociationIndices> allDims(1);
    for (int64_t dim = 0; dim < rank; ++dim)
      allDims.front().push_back(dim);
    auto flatten = [&](Value value) -> Value {
      auto type = cast<RankedTensorType>(value.getType());
      if (type.getRank() == 0)
        return value;
      return tensor::CollapseShapeOp::create(rewriter, loc, value, allDims);
    };
    AffineMap flatMap = rewriter.getMultiDimIdentityMap(1);
    AffineMap scalarMap = AffineMap::get(1, 0, rewriter.getContext());
    SmallVector<Value> inputs, inits;
    SmallVector<AffineMap> maps;
    for (OpOperand *input : op.getDpsInputOperands()) {
      inputs.push_back(flatten(input->get()));
      maps.push_back(cast<RankedTensorType>(input->get().getType()).getRank()
                         ? flatMap
                         : scalarMap);
    }
    SmallVector<Type> resultTypes;
    for (OpOperand &init : op.getDpsInitsMutable()) {
      inits.push_back(flatten(init.get()));
      maps.push_back(flatMap);
      resultTypes.push_back(inits.back().getType());
    }
    auto flat = linalg::GenericOp::create(
        rewriter, loc, resultTypes, inputs, inits, maps,
        SmallVector<utils::IteratorType>(1, utils::IteratorType::parallel));
    flat->setDiscardableAttrs(op->getDiscardableAttrDictionary());
    rewriter.inlineRegionBefore(op.getRegion(), flat.getRegion(),
                                flat.getRegion().begin());

    // linalg.index d -> the d-th part of the flat index's delinearisation.
    SmallVector<linalg::IndexOp> indexOps;
    flat.getBody()->walk([&](linalg::IndexOp index) { indexOps.push_back(index); });
    if (!indexOps.empty()) {
      rewriter.setInsertionPointToStart(flat.getBody());
      Value flatIndex = linalg::IndexOp::create(rewriter, loc, 0);
      auto parts = affine::AffineDelinearizeIndexOp::create(
          rewriter, loc, flatIndex, shape, /*hasOuterBound=*/true);
      for (linalg::IndexOp index : indexOps)
        rewriter.replaceOp(index, parts.getResult(index.getDim()));
    }

    rewriter.setInsertionPointAfter(flat);
    SmallVector<Value> results;
    for (auto [result, original] : llvm::zip(flat->getResults(), op->getResults()))
      results.push_back(tensor::ExpandShapeOp::create(
          rewriter, loc, original.getType(), result, allDims));
    rewriter.replaceOp(op, results);
    return success();
  }
};

} // namespace

namespace bism {

StringRef kernelKindName(KernelKind kind) {
  switch (kind) {
  case KernelKind::Elementwise:
    return "elementwise";
  case KernelKind::Reduction:
    return "reduction";
  case KernelKind::Matmul:
    return "matmul";
  case KernelKind::Copy:
    return "copy";
  case KernelKind::Fill:
    return "fill";
  }
  llvm_unreachable("unknown kernel kind");
}

KernelKind classifyKernel(linalg::LinalgOp op) {
  if (isa<linalg::MatmulOp, linalg::BatchMatmulOp>(op))
    return KernelKind::Matmul;
  if (isa<linalg::FillOp>(op))
    return KernelKind::Fill;
  if (!isAllParallel(op))
    return KernelKind::Reduction;
  // A body that only yields moves data (a block argument) or fills (a
  // value from outside).
  Block *body = op.getBlock();
  if (body && body->getOperations().size() == 1) {
    Value yielded = body->getTerminator()->getOperand(0);
    auto argument = dyn_cast<BlockArgument>(yielded);
    return argument && argument.getOwner() == body ? KernelKind::Copy
                                                   : KernelKind::Fill;
  }
  return KernelKind::Elementwise;
}

/// A fill whose only user reads it as the accumulator of another linalg op.
static bool isAccumulatorInit(linalg::FillOp fill) {
  Value result = fill.getResult(0);
  if (!result.hasOneUse())
    return false;
  OpOperand &use = *result.getUses().begin();
  auto user = dyn_cast<linalg::LinalgOp>(use.getOwner());
  return user && user.isDpsInit(&use);
}

/// A kernel's reduction may be summed in any order: its combining op (the
/// one that folds an element into the accumulator) gets `reassoc`, so the
/// CPU back end vectorises it (several partial sums) and the GPU back end
/// can reduce as a tree. Accumulators are f64 for f32 data, so reordering
/// costs no accuracy that matters; the order is still fixed by the code, so
/// runs stay bit-reproducible.
static void allowReassociatingReductions(ModuleOp module) {
  module.walk([](linalg::GenericOp op) {
    if (op.getNumReductionLoops() == 0)
      return;
    auto yield = cast<linalg::YieldOp>(op.getBody()->getTerminator());
    for (auto [index, value] : llvm::enumerate(yield.getValues())) {
      Operation *combiner = value.getDefiningOp();
      if (!combiner ||
          !isa<arith::AddFOp, arith::MulFOp, arith::MaximumFOp,
               arith::MinimumFOp, arith::MaxNumFOp, arith::MinNumFOp>(
              combiner))
        continue;
      Value accumulator =
          op.getBody()->getArgument(op.getNumDpsInputs() + unsigned(index));
      if (!llvm::is_contained(combiner->getOperands(), accumulator))
        continue;
      auto fastMath = cast<arith::ArithFastMathInterface>(combiner);
      fastMath->setAttr(
          fastMath.getFastMathAttrName(),
          arith::FastMathFlagsAttr::get(
              op.getContext(), fastMath.getFastMathFlagsAttr().getValue() |
                                   arith::FastMathFlags::reassoc));
    }
  });
}

void formKernels(ModuleOp module) {
  MLIRContext *ctx = module.getContext();
  // The step is one block of straight-line kernels: no region to simplify
  // (which the greedy driver would otherwise redo over every kernel body
  // after each round).
  GreedyRewriteConfig config;
  config.setRegionSimplificationLevel(GreedySimplifyRegionLevel::Disabled);
  {
    RewritePatternSet patterns(ctx);
    patterns.add<GeneralizeForFusion, AccumulateIntoMatmul,
                 MergeMatmulsSharingAnOperand>(ctx);
    (void)applyPatternsGreedily(module, std::move(patterns), config);
  }
  duplicateDataMovementPerUser(module);
  {
    RewritePatternSet patterns(ctx);
    linalg::populateElementwiseOpsFusionPatterns(patterns, shouldFuse);
    linalg::populateEraseUnusedOperandsAndResultsPatterns(patterns);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, ctx);
    (void)applyPatternsGreedily(module, std::move(patterns), config);
  }
  {
    RewritePatternSet patterns(ctx);
    patterns.add<FuseAlongSharedValue>(ctx);
    linalg::populateEraseUnusedOperandsAndResultsPatterns(patterns);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, ctx);
    (void)applyPatternsGreedily(module, std::move(patterns), config);
  }
  // Each round moves reads to values defined earlier, so this ends; the
  // bound only guards against a mistake.
  for (int round = 0; round < 8 && recomputeInsteadOfStoring(module); ++round) {
    RewritePatternSet patterns(ctx);
    linalg::populateEraseUnusedOperandsAndResultsPatterns(patterns);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, ctx);
    (void)applyPatternsGreedily(module, std::move(patterns), config);
  }
  allowReassociatingReductions(module);
  {
    RewritePatternSet patterns(ctx);
    patterns.add<FlattenElementwise>(ctx);
    affine::AffineLinearizeIndexOp::getCanonicalizationPatterns(patterns, ctx);
    (void)applyPatternsGreedily(module, std::move(patterns), config);
  }
  module.walk([&](func::FuncOp func) {
    int64_t index = 0;
    SmallVector<linalg::FillOp> initFills;
    func.walk([&](linalg::LinalgOp op) {
      auto fill = dyn_cast<linalg::FillOp>(op.getOperation());
      if (fill && isAccumulatorInit(fill)) {
        initFills.push_back(fill);
        return;
      }
      op->setAttr(kKernelNameAttr,
                  StringAttr::get(ctx, func.getSymName() + ".k" +
                                           Twine(index++)));
      op->setAttr(kKernelKindAttr,
                  StringAttr::get(ctx, kernelKindName(classifyKernel(op))));
    });
    // An accumulator's initialisation is part of the kernel that reads it.
    for (linalg::FillOp fill : initFills) {
      Operation *user = *fill.getResult(0).getUsers().begin();
      if (Attribute name = user->getAttr(kKernelNameAttr))
        fill->setAttr(kKernelNameAttr, name);
    }
  });
}

KernelStats collectKernelStats(func::FuncOp func) {
  KernelStats stats;
  func.walk([&](linalg::LinalgOp op) {
    // One op per kernel carries the kind (an initialising fill does not).
    if (!op->hasAttr(kKernelKindAttr))
      return;
    KernelKind kind = classifyKernel(op);
    ++stats.counts[size_t(kind)];
    if (kind == KernelKind::Matmul) {
      // 2 * (batch) * M * N * K from the static loop ranges.
      int64_t flops = 2;
      for (int64_t range : op.getStaticLoopRanges())
        flops *= range;
      stats.matmulFlops += flops;
    }
  });
  return stats;
}

} // namespace bism

namespace {
struct FormKernelsPass
    : bism::impl::BismFormKernelsBase<FormKernelsPass> {
  using BismFormKernelsBase::BismFormKernelsBase;
  void runOnOperation() override {
    bism::formKernels(getOperation());
    if (!stats)
      return;
    getOperation().walk([&](func::FuncOp func) {
      bism::KernelStats counts = bism::collectKernelStats(func);
      if (counts.total() == 0)
        return;
      InFlightDiagnostic remark = func.emitRemark();
      remark << "kernels of @" << func.getSymName() << ": " << counts.total();
      for (size_t kind = 0; kind < bism::kKernelKindCount; ++kind)
        remark << ", " << bism::kernelKindName(bism::KernelKind(kind)) << " "
               << counts.counts[kind];
      remark << "; matmul GFLOP " << double(counts.matmulFlops) * 1e-9;
    });
  }
};
} // namespace
