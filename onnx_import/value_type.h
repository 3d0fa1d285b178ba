// ONNX TypeProto -> (DType, Shape) for the values of a graph, with declared dimensions checked.
#pragma once

#include <string>

#include "graph/dtype.h"
#include "graph/shape.h"
#include "graph/status.h"

namespace onnx {
class TypeProto;
}

namespace tandem::onnx_import {

struct ValueType {
  DType dtype = DType::kUndefined;
  Shape shape;
};

enum class TypeRule {
  kAny,             // inside a graph: a non-tensor type (sequence, map, optional) is left unknown
  kTensorIfTyped,   // a main-graph output: a declared type must be a tensor, but it may be left out
  kTensorRequired,  // a main-graph input: a tensor type with an element type is required
};

// `what` names the value in messages ("graph input 'x'").
Result<ValueType> import_value_type(const onnx::TypeProto& t, const std::string& what, TypeRule rule);

}  // namespace tandem::onnx_import
