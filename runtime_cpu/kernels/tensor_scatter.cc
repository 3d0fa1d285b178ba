// TensorScatter (opset 24): a KV-cache update. present_cache is a copy of past_cache [B, D1, ..., max_seq, ...,
// Dn] with `update` [B, D1, ..., seq, ..., Dn] written along `axis` (not the batch axis) at each batch row's
// write index (write_indices [B], zeros when absent). "linear" needs index + seq <= max_seq; "circular"
// takes every position modulo max_seq (a floor modulo, as the spec's numpy pseudocode has it, so a negative
// index counts from the end). Elements are only moved, so every type tandem holds is served, strings too.
#include <string>
#include <vector>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/register.h"
#include "runtime_cpu/kernels/tensor_ops.h"

namespace tandem::cpu {
namespace {

class TensorScatterKernel final : public Kernel {
 public:
  TensorScatterKernel(int64_t axis, bool circular) : axis_(axis), circular_(circular) {}
  bool takes_strings() const override { return true; }

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* past, required_input(ctx, 0, "past_cache"));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* update, required_input(ctx, 1, "update"));
    TANDEM_RETURN_IF_ERROR(check_movable(ctx, *past, "past_cache"));
    TANDEM_RETURN_IF_ERROR(check_movable(ctx, *update, "update"));
    if (update->dtype() != past->dtype())
      return ctx.error("update " + update->describe() + " must have past_cache's type " +
                       std::string(dtype_name(past->dtype())));
    const auto rank = static_cast<int64_t>(past->rank());
    if (rank < 2) return ctx.error("past_cache must have a batch axis and a sequence axis, got " + past->describe());
    if (axis_ < -rank || axis_ >= rank)
      return ctx.error("axis " + std::to_string(axis_) + " is out of range for past_cache " + past->describe());
    const int64_t axis = axis_ < 0 ? axis_ + rank : axis_;
    if (axis == 0) return ctx.error("axis must not be the batch axis 0 (axis " + std::to_string(axis_) + ")");
    bool same = static_cast<int64_t>(update->rank()) == rank && update->dim(axis) <= past->dim(axis);
    for (int64_t d = 0; same && d < rank; ++d) same = d == axis || update->dim(d) == past->dim(d);
    if (!same)
      return ctx.error("update " + update->describe() + " must have past_cache's shape " + past->describe() +
                       " but for axis " + std::to_string(axis) + ", where it may be shorter");
    const int64_t batch = past->dim(0), max_seq = past->dim(axis), seq = update->dim(axis);

    std::vector<int64_t> index(static_cast<std::size_t>(batch), 0);
    if (const Tensor* w = ctx.input(2)) {
      if (w->dtype() != DType::kInt64 || w->rank() != 1 || w->dim(0) != batch)
        return ctx.error("write_indices must be int64 [" + std::to_string(batch) + "] (one per batch row), got " +
                         w->describe());
      for (int64_t b = 0; b < batch; ++b) {
        const int64_t i = w->data<int64_t>()[b];
        if (circular_) {
          // Floor modulo; max_seq == 0 leaves nothing to write (seq is 0 too).
          index[static_cast<std::size_t>(b)] = max_seq == 0 ? 0 : ((i % max_seq) + max_seq) % max_seq;
        } else {
          if (i < 0 || i > max_seq - seq)
            return ctx.error("write_indices[" + std::to_string(b) + "] = " + std::to_string(i) +
                             " does not leave room for " + std::to_string(seq) + " positions in " +
                             std::to_string(max_seq) + " (linear mode needs 0 <= index <= " +
                             std::to_string(max_seq - seq) + ")");
          index[static_cast<std::size_t>(b)] = i;
        }
      }
    }

    Tensor& out = ctx.allocate_output(0, past->dtype(), past->shape());
    const std::size_t stride = element_stride(past->dtype());
    copy_elements(past->dtype(), out.raw(), past->raw(), static_cast<std::size_t>(past->numel()) * stride);
    if (update->numel() == 0) return Status::ok();
    // Rows before the axis (batch-major), then `seq` runs of `inner` contiguous elements each.
    int64_t outer_per_batch = 1, inner = 1;
    for (int64_t d = 1; d < axis; ++d) outer_per_batch *= past->dim(d);
    for (int64_t d = axis + 1; d < rank; ++d) inner *= past->dim(d);
    const std::size_t run = static_cast<std::size_t>(inner) * stride;
    auto* dst = static_cast<std::byte*>(out.raw());
    const auto* src = static_cast<const std::byte*>(update->raw());
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t o = 0; o < outer_per_batch; ++o) {
        const int64_t row = b * outer_per_batch + o;
        for (int64_t s = 0; s < seq; ++s) {
          int64_t at = index[static_cast<std::size_t>(b)] + s;
          if (circular_ && at >= max_seq) at -= max_seq;
          copy_elements(past->dtype(), dst + static_cast<std::size_t>(row * max_seq + at) * run,
                        src + static_cast<std::size_t>(row * seq + s) * run, run);
        }
      }
    return Status::ok();
  }

 private:
  int64_t axis_;
  bool circular_;
};

Result<KernelPtr> make_tensor_scatter(const KernelInit& init) {
  const std::string mode = attr_string(init.node(), "mode", "linear");
  if (mode != "linear" && mode != "circular")
    return init.error("mode must be \"linear\" or \"circular\", got \"" + mode + "\"");
  return KernelPtr(new TensorScatterKernel(attr_int(init.node(), "axis", -2), mode == "circular"));
}

}  // namespace

void register_tensor_scatter_kernels(KernelRegistry& r) {
  r.add("TensorScatter", make_tensor_scatter);
  r.take_strings("TensorScatter");
}

}  // namespace tandem::cpu
