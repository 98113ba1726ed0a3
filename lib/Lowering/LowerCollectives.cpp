//===- LowerCollectives.cpp - bism.all_reduce_mean -> runtime calls -------===//
//
// Just before one-shot bufferization, each bism.all_reduce_mean becomes a
// call of the runtime's bism_rt_[nccl_]all_reduce_mean_<f32|f64>(in, out) on the
// buffers of its (flattened) operand and of a new result tensor, written
// with bufferization.to_buffer / to_tensor so that the bufferizer allocates
// and plans them like any other buffer. The runtime side is
// runtime/include/bism/runtime/Collective.h.
//
//===----------------------------------------------------------------------===//
#include "bism/Dialect/Bism.h"
#include "bism/Lowering/Passes.h"

#include "mlir/IR/SymbolTable.h"

using namespace mlir;

namespace bism {
#define GEN_PASS_DEF_BISMLOWERCOLLECTIVES
#include "bism/Lowering/Passes.h.inc"
} // namespace bism

namespace {

/// memref<?xT, strided<[?], offset: ?>>: what the runtime's C interface
/// takes, whatever buffer bufferization picks.
MemRefType dynamicVectorType(MLIRContext *ctx, Type element) {
  return MemRefType::get({ShapedType::kDynamic}, element,
                         StridedLayoutAttr::get(ctx, ShapedType::kDynamic,
                                                {ShapedType::kDynamic}));
}

func::FuncOp getOrDeclare(ModuleOp module, StringRef name, Type element) {
  if (auto existing = module.lookupSymbol<func::FuncOp>(name))
    return existing;
  MLIRContext *ctx = module.getContext();
  OpBuilder builder = OpBuilder::atBlockBegin(module.getBody());
  MemRefType vector = dynamicVectorType(ctx, element);
  auto func = func::FuncOp::create(builder, module.getLoc(), name,
                                   FunctionType::get(ctx, {vector, vector}, {}));
  func.setPrivate();
  func->setAttr("llvm.emit_c_interface", UnitAttr::get(ctx));
  return func;
}

/// One group of every dimension of a rank-`rank` tensor: its flattening.
SmallVector<ReassociationIndices> allDimensions(int64_t rank) {
  ReassociationIndices all;
  for (int64_t dim = 0; dim < rank; ++dim)
    all.push_back(dim);
  return {all};
}

/// `value` as a rank-1 tensor of its elements (row-major).
Value flatten(OpBuilder &b, Location loc, Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  auto flat = RankedTensorType::get({type.getNumElements()},
                                    type.getElementType());
  if (type.getRank() == 1)
    return value;
  if (type.getRank() == 0)
    return tensor::ExpandShapeOp::create(b, loc, flat, value,
                                         SmallVector<ReassociationIndices>{});
  return tensor::CollapseShapeOp::create(b, loc, value,
                                         allDimensions(type.getRank()));
}

/// The inverse of flatten, to `type`.
Value unflatten(OpBuilder &b, Location loc, Value flat, RankedTensorType type) {
  if (type.getRank() == 1)
    return flat;
  if (type.getRank() == 0)
    return tensor::CollapseShapeOp::create(b, loc, type, flat,
                                           SmallVector<ReassociationIndices>{});
  return tensor::ExpandShapeOp::create(b, loc, type, flat,
                                       allDimensions(type.getRank()));
}

struct LowerCollectives
    : bism::impl::BismLowerCollectivesBase<LowerCollectives> {
  using BismLowerCollectivesBase::BismLowerCollectivesBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (library != "mpi" && library != "nccl") {
      module.emitError("bism-lower-collectives: library must be mpi or "
                       "nccl, not '")
          << library << "'";
      return signalPassFailure();
    }
    std::string prefix =
        library == "nccl" ? "bism_rt_nccl_all_reduce_mean_" : "bism_rt_all_reduce_mean_";
    MLIRContext *ctx = module.getContext();
    SmallVector<bism::AllReduceMeanOp> ops;
    module.walk([&](bism::AllReduceMeanOp op) { ops.push_back(op); });
    for (bism::AllReduceMeanOp op : ops) {
      OpBuilder b(op);
      Location loc = op.getLoc();
      RankedTensorType type = op.getType();
      Type element = type.getElementType();
      if (!type.hasStaticShape()) {
        op.emitOpError("needs a static shape to be lowered");
        return signalPassFailure();
      }
      func::FuncOp callee = getOrDeclare(
          module, prefix + (element.isF32() ? "f32" : "f64"), element);
      Value flat = flatten(b, loc, op.getInput());
      auto flatType = cast<RankedTensorType>(flat.getType());
      auto bufferType =
          MemRefType::get(flatType.getShape(), element);
      auto input = bufferization::ToBufferOp::create(b, loc, bufferType, flat,
                                                     /*readOnly=*/true);
      Value output = memref::AllocOp::create(b, loc, bufferType);
      MemRefType vector = dynamicVectorType(ctx, element);
      func::CallOp::create(b, loc, callee,
                           ValueRange{memref::CastOp::create(b, loc, vector,
                                                             input),
                                      memref::CastOp::create(b, loc, vector,
                                                             output)});
      Value result = bufferization::ToTensorOp::create(
          b, loc, flatType, output, /*restrict=*/true, /*writable=*/true);
      op.replaceAllUsesWith(unflatten(b, loc, result, type));
      op.erase();
    }
  }
};

} // namespace
