//===- FuzzIdx.cpp - libFuzzer harness: IDX files (gzip'd or not) ---------===//
//
// readIdxU8 reads through zlib from a path: each input is written to an
// in-memory file (memfd) and read back by its /proc path.
//
//===----------------------------------------------------------------------===//
#include "bism/runtime/Dataset.h"
#include "bism/runtime/HostTensor.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

namespace {
int memoryFile = -1;
std::string memoryFilePath;
} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  bism::runtime::setMemoryBudget(uint64_t(1) << 20);
  memoryFile = memfd_create("bism-fuzz-idx", 0);
  if (memoryFile < 0)
    std::abort();
  memoryFilePath = "/proc/self/fd/" + std::to_string(memoryFile);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (ftruncate(memoryFile, 0) != 0 ||
      pwrite(memoryFile, data, size, 0) != ssize_t(size))
    std::abort();
  std::vector<int64_t> shape;
  std::vector<uint8_t> values;
  std::string error;
  if (bism::runtime::readIdxU8(memoryFilePath, shape, values, error)) {
    uint64_t count = 1;
    for (int64_t dim : shape)
      count *= uint64_t(dim);
    if (count != values.size())
      __builtin_trap();
  } else if (error.empty()) {
    __builtin_trap();
  }
  return 0;
}
