//===- Collective.h - the ranks of a data-parallel run ----------*- C++ -*-===//
//
// A training step built for P ranks (docs/training.md, "Data parallel")
// averages its batch-mean gradients and metrics over the ranks with
// bism.all_reduce_mean, which compiled code calls as
// bism_rt_all_reduce_mean_<f32|f64>. Those go to the process group set here:
// MPI's world under mpirun (when bism was built with MPI), or none, which
// makes the mean over one rank, a copy.
//
//===----------------------------------------------------------------------===//
#ifndef BISM_RUNTIME_COLLECTIVE_H
#define BISM_RUNTIME_COLLECTIVE_H

#include "bism/runtime/MemRef.h"

#include <cstdint>
#include <memory>
#include <string>

namespace bism::runtime {

class ProcessGroup {
public:
  virtual ~ProcessGroup() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// In place: data[i] ← Σ over the ranks of their data[i]. Every rank
  /// calls it with the same count, in the same order.
  virtual void allReduceSum(float *data, int64_t count) = 0;
  virtual void allReduceSum(double *data, int64_t count) = 0;
  /// Returns once every rank has called it.
  virtual void barrier() = 0;
  /// `bytes` at `data` on rank `root` copied to every other rank's `data`.
  virtual void broadcast(void *data, int64_t bytes, int root) = 0;
  /// Ends the run on every rank (a rank that fails alone would leave the
  /// others waiting in a collective).
  [[noreturn]] virtual void abort(int exitCode) = 0;
};

/// The group compiled steps average over (null: one process).
void setProcessGroup(ProcessGroup *group);
ProcessGroup *processGroup();

/// The process count the launcher (mpirun, srun) gave this process, from
/// its environment; 1 when not launched by one.
int launcherWorldSize();

/// This process's index among the launcher's processes on its host (0 when
/// not launched by one): which GPU it takes.
int launcherLocalRank();

/// Whether this build can join an MPI world.
bool haveMpi();

/// Joins MPI's world (MPI_Init_thread, funneled) when launched by mpirun
/// with more than one process; null with `error` empty otherwise. On a
/// build without MPI, under mpirun with several processes, null with an
/// error that says so. The group finalizes MPI when destroyed.
std::unique_ptr<ProcessGroup> joinMpiWorld(std::string &error);

} // namespace bism::runtime

extern "C" {
/// out ← the mean over the process group of every rank's in (1-D views).
void _mlir_ciface_bism_rt_all_reduce_mean_f32(
    bism::runtime::MemRefDescriptor<float, 1> *in,
    bism::runtime::MemRefDescriptor<float, 1> *out);
void _mlir_ciface_bism_rt_all_reduce_mean_f64(
    bism::runtime::MemRefDescriptor<double, 1> *in,
    bism::runtime::MemRefDescriptor<double, 1> *out);
}

#endif // BISM_RUNTIME_COLLECTIVE_H
