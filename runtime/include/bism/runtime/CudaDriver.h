//===- CudaDriver.h - the CUDA driver, loaded at run time -------*- C++ -*-===//
//
// The CUDA executor's access to the driver API. libcuda.so.1 is opened with
// dlopen when first needed, never linked, so a build with CUDA support runs
// on machines without a GPU or driver (and says why CUDA is unavailable
// instead of failing to start). Built without the CUDA toolkit's headers,
// every query reports that.
//
//===----------------------------------------------------------------------===//
#ifndef BISM_RUNTIME_CUDADRIVER_H
#define BISM_RUNTIME_CUDADRIVER_H

#include <cstddef>
#include <string>
#include <vector>

namespace bism::runtime::cuda {

struct DeviceInfo {
  int ordinal = 0;
  std::string name;
  int computeMajor = 0, computeMinor = 0;
  size_t memoryBytes = 0;
};

/// Why CUDA cannot be used here ("no CUDA device: libcuda.so.1 not found",
/// the driver's error for cuInit, "no CUDA device: the driver sees no GPU"),
/// or "" when the driver is loaded and sees at least one device. Loads and
/// initialises the driver on the first call.
std::string unavailableReason();

/// The devices the driver sees; empty (with `error` set) when CUDA is
/// unavailable.
std::vector<DeviceInfo> devices(std::string &error);

} // namespace bism::runtime::cuda

#endif // BISM_RUNTIME_CUDADRIVER_H
