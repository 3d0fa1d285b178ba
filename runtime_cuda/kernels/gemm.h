// Matrix products on the GPU through cuBLAS, in tandem's row-major terms: sgemm, ONNX MatMul (numpy batch
// broadcasting) and ONNX Gemm (alpha, beta, transposes, C broadcast to [M, N]).
//
// cuBLAS is column-major; a row-major C = op(A)·op(B) is the column-major Cᵀ = op(B)ᵀ·op(A)ᵀ, so each call
// swaps the operands instead of transposing data. The handle is set to FP32 math without TF32, so results
// match the CPU within float rounding. C++17-clean.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "graph/status.h"

namespace tandem::cuda {

// A cuBLAS handle bound to one stream for its life, destroyed with its owner. Not thread-safe: one thread
// at a time. cublasSetStream resets a handle's workspace to cuBLAS's own pool (allocated with cudaMalloc,
// outside tandem's accounting, and possibly during a CUDA Graph capture), so the stream is set once, here,
// and then the workspace the caller provides (see CublasContext; nullptr and 0 bytes: none, so cuBLAS picks
// algorithms that need none).
class CublasHandle {
 public:
  static Result<CublasHandle> create(cudaStream_t stream, void* workspace, std::size_t workspace_bytes);
  CublasHandle() = default;
  CublasHandle(CublasHandle&& o) noexcept : h_(o.h_) { o.h_ = nullptr; }
  CublasHandle& operator=(CublasHandle&& o) noexcept;
  CublasHandle(const CublasHandle&) = delete;
  CublasHandle& operator=(const CublasHandle&) = delete;
  ~CublasHandle();
  cublasHandle_t get() const { return h_; }

 private:
  cublasHandle_t h_ = nullptr;
};

// Row-major C[m,n] = alpha·op(A)·op(B) + beta·C, op(A) [m,k], op(B) [k,n]; ld* are row strides in elements.
// `handle` must be bound to `stream` (an error otherwise: rebinding would drop its workspace).
Status sgemm(cublasHandle_t handle, cudaStream_t stream, bool trans_a, bool trans_b, int64_t m, int64_t n,
             int64_t k, float alpha, const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
             int64_t ldc);

// `batch` products whose operands start `stride_*` elements apart (a stride of 0 repeats an operand).
Status sgemm_strided_batched(cublasHandle_t handle, cudaStream_t stream, bool trans_a, bool trans_b, int64_t m,
                             int64_t n, int64_t k, float alpha, const float* a, int64_t lda, int64_t stride_a,
                             const float* b, int64_t ldb, int64_t stride_b, float beta, float* c, int64_t ldc,
                             int64_t stride_c, int64_t batch);

// ONNX MatMul's output shape (numpy matmul: 1-D operands promoted and their dimension dropped again,
// batch dimensions broadcast).
Result<std::vector<int64_t>> matmul_output_shape(const std::vector<int64_t>& a, const std::vector<int64_t>& b);
// ONNX MatMul of float32 A and B into Y (already of matmul_output_shape).
Status matmul(cublasHandle_t handle, cudaStream_t stream, const float* a, const std::vector<int64_t>& a_shape,
              const float* b, const std::vector<int64_t>& b_shape, float* y);

// ONNX Gemm: Y[M,N] = alpha·op(A)·op(B) + beta·C, with C (nullptr: none) unidirectionally broadcast to
// [M, N] from `c_shape` (rank ≤ 2). A is [M,K] ([K,M] when trans_a), B is [K,N] ([N,K] when trans_b).
Status gemm(cublasHandle_t handle, cudaStream_t stream, bool trans_a, bool trans_b, int64_t m, int64_t n,
            int64_t k, float alpha, const float* a, const float* b, float beta, const float* c,
            const std::vector<int64_t>& c_shape, float* y);

}  // namespace tandem::cuda
