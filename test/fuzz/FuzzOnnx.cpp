//===- FuzzOnnx.cpp - libFuzzer harness: ONNX import (binary and text) ----===//
//
// Inputs starting with '<' or '#' go through the text parser (onnx/defs/
// parser.h), others through protobuf; both then through the importer and
// the verifier.
//
//===----------------------------------------------------------------------===//
#include "bism/Import/ONNX/ImportONNX.h"
#include "FuzzSupport.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include <cstdint>
#include <memory>

namespace {
mlir::MLIRContext *context;
} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  mlir::DialectRegistry registry;
  bism::registerONNXImportDialects(registry);
  context = bism::fuzz::makeQuietContext(registry);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  bism::ONNXImportOptions options;
  // External data would be read from the working directory.
  options.externalDataDirectory = "/nonexistent-bism-fuzz";
  mlir::OwningOpRef<mlir::ModuleOp> module =
      bism::importONNXBuffer(bytes, "fuzz", context, options);
  if (module && mlir::failed(mlir::verify(*module)))
    __builtin_trap(); // the importer must only return verified modules
  return 0;
}
