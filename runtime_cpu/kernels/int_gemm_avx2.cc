// int_gemm for CPUs with AVX2: _mm256_madd_epi16 multiplies 16 pairs of int16 and adds each pair into an
// int32, 16 multiply-adds an instruction where the portable loop widens every product first. The pairs are
// two consecutive K rows of B, interleaved on the fly by unpacklo/unpackhi (no packing buffer, so a
// one-row product, batch 1, pays nothing extra); unpack works within 128-bit lanes, so the accumulators
// hold their 16 columns as [0-3, 8-11] and [4-7, 12-15] and are put back in order once per K block.
// Only this file is compiled for AVX2, and int_gemm calls it only on a CPU that has it.
#include <algorithm>
#include <cstdint>

#include "runtime_cpu/kernels/int_gemm.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

// clang has no GCC target pragma; its attribute pragma does the same for every function that follows.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2")
#endif

namespace tandem::cpu {
namespace {

// K per block: each int32 lane sums kBlockK / 2 madd results of at most 2 * 255 * 255, far below 2^31.
constexpr int64_t kBlockK = 256;
static_assert(kBlockK / 2 * 2 * int64_t{kMaxShifted} * kMaxShifted < (int64_t{1} << 31));

// Adds the 8 int32 lanes of v to c[0..8) as int64.
inline void add_to_int64(__m256i v, int64_t* c) {
  const __m256i lo = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(v));
  const __m256i hi = _mm256_cvtepi32_epi64(_mm256_extracti128_si256(v, 1));
  auto* p = reinterpret_cast<__m256i*>(c);
  _mm256_storeu_si256(p, _mm256_add_epi64(_mm256_loadu_si256(p), lo));
  _mm256_storeu_si256(p + 1, _mm256_add_epi64(_mm256_loadu_si256(p + 1), hi));
}

// Rows [i, i + R) x columns [j, j + 16 V) of C += A[., k0:k1) * B[k0:k1, .). A few rows take several
// 16-column groups at once (R * V * 2 accumulators in registers either way), so one pass over B's rows
// reads 32 V contiguous bytes of each: with one row of A, narrow strips would touch a new page per row.
template <int R, int V>
void tile(int64_t i, int64_t j, int64_t k0, int64_t k1, const int16_t* a, int64_t lda, const int16_t* b,
          int64_t ldb, int64_t* c, int64_t ldc) {
  __m256i acc_lo[R][V], acc_hi[R][V];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) acc_lo[r][v] = acc_hi[r][v] = _mm256_setzero_si256();
  for (int64_t kk = k0; kk < k1; kk += 2) {
    const bool pair = kk + 1 < k1;
    __m256i lo[V], hi[V];
    for (int v = 0; v < V; ++v) {
      const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + kk * ldb + j + 16 * v));
      const __m256i b1 = pair ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + (kk + 1) * ldb + j + 16 * v))
                              : _mm256_setzero_si256();
      lo[v] = _mm256_unpacklo_epi16(b0, b1);
      hi[v] = _mm256_unpackhi_epi16(b0, b1);
    }
    for (int r = 0; r < R; ++r) {
      const int16_t* ar = a + (i + r) * lda + kk;
      const auto a0 = static_cast<uint16_t>(ar[0]), a1 = pair ? static_cast<uint16_t>(ar[1]) : uint16_t{0};
      const __m256i av = _mm256_set1_epi32(static_cast<int32_t>(uint32_t{a0} | uint32_t{a1} << 16));
      for (int v = 0; v < V; ++v) {
        acc_lo[r][v] = _mm256_add_epi32(acc_lo[r][v], _mm256_madd_epi16(lo[v], av));
        acc_hi[r][v] = _mm256_add_epi32(acc_hi[r][v], _mm256_madd_epi16(hi[v], av));
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) {
      int64_t* cr = c + (i + r) * ldc + j + 16 * v;
      add_to_int64(_mm256_permute2x128_si256(acc_lo[r][v], acc_hi[r][v], 0x20), cr);      // columns 0-7
      add_to_int64(_mm256_permute2x128_si256(acc_lo[r][v], acc_hi[r][v], 0x31), cr + 8);  // columns 8-15
    }
}

// Columns [j, j + 16 V) for every row: blocks of K, rows four at a time (one group of 16 columns), or one
// at a time (V groups).
template <int V>
void column_strip(int64_t m, int64_t j, int64_t k, const int16_t* a, int64_t lda, const int16_t* b, int64_t ldb,
                  int64_t* c, int64_t ldc) {
  for (int64_t k0 = 0; k0 < k; k0 += kBlockK) {
    const int64_t k1 = std::min(k, k0 + kBlockK);
    int64_t i = 0;
    if constexpr (V == 1)
      for (; i + 4 <= m; i += 4) tile<4, 1>(i, j, k0, k1, a, lda, b, ldb, c, ldc);
    for (; i < m; ++i) tile<1, V>(i, j, k0, k1, a, lda, b, ldb, c, ldc);
  }
}

}  // namespace

void int_gemm_avx2(int64_t m, int64_t n, int64_t k, const int16_t* a, int64_t lda, const int16_t* b, int64_t ldb,
                   int64_t* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, int64_t{0});
  const int64_t n16 = n / 16 * 16;
  int64_t j = 0;
  // Fewer than four rows (a batch-1 product): 64 columns a strip; otherwise four rows by 16 columns.
  if (m < 4)
    for (; j + 64 <= n16; j += 64) column_strip<4>(m, j, k, a, lda, b, ldb, c, ldc);
  for (; j < n16; j += 16) column_strip<1>(m, j, k, a, lda, b, ldb, c, ldc);
  // The last n % 16 columns: exact in int64, few enough not to matter.
  for (int64_t i = 0; i < m && n16 < n; ++i)
    for (int64_t kk = 0; kk < k; ++kk) {
      const int64_t av = a[i * lda + kk];
      if (av == 0) continue;
      for (int64_t t = n16; t < n; ++t) c[i * ldc + t] += av * b[kk * ldb + t];
    }
}

}  // namespace tandem::cpu

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#else

namespace tandem::cpu {
void int_gemm_avx2(int64_t m, int64_t n, int64_t k, const int16_t* a, int64_t lda, const int16_t* b, int64_t ldb,
                   int64_t* c, int64_t ldc) {
  int_gemm_portable(m, n, k, a, lda, b, ldb, c, ldc);
}
}  // namespace tandem::cpu

#endif
