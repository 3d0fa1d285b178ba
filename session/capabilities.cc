#include "session/capabilities.h"

#include "graph/summary.h"
#include "graph/walk.h"
#include "runtime_cpu/cpu_device.h"

namespace tandem {

std::vector<UnrunnableNode> unrunnable_nodes(const Graph& g) {
  // The CPU is the device every node must run on (the GPU is optional), so it decides.
  static const cpu::CpuDevice cpu;
  std::vector<UnrunnableNode> out;
  for_each_node(g, [&](const NodeSite& s) {
    const Support support = cpu.supports(s.graph, s.id);
    if (!support.ok) {
      const Node& n = s.graph.node(s.id);
      out.push_back({s.where, n.label(s.id), qualified_op(n), support.reason});
    }
  });
  return out;
}

}  // namespace tandem
