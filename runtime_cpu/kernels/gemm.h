// Row-major single-precision matrix products through oneDNN, for MatMul, Gemm and Conv.
#pragma once

#include <cstdint>

#include "graph/status.h"

namespace tandem::cpu {

// C[m x n] = alpha * op(A) * op(B) + beta * C, all row-major; op(A) is [m x k] (A itself [k x m] when
// trans_a), op(B) is [k x n]. Leading dimensions are in elements. Thread-safe; empty products are fine
// (k == 0 scales C by beta). Fails only when oneDNN refuses the arguments.
Status sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
             int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

// Has oneDNN generate its sgemm code now, once per process: the kernels that multiply call it when they
// are made, so a session's first run does not pay for it (2.8-9 ms on that run of Silero VAD, 70-200
// times a step; docs/performance.md).
void prepare_sgemm();

// y[m, i] += bias[m] for `maps` rows of `size` elements: a convolution's per-output-map bias, added after
// its GEMM (Conv, ConvTranspose).
inline void add_row_bias(float* y, const float* bias, int64_t maps, int64_t size) {
  for (int64_t m = 0; m < maps; ++m)
    for (int64_t i = 0; i < size; ++i) y[m * size + i] += bias[m];
}

}  // namespace tandem::cpu
