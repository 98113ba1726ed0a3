//===- MemRef.h - the memref descriptor ABI -----------------------*- C++ -*-===//
//
// Layout of MLIR's lowered memref descriptor (what `_mlir_ciface_` functions
// take by pointer), declared here so the runtime needs no MLIR headers.
//
//===----------------------------------------------------------------------===//
#ifndef BISM_RUNTIME_MEMREF_H
#define BISM_RUNTIME_MEMREF_H

#include <cstdint>

namespace bism::runtime {

template <typename T, int Rank> struct MemRefDescriptor {
  T *allocated;
  T *aligned;
  int64_t offset;
  int64_t sizes[Rank];
  int64_t strides[Rank];
};

template <typename T> struct MemRefDescriptor<T, 0> {
  T *allocated;
  T *aligned;
  int64_t offset;
};

} // namespace bism::runtime

#endif // BISM_RUNTIME_MEMREF_H
