// Placement: which device runs each node of a graph, and in what order each device works through its
// nodes. The runtime's own form of a plan: `partition::Plan` (what the partitioner writes) converts to it,
// and tests build random ones directly.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "graph/status.h"
#include "partitioner/plan.h"

namespace tandem {

struct Placement {
  std::vector<int> device;                  // by NodeId: an index into the executor's devices
  std::vector<std::vector<NodeId>> order;   // by device: its nodes, in the order it runs them
};

// Everything on device 0, in topological order.
Result<Placement> single_device_placement(const Graph& g);

// Checks that `p` places every node of `g` exactly once on one of `num_devices` devices, and that the
// orders can run to the end: no device waits at a node for a value that a node later in some device's
// order produces (which would deadlock). Errors name the nodes and devices involved.
Status validate_placement(const Graph& g, const Placement& p, const std::vector<std::string>& device_names);

// From a partitioner plan: plan device d goes to executor device `device_index[d]` (cpu, cuda); each
// device runs its nodes sorted by the plan's `order` (a plan's lanes on one device are run one after
// another, in that order). Errors name the plan node; validate the result with validate_placement.
Result<Placement> placement_from_plan(const Graph& g, const partition::Plan& plan,
                                      const std::array<int, partition::kNumDevices>& device_index);

}  // namespace tandem
