// Element-wise and tuple-wise gathering and scattering by an index tensor: GatherElements, ScatterElements
// (and its deprecated alias Scatter), GatherND and ScatterND. Every index is checked against its dimension
// before any element moves, so a bad index is an error naming it, never a stray memory access.
#include <cstring>
#include <type_traits>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/element_types.h"
#include "runtime_cpu/kernels/sub_families.h"
#include "runtime_cpu/kernels/tensor_ops.h"

namespace tandem::cpu {
namespace {

// The elements of an int64 or int32 index tensor.
Result<std::vector<int64_t>> read_indices(const KernelContext& ctx, const Tensor& t) {
  if (t.dtype() != DType::kInt64 && t.dtype() != DType::kInt32)
    return ctx.error("indices must be int64 or int32, got " + t.describe());
  if (t.device() != DeviceKind::kCpu) return ctx.error("indices are not in host memory");
  std::vector<int64_t> v(static_cast<std::size_t>(t.numel()));
  for (std::size_t i = 0; i < v.size(); ++i)
    v[i] = t.dtype() == DType::kInt64 ? t.data<int64_t>()[i] : t.data<int32_t>()[i];
  return v;
}

// `v` (element `pos` of indices) made non-negative for a dimension of `dim`, or an error naming both.
Result<int64_t> checked_index(const KernelContext& ctx, int64_t v, int64_t pos, int64_t dim, std::size_t axis) {
  if (v < -dim || v >= dim)
    return ctx.error("index " + std::to_string(v) + " (element " + std::to_string(pos) +
                     " of indices) is out of range for axis " + std::to_string(axis) + " of size " +
                     std::to_string(dim));
  return v < 0 ? v + dim : v;
}

enum class Reduction { kNone, kAdd, kMul, kMax, kMin };

// The 'reduction' attribute as the node's opset allows it: add/mul from 16, max/min from 18.
Result<Reduction> parse_reduction(const KernelInit& init) {
  const Node& n = init.node();
  if (n.op_type == "Scatter" || n.opset < 16) return Reduction::kNone;
  const std::string r = attr_string(n, "reduction", "none");
  if (r == "none") return Reduction::kNone;
  if (r == "add") return Reduction::kAdd;
  if (r == "mul") return Reduction::kMul;
  if (n.opset >= 18 && r == "max") return Reduction::kMax;
  if (n.opset >= 18 && r == "min") return Reduction::kMin;
  return init.error("reduction '" + r + "' is not supported at opset " + std::to_string(n.opset) +
                    (n.opset >= 18 ? " (none, add, mul, max, min are)" : " (none, add, mul are)"));
}

// a (op) b in T's compute type: bool adds as "or" and multiplies as "and" (numpy's rules), integers wrap.
template <typename T>
T combine(T a, T b, Reduction r) {
  using C = compute_t<T>;
  const C x = ElementTraits<T>::load(a), y = ElementTraits<T>::load(b);
  C z{};
  if constexpr (std::is_same_v<C, bool>) {
    z = (r == Reduction::kAdd || r == Reduction::kMax) ? (x || y) : (x && y);
  } else if constexpr (std::is_integral_v<C>) {
    using U = std::make_unsigned_t<C>;
    switch (r) {
      case Reduction::kAdd:
        z = static_cast<C>(static_cast<U>(x) + static_cast<U>(y));
        break;
      case Reduction::kMul:
        z = static_cast<C>(static_cast<U>(x) * static_cast<U>(y));
        break;
      case Reduction::kMax:
        z = x < y ? y : x;
        break;
      default:
        z = y < x ? y : x;
        break;
    }
  } else {
    switch (r) {
      case Reduction::kAdd:
        z = x + y;
        break;
      case Reduction::kMul:
        z = x * y;
        break;
      case Reduction::kMax:  // NaN wins, as numpy's maximum/minimum
        z = (x != x || y != y) ? x + y : (x < y ? y : x);
        break;
      default:
        z = (x != x || y != y) ? x + y : (y < x ? y : x);
        break;
    }
  }
  return ElementTraits<T>::store(z);
}

// For each i, applies the `block` elements of updates at src + i * block onto dst + offsets[i] with the
// reduction, typed by `dtype` (one dispatch for the whole scatter); an error when the type has no arithmetic.
Status scatter_blocks(const KernelContext& ctx, DType dtype, Reduction r, void* dst, const void* src,
                      const std::vector<int64_t>& offsets, int64_t block) {
  if (r == Reduction::kNone) {
    const std::size_t elem = element_stride(dtype), bytes = static_cast<std::size_t>(block) * elem;
    for (std::size_t i = 0; i < offsets.size(); ++i)
      copy_elements(dtype, static_cast<std::byte*>(dst) + offsets[i] * static_cast<int64_t>(elem),
                    static_cast<const std::byte*>(src) + i * bytes, bytes);
    return Status::ok();
  }
  const bool done = dispatch(dtype, NumericAndBoolTypes{}, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* s = static_cast<const T*>(src);
    for (std::size_t i = 0; i < offsets.size(); ++i, s += block) {
      T* d = static_cast<T*>(dst) + offsets[i];
      for (int64_t j = 0; j < block; ++j) d[j] = combine(d[j], s[j], r);
    }
  });
  if (!done)
    return ctx.error("a reduction over " + std::string(dtype_name(dtype)) + " is not supported (" +
                     type_names(NumericAndBoolTypes{}) + " are)");
  return Status::ok();
}

// Checks indices' (and updates') shape against data's for the *Elements ops: same rank, and no larger than
// data along the axes the index does not replace.
Status check_elements_shape(const KernelContext& ctx, const Tensor& data, const Tensor& indices, std::size_t axis) {
  if (indices.rank() != data.rank())
    return ctx.error("indices " + indices.describe() + " must have the rank of data " + data.describe());
  for (std::size_t d = 0; d < data.rank(); ++d)
    if (d != axis && indices.dim(d) > data.dim(d))
      return ctx.error("indices " + shape_string(indices.shape()) + " are larger than data " +
                       shape_string(data.shape()) + " along axis " + std::to_string(d));
  return Status::ok();
}

// For every position of `indices` (row-major), the element offset in data it names: its own coordinates
// with the axis coordinate replaced by the index.
Result<std::vector<int64_t>> element_offsets(const KernelContext& ctx, const Tensor& data, const Tensor& indices,
                                             std::size_t axis) {
  TANDEM_ASSIGN_OR_RETURN(std::vector<int64_t> idx, read_indices(ctx, indices));
  const std::vector<int64_t> strides = row_major_strides(data.shape());
  const std::size_t rank = indices.rank();
  std::vector<int64_t> pos(rank, 0);
  int64_t base = 0;  // offset of pos without its axis coordinate
  const int64_t dim = data.dim(axis);
  for (std::size_t i = 0; i < idx.size(); ++i) {
    TANDEM_ASSIGN_OR_RETURN(int64_t v, checked_index(ctx, idx[i], static_cast<int64_t>(i), dim, axis));
    idx[i] = base + v * strides[axis];
    for (std::size_t d = rank; d-- > 0;) {
      if (d != axis) base += strides[d];
      if (++pos[d] < indices.dim(d)) break;
      if (d != axis) base -= strides[d] * indices.dim(d);
      pos[d] = 0;
    }
  }
  return idx;
}

class GatherElementsKernel final : public Kernel {
 public:
  bool takes_strings() const override { return true; }
  explicit GatherElementsKernel(int64_t axis) : axis_(axis) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* data, required_input(ctx, 0, "data"));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* indices, required_input(ctx, 1, "indices"));
    TANDEM_RETURN_IF_ERROR(check_movable(ctx, *data, "data"));
    if (data->rank() == 0) return ctx.error("data must have rank >= 1, got a scalar");
    auto axis = normalize_axis(axis_, static_cast<int64_t>(data->rank()), "axis");
    if (!axis) return ctx.error(axis.status().message());
    const auto a = static_cast<std::size_t>(*axis);
    TANDEM_RETURN_IF_ERROR(check_elements_shape(ctx, *data, *indices, a));
    TANDEM_ASSIGN_OR_RETURN(std::vector<int64_t> offsets, element_offsets(ctx, *data, *indices, a));
    Tensor& y = ctx.allocate_output(0, data->dtype(), indices->shape());
    with_element_type(data->dtype(), [&](auto tag) {
      using U = decltype(tag);
      const U* src = static_cast<const U*>(data->raw());
      U* dst = static_cast<U*>(y.raw());
      for (std::size_t i = 0; i < offsets.size(); ++i) dst[i] = src[offsets[i]];
    });
    return Status::ok();
  }

 private:
  int64_t axis_;
};

// ScatterElements and Scatter: a copy of data with updates[p] placed (or reduced) at each index's element,
// in row-major order of the indices (so with duplicates and no reduction, the last one wins).
class ScatterElementsKernel final : public Kernel {
 public:
  bool takes_strings() const override { return true; }  // no reduction on strings: scatter_blocks refuses
  ScatterElementsKernel(int64_t axis, Reduction reduction) : axis_(axis), reduction_(reduction) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* data, required_input(ctx, 0, "data"));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* indices, required_input(ctx, 1, "indices"));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* updates, required_input(ctx, 2, "updates"));
    TANDEM_RETURN_IF_ERROR(check_movable(ctx, *data, "data"));
    if (data->rank() == 0) return ctx.error("data must have rank >= 1, got a scalar");
    if (updates->dtype() != data->dtype() || updates->shape() != indices->shape())
      return ctx.error("updates " + updates->describe() + " must have data's type and the shape of indices " +
                       shape_string(indices->shape()));
    auto axis = normalize_axis(axis_, static_cast<int64_t>(data->rank()), "axis");
    if (!axis) return ctx.error(axis.status().message());
    const auto a = static_cast<std::size_t>(*axis);
    TANDEM_RETURN_IF_ERROR(check_elements_shape(ctx, *data, *indices, a));
    TANDEM_ASSIGN_OR_RETURN(std::vector<int64_t> offsets, element_offsets(ctx, *data, *indices, a));
    Tensor& y = ctx.allocate_output(0, data->dtype(), data->shape());
    copy_elements(data->dtype(), y.raw(), data->raw(), static_cast<std::size_t>(data->numel()) * element_stride(data->dtype()));
    return scatter_blocks(ctx, data->dtype(), reduction_, y.raw(), updates->raw(), offsets, 1);
  }

 private:
  int64_t axis_;
  Reduction reduction_;
};

Result<KernelPtr> make_gather_elements(const KernelInit& init) {
  return KernelPtr(new GatherElementsKernel(attr_int(init.node(), "axis", 0)));
}

Result<KernelPtr> make_scatter_elements(const KernelInit& init) {
  TANDEM_ASSIGN_OR_RETURN(Reduction r, parse_reduction(init));
  return KernelPtr(new ScatterElementsKernel(attr_int(init.node(), "axis", 0), r));
}

// The tuples of an ND index tensor [..., k] as element offsets into data's first k dimensions (after
// `batch` leading dimensions shared with the indices), each checked against its dimension.
struct NdIndex {
  int64_t batches = 1;   // product of the batch dimensions
  int64_t tuples = 0;    // index tuples per batch
  int64_t block = 1;     // elements of data each tuple names
  int64_t slab = 1;      // elements of data per batch
  std::vector<int64_t> offsets;  // by tuple (all batches), in elements within its batch's slab
};

Result<NdIndex> nd_offsets(const KernelContext& ctx, const Tensor& data, const Tensor& indices, std::size_t batch) {
  if (indices.rank() < 1) return ctx.error("indices must have rank >= 1, got " + indices.describe());
  const std::size_t q = indices.rank(), r = data.rank();
  const int64_t k = indices.dim(q - 1);
  if (k < 1 || k > static_cast<int64_t>(r - batch))
    return ctx.error("the last dimension of indices " + shape_string(indices.shape()) + " must be in [1, " +
                     std::to_string(r - batch) + "] for data " + shape_string(data.shape()) +
                     (batch ? " with batch_dims " + std::to_string(batch) : std::string()));
  NdIndex nd;
  for (std::size_t d = 0; d < batch; ++d) {
    if (indices.dim(d) != data.dim(d))
      return ctx.error("batch dimension " + std::to_string(d) + " differs: indices " +
                       shape_string(indices.shape()) + ", data " + shape_string(data.shape()));
    nd.batches *= data.dim(d);
  }
  for (std::size_t d = batch; d < r; ++d) nd.slab *= data.dim(d);
  for (std::size_t d = batch + static_cast<std::size_t>(k); d < r; ++d) nd.block *= data.dim(d);
  TANDEM_ASSIGN_OR_RETURN(std::vector<int64_t> idx, read_indices(ctx, indices));
  const int64_t count = static_cast<int64_t>(idx.size()) / k;
  nd.tuples = nd.batches > 0 ? count / nd.batches : 0;
  nd.offsets.resize(static_cast<std::size_t>(count));
  for (int64_t t = 0; t < count; ++t) {
    int64_t off = 0;
    for (int64_t j = 0; j < k; ++j) {
      const auto d = batch + static_cast<std::size_t>(j);
      const int64_t pos = t * k + j;
      TANDEM_ASSIGN_OR_RETURN(int64_t v, checked_index(ctx, idx[static_cast<std::size_t>(pos)], pos, data.dim(d), d));
      off = off * data.dim(d) + v;
    }
    nd.offsets[static_cast<std::size_t>(t)] = off * nd.block;
  }
  return nd;
}

class GatherNDKernel final : public Kernel {
 public:
  bool takes_strings() const override { return true; }
  explicit GatherNDKernel(int64_t batch_dims) : batch_dims_(batch_dims) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* data, required_input(ctx, 0, "data"));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* indices, required_input(ctx, 1, "indices"));
    TANDEM_RETURN_IF_ERROR(check_movable(ctx, *data, "data"));
    if (batch_dims_ < 0 || batch_dims_ >= static_cast<int64_t>(std::min(data->rank(), indices->rank())))
      return ctx.error("batch_dims " + std::to_string(batch_dims_) + " must be in [0, min(rank of data " +
                       std::to_string(data->rank()) + ", rank of indices " + std::to_string(indices->rank()) +
                       "))");
    const auto b = static_cast<std::size_t>(batch_dims_);
    TANDEM_ASSIGN_OR_RETURN(NdIndex nd, nd_offsets(ctx, *data, *indices, b));
    std::vector<int64_t> out(indices->shape().begin(), indices->shape().end() - 1);
    const auto k = static_cast<std::size_t>(indices->shape().back());
    out.insert(out.end(), data->shape().begin() + static_cast<std::ptrdiff_t>(b + k), data->shape().end());
    Tensor& y = ctx.allocate_output(0, data->dtype(), out);
    const std::size_t elem = element_stride(data->dtype());
    const std::size_t block = static_cast<std::size_t>(nd.block) * elem;
    const auto* src = static_cast<const std::byte*>(data->raw());
    auto* dst = static_cast<std::byte*>(y.raw());
    for (std::size_t t = 0; t < nd.offsets.size(); ++t) {
      const int64_t batch = nd.tuples > 0 ? static_cast<int64_t>(t) / nd.tuples : 0;
      copy_elements(data->dtype(), dst + t * block, src + (batch * nd.slab + nd.offsets[t]) * static_cast<int64_t>(elem),
                    block);
    }
    return Status::ok();
  }

 private:
  int64_t batch_dims_;
};

// ScatterND: a copy of data with each tuple's block of updates placed (or reduced) in order.
class ScatterNDKernel final : public Kernel {
 public:
  bool takes_strings() const override { return true; }  // no reduction on strings: scatter_blocks refuses
  explicit ScatterNDKernel(Reduction reduction) : reduction_(reduction) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* data, required_input(ctx, 0, "data"));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* indices, required_input(ctx, 1, "indices"));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* updates, required_input(ctx, 2, "updates"));
    TANDEM_RETURN_IF_ERROR(check_movable(ctx, *data, "data"));
    if (data->rank() == 0) return ctx.error("data must have rank >= 1, got a scalar");
    TANDEM_ASSIGN_OR_RETURN(NdIndex nd, nd_offsets(ctx, *data, *indices, 0));
    std::vector<int64_t> want(indices->shape().begin(), indices->shape().end() - 1);
    const auto k = static_cast<std::size_t>(indices->shape().back());
    want.insert(want.end(), data->shape().begin() + static_cast<std::ptrdiff_t>(k), data->shape().end());
    if (updates->dtype() != data->dtype() || updates->shape() != want)
      return ctx.error("updates " + updates->describe() + " must be " + std::string(dtype_name(data->dtype())) +
                       " " + shape_string(want) + " (indices.shape[:-1] + data.shape[k:])");
    Tensor& y = ctx.allocate_output(0, data->dtype(), data->shape());
    copy_elements(data->dtype(), y.raw(), data->raw(), static_cast<std::size_t>(data->numel()) * element_stride(data->dtype()));
    return scatter_blocks(ctx, data->dtype(), reduction_, y.raw(), updates->raw(), nd.offsets, nd.block);
  }

 private:
  Reduction reduction_;
};

}  // namespace

void register_gather_scatter_kernels(KernelRegistry& r) {
  r.add("GatherElements", make_gather_elements);
  r.add("ScatterElements", make_scatter_elements);
  r.add("Scatter", make_scatter_elements);  // opset 9-10: ScatterElements without reductions
  r.add("GatherND", [](const KernelInit& init) -> Result<KernelPtr> {
    return KernelPtr(new GatherNDKernel(init.node().opset >= 12 ? attr_int(init.node(), "batch_dims", 0) : 0));
  });
  r.add("ScatterND", [](const KernelInit& init) -> Result<KernelPtr> {
    TANDEM_ASSIGN_OR_RETURN(Reduction red, parse_reduction(init));
    return KernelPtr(new ScatterNDKernel(red));
  });
  for (const char* op : {"GatherElements", "ScatterElements", "Scatter", "GatherND", "ScatterND"}) r.take_strings(op);
}

}  // namespace tandem::cpu
