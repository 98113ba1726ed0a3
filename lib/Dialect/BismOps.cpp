//===- BismOps.cpp - verifiers, folders and canonicalisation --------------===//
#include "bism/Dialect/Bism.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallSet.h"

using namespace mlir;
using namespace bism;

namespace {

RankedTensorType tensorType(Value value) {
  return cast<RankedTensorType>(value.getType());
}

/// A dimension size for diagnostics: the dynamic (batch) size prints as "?".
std::string formatSize(int64_t size) {
  return ShapedType::isDynamic(size) ? "?" : std::to_string(size);
}

/// "[2, 3]" for diagnostics.
std::string formatList(ArrayRef<int64_t> values) {
  std::string text = "[";
  llvm::raw_string_ostream os(text);
  llvm::interleaveComma(values, os,
                        [&](int64_t value) { os << formatSize(value); });
  os << "]";
  return text;
}

/// Window ops (conv2d, pooling) need static channel and spatial sizes; only
/// the batch dimension may be `?`.
LogicalResult verifyStaticWindowDims(Operation *op, RankedTensorType type) {
  if (llvm::any_of(type.getShape().drop_front(), ShapedType::isDynamic))
    return op->emitOpError() << "only the batch dimension of " << type
                             << " may be '?'";
  return success();
}

bool isSplatOf(Value value, double expected) {
  Attribute attr;
  if (!matchPattern(value, m_Constant(&attr)))
    return false;
  auto dense = dyn_cast<DenseFPElementsAttr>(attr);
  return dense && dense.isSplat() &&
         dense.getSplatValue<APFloat>().convertToDouble() == expected;
}

/// Checks a 2-element [h, w] or 4-element [top, left, bottom, right] array.
LogicalResult verifyWindowArray(Operation *op, StringRef name,
                                ArrayRef<int64_t> values, size_t size,
                                int64_t minimum) {
  if (values.size() != size)
    return op->emitOpError() << "'" << name << "' must have " << size
                             << " values, got " << formatList(values);
  for (int64_t value : values)
    if (value < minimum)
      return op->emitOpError() << "'" << name << "' values must be >= "
                               << minimum << ", got " << formatList(values);
  return success();
}

int64_t windowOutputSize(int64_t input, int64_t padBefore, int64_t padAfter,
                         int64_t extent, int64_t stride) {
  int64_t padded = input + padBefore + padAfter - extent;
  if (padded < 0)
    return 0;
  return padded / stride + 1;
}

} // namespace

//===----------------------------------------------------------------------===//
// ConstantOp, ConvertOp
//===----------------------------------------------------------------------===//

LogicalResult ConstantOp::verify() {
  auto type = cast<ShapedType>(getValue().getType());
  Type element = type.getElementType();
  if (!element.isF32() && !element.isF64() && !element.isInteger(1) &&
      !element.isInteger(32) && !element.isInteger(64))
    return emitOpError() << "element type must be f32, f64, i1, i32 or i64, got "
                         << element;
  return success();
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

//===----------------------------------------------------------------------===//
// Random draws
//===----------------------------------------------------------------------===//

template <typename OpTy> static LogicalResult verifyRandom(OpTy op) {
  // (getOffset() is unsigned, as I64Attr's getters are.)
  int64_t offset = op.getOffsetAttr().getInt();
  if (offset < 0)
    return op.emitOpError() << "offset must be >= 0, got " << offset;
  return success();
}
LogicalResult RandomUniformOp::verify() { return verifyRandom(*this); }
LogicalResult RandomNormalOp::verify() { return verifyRandom(*this); }
LogicalResult RandomGumbelOp::verify() { return verifyRandom(*this); }
LogicalResult RandomRademacherOp::verify() { return verifyRandom(*this); }

LogicalResult ConvertOp::verify() {
  if (tensorType(getOperand()).getShape() != getType().getShape())
    return emitOpError() << "changes the shape from " << getOperand().getType()
                         << " to " << getType() << "; convert only changes "
                         << "the element type";
  return success();
}

OpFoldResult ConvertOp::fold(FoldAdaptor) {
  if (getOperand().getType() == getType())
    return getOperand();
  return {};
}

//===----------------------------------------------------------------------===//
// Elementwise folders: the obvious algebra
//===----------------------------------------------------------------------===//

OpFoldResult NegOp::fold(FoldAdaptor) {
  if (auto inner = getOperand().getDefiningOp<NegOp>())
    return inner.getOperand();
  return {};
}

OpFoldResult AddOp::fold(FoldAdaptor) {
  if (isSplatOf(getRhs(), 0.0))
    return getLhs();
  if (isSplatOf(getLhs(), 0.0))
    return getRhs();
  return {};
}

OpFoldResult SubOp::fold(FoldAdaptor) {
  if (isSplatOf(getRhs(), 0.0))
    return getLhs();
  return {};
}

OpFoldResult MulOp::fold(FoldAdaptor) {
  if (isSplatOf(getRhs(), 1.0))
    return getLhs();
  if (isSplatOf(getLhs(), 1.0))
    return getRhs();
  return {};
}

OpFoldResult DivOp::fold(FoldAdaptor) {
  if (isSplatOf(getRhs(), 1.0))
    return getLhs();
  return {};
}

OpFoldResult SelectOp::fold(FoldAdaptor adaptor) {
  if (getTrueValue() == getFalseValue())
    return getTrueValue();
  if (auto condition =
          dyn_cast_if_present<DenseIntElementsAttr>(adaptor.getCondition()))
    if (condition.isSplat())
      return condition.getSplatValue<bool>() ? getTrueValue() : getFalseValue();
  return {};
}

//===----------------------------------------------------------------------===//
// MatmulOp
//===----------------------------------------------------------------------===//

LogicalResult MatmulOp::verify() {
  RankedTensorType lhs = tensorType(getLhs()), rhs = tensorType(getRhs());
  if (lhs.getElementType() != rhs.getElementType() ||
      lhs.getElementType() != getType().getElementType())
    return emitOpError() << "element types differ: " << lhs << ", " << rhs
                         << " -> " << getType();
  if (lhs.getRank() < 2 || lhs.getRank() != rhs.getRank())
    return emitOpError() << "operands must have the same rank >= 2, got "
                         << lhs << " and " << rhs;
  int64_t rank = lhs.getRank();
  ArrayRef<int64_t> lhsShape = lhs.getShape(), rhsShape = rhs.getShape();
  if (lhsShape.drop_back(2) != rhsShape.drop_back(2))
    return emitOpError() << "batch dimensions differ: "
                         << formatList(lhsShape.drop_back(2)) << " vs "
                         << formatList(rhsShape.drop_back(2));
  int64_t m = lhsShape[rank - 2], lhsK = lhsShape[rank - 1];
  if (getTransposeLhs())
    std::swap(m, lhsK);
  int64_t rhsK = rhsShape[rank - 2], n = rhsShape[rank - 1];
  if (getTransposeRhs())
    std::swap(rhsK, n);
  if (lhsK != rhsK)
    return emitOpError() << "contracting dimensions differ: lhs has "
                         << formatSize(lhsK) << ", rhs has " << formatSize(rhsK);
  SmallVector<int64_t> expected(lhsShape.drop_back(2));
  expected.append({m, n});
  if (getType().getShape() != ArrayRef<int64_t>(expected))
    return emitOpError() << "result shape must be " << formatList(expected)
                         << ", got " << getType();
  return success();
}

//===----------------------------------------------------------------------===//
// Conv2DOp, pooling
//===----------------------------------------------------------------------===//

LogicalResult Conv2DOp::verify() {
  RankedTensorType input = tensorType(getInput()), filter = tensorType(getFilter());
  if (input.getRank() != 4 || filter.getRank() != 4)
    return emitOpError() << "input (NCHW) and filter (OIHW) must be rank 4, got "
                         << input << " and " << filter;
  if (input.getElementType() != filter.getElementType() ||
      input.getElementType() != getType().getElementType())
    return emitOpError() << "element types differ: input " << input
                         << ", filter " << filter << " -> " << getType();
  if (failed(verifyWindowArray(*this, "strides", getStrides(), 2, 1)) ||
      failed(verifyWindowArray(*this, "padding", getPadding(), 4, 0)) ||
      failed(verifyWindowArray(*this, "dilations", getDilations(), 2, 1)) ||
      failed(verifyStaticWindowDims(*this, input)))
    return failure();
  if (!filter.hasStaticShape())
    return emitOpError() << "filter " << filter << " must have a static shape";
  int64_t groups = getGroups();
  auto in = input.getShape(), f = filter.getShape();
  if (groups < 1 || in[1] % groups != 0 || f[0] % groups != 0)
    return emitOpError() << "groups (" << groups
                         << ") must divide input channels (" << in[1]
                         << ") and output channels (" << f[0] << ")";
  if (f[1] * groups != in[1])
    return emitOpError() << "filter has " << f[1]
                         << " input channels per group, input needs "
                         << in[1] / groups;
  auto strides = getStrides(), pad = getPadding(), dil = getDilations();
  int64_t oh = windowOutputSize(in[2], pad[0], pad[2], dil[0] * (f[2] - 1) + 1,
                                strides[0]);
  int64_t ow = windowOutputSize(in[3], pad[1], pad[3], dil[1] * (f[3] - 1) + 1,
                                strides[1]);
  if (oh < 1 || ow < 1)
    return emitOpError() << "kernel does not fit the padded input";
  SmallVector<int64_t> expected{in[0], f[0], oh, ow};
  if (getType().getShape() != ArrayRef<int64_t>(expected))
    return emitOpError() << "result shape must be " << formatList(expected)
                         << ", got " << getType();
  return success();
}

template <typename PoolOp>
static LogicalResult verifyPool(PoolOp op) {
  RankedTensorType input = tensorType(op.getInput());
  if (input.getRank() != 4)
    return op.emitOpError() << "input must be rank 4 (NCHW), got " << input;
  if (input.getElementType() != op.getType().getElementType())
    return op.emitOpError() << "element types differ: " << input << " -> "
                            << op.getType();
  if (failed(verifyWindowArray(op, "kernel_shape", op.getKernelShape(), 2, 1)) ||
      failed(verifyWindowArray(op, "strides", op.getStrides(), 2, 1)) ||
      failed(verifyWindowArray(op, "padding", op.getPadding(), 4, 0)) ||
      failed(verifyStaticWindowDims(op, input)))
    return failure();
  auto in = input.getShape();
  auto kernel = op.getKernelShape(), strides = op.getStrides(),
       pad = op.getPadding();
  if (pad[0] >= kernel[0] || pad[2] >= kernel[0] || pad[1] >= kernel[1] ||
      pad[3] >= kernel[1])
    return op.emitOpError() << "padding must be smaller than the kernel";
  int64_t oh = windowOutputSize(in[2], pad[0], pad[2], kernel[0], strides[0]);
  int64_t ow = windowOutputSize(in[3], pad[1], pad[3], kernel[1], strides[1]);
  if (oh < 1 || ow < 1)
    return op.emitOpError() << "kernel does not fit the padded input";
  SmallVector<int64_t> expected{in[0], in[1], oh, ow};
  if (op.getType().getShape() != ArrayRef<int64_t>(expected))
    return op.emitOpError() << "result shape must be " << formatList(expected)
                            << ", got " << op.getType();
  return success();
}

LogicalResult MaxPool2DOp::verify() { return verifyPool(*this); }
LogicalResult AvgPool2DOp::verify() { return verifyPool(*this); }

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

static RankedTensorType reducedType(RankedTensorType input,
                                    ArrayRef<int64_t> axes, bool keepDims) {
  SmallVector<int64_t> shape;
  for (int64_t dim = 0; dim < input.getRank(); ++dim) {
    bool reduced = llvm::is_contained(axes, dim);
    if (!reduced)
      shape.push_back(input.getDimSize(dim));
    else if (keepDims)
      shape.push_back(1);
  }
  return RankedTensorType::get(shape, input.getElementType());
}

template <typename ReduceOp>
static LogicalResult verifyReduce(ReduceOp op) {
  RankedTensorType input = tensorType(op.getOperand());
  ArrayRef<int64_t> axes = op.getAxes();
  if (axes.empty())
    return op.emitOpError() << "needs at least one axis to reduce";
  llvm::SmallSet<int64_t, 4> seen;
  for (int64_t axis : axes) {
    if (axis < 0 || axis >= input.getRank())
      return op.emitOpError() << "axis " << axis << " is out of range for "
                              << input;
    if (!seen.insert(axis).second)
      return op.emitOpError() << "axis " << axis << " is listed twice";
    if (input.getDimSize(axis) == 0)
      return op.emitOpError() << "reduces the empty axis " << axis << " of "
                              << input;
  }
  RankedTensorType expected = reducedType(input, axes, op.getKeepDims());
  if (op.getType() != expected)
    return op.emitOpError() << "result type must be " << expected << ", got "
                            << op.getType();
  return success();
}

#define BISM_REDUCE_OP(Name)                                                   \
  LogicalResult Name::verify() { return verifyReduce(*this); }                 \
  RankedTensorType Name::inferResultType(RankedTensorType input,               \
                                         ArrayRef<int64_t> axes,               \
                                         bool keepDims) {                      \
    return reducedType(input, axes, keepDims);                                 \
  }
BISM_REDUCE_OP(ReduceSumOp)
BISM_REDUCE_OP(ReduceMeanOp)
BISM_REDUCE_OP(ReduceMaxOp)
BISM_REDUCE_OP(ReduceLogSumExpOp)
#undef BISM_REDUCE_OP

//===----------------------------------------------------------------------===//
// BroadcastOp
//===----------------------------------------------------------------------===//

LogicalResult BroadcastOp::verify() {
  RankedTensorType input = tensorType(getOperand());
  if (input.getElementType() != getType().getElementType())
    return emitOpError() << "element types differ: " << input << " to "
                         << getType();
  ArrayRef<int64_t> from = input.getShape(), to = getType().getShape();
  if (from.size() > to.size())
    return emitOpError() << "cannot broadcast rank " << from.size()
                         << " to the smaller rank " << to.size();
  size_t offset = to.size() - from.size();
  for (size_t i = 0; i < from.size(); ++i)
    if (from[i] != 1 && from[i] != to[offset + i])
      return emitOpError() << "operand dimension " << i << " (size "
                           << formatSize(from[i]) << ") must be 1 or "
                           << formatSize(to[offset + i])
                           << " to broadcast " << input << " to " << getType();
  return success();
}

OpFoldResult BroadcastOp::fold(FoldAdaptor adaptor) {
  if (getOperand().getType() == getType())
    return getOperand();
  if (auto dense = dyn_cast_if_present<DenseElementsAttr>(adaptor.getOperand()))
    if (dense.isSplat() && getType().hasStaticShape())
      return dense.resizeSplat(getType());
  return {};
}

namespace {
/// broadcast(broadcast(x)) -> broadcast(x): numpy broadcasting composes.
struct ComposeBroadcasts : OpRewritePattern<BroadcastOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(BroadcastOp op,
                                PatternRewriter &rewriter) const override {
    auto inner = op.getOperand().getDefiningOp<BroadcastOp>();
    if (!inner)
      return failure();
    rewriter.replaceOpWithNewOp<BroadcastOp>(op, op.getType(),
                                             inner.getOperand());
    return success();
  }
};
} // namespace

void BroadcastOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                              MLIRContext *context) {
  patterns.add<ComposeBroadcasts>(context);
}

//===----------------------------------------------------------------------===//
// ReshapeOp, TransposeOp
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::verify() {
  RankedTensorType input = tensorType(getOperand());
  if (input.getElementType() != getType().getElementType())
    return emitOpError() << "element types differ: " << input << " to "
                         << getType();
  // With a `?` (batch) dimension, the static sizes must multiply to the
  // same count on both sides, so that every batch size keeps the count.
  auto staticCount = [](RankedTensorType type) {
    int64_t count = 1;
    for (int64_t size : type.getShape())
      if (!ShapedType::isDynamic(size))
        count *= size;
    return count;
  };
  if (input.getNumDynamicDims() != getType().getNumDynamicDims() ||
      input.getNumDynamicDims() > 1)
    return emitOpError() << "needs one '?' (batch) dimension on both sides or "
                         << "none, got " << input << " to " << getType();
  if (staticCount(input) != staticCount(getType()))
    return emitOpError() << "element count changes from " << input << " to "
                         << getType() << " (" << staticCount(input) << " vs "
                         << staticCount(getType())
                         << (input.hasStaticShape() ? "" : " per batch row")
                         << ")";
  return success();
}

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (getOperand().getType() == getType())
    return getOperand();
  if (auto inner = getOperand().getDefiningOp<ReshapeOp>()) {
    getOperandMutable().assign(inner.getOperand());
    return getResult();
  }
  if (auto dense = dyn_cast_if_present<DenseElementsAttr>(adaptor.getOperand()))
    if (getType().hasStaticShape())
      return dense.reshape(getType());
  return {};
}

LogicalResult TransposeOp::verify() {
  RankedTensorType input = tensorType(getOperand());
  ArrayRef<int64_t> permutation = getPermutation();
  if (int64_t(permutation.size()) != input.getRank())
    return emitOpError() << "permutation " << formatList(permutation)
                         << " has " << permutation.size()
                         << " entries for rank " << input.getRank();
  SmallVector<bool> used(permutation.size(), false);
  for (int64_t dim : permutation) {
    if (dim < 0 || dim >= input.getRank() || used[dim])
      return emitOpError() << "permutation " << formatList(permutation)
                           << " is not a permutation of [0, "
                           << input.getRank() << ")";
    used[dim] = true;
  }
  SmallVector<int64_t> expected;
  for (int64_t dim : permutation)
    expected.push_back(input.getDimSize(dim));
  if (getType() != RankedTensorType::get(expected, input.getElementType()))
    return emitOpError() << "result type must be "
                         << RankedTensorType::get(expected, input.getElementType())
                         << ", got " << getType();
  return success();
}

OpFoldResult TransposeOp::fold(FoldAdaptor adaptor) {
  ArrayRef<int64_t> permutation = getPermutation();
  auto isIdentity = [](ArrayRef<int64_t> perm) {
    for (auto [index, dim] : llvm::enumerate(perm))
      if (int64_t(index) != dim)
        return false;
    return true;
  };
  if (isIdentity(permutation))
    return getOperand();
  if (auto inner = getOperand().getDefiningOp<TransposeOp>()) {
    // result[i] = inner[perm[i]] = x[innerPerm[perm[i]]]
    SmallVector<int64_t> composed;
    for (int64_t dim : permutation)
      composed.push_back(inner.getPermutation()[dim]);
    if (isIdentity(composed))
      return inner.getOperand();
    setPermutation(composed);
    getOperandMutable().assign(inner.getOperand());
    return getResult();
  }
  if (auto dense = dyn_cast_if_present<DenseElementsAttr>(adaptor.getOperand()))
    if (dense.isSplat() && getType().hasStaticShape())
      return dense.resizeSplat(getType());
  return {};
}

//===----------------------------------------------------------------------===//
// SliceOp, ConcatOp
//===----------------------------------------------------------------------===//

LogicalResult SliceOp::verify() {
  RankedTensorType input = tensorType(getOperand());
  auto starts = getStarts(), limits = getLimits(), strides = getStrides();
  int64_t rank = input.getRank();
  if (int64_t(starts.size()) != rank || int64_t(limits.size()) != rank ||
      int64_t(strides.size()) != rank)
    return emitOpError() << "starts, limits and strides need " << rank
                         << " entries each for " << input;
  SmallVector<int64_t> expected;
  for (int64_t dim = 0; dim < rank; ++dim) {
    if (strides[dim] < 1)
      return emitOpError() << "stride " << strides[dim] << " in dimension "
                           << dim << " must be positive";
    if (input.isDynamicDim(dim)) {
      // A `?` (batch) dimension is kept whole; bism-specialize-batch sets
      // its limit.
      if (starts[dim] != 0 || strides[dim] != 1)
        return emitOpError() << "dimension " << dim << " is '?' (the batch), "
                             << "which a slice keeps whole: start 0, stride 1";
      expected.push_back(ShapedType::kDynamic);
      continue;
    }
    if (starts[dim] < 0 || starts[dim] >= limits[dim] ||
        limits[dim] > input.getDimSize(dim))
      return emitOpError() << "dimension " << dim << ": need 0 <= start ("
                           << starts[dim] << ") < limit (" << limits[dim]
                           << ") <= size (" << input.getDimSize(dim) << ")";
    expected.push_back((limits[dim] - starts[dim] + strides[dim] - 1) /
                       strides[dim]);
  }
  auto expectedType = RankedTensorType::get(expected, input.getElementType());
  if (getType() != expectedType)
    return emitOpError() << "result type must be " << expectedType << ", got "
                         << getType();
  return success();
}

OpFoldResult SliceOp::fold(FoldAdaptor adaptor) {
  if (getOperand().getType() == getType())
    return getOperand();
  if (auto dense = dyn_cast_if_present<DenseElementsAttr>(adaptor.getOperand()))
    if (dense.isSplat() && getType().hasStaticShape())
      return dense.resizeSplat(getType());
  return {};
}

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError() << "needs at least one input";
  RankedTensorType first = tensorType(getInputs().front());
  int64_t axis = getAxis();
  if (axis < 0 || axis >= first.getRank())
    return emitOpError() << "axis " << axis << " is out of range for rank "
                         << first.getRank();
  SmallVector<int64_t> expected(first.getShape());
  expected[axis] = 0;
  for (auto [index, input] : llvm::enumerate(getInputs())) {
    RankedTensorType type = tensorType(input);
    if (type.getRank() != first.getRank() ||
        type.getElementType() != first.getElementType())
      return emitOpError() << "input " << index << " (" << type
                           << ") does not match input 0 (" << first << ")";
    for (int64_t dim = 0; dim < type.getRank(); ++dim)
      if (dim != axis && type.getDimSize(dim) != first.getDimSize(dim))
        return emitOpError() << "input " << index << " has size "
                             << formatSize(type.getDimSize(dim))
                             << " in dimension " << dim << ", input 0 has "
                             << formatSize(first.getDimSize(dim));
    expected[axis] = ShapedType::isDynamic(expected[axis]) ||
                             type.isDynamicDim(axis)
                         ? ShapedType::kDynamic
                         : expected[axis] + type.getDimSize(axis);
  }
  auto expectedType = RankedTensorType::get(expected, first.getElementType());
  if (getType() != expectedType)
    return emitOpError() << "result type must be " << expectedType << ", got "
                         << getType();
  return success();
}

OpFoldResult ConcatOp::fold(FoldAdaptor) {
  if (getInputs().size() == 1)
    return getInputs().front();
  return {};
}

//===----------------------------------------------------------------------===//
// PadOp, ReverseOp
//===----------------------------------------------------------------------===//

LogicalResult PadOp::verify() {
  RankedTensorType input = tensorType(getOperand());
  int64_t rank = input.getRank();
  auto low = getLow(), high = getHigh(), interior = getInterior();
  if (int64_t(low.size()) != rank || int64_t(high.size()) != rank ||
      int64_t(interior.size()) != rank)
    return emitOpError() << "low, high and interior need " << rank
                         << " entries each for " << input;
  SmallVector<int64_t> expected;
  for (int64_t dim = 0; dim < rank; ++dim) {
    if (low[dim] < 0 || high[dim] < 0 || interior[dim] < 0)
      return emitOpError() << "padding in dimension " << dim
                           << " must be non-negative";
    int64_t size = input.getDimSize(dim);
    if (ShapedType::isDynamic(size)) {
      if (low[dim] || high[dim] || interior[dim])
        return emitOpError() << "dimension " << dim << " is '?' (the batch), "
                             << "which cannot be padded";
      expected.push_back(size);
      continue;
    }
    expected.push_back(low[dim] + high[dim] + size +
                       std::max<int64_t>(size - 1, 0) * interior[dim]);
  }
  auto expectedType = RankedTensorType::get(expected, input.getElementType());
  if (getType() != expectedType)
    return emitOpError() << "result type must be " << expectedType << ", got "
                         << getType();
  return success();
}

OpFoldResult PadOp::fold(FoldAdaptor) {
  if (getOperand().getType() == getType())
    return getOperand();
  return {};
}

LogicalResult ReverseOp::verify() {
  RankedTensorType input = tensorType(getOperand());
  llvm::SmallSet<int64_t, 4> seen;
  for (int64_t dim : getDims()) {
    if (dim < 0 || dim >= input.getRank())
      return emitOpError() << "dimension " << dim << " is out of range for "
                           << input;
    if (!seen.insert(dim).second)
      return emitOpError() << "dimension " << dim << " is listed twice";
  }
  return success();
}

OpFoldResult ReverseOp::fold(FoldAdaptor) {
  // reverse(reverse(x)) over the same dims is x; reversing size-1 dims is a no-op.
  if (auto inner = getOperand().getDefiningOp<ReverseOp>())
    if (inner.getDims() == getDims())
      return inner.getOperand();
  RankedTensorType type = getType();
  if (llvm::all_of(getDims(), [&](int64_t dim) { return type.getDimSize(dim) == 1; }))
    return getOperand();
  return {};
}

#define GET_OP_CLASSES
#include "bism/Dialect/BismOps.cpp.inc"
