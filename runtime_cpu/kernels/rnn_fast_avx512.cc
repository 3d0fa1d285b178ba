// The fast RNN step compiled for AVX-512 (with FMA): 16 floats per vector, blocks of 16 hidden units.
// Only this file's code is compiled for AVX-512, and rnn_fast_path.cc calls it only on a CPU that has it.
// The headers with inline code are included before the target region, so nothing shared with other files
// is compiled for AVX-512; rnn_fast_step.h, inside it, has internal linkage throughout.
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
#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
#endif
#include "runtime_cpu/kernels/rnn_fast_step.h"
#include "runtime_cpu/kernels/vector_math_impl.h"

namespace tandem::cpu::rnn {
namespace {

// GCC 12's unmasked forms of max, min, roundscale, cvtt and slli start from _mm512_undefined_*(), which it
// then warns about as maybe uninitialized (GCC bug 105593); the masked forms with every lane selected are
// the same instructions without the warning.
constexpr __mmask16 kAll = 0xffff;

struct Avx512 {
  using T = __m512;
  static constexpr int kLanes = 16, kBlock = 16, kMaxAcc = 24;  // of 32 registers: room for loads
  [[gnu::always_inline]] static inline T load(const float* p) { return _mm512_loadu_ps(p); }
  [[gnu::always_inline]] static inline void store(float* p, T x) { _mm512_storeu_ps(p, x); }
  [[gnu::always_inline]] static inline T set1(float x) { return _mm512_set1_ps(x); }
  [[gnu::always_inline]] static inline T zero() { return _mm512_setzero_ps(); }
  [[gnu::always_inline]] static inline T add(T a, T b) { return _mm512_add_ps(a, b); }
  [[gnu::always_inline]] static inline T sub(T a, T b) { return _mm512_sub_ps(a, b); }
  [[gnu::always_inline]] static inline T mul(T a, T b) { return _mm512_mul_ps(a, b); }
  [[gnu::always_inline]] static inline T div(T a, T b) { return _mm512_div_ps(a, b); }
  [[gnu::always_inline]] static inline T min(T a, T b) { return _mm512_mask_min_ps(a, kAll, a, b); }
  [[gnu::always_inline]] static inline T max(T a, T b) { return _mm512_mask_max_ps(a, kAll, a, b); }
  [[gnu::always_inline]] static inline T fma(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  [[gnu::always_inline]] static inline T fnma(T a, T b, T c) { return _mm512_fnmadd_ps(a, b, c); }
  [[gnu::always_inline]] static inline T floor(T x) {
    return _mm512_mask_roundscale_ps(x, kAll, x, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  }
  [[gnu::always_inline]] static inline T pow2(T n) {
    const __m512i bias = _mm512_set1_epi32(127);
    const __m512i e = _mm512_add_epi32(_mm512_mask_cvttps_epi32(bias, kAll, n), bias);
    return _mm512_castsi512_ps(_mm512_mask_slli_epi32(e, kAll, e, 23));
  }
  // Bit operations on floats are AVX512DQ; the integer forms are AVX512F.
  [[gnu::always_inline]] static inline T abs(T x) {
    return _mm512_castsi512_ps(_mm512_and_epi32(_mm512_castps_si512(x), _mm512_set1_epi32(0x7fffffff)));
  }
  [[gnu::always_inline]] static inline T copy_sign(T mag, T sign) {
    const __m512i m = _mm512_and_epi32(_mm512_castps_si512(mag), _mm512_set1_epi32(0x7fffffff));
    const __m512i s = _mm512_and_epi32(_mm512_castps_si512(sign), _mm512_set1_epi32(INT32_MIN));
    return _mm512_castsi512_ps(_mm512_or_epi32(m, s));
  }
  [[gnu::always_inline]] static inline T select_lt(T a, T b, T x, T y) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_LT_OQ), y, x);
  }
  // x's exponent field less its bias, as a float (floor(log2 x) for a normal x).
  [[gnu::always_inline]] static inline T exponent(T x) {
    const __m512i b = _mm512_castps_si512(x);
    const __m512i e = _mm512_and_epi32(_mm512_mask_srli_epi32(b, kAll, b, 23), _mm512_set1_epi32(0xff));
    const __m512i u = _mm512_sub_epi32(e, _mm512_set1_epi32(127));
    return _mm512_mask_cvtepi32_ps(x, kAll, u);
  }
  // x with its exponent field replaced by the bias: its significand, in [1, 2) for a normal x.
  [[gnu::always_inline]] static inline T mantissa(T x) {
    const __m512i m = _mm512_and_epi32(_mm512_castps_si512(x), _mm512_set1_epi32(0x007fffff));
    return _mm512_castsi512_ps(_mm512_or_epi32(m, _mm512_set1_epi32(0x3f800000)));
  }
};

void step_avx512(const StepArgs& s, int64_t k, int phase, int64_t first, int64_t last) {
  step<Avx512>(s, k, phase, first, last);
}

void panel_product_avx512(const float* panels, int64_t M, int64_t K, const float* bt, int64_t N, float* y,
                         int64_t ldy) {
  panel_product<Avx512>(panels, M, K, bt, N, y, ldy);
}

VectorMath make_vector_math_avx512() { return vector_math_of<Avx512>(); }

}  // namespace
}  // namespace tandem::cpu::rnn
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

namespace tandem::cpu::rnn {
const IsaKernels& avx512_kernels() {
  static const IsaKernels k{Avx512::kBlock, &step_avx512, &panel_product_avx512};
  return k;
}
const VectorMath& avx512_vector_math() {
  static const VectorMath m = make_vector_math_avx512();
  return m;
}
}  // namespace tandem::cpu::rnn

#else  // not x86: rnn_fast_path.cc never picks this instruction set
namespace tandem::cpu::rnn {
const IsaKernels& avx512_kernels() { return scalar_kernels(); }
const VectorMath& avx512_vector_math() { return scalar_vector_math(); }
}  // namespace tandem::cpu::rnn
#endif
