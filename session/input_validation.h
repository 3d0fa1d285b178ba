// Checks the tensors a caller feeds against what the model declares, before anything runs.
#pragma once

#include <vector>

#include "graph/graph.h"
#include "graph/status.h"
#include "runtime/tensor.h"

namespace tandem {

// `feeds` has one entry per g.inputs() (nullptr: not given). Checks that every input without a default is
// given, and each given one's element type, rank and fixed dimensions, and that every symbolic dimension
// ("batch") has the same value wherever it appears.
Status validate_inputs(const Graph& g, const std::vector<const Tensor*>& feeds);

}  // namespace tandem
