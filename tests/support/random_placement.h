// Random placements of a graph's nodes over several devices, for the plan executor's tests and fuzz target:
// a random device per node, and per device its nodes in the order of one random topological order, so the
// orders never deadlock (validate_placement accepts them). Deterministic for the engine's state.
#pragma once

#include <cstddef>
#include <random>
#include <vector>

#include "graph/graph.h"
#include "runtime/placement.h"

namespace tandem::test {

template <typename Rng>
Placement random_placement(const Graph& g, std::size_t num_devices, Rng& rng) {
  std::vector<int> pending(g.num_nodes(), 0);
  std::vector<std::vector<NodeId>> readers(g.num_nodes());
  for (std::size_t i = 0; i < g.num_nodes(); ++i) {
    const Node& n = g.node(static_cast<NodeId>(i));
    auto dep = [&](ValueId v) {
      if (v == kNoValue || g.value(v).kind != ValueKind::kNodeOutput) return;
      ++pending[i];
      readers[static_cast<std::size_t>(g.value(v).producer)].push_back(static_cast<NodeId>(i));
    };
    for (ValueId v : n.inputs) dep(v);
    for (ValueId v : n.implicit_inputs) dep(v);
  }
  std::vector<NodeId> ready;
  for (std::size_t i = 0; i < g.num_nodes(); ++i)
    if (!pending[i]) ready.push_back(static_cast<NodeId>(i));
  Placement p;
  p.device.assign(g.num_nodes(), 0);
  p.order.resize(num_devices);
  std::uniform_int_distribution<int> pick_device(0, static_cast<int>(num_devices) - 1);
  while (!ready.empty()) {
    const std::size_t k = std::uniform_int_distribution<std::size_t>(0, ready.size() - 1)(rng);
    const NodeId id = ready[k];
    ready.erase(ready.begin() + static_cast<std::ptrdiff_t>(k));
    const int d = pick_device(rng);
    p.device[static_cast<std::size_t>(id)] = d;
    p.order[static_cast<std::size_t>(d)].push_back(id);
    for (NodeId r : readers[static_cast<std::size_t>(id)])
      if (--pending[static_cast<std::size_t>(r)] == 0) ready.push_back(r);
  }
  return p;
}

}  // namespace tandem::test
