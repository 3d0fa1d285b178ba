#include "session/packed_weight_release.h"

namespace tandem {

ReleasedConstants release_packed_constants(Graph& g, const std::unordered_set<const TensorData*>& read) {
  ReleasedConstants r;
  for (std::size_t v = 0; v < g.num_values(); ++v) {
    Value& val = g.value(static_cast<ValueId>(v));
    if (val.kind != ValueKind::kInitializer || !val.data || read.count(val.data.get())) continue;
    ++r.values;
    r.packed += val.consumers.empty() ? 0 : 1;  // counted whatever its size (an empty or string one too)
    val.data.reset();
  }
  return r;
}

}  // namespace tandem
