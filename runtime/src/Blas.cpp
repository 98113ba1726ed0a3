//===- Blas.cpp - BLAS entry points called by compiled code ---------------===//
//
// out += op(lhs) * op(rhs) through OpenBLAS. A matrix view whose inner (or,
// transposed, outer) stride is 1 is handed to BLAS with its leading dimension;
// anything else is packed into a contiguous temporary first. A large product
// is split into blocks of rows (or columns) of `out`, one per thread of the
// OpenMP pool the compiled kernels use; OpenBLAS itself runs single-threaded
// on each.
//
//===----------------------------------------------------------------------===//
#include "bism/runtime/Blas.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <vector>

using bism::runtime::MemRefDescriptor;

namespace {

std::atomic<int64_t> callCount{0};

[[noreturn]] void fatal(const char *what) {
  std::fprintf(stderr, "bism runtime: BLAS call: %s\n", what);
  std::abort();
}

blasint toBlasInt(int64_t v) {
  if (v < 0 || v > INT_MAX)
    fatal("dimension does not fit OpenBLAS's 32-bit integers");
  return blasint(v);
}

/// OpenBLAS's own threads stay idle: the split below uses the pool the
/// kernels run on (OPENBLAS_NUM_THREADS would otherwise start a second one).
void useOneOpenBlasThread() {
  static const bool done = [] {
    openblas_set_num_threads(1);
    return true;
  }();
  (void)done;
}

inline void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, blasint m, blasint n,
                 blasint k, const float *a, blasint lda, const float *b,
                 blasint ldb, float *c, blasint ldc) {
  cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.0f, a, lda, b, ldb, 1.0f, c,
              ldc);
}
inline void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, blasint m, blasint n,
                 blasint k, const double *a, blasint lda, const double *b,
                 blasint ldb, double *c, blasint ldc) {
  cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, 1.0, a, lda, b, ldb, 1.0, c,
              ldc);
}

/// A strided 2-D view (sizes and strides as stored, before any transpose).
template <typename T> struct View {
  T *data;
  int64_t rows, cols, rowStride, colStride;
};

/// An operand as BLAS sees it (row-major with leading dimension `ld`).
template <typename T> struct Operand {
  const T *data;
  int64_t ld;
  bool transposed;
};

template <typename T>
Operand<T> prepareInput(const View<T> &v, bool transposed,
                        std::vector<T> &scratch) {
  // Row-major with unit inner stride: pass as is.
  if ((v.colStride == 1 || v.cols <= 1) &&
      (v.rowStride >= std::max<int64_t>(1, v.cols) || v.rows <= 1))
    return {v.data, v.rows <= 1 ? std::max<int64_t>(1, v.cols) : v.rowStride,
            transposed};
  // Column-major (unit outer stride): the transpose of a row-major matrix.
  if ((v.rowStride == 1 || v.rows <= 1) &&
      (v.colStride >= std::max<int64_t>(1, v.rows) || v.cols <= 1))
    return {v.data, v.cols <= 1 ? std::max<int64_t>(1, v.rows) : v.colStride,
            !transposed};
  // Anything else: pack.
  scratch.resize(size_t(v.rows * v.cols));
  for (int64_t i = 0; i < v.rows; ++i)
    for (int64_t j = 0; j < v.cols; ++j)
      scratch[size_t(i * v.cols + j)] =
          v.data[i * v.rowStride + j * v.colStride];
  return {scratch.data(), std::max<int64_t>(1, v.cols), transposed};
}

/// The fewest multiply-adds a thread is given: waking the pool for less
/// costs more than it saves. It also keeps every block above the sizes for
/// which OpenBLAS switches to its small-matrix kernels (at most 100^3
/// multiply-adds), which sum in another order: a block is computed exactly
/// as the whole product would be, so results do not depend on the thread
/// count.
constexpr int64_t kMinMultiplyAddsPerThread = int64_t(1) << 21;
/// Blocks are multiples of this many rows or columns: the halves of 400
/// columns or 560 rows (the Frey products) are equal, so neither thread
/// waits for the other. Each element is still summed by a register tile in
/// the order of k, as in the whole product (BlasTest checks every thread
/// count bit for bit, on blocks that end inside OpenBLAS's 16-row tiles).
constexpr int64_t kBlockAlignment = 8;

/// out[m x n] += a * b, split over the threads along the longer side of out.
template <typename T>
void gemmSplit(const Operand<T> &a, const Operand<T> &b, T *c, int64_t ldc,
               int64_t m, int64_t n, int64_t k) {
  useOneOpenBlasThread();
  CBLAS_TRANSPOSE ta = a.transposed ? CblasTrans : CblasNoTrans;
  CBLAS_TRANSPOSE tb = b.transposed ? CblasTrans : CblasNoTrans;
  bool splitRows = m >= n;
  int64_t side = splitRows ? m : n;
  int64_t blocks = std::min<int64_t>(
      {omp_in_parallel() ? 1 : omp_get_max_threads(),
       side / kBlockAlignment, m * n * k / kMinMultiplyAddsPerThread});
  // Aligned blocks of at least side / blocks; the last one takes the rest.
  int64_t per = (side + std::max<int64_t>(blocks, 1) - 1) /
                std::max<int64_t>(blocks, 1);
  per = (per + kBlockAlignment - 1) / kBlockAlignment * kBlockAlignment;
  // Rounding `per` up can leave fewer blocks than asked (400 rows in two:
  // 208 and 192), never more.
  blocks = (side + per - 1) / per;
  if (blocks <= 1) {
    gemm(ta, tb, toBlasInt(m), toBlasInt(n), toBlasInt(k), a.data,
         toBlasInt(a.ld), b.data, toBlasInt(b.ld), c, toBlasInt(ldc));
    return;
  }
  // A parallel region whose threads take blocks by number, rather than an
  // `omp for`: libomp's worksharing-loop start allocates per call.
#pragma omp parallel num_threads(int(blocks))
  for (int64_t block = omp_get_thread_num(); block < blocks;
       block += omp_get_num_threads()) {
    int64_t begin = block * per;
    int64_t end = block == blocks - 1 ? side : begin + per;
    if (splitRows) {
      // Rows of op(a): a row offset of a, or a column offset of its
      // transposed storage.
      const T *rowsOfA = a.data + (a.transposed ? begin : begin * a.ld);
      gemm(ta, tb, toBlasInt(end - begin), toBlasInt(n), toBlasInt(k),
           rowsOfA, toBlasInt(a.ld), b.data, toBlasInt(b.ld), c + begin * ldc,
           toBlasInt(ldc));
    } else {
      const T *columnsOfB = b.data + (b.transposed ? begin * b.ld : begin);
      gemm(ta, tb, toBlasInt(m), toBlasInt(end - begin), toBlasInt(k),
           a.data, toBlasInt(a.ld), columnsOfB, toBlasInt(b.ld), c + begin,
           toBlasInt(ldc));
    }
  }
}

template <typename T>
void gemmView(const View<T> &lhs, const View<T> &rhs, const View<T> &out,
              bool transposeLhs, bool transposeRhs) {
  int64_t m = transposeLhs ? lhs.cols : lhs.rows;
  int64_t k = transposeLhs ? lhs.rows : lhs.cols;
  int64_t kr = transposeRhs ? rhs.cols : rhs.rows;
  int64_t n = transposeRhs ? rhs.rows : rhs.cols;
  if (k != kr || out.rows != m || out.cols != n)
    fatal("operand shapes do not agree");
  if (m == 0 || n == 0 || k == 0)
    return;

  std::vector<T> lhsScratch, rhsScratch, outScratch;
  Operand<T> a = prepareInput(lhs, transposeLhs, lhsScratch);
  Operand<T> b = prepareInput(rhs, transposeRhs, rhsScratch);

  bool outDirect = (out.colStride == 1 || out.cols <= 1) &&
                   (out.rowStride >= std::max<int64_t>(1, out.cols) ||
                    out.rows <= 1);
  T *c = out.data;
  int64_t ldc = out.rows <= 1 ? std::max<int64_t>(1, out.cols) : out.rowStride;
  if (!outDirect) {
    outScratch.resize(size_t(m * n));
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j)
        outScratch[size_t(i * n + j)] =
            out.data[i * out.rowStride + j * out.colStride];
    c = outScratch.data();
    ldc = n;
  }

  gemmSplit(a, b, c, ldc, m, n, k);

  if (!outDirect)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j)
        out.data[i * out.rowStride + j * out.colStride] =
            outScratch[size_t(i * n + j)];
}

template <typename T> View<T> view2d(MemRefDescriptor<T, 2> *d) {
  return {d->aligned + d->offset, d->sizes[0], d->sizes[1], d->strides[0],
          d->strides[1]};
}

template <typename T> View<T> view3d(MemRefDescriptor<T, 3> *d, int64_t b) {
  return {d->aligned + d->offset + b * d->strides[0], d->sizes[1],
          d->sizes[2], d->strides[1], d->strides[2]};
}

template <typename T>
void gemm2d(MemRefDescriptor<T, 2> *lhs, MemRefDescriptor<T, 2> *rhs,
            MemRefDescriptor<T, 2> *out, int64_t transposeLhs,
            int64_t transposeRhs) {
  callCount.fetch_add(1, std::memory_order_relaxed);
  gemmView(view2d(lhs), view2d(rhs), view2d(out), transposeLhs != 0,
           transposeRhs != 0);
}

template <typename T>
void gemm3d(MemRefDescriptor<T, 3> *lhs, MemRefDescriptor<T, 3> *rhs,
            MemRefDescriptor<T, 3> *out, int64_t transposeLhs,
            int64_t transposeRhs) {
  callCount.fetch_add(1, std::memory_order_relaxed);
  int64_t batch = out->sizes[0];
  if (lhs->sizes[0] != batch || rhs->sizes[0] != batch)
    fatal("batch sizes do not agree");
  for (int64_t b = 0; b < batch; ++b)
    gemmView(view3d(lhs, b), view3d(rhs, b), view3d(out, b),
             transposeLhs != 0, transposeRhs != 0);
}

} // namespace

extern "C" {
void _mlir_ciface_bism_rt_gemm_f32(MemRefDescriptor<float, 2> *lhs,
                                   MemRefDescriptor<float, 2> *rhs,
                                   MemRefDescriptor<float, 2> *out,
                                   int64_t transposeLhs, int64_t transposeRhs) {
  gemm2d(lhs, rhs, out, transposeLhs, transposeRhs);
}
void _mlir_ciface_bism_rt_gemm_f64(MemRefDescriptor<double, 2> *lhs,
                                   MemRefDescriptor<double, 2> *rhs,
                                   MemRefDescriptor<double, 2> *out,
                                   int64_t transposeLhs, int64_t transposeRhs) {
  gemm2d(lhs, rhs, out, transposeLhs, transposeRhs);
}
void _mlir_ciface_bism_rt_batch_gemm_f32(MemRefDescriptor<float, 3> *lhs,
                                         MemRefDescriptor<float, 3> *rhs,
                                         MemRefDescriptor<float, 3> *out,
                                         int64_t transposeLhs,
                                         int64_t transposeRhs) {
  gemm3d(lhs, rhs, out, transposeLhs, transposeRhs);
}
void _mlir_ciface_bism_rt_batch_gemm_f64(MemRefDescriptor<double, 3> *lhs,
                                         MemRefDescriptor<double, 3> *rhs,
                                         MemRefDescriptor<double, 3> *out,
                                         int64_t transposeLhs,
                                         int64_t transposeRhs) {
  gemm3d(lhs, rhs, out, transposeLhs, transposeRhs);
}
}

namespace bism::runtime {
int64_t blasCallCount() { return callCount.load(std::memory_order_relaxed); }
} // namespace bism::runtime
