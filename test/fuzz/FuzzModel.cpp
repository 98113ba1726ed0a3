//===- FuzzModel.cpp - libFuzzer harness: model files ---------------------===//
//
// A model file as bism-run reads it: parse, then read each bism.model (its
// parameters, functions, signatures and spec) as train/eval do before
// building a step.
//
//===----------------------------------------------------------------------===//
#include "bism/Dialect/Bism.h"
#include "bism/Execution/JitModule.h"
#include "bism/Train/Model.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <cstdint>
#include <string>

namespace {
mlir::MLIRContext *context;
} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  mlir::DialectRegistry registry;
  bism::registerExecutionDialects(registry); // as bism-run
  context = new mlir::MLIRContext(registry);
  context->loadAllAvailableDialects();
  context->getDiagEngine().registerHandler([](mlir::Diagnostic &) {});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // MLIR's lexer needs the NUL after the text, as the tools' buffers have
  // (std::string keeps one).
  std::string text(reinterpret_cast<const char *>(data), size);
  mlir::ParserConfig config(context);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(text, config, "fuzz.mlir");
  if (!module)
    return 0;
  module->walk([](bism::ModelOp model) { (void)bism::train::readModel(model); });
  return 0;
}
