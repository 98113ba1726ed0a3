//===- FuzzTensorText.cpp - libFuzzer harness: --input literals -----------===//
//
// bism-run's "SHAPExTYPE=VALUES" literals and --max-memory sizes, as typed
// on a command line. The memory budget (1 MiB) is small so that a huge but valid
// size is refused like a wrapped one, not allocated.
//
//===----------------------------------------------------------------------===//
#include "bism/runtime/TensorText.h"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  bism::runtime::setMemoryBudget(uint64_t(1) << 20);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  std::string error;
  bism::runtime::HostTensor tensor;
  if (bism::runtime::parseTensorLiteral(text, tensor, error)) {
    // What parses prints, and the printed form parses to the same type.
    bism::runtime::HostTensor again;
    std::string printed = bism::runtime::formatTensor(tensor);
    // (Small tensors only: printing a million values is slow, not deep.)
    if (tensor.numElements() > 0 && tensor.numElements() <= 4096 &&
        (!bism::runtime::parseTensorLiteral(printed, again, error) ||
         again.typeString() != tensor.typeString()))
      __builtin_trap();
  } else if (error.empty()) {
    __builtin_trap(); // every refusal says why
  }
  uint64_t bytes = 0;
  bism::runtime::parseMemorySize(text, bytes, error);
  return 0;
}
