//===- Threads.h - the one thread pool of a compiled step -------*- C++ -*-===//
//
// Compiled kernels (their outer loops, through MLIR's OpenMP lowering) and
// the BLAS calls of runtime/src/Blas.cpp share OpenMP's pool (LLVM's libomp),
// so the two never spin against each other. OpenBLAS itself runs each call
// on the thread that makes it.
//
//===----------------------------------------------------------------------===//
#ifndef BISM_RUNTIME_THREADS_H
#define BISM_RUNTIME_THREADS_H

namespace bism::runtime {

/// The number of cores this process may run on.
int availableCores();

/// Sets the pool's size; 0 means availableCores(). Call before the first
/// step (OMP_NUM_THREADS sets the default too).
void setThreadCount(int count);

/// The pool's size.
int threadCount();

} // namespace bism::runtime

#endif // BISM_RUNTIME_THREADS_H
