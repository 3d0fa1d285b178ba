#include <chrono>
#include <map>
#include <optional>
#include <string>

#include <tandem/tandem.h>

#include "session/host_tensor_bridge.h"
#include "session/model_impl.h"
#include "tests/fuzz/fuzz_entry.h"
#include "tests/fuzz/fuzz_model_input.h"

namespace tandem::fuzz {

void fuzz_model(const uint8_t* data, std::size_t size) {
  std::optional<Model> model = load_fuzz_model(data, size);
  if (!model) return;
  const Graph& g = *model->impl().ir.graph;
  const std::optional<std::vector<Tensor>> tensors = fuzz_inputs(g);
  if (!tensors) return;
  std::map<std::string, HostTensor> inputs;
  for (std::size_t k = 0; k < tensors->size(); ++k)
    if ((*tensors)[k].defined()) inputs[g.value(g.inputs()[k]).name] = to_host_tensor((*tensors)[k]);
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
