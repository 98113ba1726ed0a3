//===- Autodiff.h - source-to-source differentiation of bism ----*- C++ -*-===//
#ifndef BISM_AUTODIFF_AUTODIFF_H
#define BISM_AUTODIFF_AUTODIFF_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

namespace bism::autodiff {

/// The attribute on an scf.for that asks the reverse sweep through its
/// unrolled iterations to keep only some loop-carried states and recompute
/// the rest (a string, parsed by parseCheckpointSchedule).
inline constexpr llvm::StringLiteral kCheckpointAttr = "bism.checkpoint";

/// Which loop-carried states a checkpointed reverse sweep keeps.
///   none        every iteration's values are kept (plain unrolling);
///   every:K     the states at iterations 0, K, 2K, ...; each segment of K
///               iterations is recomputed once, then reversed;
///   sqrt        every:ceil(sqrt(T)) for a loop of T iterations;
///   binomial:S  Griewank's binomial schedule (revolve) with S snapshots:
///               the fewest recomputations for that memory; "binomial"
///               alone takes S = ceil(log2(T)).
struct CheckpointSchedule {
  enum class Kind { None, Every, Sqrt, Binomial };
  Kind kind = Kind::None;
  int64_t parameter = 0; // K for every, S for binomial (0: the default)

  /// The segment length of every/sqrt for a loop of `trips` iterations.
  int64_t segmentLength(int64_t trips) const;
  /// The snapshots of binomial for a loop of `trips` iterations.
  int64_t snapshots(int64_t trips) const;
};

/// Parses a schedule ("none", "every:K", "sqrt", "binomial", "binomial:S");
/// on failure returns nullopt and says why in `error`.
std::optional<CheckpointSchedule>
parseCheckpointSchedule(llvm::StringRef text, std::string &error);

/// Differentiates the straight-line `trace` (ops in creation order) in reverse
/// mode: emits, at the builder's insertion point, the cotangents of `wrt`
/// given cotangents of `outputs` (null = zero). Only ops on a path from `wrt`
/// to `outputs` get derivative code. `gradients` gets one value per `wrt`
/// (a zero constant where nothing depends on it).
mlir::LogicalResult emitReverse(mlir::OpBuilder &builder, mlir::Location loc,
                                llvm::ArrayRef<mlir::Operation *> trace,
                                mlir::ValueRange outputs,
                                mlir::ValueRange outputCotangents,
                                mlir::ValueRange wrt,
                                llvm::SmallVectorImpl<mlir::Value> &gradients);

/// Forward mode over `trace`: the tangents of `outputs` given tangents of
/// `wrt`. One value per output (zero constant where it does not depend on
/// `wrt`).
mlir::LogicalResult emitForward(mlir::OpBuilder &builder, mlir::Location loc,
                                llvm::ArrayRef<mlir::Operation *> trace,
                                mlir::ValueRange wrt, mlir::ValueRange tangents,
                                mlir::ValueRange outputs,
                                llvm::SmallVectorImpl<mlir::Value> &outputTangents);

/// Replaces every bism.grad/vjp/jvp/hvp in `module` by derivative code.
mlir::LogicalResult expandAutodiffOps(mlir::ModuleOp module);

} // namespace bism::autodiff

#endif // BISM_AUTODIFF_AUTODIFF_H
