//===- FuzzMlir.cpp - libFuzzer harness: .mlir parse, verify, canonicalise -===//
//
// What bism-opt does first with any file: parse and verify with every
// dialect it registers, then canonicalise; modules with few operations are
// also lowered for the CPU, as bism-run does before running them.
//
//===----------------------------------------------------------------------===//
#include "bism/Dialect/Bism.h"
#include "bism/Lowering/Passes.h"
#include "FuzzSupport.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

#include <cstdint>
#include <string>

namespace {
mlir::MLIRContext *context;
// Lowering a large module is slow; the parser and verifier see every input.
constexpr int kMaxOpsToLower = 64;
} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<bism::BismDialect>();
  bism::registerDerivativeRules(registry);
  context = bism::fuzz::makeQuietContext(registry);
  context->disableMultithreading();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mlir::OwningOpRef<mlir::ModuleOp> module =
      bism::fuzz::parseModule(context, data, size);
  if (!module)
    return 0;
  int ops = 0;
  bool onlyBism = true;
  module->walk([&](mlir::Operation *op) {
    ++ops;
    llvm::StringRef dialect = op->getName().getDialectNamespace();
    if (dialect != "bism" && dialect != "func" && dialect != "builtin")
      onlyBism = false;
  });
  mlir::PassManager canonicalize(context);
  canonicalize.addPass(mlir::createCanonicalizerPass());
  if (mlir::failed(canonicalize.run(*module)))
    return 0;
  // Lowering takes bism models (bism, func); other dialects' IR goes to
  // upstream passes bism does not own.
  if (onlyBism && ops <= kMaxOpsToLower) {
    mlir::PassManager lower(context);
    bism::buildLowerToCpuPipeline(lower, bism::CpuPipelineOptions());
    (void)lower.run(*module);
  }
  return 0;
}
