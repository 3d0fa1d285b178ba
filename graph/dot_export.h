// Graphviz export: nodes as boxes, values as edges labelled with dtype and shape, nested graphs as
// clusters inside their owner, outer-scope reads as dashed edges.
#pragma once

#include <string>

#include "graph/graph.h"

namespace tandem {

std::string to_dot(const Graph& g);

}  // namespace tandem
