#include "graph/value_form.h"

namespace tandem {

const char* value_form_name(ValueForm f) {
  switch (f) {
    case ValueForm::kTensor: return "tensor";
    case ValueForm::kSequence: return "sequence";
    case ValueForm::kOptionalTensor: return "optional tensor";
    case ValueForm::kOptionalSequence: return "optional sequence";
  }
  return "?";
}

}  // namespace tandem
