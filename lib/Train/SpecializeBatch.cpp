//===- SpecializeBatch.cpp - set the `?` batch dimension ------------------===//
#include "bism/Train/SpecializeBatch.h"

#include "bism/Dialect/Bism.h"

#include "mlir/IR/AttrTypeSubElements.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "bism/Lowering/Passes.h"

using namespace mlir;

namespace bism::train {

namespace {

/// The batch size the module's models state (0 when none does).
FailureOr<int64_t> specBatchSize(ModuleOp module) {
  int64_t size = 0;
  ModelOp first;
  for (ModelOp model : module.getOps<ModelOp>()) {
    Attribute attr = model.getSpec().get("batch_size");
    if (!attr)
      continue;
    auto value = dyn_cast<IntegerAttr>(attr);
    if (!value || value.getInt() < 1)
      return model.emitOpError()
             << "spec field 'batch_size' must be an integer >= 1, got " << attr;
    if (size && value.getInt() != size)
      return model.emitOpError()
             << "spec field 'batch_size' (" << value.getInt()
             << ") differs from @" << first.getSymName() << "'s (" << size
             << "); models in one module share the batch dimension";
    size = value.getInt();
    first = model;
  }
  return size;
}

} // namespace

LogicalResult specializeBatch(ModuleOp module, int64_t batchSize) {
  Operation *dynamic = findDynamicShape(module);
  if (!dynamic)
    return success();
  if (batchSize == 0) {
    FailureOr<int64_t> size = specBatchSize(module);
    if (failed(size))
      return failure();
    if (*size == 0)
      return dynamic->emitError()
             << "'?' (batch) dimension, but no bism.model spec states a "
                "batch_size to set it to";
    batchSize = *size;
  }
  if (batchSize < 1)
    return module.emitError() << "batch size must be >= 1, got " << batchSize;

  // A slice keeps a `?` dimension whole; its limit becomes the size.
  module.walk([&](SliceOp slice) {
    auto input = cast<RankedTensorType>(slice.getOperand().getType());
    SmallVector<int64_t> limits(slice.getLimits());
    for (int64_t dim = 0; dim < input.getRank(); ++dim)
      if (input.isDynamicDim(dim))
        limits[dim] = batchSize;
    slice.setLimits(limits);
  });
  AttrTypeReplacer replacer;
  replacer.addReplacement([&](RankedTensorType type) -> std::optional<Type> {
    if (type.hasStaticShape())
      return std::nullopt;
    SmallVector<int64_t> shape(type.getShape());
    for (int64_t &size : shape)
      if (ShapedType::isDynamic(size))
        size = batchSize;
    return type.clone(shape);
  });
  replacer.recursivelyReplaceElementsIn(module, /*replaceAttrs=*/true,
                                        /*replaceLocs=*/false,
                                        /*replaceTypes=*/true);
  // A batch-shaped constant is written as a broadcast rank-0 constant (an
  // elements attribute cannot have a `?`); fold it back, so that the passes
  // after this one see the IR of a model written with static types.
  module.walk([&](BroadcastOp broadcast) {
    auto scalar = broadcast.getOperand().getDefiningOp<ConstantOp>();
    auto value = scalar ? dyn_cast<DenseElementsAttr>(scalar.getValue())
                        : DenseElementsAttr();
    if (!value || !value.isSplat())
      return;
    OpBuilder builder(broadcast);
    Value folded = ConstantOp::create(builder, broadcast.getLoc(),
                                      broadcast.getType(),
                                      value.resizeSplat(broadcast.getType()));
    broadcast.replaceAllUsesWith(folded);
    broadcast.erase();
    if (scalar->use_empty())
      scalar.erase();
  });
  return success();
}

} // namespace bism::train

namespace bism {
#define GEN_PASS_DEF_BISMSPECIALIZEBATCH
#include "bism/Lowering/Passes.h.inc"
} // namespace bism

namespace {
struct SpecializeBatchPass
    : bism::impl::BismSpecializeBatchBase<SpecializeBatchPass> {
  using BismSpecializeBatchBase::BismSpecializeBatchBase;
  void runOnOperation() override {
    if (failed(bism::train::specializeBatch(getOperation(), batchSize)))
      signalPassFailure();
  }
};
} // namespace

