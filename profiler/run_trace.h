// A timeline of one real run of a model on one device, for `tandem profile --trace` (Chrome/Perfetto).
#pragma once

#include <vector>

#include "graph/status.h"
#include "runtime/chrome_trace.h"
#include "runtime/device.h"
#include "runtime/tensor.h"

namespace tandem::profiler {

// Runs the graph once on `device` (inputs as in ProfileRequest) and returns one event per node.
Result<std::vector<TraceEvent>> trace_run(const Graph& g, const Device& device, const std::vector<Tensor>& inputs,
                                          const std::string& lane);

}  // namespace tandem::profiler
