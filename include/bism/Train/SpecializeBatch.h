//===- SpecializeBatch.h - the batch size as a compile-time choice -*- C++ -*-===//
//
// A model file writes its batch dimension as `?` in every type that has one
// (tensor<?x2xf32>) and states the size once, in the spec's `batch_size`.
// `specializeBatch` sets every `?` to that size before anything else
// transforms the module, so all later passes see static shapes; bism-run
// runs it after the `--set` overrides, so `--set batch_size=50` changes the
// batch without editing the file. docs/training.md ("The batch dimension")
// has the rules.
//
//===----------------------------------------------------------------------===//
#ifndef BISM_TRAIN_SPECIALIZEBATCH_H
#define BISM_TRAIN_SPECIALIZEBATCH_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringRef.h"

namespace bism::train {

/// Sets every `?` dimension in `module` to `batchSize`: function types,
/// block arguments, op results, and the limits of slices that keep the
/// batch dimension whole. `batchSize` 0 takes the `batch_size` of the
/// module's bism.model specs (they must agree). A module without `?`
/// dimensions is left alone. Errors name the place; the module is verified
/// afterwards by the caller (a pass manager does it after the pass).
mlir::LogicalResult specializeBatch(mlir::ModuleOp module,
                                    int64_t batchSize = 0);

} // namespace bism::train

#endif // BISM_TRAIN_SPECIALIZEBATCH_H
