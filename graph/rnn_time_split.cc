#include "graph/rnn_time_split.h"

#include <cstring>

#include "graph/topo_order.h"

namespace tandem {
namespace {

ValueId add_int64_constant(Graph& g, const std::string& name, const std::vector<int64_t>& values) {
  auto data = std::make_shared<TensorData>();
  data->dtype = DType::kInt64;
  data->dims = {static_cast<int64_t>(values.size())};
  data->bytes.resize(values.size() * sizeof(int64_t));
  std::memcpy(data->bytes.data(), values.data(), data->bytes.size());
  ValueId v = g.add_value(name, ValueKind::kInitializer);
  g.value(v).dtype = DType::kInt64;
  g.value(v).shape = Shape::of({static_cast<int64_t>(values.size())});
  g.value(v).data = std::move(data);
  g.add_initializer(v);
  return v;
}

// A name not yet used in `g`, built from `base`.
std::string fresh_name(const Graph& g, const std::string& base) {
  std::string name = base;
  for (int k = 1; g.find_value(name) != kNoValue; ++k) name = base + "_" + std::to_string(k);
  return name;
}

ValueId input_at(const Node& n, std::size_t i) { return i < n.inputs.size() ? n.inputs[i] : kNoValue; }
ValueId output_at(const Node& n, std::size_t i) { return i < n.outputs.size() ? n.outputs[i] : kNoValue; }

}  // namespace

Status split_rnn_in_time(Graph& g, NodeId id, int chunks) {
  const Node node = g.node(id);  // a copy: the graph changes below
  const std::string who = "node " + node.label(id) + ": ";
  const bool is_lstm = node.op_type == "LSTM";
  if (!node.domain.empty() || (!is_lstm && node.op_type != "GRU" && node.op_type != "RNN"))
    return Status::error(who + "only LSTM, GRU and RNN nodes can be split in time");
  if (node.opset < 10) return Status::error(who + "opset " + std::to_string(node.opset) + " is below 10");
  const std::string direction = node.attribute_string("direction", "forward");
  if (direction == "bidirectional")
    return Status::error(who + "a bidirectional node cannot be split: its directions walk time in opposite orders");
  if (input_at(node, 4) != kNoValue) return Status::error(who + "nodes with sequence_lens are not split");
  const bool batch_major = node.attribute_int("layout", 0) == 1;
  const int64_t time_axis = batch_major ? 1 : 0;
  const Shape& x_shape = g.value(node.inputs[0]).shape;
  if (!x_shape.has_rank() || x_shape.rank() != 3 || !x_shape[static_cast<std::size_t>(time_axis)].is_known())
    return Status::error(who + "the sequence length must be a known number to split in time (fix it with --dim)");
  const int64_t steps = x_shape[static_cast<std::size_t>(time_axis)].value;
  if (chunks < 1 || chunks > steps)
    return Status::error(who + std::to_string(chunks) + " chunks for " + std::to_string(steps) + " steps");
  if (chunks == 1) return Status::ok();

  // Chunk k covers [begin[k], begin[k+1]); the first `steps % chunks` chunks get one step more.
  std::vector<int64_t> begin(static_cast<std::size_t>(chunks) + 1, 0);
  for (int k = 0; k < chunks; ++k)
    begin[static_cast<std::size_t>(k) + 1] = begin[static_cast<std::size_t>(k)] + steps / chunks + (k < steps % chunks ? 1 : 0);
  const std::string base = node.name.empty() ? node.op_type + "_" + std::to_string(id) : node.name;
  const ValueId axes = add_int64_constant(g, fresh_name(g, base + "/time_axis"), {time_axis});
  // Y is [T, dirs, B, H] (layout 0) or [B, T, dirs, H] (layout 1): time is on the same axis as in X.
  const ValueId y_out = output_at(node, 0), h_out = output_at(node, 1), c_out = is_lstm ? output_at(node, 2) : kNoValue;

  // Forward chunks run in time order; reverse ones from the last time range back to the first.
  std::vector<int> run_order(static_cast<std::size_t>(chunks));
  for (int k = 0; k < chunks; ++k) run_order[static_cast<std::size_t>(k)] = direction == "reverse" ? chunks - 1 - k : k;

  std::vector<ValueId> y_parts(static_cast<std::size_t>(chunks), kNoValue);
  ValueId h_prev = input_at(node, 5), c_prev = is_lstm ? input_at(node, 6) : kNoValue;
  for (std::size_t step = 0; step < run_order.size(); ++step) {
    const int k = run_order[step];
    const bool last = step + 1 == run_order.size();
    const std::string tag = base + "/chunk" + std::to_string(k);
    Node slice;
    slice.name = fresh_name(g, tag + "/slice");
    slice.op_type = "Slice";
    slice.opset = node.opset;
    const ValueId starts = add_int64_constant(g, fresh_name(g, tag + "/starts"), {begin[static_cast<std::size_t>(k)]});
    const ValueId ends = add_int64_constant(g, fresh_name(g, tag + "/ends"), {begin[static_cast<std::size_t>(k) + 1]});
    const ValueId x_part = g.add_value(fresh_name(g, tag + "/X"), ValueKind::kNodeOutput);
    g.value(x_part).dtype = g.value(node.inputs[0]).dtype;
    slice.inputs = {node.inputs[0], starts, ends, axes};
    slice.outputs = {x_part};
    g.add_node(std::move(slice));

    Node part = node;
    part.name = fresh_name(g, tag);
    part.inputs.resize(is_lstm ? 8 : 6, kNoValue);
    part.inputs[0] = x_part;
    part.inputs[5] = h_prev;
    if (is_lstm) part.inputs[6] = c_prev;
    part.outputs.assign(is_lstm ? 3 : 2, kNoValue);
    if (y_out != kNoValue) {
      y_parts[static_cast<std::size_t>(k)] = part.outputs[0] = g.add_value(fresh_name(g, tag + "/Y"), ValueKind::kNodeOutput);
      g.value(part.outputs[0]).dtype = g.value(y_out).dtype;
    }
    // The state goes on to the next chunk; the last chunk's state is the node's.
    part.outputs[1] = last ? h_out : g.add_value(fresh_name(g, tag + "/Y_h"), ValueKind::kNodeOutput);
    if (is_lstm) part.outputs[2] = last ? c_out : g.add_value(fresh_name(g, tag + "/Y_c"), ValueKind::kNodeOutput);
    h_prev = part.outputs[1];
    if (is_lstm) c_prev = part.outputs[2];
    g.add_node(std::move(part));
  }
  if (y_out != kNoValue) {
    Node concat;
    concat.name = fresh_name(g, base + "/concat_Y");
    concat.op_type = "Concat";
    concat.opset = node.opset;
    concat.attributes["axis"] = Attribute::of_int(time_axis);
    concat.inputs = y_parts;
    concat.outputs = {y_out};
    g.add_node(std::move(concat));
  }
  std::vector<bool> remove(g.num_nodes(), false);
  remove[static_cast<std::size_t>(id)] = true;
  g.remove_nodes(remove);
  TANDEM_ASSIGN_OR_RETURN(std::vector<NodeId> order, topological_order(g));
  g.reorder_nodes(order);
  return Status::ok();
}

}  // namespace tandem
