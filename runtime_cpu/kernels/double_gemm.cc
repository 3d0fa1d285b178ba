#include "runtime_cpu/kernels/double_gemm.h"

#include <omp.h>

#include <algorithm>

namespace tandem::cpu {
namespace {

// A block of B is kBlockK x kBlockN doubles (128 KiB, within L2); rows of A are shared out kBlockM at a time.
constexpr int64_t kBlockK = 64, kBlockN = 256, kBlockM = 16;
// Threads join only for products this large (multiply-adds per thread): below it, waking them costs more.
constexpr int64_t kMinMacsPerThread = int64_t{1} << 20;

// Rows [i0, i1) of C.
void rows(int64_t i0, int64_t i1, int64_t n, int64_t k, const double* a, int64_t lda, const double* b,
          int64_t ldb, double beta, double* c, int64_t ldc) {
  for (int64_t i = i0; i < i1; ++i) {
    double* ci = c + i * ldc;
    for (int64_t j = 0; j < n; ++j) ci[j] = beta == 0.0 ? 0.0 : beta * ci[j];
  }
  for (int64_t k0 = 0; k0 < k; k0 += kBlockK) {
    const int64_t k1 = std::min(k, k0 + kBlockK);
    for (int64_t j0 = 0; j0 < n; j0 += kBlockN) {
      const int64_t nj = std::min(n, j0 + kBlockN) - j0;
      for (int64_t i = i0; i < i1; ++i) {
        double* ci = c + i * ldc + j0;
        for (int64_t p = k0; p < k1; ++p) {
          const double aip = a[i * lda + p];
          const double* bp = b + p * ldb + j0;
          for (int64_t j = 0; j < nj; ++j) ci[j] += aip * bp[j];  // along a row: vectorised
        }
      }
    }
  }
}

}  // namespace

void double_gemm(int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, const double* b, int64_t ldb,
                 double beta, double* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  const int64_t blocks = (m + kBlockM - 1) / kBlockM;
  const int64_t team =
      std::min<int64_t>({omp_get_max_threads(), blocks, std::max<int64_t>(1, m * n * k / kMinMacsPerThread)});
  if (team <= 1) {
    rows(0, m, n, k, a, lda, b, ldb, beta, c, ldc);
    return;
  }
#pragma omp parallel for num_threads(static_cast<int>(team)) schedule(static)
  for (int64_t blk = 0; blk < blocks; ++blk)
    rows(blk * kBlockM, std::min(m, (blk + 1) * kBlockM), n, k, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace tandem::cpu
