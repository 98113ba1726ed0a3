// sgemm rate on given shapes, through the OpenBLAS bism links (Debian's
// OpenMP build) with the call bism's runtime makes (runtime/src/Blas.cpp:
// cblas_sgemm, row major, alpha = beta = 1). Not part of the build: run.sh
// compiles it next to the benchmark's other outputs.
//
//   sgemm_rate SECONDS  M N K TA TB BATCH  [M N K TA TB BATCH ...]
//
// For each shape prints "M N K TA TB BATCH BEST MEDIAN": the GFLOP/s
// 2·BATCH·M·N·K / time of the fastest repetition and of the median one
// (the floor uses the fastest: a floor); each repetition runs the BATCH
// products (C[b] += op(A[b]) op(B[b])) as bism's batch_gemm does, one
// cblas_sgemm each. SECONDS is the time to spend per shape.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

int main(int argc, char **argv) {
  if (argc < 8 || (argc - 2) % 6 != 0) {
    std::fprintf(stderr, "usage: %s SECONDS M N K TA TB BATCH ...\n", argv[0]);
    return 2;
  }
  double budget = std::atof(argv[1]);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  for (int i = 2; i + 5 < argc; i += 6) {
    long m = std::atol(argv[i]), n = std::atol(argv[i + 1]),
         k = std::atol(argv[i + 2]);
    bool ta = std::atoi(argv[i + 3]) != 0, tb = std::atoi(argv[i + 4]) != 0;
    long batch = std::atol(argv[i + 5]);
    // op(A) is m x k, op(B) is k x n (row major; A stored k x m if ta).
    std::vector<float> a(size_t(batch * m * k)), b(size_t(batch * k * n)),
        c(size_t(batch * m * n), 0.0f);
    for (float &x : a)
      x = uniform(rng);
    for (float &x : b)
      x = uniform(rng);
    long lda = ta ? m : k, ldb = tb ? k : n;
    auto once = [&] {
      for (long j = 0; j < batch; ++j)
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
                    tb ? CblasTrans : CblasNoTrans, int(m), int(n), int(k), 1.0f,
                    a.data() + j * m * k, int(lda), b.data() + j * k * n,
                    int(ldb), 1.0f, c.data() + j * m * n, int(n));
    };
    using clock = std::chrono::steady_clock;
    for (int w = 0; w < 3; ++w)
      once();
    std::vector<double> times;
    auto start = clock::now();
    while (times.size() < 5 ||
           (std::chrono::duration<double>(clock::now() - start).count() < budget &&
            times.size() < 100000)) {
      auto t0 = clock::now();
      once();
      times.push_back(std::chrono::duration<double>(clock::now() - t0).count());
    }
    std::sort(times.begin(), times.end());
    double best = times.front(), median = times[times.size() / 2];
    double flops = 2.0 * double(batch) * double(m) * double(n) * double(k);
    std::printf("%ld %ld %ld %d %d %ld %.3f %.3f\n", m, n, k, int(ta), int(tb), batch,
                flops / best * 1e-9, flops / median * 1e-9);
  }
  return 0;
}
