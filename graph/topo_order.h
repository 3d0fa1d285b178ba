// Topological order of a graph's nodes, and cycle detection (a graph with a cycle has no order).
#pragma once

#include <vector>

#include "graph/graph.h"
#include "graph/status.h"

namespace tandem {

// Nodes so that every node comes after the producers of its inputs (explicit and implicit). Ties keep
// the model's own order, so an already sorted graph comes back unchanged. A cycle is an error whose
// message lists the nodes around it.
Result<std::vector<NodeId>> topological_order(const Graph& g);

}  // namespace tandem
