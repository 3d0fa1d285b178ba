// Folding Shape and Size of values whose shapes are static into constants. Exporters compute initial RNN
// states from Shape(layer input): with fixed dimensions that is a constant, and folding it removes a
// dependency that would otherwise make every chunk of a layer wait for the whole layer below (time
// chunks) and keep a needless node on the critical path. Inputs with fixed dimensions are checked at run
// time, so the folded numbers cannot go stale.
#pragma once

#include <cstddef>

#include "graph/graph.h"

namespace tandem {

// Replaces each main-graph Shape (honouring start/end) or Size node whose input has a static shape by an
// initializer holding its result, then drops nodes left dead. Returns how many nodes were folded.
std::size_t fold_static_shapes(Graph& g);

}  // namespace tandem
