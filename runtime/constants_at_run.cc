#include "runtime/constants_at_run.h"

namespace tandem {

std::vector<bool> constants_read_at_run(const Graph& g, const std::vector<KernelPtr>& kernels) {
  std::vector<bool> read(g.num_values(), false);
  for (std::size_t v = 0; v < g.num_values(); ++v) {
    const Value& val = g.values()[v];
    if (!val.data) continue;
    read[v] = val.kind != ValueKind::kInitializer || g.is_graph_output(static_cast<ValueId>(v));
  }
  for (std::size_t id = 0; id < g.num_nodes(); ++id) {
    const Node& n = g.node(static_cast<NodeId>(id));
    const Kernel* k = id < kernels.size() ? kernels[id].get() : nullptr;
    for (std::size_t i = 0; i < n.inputs.size(); ++i) {
      const ValueId v = n.inputs[i];
      if (v != kNoValue && (!k || k->reads_constant_input(i))) read[static_cast<std::size_t>(v)] = true;
    }
    for (ValueId v : n.implicit_inputs)
      if (v != kNoValue) read[static_cast<std::size_t>(v)] = true;
  }
  return read;
}

std::vector<Tensor> constants_for_runs(const Graph& g, const std::vector<bool>& read) {
  std::vector<Tensor> constants(g.num_values());
  for (std::size_t v = 0; v < g.num_values(); ++v) {
    const TensorDataPtr& data = g.values()[v].data;
    if (!data) continue;
    constants[v] = read[v] ? Tensor::from_constant(data) : Tensor::shape_only(data->dtype, data->dims);
  }
  return constants;
}

}  // namespace tandem
