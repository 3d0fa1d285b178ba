// Shape, index and layout kernels: their registration, and the element-size-generic copying they share.
#include "runtime_cpu/kernels/tensor_ops.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

#include "graph/float16.h"
#include "runtime/run_control.h"
#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/register.h"
#include "runtime_cpu/kernels/sub_families.h"

namespace tandem::cpu {

void register_tensor_kernels(KernelRegistry& r) {
  register_shape_ops(r);
  register_layout_ops(r);
  register_index_ops(r);
  register_generator_ops(r);
  register_gather_scatter_kernels(r);
  register_rearrange_kernels(r);
  register_value_dependent_kernels(r);
  register_eye_like_kernel(r);
  register_resize_kernels(r);
}

Result<const Tensor*> required_input(const KernelContext& ctx, std::size_t i, const std::string& what) {
  const Tensor* t = ctx.input(i);
  if (!t) return ctx.error("input " + std::to_string(i) + " (" + what + ") is missing");
  return t;
}

std::size_t element_stride(DType dtype) {
  return dtype == DType::kString ? sizeof(std::string) : dtype_size(dtype);
}

void copy_elements(DType dtype, void* dst, const void* src, std::size_t bytes) {
  if (dtype != DType::kString) {
    if (bytes) std::memcpy(dst, src, bytes);
    return;
  }
  std::copy_n(static_cast<const std::string*>(src), bytes / sizeof(std::string), static_cast<std::string*>(dst));
}

Status check_movable(const KernelContext& ctx, const Tensor& t, const std::string& what) {
  if (element_stride(t.dtype()) == 0)
    return ctx.error(what + " has element type " + std::string(dtype_name(t.dtype())) +
                     ", which is not supported");
  if (t.device() != DeviceKind::kCpu) return ctx.error(what + " is not in host memory");
  return Status::ok();
}

Result<std::vector<int64_t>> read_ints(const KernelContext& ctx, const Tensor& t, const std::string& what) {
  if (t.device() != DeviceKind::kCpu) return ctx.error(what + " is not in host memory");
  auto r = read_int_list(t, what);
  if (!r) return ctx.error(r.status().message());
  return r;
}

Result<std::vector<int64_t>> normalize_axes(const KernelContext& ctx, const std::vector<int64_t>& axes,
                                            int64_t rank, const std::string& what) {
  std::vector<int64_t> out;
  std::vector<bool> seen(static_cast<std::size_t>(rank), false);
  for (int64_t a : axes) {
    auto n = normalize_axis(a, rank, "axis");
    if (!n) return ctx.error(what + " " + shape_string(axes) + ": " + n.status().message());
    if (seen[static_cast<std::size_t>(*n)])
      return ctx.error(what + " " + shape_string(axes) + " name axis " + std::to_string(*n) + " twice");
    seen[static_cast<std::size_t>(*n)] = true;
    out.push_back(*n);
  }
  return out;
}

Status check_output_size(const KernelContext& ctx, const std::vector<int64_t>& shape, DType dtype) {
  constexpr int64_t kLimit = int64_t{1} << 48;  // bytes: far beyond any memory, far below overflow
  // A string element is its std::string object (the characters come on top).
  int64_t bytes = static_cast<int64_t>(std::max<std::size_t>(element_stride(dtype), 1));
  for (int64_t d : shape)
    if (d < 0) return ctx.error("output shape " + shape_string(shape) + " has a negative dimension");
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return Status::ok();
  for (int64_t d : shape)
    if (__builtin_mul_overflow(bytes, d, &bytes) || bytes > kLimit)
      return ctx.error("output shape " + shape_string(shape) + " is too large");
  return Status::ok();
}

std::vector<int64_t> row_major_strides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (std::size_t d = shape.size(); d-- > 1;) strides[d - 1] = strides[d] * shape[d];
  return strides;
}

namespace {

// The copy itself, once the dimensions are coalesced: rows of the innermost dimension, walked with an
// odometer over the others.
template <typename U>
void copy_rows(const U* src, const std::vector<int64_t>& shape, const std::vector<int64_t>& strides, U* dst) {
  const std::size_t rank = shape.size();
  const int64_t inner = shape[rank - 1], step = strides[rank - 1];
  int64_t rows = 1;
  for (std::size_t d = 0; d + 1 < rank; ++d) rows *= shape[d];
  std::vector<int64_t> index(rank - 1, 0);
  int64_t offset = 0;
  for (int64_t r = 0; r < rows; ++r, dst += inner) {
    const U* s = src + offset;
    if (step == 1) {
      std::copy_n(s, inner, dst);  // memmove for the integer types
    } else {
      for (int64_t k = 0; k < inner; ++k) dst[k] = s[k * step];
    }
    for (std::size_t d = rank - 1; d-- > 0;) {
      offset += strides[d];
      if (++index[d] < shape[d]) break;
      offset -= strides[d] * shape[d];
      index[d] = 0;
    }
  }
}

template <typename T>
std::vector<std::byte> bytes_of(T v) {
  std::vector<std::byte> b(sizeof(T));
  std::memcpy(b.data(), &v, sizeof(T));
  return b;
}

template <typename T>
Result<std::vector<std::byte>> integer_bytes(double v, DType dtype) {
  if (!(v >= static_cast<double>(std::numeric_limits<T>::lowest()) &&
        v < static_cast<double>(std::numeric_limits<T>::max()) + 1.0))
    return Status::error("value " + std::to_string(v) + " does not fit " + std::string(dtype_name(dtype)));
  return bytes_of(static_cast<T>(v));
}

}  // namespace

void copy_strided(DType dtype, const void* src, int64_t offset, const std::vector<int64_t>& shape,
                  const std::vector<int64_t>& strides, void* dst) {
  // Drop dimensions of size 1 and merge neighbours that are contiguous in the source too, so a copy that
  // is really a few long runs runs as memcpy.
  // Nothing to copy when a dimension is 0, and the others may then be huge: merging them first overflowed
  // (Tile of a [4, 3, 0] input by repeats [3, 1, 2^61.5]; found by the fuzzer under UBSan).
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return;
  std::vector<int64_t> dims, steps;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    if (!dims.empty() && steps.back() == strides[d] * shape[d]) {
      dims.back() *= shape[d];
      steps.back() = strides[d];
    } else {
      dims.push_back(shape[d]);
      steps.push_back(strides[d]);
    }
  }
  if (dims.empty()) dims = {1}, steps = {1};
  const auto* base = static_cast<const std::byte*>(src) + offset * static_cast<int64_t>(element_stride(dtype));
  with_element_type(dtype, [&](auto tag) {
    using U = decltype(tag);
    copy_rows(reinterpret_cast<const U*>(base), dims, steps, static_cast<U*>(dst));
  });
}

Status copy_strided_stoppable(const KernelContext& ctx, DType dtype, const void* src, int64_t offset,
                              const std::vector<int64_t>& shape, const std::vector<int64_t>& strides, void* dst) {
  constexpr int64_t kSliceBytes = int64_t{16} << 20;
  const RunControl* control = ctx.control();
  const auto elem = static_cast<int64_t>(element_stride(dtype));
  const int64_t total = shape_numel(shape);  // the output's, allocated: its bytes fit in memory arithmetic
  if (!control || !control->active() || total == 0 || total * elem <= kSliceBytes) {
    copy_strided(dtype, src, offset, shape, strides, dst);
    return Status::ok();
  }
  std::size_t d = 0;
  while (shape[d] == 1) ++d;  // exists: the copy is larger than one element
  const int64_t inner = total / shape[d];  // the dimensions before d are all 1
  const int64_t rows = std::max<int64_t>(1, kSliceBytes / (inner * elem));
  std::vector<int64_t> slice = shape;
  for (int64_t r = 0; r < shape[d]; r += rows) {
    if (const RunControl::Stop why = control->due(); why != RunControl::Stop::kNone)
      return control->stop(why, node_where(ctx.graph(), ctx.node_id()) + ": output element " +
                                    std::to_string(r * inner) + " of " + std::to_string(total));
    slice[d] = std::min(rows, shape[d] - r);
    copy_strided(dtype, src, offset + r * strides[d], slice, strides, static_cast<std::byte*>(dst) + r * inner * elem);
  }
  return Status::ok();
}

OutputProgress::OutputProgress(const KernelContext& ctx, int64_t total_elements, std::size_t element_bytes,
                               std::string what)
    : ctx_(ctx),
      total_(total_elements),
      step_(std::max<int64_t>(1, (int64_t{16} << 20) / std::max<int64_t>(1, static_cast<int64_t>(element_bytes)))),
      next_(ctx.control() && ctx.control()->active() ? 0 : std::numeric_limits<int64_t>::max()),
      what_(std::move(what)) {}

Status OutputProgress::check(int64_t done) {
  next_ = done + step_;
  const RunControl* control = ctx_.control();
  if (const RunControl::Stop why = control->due(); why != RunControl::Stop::kNone)
    return control->stop(why, node_where(ctx_.graph(), ctx_.node_id()) + ": " + what_ + " " + std::to_string(done) +
                                  " of " + std::to_string(total_));
  return Status::ok();
}

void fill_elements(DType dtype, void* dst, int64_t count, const void* value) {
  with_element_type(dtype, [&](auto tag) {
    using U = decltype(tag);
    U v;
    if constexpr (std::is_same_v<U, std::string>)
      v = *static_cast<const std::string*>(value);
    else
      std::memcpy(&v, value, sizeof(U));  // `value` may be raw bytes (scalar_bytes), not a U
    std::fill_n(static_cast<U*>(dst), count, v);
  });
}

Result<std::vector<std::byte>> scalar_bytes(DType dtype, double v) {
  switch (dtype) {
    case DType::kFloat32:
      return bytes_of(static_cast<float>(v));
    case DType::kFloat64:
      return bytes_of(v);
    case DType::kFloat16:
      return bytes_of(round_to_narrow_float<5, 10>(v));
    case DType::kBFloat16:
      return bytes_of(round_to_narrow_float<8, 7>(v));
    case DType::kInt8:
      return integer_bytes<int8_t>(v, dtype);
    case DType::kInt16:
      return integer_bytes<int16_t>(v, dtype);
    case DType::kInt32:
      return integer_bytes<int32_t>(v, dtype);
    case DType::kInt64:
      return integer_bytes<int64_t>(v, dtype);
    case DType::kUInt8:
      return integer_bytes<uint8_t>(v, dtype);
    case DType::kUInt16:
      return integer_bytes<uint16_t>(v, dtype);
    case DType::kUInt32:
      return integer_bytes<uint32_t>(v, dtype);
    case DType::kUInt64:
      return integer_bytes<uint64_t>(v, dtype);
    case DType::kBool:
      return bytes_of(static_cast<uint8_t>(v != 0.0));
    default:
      return Status::error("no numeric value of type " + std::string(dtype_name(dtype)));
  }
}

}  // namespace tandem::cpu
