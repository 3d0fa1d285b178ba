#include "onnx_import/value_type.h"

#include <onnx/onnx_pb.h>

#include "onnx_import/limits.h"
#include "onnx_import/tensor_import.h"

namespace tandem::onnx_import {
namespace {

const char* type_kind(const onnx::TypeProto& t) {
  switch (t.value_case()) {
    case onnx::TypeProto::kTensorType: return "tensor";
    case onnx::TypeProto::kSequenceType: return "sequence";
    case onnx::TypeProto::kMapType: return "map";
    case onnx::TypeProto::kOptionalType: return "optional";
    case onnx::TypeProto::kSparseTensorType: return "sparse tensor";
    default: return "no";
  }
}

// "[batch,3]": a declared shape as messages write it, before any of it is checked.
std::string declared_shape(const onnx::TensorShapeProto& shape) {
  std::string s = "[";
  for (int i = 0; i < shape.dim_size(); ++i) {
    const auto& d = shape.dim(i);
    s += i ? "," : "";
    s += d.has_dim_value() ? std::to_string(d.dim_value()) : d.dim_param().empty() ? "?" : d.dim_param();
  }
  return s + "]";
}

}  // namespace

// The tensor inside a sequence or optional type, with the form that wraps it; nullptr with `why` set for
// a type tandem cannot hold (maps, sparse tensors, sequences of sequences, optionals of maps).
const onnx::TypeProto* unwrap(const onnx::TypeProto& t, ValueForm& form, std::string& why) {
  const onnx::TypeProto* inner = &t;
  form = ValueForm::kTensor;
  if (inner->value_case() == onnx::TypeProto::kOptionalType) {
    inner = &inner->optional_type().elem_type();
    form = ValueForm::kOptionalTensor;
  }
  if (inner->value_case() == onnx::TypeProto::kSequenceType) {
    inner = &inner->sequence_type().elem_type();
    form = form == ValueForm::kOptionalTensor ? ValueForm::kOptionalSequence : ValueForm::kSequence;
  }
  if (inner->value_case() == onnx::TypeProto::kTensorType) return inner;
  if (form == ValueForm::kTensor) {
    why = std::string(type_kind(t)) + " type";
  } else {
    why = std::string(value_form_name(form)) + " type whose elements are " +
          (inner->value_case() == onnx::TypeProto::VALUE_NOT_SET ? std::string("untyped")
                                                                  : std::string(type_kind(*inner)) + "s");
  }
  return nullptr;
}

Result<ValueType> import_value_type(const onnx::TypeProto& t, const std::string& what, TypeRule rule) {
  ValueType out;
  const bool required = rule != TypeRule::kAny;
  if (t.value_case() == onnx::TypeProto::VALUE_NOT_SET) {
    if (rule == TypeRule::kInput) return Status::error(what + " has no type");
    return out;
  }
  std::string why;
  const onnx::TypeProto* tensor = unwrap(t, out.form, why);
  if (!tensor) {
    if (required)
      return Status::error(what + " has " + why + "; tandem holds tensors, sequences of tensors and optionals of "
                           "either");
    return ValueType{};
  }
  const auto& tt = tensor->tensor_type();
  if (tt.elem_type() != 0) {
    auto dt = dtype_from_onnx(tt.elem_type());
    if (!dt)
      return Status::error(what + " has element type " + onnx_type_name(tt.elem_type()) +
                           ", which tandem does not support");
    out.dtype = *dt;
  } else if (rule == TypeRule::kInput) {
    return Status::error(what + " has no element type");
  }
  if (!tt.has_shape()) return out;

  std::vector<Dim> dims;
  int64_t count = 1;
  for (const auto& d : tt.shape().dim()) {
    if (d.has_dim_value()) {
      const int64_t v = d.dim_value();
      if (v < 0) return Status::error(what + " has negative dimension " + std::to_string(v));
      if (v > kMaxDimension) return Status::error(what + " has absurd dimension " + std::to_string(v));
      auto m = checked_mul(count, v);
      if (!m || *m > kMaxElements)
        return Status::error(what + " declares shape " + declared_shape(tt.shape()) + ", more elements than "
                             "tandem accepts (their product overflows int64 or exceeds 2^40)");
      count = *m;
      dims.push_back(Dim::known(v));
    } else if (d.has_dim_param() && !d.dim_param().empty()) {
      dims.push_back(Dim::symbolic(d.dim_param()));
    } else {
      dims.push_back(Dim::unknown());
    }
  }
  out.shape = Shape(std::move(dims));
  return out;
}

}  // namespace tandem::onnx_import
