#include "session/input_validation.h"

#include <map>

namespace tandem {
namespace {

// symbol -> (value, the input that set it)
using Symbols = std::map<std::string, std::pair<int64_t, std::string>>;

// A tensor against a declared element type and shape. `symbols` is null for a sequence's elements, whose
// shapes may differ from one another where the declaration has a symbol.
Status check_tensor(const Value& v, const Tensor& t, const std::string& what, Symbols* symbols) {
  if (v.dtype != DType::kUndefined && t.dtype() != v.dtype)
    return Status::error(what + " must be " + std::string(dtype_name(v.dtype)) + ", got " +
                         std::string(dtype_name(t.dtype())));
  if (!v.shape.has_rank()) return Status::ok();
  if (t.rank() != v.shape.rank())
    return Status::error(what + " must have rank " + std::to_string(v.shape.rank()) + " " + v.shape.to_string() +
                         ", got rank " + std::to_string(t.rank()) + " " + shape_string(t.shape()));
  for (std::size_t d = 0; d < t.rank(); ++d) {
    const Dim& want = v.shape[d];
    const int64_t got = t.dim(d);
    if (want.is_known() && want.value != got)
      return Status::error(what + " dimension " + std::to_string(d) + " must be " + std::to_string(want.value) +
                           ", got " + std::to_string(got) + " (shape " + shape_string(t.shape()) + ", expected " +
                           v.shape.to_string() + ")");
    if (!want.is_symbolic() || !symbols) continue;
    auto [it, fresh] = symbols->emplace(want.symbol, std::make_pair(got, v.name));
    if (!fresh && it->second.first != got)
      return Status::error(what + " dimension " + std::to_string(d) + " ('" + want.symbol + "') is " +
                           std::to_string(got) + ", but input '" + it->second.second + "' has '" + want.symbol +
                           "' = " + std::to_string(it->second.first));
  }
  return Status::ok();
}

}  // namespace

Status validate_inputs(const Graph& g, const std::vector<const Tensor*>& feeds) {
  Symbols symbols;
  for (std::size_t i = 0; i < g.inputs().size(); ++i) {
    const Value& v = g.value(g.inputs()[i]);
    const Tensor* t = feeds[i];
    const std::string what = "input '" + v.name + "'";
    if (!t) {
      if (v.data) continue;
      return Status::error(what + " was not given");
    }
    const bool optional = v.form == ValueForm::kOptionalTensor || v.form == ValueForm::kOptionalSequence;
    const bool sequence = v.form == ValueForm::kSequence || v.form == ValueForm::kOptionalSequence;
    if (t->is_none()) {
      if (optional) continue;
      return Status::error(what + " is a " + std::string(value_form_name(v.form)) + "; it cannot be empty");
    }
    if (t->is_sequence() != sequence)
      return Status::error(what + " must be a " + (sequence ? "sequence of tensors" : "tensor") + ", got a " +
                           t->describe());
    if (!sequence) {
      TANDEM_RETURN_IF_ERROR(check_tensor(v, *t, what, &symbols));
      continue;
    }
    if (v.dtype != DType::kUndefined && t->dtype() != v.dtype)
      return Status::error(what + " must be a sequence of " + std::string(dtype_name(v.dtype)) + " tensors, got a " +
                           t->describe());
    for (std::size_t k = 0; k < t->elements().size(); ++k)
      TANDEM_RETURN_IF_ERROR(check_tensor(v, t->elements()[k], what + " element " + std::to_string(k), nullptr));
  }
  return Status::ok();
}

}  // namespace tandem
