#include "graph/if_inlining.h"

#include <set>
#include <string>
#include <vector>

namespace tandem {
namespace {

// Names that `body` and the bodies nested in it read from enclosing graphs.
void collect_outer_names(const Graph& body, std::set<std::string>& names) {
  for (ValueId v : body.outer_refs()) names.insert(body.value(v).name);
  for (const Node& n : body.nodes())
    for (const Graph* nested : n.subgraphs()) collect_outer_names(*nested, names);
}

}  // namespace

Status splice_if_branch(Graph& g, NodeId id, bool take_then) {
  const Node if_node = g.node(id);  // a copy: adding nodes to g moves its nodes
  const std::string where = "node " + if_node.label(id) + ": ";
  const char* branch_name = take_then ? "then_branch" : "else_branch";
  const Attribute* attr = if_node.attribute(branch_name);
  if (if_node.op_type != "If" || !if_node.domain.empty() || !attr || !attr->g)
    return Status::error(where + "is not an If with a " + branch_name);
  const Graph& b = *attr->g;
  if (!b.inputs().empty()) return Status::error(where + branch_name + " declares inputs");
  if (b.outputs().size() != if_node.outputs.size())
    return Status::error(where + branch_name + " has " + std::to_string(b.outputs().size()) + " outputs, the If " +
                         std::to_string(if_node.outputs.size()));

  // Bodies nested in the branch find the branch's values by name: those must keep their names in g.
  std::set<std::string> read_by_bodies;
  for (const Node& n : b.nodes())
    for (const Graph* body : n.subgraphs()) collect_outer_names(*body, read_by_bodies);

  // A value the branch computes and hands out as output j is written as the If's output j itself (the
  // first such output, when it hands one value out twice), unless a nested body reads it under its own name.
  std::vector<int> writes_output(b.num_values(), -1);
  for (std::size_t j = 0; j < b.outputs().size(); ++j) {
    const ValueId bv = b.outputs()[j], out = if_node.outputs[j];
    const Value& val = b.value(bv);
    if (out == kNoValue || val.kind != ValueKind::kNodeOutput || writes_output[static_cast<std::size_t>(bv)] >= 0)
      continue;
    if (read_by_bodies.count(val.name) && val.name != g.value(out).name) continue;
    writes_output[static_cast<std::size_t>(bv)] = static_cast<int>(j);
  }

  // Where each branch value goes: outer references to g's values of the same name, the rest to new values
  // of g (renamed where g already has the name). Everything is checked before g changes.
  std::vector<ValueId> to(b.num_values(), kNoValue);
  std::vector<std::string> new_name(b.num_values());
  std::set<std::string> claimed;
  for (std::size_t v = 0; v < b.num_values(); ++v) {
    const Value& val = b.value(static_cast<ValueId>(v));
    if (val.kind == ValueKind::kOuterScope) {
      to[v] = g.find_value(val.name);
      if (to[v] == kNoValue)
        return Status::error(where + branch_name + " reads '" + val.name + "', which the graph holding the If lacks");
      continue;
    }
    if (writes_output[v] >= 0) continue;
    std::string name = val.name;
    if (g.find_value(name) != kNoValue || claimed.count(name)) {
      if (read_by_bodies.count(name))
        return Status::error(where + "a body nested in " + branch_name + " reads its value '" + name +
                             "', a name the graph holding the If already uses");
      for (int k = 1; g.find_value(name) != kNoValue || claimed.count(name); ++k)
        name = val.name + "_" + std::to_string(k);
    }
    claimed.insert(name);
    new_name[v] = name;
  }
  for (std::size_t j = 0; j < b.outputs().size(); ++j) {
    const ValueId bv = b.outputs()[j];
    if (if_node.outputs[j] != kNoValue && writes_output[static_cast<std::size_t>(bv)] != static_cast<int>(j) &&
        b.value(bv).form != ValueForm::kTensor)
      return Status::error(where + branch_name + " passes on '" + b.value(bv).name +
                           "', not a tensor, which an Identity of this opset might not take");
  }

  // Splice.
  for (std::size_t v = 0; v < b.num_values(); ++v) {
    const Value& val = b.value(static_cast<ValueId>(v));
    if (writes_output[v] >= 0) {
      // The If's output keeps its name and consumers; the branch may know its type or shape better.
      to[v] = if_node.outputs[static_cast<std::size_t>(writes_output[v])];
      Value& out = g.value(to[v]);
      if (out.dtype == DType::kUndefined) out.dtype = val.dtype;
      if (out.dtype == val.dtype && val.shape.is_static() && !out.shape.is_static()) out.shape = val.shape;
      continue;
    }
    if (new_name[v].empty()) continue;
    to[v] = g.add_value(new_name[v], val.kind);
    Value& copy = g.value(to[v]);
    copy.form = val.form;
    copy.dtype = val.dtype;
    copy.shape = val.shape;
    copy.data = val.data;
    if (val.kind == ValueKind::kInitializer) g.add_initializer(to[v]);
  }
  auto mapped = [&](ValueId v) { return v == kNoValue ? kNoValue : to[static_cast<std::size_t>(v)]; };
  std::set<std::string> node_names;
  for (const Node& n : g.nodes()) node_names.insert(n.name);
  auto unique_node_name = [&](const std::string& base) {
    if (base.empty()) return base;
    std::string name = base;
    for (int k = 1; node_names.count(name); ++k) name = base + "_" + std::to_string(k);
    node_names.insert(name);
    return name;
  };
  for (const Node& n : b.nodes()) {
    Node copy = n;  // shares its nested bodies with the branch, which goes with the If
    copy.name = unique_node_name(n.name);
    for (ValueId& v : copy.inputs) v = mapped(v);
    for (ValueId& v : copy.outputs) v = mapped(v);
    for (ValueId& v : copy.implicit_inputs) v = mapped(v);
    g.add_node(std::move(copy));
  }
  for (std::size_t j = 0; j < b.outputs().size(); ++j) {
    const ValueId bv = b.outputs()[j];
    if (if_node.outputs[j] == kNoValue || writes_output[static_cast<std::size_t>(bv)] == static_cast<int>(j)) continue;
    Node identity;
    identity.name = unique_node_name((if_node.name.empty() ? std::string("If") : if_node.name) + "/" + branch_name +
                                     "/output_" + std::to_string(j));
    identity.op_type = "Identity";
    identity.opset = if_node.opset;
    identity.inputs = {mapped(bv)};
    identity.outputs = {if_node.outputs[j]};
    g.add_node(std::move(identity));
  }
  return Status::ok();
}

}  // namespace tandem
