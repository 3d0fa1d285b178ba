// Visits every node of a graph and of the bodies nested in it, telling where each node lives.
#pragma once

#include <functional>
#include <string>

#include "graph/graph.h"

namespace tandem {

struct NodeSite {
  const Graph& graph;
  NodeId id;
  const std::string& where;  // "main", or e.g. "main > If_3.then_branch" for a nested body
  int depth;                 // 0 in the main graph
};

// Pre-order: a node is visited before the nodes of its bodies.
void for_each_node(const Graph& g, const std::function<void(const NodeSite&)>& visit);

}  // namespace tandem
