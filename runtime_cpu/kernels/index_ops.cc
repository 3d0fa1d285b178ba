// Ops that pick or place elements by index: Gather, Slice and Pad.
#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>
#include <type_traits>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/tensor_ops.h"

namespace tandem::cpu {
namespace {

// Gather: out[a..., i..., b...] = data[a..., indices[i...], b...], one block of the trailing dimensions per
// (leading position, index).
class GatherKernel final : public Kernel {
 public:
  bool takes_strings() const override { return true; }
  explicit GatherKernel(int64_t axis) : axis_(axis) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* data, required_input(ctx, 0, "data"));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* indices, required_input(ctx, 1, "indices"));
    TANDEM_RETURN_IF_ERROR(check_movable(ctx, *data, "input 0"));
    if (data->rank() == 0) return ctx.error("data must have rank >= 1, got a scalar");
    auto axis = normalize_axis(axis_, static_cast<int64_t>(data->rank()), "axis");
    if (!axis) return ctx.error(axis.status().message());
    const auto a = static_cast<std::size_t>(*axis);
    if (indices->dtype() != DType::kInt64 && indices->dtype() != DType::kInt32)
      return ctx.error("indices must be int64 or int32, got " + indices->describe());

    const int64_t dim = data->dim(a), count = indices->numel();
    std::vector<int64_t> index(static_cast<std::size_t>(count));
    for (int64_t i = 0; i < count; ++i) {
      int64_t v =
          indices->dtype() == DType::kInt64 ? indices->data<int64_t>()[i] : indices->data<int32_t>()[i];
      if (v < -dim || v >= dim)
        return ctx.error("index " + std::to_string(v) + " (element " + std::to_string(i) +
                         " of indices) is out of " + "range for axis " + std::to_string(a) + " of size " +
                         std::to_string(dim));
      index[static_cast<std::size_t>(i)] = v < 0 ? v + dim : v;
    }

    std::vector<int64_t> out(data->shape().begin(), data->shape().begin() + static_cast<std::ptrdiff_t>(a));
    out.insert(out.end(), indices->shape().begin(), indices->shape().end());
    out.insert(out.end(), data->shape().begin() + static_cast<std::ptrdiff_t>(a) + 1, data->shape().end());
    Tensor& y = ctx.allocate_output(0, data->dtype(), out);
    int64_t outer = 1, inner = static_cast<int64_t>(element_stride(data->dtype()));
    for (std::size_t d = 0; d < a; ++d) outer *= data->dim(d);
    for (std::size_t d = a + 1; d < data->rank(); ++d) inner *= data->dim(d);
    if (inner == 0 || count == 0) return Status::ok();
    const auto* src = static_cast<const std::byte*>(data->raw());
    auto* dst = static_cast<std::byte*>(y.raw());
    const auto block = static_cast<std::size_t>(inner);
    for (int64_t o = 0; o < outer; ++o) {
      const std::byte* slab = src + o * dim * inner;
      for (int64_t i : index) {
        copy_elements(data->dtype(), dst, slab + i * inner, block);
        dst += block;
      }
    }
    return Status::ok();
  }

 private:
  int64_t axis_;
};

Result<KernelPtr> make_gather(const KernelInit& init) {
  return KernelPtr(new GatherKernel(attr_int(init.node(), "axis", 0)));
}

// One axis of a slice: where it starts, its step and how many elements it keeps.
struct AxisSlice {
  int64_t start = 0, step = 1, count = 0;
};

// ONNX's rules: negative starts/ends count from the end, then both are clamped into the dimension ([0, dim]
// stepping forward, [0, dim-1] and [-1, dim-1] stepping backward), which makes INT64_MAX/MIN mean "to the
// end".
AxisSlice slice_axis(int64_t start, int64_t end, int64_t step, int64_t dim) {
  AxisSlice s;
  s.step = step;
  if (dim == 0) return s;
  if (start < 0) start += dim;
  if (end < 0) end += dim;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
    if (end > start) s.count = (end - start - 1) / step + 1;
  } else {
    start = std::clamp<int64_t>(start, 0, dim - 1);
    end = std::clamp<int64_t>(end, -1, dim - 1);
    const uint64_t back = uint64_t{0} - static_cast<uint64_t>(step);  // -step without overflow at INT64_MIN
    if (start > end) s.count = static_cast<int64_t>(static_cast<uint64_t>(start - end - 1) / back + 1);
  }
  s.start = start;
  return s;
}

class SliceKernel final : public Kernel {
 public:
  bool takes_strings() const override { return true; }
  // Before opset 10 starts/ends/axes are attributes; `attrs` holds them then.
  struct Attrs {
    std::vector<int64_t> starts, ends;
    std::optional<std::vector<int64_t>> axes;
  };
  explicit SliceKernel(std::optional<Attrs> attrs) : attrs_(std::move(attrs)) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "data"));
    TANDEM_RETURN_IF_ERROR(check_movable(ctx, *x, "input 0"));
    std::vector<int64_t> starts, ends, steps;
    std::optional<std::vector<int64_t>> given_axes;
    if (attrs_) {
      starts = attrs_->starts, ends = attrs_->ends, given_axes = attrs_->axes;
    } else {
      TANDEM_ASSIGN_OR_RETURN(const Tensor* s, required_input(ctx, 1, "starts"));
      TANDEM_ASSIGN_OR_RETURN(const Tensor* e, required_input(ctx, 2, "ends"));
      TANDEM_ASSIGN_OR_RETURN(starts, read_ints(ctx, *s, "starts"));
      TANDEM_ASSIGN_OR_RETURN(ends, read_ints(ctx, *e, "ends"));
      if (ctx.input(3)) {
        TANDEM_ASSIGN_OR_RETURN(given_axes, read_ints(ctx, *ctx.input(3), "axes"));
      }
      if (ctx.input(4)) {
        TANDEM_ASSIGN_OR_RETURN(steps, read_ints(ctx, *ctx.input(4), "steps"));
      }
    }
    const std::size_t n = starts.size(), rank = x->rank();
    if (ends.size() != n)
      return ctx.error("starts " + shape_string(starts) + " and ends " + shape_string(ends) +
                       " differ in length");
    std::vector<int64_t> axes;
    if (given_axes) {
      if (given_axes->size() != n)
        return ctx.error("axes " + shape_string(*given_axes) + " and starts " + shape_string(starts) +
                         " differ in length");
      TANDEM_ASSIGN_OR_RETURN(axes, normalize_axes(ctx, *given_axes, static_cast<int64_t>(rank), "axes"));
    } else {
      if (n > rank)
        return ctx.error("starts " + shape_string(starts) + " has more entries than the input's rank " +
                         std::to_string(rank));
      for (std::size_t i = 0; i < n; ++i) axes.push_back(static_cast<int64_t>(i));
    }
    if (steps.empty()) steps.assign(n, 1);
    if (steps.size() != n)
      return ctx.error("steps " + shape_string(steps) + " and starts " + shape_string(starts) +
                       " differ in length");

    std::vector<AxisSlice> cut(rank);
    for (std::size_t d = 0; d < rank; ++d) cut[d].count = x->dim(d);
    for (std::size_t i = 0; i < n; ++i) {
      if (steps[i] == 0) return ctx.error("steps " + shape_string(steps) + " has a 0");
      const auto d = static_cast<std::size_t>(axes[i]);
      cut[d] = slice_axis(starts[i], ends[i], steps[i], x->dim(d));
    }
    const std::vector<int64_t> in_strides = row_major_strides(x->shape());
    std::vector<int64_t> shape(rank), strides(rank);
    int64_t offset = 0;
    for (std::size_t d = 0; d < rank; ++d) {
      shape[d] = cut[d].count;
      // A single element never steps, and a huge step times a stride could overflow.
      strides[d] = cut[d].count > 1 ? cut[d].step * in_strides[d] : 0;
      if (cut[d].count > 0) offset += cut[d].start * in_strides[d];
    }
    Tensor& y = ctx.allocate_output(0, x->dtype(), shape);
    copy_strided(x->dtype(), x->raw(), offset, shape, strides, y.raw());
    return Status::ok();
  }

 private:
  std::optional<Attrs> attrs_;
};

Result<KernelPtr> make_slice(const KernelInit& init) {
  const Node& n = init.node();
  if (n.opset >= 10) return KernelPtr(new SliceKernel(std::nullopt));
  if (!has_attr(n, "starts") || !has_attr(n, "ends"))
    return init.error("attributes 'starts' and 'ends' are required");
  SliceKernel::Attrs a{attr_ints(n, "starts"), attr_ints(n, "ends"), std::nullopt};
  if (has_attr(n, "axes")) a.axes = attr_ints(n, "axes");
  return KernelPtr(new SliceKernel(std::move(a)));
}

enum class PadMode { kConstant, kReflect, kEdge, kWrap };

// One axis's padded size, or an error when its pads crop more than it has, leave nothing for reflect, edge
// or wrap to repeat, or are absurdly large.
Result<int64_t> padded_size(int64_t dim, int64_t before, int64_t after, PadMode mode) {
  constexpr int64_t kHuge = int64_t{1} << 40;  // keeps the sums below from overflowing
  if (before < -kHuge || before > kHuge || after < -kHuge || after > kHuge)
    return Status::error("are too large");
  const int64_t kept = dim - std::max<int64_t>(-before, 0) - std::max<int64_t>(-after, 0);
  const int64_t out = dim + before + after;
  if (kept < 0 || out < 0) return Status::error("crop more than the size " + std::to_string(dim));
  if (mode != PadMode::kConstant && kept == 0 && out > 0)
    return Status::error("leave nothing to pad from (size " + std::to_string(dim) + ")");
  return out;
}

// For one axis (whose pads padded_size accepted), the input index each output position reads, or -1 for
// the constant. Negative pads crop first; reflect, edge and wrap then pad from what is left (as onnxruntime
// does). Wrap (opset 19) reads the kept range as a ring: position j reads j mod kept.
std::vector<int64_t> pad_map(int64_t dim, int64_t before, int64_t after, PadMode mode) {
  const int64_t lo = std::max<int64_t>(-before, 0), kept = dim - lo - std::max<int64_t>(-after, 0);
  const int64_t front = std::max<int64_t>(before, 0);
  std::vector<int64_t> map(static_cast<std::size_t>(dim + before + after));
  for (std::size_t o = 0; o < map.size(); ++o) {
    int64_t j = static_cast<int64_t>(o) - front;  // position in the kept range
    if (j < 0 || j >= kept) {
      if (mode == PadMode::kConstant) {
        j = -1 - lo;
      } else if (mode == PadMode::kEdge) {
        j = std::clamp<int64_t>(j, 0, kept - 1);
      } else if (mode == PadMode::kWrap) {
        j %= kept;
        if (j < 0) j += kept;
      } else if (kept == 1) {
        j = 0;
      } else {  // mirror about the first and last element: period 2 * (kept - 1)
        const int64_t period = 2 * (kept - 1);
        j %= period;
        if (j < 0) j += period;
        if (j >= kept) j = period - j;
      }
    }
    map[o] = j + lo;
  }
  return map;
}

class PadKernel final : public Kernel {
 public:
  bool takes_strings() const override { return true; }
  // Before opset 11 pads and the value are attributes; `pads_attr` holds them then.
  PadKernel(PadMode mode, int opset, std::vector<int64_t> pads_attr, float value_attr)
      : mode_(mode), opset_(opset), pads_attr_(std::move(pads_attr)), value_attr_(value_attr) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "data"));
    TANDEM_RETURN_IF_ERROR(check_movable(ctx, *x, "input 0"));
    const std::size_t rank = x->rank(), elem = dtype_size(x->dtype());  // 0 for strings
    std::vector<int64_t> pads = pads_attr_;
    std::vector<std::byte> value(elem, std::byte{0});
    std::string string_value;  // strings pad with "" unless constant_value says otherwise
    std::vector<int64_t> axes;
    if (opset_ < 11) {
      if (value_attr_ != 0.0f) {
        TANDEM_ASSIGN_OR_RETURN(value, pad_value_from_attr(ctx, x->dtype()));
      }
    } else {
      TANDEM_ASSIGN_OR_RETURN(const Tensor* p, required_input(ctx, 1, "pads"));
      TANDEM_ASSIGN_OR_RETURN(pads, read_ints(ctx, *p, "pads"));
      if (const Tensor* v = ctx.input(2); v && mode_ == PadMode::kConstant) {
        if (v->dtype() != x->dtype() || v->numel() != 1)
          return ctx.error("constant_value must be one " + std::string(dtype_name(x->dtype())) + ", got " +
                           v->describe());
        if (x->dtype() == DType::kString)
          string_value = v->data<std::string>()[0];
        else
          std::memcpy(value.data(), v->raw(), elem);
      }
      if (const Tensor* ax = ctx.input(3); ax && opset_ >= 18) {
        TANDEM_ASSIGN_OR_RETURN(std::vector<int64_t> given, read_ints(ctx, *ax, "axes"));
        TANDEM_ASSIGN_OR_RETURN(axes, normalize_axes(ctx, given, static_cast<int64_t>(rank), "axes"));
      }
    }
    if (axes.empty() && !(opset_ >= 18 && ctx.input(3)))
      for (std::size_t d = 0; d < rank; ++d) axes.push_back(static_cast<int64_t>(d));
    if (pads.size() != 2 * axes.size())
      return ctx.error("pads " + shape_string(pads) + " has " + std::to_string(pads.size()) +
                       " entries, expected " + std::to_string(2 * axes.size()) + " for " + x->describe());

    std::vector<int64_t> before(rank, 0), after(rank, 0);
    for (std::size_t i = 0; i < axes.size(); ++i) {
      before[static_cast<std::size_t>(axes[i])] = pads[i];
      after[static_cast<std::size_t>(axes[i])] = pads[i + axes.size()];
    }
    std::vector<int64_t> out(rank);
    for (std::size_t d = 0; d < rank; ++d) {
      auto size = padded_size(x->dim(d), before[d], after[d], mode_);
      if (!size)
        return ctx.error("pads " + shape_string(pads) + " on axis " + std::to_string(d) + " of " +
                         x->describe() + " " + size.status().message());
      out[d] = *size;
    }
    TANDEM_RETURN_IF_ERROR(check_output_size(ctx, out, x->dtype()));
    Tensor& y = ctx.allocate_output(0, x->dtype(), out);
    if (y.numel() == 0) return Status::ok();
    // The maps only once there are elements: one axis of an empty output may be huge (pads of 2^38 on an
    // input [1, 0] asked for a 2 TiB map of an output with no elements; found by the fuzzer).
    std::vector<std::vector<int64_t>> maps(rank);
    for (std::size_t d = 0; d < rank; ++d) maps[d] = pad_map(x->dim(d), before[d], after[d], mode_);
    if (rank == 0) {
      copy_elements(x->dtype(), y.raw(), x->raw(), element_stride(x->dtype()));
      return Status::ok();
    }
    Status status;
    with_element_type(x->dtype(), [&](auto tag) {
      using U = decltype(tag);
      U fill;
      if constexpr (std::is_same_v<U, std::string>)
        fill = string_value;
      else
        std::memcpy(&fill, value.data(), sizeof(U));
      status = pad_rows(ctx, static_cast<const U*>(x->raw()), row_major_strides(x->shape()), maps, fill,
                        static_cast<U*>(y.raw()));
    });
    return status;
  }

 private:
  Result<std::vector<std::byte>> pad_value_from_attr(const KernelContext& ctx, DType dtype) const {
    auto v = scalar_bytes(dtype, value_attr_);
    if (!v) return ctx.error("value " + std::to_string(value_attr_) + ": " + v.status().message());
    return v;
  }

  // Walks the output's rows; each element reads the input where every axis's map points, else the fill.
  // It checks the run's control every 16 MiB of output (OutputProgress): a pad of a model-sized output ran
  // to its end long past the run's time limit (found by the fuzzer: over 10 s, against a 1 s limit).
  template <typename U>
  static Status pad_rows(const KernelContext& ctx, const U* src, const std::vector<int64_t>& strides,
                         const std::vector<std::vector<int64_t>>& maps, U fill, U* dst) {
    const std::size_t rank = maps.size();
    const std::vector<int64_t>& last = maps[rank - 1];
    const int64_t inner = static_cast<int64_t>(last.size());
    std::vector<std::size_t> index(rank - 1, 0);
    int64_t rows = 1;
    for (std::size_t d = 0; d + 1 < rank; ++d) rows *= static_cast<int64_t>(maps[d].size());
    OutputProgress progress(ctx, rows * inner, sizeof(U));
    for (int64_t r = 0; r < rows; ++r, dst += inner) {
      TANDEM_RETURN_IF_ERROR(progress.at(r * inner));
      int64_t offset = 0;
      bool inside = true;
      for (std::size_t d = 0; d + 1 < rank; ++d) {
        const int64_t m = maps[d][index[d]];
        inside = inside && m >= 0;
        offset += m * strides[d];
      }
      for (int64_t k = 0; k < inner; ++k) {
        const int64_t m = last[static_cast<std::size_t>(k)];
        dst[k] = inside && m >= 0 ? src[offset + m] : fill;
      }
      for (std::size_t d = rank - 1; d-- > 0;) {
        if (++index[d] < maps[d].size()) break;
        index[d] = 0;
      }
    }
    return Status::ok();
  }

  PadMode mode_;
  int opset_;
  std::vector<int64_t> pads_attr_;
  float value_attr_;
};

Result<KernelPtr> make_pad(const KernelInit& init) {
  const Node& n = init.node();
  const std::string mode_name = attr_string(n, "mode", "constant");
  PadMode mode;
  if (mode_name == "constant")
    mode = PadMode::kConstant;
  else if (mode_name == "reflect")
    mode = PadMode::kReflect;
  else if (mode_name == "edge")
    mode = PadMode::kEdge;
  else if (mode_name == "wrap" && n.opset >= 19)
    mode = PadMode::kWrap;
  else
    return init.error("mode '" + mode_name + "' is not one of constant, reflect, edge" +
                      (n.opset >= 19 ? ", wrap" : " (wrap needs opset 19)"));
  std::vector<int64_t> pads;
  if (n.opset < 11) {
    if (!has_attr(n, "pads")) return init.error("attribute 'pads' is missing");
    pads = attr_ints(n, "pads");
  }
  return KernelPtr(new PadKernel(mode, n.opset, std::move(pads), attr_float(n, "value", 0.0f)));
}

}  // namespace

void register_index_ops(KernelRegistry& r) {
  r.add("Gather", make_gather);
  r.add("Slice", make_slice);
  r.add("Pad", make_pad);
  for (const char* op : {"Gather", "Slice", "Pad"}) r.take_strings(op);
}

}  // namespace tandem::cpu
