#include "profiler/run_trace.h"

#include "runtime/executor.h"

namespace tandem::profiler {

Result<std::vector<TraceEvent>> trace_run(const Graph& g, const Device& device, const std::vector<Tensor>& inputs,
                                          const std::string& lane) {
  TANDEM_ASSIGN_OR_RETURN(auto executor, GraphExecutor::compile(g, device));
  device.bind_thread();
  std::vector<const Tensor*> feeds = pointers_to(inputs);
  feeds.resize(g.inputs().size(), nullptr);
  std::vector<TraceEvent> events;
  const auto origin = std::chrono::steady_clock::now();
  const NodeObserver record = [&](const NodeEvent& e) {
    const Node& n = g.node(e.node);
    TraceEvent ev;
    ev.name = n.name.empty() ? "#" + std::to_string(e.node) : n.name;
    ev.category = n.op_type;
    ev.lane = lane;
    ev.start_us = std::chrono::duration<double, std::micro>(e.start - origin).count();
    ev.duration_us = std::chrono::duration<double, std::micro>(e.end - e.start).count();
    for (std::size_t k = 0; k < e.outputs.size(); ++k)
      if (e.outputs[k].defined()) ev.args["output " + std::to_string(k)] = e.outputs[k].describe();
    events.push_back(std::move(ev));
  };
  TANDEM_RETURN_IF_ERROR(executor->run(feeds, {}, &record).status());
  return events;
}

}  // namespace tandem::profiler
