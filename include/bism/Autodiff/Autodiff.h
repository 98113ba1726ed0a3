//===- Autodiff.h - source-to-source differentiation of bism ----*- C++ -*-===//
#ifndef BISM_AUTODIFF_AUTODIFF_H
#define BISM_AUTODIFF_AUTODIFF_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

namespace bism::autodiff {

/// Differentiates the straight-line `trace` (ops in creation order) in reverse
/// mode: emits, at the builder's insertion point, the cotangents of `wrt`
/// given cotangents of `outputs` (null = zero). Only ops on a path from `wrt`
/// to `outputs` get derivative code. `gradients` gets one value per `wrt`
/// (a zero constant where nothing depends on it).
mlir::LogicalResult emitReverse(mlir::OpBuilder &builder, mlir::Location loc,
                                llvm::ArrayRef<mlir::Operation *> trace,
                                mlir::ValueRange outputs,
                                mlir::ValueRange outputCotangents,
                                mlir::ValueRange wrt,
                                llvm::SmallVectorImpl<mlir::Value> &gradients);

/// Forward mode over `trace`: the tangents of `outputs` given tangents of
/// `wrt`. One value per output (zero constant where it does not depend on
/// `wrt`).
mlir::LogicalResult emitForward(mlir::OpBuilder &builder, mlir::Location loc,
                                llvm::ArrayRef<mlir::Operation *> trace,
                                mlir::ValueRange wrt, mlir::ValueRange tangents,
                                mlir::ValueRange outputs,
                                llvm::SmallVectorImpl<mlir::Value> &outputTangents);

/// Replaces every bism.grad/vjp/jvp/hvp in `module` by derivative code.
mlir::LogicalResult expandAutodiffOps(mlir::ModuleOp module);

} // namespace bism::autodiff

#endif // BISM_AUTODIFF_AUTODIFF_H
