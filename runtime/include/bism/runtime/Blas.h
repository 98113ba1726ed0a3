//===- Blas.h - BLAS entry points called by compiled code -------*- C++ -*-===//
//
// `--bism-matmul-to-blas` replaces large linalg.matmul / linalg.batch_matmul
// on memrefs by calls to these (through their `_mlir_ciface_` C interface).
// Semantics match linalg: out += op(lhs) * op(rhs), op = transpose when the
// flag is non-zero. Operands may be strided; a unit inner stride is passed to
// OpenBLAS directly, anything else is packed first.
//
//===----------------------------------------------------------------------===//
#ifndef BISM_RUNTIME_BLAS_H
#define BISM_RUNTIME_BLAS_H

#include "bism/runtime/MemRef.h"

extern "C" {
void _mlir_ciface_bism_rt_gemm_f32(bism::runtime::MemRefDescriptor<float, 2> *lhs,
                                   bism::runtime::MemRefDescriptor<float, 2> *rhs,
                                   bism::runtime::MemRefDescriptor<float, 2> *out,
                                   int64_t transposeLhs, int64_t transposeRhs);
void _mlir_ciface_bism_rt_gemm_f64(bism::runtime::MemRefDescriptor<double, 2> *lhs,
                                   bism::runtime::MemRefDescriptor<double, 2> *rhs,
                                   bism::runtime::MemRefDescriptor<double, 2> *out,
                                   int64_t transposeLhs, int64_t transposeRhs);
void _mlir_ciface_bism_rt_batch_gemm_f32(bism::runtime::MemRefDescriptor<float, 3> *lhs,
                                         bism::runtime::MemRefDescriptor<float, 3> *rhs,
                                         bism::runtime::MemRefDescriptor<float, 3> *out,
                                         int64_t transposeLhs, int64_t transposeRhs);
void _mlir_ciface_bism_rt_batch_gemm_f64(bism::runtime::MemRefDescriptor<double, 3> *lhs,
                                         bism::runtime::MemRefDescriptor<double, 3> *rhs,
                                         bism::runtime::MemRefDescriptor<double, 3> *out,
                                         int64_t transposeLhs, int64_t transposeRhs);
}

namespace bism::runtime {
/// Number of BLAS calls made so far (tests use it to prove BLAS was used).
int64_t blasCallCount();
} // namespace bism::runtime

#endif // BISM_RUNTIME_BLAS_H
