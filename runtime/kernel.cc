#include "runtime/kernel.h"

#include <stdexcept>

namespace tandem {

bool KernelContext::wants_output(std::size_t i) const {
  const Node& n = node();
  return i < n.outputs.size() && n.outputs[i] != kNoValue;
}

Tensor& KernelContext::allocate_output(std::size_t i, DType dtype, std::vector<int64_t> shape) {
  auto r = try_allocate_output(i, dtype, std::move(shape));
  if (!r) throw std::runtime_error(r.status().message());
  return **r;
}

Result<Tensor*> KernelContext::try_allocate_output(std::size_t i, DType dtype, std::vector<int64_t> shape) {
  mark_allocated(i, true);
  // Strings are objects, never in the arena.
  if (planned_ && dtype != DType::kString && i < planned_->offset.size() && planned_->offset[i] >= 0) {
    const int64_t need = shape_numel(shape) * static_cast<int64_t>(dtype_size(dtype));
    if (need == planned_->bytes[i]) {
      outputs_[i] = planned_->arena->view(static_cast<std::size_t>(planned_->offset[i]), dtype, std::move(shape));
      return &outputs_[i];
    }
    ++planned_misses_;
  }
  if (!allocator_) {
    outputs_[i] = Tensor::empty(dtype, std::move(shape));
    return &outputs_[i];
  }
  auto r = allocator_->allocate(dtype, std::move(shape));
  if (!r) return error("output " + std::to_string(i) + ": " + r.status().message());
  outputs_[i] = std::move(r).value();
  return &outputs_[i];
}

void KernelContext::set_output(std::size_t i, Tensor t) {
  mark_allocated(i, false);
  outputs_[i] = std::move(t);
}

void KernelContext::mark_allocated(std::size_t i, bool yes) {
  if (i >= 64) return;  // reported as not allocated: the memory plan leaves such outputs alone
  const uint64_t bit = uint64_t{1} << i;
  allocated_ = yes ? allocated_ | bit : allocated_ & ~bit;
}

Status KernelContext::error(const std::string& reason) const {
  return Status::error("node " + node().label(node_id_) + ": " + reason);
}

Status run_kernel(const Kernel& kernel, KernelContext& ctx) {
  // What a kernel has not said it takes is refused, not misread: a sequence handed to a tensor kernel, or
  // strings to one that copies elements as bytes (it would make empty strings of them).
  const bool non_tensors = kernel.takes_non_tensors(), strings = kernel.takes_strings();
  for (std::size_t i = 0; i < ctx.num_inputs(); ++i) {
    const Tensor* t = ctx.input(i);
    if (!t) continue;
    if (!non_tensors && !t->is_tensor())
      return ctx.error("input " + std::to_string(i) + " is a " + t->describe() + "; " + ctx.node().op_type +
                       " takes tensors");
    if (!strings && t->dtype() == DType::kString)
      return ctx.error("input " + std::to_string(i) + " is a " + t->describe() + "; " + ctx.node().op_type +
                       " does not take string tensors");
  }
  try {
    return kernel.run(ctx);
  } catch (const std::exception& e) {
    return ctx.error(std::string("failed: ") + e.what());
  }
}

TensorDataPtr KernelInit::constant_input(std::size_t i) const {
  const Node& n = node();
  if (i >= n.inputs.size() || n.inputs[i] == kNoValue) return nullptr;
  const Value& v = graph.value(n.inputs[i]);
  return v.kind == ValueKind::kInitializer ? v.data : nullptr;  // an input with a default can be overridden
}

Status KernelInit::error(const std::string& reason) const {
  return Status::error("node " + node().label(node_id) + ": " + reason);
}

}  // namespace tandem
