//===- FuzzCheckpoint.cpp - libFuzzer harness: checkpoints -----------------===//
#include "bism/runtime/Checkpoint.h"

#include <cstdint>
#include <cstring>
#include <string>

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  bism::runtime::setMemoryBudget(uint64_t(1) << 20);
  return 0;
}

namespace {
/// The checkpoint's trailing checksum (64-bit FNV-1a of everything before
/// it), so that mutations reach the decoder behind the checksum test.
uint64_t fnv1a(const char *data, size_t size) {
  uint64_t hash = 14695981039346656037ull;
  for (size_t i = 0; i < size; ++i)
    hash = (hash ^ uint8_t(data[i])) * 1099511628211ull;
  return hash;
}

void decode(const std::string &bytes) {
  std::string error;
  bism::runtime::Checkpoint checkpoint;
  if (bism::runtime::decodeCheckpoint(bytes, "fuzz.ckpt", checkpoint, error)) {
    // What decodes re-encodes to bytes that decode again.
    std::string encoded = bism::runtime::encodeCheckpoint(checkpoint);
    bism::runtime::Checkpoint again;
    if (!bism::runtime::decodeCheckpoint(encoded, "again.ckpt", again, error))
      __builtin_trap();
  } else if (error.empty()) {
    __builtin_trap();
  }
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string bytes(reinterpret_cast<const char *>(data), size);
  decode(bytes);
  if (bytes.size() >= 8) {
    uint64_t sum = fnv1a(bytes.data(), bytes.size() - 8);
    std::memcpy(&bytes[bytes.size() - 8], &sum, 8);
    decode(bytes);
  }
  return 0;
}
