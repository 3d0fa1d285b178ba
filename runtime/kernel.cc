#include "runtime/kernel.h"

namespace tandem {

bool KernelContext::wants_output(std::size_t i) const {
  const Node& n = node();
  return i < n.outputs.size() && n.outputs[i] != kNoValue;
}

Tensor& KernelContext::allocate_output(std::size_t i, DType dtype, std::vector<int64_t> shape) {
  outputs_[i] = Tensor::empty(dtype, std::move(shape));
  return outputs_[i];
}

void KernelContext::set_output(std::size_t i, Tensor t) { outputs_[i] = std::move(t); }

Status KernelContext::error(const std::string& reason) const {
  return Status::error("node " + node().label(node_id_) + ": " + reason);
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
