#include "runtime/placement.h"

#include <algorithm>

#include "graph/topo_order.h"

namespace tandem {
namespace {

// Producers of a node's inputs, explicit and implicit (nested bodies' captures).
template <typename F>
void for_each_producer(const Graph& g, const Node& n, F&& f) {
  auto visit = [&](ValueId v) {
    if (v == kNoValue) return;
    const Value& val = g.value(v);
    if (val.kind == ValueKind::kNodeOutput && val.producer != kNoNode) f(val.producer);
  };
  for (ValueId v : n.inputs) visit(v);
  for (ValueId v : n.implicit_inputs) visit(v);
}

}  // namespace

Result<Placement> single_device_placement(const Graph& g) {
  Placement p;
  p.device.assign(g.num_nodes(), 0);
  p.order.resize(1);
  TANDEM_ASSIGN_OR_RETURN(p.order[0], topological_order(g));
  return p;
}

Status validate_placement(const Graph& g, const Placement& p, const std::vector<std::string>& device_names) {
  const std::size_t num_devices = device_names.size();
  if (p.device.size() != g.num_nodes())
    return Status::error("placement: " + std::to_string(p.device.size()) + " device entries for " +
                         std::to_string(g.num_nodes()) + " nodes");
  if (p.order.size() > num_devices)
    return Status::error("placement: orders for " + std::to_string(p.order.size()) + " devices, but there are " +
                         std::to_string(num_devices));
  std::vector<int> listed(g.num_nodes(), 0);
  for (std::size_t d = 0; d < p.order.size(); ++d)
    for (NodeId id : p.order[d]) {
      if (id < 0 || static_cast<std::size_t>(id) >= g.num_nodes())
        return Status::error("placement: device '" + device_names[d] + "' lists node #" + std::to_string(id) +
                             ", which the graph does not have");
      const int want = p.device[static_cast<std::size_t>(id)];
      if (want != static_cast<int>(d))
        return Status::error("placement: node " + g.node(id).label(id) + " is listed by device '" +
                             device_names[d] + "' but placed on device #" + std::to_string(want));
      if (listed[static_cast<std::size_t>(id)]++)
        return Status::error("placement: node " + g.node(id).label(id) + " is listed twice");
    }
  for (std::size_t i = 0; i < g.num_nodes(); ++i) {
    const auto id = static_cast<NodeId>(i);
    const int d = p.device[i];
    if (d < 0 || static_cast<std::size_t>(d) >= num_devices)
      return Status::error("placement: node " + g.node(id).label(id) + " is on device #" + std::to_string(d) +
                           ", but there are " + std::to_string(num_devices) + " devices");
    if (!listed[i])
      return Status::error("placement: node " + g.node(id).label(id) + " is on device '" +
                           device_names[static_cast<std::size_t>(d)] + "' but not in its order");
  }

  // Run the orders symbolically: each device advances while its next node's producers are done. When
  // none can advance before all are done, the orders deadlock.
  std::vector<char> done(g.num_nodes(), 0);
  std::vector<std::size_t> next(p.order.size(), 0);
  std::size_t remaining = g.num_nodes();
  while (remaining > 0) {
    bool progress = false;
    for (std::size_t d = 0; d < p.order.size(); ++d) {
      while (next[d] < p.order[d].size()) {
        const NodeId id = p.order[d][next[d]];
        bool ready = true;
        for_each_producer(g, g.node(id), [&](NodeId q) { ready = ready && done[static_cast<std::size_t>(q)]; });
        if (!ready) break;
        done[static_cast<std::size_t>(id)] = 1;
        ++next[d];
        --remaining;
        progress = true;
      }
    }
    if (progress) continue;
    std::string waits;
    for (std::size_t d = 0; d < p.order.size(); ++d) {
      if (next[d] >= p.order[d].size()) continue;
      const NodeId id = p.order[d][next[d]];
      std::string missing;
      for_each_producer(g, g.node(id), [&](NodeId q) {
        if (!done[static_cast<std::size_t>(q)] && missing.empty())
          missing = g.node(q).label(q) + " on '" + device_names[static_cast<std::size_t>(p.device[static_cast<std::size_t>(q)])] + "'";
      });
      waits += (waits.empty() ? "" : "; ") + std::string("'") + device_names[d] + "' waits at " +
               g.node(id).label(id) + " for " + missing;
    }
    return Status::error("placement: the device orders deadlock: " + waits);
  }
  return Status::ok();
}

Result<Placement> placement_from_plan(const Graph& g, const partition::Plan& plan,
                                      const std::array<int, partition::kNumDevices>& device_index) {
  Placement p;
  p.device.assign(g.num_nodes(), -1);
  int num_devices = 0;
  for (int d : device_index) num_devices = std::max(num_devices, d + 1);
  p.order.resize(static_cast<std::size_t>(num_devices));
  std::vector<std::vector<std::pair<int, NodeId>>> keyed(p.order.size());
  for (std::size_t k = 0; k < plan.nodes.size(); ++k) {
    const partition::PlanNode& pn = plan.nodes[k];
    const std::string where = "plan: nodes[" + std::to_string(k) + "] ('" + pn.name + "')";
    if (pn.node_index < 0) return Status::error(where + ": not a node of the model (node_index " +
                                                std::to_string(pn.node_index) + ")");
    if (pn.node_index >= static_cast<int64_t>(g.num_nodes()))
      return Status::error(where + ": node_index " + std::to_string(pn.node_index) + " but the model has " +
                           std::to_string(g.num_nodes()) + " nodes; was the plan made for another model?");
    const auto id = static_cast<NodeId>(pn.node_index);
    const Node& n = g.node(id);
    // The partitioner names unnamed nodes "#i" and repeated names "name#i".
    const std::string suffix = "#" + std::to_string(id);
    if (pn.name != n.name && pn.name != n.name + suffix)
      return Status::error(where + ": node #" + std::to_string(id) + " is " + n.label(id) +
                           " in the model; was the plan made for another model?");
    if (p.device[static_cast<std::size_t>(id)] >= 0)
      return Status::error(where + ": node " + n.label(id) + " appears twice in the plan");
    const int d = device_index[static_cast<std::size_t>(partition::index(pn.device))];
    if (d < 0)
      return Status::error(where + ": placed on '" + std::string(partition::device_name(pn.device)) +
                           "', which this run does not have");
    p.device[static_cast<std::size_t>(id)] = d;
    keyed[static_cast<std::size_t>(d)].emplace_back(pn.order, id);
  }
  for (std::size_t i = 0; i < g.num_nodes(); ++i)
    if (p.device[i] < 0)
      return Status::error("plan: node " + g.node(static_cast<NodeId>(i)).label(static_cast<NodeId>(i)) +
                           " has no entry; was the plan made for another model?");
  for (std::size_t d = 0; d < keyed.size(); ++d) {
    std::sort(keyed[d].begin(), keyed[d].end());
    for (const auto& [order, id] : keyed[d]) p.order[d].push_back(id);
  }
  return p;
}

}  // namespace tandem
