//===- MatmulToBlas.cpp - large buffer matmuls -> runtime BLAS calls ------===//
//
// After bufferisation, linalg.matmul (2-D) and linalg.batch_matmul (3-D) on
// f32/f64 memrefs with batch*M*N*K >= min-flops become
//   func.call @bism_rt_[batch_]gemm_<f32|f64>(lhs, rhs, out, tl, tr)
// with the operands cast to fully dynamic strided memrefs; the runtime
// (runtime/include/bism/runtime/Blas.h) computes out += op(lhs) * op(rhs).
// Only the default indexing maps and their lhs/rhs transposes are replaced.
//
//===----------------------------------------------------------------------===//
#include "bism/Lowering/MatmulMaps.h"
#include "bism/Lowering/Passes.h"

#include "mlir/IR/SymbolTable.h"

using namespace mlir;

namespace bism {
#define GEN_PASS_DEF_BISMMATMULTOBLAS
#include "bism/Lowering/Passes.h.inc"
} // namespace bism

/// memref<?x?xT, strided<[?, ?], offset: ?>> of the given rank.
static MemRefType dynamicStridedType(MLIRContext *ctx, int64_t rank,
                                     Type element) {
  SmallVector<int64_t> dynamic(rank, ShapedType::kDynamic);
  return MemRefType::get(
      dynamic, element,
      StridedLayoutAttr::get(ctx, ShapedType::kDynamic, dynamic));
}

/// The runtime entry point, declared private with a C interface on first use.
static func::FuncOp getOrDeclareGemm(ModuleOp module, StringRef name,
                                     MemRefType operandType) {
  if (auto existing = module.lookupSymbol<func::FuncOp>(name))
    return existing;
  MLIRContext *ctx = module.getContext();
  OpBuilder builder = OpBuilder::atBlockBegin(module.getBody());
  Type i64 = builder.getI64Type();
  auto type = FunctionType::get(
      ctx, {operandType, operandType, operandType, i64, i64}, {});
  auto func = func::FuncOp::create(builder, module.getLoc(), name, type);
  func.setPrivate();
  func->setAttr("llvm.emit_c_interface", UnitAttr::get(ctx));
  return func;
}

namespace {
struct MatmulToBlas : bism::impl::BismMatmulToBlasBase<MatmulToBlas> {
  using BismMatmulToBlasBase::BismMatmulToBlasBase;

  void runOnOperation() override {
    if (library != "blas" && library != "cublas") {
      getOperation().emitError("bism-matmul-to-blas: library must be blas or "
                               "cublas, not '")
          << library << "'";
      return signalPassFailure();
    }
    SmallVector<linalg::LinalgOp> candidates;
    getOperation().walk([&](Operation *op) {
      if (isa<linalg::MatmulOp, linalg::BatchMatmulOp>(op))
        candidates.push_back(cast<linalg::LinalgOp>(op));
    });
    for (linalg::LinalgOp op : candidates)
      rewrite(op);
  }

  /// Replaces `op` by a runtime call when it qualifies; leaves it otherwise.
  void rewrite(linalg::LinalgOp op) {
    if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 ||
        op.getNumDpsInits() != 1)
      return;
    bool batched = isa<linalg::BatchMatmulOp>(op);
    int64_t rank = batched ? 3 : 2;
    Value lhs = op.getDpsInputOperand(0)->get(),
          rhs = op.getDpsInputOperand(1)->get(),
          out = op.getDpsInitOperand(0)->get();
    auto lhsType = dyn_cast<MemRefType>(lhs.getType()),
         rhsType = dyn_cast<MemRefType>(rhs.getType()),
         outType = dyn_cast<MemRefType>(out.getType());
    if (!lhsType || !rhsType || !outType || lhsType.getRank() != rank ||
        rhsType.getRank() != rank || outType.getRank() != rank ||
        !lhsType.hasStaticShape() || !outType.hasStaticShape())
      return;
    Type element = outType.getElementType();
    if (!(element.isF32() || element.isF64()) ||
        lhsType.getElementType() != element ||
        rhsType.getElementType() != element)
      return;

    // Which of the four supported map sets is it?
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    std::optional<std::pair<bool, bool>> transposes;
    for (bool tl : {false, true})
      for (bool tr : {false, true})
        if (maps == bism::matmulIndexingMaps(op->getContext(), batched, tl, tr))
          transposes = {tl, tr};
    if (!transposes)
      return;
    auto [transposeLhs, transposeRhs] = *transposes;

    // batch * M * N * K from the output [.., M, N] and lhs [.., M, K] / [.., K,
    // M].
    int64_t flops = 1;
    for (int64_t size : outType.getShape())
      flops *= size;
    flops *= lhsType.getDimSize(transposeLhs ? rank - 2 : rank - 1);
    if (flops < minFlops)
      return;

    std::string name = std::string(library == "cublas" ? "bism_rt_cublas_"
                                                        : "bism_rt_") +
                       (batched ? "batch_gemm_" : "gemm_") +
                       (element.isF32() ? "f32" : "f64");
    MemRefType operandType =
        dynamicStridedType(op->getContext(), rank, element);
    func::FuncOp callee = getOrDeclareGemm(getOperation(), name, operandType);
    // The CUDA executor runs cuBLAS on the stream of the step's kernels, so
    // host code needs no synchronisation around these calls.
    if (library == "cublas")
      callee->setAttr("bism.stream_ordered", UnitAttr::get(op->getContext()));

    OpBuilder builder(op);
    Location loc = op.getLoc();
    auto cast = [&](Value value) -> Value {
      return memref::CastOp::create(builder, loc, operandType, value);
    };
    auto flag = [&](bool value) -> Value {
      return arith::ConstantOp::create(
          builder, loc, builder.getI64IntegerAttr(value ? 1 : 0));
    };
    func::CallOp::create(builder, loc, callee,
                         ValueRange{cast(lhs), cast(rhs), cast(out),
                                    flag(transposeLhs), flag(transposeRhs)});
    op->erase();
  }
};

} // namespace
