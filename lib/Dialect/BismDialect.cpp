//===- BismDialect.cpp - bism dialect registration ------------------------===//
#include "bism/Dialect/Bism.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/Transforms/InliningUtils.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace bism;

#include "bism/Dialect/BismDialect.cpp.inc"
#include "bism/Dialect/BismInterfaces.cpp.inc"
#include "bism/Dialect/BismEnums.cpp.inc"

namespace {
/// bism ops are pure tensor computations (AD ops name their callee by
/// symbol, which stays valid), so calls between bism functions inline
/// freely: the CPU pipeline inlines a step into one body before fusing.
struct BismInlinerInterface : DialectInlinerInterface {
  using DialectInlinerInterface::DialectInlinerInterface;
  bool isLegalToInline(Operation *, Region *, bool, IRMapping &) const final {
    return true;
  }
  bool isLegalToInline(Region *, Region *, bool, IRMapping &) const final {
    return true;
  }
};
} // namespace

void BismDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "bism/Dialect/BismOps.cpp.inc"
      >();
  addInterfaces<BismInlinerInterface>();
}

Operation *BismDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                            Type type, Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return ConstantOp::create(builder, loc, type, elements);
}

//===----------------------------------------------------------------------===//
// `?` (batch) dimensions
//===----------------------------------------------------------------------===//

namespace {

bool isDynamicTensor(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor && !tensor.hasStaticShape();
}

/// The first type with a `?` dimension among `op`'s results, region
/// arguments and attributes, or null.
Type firstDynamicType(Operation *op) {
  for (Type type : op->getResultTypes())
    if (isDynamicTensor(type))
      return type;
  for (Region &region : op->getRegions())
    for (Block &block : region)
      for (BlockArgument argument : block.getArguments())
        if (isDynamicTensor(argument.getType()))
          return argument.getType();
  Type found;
  op->getAttrDictionary().walk([&](Type type) {
    if (!found && isDynamicTensor(type))
      found = type;
  });
  return found;
}

} // namespace

Operation *bism::findDynamicShape(Operation *root) {
  Operation *found = nullptr;
  root->walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (firstDynamicType(op)) {
      found = op;
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return found;
}

LogicalResult bism::requireStaticShapes(Operation *root, StringRef pass) {
  Operation *dynamic = findDynamicShape(root);
  if (!dynamic)
    return success();
  return dynamic->emitError()
         << "'?' (batch) dimension in " << firstDynamicType(dynamic) << ": --"
         << pass << " needs static shapes; run --bism-specialize-batch first";
}
