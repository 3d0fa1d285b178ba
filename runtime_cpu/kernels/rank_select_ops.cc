// Ops that pick elements by their rank along one axis: ArgMax, ArgMin, TopK and Hardmax. The input is seen
// as [outer, n, inner] with the axis in the middle.
//
// NaN follows numpy, which the ONNX reference uses: argmax and argmin both pick a NaN over any number (the
// first one, or the last with select_last_index), Hardmax marks the first NaN, and TopK ranks NaN above
// every number (first among the largest, last among the smallest).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/element_types.h"
#include "runtime_cpu/kernels/elementwise_kernels.h"
#include "runtime_cpu/kernels/register.h"

namespace tandem::cpu {
namespace {

template <typename C>
bool is_nan(C v) {
  if constexpr (std::is_floating_point_v<C>)
    return std::isnan(v);
  else
    return false;
}

Result<int64_t> axis_of(const KernelContext& ctx, int64_t axis, const Tensor& x) {
  auto a = normalize_axis(axis, static_cast<int64_t>(x.rank()), "axis");
  if (!a) return ctx.error(a.status().message() + " (input " + x.describe() + ")");
  return a;
}

// --- ArgMax, ArgMin -------------------------------------------------------------------------------------

// Whether v displaces the current best b: a strictly better value, a NaN over a number, or (select_last)
// an equal one.
template <bool kMax, typename C>
bool displaces(C v, C b, bool select_last) {
  const bool vn = is_nan(v), bn = is_nan(b);
  if (vn || bn) return vn && (!bn || select_last);
  if (kMax ? v > b : v < b) return true;
  return select_last && v == b;
}

template <bool kMax>
class ArgKernel final : public Kernel {
 public:
  ArgKernel(int64_t axis, bool keepdims, bool select_last)
      : axis_(axis), keepdims_(keepdims), select_last_(select_last) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, ew::required_input(ctx, 0));
    TANDEM_ASSIGN_OR_RETURN(const int64_t axis, axis_of(ctx, axis_, *x));
    const AxisLayout l = layout_around(x->shape(), axis);
    if (l.n == 0 && l.outer * l.inner > 0)
      return ctx.error("axis " + std::to_string(axis) + " of " + x->describe() + " is empty: there is no " +
                       (kMax ? "maximum" : "minimum"));
    std::vector<int64_t> out_shape;
    for (std::size_t d = 0; d < x->rank(); ++d)
      if (static_cast<int64_t>(d) != axis)
        out_shape.push_back(x->dim(d));
      else if (keepdims_)
        out_shape.push_back(1);
    const bool known = dispatch(x->dtype(), NumericTypes{}, [&](auto tag) {
      using T = typename decltype(tag)::type;
      using Tr = ElementTraits<T>;
      int64_t* y = ctx.allocate_output(0, DType::kInt64, out_shape).data<int64_t>();
      const T* px = x->data<T>();
      std::vector<compute_t<T>> best(static_cast<std::size_t>(l.inner));
      for (int64_t o = 0; o < l.outer && l.n > 0; ++o, y += l.inner) {
        const T* slab = px + o * l.n * l.inner;
        for (int64_t i = 0; i < l.inner; ++i) best[i] = Tr::load(slab[i]), y[i] = 0;
        for (int64_t j = 1; j < l.n; ++j)  // row by row, so reads stay in memory order
          for (int64_t i = 0; i < l.inner; ++i) {
            const auto v = Tr::load(slab[j * l.inner + i]);
            if (displaces<kMax>(v, best[i], select_last_)) best[i] = v, y[i] = j;
          }
      }
    });
    return known ? Status::ok() : ew::unsupported(ctx, "input 0", *x, NumericTypes{});
  }

 private:
  int64_t axis_;
  bool keepdims_, select_last_;
};

Result<bool> flag(const KernelInit& init, const std::string& name, int64_t fallback) {
  const int64_t v = attr_int(init.node(), name, fallback);
  if (v != 0 && v != 1) return init.error(name + " must be 0 or 1, got " + std::to_string(v));
  return v == 1;
}

template <bool kMax>
Result<KernelPtr> make_arg(const KernelInit& init) {
  TANDEM_ASSIGN_OR_RETURN(const bool keepdims, flag(init, "keepdims", 1));
  TANDEM_ASSIGN_OR_RETURN(const bool select_last, flag(init, "select_last_index", 0));
  return KernelPtr(new ArgKernel<kMax>(attr_int(init.node(), "axis", 0), keepdims, select_last));
}

// --- TopK -----------------------------------------------------------------------------------------------

// Whether element a (value va) comes before element b in the result: the larger (or smaller) value first,
// NaN above every number, and the lower index first among equals, so the order is total and the output
// does not depend on the sort's algorithm.
template <typename C>
bool ranks_before(C va, int64_t a, C vb, int64_t b, bool largest) {
  const bool an = is_nan(va), bn = is_nan(vb);
  if (an != bn) return largest ? an : bn;
  if (!an && va != vb) return largest ? va > vb : va < vb;
  return a < b;
}

class TopKKernel final : public Kernel {
 public:
  // k_attr >= 0: opset 1's k attribute; -1: K is input 1.
  TopKKernel(int64_t axis, bool largest, int64_t k_attr) : axis_(axis), largest_(largest), k_attr_(k_attr) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, ew::required_input(ctx, 0));
    int64_t k = k_attr_;
    if (k < 0) {
      TANDEM_ASSIGN_OR_RETURN(const Tensor* kt, ew::required_input(ctx, 1));
      if (kt->dtype() != DType::kInt64 || kt->numel() != 1 || kt->rank() > 1)
        return ctx.error("K (input 1) must be one int64 in a 1-D tensor, got " + kt->describe());
      k = kt->data<int64_t>()[0];
    }
    if (x->rank() == 0) return ctx.error("the input must have rank 1 or more, got " + x->describe());
    TANDEM_ASSIGN_OR_RETURN(const int64_t axis, axis_of(ctx, axis_, *x));
    const AxisLayout l = layout_around(x->shape(), axis);
    if (k < 0 || k > l.n)
      return ctx.error("K " + std::to_string(k) + " is out of range for axis " + std::to_string(axis) +
                       " of " + x->describe() + " (0 to " + std::to_string(l.n) + ")");
    std::vector<int64_t> out_shape = x->shape();
    out_shape[static_cast<std::size_t>(axis)] = k;
    const bool known = dispatch(x->dtype(), NumericTypes{}, [&](auto tag) {
      using T = typename decltype(tag)::type;
      using C = compute_t<T>;
      T* values = ctx.allocate_output(0, x->dtype(), out_shape).data<T>();
      int64_t* indices = ctx.allocate_output(1, DType::kInt64, out_shape).data<int64_t>();
      const T* px = x->data<T>();
      std::vector<C> v(static_cast<std::size_t>(l.n));
      std::vector<int64_t> order(static_cast<std::size_t>(l.n));
      const auto before = [&](int64_t a, int64_t b) { return ranks_before(v[a], a, v[b], b, largest_); };
      for (int64_t o = 0; o < l.outer && k > 0; ++o)
        for (int64_t i = 0; i < l.inner; ++i) {
          const T* line = px + o * l.n * l.inner + i;
          for (int64_t j = 0; j < l.n; ++j) v[j] = ElementTraits<T>::load(line[j * l.inner]);
          std::iota(order.begin(), order.end(), int64_t{0});
          std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
          const int64_t base = o * k * l.inner + i;
          for (int64_t j = 0; j < k; ++j) {
            values[base + j * l.inner] = line[order[j] * l.inner];
            indices[base + j * l.inner] = order[j];
          }
        }
    });
    return known ? Status::ok() : ew::unsupported(ctx, "input 0", *x, NumericTypes{});
  }

 private:
  int64_t axis_;
  bool largest_;
  int64_t k_attr_;
};

Result<KernelPtr> make_topk(const KernelInit& init) {
  const Node& n = init.node();
  TANDEM_ASSIGN_OR_RETURN(const bool largest, flag(init, "largest", 1));
  TANDEM_ASSIGN_OR_RETURN(const bool sorted, flag(init, "sorted", 1));
  (void)sorted;  // unsorted output may come in any order: the sorted one serves
  int64_t k_attr = -1;
  if (n.opset < 10) {
    if (!has_attr(n, "k")) return init.error("attribute 'k' is required before opset 10");
    k_attr = attr_int(n, "k", 0);
    if (k_attr < 0) return init.error("k must not be negative, got " + std::to_string(k_attr));
  }
  return KernelPtr(new TopKKernel(attr_int(n, "axis", -1), largest, k_attr));
}

// --- Hardmax --------------------------------------------------------------------------------------------

// 1 at the first maximum of each slice, 0 elsewhere. Before opset 13 the input is coerced to 2-D at axis
// (as Softmax is) and each row is one slice; from 13 on each line along axis is.
class HardmaxKernel final : public Kernel {
 public:
  HardmaxKernel(int64_t axis, bool coerce_2d) : axis_(axis), coerce_2d_(coerce_2d) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, ew::required_input(ctx, 0));
    if (x->rank() == 0) return ctx.error("the input must have rank 1 or more, got " + x->describe());
    TANDEM_ASSIGN_OR_RETURN(const int64_t axis, axis_of(ctx, axis_, *x));
    const AxisLayout l = layout_around(x->shape(), axis, coerce_2d_);
    const bool known = dispatch(x->dtype(), FloatTypes{}, [&](auto tag) {
      using T = typename decltype(tag)::type;
      using Tr = ElementTraits<T>;
      Tensor& out = ctx.allocate_output(0, x->dtype(), x->shape());
      T* y = out.data<T>();
      const T zero = Tr::store(0), one = Tr::store(1);
      std::fill(y, y + out.numel(), zero);
      const T* px = x->data<T>();
      std::vector<compute_t<T>> best(static_cast<std::size_t>(l.inner));
      std::vector<int64_t> at(static_cast<std::size_t>(l.inner));
      for (int64_t o = 0; o < l.outer && l.n > 0; ++o) {
        const int64_t base = o * l.n * l.inner;
        for (int64_t i = 0; i < l.inner; ++i) best[i] = Tr::load(px[base + i]), at[i] = 0;
        for (int64_t j = 1; j < l.n; ++j)
          for (int64_t i = 0; i < l.inner; ++i) {
            const auto v = Tr::load(px[base + j * l.inner + i]);
            if (displaces<true>(v, best[i], false)) best[i] = v, at[i] = j;
          }
        for (int64_t i = 0; i < l.inner; ++i) y[base + at[i] * l.inner + i] = one;
      }
    });
    return known ? Status::ok() : ew::unsupported(ctx, "input 0", *x, FloatTypes{});
  }

 private:
  int64_t axis_;
  bool coerce_2d_;
};

Result<KernelPtr> make_hardmax(const KernelInit& init) {
  const bool coerce_2d = init.node().opset < 13;
  return KernelPtr(new HardmaxKernel(attr_int(init.node(), "axis", coerce_2d ? 1 : -1), coerce_2d));
}

}  // namespace

void register_rank_select_kernels(KernelRegistry& r) {
  r.add("ArgMax", make_arg<true>);
  r.add("ArgMin", make_arg<false>);
  r.add("TopK", make_topk);
  r.add("Hardmax", make_hardmax);
}

}  // namespace tandem::cpu
