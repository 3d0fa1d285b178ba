#include "graph/walk.h"

namespace tandem {
namespace {

void walk(const Graph& g, const std::string& where, int depth, const std::function<void(const NodeSite&)>& visit) {
  for (std::size_t i = 0; i < g.num_nodes(); ++i) {
    const auto id = static_cast<NodeId>(i);
    const Node& n = g.node(id);
    visit(NodeSite{g, id, where, depth});
    for (const auto& [attr, a] : n.attributes) {
      const std::string base = where + " > " + (n.name.empty() ? "#" + std::to_string(i) : n.name) + "." + attr;
      if (a.kind == Attribute::Kind::kGraph) walk(*a.g, base, depth + 1, visit);
      for (std::size_t k = 0; k < a.graphs.size(); ++k)
        walk(*a.graphs[k], base + "[" + std::to_string(k) + "]", depth + 1, visit);
    }
  }
}

}  // namespace

void for_each_node(const Graph& g, const std::function<void(const NodeSite&)>& visit) { walk(g, "main", 0, visit); }

}  // namespace tandem
