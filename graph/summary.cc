#include "graph/summary.h"

#include <algorithm>

#include "graph/walk.h"

namespace tandem {
namespace {

void add_tensor(GraphSummary& s, const TensorDataPtr& t) {
  if (!t) return;
  s.parameter_count += t->num_elements();
  s.parameter_bytes += static_cast<int64_t>(t->byte_size());
}

void add_initializers(GraphSummary& s, const Graph& g) {
  for (ValueId v : g.initializers()) {
    ++s.initializer_count;
    add_tensor(s, g.value(v).data);
  }
  for (ValueId v : g.inputs())  // overridable initializers: inputs with a default
    if (g.value(v).data) {
      ++s.initializer_count;
      add_tensor(s, g.value(v).data);
    }
}

}  // namespace

std::string qualified_op(const Node& n) { return n.domain.empty() ? n.op_type : n.domain + "::" + n.op_type; }

GraphSummary summarize(const Graph& g) {
  GraphSummary s;
  add_initializers(s, g);
  for_each_node(g, [&](const NodeSite& site) {
    const Node& n = site.graph.node(site.id);
    ++s.op_counts[qualified_op(n)];
    ++s.nodes;
    if (site.depth > 0) ++s.nested_nodes;
    s.max_depth = std::max(s.max_depth, site.depth);
    if (n.op_type == "Constant" && n.domain.empty())
      for (const auto& [name, a] : n.attributes)
        if (a.kind == Attribute::Kind::kTensor) add_tensor(s, a.t);
    for (const Graph* sub : n.subgraphs()) {
      ++s.nested_graphs;
      s.max_depth = std::max(s.max_depth, site.depth + 1);
      add_initializers(s, *sub);
    }
  });
  return s;
}

}  // namespace tandem
