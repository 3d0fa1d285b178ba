// The fast RNN step compiled for AVX2 with FMA: 8 floats per vector, blocks of 8 hidden units. Only this
// file's code is compiled for AVX2, and rnn_fast_path.cc calls it only on a CPU that has it. The headers
// with inline code are included before the target region, so nothing shared with other files is compiled
// for AVX2; rnn_fast_step.h, inside it, has internal linkage throughout.
#include <cmath>
#include <cstdint>
#include <limits>

#include "runtime_cpu/kernels/rnn_activation.h"
#include "runtime_cpu/kernels/rnn_fast_isa.h"
#include "runtime_cpu/kernels/vector_math.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

// clang has no GCC target pragma; its attribute pragma does the same for every function that follows.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif
#include "runtime_cpu/kernels/rnn_fast_step.h"
#include "runtime_cpu/kernels/vector_math_impl.h"

namespace tandem::cpu::rnn {
namespace {

struct Avx2 {
  using T = __m256;
  static constexpr int kLanes = 8, kBlock = 8, kMaxAcc = 12;  // of 16 registers: room for loads
  [[gnu::always_inline]] static inline T load(const float* p) { return _mm256_loadu_ps(p); }
  [[gnu::always_inline]] static inline void store(float* p, T x) { _mm256_storeu_ps(p, x); }
  [[gnu::always_inline]] static inline T set1(float x) { return _mm256_set1_ps(x); }
  [[gnu::always_inline]] static inline T zero() { return _mm256_setzero_ps(); }
  [[gnu::always_inline]] static inline T add(T a, T b) { return _mm256_add_ps(a, b); }
  [[gnu::always_inline]] static inline T sub(T a, T b) { return _mm256_sub_ps(a, b); }
  [[gnu::always_inline]] static inline T mul(T a, T b) { return _mm256_mul_ps(a, b); }
  [[gnu::always_inline]] static inline T div(T a, T b) { return _mm256_div_ps(a, b); }
  [[gnu::always_inline]] static inline T min(T a, T b) { return _mm256_min_ps(a, b); }
  [[gnu::always_inline]] static inline T max(T a, T b) { return _mm256_max_ps(a, b); }
  [[gnu::always_inline]] static inline T fma(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  [[gnu::always_inline]] static inline T fnma(T a, T b, T c) { return _mm256_fnmadd_ps(a, b, c); }
  [[gnu::always_inline]] static inline T floor(T x) { return _mm256_floor_ps(x); }
  [[gnu::always_inline]] static inline T pow2(T n) {
    const __m256i e = _mm256_add_epi32(_mm256_cvttps_epi32(n), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
  }
  [[gnu::always_inline]] static inline T abs(T x) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x); }
  [[gnu::always_inline]] static inline T copy_sign(T mag, T sign) {
    const T s = _mm256_set1_ps(-0.0f);
    return _mm256_or_ps(_mm256_andnot_ps(s, mag), _mm256_and_ps(s, sign));
  }
  [[gnu::always_inline]] static inline T select_lt(T a, T b, T x, T y) {
    return _mm256_blendv_ps(y, x, _mm256_cmp_ps(a, b, _CMP_LT_OQ));
  }
  // x's exponent field less its bias, as a float (floor(log2 x) for a normal x).
  [[gnu::always_inline]] static inline T exponent(T x) {
    const __m256i e = _mm256_and_si256(_mm256_srli_epi32(_mm256_castps_si256(x), 23), _mm256_set1_epi32(0xff));
    return _mm256_cvtepi32_ps(_mm256_sub_epi32(e, _mm256_set1_epi32(127)));
  }
  // x with its exponent field replaced by the bias: its significand, in [1, 2) for a normal x.
  [[gnu::always_inline]] static inline T mantissa(T x) {
    const __m256i m = _mm256_and_si256(_mm256_castps_si256(x), _mm256_set1_epi32(0x007fffff));
    return _mm256_castsi256_ps(_mm256_or_si256(m, _mm256_set1_epi32(0x3f800000)));
  }
};

void step_avx2(const StepArgs& s, int64_t k, int phase, int64_t first, int64_t last) {
  step<Avx2>(s, k, phase, first, last);
}

void panel_product_avx2(const float* panels, int64_t M, int64_t K, const float* bt, int64_t N, float* y,
                         int64_t ldy) {
  panel_product<Avx2>(panels, M, K, bt, N, y, ldy);
}

VectorMath make_vector_math_avx2() { return vector_math_of<Avx2>(); }

}  // namespace
}  // namespace tandem::cpu::rnn
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

namespace tandem::cpu::rnn {
const IsaKernels& avx2_kernels() {
  static const IsaKernels k{Avx2::kBlock, &step_avx2, &panel_product_avx2};
  return k;
}
const VectorMath& avx2_vector_math() {
  static const VectorMath m = make_vector_math_avx2();
  return m;
}
}  // namespace tandem::cpu::rnn

#else  // not x86: rnn_fast_path.cc never picks this instruction set
namespace tandem::cpu::rnn {
const IsaKernels& avx2_kernels() { return scalar_kernels(); }
const VectorMath& avx2_vector_math() { return scalar_vector_math(); }
}  // namespace tandem::cpu::rnn
#endif
