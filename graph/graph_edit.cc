#include "graph/graph_edit.h"

#include <cstring>
#include <memory>

namespace tandem {

std::string fresh_name(const Graph& g, const std::string& base) {
  std::string name = base;
  for (int k = 1; g.find_value(name) != kNoValue; ++k) name = base + "_" + std::to_string(k);
  return name;
}

ValueId add_constant(Graph& g, const std::string& name, TensorDataPtr data) {
  const ValueId v = g.add_value(name, ValueKind::kInitializer);
  g.value(v).dtype = data->dtype;
  std::vector<Dim> dims;
  for (int64_t d : data->dims) dims.push_back(Dim::known(d));
  g.value(v).shape = Shape(std::move(dims));
  g.value(v).data = std::move(data);
  g.add_initializer(v);
  return v;
}

ValueId add_int64_constant(Graph& g, const std::string& name, const std::vector<int64_t>& values) {
  auto data = std::make_shared<TensorData>();
  data->dtype = DType::kInt64;
  data->dims = {static_cast<int64_t>(values.size())};
  data->bytes.resize(values.size() * sizeof(int64_t));
  std::memcpy(data->bytes.data(), values.data(), data->bytes.size());
  return add_constant(g, name, std::move(data));
}

}  // namespace tandem
