//===- ApproximateMath.cpp - f32 transcendentals as polynomials -----------===//
//
// Scalar libm calls stop LLVM's loop vectoriser; MLIR's polynomial
// approximations are plain arithmetic, so a kernel's loop vectorises with
// them. Only f32: the f64 paths (finite-difference tests, f64 models) keep
// libm's correctly rounded-ish results.
//
//===----------------------------------------------------------------------===//
#include "bism/Lowering/Passes.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/StringSwitch.h"

using namespace mlir;

namespace bism {
#define GEN_PASS_DEF_BISMAPPROXIMATEMATH
#include "bism/Lowering/Passes.h.inc"
} // namespace bism

namespace {
struct ApproximateMath
    : bism::impl::BismApproximateMathBase<ApproximateMath> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(
        patterns, [](StringRef name) { // full op names
          return llvm::StringSwitch<bool>(name)
              .Cases({"math.exp", "math.log", "math.log1p", "math.expm1",
                      "math.tanh", "math.sin", "math.cos", "math.erf"},
                     true)
              .Default(false);
        });
    // Only the math ops not marked exact (the random draws' stay libm).
    SmallVector<Operation *> candidates;
    getOperation().walk([&](Operation *op) {
      if (isa<math::MathDialect>(op->getDialect()) &&
          !op->hasAttr(bism::kExactMathAttr))
        candidates.push_back(op);
    });
    GreedyRewriteConfig config;
    config.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps);
    if (failed(applyOpPatternsGreedily(candidates, std::move(patterns), config)))
      signalPassFailure();
  }
};
} // namespace
