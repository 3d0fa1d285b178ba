// ONNX TypeProto -> (form, DType, Shape) for the values of a graph, with declared dimensions checked. A
// sequence or optional gives its element tensors' type and shape.
#pragma once

#include <string>

#include "graph/dtype.h"
#include "graph/graph.h"
#include "graph/shape.h"
#include "graph/status.h"

namespace onnx {
class TypeProto;
}

namespace tandem::onnx_import {

struct ValueType {
  ValueForm form = ValueForm::kTensor;  // kTensor also when the type is not given
  DType dtype = DType::kUndefined;
  Shape shape;
};

enum class TypeRule {
  kAny,       // inside a graph: a type tandem cannot hold (map, sparse tensor, nested sequence) is left unknown
  kOutput,    // a main-graph output: a declared type must be one tandem holds, but it may be left out
  kInput,     // a main-graph input: a type tandem holds, with an element type, is required
};

// `what` names the value in messages ("graph input 'x'").
Result<ValueType> import_value_type(const onnx::TypeProto& t, const std::string& what, TypeRule rule);

}  // namespace tandem::onnx_import
