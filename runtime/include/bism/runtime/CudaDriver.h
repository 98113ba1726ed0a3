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

// The resolved entry points, for the runtime's own sources (CudaExecutor.cpp)
// only: BISM_HAVE_CUDA_HEADERS is a private definition of BismRuntime, so
// nothing outside the runtime sees cuda.h through this header.
#if defined(BISM_HAVE_CUDA_HEADERS) && BISM_HAVE_CUDA_HEADERS
#include <cuda.h>

namespace bism::runtime::cuda::detail {

/// The driver entry points the runtime uses, resolved from libcuda.so.1.
/// Their types come from the toolkit's cuda.h (`decltype(&::cuMemAlloc)` is
/// the type of cuMemAlloc_v2, the version cuda.h's macro names), so a
/// changed signature is a compile error, not a crash; the name looked up
/// is the same macro expansion.
struct Driver {
  // Devices (CudaDriver.cpp's queries).
  decltype(&::cuInit) init = nullptr;
  decltype(&::cuDeviceGetCount) deviceGetCount = nullptr;
  decltype(&::cuDeviceGet) deviceGet = nullptr;
  decltype(&::cuDeviceGetName) deviceGetName = nullptr;
  decltype(&::cuDeviceGetAttribute) deviceGetAttribute = nullptr;
  decltype(&::cuDeviceTotalMem) deviceTotalMem = nullptr;
  decltype(&::cuGetErrorString) getErrorString = nullptr;
  decltype(&::cuGetErrorName) getErrorName = nullptr;
  // Context.
  decltype(&::cuDevicePrimaryCtxRetain) devicePrimaryCtxRetain = nullptr;
  decltype(&::cuCtxSetCurrent) ctxSetCurrent = nullptr;
  decltype(&::cuCtxGetCurrent) ctxGetCurrent = nullptr;
  // Modules and launches.
  decltype(&::cuModuleLoadData) moduleLoadData = nullptr;
  decltype(&::cuModuleLoadDataEx) moduleLoadDataEx = nullptr;
  decltype(&::cuModuleUnload) moduleUnload = nullptr;
  decltype(&::cuModuleGetFunction) moduleGetFunction = nullptr;
  decltype(&::cuFuncSetAttribute) funcSetAttribute = nullptr;
  decltype(&::cuLaunchKernel) launchKernel = nullptr;
  // Streams and events.
  decltype(&::cuStreamCreate) streamCreate = nullptr;
  decltype(&::cuStreamSynchronize) streamSynchronize = nullptr;
  decltype(&::cuStreamWaitEvent) streamWaitEvent = nullptr;
  decltype(&::cuEventCreate) eventCreate = nullptr;
  decltype(&::cuEventDestroy) eventDestroy = nullptr;
  decltype(&::cuEventSynchronize) eventSynchronize = nullptr;
  decltype(&::cuEventRecord) eventRecord = nullptr;
  // Memory.
  decltype(&::cuMemAlloc) memAlloc = nullptr;
  decltype(&::cuMemFree) memFree = nullptr;
  decltype(&::cuMemAllocManaged) memAllocManaged = nullptr;
  decltype(&::cuMemAllocAsync) memAllocAsync = nullptr;
  decltype(&::cuMemFreeAsync) memFreeAsync = nullptr;
  decltype(&::cuDeviceGetDefaultMemPool) deviceGetDefaultMemPool = nullptr;
  decltype(&::cuMemPoolSetAttribute) memPoolSetAttribute = nullptr;
  decltype(&::cuMemPoolGetAttribute) memPoolGetAttribute = nullptr;
  decltype(&::cuMemcpyAsync) memcpyAsync = nullptr;
  decltype(&::cuMemcpyHtoDAsync) memcpyHtoDAsync = nullptr;
  decltype(&::cuMemcpyDtoHAsync) memcpyDtoHAsync = nullptr;
  decltype(&::cuMemsetD32Async) memsetD32Async = nullptr;
  decltype(&::cuMemsetD16Async) memsetD16Async = nullptr;
  // Graphs (stream capture).
  decltype(&::cuStreamBeginCapture) streamBeginCapture = nullptr;
  decltype(&::cuStreamEndCapture) streamEndCapture = nullptr;
  decltype(&::cuGraphInstantiate) graphInstantiate = nullptr;
  decltype(&::cuGraphLaunch) graphLaunch = nullptr;
  decltype(&::cuGraphDestroy) graphDestroy = nullptr;
  decltype(&::cuGraphExecDestroy) graphExecDestroy = nullptr;
  // Optional (null when the driver predates it): CUDA 12.3.
  decltype(&::cuFuncGetName) funcGetName = nullptr;

  std::string unavailable; // why CUDA cannot be used, or ""
};

/// The driver, loaded and initialised on the first call (thread-safe). When
/// `unavailable` is not empty, no entry point may be called.
const Driver &driver();

/// "CUDA_ERROR_NAME: the driver's description" for a result.
std::string describe(CUresult result);

} // namespace bism::runtime::cuda::detail
#endif

#endif // BISM_RUNTIME_CUDADRIVER_H
