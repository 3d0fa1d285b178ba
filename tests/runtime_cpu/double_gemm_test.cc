// double_gemm (runtime_cpu/kernels/double_gemm.h) against the plain triple loop, its reference twin, on
// random matrices: shapes below, at and across its blocks (16 rows, 64 of k, 256 columns), leading dimensions
// wider than the matrices, beta 0 (which must overwrite C, NaN included), 1 and another, an empty k, and
// products large enough to share rows among threads.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <limits>
#include <random>
#include <sstream>
#include <vector>

#include "runtime_cpu/kernels/double_gemm.h"

namespace tandem {
namespace {

using cpu::double_gemm;

void triple_loop(int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, const double* b, int64_t ldb,
                 double beta, double* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double sum = beta == 0.0 ? 0.0 : beta * c[i * ldc + j];
      for (int64_t p = 0; p < k; ++p) sum += a[i * lda + p] * b[p * ldb + j];
      c[i * ldc + j] = sum;
    }
}

struct Shape {
  int64_t m, n, k;
};

TEST(DoubleGemm, MatchesTheTripleLoop) {
  const Shape shapes[] = {{1, 1, 1},    {3, 5, 7},     {16, 256, 64}, {17, 257, 65}, {5, 300, 130},
                          {33, 20, 200}, {1, 600, 3},  {40, 1, 90},   {2, 3, 0},     {128, 160, 96}};
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (const Shape& s : shapes)
    for (double beta : {0.0, 1.0, -0.75})
      for (int64_t pad : {0, 3}) {
        std::ostringstream what;
        what << "m=" << s.m << " n=" << s.n << " k=" << s.k << " beta=" << beta << " pad=" << pad;
        SCOPED_TRACE(what.str());
        const int64_t lda = s.k + pad, ldb = s.n + pad, ldc = s.n + 2 * pad;
        std::vector<double> a(static_cast<std::size_t>(s.m * lda)), b(static_cast<std::size_t>(s.k * ldb));
        std::vector<double> c(static_cast<std::size_t>(s.m * ldc));
        for (double& v : a) v = u(rng);
        for (double& v : b) v = u(rng);
        for (double& v : c) v = beta == 0.0 ? std::numeric_limits<double>::quiet_NaN() : u(rng);
        std::vector<double> want = c;
        triple_loop(s.m, s.n, s.k, a.data(), lda, b.data(), ldb, beta, want.data(), ldc);
        double_gemm(s.m, s.n, s.k, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
        for (int64_t i = 0; i < s.m; ++i)
          for (int64_t j = 0; j < ldc; ++j) {
            const auto at = static_cast<std::size_t>(i * ldc + j);
            if (j >= s.n) {  // outside C: untouched
              EXPECT_TRUE(std::isnan(c[at]) == std::isnan(want[at]) &&
                          (std::isnan(c[at]) || c[at] == want[at]));
              continue;
            }
            ASSERT_NEAR(c[at], want[at], 1e-13 * (1.0 + std::abs(want[at]))) << "C[" << i << "][" << j << "]";
          }
      }
}

// Rows shared among threads give the same bits as one thread (each element's sum runs in one order).
TEST(DoubleGemm, SameBitsOnAnyNumberOfThreads) {
  const int64_t m = 200, n = 300, k = 150;
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<double> a(static_cast<std::size_t>(m * k)), b(static_cast<std::size_t>(k * n));
  for (double& v : a) v = u(rng);
  for (double& v : b) v = u(rng);
  const int saved = omp_get_max_threads();
  std::vector<double> one(static_cast<std::size_t>(m * n)), many = one;
  omp_set_num_threads(1);
  double_gemm(m, n, k, a.data(), k, b.data(), n, 0.0, one.data(), n);
  omp_set_num_threads(4);
  double_gemm(m, n, k, a.data(), k, b.data(), n, 0.0, many.data(), n);
  omp_set_num_threads(saved);
  EXPECT_EQ(one, many);
}

}  // namespace
}  // namespace tandem
