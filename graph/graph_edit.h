// Small pieces the graph rewrites (graph/rnn_time_split, graph/rnn_direction_split) build new nodes and
// values with.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "graph/status.h"

namespace tandem {

// A value name not yet used in `g`, built from `base` ("base", else "base_1", "base_2", ...).
std::string fresh_name(const Graph& g, const std::string& base);

// A new initializer holding `data`, its type and shape taken from it.
ValueId add_constant(Graph& g, const std::string& name, TensorDataPtr data);

// A new one-dimensional int64 initializer.
ValueId add_int64_constant(Graph& g, const std::string& name, const std::vector<int64_t>& values);

// Input or output i of `n`, kNoValue when it has fewer (or leaves it out).
inline ValueId input_at(const Node& n, std::size_t i) { return i < n.inputs.size() ? n.inputs[i] : kNoValue; }
inline ValueId output_at(const Node& n, std::size_t i) { return i < n.outputs.size() ? n.outputs[i] : kNoValue; }

// Adds Concat(inputs) along `axis` writing `output`, at `opset`.
void add_concat(Graph& g, const std::string& name, int64_t opset, int64_t axis, std::vector<ValueId> inputs,
                ValueId output);

// Removes node `id` (the rewrite has replaced it) and puts the nodes back in topological order.
Status remove_node_and_sort(Graph& g, NodeId id);

// Whether `n` is an ONNX LSTM, GRU or RNN node.
bool is_recurrent(const Node& n);

// The names of the nodes `pick` chooses for a rewrite; an unnamed one cannot be found again once ids
// change, so it is listed in `refused` instead, saying so.
std::vector<std::string> nodes_to_rewrite(const Graph& g, const std::function<bool(const Node&)>& pick,
                                          std::vector<std::string>& refused);

// The node named `name`; an error naming it when there is none or more than one. Rewrites that change
// node ids find the nodes they still have to rewrite again by name.
Result<NodeId> find_unique_node(const Graph& g, const std::string& name);

}  // namespace tandem
