// What the model targets (fuzz_model, fuzz_plan_model) make of their bytes: the model, when they import, and
// the inputs it runs on, so both targets run a model the same way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include <tandem/tandem.h>

#include "graph/graph.h"
#include "runtime/tensor.h"

namespace tandem::fuzz {

// The bytes imported as an ONNX model through the public API; nullopt when they do not import (a
// tandem::Error, the expected answer to bad bytes).
std::optional<Model> load_fuzz_model(const uint8_t* data, std::size_t size);

// One tensor per g.inputs(): small random values of the declared type and shape (session/random_inputs.h,
// unknown dimensions 1; the inputs to make are seeded with first_seed, first_seed + 1, ...), and an
// undefined Tensor for an initializer that may be fed (left to its value). nullopt when some input would
// have more than kMaxInputElements elements: the model is not run.
std::optional<std::vector<Tensor>> fuzz_inputs(const Graph& g, uint64_t first_seed = 1);

}  // namespace tandem::fuzz
