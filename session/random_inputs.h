// Random inputs of a graph's declared shapes, with symbolic or unknown dimensions taken as 1 unless fixed
// with --dim: what `tandem run`, `bench` and `profile` feed when given no files, and what a Session that
// profiles itself measures with.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "runtime/tensor.h"

namespace tandem {

struct RandomInput {
  Tensor tensor;
  std::vector<std::string> defaulted_dims;  // symbols (or "?") that were taken as 1
};

// Floats uniform in [-1, 1]; integers uniform in [0, 10); bools fair coins. Deterministic for a seed. A
// sequence input gets a sequence of one such tensor, an optional one a value (never none).
RandomInput random_input(const Value& v, uint64_t seed);

}  // namespace tandem
