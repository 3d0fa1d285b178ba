// The inputs a command runs a model on: files named with --input NAME=FILE (.npy or TensorProto .pb), the
// rest random (session/random_inputs.h). Shared by `run` and `profile`, so both read inputs the same way.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "runtime/tensor.h"

namespace tandem::cli {

struct Feeds {
  std::vector<Tensor> tensors;        // one per graph input; undefined for an input left to its default
  std::vector<const Tensor*> ptrs;    // into `tensors`, nullptr for a default (what executors take)
};

// Throws UsageError for a malformed spec and tandem::Error for an unknown input or an unreadable file, with
// `context` ("model 'm.onnx': ") in front. Writes one line per random input to `log` when given.
Feeds make_feeds(const Graph& g, const std::vector<std::string>& specs, uint64_t seed, const std::string& context,
                 std::ostream* log);

}  // namespace tandem::cli
