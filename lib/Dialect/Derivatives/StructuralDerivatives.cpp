//===- StructuralDerivatives.cpp - derivative rules --------------------------===//
//
// VJP and JVP rules of the structural ops: matmul, the reductions, broadcast,
// reshape, transpose, slice, concat, pad, reverse and optimization_barrier
// (the identity). Every rule emits bism ops only (so it can be
// differentiated again) and is exact: the VJP of broadcast is a sum over the broadcast dimensions, the VJP of a strided
// slice is a pad with interior zeros and vice versa, the VJP of reduce_max
// splits the cotangent evenly among the positions equal to the maximum.
//
//===----------------------------------------------------------------------===//
#include "bism/Dialect/DerivativeBuilder.h"

#include "mlir/IR/DialectRegistry.h"

using namespace mlir;

namespace bism {
namespace {

RankedTensorType tensorTypeOf(Value value) {
  return cast<RankedTensorType>(value.getType());
}

/// The reduction's result type with keep_dims.
RankedTensorType keepDimsType(RankedTensorType input, ArrayRef<int64_t> axes) {
  return ReduceSumOp::inferResultType(input, axes, /*keepDims=*/true);
}

/// Broadcasts `reduced` (a reduction's result over `axes`, with or without
/// keep_dims) back to `input`.
Value expandReduced(DerivativeBuilder &d, Value reduced, ArrayRef<int64_t> axes,
                    RankedTensorType input) {
  Value kept = d.reshape(reduced, keepDimsType(input, axes));
  return d.broadcastTo(kept, input);
}

/// Number of elements a reduction over `axes` combines.
int64_t reducedCount(RankedTensorType input, ArrayRef<int64_t> axes) {
  int64_t count = 1;
  for (int64_t axis : axes)
    count *= input.getDimSize(axis);
  return count;
}

/// 1.0 where `condition` holds, 0.0 elsewhere, with the type of `like`.
Value floatMask(DerivativeBuilder &d, Value condition, Value like) {
  return d.select(condition, d.splatLike(like, 1.0), d.splatLike(like, 0.0));
}

//===----------------------------------------------------------------------===//
// Matmul: C = opA(A) opB(B), op = identity or swap of the two minor dims.
//===----------------------------------------------------------------------===//

struct MatmulModel
    : DifferentiableOpInterface::ExternalModel<MatmulModel, MatmulOp> {
  LogicalResult buildVjp(Operation *op, OpBuilder &b, ValueRange cotangents,
                         ArrayRef<bool> wanted,
                         SmallVectorImpl<Value> &operandCotangents) const {
    auto matmul = cast<MatmulOp>(op);
    Value dc = cotangents[0];
    Value a = matmul.getLhs(), bv = matmul.getRhs();
    bool ta = matmul.getTransposeLhs(), tb = matmul.getTransposeRhs();
    DerivativeBuilder d(b, op->getLoc());
    Value da, db;
    if (dc && wanted[0]) {
      // d opA(A) = dC opB(B)^T.
      if (!ta)
        da = tb ? d.matmul(dc, bv, false, false) : d.matmul(dc, bv, false, true);
      else // dA = (dC opB(B)^T)^T = opB(B) dC^T.
        da = tb ? d.matmul(bv, dc, true, true) : d.matmul(bv, dc, false, true);
    }
    if (dc && wanted[1]) {
      // d opB(B) = opA(A)^T dC.
      if (!tb)
        db = ta ? d.matmul(a, dc, false, false) : d.matmul(a, dc, true, false);
      else // dB = (opA(A)^T dC)^T = dC^T opA(A).
        db = ta ? d.matmul(dc, a, true, true) : d.matmul(dc, a, true, false);
    }
    operandCotangents.push_back(da);
    operandCotangents.push_back(db);
    return success();
  }

  LogicalResult buildJvp(Operation *op, OpBuilder &b, ValueRange tangents,
                         SmallVectorImpl<Value> &resultTangents) const {
    auto matmul = cast<MatmulOp>(op);
    bool ta = matmul.getTransposeLhs(), tb = matmul.getTransposeRhs();
    DerivativeBuilder d(b, op->getLoc());
    Value fromA, fromB;
    if (tangents[0])
      fromA = d.matmul(tangents[0], matmul.getRhs(), ta, tb);
    if (tangents[1])
      fromB = d.matmul(matmul.getLhs(), tangents[1], ta, tb);
    resultTangents.push_back(d.addOrNull(fromA, fromB));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

struct ReduceSumModel
    : DifferentiableOpInterface::ExternalModel<ReduceSumModel, ReduceSumOp> {
  LogicalResult buildVjp(Operation *op, OpBuilder &b, ValueRange cotangents,
                         ArrayRef<bool> wanted,
                         SmallVectorImpl<Value> &operandCotangents) const {
    auto reduce = cast<ReduceSumOp>(op);
    if (!cotangents[0] || !wanted[0]) {
      operandCotangents.push_back(Value());
      return success();
    }
    DerivativeBuilder d(b, op->getLoc());
    operandCotangents.push_back(expandReduced(
        d, cotangents[0], reduce.getAxes(), tensorTypeOf(reduce.getOperand())));
    return success();
  }

  LogicalResult buildJvp(Operation *op, OpBuilder &b, ValueRange tangents,
                         SmallVectorImpl<Value> &resultTangents) const {
    auto reduce = cast<ReduceSumOp>(op);
    if (!tangents[0]) {
      resultTangents.push_back(Value());
      return success();
    }
    DerivativeBuilder d(b, op->getLoc());
    resultTangents.push_back(d.create<ReduceSumOp>(
        reduce.getType(), tangents[0], reduce.getAxes(), reduce.getKeepDims()));
    return success();
  }
};

struct ReduceMeanModel
    : DifferentiableOpInterface::ExternalModel<ReduceMeanModel, ReduceMeanOp> {
  LogicalResult buildVjp(Operation *op, OpBuilder &b, ValueRange cotangents,
                         ArrayRef<bool> wanted,
                         SmallVectorImpl<Value> &operandCotangents) const {
    auto reduce = cast<ReduceMeanOp>(op);
    if (!cotangents[0] || !wanted[0]) {
      operandCotangents.push_back(Value());
      return success();
    }
    DerivativeBuilder d(b, op->getLoc());
    RankedTensorType input = tensorTypeOf(reduce.getOperand());
    Value scaled = d.scale(cotangents[0],
                           1.0 / double(reducedCount(input, reduce.getAxes())));
    operandCotangents.push_back(
        expandReduced(d, scaled, reduce.getAxes(), input));
    return success();
  }

  LogicalResult buildJvp(Operation *op, OpBuilder &b, ValueRange tangents,
                         SmallVectorImpl<Value> &resultTangents) const {
    auto reduce = cast<ReduceMeanOp>(op);
    if (!tangents[0]) {
      resultTangents.push_back(Value());
      return success();
    }
    DerivativeBuilder d(b, op->getLoc());
    resultTangents.push_back(d.create<ReduceMeanOp>(
        reduce.getType(), tangents[0], reduce.getAxes(), reduce.getKeepDims()));
    return success();
  }
};

/// The weights w with y' = sum(w * x') for reduce_max: 1/count at the
/// positions equal to the maximum, 0 elsewhere.
Value maxWeights(DerivativeBuilder &d, ReduceMaxOp reduce) {
  Value x = reduce.getOperand();
  RankedTensorType input = tensorTypeOf(x);
  ArrayRef<int64_t> axes = reduce.getAxes();
  Value maximum = expandReduced(d, reduce.getResult(), axes, input);
  Value mask = floatMask(d, d.compare(ComparePredicate::eq, x, maximum), x);
  Value count = d.reduceSum(mask, axes, /*keepDims=*/true);
  return d.div(mask, d.broadcastTo(count, input));
}

struct ReduceMaxModel
    : DifferentiableOpInterface::ExternalModel<ReduceMaxModel, ReduceMaxOp> {
  LogicalResult buildVjp(Operation *op, OpBuilder &b, ValueRange cotangents,
                         ArrayRef<bool> wanted,
                         SmallVectorImpl<Value> &operandCotangents) const {
    auto reduce = cast<ReduceMaxOp>(op);
    if (!cotangents[0] || !wanted[0]) {
      operandCotangents.push_back(Value());
      return success();
    }
    DerivativeBuilder d(b, op->getLoc());
    RankedTensorType input = tensorTypeOf(reduce.getOperand());
    Value weights = maxWeights(d, reduce);
    operandCotangents.push_back(d.mul(
        weights, expandReduced(d, cotangents[0], reduce.getAxes(), input)));
    return success();
  }

  LogicalResult buildJvp(Operation *op, OpBuilder &b, ValueRange tangents,
                         SmallVectorImpl<Value> &resultTangents) const {
    auto reduce = cast<ReduceMaxOp>(op);
    if (!tangents[0]) {
      resultTangents.push_back(Value());
      return success();
    }
    DerivativeBuilder d(b, op->getLoc());
    Value weighted = d.mul(maxWeights(d, reduce), tangents[0]);
    resultTangents.push_back(
        d.reduceSum(weighted, reduce.getAxes(), reduce.getKeepDims()));
    return success();
  }
};

/// softmax(x) over the reduced axes: exp(x - broadcast(logsumexp(x))).
Value softmaxWeights(DerivativeBuilder &d, ReduceLogSumExpOp reduce) {
  Value x = reduce.getOperand();
  Value lse =
      expandReduced(d, reduce.getResult(), reduce.getAxes(), tensorTypeOf(x));
  return d.create<ExpOp>(d.sub(x, lse));
}

struct ReduceLogSumExpModel
    : DifferentiableOpInterface::ExternalModel<ReduceLogSumExpModel,
                                               ReduceLogSumExpOp> {
  LogicalResult buildVjp(Operation *op, OpBuilder &b, ValueRange cotangents,
                         ArrayRef<bool> wanted,
                         SmallVectorImpl<Value> &operandCotangents) const {
    auto reduce = cast<ReduceLogSumExpOp>(op);
    if (!cotangents[0] || !wanted[0]) {
      operandCotangents.push_back(Value());
      return success();
    }
    DerivativeBuilder d(b, op->getLoc());
    RankedTensorType input = tensorTypeOf(reduce.getOperand());
    Value weights = softmaxWeights(d, reduce);
    operandCotangents.push_back(d.mul(
        weights, expandReduced(d, cotangents[0], reduce.getAxes(), input)));
    return success();
  }

  LogicalResult buildJvp(Operation *op, OpBuilder &b, ValueRange tangents,
                         SmallVectorImpl<Value> &resultTangents) const {
    auto reduce = cast<ReduceLogSumExpOp>(op);
    if (!tangents[0]) {
      resultTangents.push_back(Value());
      return success();
    }
    DerivativeBuilder d(b, op->getLoc());
    Value weighted = d.mul(softmaxWeights(d, reduce), tangents[0]);
    resultTangents.push_back(
        d.reduceSum(weighted, reduce.getAxes(), reduce.getKeepDims()));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Shape ops
//===----------------------------------------------------------------------===//

/// Rules of a single-operand op whose VJP and JVP are each one linear map of
/// the (co)tangent: `Derived` provides `pullback(d, op, cotangent)` and
/// `pushforward(d, op, tangent)` for non-null arguments.
template <typename Derived, typename OpTy>
struct LinearUnaryModel
    : DifferentiableOpInterface::ExternalModel<Derived, OpTy> {
  LogicalResult buildVjp(Operation *op, OpBuilder &b, ValueRange cotangents,
                         ArrayRef<bool> wanted,
                         SmallVectorImpl<Value> &operandCotangents) const {
    if (!cotangents[0] || !wanted[0]) {
      operandCotangents.push_back(Value());
      return success();
    }
    DerivativeBuilder d(b, op->getLoc());
    operandCotangents.push_back(
        Derived::pullback(d, cast<OpTy>(op), cotangents[0]));
    return success();
  }

  LogicalResult buildJvp(Operation *op, OpBuilder &b, ValueRange tangents,
                         SmallVectorImpl<Value> &resultTangents) const {
    if (!tangents[0]) {
      resultTangents.push_back(Value());
      return success();
    }
    DerivativeBuilder d(b, op->getLoc());
    resultTangents.push_back(
        Derived::pushforward(d, cast<OpTy>(op), tangents[0]));
    return success();
  }
};

struct BroadcastModel : LinearUnaryModel<BroadcastModel, BroadcastOp> {
  static Value pullback(DerivativeBuilder &d, BroadcastOp op, Value dy) {
    return d.sumToType(dy, tensorTypeOf(op.getOperand()));
  }
  static Value pushforward(DerivativeBuilder &d, BroadcastOp op, Value dx) {
    return d.broadcastTo(dx, op.getType());
  }
};

struct ReshapeModel : LinearUnaryModel<ReshapeModel, ReshapeOp> {
  static Value pullback(DerivativeBuilder &d, ReshapeOp op, Value dy) {
    return d.reshape(dy, tensorTypeOf(op.getOperand()));
  }
  static Value pushforward(DerivativeBuilder &d, ReshapeOp op, Value dx) {
    return d.reshape(dx, op.getType());
  }
};

struct TransposeModel : LinearUnaryModel<TransposeModel, TransposeOp> {
  static Value pullback(DerivativeBuilder &d, TransposeOp op, Value dy) {
    ArrayRef<int64_t> permutation = op.getPermutation();
    SmallVector<int64_t> inverse(permutation.size());
    for (auto [index, dim] : llvm::enumerate(permutation))
      inverse[dim] = int64_t(index);
    return d.transpose(dy, inverse);
  }
  static Value pushforward(DerivativeBuilder &d, TransposeOp op, Value dx) {
    return d.transpose(dx, op.getPermutation());
  }
};

struct SliceModel : LinearUnaryModel<SliceModel, SliceOp> {
  static Value pullback(DerivativeBuilder &d, SliceOp op, Value dy) {
    RankedTensorType input = tensorTypeOf(op.getOperand());
    RankedTensorType result = op.getType();
    ArrayRef<int64_t> starts = op.getStarts(), strides = op.getStrides();
    SmallVector<int64_t> low, high, interior;
    for (int64_t dim = 0; dim < input.getRank(); ++dim) {
      int64_t n = result.getDimSize(dim);
      int64_t last = starts[dim] + (n - 1) * strides[dim];
      low.push_back(starts[dim]);
      interior.push_back(strides[dim] - 1);
      high.push_back(input.getDimSize(dim) - (last + 1));
    }
    return d.pad(dy, low, high, interior);
  }
  static Value pushforward(DerivativeBuilder &d, SliceOp op, Value dx) {
    return d.slice(dx, op.getStarts(), op.getLimits(), op.getStrides());
  }
};

struct PadModel : LinearUnaryModel<PadModel, PadOp> {
  static Value pullback(DerivativeBuilder &d, PadOp op, Value dy) {
    RankedTensorType input = tensorTypeOf(op.getOperand());
    ArrayRef<int64_t> low = op.getLow(), interior = op.getInterior();
    SmallVector<int64_t> starts, limits, strides;
    for (int64_t dim = 0; dim < input.getRank(); ++dim) {
      int64_t size = input.getDimSize(dim), stride = interior[dim] + 1;
      starts.push_back(low[dim]);
      limits.push_back(low[dim] + (size - 1) * stride + 1);
      strides.push_back(stride);
    }
    return d.slice(dy, starts, limits, strides);
  }
  static Value pushforward(DerivativeBuilder &d, PadOp op, Value dx) {
    return d.pad(dx, op.getLow(), op.getHigh(), op.getInterior());
  }
};

struct ReverseModel : LinearUnaryModel<ReverseModel, ReverseOp> {
  static Value pullback(DerivativeBuilder &d, ReverseOp op, Value dy) {
    return d.create<ReverseOp>(dy, op.getDims());
  }
  static Value pushforward(DerivativeBuilder &d, ReverseOp op, Value dx) {
    return d.create<ReverseOp>(dx, op.getDims());
  }
};

struct ConcatModel
    : DifferentiableOpInterface::ExternalModel<ConcatModel, ConcatOp> {
  LogicalResult buildVjp(Operation *op, OpBuilder &b, ValueRange cotangents,
                         ArrayRef<bool> wanted,
                         SmallVectorImpl<Value> &operandCotangents) const {
    auto concat = cast<ConcatOp>(op);
    Value dy = cotangents[0];
    RankedTensorType result = concat.getType();
    int64_t axis = int64_t(concat.getAxis()), offset = 0;
    DerivativeBuilder d(b, op->getLoc());
    for (auto [index, input] : llvm::enumerate(concat.getInputs())) {
      int64_t size = tensorTypeOf(input).getDimSize(axis);
      if (!dy || !wanted[index] || size == 0) {
        operandCotangents.push_back(Value());
        offset += size;
        continue;
      }
      SmallVector<int64_t> starts(result.getRank(), 0);
      SmallVector<int64_t> limits(result.getShape());
      SmallVector<int64_t> strides(result.getRank(), 1);
      starts[axis] = offset;
      limits[axis] = offset + size;
      operandCotangents.push_back(d.slice(dy, starts, limits, strides));
      offset += size;
    }
    return success();
  }

  LogicalResult buildJvp(Operation *op, OpBuilder &b, ValueRange tangents,
                         SmallVectorImpl<Value> &resultTangents) const {
    auto concat = cast<ConcatOp>(op);
    if (llvm::all_of(tangents, [](Value t) { return !t; })) {
      resultTangents.push_back(Value());
      return success();
    }
    DerivativeBuilder d(b, op->getLoc());
    SmallVector<Value> parts;
    for (auto [input, tangent] : llvm::zip(concat.getInputs(), tangents))
      parts.push_back(tangent ? tangent : d.zerosLike(input));
    resultTangents.push_back(
        d.create<ConcatOp>(concat.getType(), parts, concat.getAxis()));
    return success();
  }
};

/// optimization_barrier is the identity: (co)tangents pass through unchanged
/// (a barrier on them is not needed: derivative code is never merged with
/// the forward code it differentiates).
struct OptimizationBarrierModel
    : DifferentiableOpInterface::ExternalModel<OptimizationBarrierModel,
                                               OptimizationBarrierOp> {
  LogicalResult buildVjp(Operation *, OpBuilder &, ValueRange resultCotangents,
                         ArrayRef<bool> wanted,
                         SmallVectorImpl<Value> &operandCotangents) const {
    for (auto [cotangent, isWanted] : llvm::zip(resultCotangents, wanted))
      operandCotangents.push_back(isWanted ? cotangent : Value());
    return success();
  }
  LogicalResult buildJvp(Operation *, OpBuilder &, ValueRange operandTangents,
                         SmallVectorImpl<Value> &resultTangents) const {
    resultTangents.append(operandTangents.begin(), operandTangents.end());
    return success();
  }
};

/// all_reduce_mean is linear and its own adjoint: the loss the ranks
/// differentiate is the sum of their local losses, so a rank's input
/// cotangent is (1/P) Σ_r of the ranks' result cotangents, the mean again;
/// tangents, like values, are averaged.
struct AllReduceMeanModel
    : DifferentiableOpInterface::ExternalModel<AllReduceMeanModel,
                                               AllReduceMeanOp> {
  LogicalResult buildVjp(Operation *op, OpBuilder &b,
                         ValueRange resultCotangents, ArrayRef<bool> wanted,
                         SmallVectorImpl<Value> &operandCotangents) const {
    if (!wanted[0] || !resultCotangents[0]) {
      operandCotangents.push_back(Value());
      return success();
    }
    operandCotangents.push_back(AllReduceMeanOp::create(
        b, op->getLoc(), resultCotangents[0]));
    return success();
  }
  LogicalResult buildJvp(Operation *op, OpBuilder &b, ValueRange tangents,
                         SmallVectorImpl<Value> &resultTangents) const {
    resultTangents.push_back(
        tangents[0] ? Value(AllReduceMeanOp::create(b, op->getLoc(), tangents[0]))
                    : Value());
    return success();
  }
};

} // namespace
} // namespace bism

void bism::registerStructuralDerivatives(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, BismDialect *) {
    MatmulOp::attachInterface<MatmulModel>(*ctx);
    ReduceSumOp::attachInterface<ReduceSumModel>(*ctx);
    ReduceMeanOp::attachInterface<ReduceMeanModel>(*ctx);
    ReduceMaxOp::attachInterface<ReduceMaxModel>(*ctx);
    ReduceLogSumExpOp::attachInterface<ReduceLogSumExpModel>(*ctx);
    BroadcastOp::attachInterface<BroadcastModel>(*ctx);
    ReshapeOp::attachInterface<ReshapeModel>(*ctx);
    TransposeOp::attachInterface<TransposeModel>(*ctx);
    SliceOp::attachInterface<SliceModel>(*ctx);
    ConcatOp::attachInterface<ConcatModel>(*ctx);
    PadOp::attachInterface<PadModel>(*ctx);
    ReverseOp::attachInterface<ReverseModel>(*ctx);
    OptimizationBarrierOp::attachInterface<OptimizationBarrierModel>(*ctx);
    AllReduceMeanOp::attachInterface<AllReduceMeanModel>(*ctx);
  });
}
