#include "graph/rnn_direction_split.h"

#include <cstring>
#include <memory>

#include "graph/graph_edit.h"

namespace tandem {
namespace {

// Half k (0: forward, 1: reverse) of a constant whose dimension `axis` is the direction (size 2).
TensorDataPtr direction_half(const TensorData& t, std::size_t axis, int k) {
  auto half = std::make_shared<TensorData>();
  half->dtype = t.dtype;
  half->dims = t.dims;
  half->dims[axis] = 1;
  std::size_t outer = 1, inner = dtype_size(t.dtype);  // inner: bytes of one direction's block
  for (std::size_t i = 0; i < axis; ++i) outer *= static_cast<std::size_t>(t.dims[i]);
  for (std::size_t i = axis + 1; i < t.dims.size(); ++i) inner *= static_cast<std::size_t>(t.dims[i]);
  half->bytes.resize(outer * inner);
  for (std::size_t o = 0; o < outer; ++o)
    std::memcpy(half->bytes.data() + o * inner, t.bytes.data() + (o * 2 + static_cast<std::size_t>(k)) * inner, inner);
  return half;
}

// The value's shape with its direction axis made 1 (unknown stays unknown).
Shape one_direction(const Shape& s, std::size_t axis) {
  if (!s.has_rank() || s.rank() <= axis) return s;
  Shape out = s;
  out[axis] = Dim::known(1);
  return out;
}

}  // namespace

Status split_rnn_directions(Graph& g, NodeId id) {
  const Node node = g.node(id);  // a copy: the graph changes below
  const std::string who = "node " + node.label(id) + ": ";
  const bool is_lstm = node.op_type == "LSTM";
  if (!is_recurrent(node)) return Status::error(who + "only LSTM, GRU and RNN nodes can be split into directions");
  if (node.attribute_string("direction", "forward") != "bidirectional")
    return Status::error(who + "it is not bidirectional");
  if (node.attribute("activation_alpha") || node.attribute("activation_beta"))
    return Status::error(who + "nodes with activation_alpha or activation_beta are not split");
  const bool batch_major = node.attribute_int("layout", 0) == 1;
  // Where the direction is: W, R, B, P [2, ...] on axis 0; initial_h/initial_c and Y_h/Y_c [2, B, H] on 0,
  // or [B, 2, H] on 1 (layout 1); Y [T, 2, B, H] on 1, or [B, T, 2, H] on 2 (layout 1).
  const std::size_t state_axis = batch_major ? 1 : 0, y_axis = batch_major ? 2 : 1;

  // The weights: two constant halves each.
  struct Halves {
    ValueId v[2] = {kNoValue, kNoValue};
  };
  std::vector<Halves> inputs(node.inputs.size());
  const std::string base = node.name.empty() ? node.op_type + "_" + std::to_string(id) : node.name;
  const char* const kWeight[] = {nullptr, "W", "R", "B", nullptr, nullptr, nullptr, "P"};
  // Only initializers are constants: a graph input's default (an initializer of its name) is what the
  // caller may replace at run time.
  auto constant = [&](ValueId v) -> TensorDataPtr {  // a copy: adding values moves them
    return g.value(v).kind == ValueKind::kInitializer ? g.value(v).data : nullptr;
  };
  // Every weight checked before anything is added, so a refused node leaves the graph as it was.
  const std::size_t kWeights[] = {1, 2, 3, 7};
  for (std::size_t i : kWeights) {
    const ValueId v = input_at(node, i);
    if (v == kNoValue) continue;
    const TensorDataPtr data = constant(v);
    if (!data)
      return Status::error(who + kWeight[i] + " is computed by the graph or given by the caller; only constant "
                           "weights are split");
    if (data->dims.empty() || data->dims[0] != 2 || data->strings.size() || data->bytes.empty())
      return Status::error(who + kWeight[i] + " does not hold two directions");
  }
  for (std::size_t i : kWeights) {
    const ValueId v = input_at(node, i);
    if (v == kNoValue) continue;
    const TensorDataPtr data = constant(v);
    for (int k = 0; k < 2; ++k)
      inputs[i].v[k] = add_constant(g, fresh_name(g, g.value(v).name + (k ? "/reverse" : "/forward")),
                                    direction_half(*data, 0, k));
  }
  // The initial states: constant halves, or a Split node when the graph computes or is given them.
  for (std::size_t i : {5, 6}) {
    const ValueId v = input_at(node, i);
    if (v == kNoValue || (i == 6 && !is_lstm)) continue;
    const TensorDataPtr data = constant(v);
    if (data && data->dims.size() == 3 && data->dims[state_axis] == 2 && !data->bytes.empty()) {
      for (int k = 0; k < 2; ++k)
        inputs[i].v[k] = add_constant(g, fresh_name(g, g.value(v).name + (k ? "/reverse" : "/forward")),
                                      direction_half(*data, state_axis, k));
      continue;
    }
    Node split;
    split.name = fresh_name(g, base + (i == 5 ? "/split_initial_h" : "/split_initial_c"));
    split.op_type = "Split";
    split.opset = node.opset;
    split.attributes["axis"] = Attribute::of_int(static_cast<int64_t>(state_axis));
    if (node.opset >= 18) split.attributes["num_outputs"] = Attribute::of_int(2);  // else: equal parts
    split.inputs = {v};
    for (int k = 0; k < 2; ++k) {
      const ValueId part = g.add_value(fresh_name(g, split.name + (k ? "/reverse" : "/forward")), ValueKind::kNodeOutput);
      g.value(part).dtype = g.value(v).dtype;
      g.value(part).shape = one_direction(g.value(v).shape, state_axis);
      split.outputs.push_back(part);
      inputs[i].v[k] = part;
    }
    g.add_node(std::move(split));
  }

  // The two directions, each writing its own outputs.
  const char* const kOutput[] = {"Y", "Y_h", "Y_c"};
  std::vector<std::vector<ValueId>> outs(node.outputs.size());
  const Attribute* acts = node.attribute("activations");
  for (int k = 0; k < 2; ++k) {
    Node half = node;
    const std::string tag = base + (k ? "/reverse" : "/forward");
    half.name = fresh_name(g, tag);
    half.attributes["direction"] = Attribute::of_string(k ? "reverse" : "forward");
    if (acts && acts->strings.size() % 2 == 0) {  // the first half names the forward direction's functions
      const std::size_t per = acts->strings.size() / 2;
      Attribute a = *acts;
      a.strings.assign(acts->strings.begin() + static_cast<std::ptrdiff_t>(k * per),
                       acts->strings.begin() + static_cast<std::ptrdiff_t>((k + 1) * per));
      half.attributes["activations"] = std::move(a);
    }
    for (std::size_t i = 0; i < node.inputs.size(); ++i)
      if (inputs[i].v[k] != kNoValue) half.inputs[i] = inputs[i].v[k];
    for (std::size_t o = 0; o < node.outputs.size(); ++o) {
      const ValueId whole = node.outputs[o];
      if (whole == kNoValue) continue;
      const ValueId part = g.add_value(fresh_name(g, tag + "/" + kOutput[o]), ValueKind::kNodeOutput);
      g.value(part).dtype = g.value(whole).dtype;
      g.value(part).shape = one_direction(g.value(whole).shape, o == 0 ? y_axis : state_axis);
      half.outputs[o] = part;
      outs[o].push_back(part);
    }
    g.add_node(std::move(half));
  }
  for (std::size_t o = 0; o < node.outputs.size(); ++o)
    if (node.outputs[o] != kNoValue)
      add_concat(g, fresh_name(g, base + "/concat_" + kOutput[o]), node.opset,
                 static_cast<int64_t>(o == 0 ? y_axis : state_axis), outs[o], node.outputs[o]);
  return remove_node_and_sort(g, id);
}

DirectionSplitReport split_bidirectional_rnns(Graph& g) {
  DirectionSplitReport report;
  auto bidirectional = [](const Node& n) {
    return is_recurrent(n) && n.attribute_string("direction", "forward") == "bidirectional";
  };
  for (const std::string& name : nodes_to_rewrite(g, bidirectional, report.refused)) {
    const Result<NodeId> id = find_unique_node(g, name);  // ids change with every split
    const Status s = id ? split_rnn_directions(g, *id) : id.status();
    if (s.is_ok()) report.split.push_back(name);
    else report.refused.push_back(s.message());
  }
  return report;
}

}  // namespace tandem
