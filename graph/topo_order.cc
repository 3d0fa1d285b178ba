#include "graph/topo_order.h"

#include <functional>
#include <queue>

namespace tandem {
namespace {

// The producer in `g` of each input of node `n` (kNoNode for graph inputs, initializers, outer values).
std::vector<NodeId> producers_of(const Graph& g, const Node& n) {
  std::vector<NodeId> out;
  auto add = [&](ValueId v) {
    if (v != kNoValue && g.value(v).producer != kNoNode) out.push_back(g.value(v).producer);
  };
  for (ValueId v : n.inputs) add(v);
  for (ValueId v : n.implicit_inputs) add(v);
  return out;
}

// Walks producer links among the unsorted nodes from `start` until a node repeats: that loop is a cycle.
std::string describe_cycle(const Graph& g, const std::vector<int>& pending, NodeId start) {
  std::vector<NodeId> path;
  std::vector<int> seen_at(g.num_nodes(), -1);
  NodeId cur = start;
  while (seen_at[static_cast<std::size_t>(cur)] < 0) {
    seen_at[static_cast<std::size_t>(cur)] = static_cast<int>(path.size());
    path.push_back(cur);
    NodeId next = kNoNode;
    for (NodeId p : producers_of(g, g.node(cur)))
      if (pending[static_cast<std::size_t>(p)] > 0) { next = p; break; }
    if (next == kNoNode) return g.node(start).label(start);  // cannot happen while pending > 0
    cur = next;
  }
  // path[seen_at[cur]..] is the cycle walked against the data flow (each node followed by its producer);
  // print it along the flow, starting and ending at `cur`.
  std::string s = g.node(cur).label(cur);
  for (auto i = path.size(); i-- > static_cast<std::size_t>(seen_at[static_cast<std::size_t>(cur)]) + 1;)
    s += " -> " + g.node(path[i]).label(path[i]);
  return s + " -> " + g.node(cur).label(cur);
}

}  // namespace

Result<std::vector<NodeId>> topological_order(const Graph& g) {
  const std::size_t n = g.num_nodes();
  std::vector<int> pending(n, 0);  // unfinished producer edges per node
  std::vector<std::vector<NodeId>> users(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (NodeId p : producers_of(g, g.node(static_cast<NodeId>(i)))) {
      ++pending[i];
      users[static_cast<std::size_t>(p)].push_back(static_cast<NodeId>(i));
    }
  }
  std::priority_queue<NodeId, std::vector<NodeId>, std::greater<>> ready;
  for (std::size_t i = 0; i < n; ++i)
    if (pending[i] == 0) ready.push(static_cast<NodeId>(i));

  std::vector<NodeId> order;
  order.reserve(n);
  while (!ready.empty()) {
    NodeId id = ready.top();
    ready.pop();
    order.push_back(id);
    for (NodeId u : users[static_cast<std::size_t>(id)])
      if (--pending[static_cast<std::size_t>(u)] == 0) ready.push(u);
  }
  if (order.size() != n) {
    for (std::size_t i = 0; i < n; ++i)
      if (pending[i] > 0)
        return Status::error("graph '" + g.name + "' has a cycle: " +
                             describe_cycle(g, pending, static_cast<NodeId>(i)));
  }
  return order;
}

}  // namespace tandem
