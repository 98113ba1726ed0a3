//===- CudaExecutor.h - runs compiled training steps on a GPU ---*- C++ -*-===//
//
// The runtime half of the CUDA back end. Compiled host code calls the MLIR
// GPU runtime ABI (the mgpu* functions, with MLIR 22's signatures) and the
// cuBLAS entry points below; the JIT defines them as absolute symbols from
// jitSymbols(). The driver (libcuda.so.1) and cuBLAS (libcublas.so.13/.12)
// are opened with dlopen, never linked: on a machine without them every
// call records why, and nothing crashes.
//
// Design (CudaExecutor.cpp's header comment has the details):
//  - one device (ordinal 0 unless mgpuSetDefaultDevice says otherwise before
//    the first use), its primary context made current on each calling
//    thread, and ONE non-blocking stream owned by the executor. Every kernel,
//    copy, allocation and cuBLAS call is ordered on it (a null stream
//    argument means it too), so a compiled step needs no host
//    synchronisation inside it;
//  - device memory comes from the device's default memory pool with
//    cuMemAllocAsync / cuMemFreeAsync on that stream; the pool keeps what is
//    freed (release threshold UINT64_MAX), so a steady-state step makes no
//    driver allocation, and allocations can be captured into CUDA graphs;
//  - errors are sticky: the first failing call records its message, and the
//    calls after it do nothing (except synchronising and releasing) until
//    takeError() or synchronize() hands the message over.
//
//===----------------------------------------------------------------------===//
#ifndef BISM_RUNTIME_CUDAEXECUTOR_H
#define BISM_RUNTIME_CUDAEXECUTOR_H

#include "bism/runtime/MemRef.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bism::runtime::cuda {

/// Returns the first error recorded since the last call, and clears it; ""
/// when there was none.
std::string takeError();

/// Waits for everything queued on the executor's stream, then returns
/// takeError(). It waits even when an error is pending (so no copy is still
/// writing into host memory afterwards); during a stream capture it records
/// an error instead (end the capture first).
std::string synchronize();

/// Stream-ordered device memory from the pool (null for 0 bytes or on
/// error); deviceFree(nullptr) does nothing.
void *deviceAlloc(size_t bytes);
void deviceFree(void *pointer);

/// Asynchronous copies on the executor's stream. The host memory may be
/// pageable; `dst` of copyToHost is valid after synchronize(). Host copies do
/// not belong inside a stream capture.
void copyToDevice(void *dst, const void *src, size_t bytes);
void copyToHost(void *dst, const void *src, size_t bytes);

/// The compute capability of the executor's device: "" on success, else why
/// not (unavailableReason() when CUDA is unavailable). Records no error.
std::string computeCapability(int &major, int &minor);

/// Whether cuBLAS may use TF32 tensor cores for f32 products (default
/// false: CUBLAS_DEFAULT_MATH, which never computes with fewer mantissa
/// bits than the data type; true: CUBLAS_TF32_TENSOR_OP_MATH).
void setAllowTf32(bool allow);
bool allowTf32();

/// Why cuBLAS cannot be loaded ("" when libcublas and every entry point the
/// executor uses were found). Loads the library; needs no GPU.
std::string cublasUnavailableReason();

/// Why NCCL cannot be loaded ("" when libnccl.so.2 and every entry point
/// the executor uses were found). Loads the library; needs no GPU.
std::string ncclUnavailableReason();

/// A function the compiled host code calls, for the JIT's symbol map.
struct Symbol {
  const char *name;
  void *address;
};

/// Every mgpu* function below and the _mlir_ciface_bism_rt_cublas_* entry
/// points, each once.
std::vector<Symbol> jitSymbols();

/// For reports. `launches` counts successful mgpuLaunchKernel calls (a
/// kernel captured into a graph counts once, at capture); `cublasCalls` the
/// cuBLAS products issued (an empty product issues none); `graphLaunches`
/// StepGraph replays; `driverAllocations` the device allocations that made
/// the memory pool reserve more memory from the driver (its
/// CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT grew across the cuMemAllocAsync),
/// plus managed allocations. Allocations made inside a capture come from the
/// graph's own memory and are not counted.
struct Counters {
  uint64_t launches = 0;
  uint64_t cublasCalls = 0;
  uint64_t driverAllocations = 0;
  uint64_t graphLaunches = 0;
};
Counters counters();
void resetCounters();

/// A training step recorded as a CUDA graph. Between beginCapture() and
/// endCapture() (called on the same thread), the work the mgpu*/cuBLAS calls
/// queue on the executor's stream is recorded, not run; replay() then runs
/// it on the stream. A replay reads and writes the same device addresses as
/// the captured calls did: inputs go into the same buffers before each
/// replay. Memory allocated inside the capture has a fixed address for the
/// graph's life, and what the graph does not free itself is freed when it is
/// launched again (CUDA_GRAPH_INSTANTIATE_FLAG_AUTO_FREE_ON_LAUNCH).
///
/// Capture mode is CU_STREAM_CAPTURE_MODE_THREAD_LOCAL: a call that is not
/// capturable (a synchronous cuMemAlloc or copy, a synchronisation) made by
/// the capturing thread fails the capture instead of running once at capture
/// time and silently missing from every replay (RELAXED would allow that),
/// while other threads (data loading, CPU kernels) are not restricted
/// (GLOBAL would restrict them). Inside a capture the executor turns
/// mgpuStreamSynchronize and mgpuEventSynchronize into no-ops (the compiled
/// code ends with one) and creates the cuBLAS handle with its workspace
/// beforehand.
///
/// Failures are recorded in the sticky error; the methods return false
/// then.
class StepGraph {
public:
  StepGraph() = default;
  ~StepGraph();
  StepGraph(const StepGraph &) = delete;
  StepGraph &operator=(const StepGraph &) = delete;
  StepGraph(StepGraph &&other) noexcept;
  StepGraph &operator=(StepGraph &&other) noexcept;

  /// Starts recording the executor's stream (dropping a graph captured
  /// before). Only one capture at a time.
  bool beginCapture();
  /// Stops recording and instantiates the graph. Always ends the capture;
  /// fails if any call inside it failed.
  bool endCapture();
  /// Queues the graph on the executor's stream.
  bool replay();
  /// Ends a capture in progress and releases the graph.
  void destroy();

  bool capturing() const { return capturing_; }
  /// Whether a graph is instantiated, ready to replay.
  bool ready() const { return exec_ != nullptr; }

private:
  void *exec_ = nullptr; // CUgraphExec
  bool capturing_ = false;
};

namespace detail {

/// A matrix operand of a product: `data` points at element (0, 0) of the
/// first batch entry; strides in elements.
struct MatrixOperand {
  const void *data = nullptr;
  int64_t batch = 1, rows = 0, cols = 0;
  int64_t batchStride = 0, rowStride = 0, colStride = 0;
};

/// A row-major product as cuBLAS (column-major) computes it:
/// C' = op(First) * op(Second) + C' in column-major terms, where C' is the
/// output's storage seen column-major, with `batch` entries `stride*`
/// elements apart.
struct GemmPlan {
  bool transposeFirst = false, transposeSecond = false;
  int64_t m = 0, n = 0, k = 0, batch = 1;
  const void *first = nullptr;
  int64_t ldFirst = 0, strideFirst = 0;
  const void *second = nullptr;
  int64_t ldSecond = 0, strideSecond = 0;
  void *out = nullptr;
  int64_t ldOut = 0, strideOut = 0;
};

/// Plans out += op(lhs) * op(rhs) (the CPU entry points' semantics) for
/// cuBLAS: "" and `plan`, or why not (shapes disagree, an operand with unit
/// stride in neither dimension, a size beyond cuBLAS's 32-bit integers).
/// Row- and column-major operands are both accepted.
std::string planGemm(const MatrixOperand &lhs, bool transposeLhs,
                     const MatrixOperand &rhs, bool transposeRhs,
                     const MatrixOperand &out, GemmPlan &plan);

} // namespace detail

} // namespace bism::runtime::cuda

// The MLIR GPU runtime ABI (MLIR 22's CudaRuntimeWrappers.cpp signatures),
// and the cuBLAS products: out += op(lhs) * op(rhs) on device memory, the
// semantics of Blas.h's CPU entry points.
extern "C" {
void *mgpuModuleLoad(void *data, size_t gpuBlobSize);
void *mgpuModuleLoadJIT(void *data, int optLevel);
void mgpuModuleUnload(void *module);
void *mgpuModuleGetFunction(void *module, const char *name);
void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t smem, void *stream,
                      void **params, void **extra, size_t paramsCount);
void *mgpuStreamCreate(void);
void mgpuStreamDestroy(void *stream);
void mgpuStreamSynchronize(void *stream);
void mgpuStreamWaitEvent(void *stream, void *event);
void *mgpuEventCreate(void);
void mgpuEventDestroy(void *event);
void mgpuEventSynchronize(void *event);
void mgpuEventRecord(void *event, void *stream);
void *mgpuMemAlloc(uint64_t sizeBytes, void *stream, bool isHostShared);
void mgpuMemFree(void *ptr, void *stream);
void mgpuMemcpy(void *dst, void *src, size_t sizeBytes, void *stream);
void mgpuMemset32(void *dst, unsigned int value, size_t count, void *stream);
void mgpuMemset16(void *dst, unsigned short value, size_t count, void *stream);
void mgpuSetDefaultDevice(int32_t device);

void _mlir_ciface_bism_rt_cublas_gemm_f32(
    bism::runtime::MemRefDescriptor<float, 2> *lhs,
    bism::runtime::MemRefDescriptor<float, 2> *rhs,
    bism::runtime::MemRefDescriptor<float, 2> *out, int64_t transposeLhs,
    int64_t transposeRhs);
void _mlir_ciface_bism_rt_cublas_gemm_f64(
    bism::runtime::MemRefDescriptor<double, 2> *lhs,
    bism::runtime::MemRefDescriptor<double, 2> *rhs,
    bism::runtime::MemRefDescriptor<double, 2> *out, int64_t transposeLhs,
    int64_t transposeRhs);
void _mlir_ciface_bism_rt_cublas_batch_gemm_f32(
    bism::runtime::MemRefDescriptor<float, 3> *lhs,
    bism::runtime::MemRefDescriptor<float, 3> *rhs,
    bism::runtime::MemRefDescriptor<float, 3> *out, int64_t transposeLhs,
    int64_t transposeRhs);
void _mlir_ciface_bism_rt_cublas_batch_gemm_f64(
    bism::runtime::MemRefDescriptor<double, 3> *lhs,
    bism::runtime::MemRefDescriptor<double, 3> *rhs,
    bism::runtime::MemRefDescriptor<double, 3> *out, int64_t transposeLhs,
    int64_t transposeRhs);
/// bism.all_reduce_mean on the device: out ← the mean over the process
/// group (Collective.h) of every rank's in, by NCCL (a copy in one process).
void _mlir_ciface_bism_rt_nccl_all_reduce_mean_f32(
    bism::runtime::MemRefDescriptor<float, 1> *in,
    bism::runtime::MemRefDescriptor<float, 1> *out);
void _mlir_ciface_bism_rt_nccl_all_reduce_mean_f64(
    bism::runtime::MemRefDescriptor<double, 1> *in,
    bism::runtime::MemRefDescriptor<double, 1> *out);
}

#endif // BISM_RUNTIME_CUDAEXECUTOR_H
