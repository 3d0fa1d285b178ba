// Liveness: for a node order, the step at which each value is created and the last step that reads it.
// The memory planner and the partitioner's peak-memory model are built on this.
#pragma once

#include <vector>

#include "graph/graph.h"

namespace tandem {

struct Lifetime {
  int first = -1;  // step that produces the value; -1 when it exists before the first step
  int last = -1;   // last step that reads it; `order.size()` when the graph returns it; -1 if never read
};

// One Lifetime per ValueId of `g`, for the nodes run in `order` (a topological order).
std::vector<Lifetime> compute_liveness(const Graph& g, const std::vector<NodeId>& order);

}  // namespace tandem
