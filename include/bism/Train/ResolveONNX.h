//===- ResolveONNX.h - model-file functions imported from ONNX --*- C++ -*-===//
//
// A model file may declare a function instead of defining it and name the
// ONNX file that defines it (the path relative to the model file):
//
//   func.func private @energy(tensor<100x2xf32>, tensor<100x4xf32>)
//       -> tensor<100xf32> attributes {bism.onnx_file = "energy.onnx"}
//   bism.model @m energy @energy [] ... { ... }
//
// `resolveONNXReferences` replaces each such declaration by the imported
// function (bism/Import/ONNX/ImportONNX.h) and gives the model clauses that
// name it their parameters. docs/onnx.md ("ONNX files in model files") has
// the rules; `--bism-resolve-onnx` runs it, and so do
// `--bism-build-train-step` and bism-run before reading the model.
//
//===----------------------------------------------------------------------===//
#ifndef BISM_TRAIN_RESOLVEONNX_H
#define BISM_TRAIN_RESOLVEONNX_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringRef.h"

namespace bism::train {

/// On a func.func declaration: the ONNX file (binary or text) defining it.
constexpr llvm::StringLiteral kONNXFileAttrName = "bism.onnx_file";
/// Optional, on the same declaration: `{NAME = SIZE, ...}`, sizes of the
/// graph inputs' symbolic dimensions other than the batch.
constexpr llvm::StringLiteral kONNXDimsAttrName = "bism.onnx_dims";

/// Imports every function the module declares with `bism.onnx_file`:
///   - the declared argument types are the graph inputs (symbolic
///     dimensions take the first declared argument's first dimension, the
///     batch, unless `bism.onnx_dims` names them); inputs and results must
///     match the graph exactly;
///   - the imported function replaces the declaration, keeping its name,
///     visibility and `bism.onnx_file`; its trailing arguments are the
///     trainable float initializers (non-trainable ones, BatchNormalization
///     running statistics, become constants);
///   - a bism.model clause naming it with an empty parameter list gets one
///     new `bism.param` per trainable initializer (group theta, or phi for
///     the posterior; `init = "value"` with the initializer's value; the
///     symbol is the ONNX name with characters other than letters, digits
///     and `_` replaced by `_`, made unique) and lists them; a non-empty
///     list binds the initializers, in order, to the parameters it names
///     (same types; those keep their own initialisers).
/// Each failure (unreadable or invalid file, unsupported operator, signature
/// mismatch, a Gibbs sweep or a func.call naming the function) is reported
/// at the declaration or the model. Functions that are already defined are
/// left alone, so resolving twice changes nothing.
mlir::LogicalResult resolveONNXReferences(mlir::ModuleOp module);

} // namespace bism::train

#endif // BISM_TRAIN_RESOLVEONNX_H
