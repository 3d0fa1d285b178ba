#include "graph/liveness.h"

#include <algorithm>

namespace tandem {

std::vector<Lifetime> compute_liveness(const Graph& g, const std::vector<NodeId>& order) {
  std::vector<Lifetime> life(g.num_values());
  for (std::size_t step = 0; step < order.size(); ++step) {
    const Node& n = g.node(order[step]);
    const int s = static_cast<int>(step);
    for (ValueId v : n.outputs)
      if (v != kNoValue) life[static_cast<std::size_t>(v)].first = s;
    auto read = [&](ValueId v) {
      if (v != kNoValue) life[static_cast<std::size_t>(v)].last = std::max(life[static_cast<std::size_t>(v)].last, s);
    };
    for (ValueId v : n.inputs) read(v);
    for (ValueId v : n.implicit_inputs) read(v);
  }
  for (ValueId v : g.outputs()) life[static_cast<std::size_t>(v)].last = static_cast<int>(order.size());
  return life;
}

}  // namespace tandem
