// A node attribute: ONNX's AttributeProto as plain data. Graph-valued attributes (the bodies of If, Loop
// and Scan) own their nested Graph.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "graph/dtype.h"
#include "graph/tensor_data.h"
#include "graph/value_form.h"

namespace tandem {

class Graph;

struct Attribute {
  enum class Kind { kFloat, kInt, kString, kTensor, kGraph, kFloats, kInts, kStrings, kTensors, kGraphs, kType };

  Kind kind = Kind::kInt;
  float f = 0.0f;
  int64_t i = 0;
  std::string s;
  TensorDataPtr t;
  std::shared_ptr<Graph> g;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  std::vector<TensorDataPtr> tensors;
  std::vector<std::shared_ptr<Graph>> graphs;
  // kType (a TypeProto, as Optional's `type`): the value's form and element type.
  ValueForm type_form = ValueForm::kTensor;
  DType type_dtype = DType::kUndefined;

  static Attribute of_int(int64_t v) {
    Attribute a;
    a.kind = Kind::kInt;
    a.i = v;
    return a;
  }
  static Attribute of_float(float v) {
    Attribute a;
    a.kind = Kind::kFloat;
    a.f = v;
    return a;
  }
  static Attribute of_string(std::string v) {
    Attribute a;
    a.kind = Kind::kString;
    a.s = std::move(v);
    return a;
  }
  static Attribute of_ints(std::vector<int64_t> v) {
    Attribute a;
    a.kind = Kind::kInts;
    a.ints = std::move(v);
    return a;
  }
};

std::string_view attribute_kind_name(Attribute::Kind k);

}  // namespace tandem
