//===- RegisterDerivatives.cpp - attach every op's derivative rules -------===//
#include "bism/Dialect/DerivativeBuilder.h"

#include "mlir/IR/DialectRegistry.h"

void bism::registerDerivativeRules(mlir::DialectRegistry &registry) {
  registerElementwiseDerivatives(registry);
  registerStructuralDerivatives(registry);
  registerConvPoolDerivatives(registry);
}
