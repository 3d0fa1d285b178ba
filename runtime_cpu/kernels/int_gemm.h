// Exact integer matrix products for the quantized ops (MatMulInteger, ConvInteger, QLinearMatMul,
// QLinearConv). The operands come with their zero points already subtracted, so every element is the
// difference of two 8-bit values, in [-255, 255], and int16 holds it. ONNX accumulates in int32, where
// K > 33025 such products can overflow; the result here is exact in int64 and the kernels decide what a
// value beyond int32 means (an error for the *Integer ops, a saturated requantization for QLinear*).
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/tensor.h"

namespace tandem::cpu {

// The largest magnitude a zero-point-shifted 8-bit operand can have: 255 - 0 or 127 - (-128).
constexpr int32_t kMaxShifted = 255;

// C[m x n] = A[m x k] * B[k x n], all row-major with leading dimensions in elements; C is overwritten.
// Blocks of K short enough that int32 partial sums cannot overflow, added into int64 (cheap: one add per
// output element per block), in tiles of four rows so each row of B is loaded once for four rows of A.
void int_gemm(int64_t m, int64_t n, int64_t k, const int16_t* a, int64_t lda, const int16_t* b, int64_t ldb,
              int64_t* c, int64_t ldc);

// The two paths int_gemm chooses between (by the CPU, once): AVX2's pairwise multiply-add
// (int_gemm_avx2.cc; call it only where the CPU has AVX2), and portable C++.
void int_gemm_avx2(int64_t m, int64_t n, int64_t k, const int16_t* a, int64_t lda, const int16_t* b, int64_t ldb,
                   int64_t* c, int64_t ldc);
void int_gemm_portable(int64_t m, int64_t n, int64_t k, const int16_t* a, int64_t lda, const int16_t* b,
                       int64_t ldb, int64_t* c, int64_t ldc);

// The same product as the plain triple loop in int64: int_gemm's reference twin in the tests.
void int_gemm_reference(int64_t m, int64_t n, int64_t k, const int16_t* a, int64_t lda, const int16_t* b,
                        int64_t ldb, int64_t* c, int64_t ldc);

// The 8-bit elements of t (uint8 or int8) minus a zero point, as int16: out[i] = t[i] - zero_point(i).
// `zero_point` is called with the element's index.
template <typename ZeroPointOf>
void shift_to_int16(const Tensor& t, ZeroPointOf zero_point, int16_t* out) {
  const int64_t n = t.numel();
  if (t.dtype() == DType::kUInt8) {
    const uint8_t* p = t.data<uint8_t>();
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<int16_t>(p[i] - zero_point(i));
  } else {
    const int8_t* p = t.data<int8_t>();
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<int16_t>(p[i] - zero_point(i));
  }
}

}  // namespace tandem::cpu
