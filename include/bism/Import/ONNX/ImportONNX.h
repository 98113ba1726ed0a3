//===- ImportONNX.h - ONNX models to bism functions -------------*- C++ -*-===//
//
// Reads an ONNX model (binary protobuf, or the ONNX text format) and builds
// one `func.func` of `bism` ops. Conventions (docs/onnx.md):
//   - graph inputs become the leading function arguments, in graph order;
//   - float initializers become trailing arguments ("parameters"), each with
//     `bism.param_name` (its ONNX name) and `bism.init` (its initial value);
//     the function lists them in `bism.parameters` and names their group in
//     `bism.param_group` (BatchNormalization running statistics also get
//     `bism.trainable = false`);
//   - graph outputs become the results;
//   - int64 tensors are only shape/axes constants: they fold at import time.
// Every failure is reported as an MLIR diagnostic and returned as failure();
// malformed input never crashes the importer.
//
//===----------------------------------------------------------------------===//
#ifndef BISM_IMPORT_ONNX_IMPORTONNX_H
#define BISM_IMPORT_ONNX_IMPORTONNX_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace mlir {
class DialectRegistry;
class MLIRContext;
} // namespace mlir

namespace bism {

enum class ONNXFormat {
  /// `.onnxtext`/`.onnxtxt` files and buffers starting with `<` or `#` are
  /// text; everything else is binary protobuf.
  Auto,
  Binary,
  Text,
};

struct ONNXImportOptions {
  /// Sizes for symbolic dimensions (`dim_param`), by name: {"batch": 100}.
  std::map<std::string, int64_t> dimSizes;
  /// Size for every symbolic or unknown dimension not named in `dimSizes`.
  std::optional<int64_t> defaultDimSize;
  /// Name of the generated function; empty: the graph's name (made a valid
  /// symbol), or "main" if the graph has none.
  std::string functionName;
  /// `bism.param_group` of the function; empty: the function name.
  std::string parameterGroup;
  /// Initializers to import as constants instead of parameters.
  std::set<std::string> frozenInitializers;
  /// Directory that external-data paths are relative to; empty: the
  /// directory of the model file (the working directory for buffers).
  std::string externalDataDirectory;
  ONNXFormat format = ONNXFormat::Auto;
};

/// Parses a `--onnx-dim` value: `NAME=SIZE` sets `dimSizes[NAME]`, a bare
/// `SIZE` sets `defaultDimSize`. Returns an error message, empty on success.
std::string parseONNXDimOption(llvm::StringRef text, ONNXImportOptions &options);

/// Dialects the importer creates (bism, func).
void registerONNXImportDialects(mlir::DialectRegistry &registry);

/// Imports the model in `path` into a new module holding one function.
/// Diagnostics go to the context's handler; returns null on failure.
mlir::OwningOpRef<mlir::ModuleOp>
importONNXFile(llvm::StringRef path, mlir::MLIRContext *context,
               const ONNXImportOptions &options = {});

/// Imports a model held in memory; `bufferName` names it in diagnostics and
/// decides the format under ONNXFormat::Auto (by extension).
mlir::OwningOpRef<mlir::ModuleOp>
importONNXBuffer(llvm::StringRef bytes, llvm::StringRef bufferName,
                 mlir::MLIRContext *context,
                 const ONNXImportOptions &options = {});

/// Imports a model held in memory and appends its function to `module`
/// (whose symbol table must not already hold the function's name). Returns
/// the new function, or null on failure (then `module` is unchanged).
mlir::Operation *importONNXBufferInto(mlir::ModuleOp module, llvm::StringRef bytes,
                                      llvm::StringRef bufferName,
                                      const ONNXImportOptions &options = {});

/// "Abs (13-21), Add (13-21), ...": the operator table, for messages.
std::string describeSupportedONNXOperators();

/// The operator table as Markdown (op | opsets | notes), as in docs/onnx.md.
std::string formatONNXOperatorTable();

} // namespace bism

#endif // BISM_IMPORT_ONNX_IMPORTONNX_H
