// LpNormalization: x divided by its L1 or L2 norm along `axis` (default -1), the norm summed in double. A
// zero vector stays zero (as ONNX Runtime has it; ONNX's reference divides 0 by 0). 16-bit floats come in
// through the float32 twin (runtime_cpu/float32_twin.h).
#include <cmath>
#include <string>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/element_types.h"
#include "runtime_cpu/kernels/elementwise_kernels.h"
#include "runtime_cpu/kernels/register.h"

namespace tandem::cpu {
namespace {

class LpNormalizationKernel final : public Kernel {
 public:
  LpNormalizationKernel(int64_t axis, int64_t p) : axis_(axis), p_(p) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, ew::required_input(ctx, 0));
    if (x->rank() == 0) return ctx.error("the input must have rank 1 or more, got " + x->describe());
    auto axis = normalize_axis(axis_, static_cast<int64_t>(x->rank()), "axis");
    if (!axis) return ctx.error(axis.status().message() + " (input " + x->describe() + ")");
    const AxisLayout l = layout_around(x->shape(), *axis);
    const int64_t outer = l.outer, n = l.n, inner = l.inner;
    Tensor& y = ctx.allocate_output(0, x->dtype(), x->shape());
    const bool known = dispatch(x->dtype(), TypeList<float, double>{}, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* px = x->data<T>();
      T* py = y.data<T>();
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
          const int64_t base = o * n * inner + i;
          double norm = 0;
          for (int64_t k = 0; k < n; ++k) {
            const double v = px[base + k * inner];
            norm += p_ == 1 ? std::fabs(v) : v * v;
          }
          if (p_ == 2) norm = std::sqrt(norm);
          for (int64_t k = 0; k < n; ++k)
            py[base + k * inner] = norm == 0 ? T(0) : static_cast<T>(px[base + k * inner] / norm);
        }
    });
    return known ? Status::ok() : ew::unsupported(ctx, "input 0", *x, TypeList<float, double>{});
  }

 private:
  int64_t axis_, p_;
};

Result<KernelPtr> make_lp_normalization(const KernelInit& init) {
  const int64_t p = attr_int(init.node(), "p", 2);
  if (p != 1 && p != 2) return init.error("p must be 1 or 2, got " + std::to_string(p));
  return KernelPtr(new LpNormalizationKernel(attr_int(init.node(), "axis", -1), p));
}

}  // namespace

void register_lp_normalization_kernels(KernelRegistry& r) { r.add("LpNormalization", make_lp_normalization); }

}  // namespace tandem::cpu
