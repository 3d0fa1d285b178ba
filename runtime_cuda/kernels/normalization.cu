// Block-per-row kernels with a shared-memory tree reduction. Simple and exact enough for every row
// length; a warp-per-row variant for short rows is a later optimisation.
#include <cuda_runtime.h>

#include <cfloat>
#include <string>

#include "runtime_cuda/cuda_check.h"
#include "runtime_cuda/kernels/normalization.h"

namespace tandem::cuda {
namespace {

constexpr int kThreads = 256;

enum class Combine { kSum, kMax, kMin, kProd };

template <Combine C>
__device__ __forceinline__ float combine(float a, float b) {
  if constexpr (C == Combine::kSum) return a + b;
  if constexpr (C == Combine::kMax) return fmaxf(a, b);
  if constexpr (C == Combine::kMin) return fminf(a, b);
  if constexpr (C == Combine::kProd) return a * b;
}

// Reduces each thread's `v` over the block; every thread gets the result. `shared` holds kThreads floats.
template <Combine C>
__device__ float block_reduce(float v, float* shared) {
  shared[threadIdx.x] = v;
  __syncthreads();
  for (int s = kThreads / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) shared[threadIdx.x] = combine<C>(shared[threadIdx.x], shared[threadIdx.x + s]);
    __syncthreads();
  }
  const float r = shared[0];
  __syncthreads();  // shared may be reused right after
  return r;
}

// Row `blockIdx.x` = (o, i): elements x[(o·n + k)·inner + i], k in [0, n).
__device__ __forceinline__ int64_t row_base(int64_t row, int64_t n, int64_t inner) {
  return (row / inner) * n * inner + row % inner;
}

__global__ void softmax_kernel(const float* x, float* y, int64_t n, int64_t inner, bool log) {
  __shared__ float shared[kThreads];
  const int64_t base = row_base(blockIdx.x, n, inner);
  float m = -FLT_MAX;
  for (int64_t k = threadIdx.x; k < n; k += kThreads) m = fmaxf(m, x[base + k * inner]);
  m = block_reduce<Combine::kMax>(m, shared);
  float s = 0.0f;
  for (int64_t k = threadIdx.x; k < n; k += kThreads) s += expf(x[base + k * inner] - m);
  s = block_reduce<Combine::kSum>(s, shared);
  const float log_s = logf(s);
  for (int64_t k = threadIdx.x; k < n; k += kThreads) {
    const float v = x[base + k * inner] - m;
    y[base + k * inner] = log ? v - log_s : expf(v) / s;
  }
}

__global__ void layer_norm_kernel(const float* x, const float* scale, const float* bias, float* y, float* mean_out,
                                  float* inv_std_out, int64_t cols, float epsilon) {
  __shared__ float shared[kThreads];
  const float* xr = x + blockIdx.x * cols;
  float* yr = y + blockIdx.x * cols;
  float s = 0.0f;
  for (int64_t k = threadIdx.x; k < cols; k += kThreads) s += xr[k];
  const float mean = block_reduce<Combine::kSum>(s, shared) / static_cast<float>(cols);
  float v = 0.0f;  // two passes: no cancellation from E[x²] - E[x]²
  for (int64_t k = threadIdx.x; k < cols; k += kThreads) v += (xr[k] - mean) * (xr[k] - mean);
  const float inv_std = rsqrtf(block_reduce<Combine::kSum>(v, shared) / static_cast<float>(cols) + epsilon);
  for (int64_t k = threadIdx.x; k < cols; k += kThreads)
    yr[k] = (xr[k] - mean) * inv_std * scale[k] + (bias ? bias[k] : 0.0f);
  if (threadIdx.x == 0) {
    if (mean_out) mean_out[blockIdx.x] = mean;
    if (inv_std_out) inv_std_out[blockIdx.x] = inv_std;
  }
}

template <ReduceOp OP>
__global__ void reduce_kernel(const float* x, float* y, int64_t n, int64_t inner) {
  __shared__ float shared[kThreads];
  const int64_t base = row_base(blockIdx.x, n, inner);
  constexpr Combine C = OP == ReduceOp::kMax || OP == ReduceOp::kLogSumExp ? Combine::kMax
                        : OP == ReduceOp::kMin                              ? Combine::kMin
                        : OP == ReduceOp::kProd                             ? Combine::kProd
                                                                            : Combine::kSum;
  float acc = C == Combine::kMax ? -FLT_MAX : C == Combine::kMin ? FLT_MAX : C == Combine::kProd ? 1.0f : 0.0f;
  for (int64_t k = threadIdx.x; k < n; k += kThreads) {
    const float v = x[base + k * inner];
    const float t = OP == ReduceOp::kSumSquare || OP == ReduceOp::kL2 ? v * v : OP == ReduceOp::kL1 ? fabsf(v) : v;
    acc = combine<C>(acc, t);
  }
  float r = block_reduce<C>(acc, shared);
  if constexpr (OP == ReduceOp::kLogSumExp) {  // max first, then log Σ e^(x - max) + max
    float s = 0.0f;
    for (int64_t k = threadIdx.x; k < n; k += kThreads) s += expf(x[base + k * inner] - r);
    r = logf(block_reduce<Combine::kSum>(s, shared)) + r;
  }
  if (threadIdx.x == 0) {
    if constexpr (OP == ReduceOp::kMean) r /= static_cast<float>(n);
    if constexpr (OP == ReduceOp::kL2) r = sqrtf(r);
    y[blockIdx.x] = r;
  }
}

Status check_rows(int64_t rows, const char* what) {
  if (rows > 0x7fffffff)
    return Status::error(std::string(what) + ": " + std::to_string(rows) + " rows exceed the grid limit");
  return Status::ok();
}

template <ReduceOp OP>
Status launch_reduce(const float* x, float* y, int64_t outer, int64_t n, int64_t inner, cudaStream_t stream) {
  reduce_kernel<OP><<<static_cast<unsigned>(outer * inner), kThreads, 0, stream>>>(x, y, n, inner);
  return launch_status("reduce_kernel");
}

}  // namespace

Status softmax(const float* x, float* y, int64_t outer, int64_t n, int64_t inner, bool log, cudaStream_t stream) {
  if (outer * inner == 0 || n == 0) return Status::ok();
  TANDEM_RETURN_IF_ERROR(check_rows(outer * inner, "softmax"));
  softmax_kernel<<<static_cast<unsigned>(outer * inner), kThreads, 0, stream>>>(x, y, n, inner, log);
  return launch_status("softmax_kernel");
}

Status layer_norm(const float* x, const float* scale, const float* bias, float* y, float* mean, float* inv_std,
                  int64_t rows, int64_t cols, float epsilon, cudaStream_t stream) {
  if (rows == 0 || cols == 0) return Status::ok();
  TANDEM_RETURN_IF_ERROR(check_rows(rows, "layer_norm"));
  layer_norm_kernel<<<static_cast<unsigned>(rows), kThreads, 0, stream>>>(x, scale, bias, y, mean, inv_std, cols,
                                                                          epsilon);
  return launch_status("layer_norm_kernel");
}

Status reduce(ReduceOp op, const float* x, float* y, int64_t outer, int64_t n, int64_t inner, cudaStream_t stream) {
  if (outer * inner == 0) return Status::ok();
  TANDEM_RETURN_IF_ERROR(check_rows(outer * inner, "reduce"));
  switch (op) {
    case ReduceOp::kSum: return launch_reduce<ReduceOp::kSum>(x, y, outer, n, inner, stream);
    case ReduceOp::kMean: return launch_reduce<ReduceOp::kMean>(x, y, outer, n, inner, stream);
    case ReduceOp::kMax: return launch_reduce<ReduceOp::kMax>(x, y, outer, n, inner, stream);
    case ReduceOp::kMin: return launch_reduce<ReduceOp::kMin>(x, y, outer, n, inner, stream);
    case ReduceOp::kProd: return launch_reduce<ReduceOp::kProd>(x, y, outer, n, inner, stream);
    case ReduceOp::kSumSquare: return launch_reduce<ReduceOp::kSumSquare>(x, y, outer, n, inner, stream);
    case ReduceOp::kL1: return launch_reduce<ReduceOp::kL1>(x, y, outer, n, inner, stream);
    case ReduceOp::kL2: return launch_reduce<ReduceOp::kL2>(x, y, outer, n, inner, stream);
    case ReduceOp::kLogSumExp: return launch_reduce<ReduceOp::kLogSumExp>(x, y, outer, n, inner, stream);
  }
  return Status::error("unknown reduce op");
}

}  // namespace tandem::cuda
