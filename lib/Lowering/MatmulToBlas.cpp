//===- MatmulToBlas.cpp - large buffer matmuls -> runtime BLAS calls ------===//
#include "bism/Lowering/Passes.h"

using namespace mlir;

namespace bism {
#define GEN_PASS_DEF_BISMMATMULTOBLAS
#include "bism/Lowering/Passes.h.inc"
} // namespace bism

namespace {
struct MatmulToBlas : bism::impl::BismMatmulToBlasBase<MatmulToBlas> {
  using BismMatmulToBlasBase::BismMatmulToBlasBase;
  void runOnOperation() override {}
};
} // namespace
