//===- DerivativeBuilder.h - emit bism ops for derivative rules -*- C++ -*-===//
//
// The vocabulary derivative rules are written in. Every method emits bism
// ops (never linalg), so derivative code can be differentiated again.
// Values are non-null unless a method says it accepts null (= zero).
//
//===----------------------------------------------------------------------===//
#ifndef BISM_DIALECT_DERIVATIVEBUILDER_H
#define BISM_DIALECT_DERIVATIVEBUILDER_H

#include "bism/Dialect/Bism.h"

#include "mlir/IR/Builders.h"

namespace bism {

class DerivativeBuilder {
public:
  DerivativeBuilder(mlir::OpBuilder &builder, mlir::Location loc)
      : builder_(builder), loc_(loc) {}

  mlir::OpBuilder &builder() { return builder_; }
  mlir::Location loc() const { return loc_; }

  template <typename OpTy, typename... Args> mlir::Value create(Args &&...args) {
    return OpTy::create(builder_, loc_, std::forward<Args>(args)...).getResult();
  }
  template <typename OpTy> mlir::Value unary(mlir::Value x) {
    return create<OpTy>(x);
  }
  template <typename OpTy> mlir::Value binary(mlir::Value a, mlir::Value b) {
    return create<OpTy>(a, b);
  }

  /// A splat constant of `type`.
  mlir::Value splat(mlir::RankedTensorType type, double value);
  /// A splat constant with the type of `like`.
  mlir::Value splatLike(mlir::Value like, double value);
  mlir::Value zerosLike(mlir::Value like) { return splatLike(like, 0.0); }

  mlir::Value add(mlir::Value a, mlir::Value b);
  mlir::Value sub(mlir::Value a, mlir::Value b);
  mlir::Value mul(mlir::Value a, mlir::Value b);
  mlir::Value div(mlir::Value a, mlir::Value b);
  mlir::Value neg(mlir::Value x);
  /// x * factor.
  mlir::Value scale(mlir::Value x, double factor);

  /// a + b where either may be null (zero); null when both are.
  mlir::Value addOrNull(mlir::Value a, mlir::Value b);
  /// a * b where `a` may be null (zero): null when `a` is.
  mlir::Value mulOrNull(mlir::Value a, mlir::Value b);
  /// -x where `x` may be null.
  mlir::Value negOrNull(mlir::Value x);

  mlir::Value select(mlir::Value condition, mlir::Value onTrue, mlir::Value onFalse);
  mlir::Value compare(ComparePredicate predicate, mlir::Value a, mlir::Value b);

  mlir::Value broadcastTo(mlir::Value x, mlir::RankedTensorType type);
  /// The reverse of broadcasting a `type` value to x's type: sums `x` over the
  /// dimensions the broadcast created or expanded from 1 (exactly the VJP of
  /// bism.broadcast). Returns `x` when the types already agree.
  mlir::Value sumToType(mlir::Value x, mlir::RankedTensorType type);
  mlir::Value reshape(mlir::Value x, mlir::RankedTensorType type);
  mlir::Value transpose(mlir::Value x, llvm::ArrayRef<int64_t> permutation);
  mlir::Value reduceSum(mlir::Value x, llvm::ArrayRef<int64_t> axes, bool keepDims);
  /// bism.slice with the result type inferred; `x` itself for a whole slice.
  mlir::Value slice(mlir::Value x, llvm::ArrayRef<int64_t> starts,
                    llvm::ArrayRef<int64_t> limits, llvm::ArrayRef<int64_t> strides);
  /// bism.pad with the result type inferred; `x` itself when nothing is added.
  mlir::Value pad(mlir::Value x, llvm::ArrayRef<int64_t> low,
                  llvm::ArrayRef<int64_t> high, llvm::ArrayRef<int64_t> interior);
  /// bism.reverse over the listed dimensions of size > 1; `x` when none.
  mlir::Value reverse(mlir::Value x, llvm::ArrayRef<int64_t> dims);
  /// bism.matmul with the result type inferred.
  mlir::Value matmul(mlir::Value lhs, mlir::Value rhs, bool transposeLhs,
                     bool transposeRhs);

private:
  mlir::OpBuilder &builder_;
  mlir::Location loc_;
};

/// Per-family registration of the DifferentiableOpInterface models.
void registerElementwiseDerivatives(mlir::DialectRegistry &registry);
void registerStructuralDerivatives(mlir::DialectRegistry &registry);
void registerConvPoolDerivatives(mlir::DialectRegistry &registry);

} // namespace bism

#endif // BISM_DIALECT_DERIVATIVEBUILDER_H
