// Data-movement GPU kernels: Transpose, Slice, Concat, Split, Gather. Element types are handled by size
// (1, 2, 4 or 8 bytes), so every fixed-size dtype works. Plain functions over device pointers, enqueued on
// `stream`. C++17-clean.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "graph/status.h"

namespace tandem::cuda {

// y = x with dimensions permuted: y's dimension i is x's dimension perm[i].
Status transpose(const void* x, const std::vector<int64_t>& shape, const std::vector<int64_t>& perm, void* y,
                 std::size_t elem_size, cudaStream_t stream);

// y[j...] = x[start + j·step ...] per axis: starts and steps already resolved per axis (ONNX's clamping and
// negative indices done by the caller), out_shape the resulting dimensions. Steps may be negative.
Status slice(const void* x, const std::vector<int64_t>& shape, const std::vector<int64_t>& starts,
             const std::vector<int64_t>& steps, const std::vector<int64_t>& out_shape, void* y, std::size_t elem_size,
             cudaStream_t stream);

// Concatenates inputs (shapes equal except along `axis`) into y, one pitched copy per input.
Status concat(const std::vector<const void*>& inputs, const std::vector<std::vector<int64_t>>& shapes, int64_t axis,
              void* y, std::size_t elem_size, cudaStream_t stream);

// Splits x along `axis` into outputs of sizes[k] there (sum = x's dimension), one pitched copy each.
Status split(const void* x, const std::vector<int64_t>& shape, int64_t axis, const std::vector<int64_t>& sizes,
             const std::vector<void*>& outputs, std::size_t elem_size, cudaStream_t stream);

// ONNX Gather: y = data indexed along `axis` by int64 `indices` (device memory, n of them, negative ones
// count from the end); y has shape data[:axis] + indices' shape + data[axis+1:]. An index out of range
// writes zeros and, when `bad_index` (device int) is given, sets it to 1 for the caller to check.
Status gather(const void* data, const std::vector<int64_t>& shape, int64_t axis, const int64_t* indices, int64_t n,
              void* y, std::size_t elem_size, int* bad_index, cudaStream_t stream);

}  // namespace tandem::cuda
