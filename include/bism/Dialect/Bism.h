//===- Bism.h - the bism dialect and its ops --------------------*- C++ -*-===//
#ifndef BISM_DIALECT_BISM_H
#define BISM_DIALECT_BISM_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "bism/Dialect/BismDialect.h.inc"
#include "bism/Dialect/BismInterfaces.h.inc"
#include "bism/Dialect/BismEnums.h.inc"

#define GET_OP_CLASSES
#include "bism/Dialect/BismOps.h.inc"

namespace mlir {
class DialectRegistry;
}
namespace bism {
/// Attaches the derivative rules (DifferentiableOpInterface external models)
/// of every bism op; lib/Dialect/Derivatives/*.cpp, one file per op family.
void registerDerivativeRules(mlir::DialectRegistry &registry);

/// The first op in `root` (itself included) with a `?` (batch) dimension in
/// a result, a region argument or an attribute (function types), or null.
/// bism::train::specializeBatch sets those dimensions.
mlir::Operation *findDynamicShape(mlir::Operation *root);

/// Fails, with an error at the first op that has one, when `root` still has
/// a `?` dimension: `pass` (e.g. "bism-autodiff") needs static shapes.
mlir::LogicalResult requireStaticShapes(mlir::Operation *root,
                                        llvm::StringRef pass);
} // namespace bism

#endif // BISM_DIALECT_BISM_H
