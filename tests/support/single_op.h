// One-node models for kernel tests whose inputs have symbolic dimensions (so import-time shape inference
// leaves every check to the kernel), omitted inputs or int64 initializers, with attributes of every kind,
// and small tensor helpers.
#pragma once

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cstring>
#include <string>
#include <vector>

#include "tests/support/model_builder.h"
#include "tests/support/op_runner.h"

namespace tandem::test {

using I64 = std::vector<int64_t>;
using F32 = std::vector<float>;

class SingleOp {
 public:
  SingleOp(int64_t opset, const std::string& op, int outputs = 1) : model_(make_model(opset)) {
    onnx::NodeProto* n = add_node(*model_.mutable_graph(), op, {}, {}, "n");
    for (int k = 0; k < outputs; ++k) n->add_output("y" + std::to_string(k));
  }
  SingleOp& in(const Tensor& t) {
    const std::string name = next_name();
    std::vector<DimSpec> dims;
    for (std::size_t d = 0; d < t.rank(); ++d) dims.push_back(name + "_d" + std::to_string(d));
    add_input(*model_.mutable_graph(), name, static_cast<int32_t>(t.dtype()), dims);
    node()->add_input(name);
    feeds_.push_back(t);
    return *this;
  }
  // A graph input of exactly t's dimensions, for ops whose shape inference needs them (a [1, C] input).
  SingleOp& fixed_in(const Tensor& t) {
    const std::string name = next_name();
    std::vector<DimSpec> dims(t.shape().begin(), t.shape().end());
    add_input(*model_.mutable_graph(), name, static_cast<int32_t>(t.dtype()), dims);
    node()->add_input(name);
    feeds_.push_back(t);
    return *this;
  }
  // A graph input of unknown rank: import-time shape inference cannot check it, so the kernel's checks answer.
  SingleOp& unranked(const Tensor& t) {
    in(t);
    auto& g = *model_.mutable_graph();
    g.mutable_input(g.input_size() - 1)->mutable_type()->mutable_tensor_type()->clear_shape();
    return *this;
  }
  SingleOp& ints_in(const I64& v) { return in(make_tensor<int64_t>({static_cast<int64_t>(v.size())}, v)); }
  // An int64 initializer: a constant the kernel may read when it is made.
  SingleOp& constant(const I64& v) {
    const std::string name = next_name();
    add_int64_initializer(*model_.mutable_graph(), name, {static_cast<int64_t>(v.size())}, v);
    node()->add_input(name);
    return *this;
  }
  SingleOp& skip() {
    node()->add_input("");
    return *this;
  }
  SingleOp& attr(const std::string& a, int64_t v) {
    set_int(node(), a, v);
    return *this;
  }
  SingleOp& attr(const std::string& a, const I64& v) {
    set_ints(node(), a, v);
    return *this;
  }
  SingleOp& attr(const std::string& a, float v) {
    set_float(node(), a, v);
    return *this;
  }
  SingleOp& attr(const std::string& a, const std::string& v) {
    set_string(node(), a, v);
    return *this;
  }
  SingleOp& attr(const std::string& a, const char* v) { return attr(a, std::string(v)); }
  SingleOp& attr(const std::string& a, const std::vector<std::string>& v) {
    auto* at = node()->add_attribute();
    at->set_name(a);
    at->set_type(onnx::AttributeProto::STRINGS);
    for (const std::string& s : v) at->add_strings(s);
    return *this;
  }
  SingleOp& attr(const std::string& a, const F32& v) {
    auto* at = node()->add_attribute();
    at->set_name(a);
    at->set_type(onnx::AttributeProto::FLOATS);
    for (float f : v) at->add_floats(f);
    return *this;
  }

  // Output k is declared with types[k] (default: input 0's type).
  Result<std::vector<Tensor>> run(std::vector<DType> types = {}) {
    return run_on_cpu(proto(std::move(types)), feeds_);
  }
  // The model with its outputs declared as run() declares them, for tests that compile it once and run it
  // several times; feeds() are its inputs.
  onnx::ModelProto proto(std::vector<DType> types = {}) const {
    onnx::ModelProto m = model_;
    auto& g = *m.mutable_graph();
    for (int k = 0; k < g.node(0).output_size(); ++k) {
      const DType t = k < static_cast<int>(types.size()) ? types[static_cast<std::size_t>(k)] : feeds_.at(0).dtype();
      add_output(g, g.node(0).output(k), static_cast<int32_t>(t));
    }
    return m;
  }
  const std::vector<Tensor>& feeds() const { return feeds_; }
  // Runs and returns output 0, failing the test on an error.
  Tensor out(std::vector<DType> types = {}) {
    auto r = run(std::move(types));
    EXPECT_TRUE(r) << r.status().message();
    return r ? (*r)[0] : Tensor();
  }

  // Puts the node in another domain, which the model then imports at `version`.
  SingleOp& domain(const std::string& d, int64_t version) {
    node()->set_domain(d);
    auto* imp = model_.add_opset_import();
    imp->set_domain(d);
    imp->set_version(version);
    return *this;
  }
  // An initializer holding `t` (any type): a constant the kernel may prepare when it is made.
  SingleOp& constant(const Tensor& t) {
    const std::string name = next_name();
    auto* init = model_.mutable_graph()->add_initializer();
    init->set_name(name);
    init->set_data_type(static_cast<int32_t>(t.dtype()));
    for (int64_t d : t.shape()) init->add_dims(d);
    if (t.dtype() == DType::kString)
      for (int64_t i = 0; i < t.numel(); ++i) init->add_string_data(t.data<std::string>()[i]);
    else
      init->set_raw_data(t.raw(), t.nbytes());
    node()->add_input(name);
    return *this;
  }

  // The one node (found afresh each time, so a copy of the SingleOp refers to its own model).
  onnx::NodeProto* node() { return model_.mutable_graph()->mutable_node(0); }

 private:
  std::string next_name() { return "x" + std::to_string(node()->input_size()); }
  onnx::ModelProto model_;
  std::vector<Tensor> feeds_;
};

inline Tensor f32(I64 shape, const F32& v) { return make_tensor<float>(std::move(shape), v); }
inline Tensor i64(I64 shape, const I64& v) { return make_tensor<int64_t>(std::move(shape), v); }
inline Tensor strs(I64 shape, const std::vector<std::string>& v) { return make_string_tensor(std::move(shape), v); }
inline Tensor i32(I64 shape, const std::vector<int32_t>& v) { return make_tensor<int32_t>(std::move(shape), v); }

// 0, 1, 2, ... as float32 of `shape`.
inline Tensor iota(I64 shape) {
  F32 v(static_cast<std::size_t>(shape_numel(shape)));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  return f32(std::move(shape), v);
}

inline void expect_error(const Result<std::vector<Tensor>>& r, const std::string& part) {
  ASSERT_FALSE(r) << "expected an error containing '" << part << "'";
  EXPECT_NE(r.status().message().find(part), std::string::npos) << r.status().message();
}

inline void expect_f32(const Tensor& t, const I64& shape, const F32& values) {
  ASSERT_TRUE(t.defined());
  EXPECT_EQ(t.dtype(), DType::kFloat32);
  EXPECT_EQ(t.shape(), shape);
  EXPECT_EQ(values_of<float>(t), values);
}

inline void expect_i64(const Tensor& t, const I64& shape, const I64& values) {
  ASSERT_TRUE(t.defined());
  EXPECT_EQ(t.dtype(), DType::kInt64);
  EXPECT_EQ(t.shape(), shape);
  EXPECT_EQ(values_of<int64_t>(t), values);
}

// |got - want| <= atol + rtol * |want| elementwise, with the shape checked.
inline void expect_near(const Tensor& got, const I64& shape, const std::vector<double>& want, double rtol = 1e-5,
                        double atol = 1e-5) {
  ASSERT_TRUE(got.defined());
  ASSERT_EQ(got.shape(), shape);
  ASSERT_EQ(got.numel(), static_cast<int64_t>(want.size()));
  int bad = 0;
  for (std::size_t i = 0; i < want.size() && bad < 5; ++i) {
    const double g = element_as_double(got, static_cast<int64_t>(i));
    if (!(std::abs(g - want[i]) <= atol + rtol * std::abs(want[i]))) {
      ADD_FAILURE() << "element " << i << ": got " << g << ", want " << want[i];
      ++bad;
    }
  }
}

}  // namespace tandem::test
