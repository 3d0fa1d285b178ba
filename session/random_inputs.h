// Inputs for `tandem run` and `tandem bench` when the user gives none: random values of the declared
// shapes, with symbolic or unknown dimensions taken as 1 unless fixed with --dim.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "runtime/tensor.h"

namespace tandem::cli {

struct RandomInput {
  Tensor tensor;
  std::vector<std::string> defaulted_dims;  // symbols (or "?") that were taken as 1
};

// Floats uniform in [-1, 1]; integers uniform in [0, 10); bools fair coins. Deterministic for a seed.
RandomInput random_input(const Value& v, uint64_t seed);

}  // namespace tandem::cli
