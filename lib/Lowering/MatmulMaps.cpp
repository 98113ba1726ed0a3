//===- MatmulMaps.cpp - indexing maps of bism matmuls in linalg -----------===//
#include "bism/Lowering/MatmulMaps.h"

using namespace mlir;

SmallVector<AffineMap, 3> bism::matmulIndexingMaps(MLIRContext *ctx,
                                                   bool batched,
                                                   bool transposeLhs,
                                                   bool transposeRhs) {
  unsigned numDims = batched ? 4 : 3;
  SmallVector<AffineExpr> dims;
  for (unsigned dim = 0; dim < numDims; ++dim)
    dims.push_back(getAffineDimExpr(dim, ctx));
  AffineExpr m = dims[numDims - 3], n = dims[numDims - 2],
             k = dims[numDims - 1];
  auto map = [&](AffineExpr major, AffineExpr minor) {
    SmallVector<AffineExpr> results;
    if (batched)
      results.push_back(dims[0]);
    results.append({major, minor});
    return AffineMap::get(numDims, 0, results, ctx);
  };
  return {transposeLhs ? map(k, m) : map(m, k),
          transposeRhs ? map(n, k) : map(k, n), map(m, n)};
}
