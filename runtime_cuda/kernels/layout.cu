// Transpose and Slice are one kernel: y[i] = x[base + Σ idx_d · stride_d] over y's dimensions, with the
// strides (and base) worked out on the host. Concat and Split need no kernel: each input is a pitched 2-D
// copy (outer rows × its slab), which the copy engines do at full bandwidth.
#include <cuda_runtime.h>

#include <algorithm>
#include <string>

#include "runtime_cuda/cuda_check.h"
#include "runtime_cuda/kernels/elementwise.h"
#include "runtime_cuda/kernels/layout.h"

namespace tandem::cuda {
namespace {

constexpr int kThreads = 256;

struct StridedView {
  int rank = 0;
  int64_t base = 0;
  int64_t dims[kMaxKernelRank] = {};
  int64_t strides[kMaxKernelRank] = {};
};

template <typename T>
__global__ void strided_copy_kernel(const T* x, T* y, int64_t n, StridedView v) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    int64_t rem = i, off = v.base;
    for (int d = v.rank - 1; d >= 0; --d) {
      off += (rem % v.dims[d]) * v.strides[d];
      rem /= v.dims[d];
    }
    y[i] = x[off];
  }
}

int blocks_for(int64_t n) { return static_cast<int>(std::min<int64_t>((n + kThreads - 1) / kThreads, 132 * 32)); }

template <typename T>
Status launch_strided(const void* x, void* y, int64_t n, const StridedView& v, cudaStream_t stream) {
  strided_copy_kernel<T><<<blocks_for(n), kThreads, 0, stream>>>(static_cast<const T*>(x), static_cast<T*>(y), n, v);
  return launch_status("strided_copy_kernel");
}

Status strided_copy(const void* x, void* y, const StridedView& v, std::size_t elem_size, cudaStream_t stream) {
  int64_t n = 1;
  for (int d = 0; d < v.rank; ++d) n *= v.dims[d];
  if (n == 0) return Status::ok();
  switch (elem_size) {
    case 1: return launch_strided<uint8_t>(x, y, n, v, stream);
    case 2: return launch_strided<uint16_t>(x, y, n, v, stream);
    case 4: return launch_strided<uint32_t>(x, y, n, v, stream);
    case 8: return launch_strided<uint64_t>(x, y, n, v, stream);
    default: return Status::error("GPU layout kernels take 1-, 2-, 4- or 8-byte elements, not " + std::to_string(elem_size));
  }
}

std::vector<int64_t> row_major_strides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (std::size_t d = shape.size(); d-- > 1;) s[d - 1] = s[d] * shape[d];
  return s;
}

Status check_rank(std::size_t rank, const char* op) {
  if (rank > static_cast<std::size_t>(kMaxKernelRank))
    return Status::error(std::string(op) + " on the GPU supports rank ≤ " + std::to_string(kMaxKernelRank) + ", got " +
                         std::to_string(rank));
  return Status::ok();
}

// [outer, axis, inner] around `axis`.
void around_axis(const std::vector<int64_t>& shape, int64_t axis, int64_t& outer, int64_t& inner) {
  outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= shape[static_cast<std::size_t>(d)];
  for (std::size_t d = static_cast<std::size_t>(axis) + 1; d < shape.size(); ++d) inner *= shape[d];
}

template <typename T>
__global__ void gather_kernel(const T* data, const int64_t* idx, T* y, int64_t total, int64_t n, int64_t axis_len,
                              int64_t inner, int* bad) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total; i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t in = i % inner, j = (i / inner) % n, o = i / (inner * n);
    int64_t k = idx[j];
    if (k < 0) k += axis_len;
    if (k < 0 || k >= axis_len) {
      y[i] = T{};
      if (bad) *bad = 1;
      continue;
    }
    y[i] = data[(o * axis_len + k) * inner + in];
  }
}

template <typename T>
Status launch_gather(const void* data, const int64_t* idx, void* y, int64_t total, int64_t n, int64_t axis_len,
                     int64_t inner, int* bad, cudaStream_t stream) {
  gather_kernel<T><<<blocks_for(total), kThreads, 0, stream>>>(static_cast<const T*>(data), idx, static_cast<T*>(y),
                                                               total, n, axis_len, inner, bad);
  return launch_status("gather_kernel");
}

// `rows` rows of `width` bytes, `src_pitch` and `dst_pitch` apart, device to device. One 2-D copy, except
// where it cannot be one: a single row (a plain copy), or a pitch beyond what cudaMemcpy2D takes
// (cudaDevAttrMaxPitch, 2^31 - 1 bytes on current GPUs): then one copy per row.
Status copy_rows(void* dst, std::size_t dst_pitch, const void* src, std::size_t src_pitch, std::size_t width,
                 std::size_t rows, cudaStream_t stream) {
  constexpr std::size_t kMaxPitch = (std::size_t{1} << 31) - 1;
  if (rows == 1) return cuda_status(cudaMemcpyAsync(dst, src, width, cudaMemcpyDeviceToDevice, stream), "cudaMemcpyAsync");
  if (dst_pitch <= kMaxPitch && src_pitch <= kMaxPitch)
    return cuda_status(cudaMemcpy2DAsync(dst, dst_pitch, src, src_pitch, width, rows, cudaMemcpyDeviceToDevice, stream),
                       "cudaMemcpy2DAsync");
  for (std::size_t r = 0; r < rows; ++r)
    TANDEM_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(static_cast<char*>(dst) + r * dst_pitch,
                                                static_cast<const char*>(src) + r * src_pitch, width,
                                                cudaMemcpyDeviceToDevice, stream));
  return Status::ok();
}

}  // namespace

Status transpose(const void* x, const std::vector<int64_t>& shape, const std::vector<int64_t>& perm, void* y,
                 std::size_t elem_size, cudaStream_t stream) {
  TANDEM_RETURN_IF_ERROR(check_rank(shape.size(), "Transpose"));
  if (perm.size() != shape.size()) return Status::error("Transpose: perm has the wrong length");
  std::vector<bool> seen(shape.size(), false);
  const std::vector<int64_t> in_strides = row_major_strides(shape);
  StridedView v;
  v.rank = static_cast<int>(shape.size());
  for (std::size_t i = 0; i < perm.size(); ++i) {
    const int64_t p = perm[i];
    if (p < 0 || p >= static_cast<int64_t>(shape.size()) || seen[static_cast<std::size_t>(p)])
      return Status::error("Transpose: perm is not a permutation");
    seen[static_cast<std::size_t>(p)] = true;
    v.dims[i] = shape[static_cast<std::size_t>(p)];
    v.strides[i] = in_strides[static_cast<std::size_t>(p)];
  }
  return strided_copy(x, y, v, elem_size, stream);
}

Status slice(const void* x, const std::vector<int64_t>& shape, const std::vector<int64_t>& starts,
             const std::vector<int64_t>& steps, const std::vector<int64_t>& out_shape, void* y, std::size_t elem_size,
             cudaStream_t stream) {
  TANDEM_RETURN_IF_ERROR(check_rank(shape.size(), "Slice"));
  if (starts.size() != shape.size() || steps.size() != shape.size() || out_shape.size() != shape.size())
    return Status::error("Slice: starts, steps and output shape need one entry per axis");
  const std::vector<int64_t> in_strides = row_major_strides(shape);
  StridedView v;
  v.rank = static_cast<int>(shape.size());
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (out_shape[d] > 0) {
      const int64_t last = starts[d] + (out_shape[d] - 1) * steps[d];
      if (starts[d] < 0 || starts[d] >= shape[d] || last < 0 || last >= shape[d])
        return Status::error("Slice: axis " + std::to_string(d) + " reads outside [0, " + std::to_string(shape[d]) + ")");
    }
    v.base += starts[d] * in_strides[d];
    v.dims[d] = out_shape[d];
    v.strides[d] = steps[d] * in_strides[d];
  }
  return strided_copy(x, y, v, elem_size, stream);
}

Status concat(const std::vector<const void*>& inputs, const std::vector<std::vector<int64_t>>& shapes, int64_t axis,
              void* y, std::size_t elem_size, cudaStream_t stream) {
  if (inputs.empty() || inputs.size() != shapes.size()) return Status::error("Concat: inputs and shapes differ in number");
  const std::vector<int64_t>& first = shapes[0];
  if (axis < 0 || axis >= static_cast<int64_t>(first.size())) return Status::error("Concat: axis out of range");
  int64_t total = 0;
  for (const auto& s : shapes) {
    if (s.size() != first.size()) return Status::error("Concat: inputs differ in rank");
    for (std::size_t d = 0; d < s.size(); ++d)
      if (static_cast<int64_t>(d) != axis && s[d] != first[d])
        return Status::error("Concat: inputs differ in dimension " + std::to_string(d));
    total += s[static_cast<std::size_t>(axis)];
  }
  int64_t outer, inner;
  around_axis(first, axis, outer, inner);
  if (outer == 0 || inner == 0) return Status::ok();
  const std::size_t dst_pitch = static_cast<std::size_t>(total * inner) * elem_size;
  std::size_t offset = 0;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const std::size_t width = static_cast<std::size_t>(shapes[k][static_cast<std::size_t>(axis)] * inner) * elem_size;
    if (width > 0)
      TANDEM_RETURN_IF_ERROR(copy_rows(static_cast<char*>(y) + offset, dst_pitch, inputs[k], width, width,
                                       static_cast<std::size_t>(outer), stream));
    offset += width;
  }
  return Status::ok();
}

Status split(const void* x, const std::vector<int64_t>& shape, int64_t axis, const std::vector<int64_t>& sizes,
             const std::vector<void*>& outputs, std::size_t elem_size, cudaStream_t stream) {
  if (axis < 0 || axis >= static_cast<int64_t>(shape.size())) return Status::error("Split: axis out of range");
  if (sizes.size() != outputs.size()) return Status::error("Split: sizes and outputs differ in number");
  int64_t sum = 0;
  for (int64_t s : sizes) sum += s;
  if (sum != shape[static_cast<std::size_t>(axis)])
    return Status::error("Split: sizes add up to " + std::to_string(sum) + ", not the axis' " +
                         std::to_string(shape[static_cast<std::size_t>(axis)]));
  int64_t outer, inner;
  around_axis(shape, axis, outer, inner);
  if (outer == 0 || inner == 0) return Status::ok();
  const std::size_t src_pitch = static_cast<std::size_t>(sum * inner) * elem_size;
  std::size_t offset = 0;
  for (std::size_t k = 0; k < outputs.size(); ++k) {
    const std::size_t width = static_cast<std::size_t>(sizes[k] * inner) * elem_size;
    if (width > 0)
      TANDEM_RETURN_IF_ERROR(copy_rows(outputs[k], width, static_cast<const char*>(x) + offset, src_pitch, width,
                                       static_cast<std::size_t>(outer), stream));
    offset += width;
  }
  return Status::ok();
}

Status gather(const void* data, const std::vector<int64_t>& shape, int64_t axis, const int64_t* indices, int64_t n,
              void* y, std::size_t elem_size, int* bad_index, cudaStream_t stream) {
  if (axis < 0 || axis >= static_cast<int64_t>(shape.size())) return Status::error("Gather: axis out of range");
  int64_t outer, inner;
  around_axis(shape, axis, outer, inner);
  const int64_t axis_len = shape[static_cast<std::size_t>(axis)], total = outer * n * inner;
  if (total == 0) return Status::ok();
  switch (elem_size) {
    case 1: return launch_gather<uint8_t>(data, indices, y, total, n, axis_len, inner, bad_index, stream);
    case 2: return launch_gather<uint16_t>(data, indices, y, total, n, axis_len, inner, bad_index, stream);
    case 4: return launch_gather<uint32_t>(data, indices, y, total, n, axis_len, inner, bad_index, stream);
    case 8: return launch_gather<uint64_t>(data, indices, y, total, n, axis_len, inner, bad_index, stream);
    default: return Status::error("Gather on the GPU: unsupported element size " + std::to_string(elem_size));
  }
}

}  // namespace tandem::cuda
