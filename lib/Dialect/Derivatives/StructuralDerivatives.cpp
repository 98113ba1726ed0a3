//===- StructuralDerivatives.cpp - derivative rules --------------------------===//
#include "bism/Dialect/DerivativeBuilder.h"

#include "mlir/IR/DialectRegistry.h"

using namespace mlir;

void bism::registerStructuralDerivatives(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *, BismDialect *) {});
}
