#include "session/capabilities.h"

#include "graph/summary.h"
#include "graph/walk.h"

namespace tandem {

std::vector<UnrunnableNode> unrunnable_nodes(const Graph& g) {
  // No device has kernels yet: the CPU runtime issue adds the first kernel registry, and this will then
  // ask each device's `supports(node)` and keep its reason.
  std::vector<UnrunnableNode> out;
  for_each_node(g, [&](const NodeSite& s) {
    const Node& n = s.graph.node(s.id);
    out.push_back({s.where, n.label(s.id), qualified_op(n), "no device has kernels yet (no CPU runtime)"});
  });
  return out;
}

}  // namespace tandem
