#include "onnx_import/model_checks.h"

#include <unordered_map>

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include "graph/topo_order.h"
#include "onnx_import/inference_errors.h"
#include "onnx_import/opsets.h"
#include "onnx_import/proto_walk.h"
#include "onnx_import/schema_registry.h"
#include "onnx_import/value_type.h"

namespace tandem::onnx_import {
namespace {

// The highest IR version libonnx 1.12's checker accepts.
constexpr int64_t kLibraryMaxIrVersion = 8;

std::unordered_map<std::string, int> opset_map(const onnx::ModelProto& m) {
  std::unordered_map<std::string, int> out;
  for (const auto& imp : m.opset_import()) out[imp.domain()] = static_cast<int>(imp.version());
  return out;
}

Status apply_types(Graph& g, onnx::GraphProto& gp, const Graph* parent) {
  auto apply = [&](const onnx::ValueInfoProto& vi) -> Status {
    ValueId v = g.find_value(vi.name());
    if (v == kNoValue) return Status::ok();
    // Named by its node when a node makes it: an attribute is usually why (RoiAlign's output_height -7
    // inferred a negative dimension).
    const NodeId producer = g.value(v).producer;
    const std::string what = producer == kNoNode ? "inferred type of '" + vi.name() + "'"
                                                 : "node " + g.node(producer).label(producer) +
                                                       ": inferred type of its output '" + vi.name() + "'";
    TANDEM_ASSIGN_OR_RETURN(ValueType t, import_value_type(vi.type(), what, TypeRule::kAny));
    // ONNX names the dimensions it cannot work out "unk__N": unknowns, not symbols a user chose.
    std::vector<Dim> dims = t.shape.dims();
    for (Dim& d : dims)
      if (d.is_symbolic() && d.symbol.rfind("unk__", 0) == 0) d = Dim::unknown();
    if (t.shape.has_rank()) t.shape = Shape(std::move(dims));
    Value& val = g.value(v);
    if (t.form != ValueForm::kTensor) val.form = t.form;
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
    g.value(v).form = parent->value(pv).form;
    g.value(v).dtype = parent->value(pv).dtype;
    g.value(v).shape = parent->value(pv).shape;
  }
  return for_each_nested_pair(g, gp, [&](Graph& sub, onnx::GraphProto& sub_gp) { return apply_types(sub, sub_gp, &g); });
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
  // Node by node rather than check_graph on the main graph: tandem's builder has already checked the main
  // graph's structure, tensors and declared types with messages that name the value, and libonnx 1.12's
  // check_graph also demands a shape on every main-graph output, which the ONNX spec leaves optional.
  // check_node still recurses into nested bodies through their attributes.
  onnx::checker::LexicalScopeContext lex;
  const auto& g = m.graph();
  for (const auto& in : g.input()) lex.add(in.name());
  for (const auto& t : g.initializer()) lex.add(t.name());
  for (const auto& t : g.sparse_initializer()) lex.add(t.values().name());
  for (int i = 0; i < g.node_size(); ++i) {
    const auto& n = g.node(i);
    try {
      onnx::checker::check_node(n, ctx, lex);
    } catch (const std::exception& e) {
      return Status::error("node " + (n.name().empty() ? "#" + std::to_string(i) : "'" + n.name() + "'") + " (" +
                           n.op_type() + "): " + describe_checker_failure(e.what()));
    }
    for (const auto& out : n.output())
      if (!out.empty()) lex.add(out);
  }
  return true;
}

Status infer_shapes(onnx::ModelProto& m, Graph& g) {
  try {
    onnx::shape_inference::InferShapes(m, &schema_registry(),
                                       onnx::ShapeInferenceOptions(/*check_type=*/true, /*error_mode=*/1,
                                                                   /*data_propagation=*/true));
  } catch (const std::exception& e) {
    return Status::error(describe_inference_failure(e.what(), m.graph(), g, opset_map(m)));
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
  return for_each_nested_pair(g, gp, [](Graph& sub, onnx::GraphProto& sub_gp) { return sort_nodes(sub, sub_gp); });
}

}  // namespace tandem::onnx_import
