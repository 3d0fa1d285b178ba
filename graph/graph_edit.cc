#include "graph/graph_edit.h"

#include <cstring>
#include <memory>

#include "graph/topo_order.h"

namespace tandem {

std::string fresh_name(const Graph& g, const std::string& base) {
  std::string name = base;
  for (int k = 1; g.find_value(name) != kNoValue; ++k) name = base + "_" + std::to_string(k);
  return name;
}

ValueId add_constant(Graph& g, const std::string& name, TensorDataPtr data) {
  const ValueId v = g.add_value(name, ValueKind::kInitializer);
  g.value(v).dtype = data->dtype;
  std::vector<Dim> dims;
  for (int64_t d : data->dims) dims.push_back(Dim::known(d));
  g.value(v).shape = Shape(std::move(dims));
  g.value(v).data = std::move(data);
  g.add_initializer(v);
  return v;
}

ValueId add_int64_constant(Graph& g, const std::string& name, const std::vector<int64_t>& values) {
  auto data = std::make_shared<TensorData>();
  data->dtype = DType::kInt64;
  data->dims = {static_cast<int64_t>(values.size())};
  data->bytes.resize(values.size() * sizeof(int64_t));
  std::memcpy(data->bytes.data(), values.data(), data->bytes.size());
  return add_constant(g, name, std::move(data));
}

void add_concat(Graph& g, const std::string& name, int64_t opset, int64_t axis, std::vector<ValueId> inputs,
                ValueId output) {
  Node concat;
  concat.name = name;
  concat.op_type = "Concat";
  concat.opset = opset;
  concat.attributes["axis"] = Attribute::of_int(axis);
  concat.inputs = std::move(inputs);
  concat.outputs = {output};
  g.add_node(std::move(concat));
}

Status remove_node_and_sort(Graph& g, NodeId id) {
  std::vector<bool> remove(g.num_nodes(), false);
  remove[static_cast<std::size_t>(id)] = true;
  g.remove_nodes(remove);
  TANDEM_ASSIGN_OR_RETURN(std::vector<NodeId> order, topological_order(g));
  g.reorder_nodes(order);
  return Status::ok();
}

bool is_recurrent(const Node& n) {
  return n.domain.empty() && (n.op_type == "LSTM" || n.op_type == "GRU" || n.op_type == "RNN");
}

std::vector<std::string> nodes_to_rewrite(const Graph& g, const std::function<bool(const Node&)>& pick,
                                          std::vector<std::string>& refused) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < g.num_nodes(); ++i) {
    const Node& n = g.node(static_cast<NodeId>(i));
    if (!pick(n)) continue;
    if (n.name.empty()) refused.push_back("node " + n.label(static_cast<NodeId>(i)) + ": unnamed nodes are not split");
    else names.push_back(n.name);
  }
  return names;
}

Result<NodeId> find_unique_node(const Graph& g, const std::string& name) {
  NodeId id = kNoNode;
  int same_name = 0;
  for (std::size_t i = 0; i < g.num_nodes(); ++i)
    if (g.node(static_cast<NodeId>(i)).name == name) id = static_cast<NodeId>(i), ++same_name;
  if (same_name == 0) return Status::error("node '" + name + "': not in the graph");
  if (same_name > 1) return Status::error("node '" + name + "': its name is not unique");
  return id;
}

}  // namespace tandem
