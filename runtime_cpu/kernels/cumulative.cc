// CumSum and CumProd (opset 26): running sums or products along one axis (given as an input tensor),
// inclusive or exclusive (the first element then gets the identity, 0 or 1), forward or in reverse. They
// accumulate in the element type's compute type (float for the 16-bit floats); integers wrap around as Add
// and Mul do.
#include <algorithm>
#include <string>
#include <vector>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/element_types.h"
#include "runtime_cpu/kernels/elementwise_kernels.h"
#include "runtime_cpu/kernels/elementwise_ops.h"
#include "runtime_cpu/kernels/register.h"

namespace tandem::cpu {
namespace {

// Both ops' T (CumProd-26 has CumSum-14's types).
using CumulativeTypes = TypeList<float, double, Half, BFloat16, int32_t, int64_t, uint32_t, uint64_t>;

// Op: ops::Add (identity 0) or ops::Mul (identity 1).
template <class Op, int kIdentity>
class CumulativeKernel final : public Kernel {
 public:
  CumulativeKernel(bool exclusive, bool reverse) : exclusive_(exclusive), reverse_(reverse) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, ew::required_input(ctx, 0));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* a, ew::required_input(ctx, 1));
    if (a->numel() != 1 || a->rank() > 1)
      return ctx.error("axis (input 1) must be a scalar, got " + a->describe());
    auto given = read_int_list(a->reshaped({1}), "axis (input 1)");
    if (!given) return ctx.error(given.status().message());
    if (x->rank() == 0) return ctx.error("the input must have rank 1 or more, got " + x->describe());
    auto axis = normalize_axis((*given)[0], static_cast<int64_t>(x->rank()), "axis");
    if (!axis) return ctx.error(axis.status().message() + " (input " + x->describe() + ")");
    const AxisLayout l = layout_around(x->shape(), *axis);
    const int64_t outer = l.outer, n = l.n, inner = l.inner;
    const bool known = dispatch(x->dtype(), CumulativeTypes{}, [&](auto tag) {
      using T = typename decltype(tag)::type;
      using Tr = ElementTraits<T>;
      const T* px = x->data<T>();
      T* py = ctx.allocate_output(0, x->dtype(), x->shape()).data<T>();
      std::vector<compute_t<T>> sum(static_cast<std::size_t>(inner));
      for (int64_t o = 0; o < outer; ++o) {
        std::fill(sum.begin(), sum.end(), compute_t<T>(kIdentity));
        for (int64_t s = 0; s < n; ++s) {
          const int64_t j = reverse_ ? n - 1 - s : s;
          const int64_t row = (o * n + j) * inner;
          for (int64_t i = 0; i < inner; ++i) {
            const auto v = Tr::load(px[row + i]);
            if (exclusive_) py[row + i] = Tr::store(sum[i]);
            sum[i] = Op{}(sum[i], v);
            if (!exclusive_) py[row + i] = Tr::store(sum[i]);
          }
        }
      }
    });
    return known ? Status::ok() : ew::unsupported(ctx, "input 0", *x, CumulativeTypes{});
  }

 private:
  bool exclusive_, reverse_;
};

template <class Op, int kIdentity>
Result<KernelPtr> make_cumulative(const KernelInit& init) {
  const int64_t exclusive = attr_int(init.node(), "exclusive", 0);
  const int64_t reverse = attr_int(init.node(), "reverse", 0);
  if ((exclusive != 0 && exclusive != 1) || (reverse != 0 && reverse != 1))
    return init.error("exclusive and reverse must be 0 or 1, got " + std::to_string(exclusive) + " and " +
                      std::to_string(reverse));
  return KernelPtr(new CumulativeKernel<Op, kIdentity>(exclusive == 1, reverse == 1));
}

}  // namespace

void register_cumulative_kernels(KernelRegistry& r) {
  r.add("CumSum", make_cumulative<ops::Add, 0>);
  r.add("CumProd", make_cumulative<ops::Mul, 1>);
}

}  // namespace tandem::cpu
