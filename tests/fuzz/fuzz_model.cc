#include <chrono>
#include <map>
#include <optional>
#include <string>

#include <tandem/tandem.h>

#include "session/host_tensor_bridge.h"
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

void fuzz_model(const uint8_t* data, std::size_t size) {
  std::optional<Model> model;
  try {
    model = Model::load_from_bytes(data, size, "fuzz.onnx");
  } catch (const Error&) {
    return;
  }
  const Graph& g = *model->impl().ir.graph;
  std::map<std::string, HostTensor> inputs;
  uint64_t seed = 1;
  for (ValueId id : g.inputs()) {
    const Value& v = g.value(id);
    if (v.data) continue;  // an initializer that may be fed: left to its value
    if (input_elements(v) < 0) return;
    inputs[v.name] = to_host_tensor(random_input(v, seed++).tensor);
  }
  SessionOptions options;
  options.threads = 1;
  options.devices = "cpu";
  RunOptions run_options;
  run_options.timeout = std::chrono::seconds(1);
  try {
    const Session session(std::move(*model), options);
    session.run(inputs, run_options);
  } catch (const Error&) {
  }
}

}  // namespace tandem::fuzz
