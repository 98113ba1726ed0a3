//===- CudaDriver.cpp - the CUDA driver, loaded at run time ---------------===//
#include "bism/runtime/CudaDriver.h"

#if BISM_HAVE_CUDA_HEADERS
#include <cuda.h>
#include <dlfcn.h>
#endif

#include <mutex>

namespace bism::runtime::cuda {

#if BISM_HAVE_CUDA_HEADERS
namespace {

/// The driver entry points the executor uses, resolved from libcuda.so.1
/// (their types from the toolkit's cuda.h, so a changed signature is a
/// compile error, not a crash).
struct Driver {
  decltype(&::cuInit) init = nullptr;
  decltype(&::cuDeviceGetCount) deviceGetCount = nullptr;
  decltype(&::cuDeviceGet) deviceGet = nullptr;
  decltype(&::cuDeviceGetName) deviceGetName = nullptr;
  decltype(&::cuDeviceGetAttribute) deviceGetAttribute = nullptr;
  decltype(&::cuDeviceTotalMem) deviceTotalMem = nullptr;
  decltype(&::cuGetErrorString) getErrorString = nullptr;
  std::string unavailable; // why not, or ""
};

template <typename F>
bool resolve(void *library, const char *name, F &function, std::string &why) {
  function = reinterpret_cast<F>(dlsym(library, name));
  if (!function)
    why = std::string("no CUDA device: libcuda.so.1 has no ") + name +
          " (driver too old?)";
  return function != nullptr;
}

std::string describe(const Driver &driver, CUresult result) {
  const char *text = nullptr;
  if (driver.getErrorString && driver.getErrorString(result, &text) ==
                                   CUDA_SUCCESS && text)
    return text;
  return "CUDA error " + std::to_string(int(result));
}

const Driver &driver() {
  static Driver loaded;
  static std::once_flag once;
  std::call_once(once, [] {
    Driver &d = loaded;
    void *library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!library) {
      const char *reason = dlerror();
      d.unavailable = std::string("no CUDA device: libcuda.so.1 not found") +
                      (reason ? std::string(" (") + reason + ")" : "");
      return;
    }
    std::string why;
    // The _v2 names are what cuda.h's macros refer to for these.
    if (!resolve(library, "cuInit", d.init, why) ||
        !resolve(library, "cuDeviceGetCount", d.deviceGetCount, why) ||
        !resolve(library, "cuDeviceGet", d.deviceGet, why) ||
        !resolve(library, "cuDeviceGetName", d.deviceGetName, why) ||
        !resolve(library, "cuDeviceGetAttribute", d.deviceGetAttribute, why) ||
        !resolve(library, "cuDeviceTotalMem_v2", d.deviceTotalMem, why) ||
        !resolve(library, "cuGetErrorString", d.getErrorString, why)) {
      d.unavailable = why;
      return;
    }
    if (CUresult result = d.init(0); result != CUDA_SUCCESS) {
      d.unavailable = "no CUDA device: cuInit failed: " + describe(d, result);
      return;
    }
    int count = 0;
    if (CUresult result = d.deviceGetCount(&count); result != CUDA_SUCCESS) {
      d.unavailable = "no CUDA device: " + describe(d, result);
      return;
    }
    if (count == 0)
      d.unavailable = "no CUDA device: the driver sees no GPU";
  });
  return loaded;
}

} // namespace

std::string unavailableReason() { return driver().unavailable; }

std::vector<DeviceInfo> devices(std::string &error) {
  const Driver &d = driver();
  std::vector<DeviceInfo> result;
  error = d.unavailable;
  if (!error.empty())
    return result;
  int count = 0;
  if (CUresult status = d.deviceGetCount(&count); status != CUDA_SUCCESS) {
    error = describe(d, status);
    return result;
  }
  for (int ordinal = 0; ordinal < count; ++ordinal) {
    CUdevice device;
    if (CUresult status = d.deviceGet(&device, ordinal); status != CUDA_SUCCESS) {
      error = describe(d, status);
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
