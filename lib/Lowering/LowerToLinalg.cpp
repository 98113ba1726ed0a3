//===- LowerToLinalg.cpp - bism -> linalg/tensor/arith/math ---------------===//
//
// Every bism op becomes linalg/tensor/arith/math on tensors:
//   elementwise, compare, select, convert -> parallel linalg.generic
//   matmul -> linalg.matmul / batch_matmul, transposes as indexing maps
//   conv2d -> im2col gather + batch_matmul
//   max/avg pooling -> windowed linalg.generic
//   reductions -> linalg.reduce / linalg.generic
//   shape ops -> tensor reshapes, linalg.transpose, extract/insert_slice
//   random draws, key_split -> Philox-4x32-10 in arith, exactly as
//     runtime/include/bism/runtime/Philox.h
//
//===----------------------------------------------------------------------===//
#include "bism/Dialect/Bism.h"
#include "bism/Lowering/MatmulMaps.h"
#include "bism/Lowering/Passes.h"
#include "bism/runtime/DrawMath.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Transforms/DialectConversion.h"
#include "llvm/ADT/TypeSwitch.h"

#include <limits>

using namespace mlir;

namespace bism {
#define GEN_PASS_DEF_BISMLOWERTOLINALG
#include "bism/Lowering/Passes.h.inc"
} // namespace bism

using utils::IteratorType;
using BodyFn = function_ref<Value(OpBuilder &, Location, ValueRange)>;

//===----------------------------------------------------------------------===//
// Small builders
//===----------------------------------------------------------------------===//

static RankedTensorType tensorTypeOf(Value value) {
  return cast<RankedTensorType>(value.getType());
}

static Value floatConstant(OpBuilder &b, Location loc, Type type,
                           double value) {
  return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, value));
}

static Value i32Constant(OpBuilder &b, Location loc, uint32_t value) {
  return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(int32_t(value)));
}

static Value indexConstant(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

static Value emptyTensor(OpBuilder &b, Location loc, RankedTensorType type) {
  return tensor::EmptyOp::create(b, loc, type.getShape(),
                                 type.getElementType());
}

/// tensor.empty filled with `value` (a scalar of the element type).
static Value filledTensor(OpBuilder &b, Location loc, RankedTensorType type,
                          Value value) {
  return linalg::FillOp::create(b, loc, ValueRange{value},
                                ValueRange{emptyTensor(b, loc, type)})
      .getResult(0);
}

static Value filledTensor(OpBuilder &b, Location loc, RankedTensorType type,
                          double value) {
  return filledTensor(b, loc, type,
                      floatConstant(b, loc, type.getElementType(), value));
}

/// A linalg.generic with one result written into `init`; `body` receives the
/// block arguments (inputs, then the current output element) and returns the
/// value to yield.
static Value emitGeneric(OpBuilder &b, Location loc, ValueRange inputs,
                         Value init, ArrayRef<AffineMap> maps,
                         ArrayRef<IteratorType> iterators, BodyFn body) {
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, inputs, ValueRange{init}, maps,
      iterators, [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        linalg::YieldOp::create(nested, nestedLoc,
                                body(nested, nestedLoc, args));
      });
  return generic.getResult(0);
}

/// result[i] = input[read(i)]: a copying linalg.generic whose input map is
/// `read` (broadcast, reverse).
static Value emitGather(OpBuilder &b, Location loc, Value input,
                        RankedTensorType resultType, AffineMap read) {
  unsigned rank = unsigned(resultType.getRank());
  return emitGeneric(
      b, loc, ValueRange{input}, emptyTensor(b, loc, resultType),
      {read, b.getMultiDimIdentityMap(rank)},
      SmallVector<IteratorType>(rank, IteratorType::parallel),
      [](OpBuilder &, Location, ValueRange args) { return args[0]; });
}

/// Elementwise generic: inputs of the result's shape, identity maps.
static Value emitElementwise(OpBuilder &b, Location loc, ValueRange inputs,
                             RankedTensorType resultType, BodyFn body) {
  AffineMap identity = b.getMultiDimIdentityMap(unsigned(resultType.getRank()));
  SmallVector<AffineMap> maps(inputs.size() + 1, identity);
  SmallVector<IteratorType> iterators(resultType.getRank(),
                                      IteratorType::parallel);
  return emitGeneric(b, loc, inputs, emptyTensor(b, loc, resultType), maps,
                     iterators, body);
}

/// `src` zero-extended by `low`/`high` elements per dimension, filled with
/// `padValue` (linalg.fill + tensor.insert_slice).
static Value emitPad(OpBuilder &b, Location loc, Value src,
                     ArrayRef<int64_t> low, ArrayRef<int64_t> high,
                     Value padValue) {
  if (llvm::all_of(low, [](int64_t v) { return v == 0; }) &&
      llvm::all_of(high, [](int64_t v) { return v == 0; }))
    return src;
  RankedTensorType type = tensorTypeOf(src);
  SmallVector<int64_t> shape(type.getShape());
  for (size_t dim = 0; dim < shape.size(); ++dim)
    shape[dim] += low[dim] + high[dim];
  Value padded = filledTensor(
      b, loc, RankedTensorType::get(shape, type.getElementType()), padValue);
  MLIRContext *ctx = b.getContext();
  SmallVector<int64_t> ones(shape.size(), 1);
  return tensor::InsertSliceOp::create(
      b, loc, src, padded, getAsIndexOpFoldResult(ctx, low),
      getAsIndexOpFoldResult(ctx, type.getShape()),
      getAsIndexOpFoldResult(ctx, ones));
}

/// Row-major reshape through a flat 1-D tensor (collapse, then expand); rank 0
/// on either side uses the empty reassociation.
static Value emitReshape(OpBuilder &b, Location loc, Value src,
                         RankedTensorType resultType) {
  RankedTensorType srcType = tensorTypeOf(src);
  if (srcType == resultType)
    return src;
  auto flatType = RankedTensorType::get({srcType.getNumElements()},
                                        srcType.getElementType());
  auto allDims = [](int64_t rank) {
    ReassociationIndices dims;
    for (int64_t dim = 0; dim < rank; ++dim)
      dims.push_back(dim);
    return SmallVector<ReassociationIndices>{dims};
  };
  Value flat = src;
  if (srcType.getRank() == 0)
    flat = tensor::ExpandShapeOp::create(b, loc, flatType, src,
                                         ArrayRef<ReassociationIndices>{});
  else if (srcType.getRank() > 1)
    flat = tensor::CollapseShapeOp::create(b, loc, flatType, src,
                                           allDims(srcType.getRank()));
  if (resultType.getRank() == 0)
    return tensor::CollapseShapeOp::create(b, loc, resultType, flat,
                                           ArrayRef<ReassociationIndices>{});
  if (resultType.getRank() == 1)
    return flat;
  return tensor::ExpandShapeOp::create(b, loc, resultType, flat,
                                       allDims(resultType.getRank()));
}

/// linalg.matmul (rank 2) or linalg.batch_matmul (rank 3) of `lhs` and `rhs`
/// into a zero-filled `resultType`; transposes become indexing maps.
static Value emitMatmul(OpBuilder &b, Location loc, Value lhs, Value rhs,
                        RankedTensorType resultType, bool transposeLhs,
                        bool transposeRhs) {
  MLIRContext *ctx = b.getContext();
  Value init = filledTensor(b, loc, resultType, 0.0);
  bool batched = resultType.getRank() == 3;
  SmallVector<AffineMap, 3> maps =
      bism::matmulIndexingMaps(ctx, batched, transposeLhs, transposeRhs);
  ArrayAttr mapsAttr = b.getAffineMapArrayAttr(maps);
  if (!batched) {
    auto matmul = linalg::MatmulOp::create(
        b, loc, TypeRange{resultType}, ValueRange{lhs, rhs}, ValueRange{init});
    matmul.setIndexingMapsAttr(mapsAttr);
    return matmul.getResult(0);
  }
  auto matmul = linalg::BatchMatmulOp::create(
      b, loc, TypeRange{resultType}, ValueRange{lhs, rhs}, ValueRange{init});
  matmul.setIndexingMapsAttr(mapsAttr);
  return matmul.getResult(0);
}

//===----------------------------------------------------------------------===//
// Philox-4x32-10 (runtime/include/bism/runtime/Philox.h)
//===----------------------------------------------------------------------===//

static constexpr uint32_t kPhiloxMultiplier0 = 0xD2511F53u;
static constexpr uint32_t kPhiloxMultiplier1 = 0xCD9E8D57u;
static constexpr uint32_t kPhiloxWeyl0 = 0x9E3779B9u;
static constexpr uint32_t kPhiloxWeyl1 = 0xBB67AE85u;
static constexpr uint32_t kKeySplitTag = 0x6b657973u;
static constexpr int kPhiloxRounds = 10;

using Words = std::array<Value, 4>;
using RoundKeys = SmallVector<std::pair<Value, Value>, kPhiloxRounds>;

/// The key of every round, (key[0] + r * W0, key[1] + r * W1), read from a
/// tensor<2xi32> key (emit outside loops: they do not depend on the element).
static RoundKeys emitRoundKeys(OpBuilder &b, Location loc, Value keyTensor) {
  Value k0 = tensor::ExtractOp::create(b, loc, keyTensor,
                                       ValueRange{indexConstant(b, loc, 0)});
  Value k1 = tensor::ExtractOp::create(b, loc, keyTensor,
                                       ValueRange{indexConstant(b, loc, 1)});
  Value weyl0 = i32Constant(b, loc, kPhiloxWeyl0);
  Value weyl1 = i32Constant(b, loc, kPhiloxWeyl1);
  RoundKeys keys;
  keys.push_back({k0, k1});
  for (int round = 1; round < kPhiloxRounds; ++round) {
    k0 = arith::AddIOp::create(b, loc, k0, weyl0);
    k1 = arith::AddIOp::create(b, loc, k1, weyl1);
    keys.push_back({k0, k1});
  }
  return keys;
}

/// The ten rounds on a counter of four i32 words.
static Words emitPhilox(OpBuilder &b, Location loc, Words counter,
                        const RoundKeys &keys) {
  Value mult0 = i32Constant(b, loc, kPhiloxMultiplier0);
  Value mult1 = i32Constant(b, loc, kPhiloxMultiplier1);
  for (auto [key0, key1] : keys) {
    auto product0 = arith::MulUIExtendedOp::create(b, loc, mult0, counter[0]);
    auto product1 = arith::MulUIExtendedOp::create(b, loc, mult1, counter[2]);
    auto xor3 = [&](Value x, Value y, Value z) -> Value {
      return arith::XOrIOp::create(b, loc, arith::XOrIOp::create(b, loc, x, y),
                                   z);
    };
    counter = {xor3(product1.getHigh(), counter[1], key0), product1.getLow(),
               xor3(product0.getHigh(), counter[3], key1), product0.getLow()};
  }
  return counter;
}

/// The (low, high) i32 words of an i64.
static std::pair<Value, Value> splitI64(OpBuilder &b, Location loc,
                                        Value value) {
  Type i32 = b.getI32Type();
  Value low = arith::TruncIOp::create(b, loc, i32, value);
  Value shift = arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(32));
  Value high = arith::TruncIOp::create(
      b, loc, i32, arith::ShRUIOp::create(b, loc, value, shift));
  return {low, high};
}

/// A float in [0, 1) (or (0, 1) when `open`) from the words: f32 uses the top
/// 24 bits of word `slot`, f64 the top 53 bits of words (2 slot, 2 slot + 1).
static Value emitUnitFloat(OpBuilder &b, Location loc, FloatType type,
                           const Words &words, int slot, bool open) {
  Value bits, scale;
  if (type.isF32()) {
    bits = arith::ShRUIOp::create(b, loc, words[slot], i32Constant(b, loc, 8));
    scale = floatConstant(b, loc, type, 0x1p-24);
  } else {
    Type i64 = b.getI64Type();
    Value high = arith::ExtUIOp::create(b, loc, i64, words[2 * slot]);
    Value low = arith::ExtUIOp::create(b, loc, i64, words[2 * slot + 1]);
    Value c32 = arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(32));
    Value c11 = arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(11));
    Value joined = arith::OrIOp::create(
        b, loc, arith::ShLIOp::create(b, loc, high, c32), low);
    bits = arith::ShRUIOp::create(b, loc, joined, c11);
    scale = floatConstant(b, loc, type, 0x1p-53);
  }
  Value value = arith::UIToFPOp::create(b, loc, type, bits);
  if (open)
    value =
        arith::AddFOp::create(b, loc, value, floatConstant(b, loc, type, 0.5));
  return arith::MulFOp::create(b, loc, value, scale);
}

// The f32 draws' log and cos(2 pi u): the operations of drawLog and
// drawCos2Pi in runtime/include/bism/runtime/DrawMath.h, in the same order
// and with its constants (plain arithmetic, no fast-math flags), so that they
// vectorise and equal the runtime bit for bit.

/// A small emitter of f32 scalar arithmetic.
namespace {
struct F32Builder {
  OpBuilder &b;
  Location loc;
  Value c(float v) { return floatConstant(b, loc, b.getF32Type(), double(v)); }
  Value i(uint32_t v) { return i32Constant(b, loc, v); }
  Value add(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubFOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  Value neg(Value x) { return arith::NegFOp::create(b, loc, x); }
  Value fma(Value x, Value y, Value z) {
    return math::FmaOp::create(b, loc, x, y, z);
  }
  Value gt(Value x, float v) {
    return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, x, c(v));
  }
  Value select(Value cond, Value x, Value y) {
    return arith::SelectOp::create(b, loc, cond, x, y);
  }
  Value toBits(Value x) {
    return arith::BitcastOp::create(b, loc, b.getI32Type(), x);
  }
  Value fromBits(Value x) {
    return arith::BitcastOp::create(b, loc, b.getF32Type(), x);
  }
};
} // namespace

/// runtime::drawLog.
static Value emitDrawLog(OpBuilder &builder, Location loc, Value x) {
  using namespace bism::runtime;
  F32Builder e{builder, loc};
  Value bits = e.toBits(x);
  Value offset = arith::SubIOp::create(builder, loc, bits,
                                       e.i(kDrawLogSqrtHalfBits));
  Value k = arith::ShRSIOp::create(builder, loc, offset, e.i(23));
  Value m = e.fromBits(arith::SubIOp::create(
      builder, loc, bits, arith::ShLIOp::create(builder, loc, k, e.i(23))));
  Value f = e.sub(m, e.c(1.0f));
  Value fk = arith::SIToFPOp::create(builder, loc, builder.getF32Type(), k);
  Value p = e.c(kDrawLogP[0]);
  for (int i = 1; i < 9; ++i)
    p = e.fma(p, f, e.c(kDrawLogP[i]));
  Value z = e.mul(f, f);
  Value y = e.mul(f, e.mul(z, p));
  y = e.fma(fk, e.c(kDrawLn2Lo), y);
  y = e.fma(e.mul(e.c(-0.5f), f), f, y);
  Value r = e.add(f, y);
  return e.fma(fk, e.c(kDrawLn2Hi), r);
}

/// runtime::drawCos2Pi.
static Value emitDrawCos2Pi(OpBuilder &builder, Location loc, Value u) {
  using namespace bism::runtime;
  F32Builder e{builder, loc};
  Value a = e.select(e.gt(u, 0.5f), e.sub(e.c(1.0f), u), u);
  Value negate = e.gt(a, 0.25f);
  Value b = e.select(negate, e.sub(e.c(0.5f), a), a);
  Value useSin = e.gt(b, 0.125f);
  Value t = e.select(useSin, e.sub(e.c(0.25f), b), b);
  Value twoPiHi = e.c(kDrawTwoPiHi), twoPiLo = e.c(kDrawTwoPiLo);
  Value x = e.fma(t, twoPiHi, e.mul(t, twoPiLo));
  Value z = e.mul(x, x);
  Value s = e.fma(e.fma(e.c(kDrawSinS[0]), z, e.c(kDrawSinS[1])), z,
                  e.c(kDrawSinS[2]));
  Value sinValue =
      e.fma(t, twoPiHi, e.fma(t, twoPiLo, e.mul(e.mul(x, z), s)));
  Value xLow = e.fma(t, twoPiLo, e.fma(t, twoPiHi, e.neg(x)));
  Value c = e.fma(e.fma(e.c(kDrawCosC[0]), z, e.c(kDrawCosC[1])), z,
                  e.c(kDrawCosC[2]));
  Value tail = e.fma(e.mul(z, z), c, e.neg(e.mul(x, xLow)));
  Value cosValue =
      e.add(e.c(1.0f), e.fma(e.mul(e.c(-0.5f), x), x, tail));
  Value value = e.select(useSin, sinValue, cosValue);
  return e.select(negate, e.neg(value), value);
}

/// The draw of one element from its Philox words, per op.
static Value emitDraw(Operation *op, OpBuilder &b, Location loc, FloatType type,
                      const Words &words) {
  // The draws must equal runtime/include/bism/runtime/Philox.h bit for bit:
  // f32 through DrawMath.h's polynomials, f64 through libm (kept out of the
  // polynomial approximations).
  bool f32 = type.isF32();
  auto exact = [&](Operation *op) -> Value {
    op->setAttr(bism::kExactMathAttr, b.getUnitAttr());
    return op->getResult(0);
  };
  auto log = [&](Value x) -> Value {
    if (f32)
      return emitDrawLog(b, loc, x);
    return exact(math::LogOp::create(b, loc, x));
  };
  auto cos2Pi = [&](Value u) -> Value {
    if (f32)
      return emitDrawCos2Pi(b, loc, u);
    Value angle = arith::MulFOp::create(
        b, loc,
        floatConstant(b, loc, type, 6.283185307179586476925286766559), u);
    return exact(math::CosOp::create(b, loc, angle));
  };
  return llvm::TypeSwitch<Operation *, Value>(op)
      .Case<bism::RandomUniformOp>([&](auto) {
        return emitUnitFloat(b, loc, type, words, 0, /*open=*/false);
      })
      .Case<bism::RandomNormalOp>([&](auto) -> Value {
        // sqrt(-2 log u1) * cos(2 pi u2)
        Value u1 = emitUnitFloat(b, loc, type, words, 0, /*open=*/true);
        Value u2 = emitUnitFloat(b, loc, type, words, 1, /*open=*/false);
        Value radius = math::SqrtOp::create(
            b, loc,
            arith::MulFOp::create(b, loc, floatConstant(b, loc, type, -2.0),
                                  log(u1)));
        return arith::MulFOp::create(b, loc, radius, cos2Pi(u2));
      })
      .Case<bism::RandomGumbelOp>([&](auto) -> Value {
        Value u = emitUnitFloat(b, loc, type, words, 0, /*open=*/true);
        return arith::NegFOp::create(
            b, loc, log(arith::NegFOp::create(b, loc, log(u))));
      })
      .Case<bism::RandomRademacherOp>([&](auto) -> Value {
        Value one = i32Constant(b, loc, 1);
        Value bit = arith::AndIOp::create(b, loc, words[0], one);
        Value set = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, bit,
                                          i32Constant(b, loc, 0));
        return arith::SelectOp::create(b, loc, set,
                                       floatConstant(b, loc, type, 1.0),
                                       floatConstant(b, loc, type, -1.0));
      })
      .Default([](Operation *) -> Value { return nullptr; });
}

//===----------------------------------------------------------------------===//
// Elementwise, compare, select, convert
//===----------------------------------------------------------------------===//

static arith::CmpFPredicate toCmpF(bism::ComparePredicate predicate) {
  switch (predicate) {
  case bism::ComparePredicate::eq:
    return arith::CmpFPredicate::OEQ;
  case bism::ComparePredicate::ne:
    return arith::CmpFPredicate::ONE;
  case bism::ComparePredicate::lt:
    return arith::CmpFPredicate::OLT;
  case bism::ComparePredicate::le:
    return arith::CmpFPredicate::OLE;
  case bism::ComparePredicate::gt:
    return arith::CmpFPredicate::OGT;
  case bism::ComparePredicate::ge:
    return arith::CmpFPredicate::OGE;
  }
  llvm_unreachable("unknown compare predicate");
}

/// The scalar computation of an elementwise op on its block arguments.
static Value emitScalar(Operation *op, OpBuilder &b, Location loc,
                        ValueRange args) {
  Value x = args[0];
  Type type = x.getType();
  auto constant = [&](double v) { return floatConstant(b, loc, type, v); };
  auto gtZero = [&](Value v) -> Value {
    return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, v,
                                 constant(0.0));
  };
  using R = Value;
  return llvm::TypeSwitch<Operation *, Value>(op)
      .Case([&](bism::NegOp) -> R { return arith::NegFOp::create(b, loc, x); })
      .Case([&](bism::ExpOp) -> R { return math::ExpOp::create(b, loc, x); })
      .Case([&](bism::LogOp) -> R { return math::LogOp::create(b, loc, x); })
      .Case(
          [&](bism::Log1pOp) -> R { return math::Log1pOp::create(b, loc, x); })
      .Case([&](bism::SqrtOp) -> R { return math::SqrtOp::create(b, loc, x); })
      .Case([&](bism::SquareOp) -> R {
        return arith::MulFOp::create(b, loc, x, x);
      })
      .Case([&](bism::AbsOp) -> R { return math::AbsFOp::create(b, loc, x); })
      .Case([&](bism::ReciprocalOp) -> R {
        return arith::DivFOp::create(b, loc, constant(1.0), x);
      })
      .Case([&](bism::TanhOp) -> R { return math::TanhOp::create(b, loc, x); })
      .Case([&](bism::SigmoidOp) -> R {
        Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
        return arith::DivFOp::create(
            b, loc, constant(1.0),
            arith::AddFOp::create(b, loc, constant(1.0), e));
      })
      .Case([&](bism::SoftplusOp) -> R {
        // max(x, 0) + log1p(exp(-|x|))
        Value negAbs =
            arith::NegFOp::create(b, loc, math::AbsFOp::create(b, loc, x));
        Value tail =
            math::Log1pOp::create(b, loc, math::ExpOp::create(b, loc, negAbs));
        return arith::AddFOp::create(
            b, loc, arith::MaximumFOp::create(b, loc, x, constant(0.0)), tail);
      })
      .Case([&](bism::ReluOp) -> R {
        return arith::MaximumFOp::create(b, loc, x, constant(0.0));
      })
      .Case([&](bism::EluOp elu) -> R {
        Value negative = arith::MulFOp::create(
            b, loc, constant(elu.getAlpha().convertToDouble()),
            math::ExpM1Op::create(b, loc, x));
        return arith::SelectOp::create(b, loc, gtZero(x), x, negative);
      })
      .Case([&](bism::LeakyReluOp leaky) -> R {
        Value negative = arith::MulFOp::create(
            b, loc, constant(leaky.getAlpha().convertToDouble()), x);
        return arith::SelectOp::create(b, loc, gtZero(x), x, negative);
      })
      .Case([&](bism::AddOp) -> R {
        return arith::AddFOp::create(b, loc, x, args[1]);
      })
      .Case([&](bism::SubOp) -> R {
        return arith::SubFOp::create(b, loc, x, args[1]);
      })
      .Case([&](bism::MulOp) -> R {
        return arith::MulFOp::create(b, loc, x, args[1]);
      })
      .Case([&](bism::DivOp) -> R {
        return arith::DivFOp::create(b, loc, x, args[1]);
      })
      .Case([&](bism::PowOp) -> R {
        return math::PowFOp::create(b, loc, x, args[1]);
      })
      .Case([&](bism::MaximumOp) -> R {
        return arith::MaximumFOp::create(b, loc, x, args[1]);
      })
      .Case([&](bism::MinimumOp) -> R {
        return arith::MinimumFOp::create(b, loc, x, args[1]);
      })
      .Case([&](bism::CompareOp compare) -> R {
        return arith::CmpFOp::create(b, loc, toCmpF(compare.getPredicate()), x,
                                     args[1]);
      })
      .Case([&](bism::SelectOp) -> R {
        return arith::SelectOp::create(b, loc, x, args[1], args[2]);
      })
      .Case([&](bism::ConvertOp convert) -> R {
        Type to = convert.getType().getElementType();
        if (to == type)
          return x;
        if (to.getIntOrFloatBitWidth() > type.getIntOrFloatBitWidth())
          return arith::ExtFOp::create(b, loc, to, x);
        return arith::TruncFOp::create(b, loc, to, x);
      })
      .Default([](Operation *) -> R { return nullptr; });
}

namespace {

template <typename OpTy>
struct ElementwiseLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Operation *raw = op.getOperation();
    Value result =
        emitElementwise(rewriter, op.getLoc(), adaptor.getOperands(),
                        cast<RankedTensorType>(op.getType()),
                        [&](OpBuilder &b, Location loc, ValueRange args) {
                          return emitScalar(raw, b, loc, args);
                        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct ConstantLowering : OpConversionPattern<bism::ConstantOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(bism::ConstantOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto value = dyn_cast<TypedAttr>(op.getValue());
    if (!value)
      return rewriter.notifyMatchFailure(op, "untyped constant");
    rewriter.replaceOp(op,
                       arith::ConstantOp::create(rewriter, op.getLoc(), value));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Matmul, convolution, pooling
//===----------------------------------------------------------------------===//

struct MatmulLowering : OpConversionPattern<bism::MatmulOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(bism::MatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = op.getType();
    int64_t rank = type.getRank();
    Value lhs = adaptor.getLhs(), rhs = adaptor.getRhs();
    if (rank == 2) {
      rewriter.replaceOp(op, emitMatmul(rewriter, loc, lhs, rhs, type,
                                        op.getTransposeLhs(),
                                        op.getTransposeRhs()));
      return success();
    }
    // Fold all batch dimensions into one: [B..., x, y] <-> [prod(B), x, y].
    ReassociationIndices batchDims;
    for (int64_t dim = 0; dim < rank - 2; ++dim)
      batchDims.push_back(dim);
    SmallVector<ReassociationIndices> reassociation{
        batchDims, {rank - 2}, {rank - 1}};
    int64_t batch = 1;
    for (int64_t size : type.getShape().drop_back(2))
      batch *= size;
    auto to3d = [&](RankedTensorType t) {
      return RankedTensorType::get(
          {batch, t.getDimSize(rank - 2), t.getDimSize(rank - 1)},
          t.getElementType());
    };
    auto collapse = [&](Value value) -> Value {
      if (rank == 3)
        return value;
      return tensor::CollapseShapeOp::create(
          rewriter, loc, to3d(tensorTypeOf(value)), value, reassociation);
    };
    Value product =
        emitMatmul(rewriter, loc, collapse(lhs), collapse(rhs), to3d(type),
                   op.getTransposeLhs(), op.getTransposeRhs());
    if (rank > 3)
      product = tensor::ExpandShapeOp::create(rewriter, loc, type, product,
                                              reassociation);
    rewriter.replaceOp(op, product);
    return success();
  }
};

/// im2col: the padded input gathered into [G, C/G * KH * KW, N * OH * OW],
/// one batch_matmul with the filter as [G, O/G, C/G * KH * KW], then the
/// product [G, O/G, N, OH, OW] transposed to [N, O, OH, OW].
struct Conv2DLowering : OpConversionPattern<bism::Conv2DOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(bism::Conv2DOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value input = adaptor.getInput(), filter = adaptor.getFilter();
    RankedTensorType resultType = op.getType();
    Type element = resultType.getElementType();
    ArrayRef<int64_t> in = tensorTypeOf(input).getShape(),
                      f = tensorTypeOf(filter).getShape(),
                      out = resultType.getShape();
    auto strides = op.getStrides(), pad = op.getPadding(),
         dilations = op.getDilations();
    int64_t n = in[0], groups = op.getGroups(), outChannels = f[0],
            groupIn = f[1], kh = f[2], kw = f[3], oh = out[2], ow = out[3];
    int64_t groupOut = outChannels / groups;
    int64_t patch = groupIn * kh * kw, pixels = n * oh * ow;

    Value padded = emitPad(rewriter, loc, input, {0, 0, pad[0], pad[1]},
                           {0, 0, pad[2], pad[3]},
                           floatConstant(rewriter, loc, element, 0.0));

    // cols[g, c, i, j, b, y, x] = padded[b, g*C/G + c, y*sh + i*dh, x*sw +
    // j*dw]
    AffineExpr g, c, i, j, b, y, x;
    bindDims(ctx, g, c, i, j, b, y, x);
    AffineMap gather =
        AffineMap::get(7, 0,
                       {b, g * groupIn + c, y * strides[0] + i * dilations[0],
                        x * strides[1] + j * dilations[1]},
                       ctx);
    auto colsType =
        RankedTensorType::get({groups, groupIn, kh, kw, n, oh, ow}, element);
    Value cols = emitGeneric(
        rewriter, loc, ValueRange{padded}, emptyTensor(rewriter, loc, colsType),
        {gather, rewriter.getMultiDimIdentityMap(7)},
        SmallVector<IteratorType>(7, IteratorType::parallel),
        [](OpBuilder &, Location, ValueRange args) { return args[0]; });
    Value colsMatrix = tensor::CollapseShapeOp::create(
        rewriter, loc, RankedTensorType::get({groups, patch, pixels}, element),
        cols, SmallVector<ReassociationIndices>{{0}, {1, 2, 3}, {4, 5, 6}});

    Value filterRows = tensor::CollapseShapeOp::create(
        rewriter, loc, RankedTensorType::get({outChannels, patch}, element),
        filter, SmallVector<ReassociationIndices>{{0}, {1, 2, 3}});
    Value filterMatrix = tensor::ExpandShapeOp::create(
        rewriter, loc,
        RankedTensorType::get({groups, groupOut, patch}, element), filterRows,
        SmallVector<ReassociationIndices>{{0, 1}, {2}});

    Value product =
        emitMatmul(rewriter, loc, filterMatrix, colsMatrix,
                   RankedTensorType::get({groups, groupOut, pixels}, element),
                   /*transposeLhs=*/false, /*transposeRhs=*/false);
    Value product5d = tensor::ExpandShapeOp::create(
        rewriter, loc,
        RankedTensorType::get({groups, groupOut, n, oh, ow}, element), product,
        SmallVector<ReassociationIndices>{{0}, {1}, {2, 3, 4}});
    auto transposedType =
        RankedTensorType::get({n, groups, groupOut, oh, ow}, element);
    Value transposed =
        linalg::TransposeOp::create(rewriter, loc, product5d,
                                    emptyTensor(rewriter, loc, transposedType),
                                    ArrayRef<int64_t>{2, 0, 1, 3, 4})
            .getResult()[0];
    rewriter.replaceOp(
        op, tensor::CollapseShapeOp::create(
                rewriter, loc, resultType, transposed,
                SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}, {4}}));
    return success();
  }
};

/// Pooling as a windowed reduction over a [KH, KW] dummy operand; max pads
/// with -inf, average divides by the number of non-padding elements of each
/// window (or KH*KW with count_include_pad).
template <typename OpTy> struct PoolLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  static constexpr bool isMax = std::is_same_v<OpTy, bism::MaxPool2DOp>;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value input = adaptor.getInput();
    RankedTensorType resultType = op.getType();
    Type element = resultType.getElementType();
    auto kernel = op.getKernelShape(), strides = op.getStrides(),
         pad = op.getPadding();
    double identity = isMax ? -std::numeric_limits<double>::infinity() : 0.0;

    Value padded = emitPad(rewriter, loc, input, {0, 0, pad[0], pad[1]},
                           {0, 0, pad[2], pad[3]},
                           floatConstant(rewriter, loc, element, identity));
    AffineExpr n, c, y, x, i, j;
    bindDims(ctx, n, c, y, x, i, j);
    SmallVector<AffineMap> maps{
        AffineMap::get(6, 0, {n, c, y * strides[0] + i, x * strides[1] + j},
                       ctx),
        AffineMap::get(6, 0, {i, j}, ctx),
        AffineMap::get(6, 0, {n, c, y, x}, ctx)};
    SmallVector<IteratorType> iterators(4, IteratorType::parallel);
    iterators.append(2, IteratorType::reduction);
    Value window = tensor::EmptyOp::create(rewriter, loc, kernel, element);
    Value pooled = emitGeneric(
        rewriter, loc, ValueRange{padded, window},
        filledTensor(rewriter, loc, resultType, identity), maps, iterators,
        [](OpBuilder &b, Location l, ValueRange args) -> Value {
          if (isMax)
            return arith::MaximumFOp::create(b, l, args[2], args[0]);
          return arith::AddFOp::create(b, l, args[2], args[0]);
        });
    if constexpr (!isMax)
      pooled = divideByWindowCounts(rewriter, loc, op, pooled);
    rewriter.replaceOp(op, pooled);
    return success();
  }

  /// sum / count, with the counts an [OH, OW] constant (or a scalar when all
  /// windows count the same).
  static Value divideByWindowCounts(OpBuilder &rewriter, Location loc, OpTy op,
                                    Value sum) {
    RankedTensorType resultType = op.getType();
    Type element = resultType.getElementType();
    ArrayRef<int64_t> in = tensorTypeOf(op.getInput()).getShape();
    auto kernel = op.getKernelShape(), strides = op.getStrides(),
         pad = op.getPadding();
    int64_t oh = resultType.getDimSize(2), ow = resultType.getDimSize(3);
    auto covered = [](int64_t start, int64_t extent, int64_t size) {
      return std::min(start + extent, size) - std::max<int64_t>(start, 0);
    };
    SmallVector<double> counts;
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t x = 0; x < ow; ++x)
        counts.push_back(
            op.getCountIncludePad()
                ? double(kernel[0] * kernel[1])
                : double(covered(y * strides[0] - pad[0], kernel[0], in[2]) *
                         covered(x * strides[1] - pad[1], kernel[1], in[3])));
    if (llvm::all_equal(counts)) {
      double count = counts.front();
      return emitElementwise(
          rewriter, loc, ValueRange{sum}, resultType,
          [&](OpBuilder &b, Location l, ValueRange args) -> Value {
            return arith::DivFOp::create(b, l, args[0],
                                         floatConstant(b, l, element, count));
          });
    }
    auto countsType = RankedTensorType::get({oh, ow}, element);
    DenseElementsAttr countsAttr;
    if (element.isF32()) {
      SmallVector<float> values(counts.begin(), counts.end());
      countsAttr = DenseElementsAttr::get(countsType, ArrayRef<float>(values));
    } else {
      countsAttr = DenseElementsAttr::get(countsType, ArrayRef<double>(counts));
    }
    Value countsTensor = arith::ConstantOp::create(rewriter, loc, countsAttr);
    MLIRContext *ctx = rewriter.getContext();
    AffineExpr n, c, y, x;
    bindDims(ctx, n, c, y, x);
    AffineMap identity = AffineMap::get(4, 0, {n, c, y, x}, ctx);
    return emitGeneric(rewriter, loc, ValueRange{sum, countsTensor},
                       emptyTensor(rewriter, loc, resultType),
                       {identity, AffineMap::get(4, 0, {y, x}, ctx), identity},
                       SmallVector<IteratorType>(4, IteratorType::parallel),
                       [](OpBuilder &b, Location l, ValueRange args) -> Value {
                         return arith::DivFOp::create(b, l, args[0], args[1]);
                       });
  }
};

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

template <typename OpTy> struct ReduceLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value input = adaptor.getOperand();
    RankedTensorType inputType = tensorTypeOf(input);
    Type element = inputType.getElementType();
    SmallVector<int64_t> axes(op.getAxes());
    llvm::sort(axes);
    // The result without kept dimensions, and the map input -> it.
    SmallVector<int64_t> keptShape;
    SmallVector<AffineExpr> keptDims;
    int64_t count = 1;
    for (int64_t dim = 0; dim < inputType.getRank(); ++dim) {
      if (llvm::is_contained(axes, dim)) {
        count *= inputType.getDimSize(dim);
        continue;
      }
      keptShape.push_back(inputType.getDimSize(dim));
      keptDims.push_back(getAffineDimExpr(dim, ctx));
    }
    auto reducedType = RankedTensorType::get(keptShape, element);
    AffineMap toReduced = AffineMap::get(inputType.getRank(), 0, keptDims, ctx);

    // f32 sums accumulate in f64: a long f32 running sum loses about
    // log2(n) bits (1e-3 relative over 4e5 terms), f64 keeps it to rounding.
    Type accumulator = element.isF32() ? Type(rewriter.getF64Type()) : element;
    auto accumulatorType = RankedTensorType::get(keptShape, accumulator);
    auto widen = [&](OpBuilder &b, Location l, Value value) -> Value {
      return value.getType() == accumulator
                 ? value
                 : Value(arith::ExtFOp::create(b, l, accumulator, value));
    };
    auto narrow = [&](Value wide) -> Value {
      if (accumulator == element)
        return wide;
      return emitElementwise(
          rewriter, loc, ValueRange{wide}, reducedType,
          [&](OpBuilder &b, Location l, ValueRange args) -> Value {
            return arith::TruncFOp::create(b, l, element, args[0]);
          });
    };

    auto reduce = [&](bool max) -> Value {
      if (max)
        return linalg::ReduceOp::create(
                   rewriter, loc, ValueRange{input},
                   ValueRange{filledTensor(
                       rewriter, loc, reducedType,
                       -std::numeric_limits<double>::infinity())},
                   axes,
                   [&](OpBuilder &b, Location l, ValueRange args) {
                     linalg::YieldOp::create(
                         b, l,
                         Value(arith::MaximumFOp::create(b, l, args[1], args[0])));
                   })
            .getResult(0);
      return linalg::ReduceOp::create(
                 rewriter, loc, ValueRange{input},
                 ValueRange{filledTensor(rewriter, loc, accumulatorType, 0.0)},
                 axes,
                 [&](OpBuilder &b, Location l, ValueRange args) {
                   linalg::YieldOp::create(
                       b, l,
                       Value(arith::AddFOp::create(b, l, args[1],
                                                   widen(b, l, args[0]))));
                 })
          .getResult(0);
    };

    Value result;
    if constexpr (std::is_same_v<OpTy, bism::ReduceSumOp>) {
      result = narrow(reduce(/*max=*/false));
    } else if constexpr (std::is_same_v<OpTy, bism::ReduceMaxOp>) {
      result = reduce(/*max=*/true);
    } else if constexpr (std::is_same_v<OpTy, bism::ReduceMeanOp>) {
      result = narrow(emitElementwise(
          rewriter, loc, ValueRange{reduce(/*max=*/false)}, accumulatorType,
          [&](OpBuilder &b, Location l, ValueRange args) -> Value {
            return arith::DivFOp::create(
                b, l, args[0], floatConstant(b, l, accumulator, double(count)));
          }));
    } else {
      // shift + log(sum(exp(x - shift))), shift = max unless it is infinite.
      Value shift = emitElementwise(
          rewriter, loc, ValueRange{reduce(/*max=*/true)}, reducedType,
          [&](OpBuilder &b, Location l, ValueRange args) -> Value {
            Value infinite = arith::CmpFOp::create(
                b, l, arith::CmpFPredicate::OEQ,
                math::AbsFOp::create(b, l, args[0]),
                floatConstant(b, l, element,
                              std::numeric_limits<double>::infinity()));
            return arith::SelectOp::create(
                b, l, infinite, floatConstant(b, l, element, 0.0), args[0]);
          });
      SmallVector<IteratorType> iterators;
      for (int64_t dim = 0; dim < inputType.getRank(); ++dim)
        iterators.push_back(llvm::is_contained(axes, dim)
                                ? IteratorType::reduction
                                : IteratorType::parallel);
      Value sum = emitGeneric(
          rewriter, loc, ValueRange{input, shift},
          filledTensor(rewriter, loc, accumulatorType, 0.0),
          {rewriter.getMultiDimIdentityMap(inputType.getRank()), toReduced,
           toReduced},
          iterators, [&](OpBuilder &b, Location l, ValueRange args) -> Value {
            Value shifted = arith::SubFOp::create(b, l, args[0], args[1]);
            return arith::AddFOp::create(
                b, l, args[2], widen(b, l, math::ExpOp::create(b, l, shifted)));
          });
      result = narrow(emitElementwise(
          rewriter, loc, ValueRange{shift, sum}, accumulatorType,
          [&](OpBuilder &b, Location l, ValueRange args) -> Value {
            return arith::AddFOp::create(b, l, widen(b, l, args[0]),
                                         math::LogOp::create(b, l, args[1]));
          }));
    }
    rewriter.replaceOp(op, emitReshape(rewriter, loc, result, op.getType()));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Shape ops
//===----------------------------------------------------------------------===//

struct BroadcastLowering : OpConversionPattern<bism::BroadcastOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(bism::BroadcastOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    MLIRContext *ctx = rewriter.getContext();
    Value input = adaptor.getOperand();
    RankedTensorType inputType = tensorTypeOf(input), resultType = op.getType();
    int64_t rank = resultType.getRank(), offset = rank - inputType.getRank();
    // Right-aligned; size-1 operand dimensions read index 0.
    SmallVector<AffineExpr> reads;
    for (int64_t dim = 0; dim < inputType.getRank(); ++dim)
      reads.push_back(inputType.getDimSize(dim) == 1
                          ? getAffineConstantExpr(0, ctx)
                          : getAffineDimExpr(offset + dim, ctx));
    rewriter.replaceOp(op, emitGather(rewriter, op.getLoc(), input, resultType,
                                      AffineMap::get(rank, 0, reads, ctx)));
    return success();
  }
};

struct ReshapeLowering : OpConversionPattern<bism::ReshapeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(bism::ReshapeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, emitReshape(rewriter, op.getLoc(),
                                       adaptor.getOperand(), op.getType()));
    return success();
  }
};

struct TransposeLowering : OpConversionPattern<bism::TransposeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(bism::TransposeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto transpose = linalg::TransposeOp::create(
        rewriter, op.getLoc(), adaptor.getOperand(),
        emptyTensor(rewriter, op.getLoc(), op.getType()), op.getPermutation());
    rewriter.replaceOp(op, transpose.getResult()[0]);
    return success();
  }
};

struct SliceLowering : OpConversionPattern<bism::SliceOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(bism::SliceOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    MLIRContext *ctx = rewriter.getContext();
    rewriter.replaceOp(
        op, tensor::ExtractSliceOp::create(
                rewriter, op.getLoc(), op.getType(), adaptor.getOperand(),
                getAsIndexOpFoldResult(ctx, op.getStarts()),
                getAsIndexOpFoldResult(ctx, op.getType().getShape()),
                getAsIndexOpFoldResult(ctx, op.getStrides())));
    return success();
  }
};

struct ConcatLowering : OpConversionPattern<bism::ConcatOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(bism::ConcatOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    MLIRContext *ctx = rewriter.getContext();
    RankedTensorType resultType = op.getType();
    int64_t axis = op.getAxis();
    Value result = emptyTensor(rewriter, op.getLoc(), resultType);
    SmallVector<int64_t> offsets(resultType.getRank(), 0),
        ones(resultType.getRank(), 1);
    for (Value input : adaptor.getInputs()) {
      RankedTensorType type = tensorTypeOf(input);
      result = tensor::InsertSliceOp::create(
          rewriter, op.getLoc(), input, result,
          getAsIndexOpFoldResult(ctx, offsets),
          getAsIndexOpFoldResult(ctx, type.getShape()),
          getAsIndexOpFoldResult(ctx, ones));
      offsets[axis] += type.getDimSize(axis);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// Zeros with the operand inserted at offsets `low`, strides `interior + 1`.
struct PadLowering : OpConversionPattern<bism::PadOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(bism::PadOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    MLIRContext *ctx = rewriter.getContext();
    RankedTensorType inputType = tensorTypeOf(adaptor.getOperand());
    SmallVector<int64_t> strides;
    for (int64_t interior : op.getInterior())
      strides.push_back(interior + 1);
    Value zeros = filledTensor(rewriter, op.getLoc(), op.getType(), 0.0);
    rewriter.replaceOp(
        op, tensor::InsertSliceOp::create(
                rewriter, op.getLoc(), adaptor.getOperand(), zeros,
                getAsIndexOpFoldResult(ctx, op.getLow()),
                getAsIndexOpFoldResult(ctx, inputType.getShape()),
                getAsIndexOpFoldResult(ctx, strides)));
    return success();
  }
};

/// A gather with maps d -> size - 1 - d on the reversed dimensions.
struct ReverseLowering : OpConversionPattern<bism::ReverseOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(bism::ReverseOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    MLIRContext *ctx = rewriter.getContext();
    RankedTensorType type = op.getType();
    int64_t rank = type.getRank();
    SmallVector<AffineExpr> reads;
    for (int64_t dim = 0; dim < rank; ++dim) {
      AffineExpr index = getAffineDimExpr(dim, ctx);
      reads.push_back(llvm::is_contained(op.getDims(), dim)
                          ? type.getDimSize(dim) - 1 - index
                          : index);
    }
    rewriter.replaceOp(op, emitGather(rewriter, op.getLoc(), adaptor.getOperand(),
                                      type, AffineMap::get(rank, 0, reads, ctx)));
    return success();
  }
};

/// Differentiation is over by now: stop_gradient is the identity.
struct StopGradientLowering : OpConversionPattern<bism::StopGradientOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(bism::StopGradientOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, adaptor.getOperand());
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Random draws and key_split
//===----------------------------------------------------------------------===//

/// The Philox words one element of a draw consumes (Philox.h's
/// drawWordsPerElement).
static int64_t drawWordsPerElement(Operation *op, FloatType type) {
  bool f32 = type.isF32();
  if (isa<bism::RandomNormalOp>(op))
    return f32 ? 2 : 4;
  if (isa<bism::RandomRademacherOp>(op))
    return 1;
  return f32 ? 1 : 2;
}

/// A draw reads the words of counters 0, 1, 2, ... in order, each element
/// taking as many as it needs (Philox.h's wordsForDrawElement): element i of
/// a one-word draw is word i mod 4 of counter i / 4. The generic runs over
/// (counter, element of the counter) so that each counter's Philox rounds
/// are computed once for all its elements (the inner loop of 2 or 4 is
/// unrolled and its selects fold); its result, padded to whole counters, is
/// cut to the draw's elements and reshaped. The kernel stage keeps this
/// loop nest (its body reads the two indices apart), so the CPU back end
/// vectorises across counters.
template <typename OpTy> struct RandomLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType resultType = op.getType();
    auto element = cast<FloatType>(resultType.getElementType());
    RoundKeys keys = emitRoundKeys(rewriter, loc, adaptor.getKey());
    Operation *raw = op.getOperation();
    int64_t wordsPerElement = drawWordsPerElement(raw, element);
    int64_t perCounter = 4 / wordsPerElement;
    int64_t elements = resultType.getNumElements();
    // Element `offset + i` of the stream: counters from firstCounter on,
    // the first `skip` elements of the first one dropped.
    int64_t offset = op.getOffset();
    int64_t firstCounter = offset / perCounter, skip = offset % perCounter;
    int64_t counters = (skip + elements + perCounter - 1) / perCounter;
    auto packedType =
        RankedTensorType::get({counters, perCounter}, element);
    Value packed = emitGeneric(
        rewriter, loc, ValueRange{}, emptyTensor(rewriter, loc, packedType),
        {rewriter.getMultiDimIdentityMap(2)},
        SmallVector<IteratorType>(2, IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange) -> Value {
          Value counter = linalg::IndexOp::create(b, l, 0);
          Value counter64 =
              arith::IndexCastUIOp::create(b, l, b.getI64Type(), counter);
          if (firstCounter != 0)
            counter64 = arith::AddIOp::create(
                b, l, counter64,
                arith::ConstantIntOp::create(b, l, b.getI64Type(),
                                             firstCounter));
          auto [low, high] = splitI64(b, l, counter64);
          Value zero = i32Constant(b, l, 0);
          Words words = emitPhilox(b, l, {low, high, zero, zero}, keys);
          if (perCounter == 1)
            return emitDraw(raw, b, l, element, words);
          // This element's words first: words[slot * wordsPerElement + j].
          Value slot = linalg::IndexOp::create(b, l, 1);
          Words own = words;
          for (int64_t j = 0; j < wordsPerElement; ++j) {
            Value word = words[size_t(j)];
            for (int64_t other = 1; other < perCounter; ++other) {
              Value isOther = arith::CmpIOp::create(
                  b, l, arith::CmpIPredicate::eq, slot,
                  indexConstant(b, l, other));
              word = arith::SelectOp::create(
                  b, l, isOther, words[size_t(other * wordsPerElement + j)],
                  word);
            }
            own[size_t(j)] = word;
          }
          return emitDraw(raw, b, l, element, own);
        });
    SmallVector<ReassociationIndices> both = {{0, 1}};
    Value flat = tensor::CollapseShapeOp::create(rewriter, loc, packed, both);
    if (counters * perCounter != elements)
      flat = tensor::ExtractSliceOp::create(
          rewriter, loc, flat,
          ArrayRef<OpFoldResult>{rewriter.getIndexAttr(skip)},
          ArrayRef<OpFoldResult>{rewriter.getIndexAttr(elements)},
          ArrayRef<OpFoldResult>{rewriter.getIndexAttr(1)});
    Value result = flat;
    int64_t rank = resultType.getRank();
    if (rank == 0) {
      result = tensor::CollapseShapeOp::create(
          rewriter, loc, resultType, flat, SmallVector<ReassociationIndices>{});
    } else if (rank > 1) {
      SmallVector<ReassociationIndices> all(1);
      for (int64_t dim = 0; dim < rank; ++dim)
        all.front().push_back(dim);
      result = tensor::ExpandShapeOp::create(rewriter, loc, resultType, flat, all);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct KeySplitLowering : OpConversionPattern<bism::KeySplitOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(bism::KeySplitOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    uint64_t index = uint64_t(op.getIndex());
    RoundKeys keys = emitRoundKeys(rewriter, loc, adaptor.getKey());
    Words counter = {i32Constant(rewriter, loc, uint32_t(index)),
                     i32Constant(rewriter, loc, uint32_t(index >> 32)),
                     i32Constant(rewriter, loc, 0),
                     i32Constant(rewriter, loc, kKeySplitTag)};
    Words words = emitPhilox(rewriter, loc, counter, keys);
    rewriter.replaceOp(
        op, tensor::FromElementsOp::create(rewriter, loc, op.getType(),
                                           ValueRange{words[0], words[1]}));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

struct LowerToLinalg : bism::impl::BismLowerToLinalgBase<LowerToLinalg> {
  void runOnOperation() override {
    if (failed(bism::requireStaticShapes(getOperation(), getArgument())))
      return signalPassFailure();
    MLIRContext *ctx = &getContext();
    ConversionTarget target(*ctx);
    target.addIllegalDialect<bism::BismDialect>();
    // Kept through kernel formation and CSE (see its description).
    target.addLegalOp<bism::OptimizationBarrierOp, bism::AllReduceMeanOp>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    RewritePatternSet patterns(ctx);
    patterns.add<
        // elementwise
        ElementwiseLowering<bism::NegOp>, ElementwiseLowering<bism::ExpOp>,
        ElementwiseLowering<bism::LogOp>, ElementwiseLowering<bism::Log1pOp>,
        ElementwiseLowering<bism::SqrtOp>, ElementwiseLowering<bism::SquareOp>,
        ElementwiseLowering<bism::AbsOp>,
        ElementwiseLowering<bism::ReciprocalOp>,
        ElementwiseLowering<bism::TanhOp>, ElementwiseLowering<bism::SigmoidOp>,
        ElementwiseLowering<bism::SoftplusOp>,
        ElementwiseLowering<bism::ReluOp>, ElementwiseLowering<bism::EluOp>,
        ElementwiseLowering<bism::LeakyReluOp>,
        ElementwiseLowering<bism::AddOp>, ElementwiseLowering<bism::SubOp>,
        ElementwiseLowering<bism::MulOp>, ElementwiseLowering<bism::DivOp>,
        ElementwiseLowering<bism::PowOp>, ElementwiseLowering<bism::MaximumOp>,
        ElementwiseLowering<bism::MinimumOp>,
        ElementwiseLowering<bism::CompareOp>,
        ElementwiseLowering<bism::SelectOp>,
        ElementwiseLowering<bism::ConvertOp>, ConstantLowering,
        // linear algebra, windows
        MatmulLowering, Conv2DLowering, PoolLowering<bism::MaxPool2DOp>,
        PoolLowering<bism::AvgPool2DOp>,
        // reductions
        ReduceLowering<bism::ReduceSumOp>, ReduceLowering<bism::ReduceMeanOp>,
        ReduceLowering<bism::ReduceMaxOp>,
        ReduceLowering<bism::ReduceLogSumExpOp>,
        // shapes
        BroadcastLowering, ReshapeLowering, TransposeLowering, SliceLowering,
        ConcatLowering, PadLowering, ReverseLowering, StopGradientLowering,
        // random
        RandomLowering<bism::RandomUniformOp>,
        RandomLowering<bism::RandomNormalOp>,
        RandomLowering<bism::RandomGumbelOp>,
        RandomLowering<bism::RandomRademacherOp>, KeySplitLowering>(ctx);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
