//===- Kernels.h - the kernel stage shared by the back ends ------*- C++ -*-===//
//
// `--bism-form-kernels` groups a linalg-on-tensors step into kernels: each
// remaining linalg op is one kernel, named `<function>.k<n>` in the
// `bism.kernel` attribute, with its kind in `bism.kernel_kind`. The CPU back
// end vectorises and threads each kernel; the CUDA back end makes each a GPU
// kernel (or a cuBLAS call for matmuls). Neither re-decides the grouping.
//
//===----------------------------------------------------------------------===//
#ifndef BISM_KERNELS_KERNELS_H
#define BISM_KERNELS_KERNELS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/BuiltinOps.h"

#include <array>

namespace bism {

inline constexpr llvm::StringLiteral kKernelNameAttr = "bism.kernel";
inline constexpr llvm::StringLiteral kKernelKindAttr = "bism.kernel_kind";
/// On an outlined kernel function: LLVM argument positions (after the
/// memref descriptors are expanded) of aligned pointers that no other
/// argument of the kernel aliases.
inline constexpr llvm::StringLiteral kNoaliasArgsAttr = "bism.noalias_args";

enum class KernelKind { Elementwise, Reduction, Matmul, Copy, Fill };
inline constexpr size_t kKernelKindCount = 5;

llvm::StringRef kernelKindName(KernelKind kind);
KernelKind classifyKernel(mlir::linalg::LinalgOp op);

/// Fuses and names the kernels of every function in `module` (the
/// `--bism-form-kernels` pass).
void formKernels(mlir::ModuleOp module);

struct KernelStats {
  std::array<int64_t, kKernelKindCount> counts{};
  /// 2·M·N·K summed over the matmul kernels (times the batch).
  int64_t matmulFlops = 0;
  int64_t total() const {
    int64_t sum = 0;
    for (int64_t count : counts)
      sum += count;
    return sum;
  }
};

/// Counts the named kernels of `func` (after formKernels).
KernelStats collectKernelStats(mlir::func::FuncOp func);

} // namespace bism

#endif // BISM_KERNELS_KERNELS_H
