//===- BismInterfaces.td - derivative rules interface ------*- tablegen -*-===//
#ifndef BISM_INTERFACES_TD
#define BISM_INTERFACES_TD

include "mlir/IR/OpBase.td"

def Bism_DifferentiableOpInterface : OpInterface<"DifferentiableOpInterface"> {
  let cppNamespace = "::bism";
  let description = [{
    The derivative rules of one op, emitted as ops of the bism dialect so that
    derivative code can itself be differentiated. Rules are attached as
    external models, one file per op family in lib/Dialect/Derivatives/
    (registered by `bism::registerDerivativeRules`). A null Value stands for
    a zero (co)tangent: rules must accept nulls and return null rather than
    emit arithmetic on zeros. Ops whose results do not depend differentiably
    on their operands (compare, random draws, constants, stop_gradient)
    return only nulls.
  }];
  let methods = [
    InterfaceMethod<[{
        Reverse mode: given one cotangent per result (null = zero), appends one
        cotangent per operand to `operandCotangents` (null = zero, and always
        null where `wanted[i]` is false).
      }], "::llvm::LogicalResult", "buildVjp",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::ValueRange":$resultCotangents,
           "::llvm::ArrayRef<bool>":$wanted,
           "::llvm::SmallVectorImpl<::mlir::Value> &":$operandCotangents)>,
    InterfaceMethod<[{
        Forward mode: given one tangent per operand (null = zero), appends one
        tangent per result to `resultTangents` (null = zero).
      }], "::llvm::LogicalResult", "buildJvp",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::ValueRange":$operandTangents,
           "::llvm::SmallVectorImpl<::mlir::Value> &":$resultTangents)>,
  ];
}

#endif // BISM_INTERFACES_TD
