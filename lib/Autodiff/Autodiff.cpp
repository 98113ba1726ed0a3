//===- Autodiff.cpp - source-to-source differentiation of bism ------------===//
//
// An AD op (bism.grad/vjp/jvp/hvp) is expanded where it stands:
//   1. its callee is inlined at the op, recursively: nested AD ops are
//      expanded as they are met (innermost first), func.calls are inlined,
//      scf.for loops with constant bounds are unrolled. Every op created is
//      logged, so the expansion has the straight-line trace of its callee;
//   2. derivative code is emitted after the trace from the per-op rules
//      (DifferentiableOpInterface): reverse sweep for grad/vjp, forward sweep
//      for jvp, and for hvp a forward sweep over the forward + reverse trace.
// The emitted code is plain bism, so an enclosing expansion differentiates
// it like any other code: that is how nesting to any order works. Loops are
// unrolled only when differentiated through: an AD op in the body of a loop
// that is not itself differentiated is expanded inside the body, once, and
// the loop is kept (test/Autodiff/grad_in_loop.mlir).
//
//===----------------------------------------------------------------------===//
#include "bism/Autodiff/Autodiff.h"

#include "bism/Dialect/Bism.h"
#include "bism/Dialect/DerivativeBuilder.h"
#include "bism/Lowering/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;

namespace bism {
#define GEN_PASS_DEF_BISMAUTODIFF
#include "bism/Lowering/Passes.h.inc"
} // namespace bism

namespace bism::autodiff {
namespace {

bool isFloatTensor(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor && isa<FloatType>(tensor.getElementType());
}

Value zerosOfType(OpBuilder &builder, Location loc, Type type) {
  return DerivativeBuilder(builder, loc).splat(cast<RankedTensorType>(type), 0.0);
}

/// Values of `trace` that depend on `wrt` and from which `outputs` depend.
/// Only float tensors are active: integers, keys and masks carry no
/// derivative, and neither does the result of bism.stop_gradient.
llvm::DenseSet<Value> activeValues(ArrayRef<Operation *> trace, ValueRange wrt,
                                   ValueRange outputs) {
  llvm::DenseSet<Value> dependsOnWrt(wrt.begin(), wrt.end());
  for (Operation *op : trace) {
    // stop_gradient is where dependence is cut by definition.
    if (isa<StopGradientOp>(op))
      continue;
    if (llvm::none_of(op->getOperands(),
                      [&](Value v) { return dependsOnWrt.contains(v); }))
      continue;
    for (Value result : op->getResults())
      if (isFloatTensor(result.getType()))
        dependsOnWrt.insert(result);
  }
  llvm::DenseSet<Value> reachesOutput(outputs.begin(), outputs.end());
  for (Operation *op : llvm::reverse(trace)) {
    if (llvm::none_of(op->getResults(),
                      [&](Value v) { return reachesOutput.contains(v); }))
      continue;
    for (Value operand : op->getOperands())
      reachesOutput.insert(operand);
  }
  llvm::DenseSet<Value> active;
  for (Value value : dependsOnWrt)
    if (reachesOutput.contains(value))
      active.insert(value);
  return active;
}

DifferentiableOpInterface ruleOf(Operation *op, Location loc) {
  auto rule = dyn_cast<DifferentiableOpInterface>(op);
  if (!rule)
    emitError(loc) << "no derivative rule for '" << op->getName()
                   << "' (needed at " << op->getLoc() << ")";
  return rule;
}

} // namespace

LogicalResult emitReverse(OpBuilder &builder, Location loc,
                          ArrayRef<Operation *> trace, ValueRange outputs,
                          ValueRange outputCotangents, ValueRange wrt,
                          SmallVectorImpl<Value> &gradients) {
  llvm::DenseSet<Value> active = activeValues(trace, wrt, outputs);
  DerivativeBuilder d(builder, loc);
  llvm::DenseMap<Value, Value> cotangent;
  auto accumulate = [&](Value value, Value contribution) {
    if (!contribution)
      return;
    Value &slot = cotangent[value];
    slot = d.addOrNull(slot, contribution);
  };
  for (auto [output, seed] : llvm::zip(outputs, outputCotangents))
    if (active.contains(output))
      accumulate(output, seed);

  for (Operation *op : llvm::reverse(trace)) {
    SmallVector<Value> resultCotangents;
    bool any = false;
    for (Value result : op->getResults()) {
      Value c = cotangent.lookup(result);
      resultCotangents.push_back(c);
      any |= bool(c);
    }
    if (!any)
      continue;
    SmallVector<bool> wanted;
    for (Value operand : op->getOperands())
      wanted.push_back(active.contains(operand));
    if (llvm::none_of(wanted, [](bool w) { return w; }))
      continue;
    DifferentiableOpInterface rule = ruleOf(op, loc);
    if (!rule)
      return failure();
    SmallVector<Value> operandCotangents;
    if (failed(rule.buildVjp(builder, resultCotangents, wanted,
                             operandCotangents)))
      return op->emitError("derivative rule (reverse mode) failed");
    if (operandCotangents.size() != op->getNumOperands())
      return op->emitError("derivative rule returned ")
             << operandCotangents.size() << " cotangents for "
             << op->getNumOperands() << " operands";
    for (auto [operand, c, isWanted] :
         llvm::zip(op->getOperands(), operandCotangents, wanted))
      if (isWanted)
        accumulate(operand, c);
  }

  for (Value value : wrt) {
    Value c = cotangent.lookup(value);
    gradients.push_back(c ? c : zerosOfType(builder, loc, value.getType()));
  }
  return success();
}

LogicalResult emitForward(OpBuilder &builder, Location loc,
                          ArrayRef<Operation *> trace, ValueRange wrt,
                          ValueRange tangents, ValueRange outputs,
                          SmallVectorImpl<Value> &outputTangents) {
  llvm::DenseSet<Value> active = activeValues(trace, wrt, outputs);
  llvm::DenseMap<Value, Value> tangent;
  for (auto [value, t] : llvm::zip(wrt, tangents))
    tangent[value] = t;

  for (Operation *op : trace) {
    if (llvm::none_of(op->getResults(),
                      [&](Value v) { return active.contains(v); }))
      continue;
    SmallVector<Value> operandTangents;
    bool any = false;
    for (Value operand : op->getOperands()) {
      Value t = tangent.lookup(operand);
      operandTangents.push_back(t);
      any |= bool(t);
    }
    if (!any)
      continue;
    DifferentiableOpInterface rule = ruleOf(op, loc);
    if (!rule)
      return failure();
    SmallVector<Value> resultTangents;
    if (failed(rule.buildJvp(builder, operandTangents, resultTangents)))
      return op->emitError("derivative rule (forward mode) failed");
    if (resultTangents.size() != op->getNumResults())
      return op->emitError("derivative rule returned ")
             << resultTangents.size() << " tangents for "
             << op->getNumResults() << " results";
    for (auto [result, t] : llvm::zip(op->getResults(), resultTangents))
      if (t)
        tangent[result] = t;
  }

  for (Value output : outputs) {
    Value t = tangent.lookup(output);
    outputTangents.push_back(t ? t : zerosOfType(builder, loc, output.getType()));
  }
  return success();
}

namespace {

/// Records every op the builder creates, in creation order (a topological
/// order: an op is created after its operands).
struct CreationLog : OpBuilder::Listener {
  std::vector<Operation *> ops;
  void notifyOperationInserted(Operation *op, OpBuilder::InsertPoint) override {
    ops.push_back(op);
  }
};

/// Expands AD ops by inlining their callees and emitting derivative code.
class Expander {
public:
  Expander(ModuleOp module) : symbols_(), module_(module) {}

  /// Replaces `op` (an AD op) by its expansion.
  LogicalResult expandInPlace(Operation *op) {
    OpBuilder builder(op);
    builder.setListener(&log_);
    SmallVector<Value> results;
    if (failed(expand(builder, op, op->getOperands(), results)))
      return failure();
    op->replaceAllUsesWith(results);
    op->erase();
    log_.ops.clear();
    return success();
  }

private:
  SymbolTableCollection symbols_;
  ModuleOp module_;
  CreationLog log_;
  /// Functions being inlined, to reject recursion.
  llvm::SetVector<Operation *> inlining_;

  func::FuncOp lookup(Operation *from, FlatSymbolRefAttr name) {
    return symbols_.lookupNearestSymbolFrom<func::FuncOp>(from, name);
  }

  /// Emits the expansion of AD op `op` whose operands are now `operands`.
  LogicalResult expand(OpBuilder &builder, Operation *op, ValueRange operands,
                       SmallVectorImpl<Value> &results) {
    Location loc = op->getLoc();
    auto callee = lookup(op, op->getAttrOfType<FlatSymbolRefAttr>("callee"));
    if (!callee)
      return op->emitOpError("callee not found");
    ArrayRef<int64_t> wrtIndices =
        op->getAttrOfType<DenseI64ArrayAttr>("wrt").asArrayRef();
    unsigned numArgs = callee.getNumArguments();
    SmallVector<Value> arguments(operands.take_front(numArgs));
    ValueRange seeds = operands.drop_front(numArgs);

    // A value passed for a wrt argument and also for another argument would
    // make the two indistinguishable to the sweeps: give the wrt argument its
    // own SSA value (a same-type reshape, folded away by canonicalisation).
    for (int64_t index : wrtIndices) {
      Value value = arguments[index];
      bool aliased = llvm::count(arguments, value) > 1;
      if (aliased)
        arguments[index] = ReshapeOp::create(builder, loc, value.getType(), value);
    }
    SmallVector<Value> wrt;
    for (int64_t index : wrtIndices)
      wrt.push_back(arguments[index]);

    size_t traceStart = log_.ops.size();
    SmallVector<Value> primal;
    if (failed(inlineCall(builder, loc, callee, arguments, primal)))
      return failure();
    auto traceSince = [&](size_t start) {
      return SmallVector<Operation *>(log_.ops.begin() + start, log_.ops.end());
    };

    if (isa<GradOp, HvpOp>(op)) {
      Value one = DerivativeBuilder(builder, loc)
                      .splat(cast<RankedTensorType>(primal[0].getType()), 1.0);
      SmallVector<Value> gradients;
      SmallVector<Operation *> trace = traceSince(traceStart);
      if (failed(emitReverse(builder, loc, trace, primal, ValueRange{one}, wrt,
                             gradients)))
        return failure();
      if (isa<GradOp>(op)) {
        results.append(gradients);
        return success();
      }
      // Forward over reverse: the tangent of the gradient along `seeds`.
      return emitForward(builder, loc, traceSince(traceStart), wrt, seeds,
                         gradients, results);
    }
    if (isa<VjpOp>(op))
      return emitReverse(builder, loc, traceSince(traceStart), primal, seeds,
                         wrt, results);
    return emitForward(builder, loc, traceSince(traceStart), wrt, seeds, primal,
                       results);
  }

  /// Inlines `callee(arguments)` at the builder, expanding what it contains.
  LogicalResult inlineCall(OpBuilder &builder, Location loc,
                           func::FuncOp callee, ValueRange arguments,
                           SmallVectorImpl<Value> &results) {
    if (callee.isExternal())
      return emitError(loc) << "cannot differentiate through the external "
                            << "function @" << callee.getSymName();
    if (!inlining_.insert(callee))
      return emitError(loc) << "cannot differentiate the recursive function @"
                            << callee.getSymName();
    IRMapping mapping;
    Block &body = callee.getBody().front();
    mapping.map(body.getArguments(), arguments);
    LogicalResult status = inlineBlock(builder, body, mapping, results);
    inlining_.pop_back();
    return status;
  }

  /// Clones the ops of `block` (its arguments already mapped); the mapped
  /// operands of its terminator go to `terminatorOperands`.
  LogicalResult inlineBlock(OpBuilder &builder, Block &block,
                            IRMapping &mapping,
                            SmallVectorImpl<Value> &terminatorOperands) {
    for (Operation &op : block) {
      auto mapped = [&](ValueRange values) {
        SmallVector<Value> out;
        for (Value value : values)
          out.push_back(mapping.lookupOrDefault(value));
        return out;
      };
      if (op.hasTrait<OpTrait::IsTerminator>()) {
        terminatorOperands.append(mapped(op.getOperands()));
        return success();
      }
      SmallVector<Value> results;
      if (isa<GradOp, VjpOp, JvpOp, HvpOp>(op)) {
        if (failed(expand(builder, &op, mapped(op.getOperands()), results)))
          return failure();
      } else if (auto call = dyn_cast<func::CallOp>(op)) {
        func::FuncOp callee = lookup(call, call.getCalleeAttr());
        if (!callee)
          return call.emitOpError("callee not found");
        if (failed(inlineCall(builder, call.getLoc(), callee,
                              mapped(call.getOperands()), results)))
          return failure();
      } else if (auto loop = dyn_cast<scf::ForOp>(op)) {
        if (failed(unrollLoop(builder, loop, mapping, results)))
          return failure();
      } else if (op.getNumRegions() != 0) {
        return op.emitOpError("cannot be differentiated: only scf.for loops "
                              "with constant bounds may hold regions in a "
                              "differentiated function");
      } else {
        builder.clone(op, mapping);
        continue;
      }
      mapping.map(op.getResults(), results);
    }
    return success();
  }

  /// Unrolls `loop` (constant bounds) into straight-line code.
  LogicalResult unrollLoop(OpBuilder &builder, scf::ForOp loop,
                           IRMapping &outer, SmallVectorImpl<Value> &results) {
    auto constant = [&](Value value, int64_t &out) {
      APInt bits;
      Value mappedValue = outer.lookupOrDefault(value);
      if (!matchPattern(mappedValue, m_ConstantInt(&bits)))
        return false;
      out = bits.getSExtValue();
      return true;
    };
    int64_t lower, upper, step;
    if (!constant(loop.getLowerBound(), lower) ||
        !constant(loop.getUpperBound(), upper) || !constant(loop.getStep(), step) ||
        step <= 0)
      return loop.emitOpError("is differentiated by unrolling, which needs "
                              "constant bounds and a positive step");
    // Unrolling copies the body once per iteration: a loop to 1e11 would
    // run out of memory after minutes, so the copies are bounded.
    uint64_t trips =
        upper > lower
            ? (uint64_t(upper) - uint64_t(lower) + uint64_t(step) - 1) /
                  uint64_t(step)
            : 0;
    uint64_t bodyOps = unrolledSize(*loop.getBody());
    if (trips > kMaxUnrolledIterations)
      return loop.emitOpError("runs ")
             << trips << " iterations; differentiating it unrolls them, and "
             << "bism unrolls at most " << kMaxUnrolledIterations;
    unrolledOps_ = saturatingAdd(unrolledOps_, saturatingMul(trips, bodyOps));
    if (unrolledOps_ > kMaxUnrolledOps)
      return loop.emitOpError("unrolled for differentiation would make more "
                              "than ")
             << kMaxUnrolledOps << " operations (" << trips
             << " iterations of " << bodyOps
             << " operations once inner loops are unrolled, with the loops "
             << "unrolled before it)";
    SmallVector<Value> carried;
    for (Value init : loop.getInitArgs())
      carried.push_back(outer.lookupOrDefault(init));
    for (uint64_t trip = 0; trip < trips; ++trip) {
      int64_t iv = int64_t(uint64_t(lower) + trip * uint64_t(step));
      IRMapping mapping = outer;
      Value index = arith::ConstantOp::create(
          builder, loop.getLoc(), loop.getInductionVar().getType(),
          builder.getIntegerAttr(loop.getInductionVar().getType(), iv));
      mapping.map(loop.getInductionVar(), index);
      mapping.map(loop.getRegionIterArgs(), carried);
      SmallVector<Value> next;
      if (failed(inlineBlock(builder, *loop.getBody(), mapping, next)))
        return failure();
      carried = next;
    }
    results.append(carried);
    return success();
  }

  static uint64_t saturatingMul(uint64_t a, uint64_t b) {
    uint64_t product;
    return __builtin_mul_overflow(a, b, &product) ? UINT64_MAX : product;
  }
  static uint64_t saturatingAdd(uint64_t a, uint64_t b) {
    return a + b < a ? UINT64_MAX : a + b;
  }

  /// The operations `block` becomes once its constant-bound loops are
  /// unrolled (before anything is copied, so nested loops are judged whole).
  static uint64_t unrolledSize(Block &block) {
    uint64_t size = 0;
    for (Operation &op : block) {
      uint64_t opSize = 1;
      if (auto loop = dyn_cast<scf::ForOp>(op)) {
        APInt lower, upper, step;
        if (matchPattern(loop.getLowerBound(), m_ConstantInt(&lower)) &&
            matchPattern(loop.getUpperBound(), m_ConstantInt(&upper)) &&
            matchPattern(loop.getStep(), m_ConstantInt(&step)) &&
            step.getSExtValue() > 0 &&
            upper.getSExtValue() > lower.getSExtValue()) {
          uint64_t trips = (uint64_t(upper.getSExtValue()) -
                            uint64_t(lower.getSExtValue()) +
                            uint64_t(step.getSExtValue()) - 1) /
                           uint64_t(step.getSExtValue());
          opSize = saturatingAdd(
              1, saturatingMul(trips, unrolledSize(*loop.getBody())));
        }
      } else {
        for (Region &region : op.getRegions())
          for (Block &inner : region)
            opSize = saturatingAdd(opSize, unrolledSize(inner));
      }
      size = saturatingAdd(size, opSize);
    }
    return size;
  }

  static constexpr uint64_t kMaxUnrolledIterations = 100000;
  static constexpr uint64_t kMaxUnrolledOps = 20000000;
  /// Operations copied by unrolling so far in this module.
  uint64_t unrolledOps_ = 0;
};

} // namespace

LogicalResult expandAutodiffOps(ModuleOp module) {
  SmallVector<Operation *> autodiffOps;
  module.walk([&](Operation *op) {
    if (isa<GradOp, VjpOp, JvpOp, HvpOp>(op))
      autodiffOps.push_back(op);
  });
  Expander expander(module);
  for (Operation *op : autodiffOps)
    if (failed(expander.expandInPlace(op)))
      return failure();
  return success();
}

} // namespace bism::autodiff

namespace {
struct AutodiffPass : bism::impl::BismAutodiffBase<AutodiffPass> {
  void runOnOperation() override {
    if (failed(bism::requireStaticShapes(getOperation(), getArgument())) ||
        failed(bism::autodiff::expandAutodiffOps(getOperation())))
      signalPassFailure();
  }
};
} // namespace
