//===- FuzzSupport.h - what the MLIR-based harnesses share ------*- C++ -*-===//
#ifndef BISM_TEST_FUZZ_FUZZSUPPORT_H
#define BISM_TEST_FUZZ_FUZZSUPPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <cstdint>
#include <string>

namespace bism::fuzz {

/// A context with `registry`'s dialects loaded whose diagnostics go
/// nowhere: errors are expected, only crashes and sanitizer reports count.
inline mlir::MLIRContext *makeQuietContext(const mlir::DialectRegistry &registry) {
  auto *context = new mlir::MLIRContext(registry);
  context->loadAllAvailableDialects();
  context->getDiagEngine().registerHandler([](mlir::Diagnostic &) {});
  return context;
}

/// Parses an input as a module. MLIR's lexer needs the NUL after the text,
/// as the tools' buffers have (std::string keeps one).
inline mlir::OwningOpRef<mlir::ModuleOp>
parseModule(mlir::MLIRContext *context, const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  mlir::ParserConfig config(context);
  return mlir::parseSourceString<mlir::ModuleOp>(text, config, "fuzz.mlir");
}

} // namespace bism::fuzz

#endif // BISM_TEST_FUZZ_FUZZSUPPORT_H
