// Dead-node elimination: drops nodes whose results can never reach a graph output.
#pragma once

#include <cstddef>

#include "graph/graph.h"

namespace tandem {

// Removes, in this graph (nested graphs are left as they are), every node none of whose outputs is a graph
// output or read by a live node, then the values only they used. Returns how many nodes were removed.
std::size_t eliminate_dead_nodes(Graph& g);

}  // namespace tandem
