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
} // namespace bism

#endif // BISM_DIALECT_BISM_H
