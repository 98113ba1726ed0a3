//===- BlasTest.cpp - the runtime's BLAS entry points vs naive loops ------===//
#include "bism/runtime/Blas.h"
#include "bism/runtime/Threads.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <set>
#include <vector>

using namespace bism::runtime;

namespace {

enum class Layout { Contiguous, Padded, ColMajor, ColMajorPadded, Strided };
const Layout kLayouts[] = {Layout::Contiguous, Layout::Padded, Layout::ColMajor,
                           Layout::ColMajorPadded, Layout::Strided};

const char *layoutName(Layout l) {
  switch (l) {
  case Layout::Contiguous:
    return "contiguous";
  case Layout::Padded:
    return "padded";
  case Layout::ColMajor:
    return "colmajor";
  case Layout::ColMajorPadded:
    return "colmajor-padded";
  case Layout::Strided:
    return "strided";
  }
  return "?";
}

/// A (batch of) rows x cols matrices somewhere inside a larger buffer.
template <typename T> struct Matrix {
  int64_t batch, rows, cols, offset, batchStride, rowStride, colStride;
  std::vector<T> storage;

  Matrix(int64_t batch, int64_t rows, int64_t cols, Layout layout,
         uint32_t seed)
      : batch(batch), rows(rows), cols(cols) {
    switch (layout) {
    case Layout::Contiguous:
      offset = 0, rowStride = cols, colStride = 1;
      break;
    case Layout::Padded:
      offset = 2, rowStride = cols + 3, colStride = 1;
      break;
    case Layout::ColMajor:
      offset = 1, rowStride = 1, colStride = rows;
      break;
    case Layout::ColMajorPadded:
      offset = 3, rowStride = 1, colStride = rows + 2;
      break;
    case Layout::Strided:
      offset = 1, rowStride = 2 * cols + 1, colStride = 2;
      break;
    }
    int64_t span = (rows - 1) * rowStride + (cols - 1) * colStride + 1;
    batchStride = span + 5;
    storage.resize(size_t(offset + batch * batchStride + 4));
    // Small integers: every product sum is exact, so results compare equal
    // whatever order BLAS adds in. The padding holds a sentinel.
    uint32_t state = seed;
    for (T &v : storage) {
      state = state * 1664525u + 1013904223u;
      v = T(int((state >> 24) % 7) - 3);
    }
  }

  size_t index(int64_t b, int64_t i, int64_t j) const {
    return size_t(offset + b * batchStride + i * rowStride + j * colStride);
  }
  T at(int64_t b, int64_t i, int64_t j) const { return storage[index(b, i, j)]; }

  MemRefDescriptor<T, 2> desc2() {
    return {storage.data(), storage.data(), offset, {rows, cols},
            {rowStride, colStride}};
  }
  MemRefDescriptor<T, 3> desc3() {
    return {storage.data(), storage.data(), offset, {batch, rows, cols},
            {batchStride, rowStride, colStride}};
  }
};

template <typename T>
std::vector<T> reference(const Matrix<T> &lhs, const Matrix<T> &rhs,
                         const Matrix<T> &out, bool tl, bool tr) {
  std::vector<T> expected = out.storage;
  int64_t k = tl ? lhs.rows : lhs.cols;
  for (int64_t b = 0; b < out.batch; ++b)
    for (int64_t i = 0; i < out.rows; ++i)
      for (int64_t j = 0; j < out.cols; ++j) {
        T sum = out.at(b, i, j);
        for (int64_t p = 0; p < k; ++p)
          sum += (tl ? lhs.at(b, p, i) : lhs.at(b, i, p)) *
                 (tr ? rhs.at(b, j, p) : rhs.at(b, p, j));
        expected[out.index(b, i, j)] = sum;
      }
  return expected;
}

template <typename T> void gemmCall(Matrix<T> &, Matrix<T> &, Matrix<T> &, bool, bool);
template <> void gemmCall<float>(Matrix<float> &l, Matrix<float> &r, Matrix<float> &o,
                                 bool tl, bool tr) {
  auto a = l.desc2(), b = r.desc2(), c = o.desc2();
  _mlir_ciface_bism_rt_gemm_f32(&a, &b, &c, tl, tr);
}
template <> void gemmCall<double>(Matrix<double> &l, Matrix<double> &r,
                                  Matrix<double> &o, bool tl, bool tr) {
  auto a = l.desc2(), b = r.desc2(), c = o.desc2();
  _mlir_ciface_bism_rt_gemm_f64(&a, &b, &c, tl, tr);
}
template <typename T> void batchCall(Matrix<T> &, Matrix<T> &, Matrix<T> &, bool, bool);
template <> void batchCall<float>(Matrix<float> &l, Matrix<float> &r,
                                  Matrix<float> &o, bool tl, bool tr) {
  auto a = l.desc3(), b = r.desc3(), c = o.desc3();
  _mlir_ciface_bism_rt_batch_gemm_f32(&a, &b, &c, tl, tr);
}
template <> void batchCall<double>(Matrix<double> &l, Matrix<double> &r,
                                   Matrix<double> &o, bool tl, bool tr) {
  auto a = l.desc3(), b = r.desc3(), c = o.desc3();
  _mlir_ciface_bism_rt_batch_gemm_f64(&a, &b, &c, tl, tr);
}

/// Every combination of transposes and operand layouts for one shape.
template <typename T>
void checkAll(int64_t batch, int64_t m, int64_t n, int64_t k, bool batched) {
  uint32_t seed = 1;
  for (bool tl : {false, true})
    for (bool tr : {false, true})
      for (Layout ll : kLayouts)
        for (Layout rl : kLayouts)
          for (Layout ol : kLayouts) {
            // Keep the run short: vary one operand layout at a time unless
            // the others are contiguous.
            int nonContiguous = (ll != Layout::Contiguous) +
                                (rl != Layout::Contiguous) +
                                (ol != Layout::Contiguous);
            if (nonContiguous > 1 && !(ll == rl && rl == ol))
              continue;
            Matrix<T> lhs(batch, tl ? k : m, tl ? m : k, ll, seed++);
            Matrix<T> rhs(batch, tr ? n : k, tr ? k : n, rl, seed++);
            Matrix<T> out(batch, m, n, ol, seed++);
            std::vector<T> expected = reference(lhs, rhs, out, tl, tr);
            std::vector<T> lhsBefore = lhs.storage, rhsBefore = rhs.storage;
            int64_t calls = blasCallCount();
            if (batched)
              batchCall(lhs, rhs, out, tl, tr);
            else
              gemmCall(lhs, rhs, out, tl, tr);
            EXPECT_EQ(blasCallCount(), calls + 1);
            SCOPED_TRACE(testing::Message()
                         << "m=" << m << " n=" << n << " k=" << k
                         << " batch=" << batch << " tl=" << tl << " tr=" << tr
                         << " lhs=" << layoutName(ll)
                         << " rhs=" << layoutName(rl)
                         << " out=" << layoutName(ol));
            // Whole buffers: the view is right and nothing else was touched.
            ASSERT_EQ(out.storage, expected);
            ASSERT_EQ(lhs.storage, lhsBefore);
            ASSERT_EQ(rhs.storage, rhsBefore);
          }
}

} // namespace

TEST(Blas, GemmF32) {
  checkAll<float>(1, 5, 7, 3, false);
  checkAll<float>(1, 33, 17, 20, false);
}

TEST(Blas, GemmF64) {
  checkAll<double>(1, 5, 7, 3, false);
  checkAll<double>(1, 16, 9, 31, false);
}

TEST(Blas, DegenerateShapes) {
  checkAll<float>(1, 1, 7, 3, false);  // one row
  checkAll<float>(1, 5, 1, 3, false);  // one column
  checkAll<double>(1, 4, 6, 1, false); // rank-1 update
  checkAll<double>(1, 1, 1, 1, false);
}

TEST(Blas, BatchGemmF32) { checkAll<float>(3, 4, 5, 6, true); }
TEST(Blas, BatchGemmF64) { checkAll<double>(2, 6, 3, 5, true); }

TEST(Blas, EmptyOperandsAreNoOps) {
  // K = 0: out stays as it was; the call still counts.
  Matrix<float> lhs(1, 3, 0, Layout::Contiguous, 1);
  Matrix<float> rhs(1, 0, 2, Layout::Contiguous, 2);
  Matrix<float> out(1, 3, 2, Layout::Contiguous, 3);
  std::vector<float> before = out.storage;
  int64_t calls = blasCallCount();
  gemmCall(lhs, rhs, out, false, false);
  EXPECT_EQ(out.storage, before);
  EXPECT_EQ(blasCallCount(), calls + 1);
}

TEST(Blas, Accumulates) {
  // out += lhs * rhs, twice.
  Matrix<float> lhs(1, 2, 2, Layout::Contiguous, 1);
  Matrix<float> rhs(1, 2, 2, Layout::Contiguous, 2);
  Matrix<float> out(1, 2, 2, Layout::Contiguous, 3);
  lhs.storage = {1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  rhs.storage = {1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  std::fill(out.storage.begin(), out.storage.end(), 0.0f);
  gemmCall(lhs, rhs, out, false, false);
  gemmCall(lhs, rhs, out, false, false);
  EXPECT_EQ(out.storage[0], 2.0f);
  EXPECT_EQ(out.storage[1], 4.0f);
  EXPECT_EQ(out.storage[2], 6.0f);
  EXPECT_EQ(out.storage[3], 8.0f);
}

/// Products large enough to be split over the thread pool: by rows of out
/// (m >= n) and by columns, with every transpose and layout, exact against
/// the naive loops.
TEST(Blas, SplitOverThreads) {
  setThreadCount(3);
  // At least 2 x 2^21 multiply-adds, so that two threads get a block each.
  checkAll<float>(1, 256, 96, 192, false); // by rows
  checkAll<float>(1, 24, 640, 280, false); // by columns
  checkAll<double>(2, 160, 80, 384, true); // each batch entry split
  setThreadCount(0);
}

/// Splitting does not change a single bit, whatever the thread count: each
/// element of out is summed by the same code in the same order.
TEST(Blas, ThreadCountDoesNotChangeResults) {
  std::mt19937 generator(7);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  for (auto [m, n, k] : {std::tuple<int64_t, int64_t, int64_t>{100, 400, 560},
                         {560, 400, 100}, {37, 900, 300}, {100, 560, 400},
                         {264, 200, 300}, {100, 784, 256}, {200, 100, 784}}) {
    for (bool tl : {false, true})
      for (bool tr : {false, true}) {
        Matrix<float> lhs(1, tl ? k : m, tl ? m : k, Layout::Contiguous, 1);
        Matrix<float> rhs(1, tr ? n : k, tr ? k : n, Layout::Contiguous, 2);
        Matrix<float> out(1, m, n, Layout::Contiguous, 3);
        for (auto *matrix : {&lhs, &rhs, &out})
          for (float &v : matrix->storage)
            v = uniform(generator);
        std::vector<float> initial = out.storage;
        std::vector<std::vector<float>> results;
        for (int threads : {1, 2, 3, 5}) {
          setThreadCount(threads);
          out.storage = initial;
          gemmCall(lhs, rhs, out, tl, tr);
          results.push_back(out.storage);
        }
        SCOPED_TRACE(testing::Message() << "m=" << m << " n=" << n
                                        << " k=" << k << " tl=" << tl
                                        << " tr=" << tr);
        for (size_t i = 1; i < results.size(); ++i)
          ASSERT_EQ(0, std::memcmp(results[0].data(), results[i].data(),
                                   results[0].size() * sizeof(float)));
      }
  }
  setThreadCount(0);
}
