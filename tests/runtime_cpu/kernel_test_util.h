// Helpers for the kernel tests: one-node models, random data and tolerant comparison.
#pragma once

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "onnx_import/tensor_import.h"
#include "runtime_cpu/kernel_registry.h"
#include "tests/support/model_builder.h"
#include "tests/support/op_runner.h"

namespace tandem::test {

// A model of one node, built input by input; graph inputs are fed to run() in the order they were added.
class OneNode {
 public:
  OneNode(int64_t opset, const std::string& op) : model_(make_model(opset)) {
    node_ = add_node(*model_.mutable_graph(), op, {}, {}, "node");
  }
  onnx::NodeProto* node() { return node_; }

  // A graph input fed with `t` at run time, declared with t's shape; `unranked` declares no shape, so the
  // importer's shape inference cannot catch a bad shape and the kernel's own checks are what fail.
  OneNode& input(const Tensor& t, bool unranked = false) {
    const std::string name = "in" + std::to_string(node_->input_size());
    std::vector<DimSpec> dims(t.shape().begin(), t.shape().end());
    auto* v = add_input(*model_.mutable_graph(), name, static_cast<int32_t>(t.dtype()), dims);
    if (unranked) v->mutable_type()->mutable_tensor_type()->clear_shape();
    node_->add_input(name);
    feeds_.push_back(t);
    return *this;
  }
  // An initializer holding `t`.
  OneNode& constant(const Tensor& t) {
    const std::string name = "in" + std::to_string(node_->input_size());
    auto* init = model_.mutable_graph()->add_initializer();
    init->set_name(name);
    init->set_data_type(static_cast<int32_t>(t.dtype()));
    for (int64_t d : t.shape()) init->add_dims(d);
    init->set_raw_data(t.raw(), t.nbytes());
    node_->add_input(name);
    return *this;
  }
  OneNode& no_input() {
    node_->add_input("");
    return *this;
  }
  OneNode& output(int32_t elem_type = onnx::TensorProto::FLOAT) {
    const std::string name = "out" + std::to_string(node_->output_size());
    node_->add_output(name);
    add_output(*model_.mutable_graph(), name, elem_type);
    return *this;
  }
  OneNode& no_output() {
    node_->add_output("");
    return *this;
  }
  Result<std::vector<Tensor>> run() const { return run_on_cpu(model_, feeds_); }

 private:
  onnx::ModelProto model_;
  onnx::NodeProto* node_;
  std::vector<Tensor> feeds_;
};

inline int64_t numel_of(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// |got - want| <= atol + rtol * |want| elementwise (NaN matches NaN); reports the first few misses.
inline void expect_close(const Tensor& got, const std::vector<double>& want, double rtol = 1e-4,
                         double atol = 1e-5) {
  ASSERT_EQ(got.numel(), static_cast<int64_t>(want.size())) << got.describe();
  int bad = 0;
  for (std::size_t i = 0; i < want.size() && bad < 5; ++i) {
    const double g = got.dtype() == DType::kFloat64 ? got.data<double>()[i] : got.data<float>()[i];
    if (std::isnan(g) && std::isnan(want[i])) continue;
    if (!(std::abs(g - want[i]) <= atol + rtol * std::abs(want[i])) && !(g == want[i])) {
      ADD_FAILURE() << "element " << i << ": got " << g << ", want " << want[i];
      ++bad;
    }
  }
}

}  // namespace tandem::test
