#include "graph/dead_nodes.h"

#include <vector>

namespace tandem {

std::size_t eliminate_dead_nodes(Graph& g) {
  // Mark backwards from the graph outputs; works on any node order, cycles included.
  std::vector<bool> live(g.num_nodes(), false);
  std::vector<NodeId> stack;
  auto need = [&](ValueId v) {
    if (v == kNoValue) return;
    NodeId p = g.value(v).producer;
    if (p != kNoNode && !live[static_cast<std::size_t>(p)]) {
      live[static_cast<std::size_t>(p)] = true;
      stack.push_back(p);
    }
  };
  for (ValueId v : g.outputs()) need(v);
  while (!stack.empty()) {
    const Node& n = g.node(stack.back());
    stack.pop_back();
    for (ValueId v : n.inputs) need(v);
    for (ValueId v : n.implicit_inputs) need(v);
  }
  std::vector<bool> remove(g.num_nodes());
  std::size_t removed = 0;
  for (std::size_t i = 0; i < live.size(); ++i) {
    remove[i] = !live[i];
    removed += remove[i] ? 1 : 0;
  }
  if (removed) g.remove_nodes(remove);
  return removed;
}

}  // namespace tandem
