// Walks over an ONNX GraphProto and the bodies nested in its nodes' attributes, alone or in step with
// tandem's Graph built from it (whose node i is the proto's node i, nested graphs by attribute name).
#pragma once

#include <onnx/onnx_pb.h>

#include "graph/graph.h"
#include "graph/status.h"

namespace tandem::onnx_import {

// Calls f(GraphProto&) on `g` and on every graph nested in it, outermost first.
template <typename F>
void for_each_proto_graph(onnx::GraphProto& g, F&& f) {
  f(g);
  for (auto& n : *g.mutable_node())
    for (auto& a : *n.mutable_attribute()) {
      if (a.has_g()) for_each_proto_graph(*a.mutable_g(), f);
      for (auto& sub : *a.mutable_graphs()) for_each_proto_graph(sub, f);
    }
}

// Calls f(Graph& sub, GraphProto& sub_proto) for each graph nested one level down in `g` / `gp`.
template <typename F>
Status for_each_nested_pair(Graph& g, onnx::GraphProto& gp, F&& f) {
  for (int i = 0; i < gp.node_size(); ++i) {
    for (auto& a : *gp.mutable_node(i)->mutable_attribute()) {
      auto it = g.node(i).attributes.find(a.name());
      if (it == g.node(i).attributes.end()) continue;
      Attribute& attr = it->second;
      if (a.has_g() && attr.g) TANDEM_RETURN_IF_ERROR(f(*attr.g, *a.mutable_g()));
      for (int k = 0; k < a.graphs_size() && k < static_cast<int>(attr.graphs.size()); ++k)
        TANDEM_RETURN_IF_ERROR(f(*attr.graphs[static_cast<std::size_t>(k)], *a.mutable_graphs(k)));
    }
  }
  return Status::ok();
}

}  // namespace tandem::onnx_import
