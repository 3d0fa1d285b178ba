#include "onnx_import/inference_errors.h"

#include <optional>
#include <unordered_map>

#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include "onnx_import/schema_registry.h"
#include "onnx_import/value_type.h"

namespace tandem::onnx_import {
namespace {


using TypeMap = std::unordered_map<std::string, onnx::TypeProto>;

// What `gp` says about the type of each value it names: initializers (as tensors of their dims), declared
// inputs and outputs, and value_info, which holds what inference worked out before it failed.
void add_known_types(const onnx::GraphProto& gp, TypeMap& types) {
  for (const auto& t : gp.initializer()) {
    onnx::TypeProto tp;
    auto* tt = tp.mutable_tensor_type();
    tt->set_elem_type(t.data_type());
    auto* shape = tt->mutable_shape();
    for (int64_t d : t.dims()) shape->add_dim()->set_dim_value(d);
    types[t.name()] = std::move(tp);
  }
  auto add = [&](const onnx::ValueInfoProto& vi) {
    if (vi.type().value_case() != onnx::TypeProto::VALUE_NOT_SET) types[vi.name()] = vi.type();
  };
  for (const auto& vi : gp.input()) add(vi);
  for (const auto& vi : gp.output()) add(vi);
  for (const auto& vi : gp.value_info()) add(vi);
}

// "'a' float32 [2,3]", or "'a' ?" when nothing is known about it.
std::string describe_value(const std::string& name, const TypeMap& types) {
  const std::string quoted = "'" + name + "'";
  const auto it = types.find(name);
  if (it == types.end()) return quoted + " ?";
  auto t = import_value_type(it->second, quoted, TypeRule::kAny);
  if (!t) return quoted + " ?";
  std::string s = quoted;
  if (t->dtype != DType::kUndefined) s += " " + std::string(dtype_name(t->dtype));
  return s + " " + t->shape.to_string();
}

// " (inputs: 'a' float32 [2,3], 'b' float32 [4,5]; outputs: 'c' float32 [5])", outputs only where a type is
// known (declared, or inferred before the failure); empty for a node without either.
std::string describe_node_types(const onnx::NodeProto& n, const TypeMap& types) {
  std::string ins, outs;
  for (const auto& in : n.input())
    if (!in.empty()) ins += (ins.empty() ? "" : ", ") + describe_value(in, types);
  for (const auto& out : n.output())
    if (!out.empty() && types.count(out)) outs += (outs.empty() ? "" : ", ") + describe_value(out, types);
  if (!ins.empty() && !outs.empty()) return " (inputs: " + ins + "; outputs: " + outs + ")";
  if (!ins.empty()) return " (inputs: " + ins + ")";
  return outs.empty() ? "" : " (outputs: " + outs + ")";
}

// libonnx words a node's failure "(op_type:Add, node name: sum): reason" (", node name: ..." only for named
// nodes), several of them one per line after "Shape inference error(s): ", with "[ShapeInferenceError] "
// and "[TypeInferenceError] " tags throughout. Returns the lines, untagged.
std::vector<std::string> inference_failure_lines(std::string what) {
  for (const std::string tag : {"[ShapeInferenceError] ", "[TypeInferenceError] "})
    for (auto at = what.find(tag); at != std::string::npos; at = what.find(tag, at)) what.erase(at, tag.size());
  const std::string header = "Shape inference error(s): ";
  if (what.rfind(header, 0) == 0) what.erase(0, header.size());
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < what.size()) {
    std::size_t end = what.find('\n', start);
    if (end == std::string::npos) end = what.size();
    const std::string line = one_line(what.substr(start, end - start));
    if (!line.empty()) lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

std::string describe_failure(const std::string& what, const onnx::GraphProto& gp, const Graph& g,
                             const TypeMap& types, const std::unordered_map<std::string, int>& opsets);

// libonnx infers nested bodies leniently: a failure inside one only leaves its types unknown, and what is
// reported, if anything, is a consequence at the If/Loop/Scan node ("Mismatched type: source=1 target=0").
// So each body of node `n` is inferred again on its own, strictly, with the outer values it uses declared as
// its inputs, and the first failure found there is described instead. Bodies whose own inputs are untyped
// are left alone: inferred without the types the node would give them, they could fail for no real reason.
std::optional<std::string> failure_inside_bodies(const onnx::NodeProto& n, const Node& node, const TypeMap& types,
                                                 const std::unordered_map<std::string, int>& opsets) {
  for (const auto& a : n.attribute()) {
    const Attribute* attr = node.attribute(a.name());
    if (!attr) continue;
    std::vector<std::pair<const onnx::GraphProto*, const Graph*>> bodies;
    if (a.has_g() && attr->g) bodies.push_back({&a.g(), attr->g.get()});
    for (int k = 0; k < a.graphs_size() && k < static_cast<int>(attr->graphs.size()); ++k)
      bodies.push_back({&a.graphs(k), attr->graphs[static_cast<std::size_t>(k)].get()});
    for (std::size_t k = 0; k < bodies.size(); ++k) {
      onnx::GraphProto body = *bodies[k].first;
      const Graph& sub = *bodies[k].second;
      bool typed = true;
      for (const auto& in : body.input()) typed = typed && in.type().value_case() != onnx::TypeProto::VALUE_NOT_SET;
      for (ValueId v : sub.outer_refs()) {
        const auto it = types.find(sub.value(v).name);
        if (it == types.end()) {
          typed = false;
          break;
        }
        auto* in = body.add_input();
        in->set_name(sub.value(v).name);
        *in->mutable_type() = it->second;
      }
      if (!typed) continue;
      try {
        onnx::shape_inference::InferShapes(&body, opsets, &schema_registry(),
                                           onnx::ShapeInferenceOptions(true, 1, true));
      } catch (const std::exception& e) {
        TypeMap inner = types;
        add_known_types(body, inner);
        const std::string where = a.has_g() ? a.name() : a.name() + "[" + std::to_string(k) + "]";
        return "in " + where + ": " + describe_failure(e.what(), body, sub, inner, opsets);
      }
    }
  }
  return std::nullopt;
}

// One clause per failure libonnx reported in `what` for graph `gp` (with the types inferred before it failed)
// and tandem's Graph `g` built from it (same node order): "node 'sum' (Add): shape inference: Incompatible
// dimensions (inputs: 'a' float32 [2,3], 'b' float32 [4,5])".
std::string describe_failure(const std::string& what, const onnx::GraphProto& gp, const Graph& g,
                             const TypeMap& types, const std::unordered_map<std::string, int>& opsets) {
  static const std::string kOpType = "(op_type:", kNodeName = ", node name: ";
  std::string out;
  for (const std::string& line : inference_failure_lines(what)) {
    std::string clause = "shape inference: " + line;
    if (line.rfind(kOpType, 0) == 0) {
      const auto op_end = line.find_first_of(",)", kOpType.size());
      const bool named = op_end != std::string::npos && line.compare(op_end, kNodeName.size(), kNodeName) == 0;
      const auto name_at = named ? op_end + kNodeName.size() : op_end;
      const auto close = op_end == std::string::npos ? std::string::npos : line.find("): ", name_at);
      if (close != std::string::npos) {
        const std::string op = line.substr(kOpType.size(), op_end - kOpType.size());
        const std::string name = named ? line.substr(name_at, close - name_at) : "";
        const std::string reason = line.substr(close + 3);
        int found = -1, matches = 0;
        for (int i = 0; i < gp.node_size() && i < static_cast<int>(g.num_nodes()); ++i)
          if (gp.node(i).op_type() == op && gp.node(i).name() == name) {
            found = i;
            ++matches;
          }
        if (matches == 1) {
          const Node& node = g.node(static_cast<NodeId>(found));
          const std::string who = "node " + node.label(static_cast<NodeId>(found)) + ": ";
          auto inner = failure_inside_bodies(gp.node(found), node, types, opsets);
          clause = inner ? who + *inner
                         : who + "shape inference: " + reason + describe_node_types(gp.node(found), types);
        } else {
          clause = "node " + (named ? "'" + name + "' " : std::string()) + "(" + op + "): shape inference: " + reason;
        }
      }
    }
    out += (out.empty() ? "" : "; ") + clause;
  }
  return out.empty() ? "shape inference failed" : out;
}


}  // namespace

// libonnx's messages may span lines ("reason\n\n==> Context: ...", one failure per line); tandem's are one
// line, so the lines are joined with "; ".
std::string one_line(const std::string& s) {
  std::string out;
  std::size_t start = 0;
  while (start < s.size()) {
    std::size_t end = s.find('\n', start);
    if (end == std::string::npos) end = s.size();
    const std::string line = s.substr(start, end - start);
    const auto first = line.find_first_not_of(" \t\r");
    if (first != std::string::npos) {
      if (!out.empty()) out += "; ";
      out += line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
    }
    start = end + 1;
  }
  return out;
}

// libonnx's checker ends the message of a failure inside a nested body with
// "\n\n==> Context: Bad node spec for node. Name: N OpType: T"; tandem names that node up front instead.
std::string describe_checker_failure(const std::string& what) {
  static const std::string kContext = "==> Context: Bad node spec for node. Name: ";
  static const std::string kOpType = " OpType: ";
  const auto at = what.find(kContext);
  const std::string node = at == std::string::npos ? "" : one_line(what.substr(at + kContext.size()));
  const auto op = node.find(kOpType);
  if (op == std::string::npos) return "ONNX checker: " + one_line(what);
  return "in a nested graph: node '" + node.substr(0, op) + "' (" + node.substr(op + kOpType.size()) +
         "): ONNX checker: " + one_line(what.substr(0, at));
}


std::string describe_inference_failure(const std::string& what, const onnx::GraphProto& gp, const Graph& g,
                                       const std::unordered_map<std::string, int>& opsets) {
  TypeMap types;
  add_known_types(gp, types);
  return describe_failure(what, gp, g, types, opsets);
}

}  // namespace tandem::onnx_import
