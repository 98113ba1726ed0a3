//===- ConvPoolDerivatives.cpp - derivative rules --------------------------===//
//
// Derivative rules of bism.conv2d, bism.max_pool2d and bism.avg_pool2d,
// written in bism ops only (conv2d, pad, slice, reverse, transpose, reshape,
// compare, select, add, div, broadcast), so they can be differentiated again.
//
// Notation, per spatial dimension: input size H, padding `before`/`after`,
// kernel K, stride s, dilation d, output size OH;
//   y[i] = sum_k xp[i*s + k*d] * w[k],   xp = x padded with `before` zeros.
//
//===----------------------------------------------------------------------===//
#include "bism/Dialect/DerivativeBuilder.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectRegistry.h"

#include <algorithm>

using namespace mlir;

namespace bism {
namespace {

RankedTensorType typeOf(Value value) {
  return cast<RankedTensorType>(value.getType());
}

RankedTensorType withShape(RankedTensorType like, ArrayRef<int64_t> shape) {
  return RankedTensorType::get(shape, like.getElementType());
}

/// bism.conv2d with its result type computed.
Value conv2d(DerivativeBuilder &db, Value input, Value filter,
             ArrayRef<int64_t> strides, ArrayRef<int64_t> padding,
             ArrayRef<int64_t> dilations, int64_t groups) {
  auto in = typeOf(input).getShape(), f = typeOf(filter).getShape();
  SmallVector<int64_t> shape{in[0], f[0]};
  for (int64_t a = 0; a < 2; ++a)
    shape.push_back((in[2 + a] + padding[a] + padding[a + 2] -
                     dilations[a] * (f[2 + a] - 1) - 1) /
                        strides[a] +
                    1);
  return db.create<Conv2DOp>(withShape(typeOf(input), shape), input, filter,
                             strides, padding, dilations, uint64_t(groups));
}

/// A dense constant of `type` (f32 or f64) holding `values`.
Value denseConstant(DerivativeBuilder &db, RankedTensorType type,
                    ArrayRef<double> values) {
  DenseElementsAttr attr;
  if (type.getElementType().isF32()) {
    SmallVector<float> narrowed(values.begin(), values.end());
    attr = DenseElementsAttr::get(type, ArrayRef<float>(narrowed));
  } else {
    attr = DenseElementsAttr::get(type, values);
  }
  return db.create<ConstantOp>(attr);
}

//===----------------------------------------------------------------------===//
// conv2d
//===----------------------------------------------------------------------===//

/// The cotangent of the input of `op` for the result cotangent `dy`:
///   dx[h] = sum_{i,k : i*s + k*d = h + before} dy[i] * w[k]
///         = sum_k' z[h + k'*d] * wr[k'],   wr = w reversed,
/// where z is dy dilated by the stride (interior s-1) with
///   low  = (K-1)*d - before,   high = H + before - (OH-1)*s - 1
/// (negative amounts slice instead: rows the forward conv never reached).
/// The filter has in/out channels swapped within each group.
Value conv2dInputVjp(DerivativeBuilder &db, Conv2DOp op, Value dy, Value w) {
  auto in = typeOf(op.getInput()).getShape();
  auto f = typeOf(w).getShape();
  auto out = typeOf(dy).getShape();
  auto strides = op.getStrides(), padding = op.getPadding(),
       dilations = op.getDilations();
  int64_t groups = op.getGroups();

  Value dilated = db.pad(dy, {0, 0, 0, 0}, {0, 0, 0, 0},
                      {0, 0, strides[0] - 1, strides[1] - 1});
  SmallVector<int64_t> starts{0, 0, 0, 0}, limits(typeOf(dilated).getShape());
  SmallVector<int64_t> convPadding(4, 0);
  for (int64_t a = 0; a < 2; ++a) {
    int64_t low = dilations[a] * (f[2 + a] - 1) - padding[a];
    int64_t high = in[2 + a] + padding[a] - (out[2 + a] - 1) * strides[a] - 1;
    starts[2 + a] = std::max<int64_t>(-low, 0);
    limits[2 + a] -= std::max<int64_t>(-high, 0);
    if (starts[2 + a] >= limits[2 + a])
      return Value(); // The input never reaches the result.
    convPadding[a] = std::max<int64_t>(low, 0);
    convPadding[a + 2] = std::max<int64_t>(high, 0);
  }
  Value z = db.slice(dilated, starts, limits, {1, 1, 1, 1});

  // [O, C/G, KH, KW] -> [C, O/G, KH, KW], per group, spatially reversed.
  Value swapped;
  if (groups == 1) {
    swapped = db.transpose(w, {1, 0, 2, 3});
  } else {
    int64_t perGroupOut = f[0] / groups;
    Value split = db.reshape(
        w, withShape(typeOf(w), {groups, perGroupOut, f[1], f[2], f[3]}));
    Value swappedSplit = db.transpose(split, {0, 2, 1, 3, 4});
    swapped = db.reshape(swappedSplit, withShape(typeOf(w), {groups * f[1],
                                                             perGroupOut, f[2],
                                                             f[3]}));
  }
  Value filter = db.reverse(swapped, {2, 3});
  return conv2d(db, z, filter, {1, 1}, convPadding, dilations, groups);
}

/// The cotangent of the filter of `op`:
///   dw[o, c, k] = sum_{n, i} dy[n, o, i] * xp[n, c, k*d + i*s],
/// a convolution of x (channels <-> batch) with dy as the filter, stride d and
/// dilation s. With groups, group g pairs input channels g*C/G.. with output
/// channels g*O/G..: x becomes [C/G, G*N, H, W] and dy [O, N, OH, OW], a
/// grouped conv whose result [C/G, O, KH, KW] is transposed back.
Value conv2dFilterVjp(DerivativeBuilder &db, Conv2DOp op, Value dy, Value x) {
  auto in = typeOf(x).getShape();
  auto f = typeOf(op.getFilter()).getShape();
  auto out = typeOf(dy).getShape();
  auto strides = op.getStrides(), padding = op.getPadding(),
       dilations = op.getDilations();
  int64_t groups = op.getGroups();
  int64_t n = in[0], c = in[1], o = f[0];

  Value input, filter;
  if (groups == 1) {
    input = db.transpose(x, {1, 0, 2, 3});
    filter = db.transpose(dy, {1, 0, 2, 3});
  } else {
    int64_t perGroupIn = c / groups, perGroupOut = o / groups;
    Value xs = db.reshape(
        x, withShape(typeOf(x), {n, groups, perGroupIn, in[2], in[3]}));
    Value xt = db.transpose(xs, {2, 1, 0, 3, 4});
    input = db.reshape(
        xt, withShape(typeOf(x), {perGroupIn, groups * n, in[2], in[3]}));
    Value ds = db.reshape(
        dy, withShape(typeOf(dy), {n, groups, perGroupOut, out[2], out[3]}));
    Value dt = db.transpose(ds, {1, 2, 0, 3, 4});
    filter = db.reshape(dt, withShape(typeOf(dy), {o, n, out[2], out[3]}));
  }

  // Pad after only as far as the last position the forward conv read; the
  // result may still be longer than K (unread input rows), so slice.
  SmallVector<int64_t> convPadding{padding[0], padding[1], 0, 0};
  for (int64_t a = 0; a < 2; ++a) {
    int64_t needed = dilations[a] * (f[2 + a] - 1) +
                     (out[2 + a] - 1) * strides[a] + 1;
    convPadding[a + 2] =
        std::max<int64_t>(needed - in[2 + a] - padding[a], 0);
  }
  Value full = conv2d(db, input, filter, /*strides=*/dilations, convPadding,
                      /*dilations=*/strides, groups);
  auto fullShape = typeOf(full).getShape();
  Value cut = db.slice(full, {0, 0, 0, 0},
                    {fullShape[0], fullShape[1], f[2], f[3]}, {1, 1, 1, 1});
  return db.transpose(cut, {1, 0, 2, 3});
}

struct Conv2DModel
    : DifferentiableOpInterface::ExternalModel<Conv2DModel, Conv2DOp> {
  LogicalResult buildVjp(Operation *operation, OpBuilder &builder,
                         ValueRange resultCotangents, ArrayRef<bool> wanted,
                         SmallVectorImpl<Value> &operandCotangents) const {
    auto op = cast<Conv2DOp>(operation);
    DerivativeBuilder db(builder, op.getLoc());
    Value dy = resultCotangents[0];
    Value dx, dw;
    if (dy && wanted[0])
      dx = conv2dInputVjp(db, op, dy, op.getFilter());
    if (dy && wanted[1])
      dw = conv2dFilterVjp(db, op, dy, op.getInput());
    operandCotangents.push_back(dx);
    operandCotangents.push_back(dw);
    return success();
  }

  /// Bilinear: d(x * w) = dx * w + x * dw.
  LogicalResult buildJvp(Operation *operation, OpBuilder &builder,
                         ValueRange operandTangents,
                         SmallVectorImpl<Value> &resultTangents) const {
    auto op = cast<Conv2DOp>(operation);
    DerivativeBuilder db(builder, op.getLoc());
    Value dx = operandTangents[0], dw = operandTangents[1];
    auto same = [&](Value input, Value filter) -> Value {
      return db.create<Conv2DOp>(op.getType(), input, filter, op.getStrides(),
                                 op.getPadding(), op.getDilations(),
                                 uint64_t(op.getGroups()));
    };
    Value fromInput = dx ? same(dx, op.getFilter()) : Value();
    Value fromFilter = dw ? same(op.getInput(), dw) : Value();
    resultTangents.push_back(db.addOrNull(fromInput, fromFilter));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

/// The pooling geometry of one op.
struct PoolGeometry {
  SmallVector<int64_t> kernel, strides, padding; // padding [t, l, b, r]
  SmallVector<int64_t> in, out;                  // NCHW shapes
  SmallVector<int64_t> padded;                   // input shape with padding

  template <typename OpTy> static PoolGeometry of(OpTy op) {
    PoolGeometry g;
    g.kernel.assign(op.getKernelShape().begin(), op.getKernelShape().end());
    g.strides.assign(op.getStrides().begin(), op.getStrides().end());
    g.padding.assign(op.getPadding().begin(), op.getPadding().end());
    g.in.assign(typeOf(op.getInput()).getShape().begin(),
                typeOf(op.getInput()).getShape().end());
    g.out.assign(op.getType().getShape().begin(), op.getType().getShape().end());
    g.padded = g.in;
    g.padded[2] += g.padding[0] + g.padding[2];
    g.padded[3] += g.padding[1] + g.padding[3];
    return g;
  }

  /// The input zero-padded as the forward op pads it.
  Value padInput(DerivativeBuilder &db, Value x) const {
    return db.pad(x, {0, 0, padding[0], padding[1]},
               {0, 0, padding[2], padding[3]}, {0, 0, 0, 0});
  }

  /// The [N, C, OH, OW] elements at kernel offset (kh, kw) of every window of
  /// the padded input `xp`.
  Value window(DerivativeBuilder &db, Value xp, int64_t kh, int64_t kw) const {
    return db.slice(xp, {0, 0, kh, kw},
                 {out[0], out[1], kh + (out[2] - 1) * strides[0] + 1,
                  kw + (out[3] - 1) * strides[1] + 1},
                 {1, 1, strides[0], strides[1]});
  }

  /// The transpose of `window`: puts `c` [N, C, OH, OW] back at offset
  /// (kh, kw) of every window, in the padded input's shape.
  Value scatter(DerivativeBuilder &db, Value c, int64_t kh, int64_t kw) const {
    return db.pad(c, {0, 0, kh, kw},
               {0, 0, padded[2] - kh - (out[2] - 1) * strides[0] - 1,
                padded[3] - kw - (out[3] - 1) * strides[1] - 1},
               {0, 0, strides[0] - 1, strides[1] - 1});
  }

  /// Drops the padding of a padded-input-shaped value.
  Value unpad(DerivativeBuilder &db, Value xp) const {
    return db.slice(xp, {0, 0, padding[0], padding[1]},
                 {in[0], in[1], padding[0] + in[2], padding[1] + in[3]},
                 {1, 1, 1, 1});
  }
  /// The input cotangent of a pooling: each window position's contribution
  /// (`contribution(kh, kw)`, shaped like the output) scattered back onto
  /// the padded input, summed over the kernel, and the padding cut off.
  Value scatterWindows(
      DerivativeBuilder &db,
      llvm::function_ref<Value(int64_t kh, int64_t kw)> contribution) const {
    Value sum;
    for (int64_t kh = 0; kh < kernel[0]; ++kh)
      for (int64_t kw = 0; kw < kernel[1]; ++kw)
        sum = db.addOrNull(sum, scatter(db, contribution(kh, kw), kh, kw));
    return unpad(db, sum);
  }

};

/// max_pool2d: y = max over the window. The derivative routes through the
/// elements equal to the maximum: offset (kh, kw) of a window contributes
/// where window_kh_kw == y. Ties (two equal maxima in one window) would
/// count the cotangent/tangent twice; they have measure zero for real-valued
/// inputs, so this is the derivative almost everywhere. Padding positions are
/// zeros here (not -inf): they can only tie with y, and their contributions
/// are zero (JVP: the tangent is zero-padded) or sliced off (VJP).
struct MaxPool2DModel
    : DifferentiableOpInterface::ExternalModel<MaxPool2DModel, MaxPool2DOp> {
  /// window_kh_kw == y, for every offset.
  static SmallVector<Value> argmaxMasks(DerivativeBuilder &db, MaxPool2DOp op,
                                        const PoolGeometry &g) {
    Value xp = g.padInput(db, op.getInput());
    SmallVector<Value> masks;
    for (int64_t kh = 0; kh < g.kernel[0]; ++kh)
      for (int64_t kw = 0; kw < g.kernel[1]; ++kw)
        masks.push_back(db.compare(ComparePredicate::eq,
                                   g.window(db, xp, kh, kw), op.getResult()));
    return masks;
  }

  LogicalResult buildVjp(Operation *operation, OpBuilder &builder,
                         ValueRange resultCotangents, ArrayRef<bool> wanted,
                         SmallVectorImpl<Value> &operandCotangents) const {
    auto op = cast<MaxPool2DOp>(operation);
    DerivativeBuilder db(builder, op.getLoc());
    Value dy = resultCotangents[0];
    if (!dy || !wanted[0]) {
      operandCotangents.push_back(Value());
      return success();
    }
    PoolGeometry g = PoolGeometry::of(op);
    SmallVector<Value> masks = argmaxMasks(db, op, g);
    Value zeros = db.zerosLike(dy);
    size_t index = 0;
    operandCotangents.push_back(g.scatterWindows(db, [&](int64_t, int64_t) {
      return db.select(masks[index++], dy, zeros);
    }));
    return success();
  }

  LogicalResult buildJvp(Operation *operation, OpBuilder &builder,
                         ValueRange operandTangents,
                         SmallVectorImpl<Value> &resultTangents) const {
    auto op = cast<MaxPool2DOp>(operation);
    DerivativeBuilder db(builder, op.getLoc());
    Value dx = operandTangents[0];
    if (!dx) {
      resultTangents.push_back(Value());
      return success();
    }
    PoolGeometry g = PoolGeometry::of(op);
    SmallVector<Value> masks = argmaxMasks(db, op, g);
    Value dxp = g.padInput(db, dx);
    Value zeros = db.zerosLike(op.getResult());
    Value sum;
    size_t index = 0;
    for (int64_t kh = 0; kh < g.kernel[0]; ++kh)
      for (int64_t kw = 0; kw < g.kernel[1]; ++kw)
        sum = db.addOrNull(sum, db.select(masks[index++],
                                          g.window(db, dxp, kh, kw), zeros));
    resultTangents.push_back(sum);
    return success();
  }
};

/// avg_pool2d is linear: y = (sum over the window of xp) / count, with count
/// the window's non-padding elements (KH*KW with count_include_pad), a
/// constant computed here exactly as the lowering does.
struct AvgPool2DModel
    : DifferentiableOpInterface::ExternalModel<AvgPool2DModel, AvgPool2DOp> {
  static Value divideByCounts(DerivativeBuilder &db, AvgPool2DOp op,
                              const PoolGeometry &g, Value dy) {
    auto covered = [](int64_t start, int64_t extent, int64_t size) {
      return std::min(start + extent, size) - std::max<int64_t>(start, 0);
    };
    SmallVector<double> counts;
    for (int64_t y = 0; y < g.out[2]; ++y)
      for (int64_t x = 0; x < g.out[3]; ++x)
        counts.push_back(
            op.getCountIncludePad()
                ? double(g.kernel[0] * g.kernel[1])
                : double(covered(y * g.strides[0] - g.padding[0], g.kernel[0],
                                 g.in[2]) *
                         covered(x * g.strides[1] - g.padding[1], g.kernel[1],
                                 g.in[3])));
    RankedTensorType type = typeOf(dy);
    if (llvm::all_equal(counts))
      return db.div(dy, db.splat(type, counts.front()));
    Value plane =
        denseConstant(db, withShape(type, {1, 1, g.out[2], g.out[3]}), counts);
    return db.div(dy, db.broadcastTo(plane, type));
  }

  LogicalResult buildVjp(Operation *operation, OpBuilder &builder,
                         ValueRange resultCotangents, ArrayRef<bool> wanted,
                         SmallVectorImpl<Value> &operandCotangents) const {
    auto op = cast<AvgPool2DOp>(operation);
    DerivativeBuilder db(builder, op.getLoc());
    Value dy = resultCotangents[0];
    if (!dy || !wanted[0]) {
      operandCotangents.push_back(Value());
      return success();
    }
    PoolGeometry g = PoolGeometry::of(op);
    Value share = divideByCounts(db, op, g, dy);
    operandCotangents.push_back(
        g.scatterWindows(db, [&](int64_t, int64_t) { return share; }));
    return success();
  }

  LogicalResult buildJvp(Operation *operation, OpBuilder &builder,
                         ValueRange operandTangents,
                         SmallVectorImpl<Value> &resultTangents) const {
    auto op = cast<AvgPool2DOp>(operation);
    DerivativeBuilder db(builder, op.getLoc());
    Value dx = operandTangents[0];
    if (!dx) {
      resultTangents.push_back(Value());
      return success();
    }
    resultTangents.push_back(db.create<AvgPool2DOp>(
        op.getType(), dx, op.getKernelShape(), op.getStrides(),
        op.getPadding(), op.getCountIncludePad()));
    return success();
  }
};

} // namespace
} // namespace bism

void bism::registerConvPoolDerivatives(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, BismDialect *) {
    Conv2DOp::attachInterface<Conv2DModel>(*ctx);
    MaxPool2DOp::attachInterface<MaxPool2DModel>(*ctx);
    AvgPool2DOp::attachInterface<AvgPool2DModel>(*ctx);
  });
}
