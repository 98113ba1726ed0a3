//===- Collective.cpp - process groups and the all-reduce entry points ----===//
#include "bism/runtime/Collective.h"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstdio>

#ifdef BISM_HAVE_MPI
#include <mpi.h>
#endif

namespace bism::runtime {

namespace {
ProcessGroup *currentGroup = nullptr;

template <typename T>
void allReduceMean(MemRefDescriptor<T, 1> *in, MemRefDescriptor<T, 1> *out) {
  int64_t count = in->sizes[0];
  T *source = in->aligned + in->offset;
  T *target = out->aligned + out->offset;
  for (int64_t i = 0; i < count; ++i)
    target[i * out->strides[0]] = source[i * in->strides[0]];
  ProcessGroup *group = currentGroup;
  if (!group || group->size() == 1)
    return;
  // Compiled buffers are dense (bufferization's identity layouts); a
  // strided one would be packed here first.
  if (out->strides[0] != 1) {
    std::fprintf(stderr, "bism: all_reduce_mean on a strided buffer\n");
    group->abort(70);
  }
  group->allReduceSum(target, count);
  T scale = T(1) / T(group->size());
  for (int64_t i = 0; i < count; ++i)
    target[i] *= scale;
}

int positiveEnv(const char *name) {
  const char *value = std::getenv(name);
  if (!value || !*value)
    return 0;
  char *end = nullptr;
  long parsed = std::strtol(value, &end, 10);
  return *end == '\0' && parsed > 0 && parsed < INT_MAX ? int(parsed) : 0;
}

#ifdef BISM_HAVE_MPI
class MpiWorld final : public ProcessGroup {
public:
  MpiWorld() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~MpiWorld() override {
    if (currentGroup == this)
      currentGroup = nullptr;
    MPI_Finalize();
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void allReduceSum(float *data, int64_t count) override {
    reduce(data, count, MPI_FLOAT);
  }
  void allReduceSum(double *data, int64_t count) override {
    reduce(data, count, MPI_DOUBLE);
  }
  void barrier() override { MPI_Barrier(MPI_COMM_WORLD); }
  void broadcast(void *data, int64_t bytes, int root) override {
    for (int64_t start = 0; start < bytes; start += INT_MAX)
      MPI_Bcast(static_cast<char *>(data) + start,
                int(std::min<int64_t>(INT_MAX, bytes - start)), MPI_BYTE,
                root, MPI_COMM_WORLD);
  }
  [[noreturn]] void abort(int exitCode) override {
    MPI_Abort(MPI_COMM_WORLD, exitCode);
    std::exit(exitCode); // MPI_Abort does not return; for the compiler
  }

private:
  template <typename T>
  void reduce(T *data, int64_t count, MPI_Datatype type) {
    // MPI counts are int: chunks of at most INT_MAX elements.
    for (int64_t start = 0; start < count; start += INT_MAX) {
      int chunk = int(std::min<int64_t>(INT_MAX, count - start));
      MPI_Allreduce(MPI_IN_PLACE, data + start, chunk, type, MPI_SUM,
                    MPI_COMM_WORLD);
    }
  }
  int rank_ = 0, size_ = 1;
};
#endif
} // namespace

void setProcessGroup(ProcessGroup *group) { currentGroup = group; }
ProcessGroup *processGroup() { return currentGroup; }

int launcherWorldSize() {
  // Open MPI's mpirun, then MPICH's Hydra and Slurm's PMI.
  for (const char *name : {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE"})
    if (int size = positiveEnv(name))
      return size;
  return 1;
}

int launcherLocalRank() {
  // positiveEnv drops 0; the first local rank is 0 anyway.
  for (const char *name :
       {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"})
    if (int rank = positiveEnv(name))
      return rank;
  return 0;
}

bool haveMpi() {
#ifdef BISM_HAVE_MPI
  return true;
#else
  return false;
#endif
}

std::unique_ptr<ProcessGroup> joinMpiWorld(std::string &error) {
  error.clear();
  int launched = launcherWorldSize();
  if (launched <= 1)
    return nullptr;
#ifdef BISM_HAVE_MPI
  int provided = 0;
  if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) !=
      MPI_SUCCESS) {
    error = "MPI_Init_thread failed";
    return nullptr;
  }
  return std::make_unique<MpiWorld>();
#else
  error = "started by mpirun as one of " + std::to_string(launched) +
          " processes, but this bism was built without MPI; install Open "
          "MPI (libopenmpi-dev, openmpi-bin; scripts/deps.sh does) and "
          "rebuild, or run one process";
  return nullptr;
#endif
}

} // namespace bism::runtime

extern "C" {
void _mlir_ciface_bism_rt_all_reduce_mean_f32(
    bism::runtime::MemRefDescriptor<float, 1> *in,
    bism::runtime::MemRefDescriptor<float, 1> *out) {
  bism::runtime::allReduceMean(in, out);
}
void _mlir_ciface_bism_rt_all_reduce_mean_f64(
    bism::runtime::MemRefDescriptor<double, 1> *in,
    bism::runtime::MemRefDescriptor<double, 1> *out) {
  bism::runtime::allReduceMean(in, out);
}
}
