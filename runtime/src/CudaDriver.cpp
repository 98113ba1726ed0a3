//===- CudaDriver.cpp - the CUDA driver, loaded at run time ---------------===//
#include "bism/runtime/CudaDriver.h"

#if BISM_HAVE_CUDA_HEADERS
#include <dlfcn.h>
#endif

#include <mutex>

namespace bism::runtime::cuda {

#if BISM_HAVE_CUDA_HEADERS
namespace detail {
namespace {

template <typename F>
bool resolve(void *library, const char *name, F &function, std::string &why) {
  function = reinterpret_cast<F>(dlsym(library, name));
  if (!function)
    why = std::string("no CUDA device: libcuda.so.1 has no ") + name +
          " (driver too old?)";
  return function != nullptr;
}

// The symbol a cuda.h name stands for: cuMemAlloc is a macro for
// cuMemAlloc_v2, cuStreamBeginCapture one for cuStreamBeginCapture_v2, ...
// Stringifying after macro expansion gives the name matching the type that
// decltype(&::cuMemAlloc) saw.
#define BISM_CUDA_STRINGIFY_EXPANDED(x) BISM_CUDA_STRINGIFY(x)
#define BISM_CUDA_STRINGIFY(x) #x
#define BISM_CUDA_RESOLVE(field, function)                                     \
  resolve(library, BISM_CUDA_STRINGIFY_EXPANDED(function), d.field, why)

Driver &loadedDriver() {
  static Driver *loaded = new Driver; // never destroyed: used until exit
  return *loaded;
}

} // namespace

std::string describe(CUresult result) {
  const Driver &d = loadedDriver();
  const char *name = nullptr, *text = nullptr;
  std::string described;
  if (d.getErrorName && d.getErrorName(result, &name) == CUDA_SUCCESS && name)
    described = name;
  else
    described = "CUDA error " + std::to_string(int(result));
  if (d.getErrorString && d.getErrorString(result, &text) == CUDA_SUCCESS &&
      text)
    described += std::string(": ") + text;
  return described;
}

const Driver &driver() {
  static std::once_flag once;
  std::call_once(once, [] {
    Driver &d = loadedDriver();
    void *library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!library) {
      const char *reason = dlerror();
      d.unavailable = std::string("no CUDA device: libcuda.so.1 not found") +
                      (reason ? std::string(" (") + reason + ")" : "");
      return;
    }
    std::string why;
    bool found =
        BISM_CUDA_RESOLVE(init, cuInit) &&
        BISM_CUDA_RESOLVE(deviceGetCount, cuDeviceGetCount) &&
        BISM_CUDA_RESOLVE(deviceGet, cuDeviceGet) &&
        BISM_CUDA_RESOLVE(deviceGetName, cuDeviceGetName) &&
        BISM_CUDA_RESOLVE(deviceGetAttribute, cuDeviceGetAttribute) &&
        BISM_CUDA_RESOLVE(deviceTotalMem, cuDeviceTotalMem) &&
        BISM_CUDA_RESOLVE(getErrorString, cuGetErrorString) &&
        BISM_CUDA_RESOLVE(getErrorName, cuGetErrorName) &&
        BISM_CUDA_RESOLVE(devicePrimaryCtxRetain, cuDevicePrimaryCtxRetain) &&
        BISM_CUDA_RESOLVE(ctxSetCurrent, cuCtxSetCurrent) &&
        BISM_CUDA_RESOLVE(ctxGetCurrent, cuCtxGetCurrent) &&
        BISM_CUDA_RESOLVE(moduleLoadData, cuModuleLoadData) &&
        BISM_CUDA_RESOLVE(moduleLoadDataEx, cuModuleLoadDataEx) &&
        BISM_CUDA_RESOLVE(moduleUnload, cuModuleUnload) &&
        BISM_CUDA_RESOLVE(moduleGetFunction, cuModuleGetFunction) &&
        BISM_CUDA_RESOLVE(funcSetAttribute, cuFuncSetAttribute) &&
        BISM_CUDA_RESOLVE(launchKernel, cuLaunchKernel) &&
        BISM_CUDA_RESOLVE(streamCreate, cuStreamCreate) &&
        BISM_CUDA_RESOLVE(streamSynchronize, cuStreamSynchronize) &&
        BISM_CUDA_RESOLVE(streamWaitEvent, cuStreamWaitEvent) &&
        BISM_CUDA_RESOLVE(eventCreate, cuEventCreate) &&
        BISM_CUDA_RESOLVE(eventDestroy, cuEventDestroy) &&
        BISM_CUDA_RESOLVE(eventSynchronize, cuEventSynchronize) &&
        BISM_CUDA_RESOLVE(eventRecord, cuEventRecord) &&
        BISM_CUDA_RESOLVE(memAlloc, cuMemAlloc) &&
        BISM_CUDA_RESOLVE(memFree, cuMemFree) &&
        BISM_CUDA_RESOLVE(memAllocManaged, cuMemAllocManaged) &&
        BISM_CUDA_RESOLVE(memAllocAsync, cuMemAllocAsync) &&
        BISM_CUDA_RESOLVE(memFreeAsync, cuMemFreeAsync) &&
        BISM_CUDA_RESOLVE(deviceGetDefaultMemPool, cuDeviceGetDefaultMemPool) &&
        BISM_CUDA_RESOLVE(memPoolSetAttribute, cuMemPoolSetAttribute) &&
        BISM_CUDA_RESOLVE(memPoolGetAttribute, cuMemPoolGetAttribute) &&
        BISM_CUDA_RESOLVE(memcpyAsync, cuMemcpyAsync) &&
        BISM_CUDA_RESOLVE(memcpyHtoDAsync, cuMemcpyHtoDAsync) &&
        BISM_CUDA_RESOLVE(memcpyDtoHAsync, cuMemcpyDtoHAsync) &&
        BISM_CUDA_RESOLVE(memsetD32Async, cuMemsetD32Async) &&
        BISM_CUDA_RESOLVE(memsetD16Async, cuMemsetD16Async) &&
        BISM_CUDA_RESOLVE(streamBeginCapture, cuStreamBeginCapture) &&
        BISM_CUDA_RESOLVE(streamEndCapture, cuStreamEndCapture) &&
        BISM_CUDA_RESOLVE(graphInstantiate, cuGraphInstantiate) &&
        BISM_CUDA_RESOLVE(graphLaunch, cuGraphLaunch) &&
        BISM_CUDA_RESOLVE(graphDestroy, cuGraphDestroy) &&
        BISM_CUDA_RESOLVE(graphExecDestroy, cuGraphExecDestroy);
    if (!found) {
      d.unavailable = why;
      return;
    }
    // Optional: names kernels in error messages where the driver has it.
    d.funcGetName = reinterpret_cast<decltype(d.funcGetName)>(
        dlsym(library, BISM_CUDA_STRINGIFY_EXPANDED(cuFuncGetName)));
    if (CUresult result = d.init(0); result != CUDA_SUCCESS) {
      d.unavailable = "no CUDA device: cuInit failed: " + describe(result);
      return;
    }
    int count = 0;
    if (CUresult result = d.deviceGetCount(&count); result != CUDA_SUCCESS) {
      d.unavailable = "no CUDA device: " + describe(result);
      return;
    }
    if (count == 0)
      d.unavailable = "no CUDA device: the driver sees no GPU";
  });
  return loadedDriver();
}

#undef BISM_CUDA_RESOLVE
#undef BISM_CUDA_STRINGIFY
#undef BISM_CUDA_STRINGIFY_EXPANDED

} // namespace detail

std::string unavailableReason() { return detail::driver().unavailable; }

std::vector<DeviceInfo> devices(std::string &error) {
  const detail::Driver &d = detail::driver();
  std::vector<DeviceInfo> result;
  error = d.unavailable;
  if (!error.empty())
    return result;
  int count = 0;
  if (CUresult status = d.deviceGetCount(&count); status != CUDA_SUCCESS) {
    error = detail::describe(status);
    return result;
  }
  for (int ordinal = 0; ordinal < count; ++ordinal) {
    CUdevice device;
    if (CUresult status = d.deviceGet(&device, ordinal);
        status != CUDA_SUCCESS) {
      error = detail::describe(status);
      return {};
    }
    DeviceInfo info;
    info.ordinal = ordinal;
    char name[256] = {};
    d.deviceGetName(name, sizeof(name) - 1, device);
    info.name = name;
    d.deviceGetAttribute(&info.computeMajor,
                         CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
    d.deviceGetAttribute(&info.computeMinor,
                         CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
    size_t bytes = 0;
    d.deviceTotalMem(&bytes, device);
    info.memoryBytes = bytes;
    result.push_back(std::move(info));
  }
  return result;
}

#else // !BISM_HAVE_CUDA_HEADERS

std::string unavailableReason() {
  return "no CUDA device: bism was built without the CUDA toolkit's headers";
}

std::vector<DeviceInfo> devices(std::string &error) {
  error = unavailableReason();
  return {};
}

#endif

} // namespace bism::runtime::cuda
