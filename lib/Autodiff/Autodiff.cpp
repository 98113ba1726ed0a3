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
// Checkpointing: an unrolled scf.for marked `bism.checkpoint` (a schedule,
// see Autodiff.h) is reversed segment by segment. Each segment's forward
// ops are cloned again, from its kept loop-carried state, just before that
// segment's reverse sweep, behind a bism.optimization_barrier so that CSE
// cannot merge the copy with the forward code: the forward values then die
// after the forward pass, and the buffer plan holds one segment's values
// plus the kept states. Loops marked so that are not differentiated
// through are unrolled all the same, so that CSE shares their work with the
// differentiated copy (test/Autodiff/checkpoint.mlir).
//
//===----------------------------------------------------------------------===//
#include "bism/Autodiff/Autodiff.h"

#include "bism/Dialect/Bism.h"
#include "bism/Dialect/DerivativeBuilder.h"
#include "bism/Lowering/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
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

int64_t CheckpointSchedule::segmentLength(int64_t trips) const {
  if (kind == Kind::Every)
    return parameter;
  int64_t length = 1;
  while (length * length < trips)
    ++length;
  return length;
}

int64_t CheckpointSchedule::snapshots(int64_t trips) const {
  if (parameter > 0)
    return parameter;
  int64_t count = 1;
  while ((int64_t(1) << count) < trips)
    ++count;
  return count;
}

std::optional<CheckpointSchedule>
parseCheckpointSchedule(llvm::StringRef text, std::string &error) {
  CheckpointSchedule schedule;
  auto [name, argument] = text.split(':');
  bool hasArgument = text.contains(':');
  auto positive = [&](int64_t &out) {
    if (argument.getAsInteger(10, out) || out < 1) {
      error = "'" + text.str() + "': the number after ':' must be an integer "
                                 ">= 1";
      return false;
    }
    return true;
  };
  if (name == "none" && !hasArgument)
    return schedule;
  if (name == "sqrt" && !hasArgument) {
    schedule.kind = CheckpointSchedule::Kind::Sqrt;
    return schedule;
  }
  if (name == "every" && hasArgument) {
    schedule.kind = CheckpointSchedule::Kind::Every;
    if (!positive(schedule.parameter))
      return std::nullopt;
    return schedule;
  }
  if (name == "binomial") {
    schedule.kind = CheckpointSchedule::Kind::Binomial;
    if (hasArgument && !positive(schedule.parameter))
      return std::nullopt;
    return schedule;
  }
  error = "unknown checkpoint schedule '" + text.str() +
          "' (expected none, every:K, sqrt, binomial or binomial:S)";
  return std::nullopt;
}

namespace {

/// An unrolled loop whose reverse sweep recomputes (bism.checkpoint), as
/// positions in a trace: iteration t is ops [starts[t], starts[t+1]);
/// carried[t] are the values entering iteration t (carried[T] the results).
struct CheckpointedLoop {
  CheckpointSchedule schedule;
  SmallVector<size_t> starts;
  SmallVector<SmallVector<Value>> carried;
  size_t trips() const { return starts.size() - 1; }
};

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

LogicalResult reverseSweep(OpBuilder &builder, Location loc,
                           ArrayRef<Operation *> trace, ValueRange outputs,
                           ValueRange outputCotangents, ValueRange wrt,
                           ArrayRef<CheckpointedLoop> loops,
                           SmallVectorImpl<Value> &gradients);

/// The reverse sweep through one checkpointed loop of a trace. Cotangents
/// live in the enclosing sweep's map, keyed by the forward (original)
/// values: a segment's recomputed copy is seeded with the cotangents of the
/// originals it copies, and what its own sweep finds for its inputs is
/// added to the originals they stand for.
class CheckpointedReverse {
public:
  using Accumulate = llvm::function_ref<void(Value, Value)>;
  CheckpointedReverse(OpBuilder &builder, Location loc,
                      ArrayRef<Operation *> trace, const CheckpointedLoop &loop,
                      const llvm::DenseSet<Value> &active,
                      const llvm::DenseMap<Value, Value> &cotangent,
                      Accumulate accumulate)
      : builder_(builder), loc_(loc), trace_(trace), loop_(loop),
        active_(active), cotangent_(cotangent), accumulate_(accumulate) {}

  LogicalResult run() {
    size_t trips = loop_.trips();
    const CheckpointSchedule &schedule = loop_.schedule;
    if (schedule.kind == CheckpointSchedule::Kind::Binomial)
      return reverseBinomial(0, trips, loop_.carried[0],
                             schedule.snapshots(int64_t(trips)),
                             /*forwardComputed=*/true);
    // every:K, sqrt: the kept states are the forward's own, at the segment
    // starts; each segment but the last is recomputed once and reversed
    // whole.
    size_t length = size_t(schedule.segmentLength(int64_t(trips)));
    size_t segments = (trips + length - 1) / length;
    for (size_t segment = segments; segment-- > 0;) {
      size_t begin = segment * length, end = std::min(trips, begin + length);
      if (failed(reverseSegment(begin, end, loop_.carried[begin],
                                /*fromForward=*/segment + 1 == segments)))
        return failure();
    }
    return success();
  }

private:
  OpBuilder &builder_;
  Location loc_;
  ArrayRef<Operation *> trace_;
  const CheckpointedLoop &loop_;
  const llvm::DenseSet<Value> &active_;
  const llvm::DenseMap<Value, Value> &cotangent_;
  Accumulate accumulate_;

  /// Griewank's β(s, r) = C(s + r, s): the longest loop that s snapshots
  /// reverse with each iteration recomputed at most r times.
  static size_t beta(size_t s, size_t r) {
    double value = 1;
    for (size_t i = 1; i <= s; ++i)
      value = value * double(r + i) / double(i);
    return value > 1e18 ? size_t(1e18) : size_t(value);
  }

  /// Reverses iterations [a, b) given the state entering a and `snapshots`
  /// free snapshots. Where the forward pass itself went through [a, b)
  /// (the last range of each split), the split's state is the forward's
  /// value, kept; elsewhere it is recomputed from `state`.
  LogicalResult reverseBinomial(size_t a, size_t b, ValueRange state,
                                int64_t snapshots, bool forwardComputed) {
    size_t length = b - a;
    if (length == 1)
      return reverseSegment(a, b, state, /*fromForward=*/forwardComputed);
    if (snapshots == 0) {
      for (size_t i = b; i-- > a;) {
        SmallVector<Value> entering =
            i == a ? SmallVector<Value>(state) : advance(a, i, state);
        if (failed(reverseSegment(i, i + 1, entering)))
          return failure();
      }
      return success();
    }
    size_t repetitions = 1;
    while (beta(size_t(snapshots), repetitions) < length)
      ++repetitions;
    // The right part takes one snapshot fewer at the same repetitions, the
    // left part one repetition fewer: β(s, r) = β(s, r-1) + β(s-1, r).
    size_t right = std::min(beta(size_t(snapshots) - 1, repetitions),
                            length - 1);
    size_t split = b - right;
    SmallVector<Value> atSplit =
        forwardComputed ? SmallVector<Value>(loop_.carried[split])
                        : advance(a, split, state);
    if (failed(reverseBinomial(split, b, atSplit, snapshots - 1,
                               forwardComputed)))
      return failure();
    return reverseBinomial(a, split, state, snapshots, false);
  }

  /// What iterations [a, b) read from outside: carried[a] and the other
  /// values defined before them, tensors that are not constants.
  SmallVector<Value> segmentInputs(size_t a, size_t b) {
    llvm::DenseSet<Operation *> inRange;
    for (size_t i = loop_.starts[a]; i < loop_.starts[b]; ++i)
      inRange.insert(trace_[i]);
    auto isInput = [](Value value) {
      return isa<RankedTensorType>(value.getType()) &&
             !matchPattern(value, m_Constant());
    };
    llvm::SetVector<Value> inputs;
    for (Value value : loop_.carried[a])
      if (isInput(value))
        inputs.insert(value);
    for (size_t i = loop_.starts[a]; i < loop_.starts[b]; ++i)
      for (Value operand : trace_[i]->getOperands()) {
        Operation *def = operand.getDefiningOp();
        if ((!def || !inRange.contains(def)) && isInput(operand))
          inputs.insert(operand);
      }
    return SmallVector<Value>(inputs.begin(), inputs.end());
  }

  /// A copy of iterations [a, b) computed from `state` (for carried[a]),
  /// its inputs behind an optimization barrier. Returns the map from the
  /// forward values to the copy's; `copies` gets the copied ops in order,
  /// `inputs` each forward input with the value the copy reads instead.
  IRMapping copyIterations(size_t a, size_t b, ValueRange state,
                           SmallVectorImpl<Operation *> &copies,
                           SmallVectorImpl<std::pair<Value, Value>> &inputs) {
    // The forward input each state value stands for.
    IRMapping stateOf;
    for (auto [original, value] : llvm::zip(loop_.carried[a], state))
      stateOf.map(original, value);
    SmallVector<Value> originals = segmentInputs(a, b), values;
    for (Value original : originals)
      values.push_back(stateOf.lookupOrDefault(original));
    auto barrier = OptimizationBarrierOp::create(
        builder_, loc_, ValueRange(values).getTypes(), values);
    IRMapping mapping;
    for (auto [original, value] : llvm::zip(loop_.carried[a], state))
      mapping.map(original, value); // non-tensor or constant state
    for (auto [original, result] : llvm::zip(originals, barrier.getResults())) {
      mapping.map(original, result);
      inputs.push_back({original, result});
    }
    for (size_t i = loop_.starts[a]; i < loop_.starts[b]; ++i)
      copies.push_back(builder_.clone(*trace_[i], mapping));
    return mapping;
  }

  /// The state entering iteration m, recomputed from the state entering a.
  SmallVector<Value> advance(size_t a, size_t m, ValueRange state) {
    SmallVector<Operation *> copies;
    SmallVector<std::pair<Value, Value>> inputs;
    IRMapping mapping = copyIterations(a, m, state, copies, inputs);
    SmallVector<Value> entering;
    for (Value value : loop_.carried[m])
      entering.push_back(mapping.lookupOrDefault(value));
    return entering;
  }

  /// Recomputes iterations [a, b) from `state` and emits their reverse
  /// sweep, seeded with the cotangents of every forward value they define.
  /// With `fromForward` (the segment the forward pass ended with, whose
  /// values are still live when the reverse sweep starts) the sweep reads
  /// the forward values instead of a copy.
  LogicalResult reverseSegment(size_t a, size_t b, ValueRange state,
                               bool fromForward = false) {
    SmallVector<Operation *> copies;
    SmallVector<std::pair<Value, Value>> inputs;
    IRMapping mapping;
    if (fromForward) {
      for (size_t i = loop_.starts[a]; i < loop_.starts[b]; ++i)
        copies.push_back(trace_[i]);
      for (Value input : segmentInputs(a, b))
        inputs.push_back({input, input});
    } else {
      mapping = copyIterations(a, b, state, copies, inputs);
    }
    SmallVector<Value> outputs, seeds;
    for (size_t i = loop_.starts[a]; i < loop_.starts[b]; ++i)
      for (Value result : trace_[i]->getResults())
        if (Value seed = cotangent_.lookup(result)) {
          outputs.push_back(mapping.lookupOrDefault(result));
          seeds.push_back(seed);
        }
    if (outputs.empty())
      return success();
    SmallVector<Value> wrt, originals;
    for (auto [original, copy] : inputs)
      if (active_.contains(original)) {
        originals.push_back(original);
        wrt.push_back(copy);
      }
    SmallVector<Value> gradients;
    if (failed(reverseSweep(builder_, loc_, copies, outputs, seeds, wrt, {},
                            gradients)))
      return failure();
    for (auto [original, gradient] : llvm::zip(originals, gradients))
      accumulate_(original, gradient);
    return success();
  }
};

/// emitReverse with the checkpointed loops of `trace`; a gradient is null
/// where nothing reaches its `wrt` value.
LogicalResult reverseSweep(OpBuilder &builder, Location loc,
                           ArrayRef<Operation *> trace, ValueRange outputs,
                           ValueRange outputCotangents, ValueRange wrt,
                           ArrayRef<CheckpointedLoop> loops,
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

  llvm::DenseMap<size_t, const CheckpointedLoop *> loopEndingAt;
  for (const CheckpointedLoop &loop : loops)
    if (loop.trips() > 0)
      loopEndingAt[loop.starts.back() - 1] = &loop;

  for (size_t index = trace.size(); index-- > 0;) {
    if (const CheckpointedLoop *loop = loopEndingAt.lookup(index)) {
      CheckpointedReverse reversal(builder, loc, trace, *loop, active,
                                   cotangent, accumulate);
      if (failed(reversal.run()))
        return failure();
      index = loop->starts.front();
      continue;
    }
    Operation *op = trace[index];
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

  for (Value value : wrt)
    gradients.push_back(cotangent.lookup(value));
  return success();
}

LogicalResult emitReverseWithLoops(OpBuilder &builder, Location loc,
                                   ArrayRef<Operation *> trace,
                                   ValueRange outputs,
                                   ValueRange outputCotangents, ValueRange wrt,
                                   ArrayRef<CheckpointedLoop> loops,
                                   SmallVectorImpl<Value> &gradients) {
  SmallVector<Value> found;
  if (failed(reverseSweep(builder, loc, trace, outputs, outputCotangents, wrt,
                          loops, found)))
    return failure();
  for (auto [value, gradient] : llvm::zip(wrt, found))
    gradients.push_back(gradient ? gradient
                                 : zerosOfType(builder, loc, value.getType()));
  return success();
}

} // namespace

LogicalResult emitReverse(OpBuilder &builder, Location loc,
                          ArrayRef<Operation *> trace, ValueRange outputs,
                          ValueRange outputCotangents, ValueRange wrt,
                          SmallVectorImpl<Value> &gradients) {
  return emitReverseWithLoops(builder, loc, trace, outputs, outputCotangents,
                              wrt, {}, gradients);
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
    loops_.clear();
    return success();
  }

private:
  SymbolTableCollection symbols_;
  ModuleOp module_;
  CreationLog log_;
  /// The checkpointed loops unrolled into the log (positions in log_.ops).
  std::vector<CheckpointedLoop> loops_;
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

    SmallVector<CheckpointedLoop> loops = checkpointedLoopsSince(traceStart);
    if (isa<GradOp, HvpOp>(op)) {
      Value one = DerivativeBuilder(builder, loc)
                      .splat(cast<RankedTensorType>(primal[0].getType()), 1.0);
      SmallVector<Value> gradients;
      SmallVector<Operation *> trace = traceSince(traceStart);
      if (failed(emitReverseWithLoops(builder, loc, trace, primal,
                                      ValueRange{one}, wrt, loops, gradients)))
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
      return emitReverseWithLoops(builder, loc, traceSince(traceStart), primal,
                                  seeds, wrt, loops, results);
    return emitForward(builder, loc, traceSince(traceStart), wrt, seeds, primal,
                       results);
  }

  /// The checkpointed loops unrolled since log position `start`, relative to
  /// it; a loop inside another one is left to the outer one's copies.
  SmallVector<CheckpointedLoop> checkpointedLoopsSince(size_t start) {
    SmallVector<CheckpointedLoop> found;
    for (const CheckpointedLoop &loop : loops_) {
      if (loop.starts.front() < start)
        continue;
      bool nested = llvm::any_of(loops_, [&](const CheckpointedLoop &other) {
        return &other != &loop && other.starts.front() >= start &&
               other.starts.front() <= loop.starts.front() &&
               loop.starts.back() <= other.starts.back() &&
               other.starts.back() - other.starts.front() >
                   loop.starts.back() - loop.starts.front();
      });
      if (nested)
        continue;
      CheckpointedLoop relative = loop;
      for (size_t &position : relative.starts)
        position -= start;
      found.push_back(std::move(relative));
    }
    return found;
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
      } else if (auto choice = dyn_cast<scf::IndexSwitchOp>(op)) {
        // A switch on the induction variable of an unrolled loop (a loop
        // body picking its iteration's input) is resolved here.
        APInt index;
        if (!matchPattern(mapping.lookupOrDefault(choice.getArg()),
                          m_ConstantInt(&index)))
          return choice.emitOpError("is differentiated only with a constant "
                                    "index (inside an unrolled loop)");
        Block *chosen = &choice.getDefaultBlock();
        for (auto [value, region] :
             llvm::zip(choice.getCases(), choice.getCaseRegions()))
          if (value == index.getSExtValue())
            chosen = &region.front();
        if (failed(inlineBlock(builder, *chosen, mapping, results)))
          return failure();
      } else if (op.getNumRegions() != 0) {
        return op.emitOpError("cannot be differentiated: only scf.for loops "
                              "with constant bounds (and scf.index_switch on their "
                              "induction variable) may hold regions in a "
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
    std::optional<CheckpointSchedule> schedule;
    if (auto attr = loop->getAttr(kCheckpointAttr)) {
      std::string error;
      auto text = dyn_cast<StringAttr>(attr);
      if (text)
        schedule = parseCheckpointSchedule(text.getValue(), error);
      if (!schedule)
        return loop.emitOpError("has a bad '")
               << kCheckpointAttr << "': "
               << (text ? error : std::string("expected a string"));
    }
    CheckpointedLoop record;
    bool checkpointed = schedule &&
                        schedule->kind != CheckpointSchedule::Kind::None &&
                        trips > 1;
    if (checkpointed)
      record.schedule = *schedule;
    for (uint64_t trip = 0; trip < trips; ++trip) {
      if (checkpointed) {
        record.starts.push_back(log_.ops.size());
        record.carried.push_back(carried);
      }
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
    if (checkpointed) {
      record.starts.push_back(log_.ops.size());
      record.carried.push_back(carried);
      loops_.push_back(std::move(record));
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
  // A loop marked for checkpointing is an unrolled loop by declaration:
  // where nothing differentiated it, it is unrolled here all the same, so
  // that CSE shares its work with a differentiated copy of it.
  SmallVector<scf::ForOp> marked;
  module.walk([&](scf::ForOp loop) {
    if (loop->hasAttr(kCheckpointAttr))
      marked.push_back(loop);
  });
  for (scf::ForOp loop : marked)
    if (failed(loopUnrollFull(loop)))
      return loop.emitOpError("marked '")
             << kCheckpointAttr << "' could not be unrolled (constant bounds "
             << "are needed)";
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
