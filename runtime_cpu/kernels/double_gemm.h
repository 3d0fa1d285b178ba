// A double-precision matrix product for the kernels that compute in double (LSTM/GRU/RNN on float64 models):
// oneDNN 2.6 has sgemm but no dgemm. Plain C++, blocked so a panel of B stays in cache while the rows of A
// pass over it; it serves the reference path, so clarity comes before speed.
#pragma once

#include <cstdint>

namespace tandem::cpu {

// C = A·B + beta·C, all row-major with leading dimensions in elements: A [m x k], B [k x n], C [m x n].
// beta == 0 overwrites C (whatever it held, NaN included). Each element's sum runs over k in order, so the
// result does not depend on the blocking or on the number of threads (large products use the calling
// thread's OpenMP team, a row block per thread).
void double_gemm(int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, const double* b, int64_t ldb,
                 double beta, double* c, int64_t ldc);

}  // namespace tandem::cpu
