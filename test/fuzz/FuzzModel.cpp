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
#include "FuzzSupport.h"

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
  context = bism::fuzz::makeQuietContext(registry);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mlir::OwningOpRef<mlir::ModuleOp> module =
      bism::fuzz::parseModule(context, data, size);
  if (!module)
    return 0;
  module->walk([](bism::ModelOp model) { (void)bism::train::readModel(model); });
  return 0;
}
