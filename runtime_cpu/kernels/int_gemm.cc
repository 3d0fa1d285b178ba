#include "runtime_cpu/kernels/int_gemm.h"

#include <algorithm>
#include <limits>

namespace tandem::cpu {
namespace {

// K per block: int32 partial sums of kBlockK products of magnitude at most 255 * 255 stay far from 2^31
// (the bound is 33025); 256 also keeps a block of B (256 x kBlockN int16) in L2.
constexpr int64_t kBlockK = 256;
constexpr int64_t kBlockN = 256;
static_assert(kBlockK * kMaxShifted * kMaxShifted <= std::numeric_limits<int32_t>::max());

// Rows [i, i + R) of C += their product over the block [k0, k1) x [j0, j0 + nb).
template <int R>
void tile(int64_t i, int64_t j0, int64_t nb, int64_t k0, int64_t k1, const int16_t* a, int64_t lda,
          const int16_t* b, int64_t ldb, int64_t* c, int64_t ldc) {
  int32_t acc[R][kBlockN];
  for (int r = 0; r < R; ++r) std::fill(acc[r], acc[r] + nb, 0);
  for (int64_t kk = k0; kk < k1; ++kk) {
    int32_t av[R];
    bool any = false;
    for (int r = 0; r < R; ++r) av[r] = a[(i + r) * lda + kk], any = any || av[r] != 0;
    if (!any) continue;  // padding rows of a patch matrix, zero points equal to the value
    const int16_t* brow = b + kk * ldb + j0;
    for (int r = 0; r < R; ++r)
      for (int64_t j = 0; j < nb; ++j) acc[r][j] += av[r] * brow[j];
  }
  for (int r = 0; r < R; ++r)
    for (int64_t j = 0; j < nb; ++j) c[(i + r) * ldc + j0 + j] += acc[r][j];
}

}  // namespace

void int_gemm(int64_t m, int64_t n, int64_t k, const int16_t* a, int64_t lda, const int16_t* b, int64_t ldb,
              int64_t* c, int64_t ldc) {
#if defined(__x86_64__) || defined(__i386__)
  static const bool avx2 = __builtin_cpu_supports("avx2");
#else
  constexpr bool avx2 = false;
#endif
  if (avx2) return int_gemm_avx2(m, n, k, a, lda, b, ldb, c, ldc);
  int_gemm_portable(m, n, k, a, lda, b, ldb, c, ldc);
}

void int_gemm_portable(int64_t m, int64_t n, int64_t k, const int16_t* a, int64_t lda, const int16_t* b,
                       int64_t ldb, int64_t* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, int64_t{0});
  for (int64_t j0 = 0; j0 < n; j0 += kBlockN) {
    const int64_t nb = std::min(kBlockN, n - j0);
    for (int64_t k0 = 0; k0 < k; k0 += kBlockK) {
      const int64_t k1 = std::min(k, k0 + kBlockK);
      int64_t i = 0;
      for (; i + 4 <= m; i += 4) tile<4>(i, j0, nb, k0, k1, a, lda, b, ldb, c, ldc);
      for (; i < m; ++i) tile<1>(i, j0, nb, k0, k1, a, lda, b, ldb, c, ldc);
    }
  }
}

void int_gemm_reference(int64_t m, int64_t n, int64_t k, const int16_t* a, int64_t lda, const int16_t* b,
                        int64_t ldb, int64_t* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      int64_t sum = 0;
      for (int64_t kk = 0; kk < k; ++kk) sum += int64_t{a[i * lda + kk]} * b[kk * ldb + j];
      c[i * ldc + j] = sum;
    }
}

}  // namespace tandem::cpu
