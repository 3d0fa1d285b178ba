#include "session/input_validation.h"

#include <map>

namespace tandem {

Status validate_inputs(const Graph& g, const std::vector<const Tensor*>& feeds) {
  // symbol -> (value, the input that set it)
  std::map<std::string, std::pair<int64_t, std::string>> symbols;
  for (std::size_t i = 0; i < g.inputs().size(); ++i) {
    const Value& v = g.value(g.inputs()[i]);
    const Tensor* t = feeds[i];
    const std::string what = "input '" + v.name + "'";
    if (!t) {
      if (v.data) continue;
      return Status::error(what + " was not given");
    }
    if (v.dtype != DType::kUndefined && t->dtype() != v.dtype)
      return Status::error(what + " must be " + std::string(dtype_name(v.dtype)) + ", got " +
                           std::string(dtype_name(t->dtype())));
    if (!v.shape.has_rank()) continue;
    if (t->rank() != v.shape.rank())
      return Status::error(what + " must have rank " + std::to_string(v.shape.rank()) + " " + v.shape.to_string() +
                           ", got rank " + std::to_string(t->rank()) + " " + shape_string(t->shape()));
    for (std::size_t d = 0; d < t->rank(); ++d) {
      const Dim& want = v.shape[d];
      const int64_t got = t->dim(d);
      if (want.is_known() && want.value != got)
        return Status::error(what + " dimension " + std::to_string(d) + " must be " + std::to_string(want.value) +
                             ", got " + std::to_string(got) + " (shape " + shape_string(t->shape()) + ", expected " +
                             v.shape.to_string() + ")");
      if (!want.is_symbolic()) continue;
      auto [it, fresh] = symbols.emplace(want.symbol, std::make_pair(got, v.name));
      if (!fresh && it->second.first != got)
        return Status::error(what + " dimension " + std::to_string(d) + " ('" + want.symbol + "') is " +
                             std::to_string(got) + ", but input '" + it->second.second + "' has '" + want.symbol +
                             "' = " + std::to_string(it->second.first));
    }
  }
  return Status::ok();
}

}  // namespace tandem
