#include "graph/rnn_time_split.h"

#include <algorithm>
#include <cstring>

#include "graph/dead_nodes.h"
#include "graph/graph_edit.h"
#include "graph/shape_folding.h"
#include "graph/topo_order.h"

namespace tandem {
namespace {

// Reads a one-dimensional int64 constant (Slice starts/ends/axes, Squeeze/Unsqueeze axes): an initializer,
// or the output of a Constant node (exporters write Squeeze's axes that way).
bool read_int64s(const Graph& g, ValueId v, std::vector<int64_t>* out) {
  if (v == kNoValue) return false;
  TensorDataPtr data = g.value(v).data;
  if (!data && g.value(v).producer != kNoNode) {
    const Node& c = g.node(g.value(v).producer);
    const Attribute* value = c.op_type == "Constant" && c.domain.empty() ? c.attribute("value") : nullptr;
    if (value && value->kind == Attribute::Kind::kTensor) data = value->t;
  }
  if (!data || data->dtype != DType::kInt64) return false;
  const auto& bytes = data->bytes;
  out->resize(bytes.size() / 8);
  std::memcpy(out->data(), bytes.data(), out->size() * 8);
  return true;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Whether `n` maps time step t of its input to time step t of its output on `time_axis`: unary elementwise
// ops, and Squeeze/Unsqueeze of axes after the time axis (which therefore keeps its index).
bool keeps_time_axis(const Graph& g, const Node& n, int64_t time_axis) {
  static const char* const kUnary[] = {"Identity", "Relu", "Tanh", "Sigmoid", "LeakyRelu", "Elu", "Neg", "Abs"};
  if (!n.domain.empty() || n.outputs.size() != 1) return false;
  for (const char* op : kUnary)
    if (n.op_type == op) return n.inputs.size() == 1;
  if (n.op_type != "Squeeze" && n.op_type != "Unsqueeze") return false;
  std::vector<int64_t> axes;
  if (const Attribute* a = n.attribute("axes")) axes = a->ints;
  else if (!read_int64s(g, n.inputs.size() > 1 ? n.inputs[1] : kNoValue, &axes)) return false;
  if (axes.empty()) return false;  // Squeeze without axes drops every 1, the time axis possibly too
  for (int64_t a : axes)
    if (a <= time_axis) return false;  // negative or at/before time: the time axis could move
  return true;
}

// After node `name` was split into `chunks`: when its X is P(Concat(Y parts of a node split the same way))
// with P keeping the time axis, chunk k reads P(Y part k) instead of a slice of the joined whole, so it can
// start as soon as chunk k of the layer below has finished. This is what makes stacked layers a wavefront.
void link_to_layer_below(Graph& g, const std::string& name, int chunks) {
  std::vector<NodeId> part(static_cast<std::size_t>(chunks), kNoNode), slice(static_cast<std::size_t>(chunks), kNoNode);
  for (std::size_t i = 0; i < g.num_nodes(); ++i)
    for (int k = 0; k < chunks; ++k)
      if (g.node(static_cast<NodeId>(i)).name == name + "/chunk" + std::to_string(k)) part[static_cast<std::size_t>(k)] = static_cast<NodeId>(i);
  ValueId x = kNoValue;
  int64_t time_axis = -1;
  for (int k = 0; k < chunks; ++k) {
    if (part[static_cast<std::size_t>(k)] == kNoNode) return;
    const NodeId sl = g.value(g.node(part[static_cast<std::size_t>(k)]).inputs[0]).producer;
    if (sl == kNoNode || g.node(sl).op_type != "Slice") return;
    std::vector<int64_t> axes;
    if (!read_int64s(g, g.node(sl).inputs[3], &axes) || axes.size() != 1) return;
    if (k == 0) x = g.node(sl).inputs[0], time_axis = axes[0];
    if (g.node(sl).inputs[0] != x || axes[0] != time_axis) return;
    slice[static_cast<std::size_t>(k)] = sl;
  }
  const NodeId p = g.value(x).producer;
  if (p == kNoNode || !keeps_time_axis(g, g.node(p), time_axis)) return;
  const NodeId c = g.value(g.node(p).inputs[0]).producer;
  if (c == kNoNode || g.node(c).op_type != "Concat" || g.node(c).inputs.size() != static_cast<std::size_t>(chunks) ||
      g.node(c).attribute_int("axis", -1) != time_axis)
    return;
  // The parts must be the chunks of one node, in time order, over the same length as ours.
  const Shape& joined = g.value(g.node(c).outputs[0]).shape;
  const Shape& ours = g.value(x).shape;
  if (!joined.has_rank() || !ours.has_rank() || joined.rank() <= static_cast<std::size_t>(time_axis) ||
      ours.rank() <= static_cast<std::size_t>(time_axis) || !joined[static_cast<std::size_t>(time_axis)].is_known() ||
      joined[static_cast<std::size_t>(time_axis)].value != ours[static_cast<std::size_t>(time_axis)].value)
    return;
  for (int k = 0; k < chunks; ++k) {
    const NodeId producer = g.value(g.node(c).inputs[static_cast<std::size_t>(k)]).producer;
    if (producer == kNoNode || !ends_with(g.node(producer).name, "/chunk" + std::to_string(k))) return;
  }

  const Node pn = g.node(p);
  const std::vector<ValueId> y_parts = g.node(c).inputs;
  for (int k = 0; k < chunks; ++k) {
    Node pk = pn;
    pk.name = fresh_name(g, pn.name + "/chunk" + std::to_string(k));
    pk.inputs[0] = y_parts[static_cast<std::size_t>(k)];
    const ValueId out = g.add_value(fresh_name(g, g.value(pn.outputs[0]).name + "/chunk" + std::to_string(k)),
                                    ValueKind::kNodeOutput);
    g.value(out).dtype = g.value(pn.outputs[0]).dtype;
    pk.outputs = {out};
    g.add_node(std::move(pk));
    g.node(part[static_cast<std::size_t>(k)]).inputs[0] = out;
  }
  std::vector<bool> remove(g.num_nodes(), false);
  for (NodeId sl : slice) remove[static_cast<std::size_t>(sl)] = true;
  g.remove_nodes(remove);        // the slices; uses are rebuilt
  eliminate_dead_nodes(g);       // P and the Concat, unless something else still reads them
}

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
  if (y_out != kNoValue) add_concat(g, fresh_name(g, base + "/concat_Y"), node.opset, time_axis, y_parts, y_out);
  return remove_node_and_sort(g, id);
}

TimeSplitReport split_rnns_in_time(Graph& g, int chunks) {
  TimeSplitReport report;
  if (chunks > 1) fold_static_shapes(g);  // Shape(layer input) would join every layer's chunks again
  for (const std::string& name : nodes_to_rewrite(g, is_recurrent, report.refused)) {
    const Result<NodeId> found = find_unique_node(g, name);  // ids change with every split
    if (!found) {
      report.refused.push_back(found.status().message());
      continue;
    }
    const NodeId id = *found;
    const Shape& x = g.value(g.node(id).inputs[0]).shape;
    const std::size_t time_axis = g.node(id).attribute_int("layout", 0) == 1 ? 1 : 0;
    int n = chunks;
    if (x.has_rank() && x.rank() == 3 && x[time_axis].is_known())
      n = static_cast<int>(std::min<int64_t>(chunks, std::max<int64_t>(1, x[time_axis].value)));
    const Status s = split_rnn_in_time(g, id, n);
    if (!s.is_ok()) {
      report.refused.push_back(s.message());
      continue;
    }
    report.split.push_back(name);
    if (n > 1) link_to_layer_below(g, name, n);
  }
  if (!report.split.empty()) {
    auto order = topological_order(g);
    if (order) g.reorder_nodes(*order);
  }
  return report;
}

}  // namespace tandem
