#include "tests/fuzz/fuzz_model_input.h"

#include "session/model_impl.h"
#include "session/random_inputs.h"
#include "tests/fuzz/fuzz_entry.h"

namespace tandem::fuzz {
namespace {

// The elements random_input would make for `v` (unknown dimensions are 1), or -1 when over the cap.
int64_t input_elements(const Value& v) {
  int64_t n = 1;
  for (const Dim& d : v.shape.dims()) {
    const int64_t k = d.is_known() ? d.value : 1;
    if (k < 0 || (k > 0 && n > kMaxInputElements / k)) return -1;
    n *= k;
  }
  return n;
}

}  // namespace

std::optional<Model> load_fuzz_model(const uint8_t* data, std::size_t size) {
  try {
    return Model::load_from_bytes(data, size, "fuzz.onnx");
  } catch (const Error&) {
    return std::nullopt;
  }
}

std::optional<std::vector<Tensor>> fuzz_inputs(const Graph& g, uint64_t first_seed) {
  std::vector<Tensor> inputs(g.inputs().size());
  uint64_t seed = first_seed;
  for (std::size_t k = 0; k < g.inputs().size(); ++k) {
    const Value& v = g.value(g.inputs()[k]);
    if (v.data) continue;  // an initializer that may be fed: left to its value
    if (input_elements(v) < 0) return std::nullopt;
    inputs[k] = random_input(v, seed++).tensor;
  }
  return inputs;
}

}  // namespace tandem::fuzz
