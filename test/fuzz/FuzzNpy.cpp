//===- FuzzNpy.cpp - libFuzzer harness: .npy files -------------------------===//
#include "bism/runtime/Npy.h"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  bism::runtime::setMemoryBudget(uint64_t(1) << 20);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string error;
  bism::runtime::HostTensor tensor;
  if (bism::runtime::parseNpy(data, size, "fuzz.npy", tensor, error)) {
    // A tensor read back writes the same tensor.
    std::string encoded = bism::runtime::encodeNpy(tensor);
    bism::runtime::HostTensor again;
    if (!bism::runtime::parseNpy(encoded.data(), encoded.size(), "again.npy",
                                 again, error) ||
        again.typeString() != tensor.typeString())
      __builtin_trap();
  } else if (error.empty()) {
    __builtin_trap();
  }
  bism::runtime::HostTensor asF64;
  bism::runtime::parseNpyAsF64(data, size, "fuzz.npy", asF64, error);
  return 0;
}
