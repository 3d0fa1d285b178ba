// GroupNormalization (opsets 18 and 21): the channels of X [N, C, D1, ...] fall into num_groups groups of
// adjacent channels; each (n, group) is normalised by its own mean and (population) variance over the
// group's channels and every spatial position, y = (x - mean) / sqrt(var + epsilon), then scaled and
// shifted: by one value per group at opset 18, per channel from opset 21 (which also adds stash_type, the
// precision of the statistics: they are computed in double here, which meets any it names). The result is
// computed in double and stored in X's type.
#include <cmath>
#include <string>
#include <vector>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/element_types.h"
#include "runtime_cpu/kernels/elementwise_kernels.h"
#include "runtime_cpu/kernels/register.h"
#include "runtime_cpu/kernels/tensor_ops.h"

namespace tandem::cpu {
namespace {

class GroupNormKernel final : public Kernel {
 public:
  GroupNormKernel(int64_t groups, double epsilon, bool per_channel)
      : groups_(groups), epsilon_(epsilon), per_channel_(per_channel) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "X"));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* scale, required_input(ctx, 1, "scale"));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* bias, required_input(ctx, 2, "bias"));
    if (x->rank() < 2) return ctx.error("X must be [N, C, ...], got " + x->describe());
    const int64_t n = x->dim(0), c = x->dim(1);
    if (c % groups_ != 0)
      return ctx.error(std::to_string(c) + " channels of X " + x->describe() + " do not split into " +
                       std::to_string(groups_) + " groups");
    const int64_t params = per_channel_ ? c : groups_;
    for (const auto& [t, name] : {std::pair{scale, "scale"}, std::pair{bias, "bias"}})
      if (t->dtype() != x->dtype() || t->rank() != 1 || t->dim(0) != params)
        return ctx.error(std::string(name) + " must be " + std::string(dtype_name(x->dtype())) + " [" + std::to_string(params) +
                         "] (one value per " + (per_channel_ ? "channel" : "group, as opset 18 has it") + "), got " +
                         t->describe());
    // An empty X has nothing to normalise: its loops would still walk every (n, group), 2^62 of them for
    // num_groups = 2^62 over C = 0 (which every group count divides), and its spatial product can overflow.
    const int64_t inner = x->numel() == 0 ? 0 : x->numel() / (n * c);
    const int64_t per_group = c / groups_;  // channels
    const bool known = dispatch(x->dtype(), FloatTypes{}, [&](auto tag) {
      using T = typename decltype(tag)::type;
      using Tr = ElementTraits<T>;
      const T* px = x->data<T>();
      const T* ps = scale->data<T>();
      const T* pb = bias->data<T>();
      T* py = ctx.allocate_output(0, x->dtype(), x->shape()).data<T>();
      if (x->numel() == 0) return;
      const int64_t block = per_group * inner;  // a group's elements, contiguous
      for (int64_t b = 0; b < n; ++b)
        for (int64_t g = 0; g < groups_; ++g) {
          const int64_t start = (b * c + g * per_group) * inner;
          double mean = 0, var = 0;
          for (int64_t i = 0; i < block; ++i) mean += static_cast<double>(Tr::load(px[start + i]));
          mean /= static_cast<double>(block);
          for (int64_t i = 0; i < block; ++i) {
            const double d = static_cast<double>(Tr::load(px[start + i])) - mean;
            var += d * d;
          }
          var /= static_cast<double>(block);
          const double inv = 1.0 / std::sqrt(var + epsilon_);
          for (int64_t k = 0; k < per_group; ++k) {
            const int64_t p = per_channel_ ? g * per_group + k : g;
            const double s = static_cast<double>(Tr::load(ps[p])), sh = static_cast<double>(Tr::load(pb[p]));
            for (int64_t i = 0; i < inner; ++i) {
              const int64_t at = start + k * inner + i;
              const double v = (static_cast<double>(Tr::load(px[at])) - mean) * inv * s + sh;
              py[at] = Tr::store(static_cast<compute_t<T>>(v));
            }
          }
        }
    });
    return known ? Status::ok() : ew::unsupported(ctx, "X", *x, FloatTypes{});
  }

 private:
  int64_t groups_;
  double epsilon_;
  bool per_channel_;
};

Result<KernelPtr> make_group_norm(const KernelInit& init) {
  const Node& n = init.node();
  if (!has_attr(n, "num_groups")) return init.error("attribute 'num_groups' is required");
  const int64_t groups = attr_int(n, "num_groups", 1);
  if (groups < 1) return init.error("num_groups must be 1 or more, got " + std::to_string(groups));
  if (n.opset >= 21) {  // a floating-point TensorProto type: float, float16, double, bfloat16
    const int64_t stash = attr_int(n, "stash_type", 1);
    if (stash != 1 && stash != 10 && stash != 11 && stash != 16)
      return init.error("stash_type must be a floating-point type (1, 10, 11 or 16), got " + std::to_string(stash));
  }
  return KernelPtr(new GroupNormKernel(groups, attr_float(n, "epsilon", 1e-5f), n.opset >= 21));
}

}  // namespace

void register_group_norm_kernels(KernelRegistry& r) { r.add("GroupNormalization", make_group_norm); }

}  // namespace tandem::cpu
