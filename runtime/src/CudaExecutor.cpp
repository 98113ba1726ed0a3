//===- CudaExecutor.cpp - runs compiled training steps on a GPU -----------===//
//
// The functions compiled GPU host code calls: the MLIR GPU runtime ABI
// (mgpu*, MLIR 22's signatures; Debian ships no libmlir_cuda_runtime.so) and
// cuBLAS products, on the driver and cuBLAS opened with dlopen (never
// linked, so CPU-only machines keep working). No MLIR or LLVM headers.
//
// Design:
//  - One device: ordinal 0, or what mgpuSetDefaultDevice set before the
//    executor's first use (afterwards another ordinal is an error). Its
//    primary context (cuDevicePrimaryCtxRetain) is made current on each
//    calling thread when it is not already.
//  - ONE stream, owned by the executor, created on first use with
//    CU_STREAM_NON_BLOCKING. mgpuStreamCreate returns it, mgpuStreamDestroy
//    does nothing, mgpuStreamSynchronize waits for it; a null stream argument
//    means it too. Every kernel, copy, memset, allocation and cuBLAS call is
//    ordered on it, so compiled host code needs no host synchronisation
//    inside a step, and a whole step can be captured into a CUDA graph.
//  - Device memory: mgpuMemAlloc is cuMemAllocAsync on the stream from the
//    device's default memory pool, whose CU_MEMPOOL_ATTR_RELEASE_THRESHOLD is
//    set to UINT64_MAX once: freed memory (cuMemFreeAsync) stays in the pool
//    and a steady-state step makes no driver allocation. isHostShared=true
//    is cuMemAllocManaged (freed after waiting for the stream, outside
//    captures only). Stream-ordered allocation is also what capture needs.
//  - Errors: the ABI returns void or pointers, so a failing call records the
//    FIRST error message in a process-wide sticky error (mutex-protected),
//    naming the call ("cuLaunchKernel(score_k1_kernel): CUDA_ERROR_...:
//    <text>"), and later calls do nothing (returning null) until the error is
//    taken (takeError, synchronize). Exceptions: synchronising still waits,
//    and releases (module unload, event destroy, free) still release, so no
//    copy writes into freed host memory and nothing leaks. Without the driver
//    every call records unavailableReason(). Nothing aborts or exits.
//  - cuBLAS: one handle, created lazily (or by StepGraph::beginCapture), bound
//    to the stream, with a 32 MiB workspace from cuMemAlloc (so products can
//    be captured), pointer mode host, alpha = beta = 1 (out += ...).
//    f32 math mode: CUBLAS_DEFAULT_MATH unless setAllowTf32(true) (then
//    CUBLAS_TF32_TENSOR_OP_MATH). DEFAULT_MATH is documented to compute with
//    at least the mantissa and exponent bits of the requested type, which
//    excludes TF32's 10-bit mantissa; PEDANTIC_MATH would exclude it too but
//    may also give up faster kernels that are exact to the type (FP64 tensor
//    cores on sm_80+), and CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION
//    only concerns half-precision outputs.
//  - NCCL (data parallel: bism.all_reduce_mean in a step compiled for the
//    GPU): libnccl.so.2 opened with dlopen like cuBLAS; one communicator
//    over the runtime's process group (processGroup(), MPI under mpirun),
//    made on first use from rank 0's ncclUniqueId broadcast over the group;
//    ncclAllReduce with ncclAvg on the executor's stream, so it is ordered
//    with the step's kernels and can be captured. In one process the mean
//    is a device-to-device copy.
//  - The executor's state lives for the process and is never destroyed
//    (calling the driver from static destructors at exit is unsafe).
//
//===----------------------------------------------------------------------===//
#include "bism/runtime/CudaExecutor.h"
#include "bism/runtime/Collective.h"
#include "bism/runtime/CudaDriver.h"

#if BISM_HAVE_CUDA_HEADERS
#include <cublas_v2.h>
#include <cuda.h>
#include <dlfcn.h>
// NCCL ships with the toolkit here; a toolkit without it still builds, and
// the NCCL entry points then say so.
#if __has_include(<nccl.h>)
#include <nccl.h>
#define BISM_HAVE_NCCL_HEADERS 1
#endif
#endif
#ifndef BISM_HAVE_NCCL_HEADERS
#define BISM_HAVE_NCCL_HEADERS 0
#endif

#include <algorithm>
#include <atomic>
#include <climits>
#include <initializer_list>
#include <cstring>
#include <map>
#include <mutex>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>

using bism::runtime::MemRefDescriptor;

namespace bism::runtime::cuda {

//===----------------------------------------------------------------------===//
// The sticky error and the counters (with or without CUDA)
//===----------------------------------------------------------------------===//

namespace {

struct ErrorState {
  std::mutex mutex;
  std::string message; // the first error since the last take
  std::atomic<bool> pending{false};
};

ErrorState &errorState() {
  static ErrorState *state = new ErrorState; // never destroyed
  return *state;
}

bool errorPending() {
  return errorState().pending.load(std::memory_order_acquire);
}

void recordError(const std::string &message) {
  ErrorState &state = errorState();
  std::lock_guard<std::mutex> lock(state.mutex);
  if (!state.pending.load(std::memory_order_relaxed)) {
    state.message = message.empty() ? "CUDA executor: unknown error" : message;
    state.pending.store(true, std::memory_order_release);
  }
}

struct AtomicCounters {
  std::atomic<uint64_t> launches{0}, cublasCalls{0}, driverAllocations{0},
      graphLaunches{0};
};

AtomicCounters &atomicCounters() {
  static AtomicCounters *counters = new AtomicCounters;
  return *counters;
}

[[maybe_unused]] void bump(std::atomic<uint64_t> &counter) {
  counter.fetch_add(1, std::memory_order_relaxed);
}

/// cuBLAS's integers are 32-bit.
bool fitsInt(int64_t v) { return v >= 0 && v <= INT_MAX; }

std::string shapeText(const detail::MatrixOperand &v, bool transposed) {
  std::string text = std::to_string(v.rows) + "x" + std::to_string(v.cols);
  if (v.batch != 1)
    text = std::to_string(v.batch) + "x" + text;
  return transposed ? text + " (transposed)" : text;
}

/// How a strided view reaches cuBLAS: row-major (unit column stride) or
/// column-major (unit row stride), with its leading dimension. Sizes of 1
/// make either stride irrelevant, as in Blas.cpp.
struct Layout {
  bool ok = false;
  bool rowMajor = true;
  int64_t ld = 0;
};

Layout layoutOf(const detail::MatrixOperand &v) {
  int64_t rows = v.rows, cols = v.cols;
  if ((v.colStride == 1 || cols <= 1) &&
      (v.rowStride >= std::max<int64_t>(1, cols) || rows <= 1))
    return {true, true, rows <= 1 ? std::max<int64_t>(1, cols) : v.rowStride};
  if ((v.rowStride == 1 || rows <= 1) &&
      (v.colStride >= std::max<int64_t>(1, rows) || cols <= 1))
    return {true, false, cols <= 1 ? std::max<int64_t>(1, rows) : v.colStride};
  return {};
}

std::string layoutError(const char *which, const detail::MatrixOperand &v) {
  return std::string(which) + " " + shapeText(v, false) + " with strides [" +
         std::to_string(v.rowStride) + ", " + std::to_string(v.colStride) +
         "] has a unit stride in neither dimension (cuBLAS needs one)";
}

} // namespace

std::string takeError() {
  ErrorState &state = errorState();
  std::lock_guard<std::mutex> lock(state.mutex);
  std::string message;
  if (state.pending.load(std::memory_order_relaxed))
    message.swap(state.message);
  state.message.clear();
  state.pending.store(false, std::memory_order_release);
  return message;
}

Counters counters() {
  AtomicCounters &c = atomicCounters();
  Counters result;
  result.launches = c.launches.load(std::memory_order_relaxed);
  result.cublasCalls = c.cublasCalls.load(std::memory_order_relaxed);
  result.driverAllocations =
      c.driverAllocations.load(std::memory_order_relaxed);
  result.graphLaunches = c.graphLaunches.load(std::memory_order_relaxed);
  return result;
}

void resetCounters() {
  AtomicCounters &c = atomicCounters();
  c.launches.store(0, std::memory_order_relaxed);
  c.cublasCalls.store(0, std::memory_order_relaxed);
  c.driverAllocations.store(0, std::memory_order_relaxed);
  c.graphLaunches.store(0, std::memory_order_relaxed);
}

//===----------------------------------------------------------------------===//
// Planning a row-major product for column-major cuBLAS
//===----------------------------------------------------------------------===//

// A row-major matrix X with leading dimension ld is, read column-major, the
// matrix Xᵀ with the same ld; a column-major one is X itself. So each operand
// is a column-major stored matrix S and a flag t with op(X) = t ? Sᵀ : S,
// t = (row-major != transposed). A column-major output C = op(lhs)·op(rhs)
// is then one call as is; a row-major output is computed as
// Cᵀ = op(rhs)ᵀ·op(lhs)ᵀ: operands swapped, flags negated, m and n swapped.
std::string detail::planGemm(const MatrixOperand &lhs, bool transposeLhs,
                             const MatrixOperand &rhs, bool transposeRhs,
                             const MatrixOperand &out, GemmPlan &plan) {
  plan = GemmPlan();
  int64_t m = transposeLhs ? lhs.cols : lhs.rows;
  int64_t k = transposeLhs ? lhs.rows : lhs.cols;
  int64_t kr = transposeRhs ? rhs.cols : rhs.rows;
  int64_t n = transposeRhs ? rhs.rows : rhs.cols;
  if (k != kr || out.rows != m || out.cols != n || lhs.batch != out.batch ||
      rhs.batch != out.batch)
    return "operand shapes do not agree: lhs " + shapeText(lhs, transposeLhs) +
           ", rhs " + shapeText(rhs, transposeRhs) + ", out " +
           shapeText(out, false);
  if (m <= 0 || n <= 0 || k <= 0 || out.batch <= 0) {
    plan.batch = 0; // nothing to do
    return "";
  }
  Layout a = layoutOf(lhs), b = layoutOf(rhs), c = layoutOf(out);
  if (!a.ok)
    return layoutError("lhs", lhs);
  if (!b.ok)
    return layoutError("rhs", rhs);
  if (!c.ok)
    return layoutError("out", out);
  bool tA = a.rowMajor != transposeLhs, tB = b.rowMajor != transposeRhs;
  if (c.rowMajor) {
    plan.transposeFirst = !tB;
    plan.first = rhs.data;
    plan.ldFirst = b.ld;
    plan.strideFirst = rhs.batchStride;
    plan.transposeSecond = !tA;
    plan.second = lhs.data;
    plan.ldSecond = a.ld;
    plan.strideSecond = lhs.batchStride;
    plan.m = n;
    plan.n = m;
  } else {
    plan.transposeFirst = tA;
    plan.first = lhs.data;
    plan.ldFirst = a.ld;
    plan.strideFirst = lhs.batchStride;
    plan.transposeSecond = tB;
    plan.second = rhs.data;
    plan.ldSecond = b.ld;
    plan.strideSecond = rhs.batchStride;
    plan.m = m;
    plan.n = n;
  }
  plan.k = k;
  plan.batch = out.batch;
  plan.out = const_cast<void *>(out.data);
  plan.ldOut = c.ld;
  plan.strideOut = out.batchStride;
  if (!fitsInt(plan.m) || !fitsInt(plan.n) || !fitsInt(plan.k) ||
      !fitsInt(plan.batch) || !fitsInt(plan.ldFirst) ||
      !fitsInt(plan.ldSecond) || !fitsInt(plan.ldOut)) {
    std::string why = "a size or leading dimension exceeds cuBLAS's 32-bit "
                      "integers: lhs " +
                      shapeText(lhs, transposeLhs) + ", rhs " +
                      shapeText(rhs, transposeRhs);
    plan = GemmPlan();
    return why;
  }
  return "";
}

namespace {

template <typename T>
detail::MatrixOperand operandOf(MemRefDescriptor<T, 2> *d) {
  detail::MatrixOperand v;
  v.data = d->aligned + d->offset;
  v.rows = d->sizes[0];
  v.cols = d->sizes[1];
  v.rowStride = d->strides[0];
  v.colStride = d->strides[1];
  return v;
}

template <typename T>
detail::MatrixOperand operandOf(MemRefDescriptor<T, 3> *d) {
  detail::MatrixOperand v;
  v.data = d->aligned + d->offset;
  v.batch = d->sizes[0];
  v.rows = d->sizes[1];
  v.cols = d->sizes[2];
  v.batchStride = d->strides[0];
  v.rowStride = d->strides[1];
  v.colStride = d->strides[2];
  return v;
}

template <typename T>
void runGemm(const char *entry, const detail::GemmPlan &plan);

/// out ← the mean over the process group of every rank's in, on the
/// device (the NCCL entry points).
template <typename T>
void ncclAllReduceMean(const char *entry, MemRefDescriptor<T, 1> *in,
                       MemRefDescriptor<T, 1> *out);

/// The cuBLAS entry points: plan on the host (errors need no GPU), then run.
template <typename T, int Rank>
void gemmEntry(const char *entry, MemRefDescriptor<T, Rank> *lhs,
               MemRefDescriptor<T, Rank> *rhs, MemRefDescriptor<T, Rank> *out,
               int64_t transposeLhs, int64_t transposeRhs) {
  if (errorPending())
    return;
  detail::GemmPlan plan;
  std::string why =
      detail::planGemm(operandOf(lhs), transposeLhs != 0, operandOf(rhs),
                       transposeRhs != 0, operandOf(out), plan);
  if (!why.empty()) {
    recordError(std::string(entry) + ": " + why);
    return;
  }
  if (plan.batch == 0)
    return;
  runGemm<T>(entry, plan);
}

} // namespace

#if BISM_HAVE_CUDA_HEADERS

//===----------------------------------------------------------------------===//
// The executor
//===----------------------------------------------------------------------===//

namespace {

using detail::describe;
using detail::Driver;
using detail::driver;

constexpr size_t kCublasWorkspaceBytes = size_t(32) << 20;

struct Executor {
  std::mutex mutex; // initialisation, the function cache, managed pointers
  std::atomic<bool> ready{false};
  bool initFailed = false;
  std::string initError;
  int ordinal = 0;
  CUdevice device = 0;
  CUcontext context = nullptr;
  CUstream stream = nullptr;
  CUmemoryPool pool = nullptr;
  std::atomic<bool> capturing{false};

  struct CachedFunction {
    std::string name;
    CUfunction function = nullptr;
  };
  // (module, name pointer) -> function. Names are constant globals of the
  // compiled code; the stored name guards against a reused address.
  std::map<std::pair<CUmodule, const char *>, CachedFunction> functions;
  std::unordered_map<CUfunction, std::string> functionNames;
  std::unordered_set<void *> managed;
};

Executor &executor() {
  static Executor *e = new Executor; // never destroyed
  return *e;
}

std::string callError(const std::string &call, CUresult result) {
  return call + ": " + describe(result);
}

bool ok(CUresult result, const char *call) {
  if (result == CUDA_SUCCESS)
    return true;
  recordError(callError(call, result));
  return false;
}

bool ok(CUresult result, const char *call, const std::string &detail) {
  if (result == CUDA_SUCCESS)
    return true;
  recordError(callError(std::string(call) + "(" + detail + ")", result));
  return false;
}

/// Creates the context, stream and pool (under e.mutex): "" or why not.
std::string initialise(Executor &e) {
  const Driver &d = driver();
  if (!d.unavailable.empty())
    return d.unavailable;
  if (e.initFailed)
    return e.initError;
  auto fail = [&](std::string why) {
    e.initFailed = true;
    e.initError = "CUDA executor: " + why;
    return e.initError;
  };
  std::string device = "device " + std::to_string(e.ordinal);
  if (CUresult r = d.deviceGet(&e.device, e.ordinal); r != CUDA_SUCCESS)
    return fail(callError("cuDeviceGet(" + std::to_string(e.ordinal) + ")", r));
  int pools = 0;
  if (CUresult r = d.deviceGetAttribute(
          &pools, CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED, e.device);
      r != CUDA_SUCCESS)
    return fail(callError("cuDeviceGetAttribute(MEMORY_POOLS_SUPPORTED)", r));
  if (!pools)
    return fail(device + " does not support stream-ordered memory pools");
  if (CUresult r = d.devicePrimaryCtxRetain(&e.context, e.device);
      r != CUDA_SUCCESS)
    return fail(callError("cuDevicePrimaryCtxRetain(" + device + ")", r));
  if (CUresult r = d.ctxSetCurrent(e.context); r != CUDA_SUCCESS)
    return fail(callError("cuCtxSetCurrent", r));
  if (CUresult r = d.streamCreate(&e.stream, CU_STREAM_NON_BLOCKING);
      r != CUDA_SUCCESS)
    return fail(callError("cuStreamCreate", r));
  if (CUresult r = d.deviceGetDefaultMemPool(&e.pool, e.device);
      r != CUDA_SUCCESS)
    return fail(callError("cuDeviceGetDefaultMemPool(" + device + ")", r));
  cuuint64_t threshold = UINT64_MAX;
  if (CUresult r = d.memPoolSetAttribute(
          e.pool, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD, &threshold);
      r != CUDA_SUCCESS)
    return fail(callError("cuMemPoolSetAttribute(RELEASE_THRESHOLD)", r));
  e.ready.store(true, std::memory_order_release);
  return "";
}

bool makeCurrent(Executor &e) {
  const Driver &d = driver();
  CUcontext current = nullptr;
  if (d.ctxGetCurrent(&current) == CUDA_SUCCESS && current == e.context)
    return true;
  return ok(d.ctxSetCurrent(e.context), "cuCtxSetCurrent");
}

/// The executor, initialised and current on this thread; null (with the
/// error recorded) when it cannot be used, or when an error is pending
/// unless `evenAfterError` (synchronising and releasing).
Executor *use(bool evenAfterError = false) {
  if (!evenAfterError && errorPending())
    return nullptr;
  Executor &e = executor();
  if (!e.ready.load(std::memory_order_acquire)) {
    std::string why;
    {
      std::lock_guard<std::mutex> lock(e.mutex);
      if (!e.ready.load(std::memory_order_acquire))
        why = initialise(e);
    }
    if (!why.empty()) {
      recordError(why);
      return nullptr;
    }
  }
  if (!makeCurrent(e))
    return nullptr;
  return &e;
}

CUstream streamOf(Executor &e, void *stream) {
  return stream ? static_cast<CUstream>(stream) : e.stream;
}

std::string kernelName(Executor &e, CUfunction function) {
  {
    std::lock_guard<std::mutex> lock(e.mutex);
    auto it = e.functionNames.find(function);
    if (it != e.functionNames.end())
      return it->second;
  }
  const Driver &d = driver();
  const char *name = nullptr;
  if (d.funcGetName && d.funcGetName(&name, function) == CUDA_SUCCESS && name)
    return name;
  return "";
}

//===----------------------------------------------------------------------===//
// cuBLAS
//===----------------------------------------------------------------------===//

#define BISM_CUBLAS_STRINGIFY_EXPANDED(x) BISM_CUBLAS_STRINGIFY(x)
#define BISM_CUBLAS_STRINGIFY(x) #x

/// dlopen (RTLD_LOCAL) of the first of `names` that loads; null with the
/// loader's reasons in `tried` when none does.
void *openFirstLibrary(std::initializer_list<const char *> names,
                       std::string &loadedName, std::string &tried) {
  for (const char *name : names) {
    if (void *library = dlopen(name, RTLD_NOW | RTLD_LOCAL)) {
      loadedName = name;
      return library;
    }
    const char *reason = dlerror();
    tried += std::string(tried.empty() ? "" : "; ") + (reason ? reason : name);
  }
  return nullptr;
}

/// Entry points of a dlopen'ed library; `missing` names the first not found.
struct EntryPoints {
  void *library;
  std::string missing;
  template <typename Function> void find(Function &function, const char *name) {
    function = reinterpret_cast<Function>(dlsym(library, name));
    if (!function && missing.empty())
      missing = name;
  }
};

/// The cuBLAS entry points, types from cublas_v2.h (cublasSgemm is the macro
/// for cublasSgemm_v2; the name looked up is the same expansion).
struct CublasLibrary {
  decltype(&::cublasCreate) create = nullptr;
  decltype(&::cublasDestroy) destroy = nullptr;
  decltype(&::cublasSetStream) setStream = nullptr;
  decltype(&::cublasSetWorkspace) setWorkspace = nullptr;
  decltype(&::cublasSetPointerMode) setPointerMode = nullptr;
  decltype(&::cublasSetMathMode) setMathMode = nullptr;
  decltype(&::cublasSgemm) sgemm = nullptr;
  decltype(&::cublasDgemm) dgemm = nullptr;
  decltype(&::cublasSgemmStridedBatched) sgemmStridedBatched = nullptr;
  decltype(&::cublasDgemmStridedBatched) dgemmStridedBatched = nullptr;
  // Optional (for messages).
  decltype(&::cublasGetStatusName) getStatusName = nullptr;
  decltype(&::cublasGetStatusString) getStatusString = nullptr;
  std::string unavailable;
};

const CublasLibrary &cublasLibrary() {
  static CublasLibrary *loaded = new CublasLibrary;
  static std::once_flag once;
  std::call_once(once, [] {
    CublasLibrary &l = *loaded;
    std::string tried, loadedName;
    void *library = openFirstLibrary(
        {"libcublas.so.13", "libcublas.so.12", "libcublas.so"}, loadedName,
        tried);
    if (!library) {
      l.unavailable = "cuBLAS unavailable: libcublas.so.13, libcublas.so.12 "
                      "and libcublas.so not found (" +
                      tried + ")";
      return;
    }
    EntryPoints entries{library, ""};
#define BISM_CUBLAS_FIND(field, function)                                      \
  entries.find(l.field, BISM_CUBLAS_STRINGIFY_EXPANDED(function))
    BISM_CUBLAS_FIND(create, cublasCreate);
    BISM_CUBLAS_FIND(destroy, cublasDestroy);
    BISM_CUBLAS_FIND(setStream, cublasSetStream);
    BISM_CUBLAS_FIND(setWorkspace, cublasSetWorkspace);
    BISM_CUBLAS_FIND(setPointerMode, cublasSetPointerMode);
    BISM_CUBLAS_FIND(setMathMode, cublasSetMathMode);
    BISM_CUBLAS_FIND(sgemm, cublasSgemm);
    BISM_CUBLAS_FIND(dgemm, cublasDgemm);
    BISM_CUBLAS_FIND(sgemmStridedBatched, cublasSgemmStridedBatched);
    BISM_CUBLAS_FIND(dgemmStridedBatched, cublasDgemmStridedBatched);
    if (!entries.missing.empty()) {
      l.unavailable =
          "cuBLAS unavailable: " + loadedName + " has no " + entries.missing;
      return;
    }
    BISM_CUBLAS_FIND(getStatusName, cublasGetStatusName);
    BISM_CUBLAS_FIND(getStatusString, cublasGetStatusString);
#undef BISM_CUBLAS_FIND
  });
  return *loaded;
}

std::string describe(cublasStatus_t status) {
  const CublasLibrary &l = cublasLibrary();
  std::string text = l.getStatusName
                         ? l.getStatusName(status)
                         : "cuBLAS status " + std::to_string(int(status));
  if (l.getStatusString)
    text += std::string(": ") + l.getStatusString(status);
  return text;
}

bool ok(cublasStatus_t status, const char *call) {
  if (status == CUBLAS_STATUS_SUCCESS)
    return true;
  recordError(std::string(call) + ": " + describe(status));
  return false;
}

struct CublasState {
  std::mutex mutex; // the handle is used by one thread at a time
  cublasHandle_t handle = nullptr;
  CUdeviceptr workspace = 0;
  std::atomic<bool> allowTf32{false};
};

CublasState &cublasState() {
  static CublasState *state = new CublasState; // never destroyed
  return *state;
}

cublasMath_t mathMode(bool allowTf32) {
  return allowTf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH;
}

/// The handle (created on first use, bound to the executor's stream), or
/// null with the error recorded. Caller holds cublasState().mutex.
cublasHandle_t cublasHandle(Executor &e) {
  CublasState &s = cublasState();
  if (s.handle)
    return s.handle;
  const CublasLibrary &l = cublasLibrary();
  if (!l.unavailable.empty()) {
    recordError(l.unavailable);
    return nullptr;
  }
  const Driver &d = driver();
  if (!s.workspace && !ok(d.memAlloc(&s.workspace, kCublasWorkspaceBytes),
                          "cuMemAlloc", "cuBLAS workspace"))
    return nullptr;
  cublasHandle_t handle = nullptr;
  if (!ok(l.create(&handle), BISM_CUBLAS_STRINGIFY_EXPANDED(cublasCreate)))
    return nullptr;
  // cublasSetStream resets the workspace to cuBLAS's own pool: stream first.
  if (!ok(l.setStream(handle, e.stream),
          BISM_CUBLAS_STRINGIFY_EXPANDED(cublasSetStream)) ||
      !ok(l.setWorkspace(handle, reinterpret_cast<void *>(s.workspace),
                         kCublasWorkspaceBytes),
          BISM_CUBLAS_STRINGIFY_EXPANDED(cublasSetWorkspace)) ||
      !ok(l.setPointerMode(handle, CUBLAS_POINTER_MODE_HOST),
          BISM_CUBLAS_STRINGIFY_EXPANDED(cublasSetPointerMode)) ||
      !ok(l.setMathMode(handle, mathMode(s.allowTf32.load())),
          "cublasSetMathMode")) {
    l.destroy(handle);
    return nullptr;
  }
  s.handle = handle;
  return handle;
}

/// The cuBLAS product of `p` in T (float: S, double: D entry points).
template <typename T>
cublasStatus_t gemmCall(const CublasLibrary &l, cublasHandle_t h,
                        const detail::GemmPlan &p, const T *one,
                        const char *&call) {
  constexpr bool single = std::is_same_v<T, float>;
  cublasOperation_t ta = p.transposeFirst ? CUBLAS_OP_T : CUBLAS_OP_N;
  cublasOperation_t tb = p.transposeSecond ? CUBLAS_OP_T : CUBLAS_OP_N;
  auto first = static_cast<const T *>(p.first);
  auto second = static_cast<const T *>(p.second);
  auto out = static_cast<T *>(p.out);
  if (p.batch == 1) {
    call = single ? BISM_CUBLAS_STRINGIFY_EXPANDED(cublasSgemm)
                  : BISM_CUBLAS_STRINGIFY_EXPANDED(cublasDgemm);
    auto gemm = [&](auto function) {
      return function(h, ta, tb, int(p.m), int(p.n), int(p.k), one, first,
                      int(p.ldFirst), second, int(p.ldSecond), one, out,
                      int(p.ldOut));
    };
    if constexpr (single)
      return gemm(l.sgemm);
    else
      return gemm(l.dgemm);
  }
  call = single ? "cublasSgemmStridedBatched" : "cublasDgemmStridedBatched";
  auto batched = [&](auto function) {
    return function(h, ta, tb, int(p.m), int(p.n), int(p.k), one, first,
                    int(p.ldFirst), p.strideFirst, second, int(p.ldSecond),
                    p.strideSecond, one, out, int(p.ldOut), p.strideOut,
                    int(p.batch));
  };
  if constexpr (single)
    return batched(l.sgemmStridedBatched);
  else
    return batched(l.dgemmStridedBatched);
}

template <typename T>
void runGemm(const char *entry, const detail::GemmPlan &plan) {
  Executor *e = use();
  if (!e)
    return;
  CublasState &s = cublasState();
  std::lock_guard<std::mutex> lock(s.mutex);
  cublasHandle_t handle = cublasHandle(*e);
  if (!handle)
    return;
  const T one = 1; // alpha and beta: out += op(lhs) * op(rhs)
  const char *call = "";
  cublasStatus_t status = gemmCall(cublasLibrary(), handle, plan, &one, call);
  if (status != CUBLAS_STATUS_SUCCESS) {
    recordError(std::string(entry) + ": " + call + ": " + describe(status));
    return;
  }
  bump(atomicCounters().cublasCalls);
}

#if BISM_HAVE_NCCL_HEADERS
struct NcclLibrary {
  decltype(&::ncclGetUniqueId) getUniqueId = nullptr;
  decltype(&::ncclCommInitRank) commInitRank = nullptr;
  decltype(&::ncclAllReduce) allReduce = nullptr;
  decltype(&::ncclGetErrorString) getErrorString = nullptr;
  std::string unavailable;
};

const NcclLibrary &ncclLibrary() {
  static NcclLibrary *loaded = new NcclLibrary;
  static std::once_flag once;
  std::call_once(once, [] {
    NcclLibrary &l = *loaded;
    std::string tried, loadedName;
    void *library = openFirstLibrary({"libnccl.so.2"}, loadedName, tried);
    if (!library) {
      l.unavailable = "NCCL unavailable: libnccl.so.2 not found (" + tried + ")";
      return;
    }
    EntryPoints entries{library, ""};
    entries.find(l.getUniqueId, "ncclGetUniqueId");
    entries.find(l.commInitRank, "ncclCommInitRank");
    entries.find(l.allReduce, "ncclAllReduce");
    entries.find(l.getErrorString, "ncclGetErrorString");
    if (!entries.missing.empty())
      l.unavailable = "NCCL unavailable: libnccl.so.2 has no " + entries.missing;
  });
  return *loaded;
}

std::string describe(ncclResult_t result) {
  const NcclLibrary &l = ncclLibrary();
  return l.getErrorString ? l.getErrorString(result)
                          : "NCCL result " + std::to_string(int(result));
}

struct NcclState {
  std::mutex mutex;
  ncclComm_t comm = nullptr;
  const ProcessGroup *group = nullptr; // the group `comm` spans
};

NcclState &ncclState() {
  static NcclState *state = new NcclState; // never destroyed
  return *state;
}

/// The communicator over `group` (made on first use), or null with the
/// error recorded. Caller holds ncclState().mutex and made the context
/// current (use()). Every rank gets here at the same collective, so the
/// broadcast of the id cannot leave one waiting; a rank that cannot make
/// an id ends the run (the others would wait for it forever).
ncclComm_t ncclCommunicator(ProcessGroup &group) {
  NcclState &s = ncclState();
  if (s.comm) {
    if (s.group == &group)
      return s.comm;
    recordError("NCCL: the process group changed after its communicator "
                "was made");
    return nullptr;
  }
  const NcclLibrary &l = ncclLibrary();
  if (!l.unavailable.empty()) {
    recordError(l.unavailable);
    return nullptr;
  }
  ncclUniqueId id{};
  if (group.rank() == 0)
    if (ncclResult_t r = l.getUniqueId(&id); r != ncclSuccess) {
      std::fprintf(stderr, "bism: ncclGetUniqueId: %s\n", describe(r).c_str());
      group.abort(70);
    }
  group.broadcast(&id, int64_t(sizeof id), 0);
  ncclComm_t comm = nullptr;
  if (ncclResult_t r = l.commInitRank(&comm, group.size(), id, group.rank());
      r != ncclSuccess) {
    recordError("ncclCommInitRank(rank " + std::to_string(group.rank()) +
                " of " + std::to_string(group.size()) + "): " + describe(r));
    return nullptr;
  }
  s.comm = comm;
  s.group = &group;
  return comm;
}

template <typename T>
void ncclAllReduceMean(const char *entry, MemRefDescriptor<T, 1> *in,
                       MemRefDescriptor<T, 1> *out) {
  Executor *e = use();
  if (!e)
    return;
  int64_t count = in->sizes[0];
  if (count == 0)
    return;
  // Compiled buffers are dense (bufferization's identity layouts).
  if (in->strides[0] != 1 || out->strides[0] != 1) {
    recordError(std::string(entry) + ": strided buffers are not supported");
    return;
  }
  auto source = reinterpret_cast<CUdeviceptr>(in->aligned + in->offset);
  auto target = reinterpret_cast<CUdeviceptr>(out->aligned + out->offset);
  ProcessGroup *group = processGroup();
  if (!group || group->size() == 1) {
    ok(driver().memcpyAsync(target, source, size_t(count) * sizeof(T),
                            e->stream),
       "cuMemcpyAsync", entry);
    return;
  }
  NcclState &s = ncclState();
  std::lock_guard<std::mutex> lock(s.mutex);
  ncclComm_t comm = ncclCommunicator(*group);
  if (!comm)
    return;
  ncclResult_t r = ncclLibrary().allReduce(
      reinterpret_cast<const void *>(source), reinterpret_cast<void *>(target),
      size_t(count), std::is_same_v<T, float> ? ncclFloat32 : ncclFloat64,
      ncclAvg, comm, e->stream);
  if (r != ncclSuccess)
    recordError(std::string(entry) + ": ncclAllReduce: " + describe(r));
}
#else
template <typename T>
void ncclAllReduceMean(const char *entry, MemRefDescriptor<T, 1> *,
                       MemRefDescriptor<T, 1> *) {
  recordError(std::string(entry) +
              ": NCCL unavailable: bism was built without nccl.h");
}
#endif

} // namespace

//===----------------------------------------------------------------------===//
// The C++ API
//===----------------------------------------------------------------------===//

std::string synchronize() {
  if (Executor *e = use(/*evenAfterError=*/true)) {
    if (e->capturing.load())
      recordError("synchronize() during a stream capture: end the capture "
                  "first");
    else
      ok(driver().streamSynchronize(e->stream), "cuStreamSynchronize");
  }
  return takeError();
}

void *deviceAlloc(size_t bytes) { return mgpuMemAlloc(bytes, nullptr, false); }

void deviceFree(void *pointer) { mgpuMemFree(pointer, nullptr); }

void copyToDevice(void *dst, const void *src, size_t bytes) {
  Executor *e = use();
  if (!e || bytes == 0)
    return;
  ok(driver().memcpyHtoDAsync(reinterpret_cast<CUdeviceptr>(dst), src, bytes,
                              e->stream),
     "cuMemcpyHtoDAsync", std::to_string(bytes) + " bytes");
}

void copyToHost(void *dst, const void *src, size_t bytes) {
  Executor *e = use();
  if (!e || bytes == 0)
    return;
  ok(driver().memcpyDtoHAsync(dst, reinterpret_cast<CUdeviceptr>(src), bytes,
                              e->stream),
     "cuMemcpyDtoHAsync", std::to_string(bytes) + " bytes");
}

std::string computeCapability(int &major, int &minor) {
  major = minor = 0;
  const Driver &d = driver();
  if (!d.unavailable.empty())
    return d.unavailable;
  int ordinal;
  {
    Executor &e = executor();
    std::lock_guard<std::mutex> lock(e.mutex);
    ordinal = e.ordinal;
  }
  CUdevice device;
  if (CUresult r = d.deviceGet(&device, ordinal); r != CUDA_SUCCESS)
    return callError("cuDeviceGet(" + std::to_string(ordinal) + ")", r);
  if (CUresult r = d.deviceGetAttribute(
          &major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
      r != CUDA_SUCCESS)
    return callError("cuDeviceGetAttribute(COMPUTE_CAPABILITY_MAJOR)", r);
  if (CUresult r = d.deviceGetAttribute(
          &minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
      r != CUDA_SUCCESS)
    return callError("cuDeviceGetAttribute(COMPUTE_CAPABILITY_MINOR)", r);
  return "";
}

void setAllowTf32(bool allow) {
  CublasState &s = cublasState();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.allowTf32.store(allow);
  if (s.handle)
    ok(cublasLibrary().setMathMode(s.handle, mathMode(allow)),
       "cublasSetMathMode");
}

bool allowTf32() { return cublasState().allowTf32.load(); }

std::string cublasUnavailableReason() { return cublasLibrary().unavailable; }

std::string ncclUnavailableReason() {
#if BISM_HAVE_NCCL_HEADERS
  return ncclLibrary().unavailable;
#else
  return "NCCL unavailable: bism was built without nccl.h";
#endif
}

//===----------------------------------------------------------------------===//
// StepGraph
//===----------------------------------------------------------------------===//

StepGraph::~StepGraph() { destroy(); }

StepGraph::StepGraph(StepGraph &&other) noexcept
    : exec_(std::exchange(other.exec_, nullptr)),
      capturing_(std::exchange(other.capturing_, false)) {}

StepGraph &StepGraph::operator=(StepGraph &&other) noexcept {
  if (this != &other) {
    destroy();
    exec_ = std::exchange(other.exec_, nullptr);
    capturing_ = std::exchange(other.capturing_, false);
  }
  return *this;
}

bool StepGraph::beginCapture() {
  Executor *e = use();
  if (!e)
    return false;
  if (capturing_) {
    recordError("StepGraph::beginCapture: this graph is already capturing");
    return false;
  }
  destroy();
  bool expected = false;
  if (!e->capturing.compare_exchange_strong(expected, true)) {
    recordError("StepGraph::beginCapture: another capture of the executor's "
                "stream is in progress");
    return false;
  }
  // cuBLAS's handle and workspace need synchronous driver calls, which a
  // capture forbids: make them now wherever cuBLAS is installed.
  if (cublasLibrary().unavailable.empty()) {
    CublasState &s = cublasState();
    std::lock_guard<std::mutex> lock(s.mutex);
    if (!cublasHandle(*e)) {
      e->capturing.store(false);
      return false;
    }
  }
  if (!ok(driver().streamBeginCapture(e->stream,
                                      CU_STREAM_CAPTURE_MODE_THREAD_LOCAL),
          "cuStreamBeginCapture")) {
    e->capturing.store(false);
    return false;
  }
  capturing_ = true;
  return true;
}

bool StepGraph::endCapture() {
  if (!capturing_) {
    recordError("StepGraph::endCapture: no capture in progress");
    return false;
  }
  Executor &e = executor();
  const Driver &d = driver();
  makeCurrent(e);
  CUgraph graph = nullptr;
  // Always ends the capture, even after an error: the stream must leave
  // capture mode.
  CUresult result = d.streamEndCapture(e.stream, &graph);
  capturing_ = false;
  e.capturing.store(false);
  if (result != CUDA_SUCCESS) {
    recordError(callError("cuStreamEndCapture", result));
    if (graph)
      d.graphDestroy(graph);
    return false;
  }
  if (errorPending()) { // a call inside the capture failed
    if (graph)
      d.graphDestroy(graph);
    return false;
  }
  CUgraphExec exec = nullptr;
  result = d.graphInstantiate(&exec, graph,
                              CUDA_GRAPH_INSTANTIATE_FLAG_AUTO_FREE_ON_LAUNCH);
  d.graphDestroy(graph);
  if (!ok(result, "cuGraphInstantiateWithFlags"))
    return false;
  exec_ = exec;
  return true;
}

bool StepGraph::replay() {
  Executor *e = use();
  if (!e)
    return false;
  if (!exec_) {
    recordError(capturing_ ? "StepGraph::replay: the capture has not ended"
                           : "StepGraph::replay: no graph captured");
    return false;
  }
  if (!ok(driver().graphLaunch(static_cast<CUgraphExec>(exec_), e->stream),
          "cuGraphLaunch"))
    return false;
  bump(atomicCounters().graphLaunches);
  return true;
}

void StepGraph::destroy() {
  if (!capturing_ && !exec_)
    return;
  Executor &e = executor();
  const Driver &d = driver();
  makeCurrent(e);
  if (capturing_) {
    CUgraph graph = nullptr;
    d.streamEndCapture(e.stream, &graph);
    if (graph)
      d.graphDestroy(graph);
    capturing_ = false;
    e.capturing.store(false);
  }
  if (exec_) {
    // Replays still queued finish before the graph goes.
    ok(d.streamSynchronize(e.stream), "cuStreamSynchronize");
    ok(d.graphExecDestroy(static_cast<CUgraphExec>(exec_)),
       "cuGraphExecDestroy");
    exec_ = nullptr;
  }
}

} // namespace bism::runtime::cuda

//===----------------------------------------------------------------------===//
// The mgpu ABI
//===----------------------------------------------------------------------===//

namespace rt = bism::runtime::cuda;

extern "C" {

void *mgpuModuleLoad(void *data, size_t /*gpuBlobSize*/) {
  if (!rt::use())
    return nullptr;
  CUmodule module = nullptr;
  if (!rt::ok(rt::driver().moduleLoadData(&module, data), "cuModuleLoadData"))
    return nullptr;
  return module;
}

void *mgpuModuleLoadJIT(void *data, int optLevel) {
  if (!rt::use())
    return nullptr;
  char log[8192] = {};
  CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER,
                            CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
                            CU_JIT_OPTIMIZATION_LEVEL};
  void *values[] = {log, reinterpret_cast<void *>(uintptr_t(sizeof(log) - 1)),
                    reinterpret_cast<void *>(intptr_t(optLevel))};
  CUmodule module = nullptr;
  CUresult result =
      rt::driver().moduleLoadDataEx(&module, data, 3, options, values);
  if (result != CUDA_SUCCESS) {
    std::string message = rt::callError(
        "cuModuleLoadDataEx(PTX, -O" + std::to_string(optLevel) + ")", result);
    if (log[0])
      message += "; ptxas: " + std::string(log);
    rt::recordError(message);
    return nullptr;
  }
  return module;
}

void mgpuModuleUnload(void *module) {
  rt::Executor *e = rt::use(/*evenAfterError=*/true);
  if (!e || !module)
    return;
  CUmodule m = static_cast<CUmodule>(module);
  {
    std::lock_guard<std::mutex> lock(e->mutex);
    auto it = e->functions.lower_bound({m, nullptr});
    while (it != e->functions.end() && it->first.first == m) {
      e->functionNames.erase(it->second.function);
      it = e->functions.erase(it);
    }
  }
  rt::ok(rt::driver().moduleUnload(m), "cuModuleUnload");
}

void *mgpuModuleGetFunction(void *module, const char *name) {
  rt::Executor *e = rt::use();
  if (!e)
    return nullptr;
  CUmodule m = static_cast<CUmodule>(module);
  if (!name) {
    rt::recordError("mgpuModuleGetFunction: null kernel name");
    return nullptr;
  }
  {
    std::lock_guard<std::mutex> lock(e->mutex);
    auto it = e->functions.find({m, name});
    if (it != e->functions.end() && it->second.name == name)
      return it->second.function;
  }
  CUfunction function = nullptr;
  if (!rt::ok(rt::driver().moduleGetFunction(&function, m, name),
              "cuModuleGetFunction", name))
    return nullptr;
  std::lock_guard<std::mutex> lock(e->mutex);
  e->functions[{m, name}] = {name, function};
  e->functionNames[function] = name;
  return function;
}

void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t smem, void *stream,
                      void **params, void **extra, size_t /*paramsCount*/) {
  rt::Executor *e = rt::use();
  if (!e)
    return;
  const rt::Driver &d = rt::driver();
  CUfunction f = static_cast<CUfunction>(function);
  auto named = [&](const char *call) {
    std::string name = f ? rt::kernelName(*e, f) : "";
    return name.empty() ? std::string(call) : call + ("(" + name + ")");
  };
  for (intptr_t dim : {gridX, gridY, gridZ, blockX, blockY, blockZ})
    if (dim <= 0 || uint64_t(dim) > UINT_MAX) {
      rt::recordError(named("mgpuLaunchKernel") + ": grid (" +
                      std::to_string(gridX) + ", " + std::to_string(gridY) +
                      ", " + std::to_string(gridZ) + ") or block (" +
                      std::to_string(blockX) + ", " + std::to_string(blockY) +
                      ", " + std::to_string(blockZ) + ") out of range");
      return;
    }
  if (smem < 0) {
    rt::recordError(named("mgpuLaunchKernel") + ": negative shared memory");
    return;
  }
  // Above 48 KiB of dynamic shared memory a kernel must opt in.
  if (smem > 48 * 1024) {
    CUresult r = d.funcSetAttribute(
        f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, smem);
    if (r != CUDA_SUCCESS) {
      rt::recordError(rt::callError(named("cuFuncSetAttribute"), r));
      return;
    }
  }
  CUresult r =
      d.launchKernel(f, unsigned(gridX), unsigned(gridY), unsigned(gridZ),
                     unsigned(blockX), unsigned(blockY), unsigned(blockZ),
                     unsigned(smem), rt::streamOf(*e, stream), params, extra);
  if (r != CUDA_SUCCESS) {
    rt::recordError(rt::callError(named("cuLaunchKernel"), r));
    return;
  }
  rt::bump(rt::atomicCounters().launches);
}

void *mgpuStreamCreate(void) {
  rt::Executor *e = rt::use();
  return e ? e->stream : nullptr;
}

void mgpuStreamDestroy(void * /*stream*/) {
  // The executor's stream lives for the process.
  rt::use(/*evenAfterError=*/true);
}

void mgpuStreamSynchronize(void *stream) {
  rt::Executor *e = rt::use(/*evenAfterError=*/true);
  // Inside a capture nothing runs: there is nothing to wait for, and waiting
  // would fail the capture.
  if (!e || e->capturing.load())
    return;
  rt::ok(rt::driver().streamSynchronize(rt::streamOf(*e, stream)),
         "cuStreamSynchronize");
}

void mgpuStreamWaitEvent(void *stream, void *event) {
  rt::Executor *e = rt::use();
  if (!e)
    return;
  rt::ok(rt::driver().streamWaitEvent(rt::streamOf(*e, stream),
                                      static_cast<CUevent>(event), 0),
         "cuStreamWaitEvent");
}

void *mgpuEventCreate(void) {
  if (!rt::use())
    return nullptr;
  CUevent event = nullptr;
  if (!rt::ok(rt::driver().eventCreate(&event, CU_EVENT_DISABLE_TIMING),
              "cuEventCreate"))
    return nullptr;
  return event;
}

void mgpuEventDestroy(void *event) {
  rt::Executor *e = rt::use(/*evenAfterError=*/true);
  if (!e || !event)
    return;
  rt::ok(rt::driver().eventDestroy(static_cast<CUevent>(event)),
         "cuEventDestroy");
}

void mgpuEventSynchronize(void *event) {
  rt::Executor *e = rt::use(/*evenAfterError=*/true);
  if (!e || e->capturing.load())
    return;
  rt::ok(rt::driver().eventSynchronize(static_cast<CUevent>(event)),
         "cuEventSynchronize");
}

void mgpuEventRecord(void *event, void *stream) {
  rt::Executor *e = rt::use();
  if (!e)
    return;
  rt::ok(rt::driver().eventRecord(static_cast<CUevent>(event),
                                  rt::streamOf(*e, stream)),
         "cuEventRecord");
}

void *mgpuMemAlloc(uint64_t sizeBytes, void *stream, bool isHostShared) {
  rt::Executor *e = rt::use();
  if (!e || sizeBytes == 0)
    return nullptr;
  const rt::Driver &d = rt::driver();
  std::string bytes = std::to_string(sizeBytes) + " bytes";
  CUdeviceptr pointer = 0;
  if (isHostShared) {
    if (!rt::ok(d.memAllocManaged(&pointer, sizeBytes, CU_MEM_ATTACH_GLOBAL),
                "cuMemAllocManaged", bytes))
      return nullptr;
    void *address = reinterpret_cast<void *>(pointer);
    {
      std::lock_guard<std::mutex> lock(e->mutex);
      e->managed.insert(address);
    }
    rt::bump(rt::atomicCounters().driverAllocations);
    return address;
  }
  // Whether the pool had to reserve more memory from the driver. Inside a
  // capture the allocation becomes a graph node (graph memory, not the pool).
  bool capturing = e->capturing.load();
  cuuint64_t before = 0, after = 0;
  bool measured =
      !capturing &&
      d.memPoolGetAttribute(e->pool, CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT,
                            &before) == CUDA_SUCCESS;
  if (!rt::ok(d.memAllocAsync(&pointer, sizeBytes, rt::streamOf(*e, stream)),
              "cuMemAllocAsync", bytes))
    return nullptr;
  if (measured &&
      d.memPoolGetAttribute(e->pool, CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT,
                            &after) == CUDA_SUCCESS &&
      after > before)
    rt::bump(rt::atomicCounters().driverAllocations);
  return reinterpret_cast<void *>(pointer);
}

void mgpuMemFree(void *ptr, void *stream) {
  rt::Executor *e = rt::use(/*evenAfterError=*/true);
  if (!e || !ptr)
    return;
  const rt::Driver &d = rt::driver();
  bool managed;
  {
    std::lock_guard<std::mutex> lock(e->mutex);
    managed = e->managed.erase(ptr) != 0;
  }
  if (managed) {
    if (e->capturing.load()) {
      rt::recordError("mgpuMemFree: managed memory cannot be freed inside a "
                      "stream capture");
      return;
    }
    // Not stream-ordered: wait for the work that may still use it.
    rt::ok(d.streamSynchronize(rt::streamOf(*e, stream)),
           "cuStreamSynchronize");
    rt::ok(d.memFree(reinterpret_cast<CUdeviceptr>(ptr)), "cuMemFree");
    return;
  }
  rt::ok(d.memFreeAsync(reinterpret_cast<CUdeviceptr>(ptr),
                        rt::streamOf(*e, stream)),
         "cuMemFreeAsync");
}

void mgpuMemcpy(void *dst, void *src, size_t sizeBytes, void *stream) {
  rt::Executor *e = rt::use();
  if (!e || sizeBytes == 0)
    return;
  rt::ok(rt::driver().memcpyAsync(reinterpret_cast<CUdeviceptr>(dst),
                                  reinterpret_cast<CUdeviceptr>(src), sizeBytes,
                                  rt::streamOf(*e, stream)),
         "cuMemcpyAsync", std::to_string(sizeBytes) + " bytes");
}

void mgpuMemset32(void *dst, unsigned int value, size_t count, void *stream) {
  rt::Executor *e = rt::use();
  if (!e || count == 0)
    return;
  rt::ok(rt::driver().memsetD32Async(reinterpret_cast<CUdeviceptr>(dst), value,
                                     count, rt::streamOf(*e, stream)),
         "cuMemsetD32Async");
}

void mgpuMemset16(void *dst, unsigned short value, size_t count, void *stream) {
  rt::Executor *e = rt::use();
  if (!e || count == 0)
    return;
  rt::ok(rt::driver().memsetD16Async(reinterpret_cast<CUdeviceptr>(dst), value,
                                     count, rt::streamOf(*e, stream)),
         "cuMemsetD16Async");
}

void mgpuSetDefaultDevice(int32_t device) {
  if (rt::errorPending())
    return;
  const rt::Driver &d = rt::driver();
  if (!d.unavailable.empty()) {
    rt::recordError(d.unavailable);
    return;
  }
  rt::Executor &e = rt::executor();
  std::lock_guard<std::mutex> lock(e.mutex);
  if (!e.ready.load()) {
    e.ordinal = device;
    e.initFailed = false; // another device may work
    e.initError.clear();
    return;
  }
  if (device != e.ordinal)
    rt::recordError("mgpuSetDefaultDevice(" + std::to_string(device) +
                    "): the CUDA executor already runs on device " +
                    std::to_string(e.ordinal) + " (one device per process)");
}

} // extern "C"

#undef BISM_CUBLAS_STRINGIFY
#undef BISM_CUBLAS_STRINGIFY_EXPANDED

#else // !BISM_HAVE_CUDA_HEADERS

//===----------------------------------------------------------------------===//
// Built without the toolkit's headers: every call says so.
//===----------------------------------------------------------------------===//

namespace {
template <typename T> void runGemm(const char *, const detail::GemmPlan &) {
  recordError(unavailableReason());
}
template <typename T>
void ncclAllReduceMean(const char *, MemRefDescriptor<T, 1> *,
                       MemRefDescriptor<T, 1> *) {
  recordError(unavailableReason());
}
void unavailable() {
  if (!errorPending())
    recordError(unavailableReason());
}
} // namespace

std::string synchronize() {
  unavailable();
  return takeError();
}
void *deviceAlloc(size_t) {
  unavailable();
  return nullptr;
}
void deviceFree(void *) { unavailable(); }
void copyToDevice(void *, const void *, size_t) { unavailable(); }
void copyToHost(void *, const void *, size_t) { unavailable(); }
std::string computeCapability(int &major, int &minor) {
  major = minor = 0;
  return unavailableReason();
}
namespace {
std::atomic<bool> tf32{false};
}
void setAllowTf32(bool allow) { tf32.store(allow); }
bool allowTf32() { return tf32.load(); }
std::string cublasUnavailableReason() {
  return "cuBLAS unavailable: bism was built without the CUDA toolkit's "
         "headers";
}
std::string ncclUnavailableReason() {
  return "NCCL unavailable: bism was built without the CUDA toolkit's "
         "headers";
}

StepGraph::~StepGraph() = default;
StepGraph::StepGraph(StepGraph &&other) noexcept
    : exec_(std::exchange(other.exec_, nullptr)),
      capturing_(std::exchange(other.capturing_, false)) {}
StepGraph &StepGraph::operator=(StepGraph &&other) noexcept {
  exec_ = std::exchange(other.exec_, nullptr);
  capturing_ = std::exchange(other.capturing_, false);
  return *this;
}
bool StepGraph::beginCapture() {
  unavailable();
  return false;
}
bool StepGraph::endCapture() {
  unavailable();
  return false;
}
bool StepGraph::replay() {
  unavailable();
  return false;
}
void StepGraph::destroy() {}

} // namespace bism::runtime::cuda

namespace rt = bism::runtime::cuda;

extern "C" {
void *mgpuModuleLoad(void *, size_t) {
  rt::unavailable();
  return nullptr;
}
void *mgpuModuleLoadJIT(void *, int) {
  rt::unavailable();
  return nullptr;
}
void mgpuModuleUnload(void *) { rt::unavailable(); }
void *mgpuModuleGetFunction(void *, const char *) {
  rt::unavailable();
  return nullptr;
}
void mgpuLaunchKernel(void *, intptr_t, intptr_t, intptr_t, intptr_t, intptr_t,
                      intptr_t, int32_t, void *, void **, void **, size_t) {
  rt::unavailable();
}
void *mgpuStreamCreate(void) {
  rt::unavailable();
  return nullptr;
}
void mgpuStreamDestroy(void *) { rt::unavailable(); }
void mgpuStreamSynchronize(void *) { rt::unavailable(); }
void mgpuStreamWaitEvent(void *, void *) { rt::unavailable(); }
void *mgpuEventCreate(void) {
  rt::unavailable();
  return nullptr;
}
void mgpuEventDestroy(void *) { rt::unavailable(); }
void mgpuEventSynchronize(void *) { rt::unavailable(); }
void mgpuEventRecord(void *, void *) { rt::unavailable(); }
void *mgpuMemAlloc(uint64_t, void *, bool) {
  rt::unavailable();
  return nullptr;
}
void mgpuMemFree(void *, void *) { rt::unavailable(); }
void mgpuMemcpy(void *, void *, size_t, void *) { rt::unavailable(); }
void mgpuMemset32(void *, unsigned int, size_t, void *) { rt::unavailable(); }
void mgpuMemset16(void *, unsigned short, size_t, void *) { rt::unavailable(); }
void mgpuSetDefaultDevice(int32_t) { rt::unavailable(); }
} // extern "C"

#endif // BISM_HAVE_CUDA_HEADERS

//===----------------------------------------------------------------------===//
// The cuBLAS entry points and the JIT's symbol list (with or without CUDA)
//===----------------------------------------------------------------------===//

extern "C" {
void _mlir_ciface_bism_rt_cublas_gemm_f32(MemRefDescriptor<float, 2> *lhs,
                                          MemRefDescriptor<float, 2> *rhs,
                                          MemRefDescriptor<float, 2> *out,
                                          int64_t transposeLhs,
                                          int64_t transposeRhs) {
  rt::gemmEntry("bism_rt_cublas_gemm_f32", lhs, rhs, out, transposeLhs,
                transposeRhs);
}
void _mlir_ciface_bism_rt_cublas_gemm_f64(MemRefDescriptor<double, 2> *lhs,
                                          MemRefDescriptor<double, 2> *rhs,
                                          MemRefDescriptor<double, 2> *out,
                                          int64_t transposeLhs,
                                          int64_t transposeRhs) {
  rt::gemmEntry("bism_rt_cublas_gemm_f64", lhs, rhs, out, transposeLhs,
                transposeRhs);
}
void _mlir_ciface_bism_rt_cublas_batch_gemm_f32(MemRefDescriptor<float, 3> *lhs,
                                                MemRefDescriptor<float, 3> *rhs,
                                                MemRefDescriptor<float, 3> *out,
                                                int64_t transposeLhs,
                                                int64_t transposeRhs) {
  rt::gemmEntry("bism_rt_cublas_batch_gemm_f32", lhs, rhs, out, transposeLhs,
                transposeRhs);
}
void _mlir_ciface_bism_rt_cublas_batch_gemm_f64(
    MemRefDescriptor<double, 3> *lhs, MemRefDescriptor<double, 3> *rhs,
    MemRefDescriptor<double, 3> *out, int64_t transposeLhs,
    int64_t transposeRhs) {
  rt::gemmEntry("bism_rt_cublas_batch_gemm_f64", lhs, rhs, out, transposeLhs,
                transposeRhs);
}
void _mlir_ciface_bism_rt_nccl_all_reduce_mean_f32(
    MemRefDescriptor<float, 1> *in, MemRefDescriptor<float, 1> *out) {
  if (!rt::errorPending())
    rt::ncclAllReduceMean("bism_rt_nccl_all_reduce_mean_f32", in, out);
}
void _mlir_ciface_bism_rt_nccl_all_reduce_mean_f64(
    MemRefDescriptor<double, 1> *in, MemRefDescriptor<double, 1> *out) {
  if (!rt::errorPending())
    rt::ncclAllReduceMean("bism_rt_nccl_all_reduce_mean_f64", in, out);
}
} // extern "C"

std::vector<rt::Symbol> rt::jitSymbols() {
#define BISM_SYMBOL(name)                                                      \
  Symbol { #name, reinterpret_cast < void *>(&::name) }
  return {
      BISM_SYMBOL(mgpuModuleLoad),
      BISM_SYMBOL(mgpuModuleLoadJIT),
      BISM_SYMBOL(mgpuModuleUnload),
      BISM_SYMBOL(mgpuModuleGetFunction),
      BISM_SYMBOL(mgpuLaunchKernel),
      BISM_SYMBOL(mgpuStreamCreate),
      BISM_SYMBOL(mgpuStreamDestroy),
      BISM_SYMBOL(mgpuStreamSynchronize),
      BISM_SYMBOL(mgpuStreamWaitEvent),
      BISM_SYMBOL(mgpuEventCreate),
      BISM_SYMBOL(mgpuEventDestroy),
      BISM_SYMBOL(mgpuEventSynchronize),
      BISM_SYMBOL(mgpuEventRecord),
      BISM_SYMBOL(mgpuMemAlloc),
      BISM_SYMBOL(mgpuMemFree),
      BISM_SYMBOL(mgpuMemcpy),
      BISM_SYMBOL(mgpuMemset32),
      BISM_SYMBOL(mgpuMemset16),
      BISM_SYMBOL(mgpuSetDefaultDevice),
      BISM_SYMBOL(_mlir_ciface_bism_rt_cublas_gemm_f32),
      BISM_SYMBOL(_mlir_ciface_bism_rt_cublas_gemm_f64),
      BISM_SYMBOL(_mlir_ciface_bism_rt_cublas_batch_gemm_f32),
      BISM_SYMBOL(_mlir_ciface_bism_rt_cublas_batch_gemm_f64),
      BISM_SYMBOL(_mlir_ciface_bism_rt_nccl_all_reduce_mean_f32),
      BISM_SYMBOL(_mlir_ciface_bism_rt_nccl_all_reduce_mean_f64),
  };
#undef BISM_SYMBOL
}
