#include "runtime_cpu/kernels/stack_slices.h"

#include <cstring>

#include "runtime_cpu/kernels/tensor_ops.h"

namespace tandem::cpu {

Status stack_slices(KernelContext& ctx, std::size_t out, const std::vector<Tensor>& slices, int64_t axis,
                    bool reverse, const std::string& what) {
  if (slices.empty()) return ctx.error("internal error: " + what + " has no slices to stack");
  for (std::size_t t = 0; t < slices.size(); ++t)
    if (!slices[t].is_tensor())
      return ctx.error(what + ": iteration " + std::to_string(t) + " made a " + slices[t].describe() +
                       "; only tensors can be stacked");
  const Tensor& first = slices.front();
  TANDEM_RETURN_IF_ERROR(check_movable(ctx, first, what));
  for (std::size_t t = 1; t < slices.size(); ++t)
    if (slices[t].dtype() != first.dtype() || slices[t].shape() != first.shape())
      return ctx.error(what + ": iteration " + std::to_string(t) + " made " + slices[t].describe() +
                       ", iteration 0 made " + first.describe() + " (every iteration must make the same shape)");
  const std::vector<int64_t>& elem = first.shape();
  const auto rank = static_cast<int64_t>(elem.size());
  if (axis < 0 || axis > rank) return ctx.error("internal error: " + what + " stacked along axis " + std::to_string(axis));
  const auto count = static_cast<int64_t>(slices.size());
  std::vector<int64_t> shape = elem;
  shape.insert(shape.begin() + axis, count);
  TANDEM_RETURN_IF_ERROR(check_output_size(ctx, shape, first.dtype()));
  TANDEM_ASSIGN_OR_RETURN(Tensor * dst, ctx.try_allocate_output(out, first.dtype(), shape));

  // Slices one after another ([count] + element shape), in the order they land; moved to `axis` after.
  const std::size_t slice_bytes = static_cast<std::size_t>(first.numel()) * element_stride(first.dtype());
  Tensor joined = axis == 0 ? *dst : Tensor::empty(first.dtype(), [&] {
    std::vector<int64_t> s = elem;
    s.insert(s.begin(), count);
    return s;
  }());
  auto* bytes = static_cast<std::byte*>(joined.raw());
  for (int64_t t = 0; t < count; ++t) {
    const int64_t at = reverse ? count - 1 - t : t;
    copy_elements(first.dtype(), bytes + static_cast<std::size_t>(at) * slice_bytes,
                  slices[static_cast<std::size_t>(t)].raw(), slice_bytes);
  }
  if (axis == 0) return Status::ok();
  const std::vector<int64_t> elem_strides = row_major_strides(elem);
  const int64_t slice_elems = first.numel();
  std::vector<int64_t> strides;
  for (int64_t j = 0; j <= rank; ++j)
    strides.push_back(j == axis ? slice_elems : elem_strides[static_cast<std::size_t>(j < axis ? j : j - 1)]);
  copy_strided(first.dtype(), joined.raw(), 0, shape, strides, dst->raw());
  return Status::ok();
}

Result<Tensor> empty_stack(const KernelContext& ctx, const Graph& body, std::size_t body_output, int64_t axis,
                           const std::string& what) {
  const Value& v = body.value(body.outputs()[body_output]);
  if (v.dtype == DType::kUndefined)
    return ctx.error(what + ": no iteration ran, and the body does not declare an element type for it");
  std::vector<int64_t> shape = {0};
  if (v.shape.has_rank()) {
    std::vector<int64_t> elem;
    bool known = true;
    for (std::size_t d = 0; d < v.shape.rank(); ++d) {
      known = known && v.shape[d].is_known();
      if (known) elem.push_back(v.shape[d].value);
    }
    if (known && axis >= 0 && axis <= static_cast<int64_t>(elem.size())) {
      elem.insert(elem.begin() + axis, 0);
      shape = elem;
    }
  }
  return Tensor::empty(v.dtype, shape);
}

}  // namespace tandem::cpu
