//===- LowerToLinalg.cpp - bism -> linalg/tensor/arith/math ---------------===//
#include "bism/Dialect/Bism.h"
#include "bism/Lowering/Passes.h"

#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;

namespace bism {
#define GEN_PASS_DEF_BISMLOWERTOLINALG
#include "bism/Lowering/Passes.h.inc"
} // namespace bism

namespace {
struct LowerToLinalg : bism::impl::BismLowerToLinalgBase<LowerToLinalg> {
  void runOnOperation() override {
    ConversionTarget target(getContext());
    target.addIllegalDialect<bism::BismDialect>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    RewritePatternSet patterns(&getContext());
    if (failed(applyPartialConversion(getOperation(), target, std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
