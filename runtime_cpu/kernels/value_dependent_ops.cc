// Ops whose output size depends on the input's values: Compress (slices where a condition holds), NonZero
// (the coordinates of non-zero elements) and Unique (distinct elements or slices, with where they came from).
#include <algorithm>
#include <cstring>
#include <functional>
#include <numeric>
#include <optional>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/element_types.h"
#include "runtime_cpu/kernels/sub_families.h"
#include "runtime_cpu/kernels/tensor_ops.h"

namespace tandem::cpu {
namespace {

class CompressKernel final : public Kernel {
 public:
  bool takes_strings() const override { return true; }
  explicit CompressKernel(std::optional<int64_t> axis) : axis_(axis) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "input"));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* cond, required_input(ctx, 1, "condition"));
    TANDEM_RETURN_IF_ERROR(check_movable(ctx, *x, "input"));
    if (cond->dtype() != DType::kBool || cond->rank() != 1)
      return ctx.error("condition must be a 1-D bool tensor, got " + cond->describe());
    // Without an axis the input is read flattened: one "slice" per element.
    int64_t outer = 1, dim = x->numel(), inner = 1;
    std::size_t a = 0;
    if (axis_) {
      auto axis = normalize_axis(*axis_, static_cast<int64_t>(x->rank()), "axis");
      if (!axis) return ctx.error(axis.status().message());
      a = static_cast<std::size_t>(*axis);
      dim = x->dim(a);
      for (std::size_t d = 0; d < a; ++d) outer *= x->dim(d);
      for (std::size_t d = a + 1; d < x->rank(); ++d) inner *= x->dim(d);
    }
    // A condition shorter than the axis drops the slices past its end; one longer may only add falses.
    std::vector<int64_t> kept;
    const uint8_t* c = cond->data<uint8_t>();
    for (int64_t i = 0; i < cond->numel(); ++i) {
      if (!c[i]) continue;
      if (i >= dim)
        return ctx.error("condition is true at " + std::to_string(i) + ", beyond the " + std::to_string(dim) +
                         (axis_ ? " slices along axis " + std::to_string(a) : std::string(" input elements")));
      kept.push_back(i);
    }
    std::vector<int64_t> shape{static_cast<int64_t>(kept.size())};
    if (axis_) {
      shape = x->shape();
      shape[a] = static_cast<int64_t>(kept.size());
    }
    Tensor& y = ctx.allocate_output(0, x->dtype(), shape);
    const std::size_t elem = element_stride(x->dtype()), block = static_cast<std::size_t>(inner) * elem;
    const auto* src = static_cast<const std::byte*>(x->raw());
    auto* dst = static_cast<std::byte*>(y.raw());
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i : kept) {
        copy_elements(x->dtype(), dst, src + static_cast<std::size_t>(o * dim + i) * block, block);
        dst += block;
      }
    return Status::ok();
  }

 private:
  std::optional<int64_t> axis_;
};

// NonZero: int64 [rank, count], column j the coordinates of the j-th non-zero element in row-major order.
// A scalar reads as a 1-D tensor of one element (as numpy and onnxruntime do).
class NonZeroKernel final : public Kernel {
 public:
  bool takes_strings() const override { return true; }
  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "X"));
    TANDEM_RETURN_IF_ERROR(check_movable(ctx, *x, "X"));
    std::vector<int64_t> hits;
    bool known = dispatch(x->dtype(), NumericAndBoolTypes{}, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* p = x->data<T>();
      for (int64_t i = 0; i < x->numel(); ++i)
        if (ElementTraits<T>::load(p[i]) != compute_t<T>(0)) hits.push_back(i);
    });
    if (x->dtype() == DType::kString) {  // a string is "non-zero" when it is not empty, as in NumPy
      known = true;
      for (int64_t i = 0; i < x->numel(); ++i)
        if (!x->data<std::string>()[i].empty()) hits.push_back(i);
    }
    if (!known)
      return ctx.error("X has element type " + std::string(dtype_name(x->dtype())) + ", which is not supported (" +
                       type_names(NumericAndBoolTypes{}) + " are)");
    const std::vector<int64_t> shape = x->rank() == 0 ? std::vector<int64_t>{1} : x->shape();
    const auto rank = static_cast<int64_t>(shape.size()), count = static_cast<int64_t>(hits.size());
    Tensor& y = ctx.allocate_output(0, DType::kInt64, {rank, count});
    int64_t* out = y.data<int64_t>();
    for (int64_t j = 0; j < count; ++j) {
      int64_t flat = hits[static_cast<std::size_t>(j)];
      for (int64_t d = rank; d-- > 0;) {
        out[d * count + j] = flat % shape[static_cast<std::size_t>(d)];
        flat /= shape[static_cast<std::size_t>(d)];
      }
    }
    return Status::ok();
  }
};

// Unique over "items": the input's elements (no axis) or its slices along the axis, each compared as the
// row-major sequence of its elements. Items are ordered by value (NaN after everything, NaNs equal), so
// that a stable sort finds the groups and each group's first item is its first occurrence.
class UniqueKernel final : public Kernel {
 public:
  bool takes_strings() const override { return true; }
  UniqueKernel(std::optional<int64_t> axis, bool sorted) : axis_(axis), sorted_(sorted) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "X"));
    TANDEM_RETURN_IF_ERROR(check_movable(ctx, *x, "X"));
    int64_t outer = 1, items = x->numel(), inner = 1;
    std::size_t a = 0;
    if (axis_) {
      auto axis = normalize_axis(*axis_, static_cast<int64_t>(x->rank()), "axis");
      if (!axis) return ctx.error(axis.status().message());
      a = static_cast<std::size_t>(*axis);
      items = x->dim(a);
      for (std::size_t d = 0; d < a; ++d) outer *= x->dim(d);
      for (std::size_t d = a + 1; d < x->rank(); ++d) inner *= x->dim(d);
    }
    std::vector<int64_t> order(static_cast<std::size_t>(items));
    std::iota(order.begin(), order.end(), 0);
    // cmp(i, j): -1, 0 or 1 comparing item i with item j.
    std::function<int(int64_t, int64_t)> cmp;
    if (x->dtype() == DType::kString) {  // strings by their bytes: code point order for UTF-8, as NumPy sorts
      const std::string* p = x->data<std::string>();
      cmp = [p, outer, items, inner](int64_t i, int64_t j) {
        for (int64_t o = 0; o < outer; ++o)
          for (int64_t k = 0; k < inner; ++k)
            if (int c = p[(o * items + i) * inner + k].compare(p[(o * items + j) * inner + k]); c != 0) return c < 0 ? -1 : 1;
        return 0;
      };
    }
    const bool known = x->dtype() == DType::kString || dispatch(x->dtype(), NumericAndBoolTypes{}, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* p = x->data<T>();
      cmp = [p, outer, items, inner](int64_t i, int64_t j) {
        for (int64_t o = 0; o < outer; ++o)
          for (int64_t k = 0; k < inner; ++k) {
            const auto u = ElementTraits<T>::load(p[(o * items + i) * inner + k]);
            const auto v = ElementTraits<T>::load(p[(o * items + j) * inner + k]);
            const bool un = u != u, vn = v != v;  // NaN
            if (un || vn) {
              if (un != vn) return un ? 1 : -1;
              continue;
            }
            if (u < v) return -1;
            if (v < u) return 1;
          }
        return 0;
      };
    });
    if (!known)
      return ctx.error("X has element type " + std::string(dtype_name(x->dtype())) + ", which is not supported (" +
                       type_names(NumericAndBoolTypes{}) + " are)");
    std::stable_sort(order.begin(), order.end(), [&](int64_t i, int64_t j) { return cmp(i, j) < 0; });
    // Groups of equal items: their first occurrence and size; group_of[item] = group number.
    std::vector<int64_t> first, count, group_of(static_cast<std::size_t>(items));
    for (std::size_t s = 0; s < order.size(); ++s) {
      if (s == 0 || cmp(order[s - 1], order[s]) != 0) first.push_back(order[s]), count.push_back(0);
      group_of[static_cast<std::size_t>(order[s])] = static_cast<int64_t>(first.size()) - 1;
      ++count.back();
    }
    const std::size_t groups = first.size();
    std::vector<int64_t> rank_of(groups);  // output position of each group
    std::iota(rank_of.begin(), rank_of.end(), 0);
    if (!sorted_) {
      std::vector<int64_t> by_first(groups);
      std::iota(by_first.begin(), by_first.end(), 0);
      std::sort(by_first.begin(), by_first.end(), [&](int64_t g, int64_t h) {
        return first[static_cast<std::size_t>(g)] < first[static_cast<std::size_t>(h)];
      });
      for (std::size_t r = 0; r < groups; ++r) rank_of[static_cast<std::size_t>(by_first[r])] = static_cast<int64_t>(r);
    }
    const auto u = static_cast<int64_t>(groups);
    std::vector<int64_t> y_shape{u};
    if (axis_) {
      y_shape = x->shape();
      y_shape[a] = u;
    }
    Tensor& y = ctx.allocate_output(0, x->dtype(), y_shape);
    const std::size_t block = static_cast<std::size_t>(inner) * element_stride(x->dtype());
    const auto* src = static_cast<const std::byte*>(x->raw());
    auto* dst = static_cast<std::byte*>(y.raw());
    for (std::size_t g = 0; g < groups; ++g)
      for (int64_t o = 0; o < outer; ++o)
        copy_elements(x->dtype(), dst + static_cast<std::size_t>(o * u + rank_of[g]) * block,
                      src + static_cast<std::size_t>(o * items + first[g]) * block, block);
    auto int_output = [&](std::size_t i, int64_t n) -> int64_t* {
      return ctx.num_outputs() > i && ctx.wants_output(i) ? ctx.allocate_output(i, DType::kInt64, {n}).data<int64_t>()
                                                          : nullptr;
    };
    if (int64_t* out = int_output(1, u))
      for (std::size_t g = 0; g < groups; ++g) out[rank_of[g]] = first[g];
    if (int64_t* out = int_output(2, items))
      for (int64_t i = 0; i < items; ++i) out[i] = rank_of[static_cast<std::size_t>(group_of[static_cast<std::size_t>(i)])];
    if (int64_t* out = int_output(3, u))
      for (std::size_t g = 0; g < groups; ++g) out[rank_of[g]] = count[g];
    return Status::ok();
  }

 private:
  std::optional<int64_t> axis_;
  bool sorted_;
};

Result<KernelPtr> make_unique(const KernelInit& init) {
  const Node& n = init.node();
  std::optional<int64_t> axis;
  if (has_attr(n, "axis")) axis = attr_int(n, "axis", 0);
  const int64_t sorted = attr_int(n, "sorted", 1);
  if (sorted != 0 && sorted != 1) return init.error("sorted must be 0 or 1, got " + std::to_string(sorted));
  return KernelPtr(new UniqueKernel(axis, sorted == 1));
}

}  // namespace

void register_value_dependent_kernels(KernelRegistry& r) {
  r.add("Compress", [](const KernelInit& init) -> Result<KernelPtr> {
    std::optional<int64_t> axis;
    if (has_attr(init.node(), "axis")) axis = attr_int(init.node(), "axis", 0);
    return KernelPtr(new CompressKernel(axis));
  });
  r.add("NonZero", [](const KernelInit&) -> Result<KernelPtr> { return KernelPtr(new NonZeroKernel()); });
  r.add("Unique", make_unique);
  for (const char* op : {"Compress", "NonZero", "Unique"}) r.take_strings(op);
}

}  // namespace tandem::cpu
