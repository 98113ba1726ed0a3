//===- Threads.cpp - the one thread pool of a compiled step ---------------===//
#include "bism/runtime/Threads.h"

#include <omp.h>
#include <sched.h>

#include <thread>

namespace bism::runtime {

int availableCores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0)
    if (int count = CPU_COUNT(&set); count > 0)
      return count;
  unsigned count = std::thread::hardware_concurrency();
  return count ? int(count) : 1;
}

void setThreadCount(int count) {
  omp_set_num_threads(count > 0 ? count : availableCores());
}

int threadCount() { return omp_get_max_threads(); }

} // namespace bism::runtime
