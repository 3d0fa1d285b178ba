#include "onnx_import/model_checks.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include "graph/topo_order.h"
#include "onnx_import/opsets.h"
#include "onnx_import/schema_registry.h"
#include "onnx_import/value_type.h"

namespace tandem::onnx_import {
namespace {

// The highest IR version libonnx 1.12's checker accepts.
constexpr int64_t kLibraryMaxIrVersion = 8;

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::unordered_map<std::string, int> opset_map(const onnx::ModelProto& m) {
  std::unordered_map<std::string, int> out;
  for (const auto& imp : m.opset_import()) out[imp.domain()] = static_cast<int>(imp.version());
  return out;
}

// The Graph held by node `n`'s attribute `name` (index `k` for a list of graphs).
Graph* nested_graph(Node& n, const std::string& name, int k) {
  auto it = n.attributes.find(name);
  if (it == n.attributes.end()) return nullptr;
  Attribute& a = it->second;
  if (a.kind == Attribute::Kind::kGraph) return a.g.get();
  if (a.kind == Attribute::Kind::kGraphs && k < static_cast<int>(a.graphs.size())) return a.graphs[static_cast<std::size_t>(k)].get();
  return nullptr;
}

// Calls f(Graph&, GraphProto&) for each nested graph of node i, pairing ours with the proto's.
template <typename F>
Status for_each_nested(Graph& g, onnx::GraphProto& gp, F&& f) {
  for (int i = 0; i < gp.node_size(); ++i) {
    for (auto& a : *gp.mutable_node(i)->mutable_attribute()) {
      if (a.has_g())
        if (Graph* sub = nested_graph(g.node(i), a.name(), 0)) TANDEM_RETURN_IF_ERROR(f(*sub, *a.mutable_g()));
      for (int k = 0; k < a.graphs_size(); ++k)
        if (Graph* sub = nested_graph(g.node(i), a.name(), k)) TANDEM_RETURN_IF_ERROR(f(*sub, *a.mutable_graphs(k)));
    }
  }
  return Status::ok();
}

Status apply_types(Graph& g, onnx::GraphProto& gp, const Graph* parent) {
  auto apply = [&](const onnx::ValueInfoProto& vi) -> Status {
    ValueId v = g.find_value(vi.name());
    if (v == kNoValue) return Status::ok();
    TANDEM_ASSIGN_OR_RETURN(ValueType t, import_value_type(vi.type(), "inferred type of '" + vi.name() + "'",
                                                           TypeRule::kAny));
    // ONNX names the dimensions it cannot work out "unk__N": unknowns, not symbols a user chose.
    std::vector<Dim> dims = t.shape.dims();
    for (Dim& d : dims)
      if (d.is_symbolic() && d.symbol.rfind("unk__", 0) == 0) d = Dim::unknown();
    if (t.shape.has_rank()) t.shape = Shape(std::move(dims));
    Value& val = g.value(v);
    if (t.dtype != DType::kUndefined) val.dtype = t.dtype;
    if (t.shape.has_rank() && !val.data) val.shape = t.shape;  // a constant's own dims stay authoritative
    return Status::ok();
  };
  for (const auto& vi : gp.input()) TANDEM_RETURN_IF_ERROR(apply(vi));
  for (const auto& vi : gp.value_info()) TANDEM_RETURN_IF_ERROR(apply(vi));
  for (const auto& vi : gp.output()) TANDEM_RETURN_IF_ERROR(apply(vi));
  // Outer-scope stand-ins take the type of the value they stand for.
  // The parent was typed first, its own stand-ins included, so one level up is enough.
  for (ValueId v : g.outer_refs()) {
    ValueId pv = parent ? parent->find_value(g.value(v).name) : kNoValue;
    if (pv == kNoValue) continue;
    g.value(v).dtype = parent->value(pv).dtype;
    g.value(v).shape = parent->value(pv).shape;
  }
  return for_each_nested(g, gp, [&](Graph& sub, onnx::GraphProto& sub_gp) { return apply_types(sub, sub_gp, &g); });
}

}  // namespace

Result<bool> run_onnx_checker(const onnx::ModelProto& m, const std::string& model_dir,
                              std::vector<std::string>& notes) {
  if (m.ir_version() > kLibraryMaxIrVersion) {
    notes.push_back("ONNX checker skipped: IR version " + std::to_string(m.ir_version()) +
                    " is newer than the installed libonnx 1.12 accepts (up to " +
                    std::to_string(kLibraryMaxIrVersion) +
                    "); tandem validated the graph structure and every node against its schema instead");
    return false;
  }
  onnx::checker::CheckerContext ctx;
  ctx.set_ir_version(static_cast<int>(m.ir_version()));
  ctx.set_opset_imports(opset_map(m));
  ctx.set_schema_registry(&schema_registry());
  ctx.set_model_dir(model_dir);
  onnx::checker::LexicalScopeContext lex;
  try {
    onnx::checker::check_graph(m.graph(), ctx, lex);
  } catch (const std::exception& e) {
    return Status::error("ONNX checker: " + trimmed(e.what()));
  }
  return true;
}

Status infer_shapes(onnx::ModelProto& m, Graph& g) {
  try {
    onnx::shape_inference::InferShapes(m, &schema_registry(),
                                       onnx::ShapeInferenceOptions(/*check_type=*/true, /*error_mode=*/1,
                                                                   /*data_propagation=*/true));
  } catch (const std::exception& e) {
    return Status::error("shape inference: " + trimmed(e.what()));
  }
  return apply_types(g, *m.mutable_graph(), nullptr);
}

Status sort_nodes(Graph& g, onnx::GraphProto& gp) {
  TANDEM_ASSIGN_OR_RETURN(std::vector<NodeId> order, topological_order(g));
  bool sorted = true;
  for (std::size_t i = 0; i < order.size(); ++i) sorted = sorted && order[i] == static_cast<NodeId>(i);
  if (!sorted) {
    g.reorder_nodes(order);
    google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
    for (NodeId id : order) nodes.Add()->Swap(gp.mutable_node(id));
    gp.mutable_node()->Swap(&nodes);
  }
  return for_each_nested(g, gp, [](Graph& sub, onnx::GraphProto& sub_gp) { return sort_nodes(sub, sub_gp); });
}

}  // namespace tandem::onnx_import
