// OneHot: a new axis of size depth holding values[1] (on) where it equals the index and values[0] (off)
// elsewhere. Indices and depth of any numeric type are converted to int64 as Cast would (floats truncate);
// from opset 11 negative indices count from the end, and indices outside the range give all off.
#include <cstring>
#include <string>
#include <vector>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/element_types.h"
#include "runtime_cpu/kernels/register.h"
#include "runtime_cpu/kernels/tensor_ops.h"

namespace tandem::cpu {
namespace {

// The elements of a numeric tensor as int64, or false for a type that is not numeric.
bool to_int64(const Tensor& t, std::vector<int64_t>& out) {
  out.resize(static_cast<std::size_t>(t.numel()));
  return dispatch(t.dtype(), NumericTypes{}, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = t.data<T>();
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = convert_element<int64_t>(p[i]);
  });
}

class OneHotKernel final : public Kernel {
 public:
  bool takes_strings() const override { return true; }  // string values are allowed; indices are numbers
  OneHotKernel(int64_t axis, bool negative_wraps) : axis_(axis), negative_wraps_(negative_wraps) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* indices, required_input(ctx, 0, "indices"));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* depth_t, required_input(ctx, 1, "depth"));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* values, required_input(ctx, 2, "values"));
    TANDEM_RETURN_IF_ERROR(check_movable(ctx, *values, "values"));
    if (values->rank() != 1 || values->numel() != 2)
      return ctx.error("values must be the two elements [off, on], got " + values->describe());
    if (depth_t->rank() > 1 || depth_t->numel() != 1)
      return ctx.error("depth must be a scalar or one element, got " + depth_t->describe());
    std::vector<int64_t> depth_v, index;
    if (!to_int64(*depth_t, depth_v))
      return ctx.error("depth has type " + std::string(dtype_name(depth_t->dtype())) +
                       ", which is not numeric");
    if (!to_int64(*indices, index))
      return ctx.error("indices have type " + std::string(dtype_name(indices->dtype())) +
                       ", which is not numeric");
    const int64_t depth = depth_v[0];
    if (depth < 0) return ctx.error("depth must not be negative, got " + std::to_string(depth));
    auto axis = normalize_axis(axis_, static_cast<int64_t>(indices->rank()) + 1, "axis");
    if (!axis)
      return ctx.error(axis.status().message() + " (the output of indices " + indices->describe() + ")");
    const auto a = static_cast<std::size_t>(*axis);
    std::vector<int64_t> shape = indices->shape();
    shape.insert(shape.begin() + static_cast<std::ptrdiff_t>(a), depth);
    TANDEM_RETURN_IF_ERROR(check_output_size(ctx, shape, values->dtype()));
    int64_t outer = 1, inner = 1;
    for (std::size_t d = 0; d < indices->rank(); ++d) (d < a ? outer : inner) *= indices->dim(d);
    Tensor& y = ctx.allocate_output(0, values->dtype(), shape);
    if (y.numel() == 0) return Status::ok();
    const std::size_t elem = element_stride(values->dtype());
    fill_elements(values->dtype(), y.raw(), y.numel(), values->raw());  // off everywhere, then on at each index
    const auto* on = static_cast<const std::byte*>(values->raw()) + elem;
    auto* out = static_cast<std::byte*>(y.raw());
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        int64_t k = index[static_cast<std::size_t>(o * inner + i)];
        if (k < 0 && negative_wraps_) k += depth;
        if (k < 0 || k >= depth) continue;
        copy_elements(values->dtype(), out + static_cast<std::size_t>((o * depth + k) * inner + i) * elem, on, elem);
      }
    return Status::ok();
  }

 private:
  int64_t axis_;
  bool negative_wraps_;
};

Result<KernelPtr> make_one_hot(const KernelInit& init) {
  return KernelPtr(new OneHotKernel(attr_int(init.node(), "axis", -1), init.node().opset >= 11));
}

}  // namespace

void register_one_hot_kernels(KernelRegistry& r) {
  r.add("OneHot", make_one_hot);
  r.take_strings("OneHot");
}

}  // namespace tandem::cpu
