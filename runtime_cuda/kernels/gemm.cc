#include "runtime_cuda/kernels/gemm.h"

#include <algorithm>
#include <climits>
#include <string>

#include "runtime_cuda/cuda_check.h"
#include "runtime_cuda/kernels/elementwise.h"

namespace tandem::cuda {
namespace {

Status fits_int(int64_t v, const char* what) {
  if (v < 0 || v > INT_MAX)
    return Status::error(std::string("cuBLAS: ") + what + " = " + std::to_string(v) + " is outside [0, INT_MAX]");
  return Status::ok();
}

std::string dims(int64_t m, int64_t n, int64_t k) {
  return " (M=" + std::to_string(m) + " N=" + std::to_string(n) + " K=" + std::to_string(k) + ")";
}

}  // namespace

Result<CublasHandle> CublasHandle::create(cudaStream_t stream, void* workspace, std::size_t workspace_bytes) {
  CublasHandle h;
  TANDEM_CUBLAS_RETURN_IF_ERROR(cublasCreate(&h.h_));
  // Plain FP32: no TF32 tensor-core rounding, so GPU results agree with the CPU kernels to ~1e-6 relative.
  TANDEM_CUBLAS_RETURN_IF_ERROR(cublasSetMathMode(h.h_, CUBLAS_DEFAULT_MATH));
  // The stream first: setting it resets the workspace.
  TANDEM_CUBLAS_RETURN_IF_ERROR(cublasSetStream(h.h_, stream));
  TANDEM_CUBLAS_RETURN_IF_ERROR(cublasSetWorkspace(h.h_, workspace, workspace ? workspace_bytes : 0));
  return h;
}

CublasHandle& CublasHandle::operator=(CublasHandle&& o) noexcept {
  if (this != &o) {
    if (h_) cublasDestroy(h_);
    h_ = o.h_;
    o.h_ = nullptr;
  }
  return *this;
}

CublasHandle::~CublasHandle() {
  if (h_) cublasDestroy(h_);
}

Status sgemm(cublasHandle_t handle, cudaStream_t stream, bool trans_a, bool trans_b, int64_t m, int64_t n,
             int64_t k, float alpha, const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
             int64_t ldc) {
  return sgemm_strided_batched(handle, stream, trans_a, trans_b, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, c, ldc,
                               0, 1);
}

Status sgemm_strided_batched(cublasHandle_t handle, cudaStream_t stream, bool trans_a, bool trans_b, int64_t m,
                             int64_t n, int64_t k, float alpha, const float* a, int64_t lda, int64_t stride_a,
                             const float* b, int64_t ldb, int64_t stride_b, float beta, float* c, int64_t ldc,
                             int64_t stride_c, int64_t batch) {
  if (m == 0 || n == 0 || batch == 0) return Status::ok();
  for (auto [v, name] : {std::pair{m, "M"}, {n, "N"}, {k, "K"}, {lda, "lda"}, {ldb, "ldb"}, {ldc, "ldc"}, {batch, "batch"}})
    TANDEM_RETURN_IF_ERROR(fits_int(v, name));
  cudaStream_t bound = nullptr;
  TANDEM_CUBLAS_RETURN_IF_ERROR(cublasGetStream(handle, &bound));
  if (bound != stream) return Status::error("cuBLAS: the handle is bound to another stream than the call's");
  // Column-major view: Cᵀ[n,m] = op(B)ᵀ[n,k] · op(A)ᵀ[k,m]; a row-major matrix is its transpose column-major.
  const cublasOperation_t op_b = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_a = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int ni = static_cast<int>(n), mi = static_cast<int>(m), ki = static_cast<int>(k);
  // cuBLAS wants leading dimensions ≥ 1 even when K is 0.
  const int ldai = static_cast<int>(lda > 0 ? lda : 1), ldbi = static_cast<int>(ldb > 0 ? ldb : 1);
  const int ldci = static_cast<int>(ldc);
  if (batch == 1)
    return cublas_status(cublasSgemm(handle, op_b, op_a, ni, mi, ki, &alpha, b, ldbi, a, ldai, &beta, c, ldci),
                         "cublasSgemm" + dims(m, n, k));
  return cublas_status(cublasSgemmStridedBatched(handle, op_b, op_a, ni, mi, ki, &alpha, b, ldbi, stride_b, a, ldai,
                                                 stride_a, &beta, c, ldci, stride_c, static_cast<int>(batch)),
                       "cublasSgemmStridedBatched" + dims(m, n, k) + " x" + std::to_string(batch));
}

Result<std::vector<int64_t>> matmul_output_shape(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  if (a.empty() || b.empty()) return Status::error("MatMul operands must have rank at least 1");
  std::vector<int64_t> a2 = a, b2 = b;
  if (a2.size() == 1) a2.insert(a2.begin(), 1);
  if (b2.size() == 1) b2.push_back(1);
  const int64_t k = a2.back();
  if (b2[b2.size() - 2] != k)
    return Status::error("MatMul: inner dimensions differ: " + std::to_string(k) + " vs " +
                         std::to_string(b2[b2.size() - 2]));
  std::vector<int64_t> ba(a2.begin(), a2.end() - 2), bb(b2.begin(), b2.end() - 2);
  TANDEM_ASSIGN_OR_RETURN(std::vector<int64_t> out, broadcast_shape(ba, bb));
  if (a.size() > 1) out.push_back(a2[a2.size() - 2]);
  if (b.size() > 1) out.push_back(b2.back());
  return out;
}

Status matmul(cublasHandle_t handle, cudaStream_t stream, const float* a, const std::vector<int64_t>& a_shape,
              const float* b, const std::vector<int64_t>& b_shape, float* y) {
  TANDEM_ASSIGN_OR_RETURN(std::vector<int64_t> out_shape, matmul_output_shape(a_shape, b_shape));
  std::vector<int64_t> a2 = a_shape, b2 = b_shape;
  if (a2.size() == 1) a2.insert(a2.begin(), 1);
  if (b2.size() == 1) b2.push_back(1);
  const int64_t m = a2[a2.size() - 2], k = a2.back(), n = b2.back();
  std::vector<int64_t> ba(a2.begin(), a2.end() - 2), bb(b2.begin(), b2.end() - 2);
  TANDEM_ASSIGN_OR_RETURN(std::vector<int64_t> batch_shape, broadcast_shape(ba, bb));
  int64_t batch = 1;
  for (int64_t d : batch_shape) batch *= d;
  auto numel = [](const std::vector<int64_t>& s) {
    int64_t p = 1;
    for (int64_t d : s) p *= d;
    return p;
  };
  const int64_t na = numel(ba), nb = numel(bb);
  // One strided-batched call covers equal batch shapes and an operand that is the same for every batch.
  if ((na == batch || na == 1) && (nb == batch || nb == 1) && (na == 1 || nb == 1 || ba == bb))
    return sgemm_strided_batched(handle, stream, false, false, m, n, k, 1.0f, a, k, na == 1 ? 0 : m * k, b, n,
                                 nb == 1 ? 0 : k * n, 0.0f, y, n, m * n, batch);
  // Mixed broadcasting ([2,1] x [1,3] batches): one product per output batch, operands found by index.
  const std::size_t r = batch_shape.size();
  std::vector<int64_t> pa(r, 1), pb(r, 1);
  std::copy(ba.begin(), ba.end(), pa.begin() + static_cast<std::ptrdiff_t>(r - ba.size()));
  std::copy(bb.begin(), bb.end(), pb.begin() + static_cast<std::ptrdiff_t>(r - bb.size()));
  for (int64_t i = 0; i < batch; ++i) {
    int64_t rem = i, ia = 0, ib = 0, sa = 1, sb = 1;
    for (std::size_t d = r; d-- > 0;) {
      const int64_t idx = rem % batch_shape[d];
      rem /= batch_shape[d];
      ia += (pa[d] == 1 ? 0 : idx) * sa;
      ib += (pb[d] == 1 ? 0 : idx) * sb;
      sa *= pa[d];
      sb *= pb[d];
    }
    TANDEM_RETURN_IF_ERROR(sgemm(handle, stream, false, false, m, n, k, 1.0f, a + ia * m * k, k, b + ib * k * n, n,
                                 0.0f, y + i * m * n, n));
  }
  return Status::ok();
}

Status gemm(cublasHandle_t handle, cudaStream_t stream, bool trans_a, bool trans_b, int64_t m, int64_t n,
            int64_t k, float alpha, const float* a, const float* b, float beta, const float* c,
            const std::vector<int64_t>& c_shape, float* y) {
  const bool use_c = c && beta != 0.0f;
  if (use_c) {
    if (c_shape.size() > 2) return Status::error("Gemm: C must have rank ≤ 2");
    // Y = broadcast(C), then the product accumulates into it with beta.
    TANDEM_RETURN_IF_ERROR(expand(c, c_shape, y, {m, n}, DType::kFloat32, stream));
  }
  return sgemm(handle, stream, trans_a, trans_b, m, n, k, alpha, a, trans_a ? m : k, b, trans_b ? k : n,
               use_c ? beta : 0.0f, y, n);
}

}  // namespace tandem::cuda
