//===- Bism.h - the bism dialect and its ops --------------------*- C++ -*-===//
#ifndef BISM_DIALECT_BISM_H
#define BISM_DIALECT_BISM_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "bism/Dialect/BismDialect.h.inc"
#include "bism/Dialect/BismEnums.h.inc"

#define GET_OP_CLASSES
#include "bism/Dialect/BismOps.h.inc"

#endif // BISM_DIALECT_BISM_H
