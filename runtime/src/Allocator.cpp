//===- Allocator.cpp - heap settings for running compiled steps ----------===//
#include "bism/runtime/Allocator.h"

#include <malloc.h>

namespace bism::runtime {

void keepFreedBuffersForReuse() {
  // Serve every size from the heap (no per-buffer mmap/munmap) and never
  // trim it back: a step's buffers are freed and wanted again at once.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, -1);
  mallopt(M_TOP_PAD, 64 << 20);
}

} // namespace bism::runtime
