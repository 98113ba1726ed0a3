//===- Allocator.cpp - heap settings for running compiled steps ----------===//
#include "bism/runtime/Allocator.h"

#include <malloc.h>

namespace bism::runtime {

void keepFreedBuffersForReuse() {
  // Serve every size from the heap (no per-buffer mmap/munmap) and never
  // trim it back: a step's buffers are freed and wanted again at once. No
  // size limit (M_MMAP_MAX 0 rather than a threshold): a deep image model's
  // 1.4 GB buffer arena (PlanBuffers), mapped afresh for every step, cost
  // 385,000 page faults a step.
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, -1);
  mallopt(M_TOP_PAD, 64 << 20);
}

} // namespace bism::runtime
