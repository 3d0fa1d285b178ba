#include "session/packed_weight_release.h"

namespace tandem {

int64_t release_packed_constants(Graph& g, const std::unordered_set<const TensorData*>& read) {
  int64_t bytes = 0;
  for (std::size_t v = 0; v < g.num_values(); ++v) {
    Value& val = g.value(static_cast<ValueId>(v));
    if (val.kind != ValueKind::kInitializer || !val.data || read.count(val.data.get())) continue;
    bytes += static_cast<int64_t>(val.data->byte_size());
    val.data.reset();
  }
  return bytes;
}

}  // namespace tandem
