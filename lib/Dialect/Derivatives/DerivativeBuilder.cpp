//===- DerivativeBuilder.cpp - emit bism ops for derivative rules ---------===//
#include "bism/Dialect/DerivativeBuilder.h"

#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;

namespace bism {

static RankedTensorType tensorTypeOf(Value value) {
  return cast<RankedTensorType>(value.getType());
}

Value DerivativeBuilder::splat(RankedTensorType type, double value) {
  auto element = cast<FloatType>(type.getElementType());
  return create<ConstantOp>(
      DenseElementsAttr::get(type, builder_.getFloatAttr(element, value)));
}

Value DerivativeBuilder::splatLike(Value like, double value) {
  return splat(tensorTypeOf(like), value);
}

Value DerivativeBuilder::add(Value a, Value b) { return create<AddOp>(a, b); }
Value DerivativeBuilder::sub(Value a, Value b) { return create<SubOp>(a, b); }
Value DerivativeBuilder::mul(Value a, Value b) { return create<MulOp>(a, b); }
Value DerivativeBuilder::div(Value a, Value b) { return create<DivOp>(a, b); }
Value DerivativeBuilder::neg(Value x) { return create<NegOp>(x); }

Value DerivativeBuilder::scale(Value x, double factor) {
  return mul(x, splatLike(x, factor));
}

Value DerivativeBuilder::addOrNull(Value a, Value b) {
  if (!a)
    return b;
  if (!b)
    return a;
  return add(a, b);
}

Value DerivativeBuilder::mulOrNull(Value a, Value b) {
  return a ? mul(a, b) : Value();
}

Value DerivativeBuilder::negOrNull(Value x) { return x ? neg(x) : Value(); }

Value DerivativeBuilder::select(Value condition, Value onTrue, Value onFalse) {
  return create<SelectOp>(condition, onTrue, onFalse);
}

Value DerivativeBuilder::compare(ComparePredicate predicate, Value a, Value b) {
  return create<CompareOp>(predicate, a, b);
}

Value DerivativeBuilder::broadcastTo(Value x, RankedTensorType type) {
  if (x.getType() == type)
    return x;
  return create<BroadcastOp>(type, x);
}

Value DerivativeBuilder::sumToType(Value x, RankedTensorType type) {
  RankedTensorType from = tensorTypeOf(x);
  if (from == type)
    return x;
  int64_t offset = from.getRank() - type.getRank();
  SmallVector<int64_t> axes;
  for (int64_t dim = 0; dim < from.getRank(); ++dim)
    if (dim < offset || (type.getDimSize(dim - offset) == 1 &&
                         from.getDimSize(dim) != 1))
      axes.push_back(dim);
  Value summed = axes.empty() ? x : reduceSum(x, axes, /*keepDims=*/true);
  return reshape(summed, type);
}

Value DerivativeBuilder::reshape(Value x, RankedTensorType type) {
  if (x.getType() == type)
    return x;
  return create<ReshapeOp>(type, x);
}

Value DerivativeBuilder::transpose(Value x, ArrayRef<int64_t> permutation) {
  RankedTensorType from = tensorTypeOf(x);
  SmallVector<int64_t> shape;
  for (int64_t dim : permutation)
    shape.push_back(from.getDimSize(dim));
  return create<TransposeOp>(RankedTensorType::get(shape, from.getElementType()),
                             x, permutation);
}

Value DerivativeBuilder::reduceSum(Value x, ArrayRef<int64_t> axes,
                                   bool keepDims) {
  RankedTensorType type =
      ReduceSumOp::inferResultType(tensorTypeOf(x), axes, keepDims);
  return create<ReduceSumOp>(type, x, axes, keepDims);
}

Value DerivativeBuilder::slice(Value x, ArrayRef<int64_t> starts,
                               ArrayRef<int64_t> limits,
                               ArrayRef<int64_t> strides) {
  RankedTensorType type = tensorTypeOf(x);
  SmallVector<int64_t> shape;
  for (int64_t dim = 0; dim < type.getRank(); ++dim)
    shape.push_back((limits[dim] - starts[dim] + strides[dim] - 1) /
                    strides[dim]);
  auto result = RankedTensorType::get(shape, type.getElementType());
  if (result == type)
    return x;
  return create<SliceOp>(result, x, starts, limits, strides);
}

Value DerivativeBuilder::pad(Value x, ArrayRef<int64_t> low,
                             ArrayRef<int64_t> high,
                             ArrayRef<int64_t> interior) {
  RankedTensorType type = tensorTypeOf(x);
  SmallVector<int64_t> shape;
  for (int64_t dim = 0; dim < type.getRank(); ++dim) {
    int64_t size = type.getDimSize(dim);
    shape.push_back(low[dim] + high[dim] + size +
                    std::max<int64_t>(size - 1, 0) * interior[dim]);
  }
  auto result = RankedTensorType::get(shape, type.getElementType());
  if (result == type)
    return x;
  return create<PadOp>(result, x, low, high, interior);
}

Value DerivativeBuilder::reverse(Value x, ArrayRef<int64_t> dims) {
  SmallVector<int64_t> nontrivial;
  for (int64_t dim : dims)
    if (tensorTypeOf(x).getDimSize(dim) > 1)
      nontrivial.push_back(dim);
  if (nontrivial.empty())
    return x;
  return create<ReverseOp>(tensorTypeOf(x), x, nontrivial);
}

Value DerivativeBuilder::matmul(Value lhs, Value rhs, bool transposeLhs,
                                bool transposeRhs) {
  RankedTensorType lhsType = tensorTypeOf(lhs), rhsType = tensorTypeOf(rhs);
  int64_t rank = lhsType.getRank();
  int64_t m = lhsType.getDimSize(rank - (transposeLhs ? 1 : 2));
  int64_t n = rhsType.getDimSize(rank - (transposeRhs ? 2 : 1));
  SmallVector<int64_t> shape(lhsType.getShape().drop_back(2));
  shape.append({m, n});
  auto type = RankedTensorType::get(shape, lhsType.getElementType());
  return create<MatmulOp>(type, lhs, rhs, transposeLhs, transposeRhs);
}

} // namespace bism
