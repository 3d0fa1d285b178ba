// MaxUnpool: the partial inverse of MaxPool. Each element of X goes to the place its index (MaxPool's
// Indices output: flat over the whole [N, C, D1..Dk] tensor) names in a zero tensor of the inferred shape
// (in - 1) * stride - pad_begin - pad_end + kernel per spatial dimension; the rest stays 0. With
// output_shape, that result sits at the start of a larger zero tensor of the shape asked for (padded at the
// end), as ONNX's reference and its test data have it. Every index is checked before anything is written;
// when two name one place the later element wins, as in the reference.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "runtime/window_geometry.h"
#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/element_types.h"
#include "runtime_cpu/kernels/elementwise_kernels.h"
#include "runtime_cpu/kernels/register.h"
#include "runtime_cpu/kernels/tensor_ops.h"

namespace tandem::cpu {
namespace {

using UnpoolTypes = TypeList<float, double, Half, BFloat16>;

class MaxUnpoolKernel final : public Kernel {
 public:
  explicit MaxUnpoolKernel(WindowAttrs a) : a_(std::move(a)) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, ew::required_input(ctx, 0));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* ind, ew::required_input(ctx, 1));
    const std::size_t k = a_.kernel_shape.size();
    if (x->rank() != k + 2)
      return ctx.error("X " + x->describe() + " must be [N, C] and " + std::to_string(k) +
                       " spatial dimensions, as kernel_shape " + shape_string(a_.kernel_shape) + " has");
    if (ind->dtype() != DType::kInt64 || ind->shape() != x->shape())
      return ctx.error("I must be int64 of X's shape " + shape_string(x->shape()) + ", got " + ind->describe());
    std::vector<int64_t> inferred = {x->dim(0), x->dim(1)};
    for (std::size_t i = 0; i < k; ++i) {
      const int64_t s = a_.strides.empty() ? 1 : a_.strides[i];
      const int64_t pads = a_.pads.empty() ? 0 : a_.pads[i] + a_.pads[i + k];
      int64_t d = 0;
      if (__builtin_mul_overflow(x->dim(i + 2) - 1, s, &d) || d > (int64_t{1} << 48))
        return ctx.error("spatial dimension " + std::to_string(i) + " of X " + x->describe() + " with stride " +
                         std::to_string(s) + " gives no sensible output size");
      d += a_.kernel_shape[i] - pads;
      if (d < 1)
        return ctx.error("pads " + shape_string(a_.pads) + " leave spatial dimension " + std::to_string(i) +
                         " of the output empty (" + std::to_string(d) + ")");
      inferred.push_back(d);
    }
    std::vector<int64_t> shape = inferred;
    if (const Tensor* os = ctx.input(2)) {
      TANDEM_ASSIGN_OR_RETURN(shape, read_int_list(*os, "output_shape"));
      bool fits = shape.size() == inferred.size() && shape[0] == inferred[0] && shape[1] == inferred[1];
      for (std::size_t i = 2; i < shape.size() && fits; ++i) fits = shape[i] >= inferred[i];
      if (!fits)
        return ctx.error("output_shape " + shape_string(shape) + " must have X's N and C and spatial sizes at "
                         "least the inferred " + shape_string(inferred));
    }
    TANDEM_RETURN_IF_ERROR(check_output_size(ctx, shape, x->dtype()));
    TANDEM_RETURN_IF_ERROR(check_output_size(ctx, inferred, x->dtype()));
    const int64_t total = shape_numel(inferred);
    const int64_t* pi = ind->data<int64_t>();
    for (int64_t e = 0; e < ind->numel(); ++e)
      if (pi[e] < 0 || pi[e] >= total)
        return ctx.error("index " + std::to_string(pi[e]) + " (element " + std::to_string(e) +
                         " of I) is out of range for the unpooled " + shape_string(inferred) + " (" +
                         std::to_string(total) + " elements)");

    const std::vector<int64_t> in_strides = row_major_strides(inferred), out_strides = row_major_strides(shape);
    const bool known = dispatch(x->dtype(), UnpoolTypes{}, [&](auto tag) {
      using T = typename decltype(tag)::type;
      Tensor& out = ctx.allocate_output(0, x->dtype(), shape);
      T* y = out.data<T>();
      std::fill(y, y + out.numel(), ElementTraits<T>::store(0));
      const T* px = x->data<T>();
      for (int64_t e = 0; e < x->numel(); ++e) {
        // The index's coordinates in the inferred shape, placed at the same coordinates of the output.
        int64_t rest = pi[e], at = 0;
        for (std::size_t d = 0; d < inferred.size(); ++d) {
          at += rest / in_strides[d] * out_strides[d];
          rest %= in_strides[d];
        }
        y[at] = px[e];
      }
    });
    return known ? Status::ok() : ew::unsupported(ctx, "X", *x, UnpoolTypes{});
  }

 private:
  WindowAttrs a_;
};

Result<KernelPtr> make_max_unpool(const KernelInit& init) {
  auto a = read_window_attrs(init.node());
  if (!a) return init.error(a.status().message());
  const std::size_t k = a->kernel_shape.size();
  if (k == 0) return init.error("attribute 'kernel_shape' is required");
  if (!a->strides.empty() && a->strides.size() != k)
    return init.error("strides " + shape_string(a->strides) + " needs " + std::to_string(k) + " entries");
  if (!a->pads.empty() && a->pads.size() != 2 * k)
    return init.error("pads " + shape_string(a->pads) + " needs " + std::to_string(2 * k) + " entries");
  // Bounded so that the output-size arithmetic cannot overflow.
  constexpr int64_t kMax = int64_t{1} << 32;
  for (const auto* list : {&a->kernel_shape, &a->strides, &a->pads})
    for (int64_t v : *list)
      if (v > kMax) return init.error("kernel_shape, strides and pads must be at most 2^32, got " + std::to_string(v));
  return KernelPtr(new MaxUnpoolKernel(std::move(*a)));
}

}  // namespace

void register_max_unpool_kernels(KernelRegistry& r) { r.add("MaxUnpool", make_max_unpool); }

}  // namespace tandem::cpu
