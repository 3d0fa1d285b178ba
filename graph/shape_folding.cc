#include "graph/shape_folding.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "graph/dead_nodes.h"

namespace tandem {

namespace {

TensorDataPtr int64_tensor(const std::vector<int64_t>& values, bool scalar) {
  auto t = std::make_shared<TensorData>();
  t->dtype = DType::kInt64;
  if (!scalar) t->dims = {static_cast<int64_t>(values.size())};
  t->bytes.resize(values.size() * sizeof(int64_t));
  std::memcpy(t->bytes.data(), values.data(), t->bytes.size());
  return t;
}

}  // namespace

std::size_t fold_static_shapes(Graph& g) {
  std::vector<bool> folded(g.num_nodes(), false);
  std::size_t count = 0;
  for (std::size_t i = 0; i < g.num_nodes(); ++i) {
    const Node& n = g.node(static_cast<NodeId>(i));
    if (!n.domain.empty() || (n.op_type != "Shape" && n.op_type != "Size")) continue;
    if (n.inputs.empty() || n.inputs[0] == kNoValue || n.outputs.size() != 1 || n.outputs[0] == kNoValue) continue;
    const Shape& s = g.value(n.inputs[0]).shape;
    if (!s.is_static() || g.is_graph_output(n.outputs[0])) continue;
    std::vector<int64_t> dims;
    for (const Dim& d : s.dims()) dims.push_back(d.value);
    TensorDataPtr data;
    if (n.op_type == "Size") {
      int64_t size = 1;
      for (int64_t d : dims) size *= d;
      data = int64_tensor({size}, true);
    } else {
      // Shape-15's start/end: negative counts from the back, both clamped to [0, rank].
      const auto rank = static_cast<int64_t>(dims.size());
      auto clamp = [&](int64_t x) { return std::clamp(x < 0 ? x + rank : x, int64_t{0}, rank); };
      const int64_t start = clamp(n.attribute_int("start", 0)), end = clamp(n.attribute_int("end", rank));
      data = int64_tensor(std::vector<int64_t>(dims.begin() + start, dims.begin() + std::max(start, end)), false);
    }
    Value& out = g.value(n.outputs[0]);
    out.kind = ValueKind::kInitializer;
    out.data = data;
    out.dtype = DType::kInt64;
    out.producer = kNoNode;
    out.producer_output = -1;
    g.add_initializer(n.outputs[0]);
    folded[i] = true;
    ++count;
  }
  if (count == 0) return 0;
  // The folded nodes' outputs are initializers now: detach them so the removal keeps those values.
  for (std::size_t i = 0; i < g.num_nodes(); ++i)
    if (folded[i]) g.node(static_cast<NodeId>(i)).outputs.clear();
  g.remove_nodes(folded);
  eliminate_dead_nodes(g);
  return count;
}

}  // namespace tandem
