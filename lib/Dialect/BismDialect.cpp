//===- BismDialect.cpp - bism dialect registration ------------------------===//
#include "bism/Dialect/Bism.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace bism;

#include "bism/Dialect/BismDialect.cpp.inc"
#include "bism/Dialect/BismInterfaces.cpp.inc"
#include "bism/Dialect/BismEnums.cpp.inc"

void BismDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "bism/Dialect/BismOps.cpp.inc"
      >();
}

Operation *BismDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                            Type type, Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return ConstantOp::create(builder, loc, type, elements);
}
