// Row-wise GPU kernels: Softmax/LogSoftmax (ONNX opset 13: along one axis), LayerNormalization, and
// reductions. A tensor is seen as [outer, n, inner] around the axis (or contiguous axes) being reduced;
// one thread block handles one (outer, inner) row. C++17-clean.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "graph/status.h"

namespace tandem::cuda {

// y = softmax(x) (log_softmax when `log`) over the n elements of each row, `inner` apart.
Status softmax(const float* x, float* y, int64_t outer, int64_t n, int64_t inner, bool log, cudaStream_t stream);

// ONNX LayerNormalization over the last `cols` elements of each of `rows` rows: y = (x - mean) / sqrt(var +
// epsilon) * scale + bias, with scale and bias of `cols` elements (bias nullptr: none). mean and inv_std
// ([rows], nullptr: not wanted) are the optional outputs.
Status layer_norm(const float* x, const float* scale, const float* bias, float* y, float* mean, float* inv_std,
                  int64_t rows, int64_t cols, float epsilon, cudaStream_t stream);

enum class ReduceOp { kSum, kMean, kMax, kMin, kProd, kSumSquare, kL1, kL2, kLogSumExp };

// y[o, i] = reduce over k of x[o, k, i] (y has outer·inner elements). Reducing several non-adjacent axes
// takes a transpose first.
Status reduce(ReduceOp op, const float* x, float* y, int64_t outer, int64_t n, int64_t inner, cudaStream_t stream);

}  // namespace tandem::cuda
