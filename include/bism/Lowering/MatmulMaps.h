//===- MatmulMaps.h - indexing maps of bism matmuls in linalg ---*- C++ -*-===//
#ifndef BISM_LOWERING_MATMULMAPS_H
#define BISM_LOWERING_MATMULMAPS_H

#include "mlir/IR/AffineMap.h"
#include "llvm/ADT/SmallVector.h"

namespace bism {

/// The (lhs, rhs, out) indexing maps of linalg.matmul (dims m, n, k) or
/// linalg.batch_matmul (dims batch, m, n, k) with the operands' minor
/// dimensions swapped where asked. The lowering emits these; the BLAS pass
/// recognises exactly these.
llvm::SmallVector<mlir::AffineMap, 3> matmulIndexingMaps(mlir::MLIRContext *ctx,
                                                         bool batched,
                                                         bool transposeLhs,
                                                         bool transposeRhs);

} // namespace bism

#endif // BISM_LOWERING_MATMULMAPS_H
