#include "runtime_cpu/kernels/gemm.h"

#include <oneapi/dnnl/dnnl.h>

#include <mutex>
#include <string>

namespace tandem::cpu {

Status sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
             int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m == 0 || n == 0) return Status::ok();
  if (k == 0) {
    // oneDNN would be handed zero-width operands: do the (trivial) work here.
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
    return Status::ok();
  }
  const dnnl_status_t s =
      dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  if (s != dnnl_success)
    return Status::error("oneDNN sgemm failed (status " + std::to_string(static_cast<int>(s)) + ") for m=" +
                         std::to_string(m) + " n=" + std::to_string(n) + " k=" + std::to_string(k));
  return Status::ok();
}

void prepare_sgemm() {
  static std::once_flag once;
  std::call_once(once, [] {
    // A 2x2 product in each transpose form (the result is dropped): oneDNN generates its code for f32 sgemm
    // on the first call; the four forms cost nothing more.
    float a[4] = {1, 2, 3, 4}, b[4] = {1, 0, 0, 1}, c[4] = {};
    for (char ta : {'N', 'T'})
      for (char tb : {'N', 'T'}) dnnl_sgemm(ta, tb, 2, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c, 2);
  });
}

}  // namespace tandem::cpu
