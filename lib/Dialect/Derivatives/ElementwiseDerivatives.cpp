//===- ElementwiseDerivatives.cpp - derivative rules --------------------------===//
//
// DifferentiableOpInterface models of the elementwise ops, of select and
// convert, and the zero-derivative models (compare, constants, random draws,
// key_split, stop_gradient).
//
// An elementwise unary op has a diagonal Jacobian, so its VJP and its JVP are
// the same map `seed -> seed * f'(x)`: one rule (`UnaryRule<Op>::apply`)
// serves both. Binary ops have one rule each for both modes. Every rule is
// written in bism ops only (the result can be differentiated again), reuses
// the op's own result where that saves work, and is exact everywhere except
// at kinks, where the conventions are:
//   relu'(0) = 0, abs'(0) = 0, leaky_relu'(0) = alpha, elu'(0) = alpha;
//   sqrt'(0) = 0 (not +inf: sqrt is reached through sqrt(g²) = |g| in Adam's
//   denominator, and an unrolled Adam step with a zero gradient and zero
//   second moment must differentiate to a number);
//   maximum: lhs gets the gradient where lhs >= rhs, rhs elsewhere;
//   minimum: lhs gets the gradient where lhs <= rhs, rhs elsewhere.
//
//===----------------------------------------------------------------------===//
#include "bism/Dialect/DerivativeBuilder.h"

#include "mlir/IR/DialectRegistry.h"

using namespace mlir;

namespace bism {
namespace {

bool isWanted(ArrayRef<bool> wanted, unsigned index) {
  return index < wanted.size() && wanted[index];
}

/// `condition ? x : 0`.
Value maskedOrZero(DerivativeBuilder &d, Value condition, Value x) {
  return d.select(condition, x, d.zerosLike(x));
}

/// `condition ? a : b` where either may be null (zero); null when both are.
Value selectOrNull(DerivativeBuilder &d, Value condition, Value a, Value b) {
  if (!a && !b)
    return Value();
  return d.select(condition, a ? a : d.zerosLike(b), b ? b : d.zerosLike(a));
}

//===----------------------------------------------------------------------===//
// Unary elementwise ops: seed -> seed * f'(x), for both modes
//===----------------------------------------------------------------------===//

/// `static Value apply(DerivativeBuilder &, OpTy, Value seed)` with a non-null
/// seed returns seed * f'(x).
template <typename OpTy> struct UnaryRule;

template <> struct UnaryRule<NegOp> {
  static Value apply(DerivativeBuilder &d, NegOp, Value s) { return d.neg(s); }
};

template <> struct UnaryRule<ExpOp> {
  // exp' = exp
  static Value apply(DerivativeBuilder &d, ExpOp op, Value s) {
    return d.mul(s, op.getResult());
  }
};

template <> struct UnaryRule<LogOp> {
  // log' = 1 / x
  static Value apply(DerivativeBuilder &d, LogOp op, Value s) {
    return d.div(s, op.getOperand());
  }
};

template <> struct UnaryRule<Log1pOp> {
  // log1p' = 1 / (1 + x)
  static Value apply(DerivativeBuilder &d, Log1pOp op, Value s) {
    Value x = op.getOperand();
    return d.div(s, d.add(x, d.splatLike(x, 1.0)));
  }
};

template <> struct UnaryRule<SqrtOp> {
  // sqrt' = 1 / (2 sqrt(x)), and 0 at x = 0 (see the file comment). The
  // division is by sqrt(x) where x > 0 and by 1 elsewhere, so that the rule's
  // own derivatives stay finite at 0 too (0 · ∞ would make them NaN).
  static Value apply(DerivativeBuilder &d, SqrtOp op, Value s) {
    Value x = op.getOperand();
    Value positive = d.compare(ComparePredicate::gt, x, d.zerosLike(x));
    Value root = d.select(positive, op.getResult(), d.splatLike(x, 1.0));
    return d.select(positive, d.div(d.scale(s, 0.5), root), d.zerosLike(s));
  }
};

template <> struct UnaryRule<SquareOp> {
  // (x^2)' = 2x
  static Value apply(DerivativeBuilder &d, SquareOp op, Value s) {
    return d.mul(s, d.scale(op.getOperand(), 2.0));
  }
};

template <> struct UnaryRule<AbsOp> {
  // |x|' = sign(x), with sign(0) = 0
  static Value apply(DerivativeBuilder &d, AbsOp op, Value s) {
    Value x = op.getOperand();
    Value zero = d.zerosLike(x);
    Value positive = d.compare(ComparePredicate::gt, x, zero);
    Value negative = d.compare(ComparePredicate::lt, x, zero);
    return d.select(positive, s, d.select(negative, d.neg(s), zero));
  }
};

template <> struct UnaryRule<ReciprocalOp> {
  // (1/x)' = -1/x^2 = -y^2
  static Value apply(DerivativeBuilder &d, ReciprocalOp op, Value s) {
    return d.neg(d.mul(s, d.unary<SquareOp>(op.getResult())));
  }
};

template <> struct UnaryRule<TanhOp> {
  // tanh' = 1 - t^2
  static Value apply(DerivativeBuilder &d, TanhOp op, Value s) {
    Value t = op.getResult();
    return d.mul(s, d.sub(d.splatLike(t, 1.0), d.unary<SquareOp>(t)));
  }
};

template <> struct UnaryRule<SigmoidOp> {
  // sigmoid' = s (1 - s)
  static Value apply(DerivativeBuilder &d, SigmoidOp op, Value s) {
    Value y = op.getResult();
    return d.mul(s, d.mul(y, d.sub(d.splatLike(y, 1.0), y)));
  }
};

template <> struct UnaryRule<SoftplusOp> {
  // softplus' = sigmoid
  static Value apply(DerivativeBuilder &d, SoftplusOp op, Value s) {
    return d.mul(s, d.unary<SigmoidOp>(op.getOperand()));
  }
};

template <> struct UnaryRule<ReluOp> {
  // relu' = x > 0 ? 1 : 0
  static Value apply(DerivativeBuilder &d, ReluOp op, Value s) {
    Value x = op.getOperand();
    Value zero = d.zerosLike(x);
    return d.select(d.compare(ComparePredicate::gt, x, zero), s, zero);
  }
};

template <> struct UnaryRule<EluOp> {
  // elu' = x > 0 ? 1 : alpha exp(x)
  static Value apply(DerivativeBuilder &d, EluOp op, Value s) {
    Value x = op.getOperand();
    double alpha = op.getAlpha().convertToDouble();
    Value positive = d.compare(ComparePredicate::gt, x, d.zerosLike(x));
    // exp(min(x, 0)): the slope of the branch taken for x <= 0, finite for
    // every x, so that no derivative of this rule forms 0 · exp(x) = 0 · ∞
    // where x is large (f32: x > 88).
    Value slope =
        d.unary<ExpOp>(d.create<MinimumOp>(x, d.zerosLike(x)));
    if (alpha != 1.0)
      slope = d.scale(slope, alpha);
    return d.select(positive, s, d.mul(s, slope));
  }
};

template <> struct UnaryRule<LeakyReluOp> {
  // leaky_relu' = x > 0 ? 1 : alpha
  static Value apply(DerivativeBuilder &d, LeakyReluOp op, Value s) {
    Value x = op.getOperand();
    double alpha = op.getAlpha().convertToDouble();
    Value positive = d.compare(ComparePredicate::gt, x, d.zerosLike(x));
    return d.select(positive, s, d.scale(s, alpha));
  }
};

template <typename OpTy>
struct UnaryModel
    : DifferentiableOpInterface::ExternalModel<UnaryModel<OpTy>, OpTy> {
  LogicalResult buildVjp(Operation *op, OpBuilder &builder,
                         ValueRange resultCotangents, ArrayRef<bool> wanted,
                         SmallVectorImpl<Value> &operandCotangents) const {
    Value seed = resultCotangents[0];
    if (!seed || !isWanted(wanted, 0)) {
      operandCotangents.push_back(Value());
      return success();
    }
    DerivativeBuilder d(builder, op->getLoc());
    operandCotangents.push_back(UnaryRule<OpTy>::apply(d, cast<OpTy>(op), seed));
    return success();
  }

  LogicalResult buildJvp(Operation *op, OpBuilder &builder,
                         ValueRange operandTangents,
                         SmallVectorImpl<Value> &resultTangents) const {
    Value seed = operandTangents[0];
    if (!seed) {
      resultTangents.push_back(Value());
      return success();
    }
    DerivativeBuilder d(builder, op->getLoc());
    resultTangents.push_back(UnaryRule<OpTy>::apply(d, cast<OpTy>(op), seed));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Binary elementwise ops
//===----------------------------------------------------------------------===//

/// `static void vjp(DerivativeBuilder &, OpTy, Value s, bool wantLhs,
/// bool wantRhs, Value &lhs, Value &rhs)` sets the cotangents asked for (s is
/// non-null, at least one is wanted); `static Value jvp(DerivativeBuilder &,
/// OpTy, Value tLhs, Value tRhs)` with at least one tangent non-null.
template <typename OpTy> struct BinaryRule;

template <> struct BinaryRule<AddOp> {
  static void vjp(DerivativeBuilder &, AddOp, Value s, bool, bool, Value &l,
                  Value &r) {
    l = s;
    r = s;
  }
  static Value jvp(DerivativeBuilder &d, AddOp, Value tl, Value tr) {
    return d.addOrNull(tl, tr);
  }
};

template <> struct BinaryRule<SubOp> {
  static void vjp(DerivativeBuilder &d, SubOp, Value s, bool, bool wantRhs,
                  Value &l, Value &r) {
    l = s;
    if (wantRhs)
      r = d.neg(s);
  }
  static Value jvp(DerivativeBuilder &d, SubOp, Value tl, Value tr) {
    if (!tr)
      return tl;
    return tl ? d.sub(tl, tr) : d.neg(tr);
  }
};

template <> struct BinaryRule<MulOp> {
  static void vjp(DerivativeBuilder &d, MulOp op, Value s, bool wantLhs,
                  bool wantRhs, Value &l, Value &r) {
    if (wantLhs)
      l = d.mul(s, op.getRhs());
    if (wantRhs)
      r = d.mul(s, op.getLhs());
  }
  static Value jvp(DerivativeBuilder &d, MulOp op, Value tl, Value tr) {
    return d.addOrNull(d.mulOrNull(tl, op.getRhs()),
                       d.mulOrNull(tr, op.getLhs()));
  }
};

template <> struct BinaryRule<DivOp> {
  // d(a/b) = da / b - db * (a/b) / b
  static void vjp(DerivativeBuilder &d, DivOp op, Value s, bool wantLhs,
                  bool wantRhs, Value &l, Value &r) {
    if (wantLhs)
      l = d.div(s, op.getRhs());
    if (wantRhs)
      r = d.neg(d.div(d.mul(s, op.getResult()), op.getRhs()));
  }
  static Value jvp(DerivativeBuilder &d, DivOp op, Value tl, Value tr) {
    Value numerator = tl;
    if (tr) {
      Value scaled = d.mul(tr, op.getResult());
      numerator = tl ? d.sub(tl, scaled) : d.neg(scaled);
    }
    return d.div(numerator, op.getRhs());
  }
};

template <> struct BinaryRule<PowOp> {
  // d(a^b) = da * b * a^(b-1) + db * a^b * log(a)
  static Value lhsPartial(DerivativeBuilder &d, PowOp op, Value s) {
    Value a = op.getLhs(), b = op.getRhs();
    Value power = d.binary<PowOp>(a, d.sub(b, d.splatLike(b, 1.0)));
    return d.mul(s, d.mul(b, power));
  }
  static Value rhsPartial(DerivativeBuilder &d, PowOp op, Value s) {
    return d.mul(s, d.mul(op.getResult(), d.unary<LogOp>(op.getLhs())));
  }
  static void vjp(DerivativeBuilder &d, PowOp op, Value s, bool wantLhs,
                  bool wantRhs, Value &l, Value &r) {
    if (wantLhs)
      l = lhsPartial(d, op, s);
    if (wantRhs)
      r = rhsPartial(d, op, s);
  }
  static Value jvp(DerivativeBuilder &d, PowOp op, Value tl, Value tr) {
    return d.addOrNull(tl ? lhsPartial(d, op, tl) : Value(),
                       tr ? rhsPartial(d, op, tr) : Value());
  }
};

/// maximum (ge) and minimum (le): lhs wins where `lhs pred rhs`.
template <typename OpTy, ComparePredicate lhsWins> struct ExtremumRule {
  static Value lhsMask(DerivativeBuilder &d, OpTy op) {
    return d.compare(lhsWins, op.getLhs(), op.getRhs());
  }
  static void vjp(DerivativeBuilder &d, OpTy op, Value s, bool wantLhs,
                  bool wantRhs, Value &l, Value &r) {
    Value mask = lhsMask(d, op);
    if (wantLhs)
      l = maskedOrZero(d, mask, s);
    if (wantRhs)
      r = d.select(mask, d.zerosLike(s), s);
  }
  static Value jvp(DerivativeBuilder &d, OpTy op, Value tl, Value tr) {
    return selectOrNull(d, lhsMask(d, op), tl, tr);
  }
};
template <>
struct BinaryRule<MaximumOp> : ExtremumRule<MaximumOp, ComparePredicate::ge> {};
template <>
struct BinaryRule<MinimumOp> : ExtremumRule<MinimumOp, ComparePredicate::le> {};

template <typename OpTy>
struct BinaryModel
    : DifferentiableOpInterface::ExternalModel<BinaryModel<OpTy>, OpTy> {
  LogicalResult buildVjp(Operation *op, OpBuilder &builder,
                         ValueRange resultCotangents, ArrayRef<bool> wanted,
                         SmallVectorImpl<Value> &operandCotangents) const {
    Value seed = resultCotangents[0];
    bool wantLhs = seed && isWanted(wanted, 0);
    bool wantRhs = seed && isWanted(wanted, 1);
    Value lhs, rhs;
    if (wantLhs || wantRhs) {
      DerivativeBuilder d(builder, op->getLoc());
      BinaryRule<OpTy>::vjp(d, cast<OpTy>(op), seed, wantLhs, wantRhs, lhs,
                            rhs);
    }
    operandCotangents.push_back(wantLhs ? lhs : Value());
    operandCotangents.push_back(wantRhs ? rhs : Value());
    return success();
  }

  LogicalResult buildJvp(Operation *op, OpBuilder &builder,
                         ValueRange operandTangents,
                         SmallVectorImpl<Value> &resultTangents) const {
    Value lhs = operandTangents[0], rhs = operandTangents[1];
    if (!lhs && !rhs) {
      resultTangents.push_back(Value());
      return success();
    }
    DerivativeBuilder d(builder, op->getLoc());
    resultTangents.push_back(BinaryRule<OpTy>::jvp(d, cast<OpTy>(op), lhs, rhs));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// select, convert
//===----------------------------------------------------------------------===//

/// The condition gets no derivative; each branch gets the cotangent where it
/// was chosen.
struct SelectModel
    : DifferentiableOpInterface::ExternalModel<SelectModel, SelectOp> {
  LogicalResult buildVjp(Operation *op, OpBuilder &builder,
                         ValueRange resultCotangents, ArrayRef<bool> wanted,
                         SmallVectorImpl<Value> &operandCotangents) const {
    auto select = cast<SelectOp>(op);
    Value seed = resultCotangents[0];
    bool wantTrue = seed && isWanted(wanted, 1);
    bool wantFalse = seed && isWanted(wanted, 2);
    operandCotangents.push_back(Value());
    if (!wantTrue && !wantFalse) {
      operandCotangents.append(2, Value());
      return success();
    }
    DerivativeBuilder d(builder, op->getLoc());
    Value zero = d.zerosLike(seed);
    Value condition = select.getCondition();
    operandCotangents.push_back(wantTrue ? d.select(condition, seed, zero)
                                         : Value());
    operandCotangents.push_back(wantFalse ? d.select(condition, zero, seed)
                                          : Value());
    return success();
  }

  LogicalResult buildJvp(Operation *op, OpBuilder &builder,
                         ValueRange operandTangents,
                         SmallVectorImpl<Value> &resultTangents) const {
    auto select = cast<SelectOp>(op);
    Value onTrue = operandTangents[1], onFalse = operandTangents[2];
    if (!onTrue && !onFalse) {
      resultTangents.push_back(Value());
      return success();
    }
    DerivativeBuilder d(builder, op->getLoc());
    resultTangents.push_back(
        selectOrNull(d, select.getCondition(), onTrue, onFalse));
    return success();
  }
};

/// Converts the (co)tangent between the operand and result element types.
struct ConvertModel
    : DifferentiableOpInterface::ExternalModel<ConvertModel, ConvertOp> {
  static Value convertTo(OpBuilder &builder, Location loc, Value x, Type type) {
    if (x.getType() == type)
      return x;
    return ConvertOp::create(builder, loc, type, x).getResult();
  }

  LogicalResult buildVjp(Operation *op, OpBuilder &builder,
                         ValueRange resultCotangents, ArrayRef<bool> wanted,
                         SmallVectorImpl<Value> &operandCotangents) const {
    Value seed = resultCotangents[0];
    if (!seed || !isWanted(wanted, 0)) {
      operandCotangents.push_back(Value());
      return success();
    }
    operandCotangents.push_back(convertTo(builder, op->getLoc(), seed,
                                          op->getOperand(0).getType()));
    return success();
  }

  LogicalResult buildJvp(Operation *op, OpBuilder &builder,
                         ValueRange operandTangents,
                         SmallVectorImpl<Value> &resultTangents) const {
    Value seed = operandTangents[0];
    resultTangents.push_back(
        seed ? convertTo(builder, op->getLoc(), seed, op->getResult(0).getType())
             : Value());
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Ops with no derivative
//===----------------------------------------------------------------------===//

template <typename OpTy>
struct ZeroDerivativeModel
    : DifferentiableOpInterface::ExternalModel<ZeroDerivativeModel<OpTy>, OpTy> {
  LogicalResult buildVjp(Operation *op, OpBuilder &, ValueRange, ArrayRef<bool>,
                         SmallVectorImpl<Value> &operandCotangents) const {
    operandCotangents.append(op->getNumOperands(), Value());
    return success();
  }
  LogicalResult buildJvp(Operation *op, OpBuilder &, ValueRange,
                         SmallVectorImpl<Value> &resultTangents) const {
    resultTangents.append(op->getNumResults(), Value());
    return success();
  }
};

template <template <typename> class Model, typename... Ops>
void attachAll(MLIRContext *ctx) {
  (Ops::template attachInterface<Model<Ops>>(*ctx), ...);
}

} // namespace
} // namespace bism

void bism::registerElementwiseDerivatives(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, BismDialect *) {
    attachAll<UnaryModel, NegOp, ExpOp, LogOp, Log1pOp, SqrtOp, SquareOp,
              AbsOp, ReciprocalOp, TanhOp, SigmoidOp, SoftplusOp, ReluOp, EluOp,
              LeakyReluOp>(ctx);
    attachAll<BinaryModel, AddOp, SubOp, MulOp, DivOp, PowOp, MaximumOp,
              MinimumOp>(ctx);
    SelectOp::attachInterface<SelectModel>(*ctx);
    ConvertOp::attachInterface<ConvertModel>(*ctx);
    attachAll<ZeroDerivativeModel, CompareOp, ConstantOp, RandomUniformOp,
              RandomNormalOp, RandomGumbelOp, RandomRademacherOp, KeySplitOp,
              StopGradientOp>(ctx);
  });
}
