// Elementwise GPU kernels: a templated family of binary ops with numpy broadcasting, unary float ops, and
// Expand (broadcasting copy). Plain functions over device pointers, enqueued on `stream`. C++17-clean.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <vector>

#include "graph/dtype.h"
#include "graph/status.h"

namespace tandem::cuda {

enum class BinaryOp { kAdd, kSub, kMul, kDiv, kPow, kMax, kMin };
enum class UnaryOp { kIdentity, kNeg, kAbs, kRelu, kSigmoid, kTanh, kExp, kLog, kSqrt, kReciprocal, kErf };

// Highest rank the broadcasting kernels index (more is refused with an error).
constexpr int kMaxKernelRank = 8;

// numpy broadcasting of two shapes, or an error naming both.
Result<std::vector<int64_t>> broadcast_shape(const std::vector<int64_t>& a, const std::vector<int64_t>& b);

// y = op(a, b) with broadcasting; y has broadcast_shape(a_shape, b_shape). dtype: float32 for every op;
// int32 and int64 for Add, Sub, Mul, Div (truncating), Max, Min.
Status binary(BinaryOp op, DType dtype, const void* a, const std::vector<int64_t>& a_shape, const void* b,
              const std::vector<int64_t>& b_shape, void* y, cudaStream_t stream);

// y[i] = op(x[i]) over n float32 elements (y may be x).
Status unary(UnaryOp op, const float* x, float* y, int64_t n, cudaStream_t stream);

// ONNX Expand / unidirectional broadcast: y (y_shape) = x broadcast from x_shape. Any 4- or 8-byte dtype
// by element size (float32, int32, int64, float64), and 1- and 2-byte ones.
Status expand(const void* x, const std::vector<int64_t>& x_shape, void* y, const std::vector<int64_t>& y_shape,
              DType dtype, cudaStream_t stream);

}  // namespace tandem::cuda
