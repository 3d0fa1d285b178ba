#include "graph/host_values.h"

#include "graph/value_form.h"

namespace tandem {

std::optional<std::string> host_only_value(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  for (const auto* list : {&n.inputs, &n.outputs})
    for (ValueId v : *list) {
      if (v == kNoValue) continue;
      const Value& value = g.value(v);
      if (value.form != ValueForm::kTensor)
        return "'" + value.name + "' is a " + std::string(value_form_name(value.form)) + ", which lives on the host";
      if (value.dtype == DType::kString) return "'" + value.name + "' is a string tensor, which lives on the host";
    }
  return std::nullopt;
}

}  // namespace tandem
