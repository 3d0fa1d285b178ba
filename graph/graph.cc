#include "graph/graph.h"

#include <algorithm>

namespace tandem {

const Attribute* Node::attribute(const std::string& attr_name) const {
  auto it = attributes.find(attr_name);
  return it == attributes.end() ? nullptr : &it->second;
}

int64_t Node::attribute_int(const std::string& attr_name, int64_t fallback) const {
  const Attribute* a = attribute(attr_name);
  return a && a->kind == Attribute::Kind::kInt ? a->i : fallback;
}

float Node::attribute_float(const std::string& attr_name, float fallback) const {
  const Attribute* a = attribute(attr_name);
  return a && a->kind == Attribute::Kind::kFloat ? a->f : fallback;
}

std::string Node::attribute_string(const std::string& attr_name, const std::string& fallback) const {
  const Attribute* a = attribute(attr_name);
  return a && a->kind == Attribute::Kind::kString ? a->s : fallback;
}

std::vector<const Graph*> Node::subgraphs() const {
  std::vector<const Graph*> out;
  for (const auto& [attr_name, a] : attributes) {
    if (a.kind == Attribute::Kind::kGraph && a.g) out.push_back(a.g.get());
    if (a.kind == Attribute::Kind::kGraphs)
      for (const auto& g : a.graphs) out.push_back(g.get());
  }
  return out;
}

std::string Node::label(NodeId id) const {
  std::string who = name.empty() ? "#" + std::to_string(id) : "'" + name + "'";
  return who + " (" + op_type + ")";
}

ValueId Graph::add_value(std::string value_name, ValueKind kind) {
  auto id = static_cast<ValueId>(values_.size());
  Value v;
  v.name = std::move(value_name);
  v.kind = kind;
  by_name_.emplace(v.name, id);
  values_.push_back(std::move(v));
  return id;
}

NodeId Graph::add_node(Node n) {
  auto id = static_cast<NodeId>(nodes_.size());
  for (std::size_t k = 0; k < n.outputs.size(); ++k) {
    if (n.outputs[k] == kNoValue) continue;
    Value& out = value(n.outputs[k]);
    out.producer = id;
    out.producer_output = static_cast<int>(k);
  }
  for (ValueId in : n.inputs)
    if (in != kNoValue) value(in).consumers.push_back(id);
  for (ValueId in : n.implicit_inputs) value(in).consumers.push_back(id);
  nodes_.push_back(std::move(n));
  return id;
}

ValueId Graph::find_value(const std::string& value_name) const {
  auto it = by_name_.find(value_name);
  return it == by_name_.end() ? kNoValue : it->second;
}

bool Graph::is_graph_output(ValueId v) const {
  return std::find(outputs_.begin(), outputs_.end(), v) != outputs_.end();
}

std::size_t Graph::num_nodes_recursive() const {
  std::size_t n = nodes_.size();
  for (const Node& node : nodes_)
    for (const Graph* g : node.subgraphs()) n += g->num_nodes_recursive();
  return n;
}

void Graph::rebuild_uses() {
  for (Value& v : values_) {
    v.consumers.clear();
    if (v.kind == ValueKind::kNodeOutput) v.producer = kNoNode;
  }
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    auto id = static_cast<NodeId>(i);
    const Node& n = nodes_[i];
    for (std::size_t k = 0; k < n.outputs.size(); ++k) {
      if (n.outputs[k] == kNoValue) continue;
      value(n.outputs[k]).producer = id;
      value(n.outputs[k]).producer_output = static_cast<int>(k);
    }
    for (ValueId in : n.inputs)
      if (in != kNoValue) value(in).consumers.push_back(id);
    for (ValueId in : n.implicit_inputs) value(in).consumers.push_back(id);
  }
}

void Graph::reorder_nodes(const std::vector<NodeId>& order) {
  std::vector<Node> sorted;
  sorted.reserve(nodes_.size());
  for (NodeId id : order) sorted.push_back(std::move(nodes_[static_cast<std::size_t>(id)]));
  nodes_ = std::move(sorted);
  rebuild_uses();
}

void Graph::remove_nodes(const std::vector<bool>& remove) {
  std::vector<Node> kept;
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    if (i >= remove.size() || !remove[i]) kept.push_back(std::move(nodes_[i]));
  nodes_ = std::move(kept);

  // A value survives when a kept node or the graph's interface still refers to it.
  std::vector<bool> used(values_.size(), false);
  auto mark = [&](ValueId v) {
    if (v != kNoValue) used[static_cast<std::size_t>(v)] = true;
  };
  for (const Node& n : nodes_) {
    for (ValueId v : n.inputs) mark(v);
    for (ValueId v : n.outputs) mark(v);
    for (ValueId v : n.implicit_inputs) mark(v);
  }
  for (ValueId v : inputs_) mark(v);
  for (ValueId v : outputs_) mark(v);
  for (ValueId v : outer_refs_) mark(v);  // nested graphs resolve these by name

  std::vector<ValueId> remap(values_.size(), kNoValue);
  std::vector<Value> kept_values;
  by_name_.clear();
  for (std::size_t i = 0; i < values_.size(); ++i) {
    if (!used[i]) continue;
    remap[i] = static_cast<ValueId>(kept_values.size());
    by_name_.emplace(values_[i].name, remap[i]);
    kept_values.push_back(std::move(values_[i]));
  }
  values_ = std::move(kept_values);

  auto fix = [&](std::vector<ValueId>& ids, bool drop_missing) {
    for (ValueId& v : ids)
      if (v != kNoValue) v = remap[static_cast<std::size_t>(v)];
    if (drop_missing) ids.erase(std::remove(ids.begin(), ids.end(), kNoValue), ids.end());
  };
  for (Node& n : nodes_) {
    fix(n.inputs, false);
    fix(n.outputs, false);
    fix(n.implicit_inputs, true);
  }
  fix(inputs_, true);
  fix(outputs_, true);
  fix(initializers_, true);
  fix(outer_refs_, true);
  rebuild_uses();
}

void Graph::remove_unread_outer_refs() {
  const std::size_t before = outer_refs_.size();
  std::erase_if(outer_refs_, [&](ValueId v) { return value(v).consumers.empty() && !is_graph_output(v); });
  if (outer_refs_.size() != before) remove_nodes({});
}

}  // namespace tandem
