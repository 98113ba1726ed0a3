//===- CudaExecutorTest.cpp - the CUDA executor (mgpu ABI, cuBLAS) --------===//
//
// Without a GPU (CI, this project's development machines): every mgpu*
// call records why CUDA is unavailable and returns null, errors are sticky
// until taken, the JIT's symbol list is complete, libcublas's entry points
// resolve where it is installed, and the plan that maps row-major products
// onto column-major cuBLAS is checked by emulating cuBLAS on the host. With
// a GPU: a PTX kernel on pool memory, cuBLAS products against a host loop,
// pool reuse, CUDA graph capture and replay, and error messages.
//
//===----------------------------------------------------------------------===//
#include "bism/runtime/CudaExecutor.h"
#include "bism/runtime/CudaDriver.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

using namespace bism::runtime;

namespace {

bool startsWith(const std::string &text, const std::string &prefix) {
  return text.rfind(prefix, 0) == 0;
}

//===----------------------------------------------------------------------===//
// Without a GPU
//===----------------------------------------------------------------------===//

TEST(CudaExecutor, WithoutADeviceEveryCallSaysWhy) {
  std::string reason = cuda::unavailableReason();
  if (reason.empty())
    GTEST_SKIP() << "a GPU is here: the calls succeed (tests below)";
  cuda::takeError();
  auto expectReason = [&](const char *call) {
    std::string error = cuda::takeError();
    EXPECT_EQ(error, reason) << call;
    EXPECT_TRUE(startsWith(error, "no CUDA device: ")) << error;
    EXPECT_EQ(cuda::takeError(), "") << call << ": taken once";
  };
  EXPECT_EQ(mgpuStreamCreate(), nullptr);
  expectReason("mgpuStreamCreate");
  EXPECT_EQ(mgpuMemAlloc(64, nullptr, false), nullptr);
  expectReason("mgpuMemAlloc");
  EXPECT_EQ(mgpuMemAlloc(64, nullptr, true), nullptr);
  expectReason("mgpuMemAlloc(host shared)");
  mgpuMemFree(nullptr, nullptr);
  expectReason("mgpuMemFree");
  EXPECT_EQ(mgpuModuleLoadJIT(const_cast<char *>(".version 8.0"), 2), nullptr);
  expectReason("mgpuModuleLoadJIT");
  EXPECT_EQ(mgpuModuleLoad(nullptr, 0), nullptr);
  expectReason("mgpuModuleLoad");
  EXPECT_EQ(mgpuModuleGetFunction(nullptr, "k"), nullptr);
  expectReason("mgpuModuleGetFunction");
  mgpuLaunchKernel(nullptr, 1, 1, 1, 1, 1, 1, 0, nullptr, nullptr, nullptr, 0);
  expectReason("mgpuLaunchKernel");
  EXPECT_EQ(mgpuEventCreate(), nullptr);
  expectReason("mgpuEventCreate");
  mgpuEventRecord(nullptr, nullptr);
  expectReason("mgpuEventRecord");
  mgpuStreamSynchronize(nullptr);
  expectReason("mgpuStreamSynchronize");
  mgpuMemcpy(nullptr, nullptr, 4, nullptr);
  expectReason("mgpuMemcpy");
  mgpuMemset32(nullptr, 0, 1, nullptr);
  expectReason("mgpuMemset32");
  mgpuMemset16(nullptr, 0, 1, nullptr);
  expectReason("mgpuMemset16");
  mgpuSetDefaultDevice(0);
  expectReason("mgpuSetDefaultDevice");

  // The C++ API.
  EXPECT_EQ(cuda::deviceAlloc(64), nullptr);
  expectReason("deviceAlloc");
  float host[4] = {};
  cuda::copyToDevice(host, host, sizeof(host));
  expectReason("copyToDevice");
  EXPECT_EQ(cuda::synchronize(), reason);
  EXPECT_EQ(cuda::takeError(), "");
  int major = -1, minor = -1;
  EXPECT_EQ(cuda::computeCapability(major, minor), reason);
  EXPECT_EQ(cuda::takeError(), "") << "computeCapability records nothing";
  cuda::StepGraph graph;
  EXPECT_FALSE(graph.beginCapture());
  EXPECT_FALSE(graph.capturing());
  expectReason("StepGraph::beginCapture");
  EXPECT_FALSE(graph.replay());
  expectReason("StepGraph::replay");

  // A well-formed product gets as far as the device.
  float a[6] = {}, b[6] = {}, c[4] = {};
  MemRefDescriptor<float, 2> lhs{a, a, 0, {2, 3}, {3, 1}};
  MemRefDescriptor<float, 2> rhs{b, b, 0, {3, 2}, {2, 1}};
  MemRefDescriptor<float, 2> out{c, c, 0, {2, 2}, {2, 1}};
  _mlir_ciface_bism_rt_cublas_gemm_f32(&lhs, &rhs, &out, 0, 0);
  expectReason("bism_rt_cublas_gemm_f32");

  cuda::Counters counted = cuda::counters();
  EXPECT_EQ(counted.launches, 0u);
  EXPECT_EQ(counted.cublasCalls, 0u);
  EXPECT_EQ(counted.driverAllocations, 0u);
  EXPECT_EQ(counted.graphLaunches, 0u);
}

TEST(CudaExecutor, TheFirstErrorStaysUntilTaken) {
  cuda::takeError();
  // Shapes are checked on the host: 2x3 times 2x2 does not agree.
  float a[6] = {}, b[4] = {}, c[4] = {};
  MemRefDescriptor<float, 2> lhs{a, a, 0, {2, 3}, {3, 1}};
  MemRefDescriptor<float, 2> rhs{b, b, 0, {2, 2}, {2, 1}};
  MemRefDescriptor<float, 2> out{c, c, 0, {2, 2}, {2, 1}};
  _mlir_ciface_bism_rt_cublas_gemm_f32(&lhs, &rhs, &out, 0, 0);
  // Later calls do nothing (here or on a GPU), and do not replace the error.
  EXPECT_EQ(mgpuStreamCreate(), nullptr);
  EXPECT_EQ(mgpuMemAlloc(16, nullptr, false), nullptr);
  std::string error = cuda::takeError();
  EXPECT_EQ(error, "bism_rt_cublas_gemm_f32: operand shapes do not agree: "
                   "lhs 2x3, rhs 2x2, out 2x2");
  EXPECT_EQ(cuda::takeError(), "");
  // Nothing ran, and nothing is left behind: a later call records its own.
  if (!cuda::unavailableReason().empty()) {
    EXPECT_EQ(mgpuStreamCreate(), nullptr);
    EXPECT_EQ(cuda::takeError(), cuda::unavailableReason());
  }
}

// NCCL is opened with dlopen like cuBLAS, so loading it needs no GPU: this
// toolkit ships libnccl.so.2 (the reason names what is missing otherwise).
TEST(CudaExecutor, NcclLoadsOrSaysWhy) {
  std::string why = cuda::ncclUnavailableReason();
  if (!why.empty()) {
    EXPECT_EQ(why.rfind("NCCL unavailable: ", 0), 0u) << why;
    GTEST_SKIP() << why;
  }
}

TEST(CudaExecutor, JitSymbolsListEveryEntryPointOnce) {
  const std::set<std::string> expected = {
      "mgpuModuleLoad",
      "mgpuModuleLoadJIT",
      "mgpuModuleUnload",
      "mgpuModuleGetFunction",
      "mgpuLaunchKernel",
      "mgpuStreamCreate",
      "mgpuStreamDestroy",
      "mgpuStreamSynchronize",
      "mgpuStreamWaitEvent",
      "mgpuEventCreate",
      "mgpuEventDestroy",
      "mgpuEventSynchronize",
      "mgpuEventRecord",
      "mgpuMemAlloc",
      "mgpuMemFree",
      "mgpuMemcpy",
      "mgpuMemset32",
      "mgpuMemset16",
      "mgpuSetDefaultDevice",
      "_mlir_ciface_bism_rt_cublas_gemm_f32",
      "_mlir_ciface_bism_rt_cublas_gemm_f64",
      "_mlir_ciface_bism_rt_cublas_batch_gemm_f32",
      "_mlir_ciface_bism_rt_cublas_batch_gemm_f64",
      "_mlir_ciface_bism_rt_nccl_all_reduce_mean_f32",
      "_mlir_ciface_bism_rt_nccl_all_reduce_mean_f64",
  };
  std::map<std::string, int> seen;
  std::set<void *> addresses;
  for (const cuda::Symbol &symbol : cuda::jitSymbols()) {
    ASSERT_NE(symbol.name, nullptr);
    EXPECT_NE(symbol.address, nullptr) << symbol.name;
    ++seen[symbol.name];
    addresses.insert(symbol.address);
  }
  for (const std::string &name : expected)
    EXPECT_EQ(seen[name], 1) << name;
  EXPECT_EQ(seen.size(), expected.size());
  EXPECT_EQ(addresses.size(), expected.size()) << "distinct functions";
  std::map<std::string, void *> byName;
  for (const cuda::Symbol &symbol : cuda::jitSymbols())
    byName[symbol.name] = symbol.address;
  EXPECT_EQ(byName["mgpuLaunchKernel"],
            reinterpret_cast<void *>(&mgpuLaunchKernel));
  EXPECT_EQ(byName["mgpuMemAlloc"], reinterpret_cast<void *>(&mgpuMemAlloc));
  EXPECT_EQ(
      byName["_mlir_ciface_bism_rt_cublas_batch_gemm_f64"],
      reinterpret_cast<void *>(&_mlir_ciface_bism_rt_cublas_batch_gemm_f64));
}

TEST(CudaExecutor, CublasEntryPointsResolveWhereInstalled) {
  // Needs no GPU: opens libcublas and looks up every function the executor
  // calls (with the names cublas_v2.h's macros stand for).
  std::string reason = cuda::cublasUnavailableReason();
  if (!reason.empty()) {
    EXPECT_TRUE(startsWith(reason, "cuBLAS unavailable: ")) << reason;
    EXPECT_EQ(reason.find(" has no "), std::string::npos) << reason;
    GTEST_SKIP() << reason;
  }
  EXPECT_EQ(cuda::cublasUnavailableReason(), "");
}

TEST(CudaExecutor, ComputeCapabilityOrWhyNot) {
  std::string reason = cuda::unavailableReason();
  int major = -1, minor = -1;
  std::string error = cuda::computeCapability(major, minor);
  if (!reason.empty()) {
    EXPECT_EQ(error, reason);
    GTEST_SKIP() << "no GPU here: " << reason;
  }
  ASSERT_EQ(error, "");
  std::string listError;
  std::vector<cuda::DeviceInfo> found = cuda::devices(listError);
  ASSERT_FALSE(found.empty()) << listError;
  EXPECT_EQ(major, found[0].computeMajor);
  EXPECT_EQ(minor, found[0].computeMinor);
  EXPECT_GE(major, 5);
}

TEST(CudaExecutor, AllowTf32IsOffByDefault) {
  EXPECT_FALSE(cuda::allowTf32());
  cuda::setAllowTf32(true);
  EXPECT_TRUE(cuda::allowTf32());
  cuda::setAllowTf32(false);
  EXPECT_FALSE(cuda::allowTf32());
  EXPECT_EQ(cuda::takeError(), "");
}

//===----------------------------------------------------------------------===//
// The plan for cuBLAS, checked against cuBLAS's semantics on the host
//===----------------------------------------------------------------------===//

/// cublas<t>gemmStridedBatched with alpha = beta = 1, on host memory.
void emulateCublas(const cuda::detail::GemmPlan &p) {
  for (int64_t b = 0; b < p.batch; ++b) {
    const double *A = static_cast<const double *>(p.first) + b * p.strideFirst;
    const double *B =
        static_cast<const double *>(p.second) + b * p.strideSecond;
    double *C = static_cast<double *>(p.out) + b * p.strideOut;
    for (int64_t i = 0; i < p.m; ++i)
      for (int64_t j = 0; j < p.n; ++j) {
        double sum = 0;
        for (int64_t l = 0; l < p.k; ++l) {
          double a =
              p.transposeFirst ? A[l + i * p.ldFirst] : A[i + l * p.ldFirst];
          double bb =
              p.transposeSecond ? B[j + l * p.ldSecond] : B[l + j * p.ldSecond];
          sum += a * bb;
        }
        C[i + j * p.ldOut] += sum;
      }
  }
}

/// A batch of stored matrices in a buffer with padding around and between.
struct Stored {
  std::vector<double> buffer;
  cuda::detail::MatrixOperand view;
  double at(int64_t b, int64_t i, int64_t j) const {
    return static_cast<const double *>(
        view.data)[b * view.batchStride + i * view.rowStride +
                   j * view.colStride];
  }
};

Stored makeStored(int64_t batch, int64_t rows, int64_t cols, bool rowMajor,
                  int64_t pad, bool broadcast, std::mt19937 &rng) {
  Stored s;
  int64_t ld = (rowMajor ? cols : rows) + pad;
  int64_t perBatch = ld * (rowMajor ? rows : cols) + pad;
  int64_t offset = 3;
  s.buffer.assign(size_t(offset + perBatch * batch + 5), -1000.0);
  cuda::detail::MatrixOperand &v = s.view;
  v.data = s.buffer.data() + offset;
  v.batch = batch;
  v.rows = rows;
  v.cols = cols;
  v.batchStride = broadcast ? 0 : perBatch;
  v.rowStride = rowMajor ? ld : 1;
  v.colStride = rowMajor ? 1 : ld;
  std::uniform_int_distribution<int> value(-4, 4);
  for (int64_t b = 0; b < (broadcast ? 1 : batch); ++b)
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        s.buffer[size_t(offset + b * v.batchStride + i * v.rowStride +
                        j * v.colStride)] = value(rng);
  return s;
}

TEST(CudaExecutor, GemmPlanComputesRowMajorProductsTheCpuWay) {
  std::mt19937 rng(7);
  const std::array<std::array<int64_t, 3>, 6> shapes = {
      {{3, 4, 5}, {1, 4, 5}, {3, 1, 5}, {3, 4, 1}, {1, 1, 1}, {6, 2, 3}}};
  int checked = 0;
  for (const auto &shape : shapes)
    for (int64_t batch : {1, 3})
      for (int layouts = 0; layouts < 8; ++layouts)
        for (int transposes = 0; transposes < 4; ++transposes) {
          int64_t m = shape[0], n = shape[1], k = shape[2];
          bool tl = transposes & 1, tr = transposes & 2;
          bool lhsRow = layouts & 1, rhsRow = layouts & 2, outRow = layouts & 4;
          int64_t pad = (layouts + transposes) % 3;
          bool broadcastRhs = batch > 1 && (layouts % 3 == 1);
          Stored lhs = makeStored(batch, tl ? k : m, tl ? m : k, lhsRow, pad,
                                  false, rng);
          Stored rhs = makeStored(batch, tr ? n : k, tr ? k : n, rhsRow, pad,
                                  broadcastRhs, rng);
          Stored out = makeStored(batch, m, n, outRow, pad, false, rng);
          std::vector<double> before = out.buffer;
          // The CPU entry points' semantics: out += op(lhs) * op(rhs).
          std::vector<double> expected;
          for (int64_t b = 0; b < batch; ++b)
            for (int64_t i = 0; i < m; ++i)
              for (int64_t j = 0; j < n; ++j) {
                double sum = out.at(b, i, j);
                for (int64_t l = 0; l < k; ++l)
                  sum += (tl ? lhs.at(b, l, i) : lhs.at(b, i, l)) *
                         (tr ? rhs.at(b, j, l) : rhs.at(b, l, j));
                expected.push_back(sum);
              }
          cuda::detail::GemmPlan plan;
          std::string why = cuda::detail::planGemm(lhs.view, tl, rhs.view, tr,
                                                   out.view, plan);
          std::string what = "m n k " + std::to_string(m) + " " +
                             std::to_string(n) + " " + std::to_string(k) +
                             " batch " + std::to_string(batch) + " layouts " +
                             std::to_string(layouts) + " transposes " +
                             std::to_string(transposes);
          ASSERT_EQ(why, "") << what;
          ASSERT_EQ(plan.batch, batch) << what;
          emulateCublas(plan);
          size_t index = 0;
          for (int64_t b = 0; b < batch; ++b)
            for (int64_t i = 0; i < m; ++i)
              for (int64_t j = 0; j < n; ++j)
                ASSERT_EQ(out.at(b, i, j), expected[index++])
                    << what << " at " << b << "," << i << "," << j;
          // Nothing outside the view was written.
          std::set<size_t> view;
          size_t first = size_t(static_cast<const double *>(out.view.data) -
                                out.buffer.data());
          for (int64_t b = 0; b < batch; ++b)
            for (int64_t i = 0; i < m; ++i)
              for (int64_t j = 0; j < n; ++j)
                view.insert(first + size_t(b * out.view.batchStride +
                                           i * out.view.rowStride +
                                           j * out.view.colStride));
          for (size_t e = 0; e < before.size(); ++e)
            if (!view.count(e))
              ASSERT_EQ(before[e], out.buffer[e]) << what << " element " << e;
          ++checked;
        }
  EXPECT_EQ(checked, 6 * 2 * 8 * 4);
}

TEST(CudaExecutor, GemmPlanRefusesWhatCublasCannotTake) {
  std::vector<double> buffer(64, 0.0);
  cuda::detail::MatrixOperand ok;
  ok.data = buffer.data();
  ok.rows = 2;
  ok.cols = 2;
  ok.rowStride = 2;
  ok.colStride = 1;
  cuda::detail::GemmPlan plan;
  // No unit stride in either dimension (every other element).
  cuda::detail::MatrixOperand strided = ok;
  strided.rowStride = 4;
  strided.colStride = 2;
  EXPECT_EQ(cuda::detail::planGemm(strided, false, ok, false, ok, plan),
            "lhs 2x2 with strides [4, 2] has a unit stride in neither "
            "dimension (cuBLAS needs one)");
  EXPECT_NE(cuda::detail::planGemm(ok, false, ok, false, strided, plan)
                .find("out 2x2 with strides [4, 2]"),
            std::string::npos);
  // Overlapping rows are not a layout.
  cuda::detail::MatrixOperand overlapping = ok;
  overlapping.rowStride = 1;
  overlapping.colStride = 1;
  EXPECT_NE(cuda::detail::planGemm(ok, false, overlapping, false, ok, plan),
            "");
  // Shapes and batches must agree.
  cuda::detail::MatrixOperand wide = ok;
  wide.cols = 3;
  wide.rowStride = 3;
  EXPECT_EQ(cuda::detail::planGemm(ok, false, wide, false, ok, plan),
            "operand shapes do not agree: lhs 2x2, rhs 2x3, out 2x2");
  EXPECT_EQ(cuda::detail::planGemm(ok, false, wide, true, ok, plan),
            "operand shapes do not agree: lhs 2x2, rhs 2x3 (transposed), "
            "out 2x2");
  cuda::detail::MatrixOperand batched = ok;
  batched.batch = 2;
  batched.batchStride = 4;
  EXPECT_NE(cuda::detail::planGemm(batched, false, ok, false, batched, plan),
            "");
  // Beyond 32-bit integers.
  cuda::detail::MatrixOperand huge = ok;
  huge.cols = int64_t(1) << 32;
  huge.rowStride = huge.cols;
  cuda::detail::MatrixOperand hugeT = ok;
  hugeT.rows = huge.cols;
  hugeT.rowStride = 2;
  EXPECT_NE(cuda::detail::planGemm(huge, false, hugeT, false, ok, plan)
                .find("32-bit"),
            std::string::npos);
  // An empty product is nothing to do.
  cuda::detail::MatrixOperand empty = ok;
  empty.cols = 0;
  cuda::detail::MatrixOperand emptyRhs = ok;
  emptyRhs.rows = 0;
  EXPECT_EQ(cuda::detail::planGemm(empty, false, emptyRhs, false, ok, plan),
            "");
  EXPECT_EQ(plan.batch, 0);
}

//===----------------------------------------------------------------------===//
// With a GPU
//===----------------------------------------------------------------------===//

#define REQUIRE_GPU()                                                          \
  do {                                                                         \
    std::string reason = cuda::unavailableReason();                            \
    if (!reason.empty())                                                       \
      GTEST_SKIP() << reason;                                                  \
    cuda::takeError();                                                         \
  } while (0)

// out[i] += 1 for i < n (PTX ISA 8.0, for sm_80 and later).
const char kAddOnePtx[] = R"(
.version 8.0
.target sm_80
.address_size 64

.visible .entry add_one(
	.param .u64 add_one_param_0,
	.param .u32 add_one_param_1
)
{
	.reg .pred 	%p<2>;
	.reg .b32 	%r<6>;
	.reg .f32 	%f<3>;
	.reg .b64 	%rd<5>;

	ld.param.u64 	%rd1, [add_one_param_0];
	ld.param.u32 	%r2, [add_one_param_1];
	mov.u32 	%r3, %ctaid.x;
	mov.u32 	%r4, %ntid.x;
	mov.u32 	%r5, %tid.x;
	mad.lo.s32 	%r1, %r3, %r4, %r5;
	setp.ge.u32 	%p1, %r1, %r2;
	@%p1 bra 	$L__done;
	cvta.to.global.u64 	%rd2, %rd1;
	mul.wide.u32 	%rd3, %r1, 4;
	add.s64 	%rd4, %rd2, %rd3;
	ld.global.f32 	%f1, [%rd4];
	add.f32 	%f2, %f1, 0f3F800000;
	st.global.f32 	[%rd4], %f2;
$L__done:
	ret;
}
)";

// The kernel's name, as compiled code passes it: a constant global.
const char kAddOneName[] = "add_one";

void launchAddOne(void *function, void *data, uint32_t n, void *stream) {
  void *params[] = {&data, &n};
  mgpuLaunchKernel(function, (n + 127) / 128, 1, 1, 128, 1, 1, 0, stream,
                   params, nullptr, 2);
}

TEST(CudaExecutor, PtxKernelAddsOneToPoolMemory) {
  REQUIRE_GPU();
  cuda::resetCounters();
  void *module = mgpuModuleLoadJIT(const_cast<char *>(kAddOnePtx), 4);
  ASSERT_NE(module, nullptr) << cuda::takeError();
  void *function = mgpuModuleGetFunction(module, kAddOneName);
  ASSERT_NE(function, nullptr) << cuda::takeError();
  EXPECT_EQ(mgpuModuleGetFunction(module, kAddOneName), function) << "cached";

  const uint32_t n = 1000;
  std::vector<float> host(n);
  for (uint32_t i = 0; i < n; ++i)
    host[i] = float(i) * 0.5f;
  void *stream = mgpuStreamCreate();
  ASSERT_NE(stream, nullptr);
  EXPECT_EQ(mgpuStreamCreate(), stream) << "one stream";
  void *data = mgpuMemAlloc(n * sizeof(float), stream, false);
  ASSERT_NE(data, nullptr) << cuda::takeError();
  cuda::copyToDevice(data, host.data(), n * sizeof(float));
  launchAddOne(function, data, n, stream);
  launchAddOne(function, data, n, nullptr); // null: the same stream
  std::vector<float> back(n, -1.0f);
  cuda::copyToHost(back.data(), data, n * sizeof(float));
  mgpuMemFree(data, stream);
  mgpuStreamDestroy(stream); // the executor's stream survives
  ASSERT_EQ(cuda::synchronize(), "");
  for (uint32_t i = 0; i < n; ++i)
    ASSERT_EQ(back[i], float(i) * 0.5f + 2.0f) << i;
  EXPECT_EQ(cuda::counters().launches, 2u);

  // mgpuMemset32 and mgpuMemcpy on the same stream.
  void *a = mgpuMemAlloc(n * sizeof(float), nullptr, false);
  void *b = mgpuMemAlloc(n * sizeof(float), nullptr, false);
  float seven = 7.0f;
  unsigned int bits;
  std::memcpy(&bits, &seven, sizeof(bits));
  mgpuMemset32(a, bits, n, stream);
  mgpuMemcpy(b, a, n * sizeof(float), stream);
  launchAddOne(function, b, n, stream);
  cuda::copyToHost(back.data(), b, n * sizeof(float));
  mgpuMemFree(a, stream);
  mgpuMemFree(b, stream);
  ASSERT_EQ(cuda::synchronize(), "");
  for (uint32_t i = 0; i < n; ++i)
    ASSERT_EQ(back[i], 8.0f) << i;

  // Events order nothing new on one stream, but must work.
  void *event = mgpuEventCreate();
  ASSERT_NE(event, nullptr) << cuda::takeError();
  mgpuEventRecord(event, stream);
  mgpuStreamWaitEvent(stream, event);
  mgpuEventSynchronize(event);
  mgpuEventDestroy(event);
  EXPECT_EQ(cuda::synchronize(), "");

  // cuModuleLoadData takes PTX text too.
  void *again =
      mgpuModuleLoad(const_cast<char *>(kAddOnePtx), sizeof(kAddOnePtx));
  ASSERT_NE(again, nullptr) << cuda::takeError();
  EXPECT_NE(mgpuModuleGetFunction(again, kAddOneName), nullptr);
  mgpuModuleUnload(again);
  mgpuModuleUnload(module);
  EXPECT_EQ(cuda::synchronize(), "");
}

TEST(CudaExecutor, ErrorsNameTheCallAndTheKernel) {
  REQUIRE_GPU();
  // PTX the JIT rejects: the log comes with the error.
  EXPECT_EQ(mgpuModuleLoadJIT(const_cast<char *>(".version 8.0\n.target "
                                                 "sm_80\nnot ptx at all\n"),
                              2),
            nullptr);
  // Later calls do nothing until the error is taken.
  EXPECT_EQ(mgpuMemAlloc(16, nullptr, false), nullptr);
  std::string error = cuda::takeError();
  EXPECT_TRUE(startsWith(error, "cuModuleLoadDataEx(PTX, -O2): CUDA_ERROR_"))
      << error;
  EXPECT_EQ(cuda::takeError(), "");
  void *p = mgpuMemAlloc(16, nullptr, false);
  EXPECT_NE(p, nullptr) << cuda::takeError();
  mgpuMemFree(p, nullptr);
  EXPECT_EQ(cuda::synchronize(), "");

  // A block too large to launch: the message names the kernel.
  void *module = mgpuModuleLoadJIT(const_cast<char *>(kAddOnePtx), 2);
  ASSERT_NE(module, nullptr) << cuda::takeError();
  void *function = mgpuModuleGetFunction(module, kAddOneName);
  void *data = cuda::deviceAlloc(4096);
  uint32_t n = 1;
  void *params[] = {&data, &n};
  mgpuLaunchKernel(function, 1, 1, 1, 4096, 1, 1, 0, nullptr, params, nullptr,
                   2);
  error = cuda::takeError();
  EXPECT_TRUE(startsWith(error, "cuLaunchKernel(add_one): CUDA_ERROR_"))
      << error;
  cuda::deviceFree(data);
  mgpuModuleUnload(module);
  EXPECT_EQ(cuda::synchronize(), "");

  // Another device after the first use is refused.
  mgpuSetDefaultDevice(7);
  error = cuda::takeError();
  EXPECT_NE(error.find("already runs on device 0"), std::string::npos) << error;
}

/// Device memory holding a copy of host values (freed on the stream).
template <typename T> struct DeviceArray {
  T *device = nullptr;
  explicit DeviceArray(const std::vector<T> &host) {
    device = static_cast<T *>(cuda::deviceAlloc(host.size() * sizeof(T)));
    cuda::copyToDevice(device, host.data(), host.size() * sizeof(T));
  }
  std::vector<T> read(size_t count) const {
    std::vector<T> host(count);
    cuda::copyToHost(host.data(), device, count * sizeof(T));
    EXPECT_EQ(cuda::synchronize(), "");
    return host;
  }
  ~DeviceArray() { cuda::deviceFree(device); }
};

template <typename T> std::vector<T> randomValues(size_t count, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> value(-1.0, 1.0);
  std::vector<T> values(count);
  for (T &v : values)
    v = T(value(rng));
  return values;
}

/// out (b x m x n, row-major with leading dimension ldc) += op(lhs) op(rhs)
/// through the cuBLAS entry points, compared with a host loop.
template <typename T, int Rank>
void checkCublasProduct(int64_t batch, int64_t m, int64_t n, int64_t k, bool tl,
                        bool tr, int64_t ldPad, bool rhsColumnMajor,
                        double tolerance, unsigned seed) {
  std::string what = "batch " + std::to_string(batch) + " m n k " +
                     std::to_string(m) + " " + std::to_string(n) + " " +
                     std::to_string(k) + " transposes " + std::to_string(tl) +
                     std::to_string(tr) + " pad " + std::to_string(ldPad) +
                     (rhsColumnMajor ? " rhs column-major" : "");
  int64_t lr = tl ? k : m, lc = tl ? m : k; // stored shapes
  int64_t rr = tr ? n : k, rc = tr ? k : n;
  int64_t ldl = lc + ldPad, ldc = n + ldPad;
  int64_t ldr = rhsColumnMajor ? rr + ldPad : rc + ldPad;
  int64_t lhsBatch = lr * ldl, rhsBatch = (rhsColumnMajor ? rc : rr) * ldr,
          outBatch = m * ldc;
  std::vector<T> lhs = randomValues<T>(size_t(batch * lhsBatch), seed);
  std::vector<T> rhs = randomValues<T>(size_t(batch * rhsBatch), seed + 1);
  std::vector<T> out = randomValues<T>(size_t(batch * outBatch), seed + 2);
  auto L = [&](int64_t b, int64_t i, int64_t j) {
    return lhs[size_t(b * lhsBatch + i * ldl + j)];
  };
  auto R = [&](int64_t b, int64_t i, int64_t j) {
    return rhsColumnMajor ? rhs[size_t(b * rhsBatch + i + j * ldr)]
                          : rhs[size_t(b * rhsBatch + i * ldr + j)];
  };
  std::vector<double> expected, scale;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double c = out[size_t(b * outBatch + i * ldc + j)], s = std::fabs(c);
        for (int64_t l = 0; l < k; ++l) {
          double term = double(tl ? L(b, l, i) : L(b, i, l)) *
                        double(tr ? R(b, j, l) : R(b, l, j));
          c += term;
          s += std::fabs(term);
        }
        expected.push_back(c);
        scale.push_back(s);
      }
  DeviceArray<T> dl(lhs), dr(rhs), dout(out);
  uint64_t callsBefore = cuda::counters().cublasCalls;
  if constexpr (Rank == 2) {
    MemRefDescriptor<T, 2> l{dl.device, dl.device, 0, {lr, lc}, {ldl, 1}};
    MemRefDescriptor<T, 2> r{dr.device, dr.device, 0, {rr, rc}, {ldr, 1}};
    if (rhsColumnMajor)
      r = {dr.device, dr.device, 0, {rr, rc}, {1, ldr}};
    MemRefDescriptor<T, 2> o{dout.device, dout.device, 0, {m, n}, {ldc, 1}};
    if constexpr (std::is_same_v<T, float>)
      _mlir_ciface_bism_rt_cublas_gemm_f32(&l, &r, &o, tl, tr);
    else
      _mlir_ciface_bism_rt_cublas_gemm_f64(&l, &r, &o, tl, tr);
  } else {
    MemRefDescriptor<T, 3> l{
        dl.device, dl.device, 0, {batch, lr, lc}, {lhsBatch, ldl, 1}};
    MemRefDescriptor<T, 3> r{
        dr.device, dr.device, 0, {batch, rr, rc}, {rhsBatch, ldr, 1}};
    if (rhsColumnMajor)
      r = {dr.device, dr.device, 0, {batch, rr, rc}, {rhsBatch, 1, ldr}};
    MemRefDescriptor<T, 3> o{
        dout.device, dout.device, 0, {batch, m, n}, {outBatch, ldc, 1}};
    if constexpr (std::is_same_v<T, float>)
      _mlir_ciface_bism_rt_cublas_batch_gemm_f32(&l, &r, &o, tl, tr);
    else
      _mlir_ciface_bism_rt_cublas_batch_gemm_f64(&l, &r, &o, tl, tr);
  }
  std::vector<T> got = dout.read(out.size());
  ASSERT_EQ(cuda::takeError(), "") << what;
  EXPECT_EQ(cuda::counters().cublasCalls, callsBefore + 1) << what;
  size_t index = 0;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j, ++index)
        ASSERT_NEAR(double(got[size_t(b * outBatch + i * ldc + j)]),
                    expected[index], tolerance * std::max(1.0, scale[index]))
            << what << " at " << b << "," << i << "," << j;
      // The padding after each row is not written.
      for (int64_t j = n; j < ldc; ++j)
        ASSERT_EQ(got[size_t(b * outBatch + i * ldc + j)],
                  out[size_t(b * outBatch + i * ldc + j)])
            << what << " padding";
    }
}

TEST(CudaExecutor, CublasProductsMatchAHostLoop) {
  REQUIRE_GPU();
  if (std::string reason = cuda::cublasUnavailableReason(); !reason.empty())
    GTEST_SKIP() << reason;
  unsigned seed = 1;
  for (int t = 0; t < 4; ++t) {
    bool tl = t & 1, tr = t & 2;
    checkCublasProduct<float, 2>(1, 37, 29, 53, tl, tr, 0, false, 1e-5, seed++);
    checkCublasProduct<double, 2>(1, 37, 29, 53, tl, tr, 0, false, 1e-12,
                                  seed++);
    // Padded rows (a sub-view) and a column-major rhs.
    checkCublasProduct<float, 2>(1, 16, 33, 8, tl, tr, 5, true, 1e-5, seed++);
    checkCublasProduct<double, 2>(1, 16, 33, 8, tl, tr, 3, false, 1e-12,
                                  seed++);
    // Batched.
    checkCublasProduct<float, 3>(3, 12, 7, 9, tl, tr, 2, false, 1e-5, seed++);
    checkCublasProduct<double, 3>(4, 5, 11, 6, tl, tr, 0, true, 1e-12, seed++);
  }
  // A vector times a matrix.
  checkCublasProduct<float, 2>(1, 1, 64, 100, false, true, 0, false, 1e-5,
                               seed++);
  // Products of layouts cuBLAS cannot take are errors, not crashes.
  float *device = static_cast<float *>(cuda::deviceAlloc(64 * sizeof(float)));
  MemRefDescriptor<float, 2> strided{device, device, 0, {2, 2}, {4, 2}};
  MemRefDescriptor<float, 2> fine{device, device, 32, {2, 2}, {2, 1}};
  _mlir_ciface_bism_rt_cublas_gemm_f32(&strided, &fine, &fine, 0, 0);
  std::string error = cuda::takeError();
  EXPECT_NE(error.find("unit stride in neither dimension"), std::string::npos)
      << error;
  cuda::deviceFree(device);
  EXPECT_EQ(cuda::synchronize(), "");
}

TEST(CudaExecutor, PoolKeepsFreedMemoryForTheNextStep) {
  REQUIRE_GPU();
  // Larger than anything else this suite holds at once: the pool must grow.
  const size_t bytes = size_t(256) << 20;
  cuda::resetCounters();
  void *a = cuda::deviceAlloc(bytes), *b = cuda::deviceAlloc(bytes);
  void *small = cuda::deviceAlloc(4096);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  cuda::deviceFree(small);
  cuda::deviceFree(a);
  cuda::deviceFree(b);
  ASSERT_EQ(cuda::synchronize(), "");
  EXPECT_GE(cuda::counters().driverAllocations, 1u);
  // The same "step" again: served from the pool, also after synchronising
  // (the release threshold keeps the memory).
  cuda::resetCounters();
  for (int step = 0; step < 5; ++step) {
    a = cuda::deviceAlloc(bytes);
    b = cuda::deviceAlloc(bytes);
    small = cuda::deviceAlloc(4096);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    cuda::deviceFree(small);
    cuda::deviceFree(b);
    cuda::deviceFree(a);
    ASSERT_EQ(cuda::synchronize(), "");
  }
  EXPECT_EQ(cuda::counters().driverAllocations, 0u);
}

TEST(CudaExecutor, GraphReplaysTwoCapturedLaunches) {
  REQUIRE_GPU();
  void *module = mgpuModuleLoadJIT(const_cast<char *>(kAddOnePtx), 4);
  ASSERT_NE(module, nullptr) << cuda::takeError();
  void *function = mgpuModuleGetFunction(module, kAddOneName);
  ASSERT_NE(function, nullptr) << cuda::takeError();
  const uint32_t n = 3000;
  void *data = cuda::deviceAlloc(n * sizeof(float));
  mgpuMemset32(data, 0, n, nullptr);
  ASSERT_EQ(cuda::synchronize(), "");
  cuda::resetCounters();

  cuda::StepGraph graph;
  ASSERT_TRUE(graph.beginCapture()) << cuda::takeError();
  EXPECT_TRUE(graph.capturing());
  // What compiled host code does, allocation and stream calls included.
  void *stream = mgpuStreamCreate();
  void *scratch = mgpuMemAlloc(n * sizeof(float), stream, false);
  mgpuMemcpy(scratch, data, n * sizeof(float), stream);
  launchAddOne(function, scratch, n, stream);
  mgpuMemcpy(data, scratch, n * sizeof(float), stream);
  mgpuMemFree(scratch, stream);
  launchAddOne(function, data, n, stream);
  mgpuStreamSynchronize(stream); // a no-op inside the capture
  mgpuStreamDestroy(stream);
  ASSERT_TRUE(graph.endCapture()) << cuda::takeError();
  EXPECT_TRUE(graph.ready());

  // Capturing ran nothing.
  std::vector<float> back(n, -1.0f);
  cuda::copyToHost(back.data(), data, n * sizeof(float));
  ASSERT_EQ(cuda::synchronize(), "");
  EXPECT_EQ(back[0], 0.0f);
  EXPECT_EQ(back[n - 1], 0.0f);

  ASSERT_TRUE(graph.replay()) << cuda::takeError();
  ASSERT_TRUE(graph.replay()) << cuda::takeError();
  cuda::copyToHost(back.data(), data, n * sizeof(float));
  ASSERT_EQ(cuda::synchronize(), "");
  for (uint32_t i = 0; i < n; ++i)
    ASSERT_EQ(back[i], 4.0f) << i;
  cuda::Counters counted = cuda::counters();
  EXPECT_EQ(counted.launches, 2u) << "captured once";
  EXPECT_EQ(counted.graphLaunches, 2u);

  // Synchronising inside a capture is a misuse of the C++ API; the capture
  // still ends and the stream works afterwards.
  cuda::StepGraph misuse;
  ASSERT_TRUE(misuse.beginCapture()) << cuda::takeError();
  EXPECT_NE(cuda::synchronize(), "");
  launchAddOne(function, data, n, nullptr);
  EXPECT_TRUE(misuse.endCapture()) << "the launch was recorded";
  misuse.destroy();
  EXPECT_FALSE(misuse.ready());

  graph.destroy();
  cuda::deviceFree(data);
  mgpuModuleUnload(module);
  EXPECT_EQ(cuda::synchronize(), "");
}

TEST(CudaExecutor, GraphCapturesCublasProducts) {
  REQUIRE_GPU();
  if (std::string reason = cuda::cublasUnavailableReason(); !reason.empty())
    GTEST_SKIP() << reason;
  const int64_t m = 24, n = 40, k = 16;
  std::vector<float> a = randomValues<float>(m * k, 11);
  std::vector<float> b = randomValues<float>(k * n, 12);
  std::vector<float> c = randomValues<float>(m * n, 13);
  DeviceArray<float> da(a), db(b), dc(c);
  ASSERT_EQ(cuda::synchronize(), "");
  MemRefDescriptor<float, 2> l{da.device, da.device, 0, {m, k}, {k, 1}};
  MemRefDescriptor<float, 2> r{db.device, db.device, 0, {k, n}, {n, 1}};
  MemRefDescriptor<float, 2> o{dc.device, dc.device, 0, {m, n}, {n, 1}};
  cuda::StepGraph graph;
  ASSERT_TRUE(graph.beginCapture()) << cuda::takeError();
  _mlir_ciface_bism_rt_cublas_gemm_f32(&l, &r, &o, 0, 0);
  ASSERT_TRUE(graph.endCapture()) << cuda::takeError();
  ASSERT_TRUE(graph.replay());
  ASSERT_TRUE(graph.replay());
  std::vector<float> got = dc.read(c.size());
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0, scale = std::fabs(c[i * n + j]);
      for (int64_t q = 0; q < k; ++q) {
        sum += double(a[i * k + q]) * b[q * n + j];
        scale += 2 * std::fabs(double(a[i * k + q]) * b[q * n + j]);
      }
      ASSERT_NEAR(got[i * n + j], c[i * n + j] + 2 * sum, 1e-5 * scale)
          << i << "," << j;
    }
}

} // namespace
