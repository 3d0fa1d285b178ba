// Helpers for the kernel tests: one-node models, random data, tolerant comparison, and a runner for cases
// of the ONNX node test suite (/usr/share/libonnx-testdata/data/node/<case>/: model.onnx and
// test_data_set_0/{input,output}_J.pb) through run_on_cpu, kept small on purpose: the conformance runner
// replaces it.
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

inline std::vector<float> random_floats(int64_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(static_cast<std::size_t>(n));
  for (float& x : v) x = dist(gen);
  return v;
}

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

inline const char* kNodeCaseDir = "/usr/share/libonnx-testdata/data/node";

// Case folders whose name starts with one of `prefixes`, sorted.
inline std::vector<std::string> node_cases(const std::vector<std::string>& prefixes) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(kNodeCaseDir, ec)) {
    const std::string name = entry.path().filename().string();
    for (const auto& p : prefixes)
      if (name.rfind(p, 0) == 0) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

template <typename Message>
bool read_proto(const std::filesystem::path& path, Message& m) {
  std::ifstream in(path, std::ios::binary);
  return in && m.ParseFromIstream(&in);
}

inline Result<Tensor> read_tensor_pb(const std::filesystem::path& path) {
  onnx::TensorProto t;
  if (!read_proto(path, t)) return Status::error("cannot read " + path.string());
  TANDEM_ASSIGN_OR_RETURN(TensorDataPtr data,
                          onnx_import::import_tensor(t, onnx_import::ExternalDataReader(""), path.string()));
  return Tensor::from_constant(data);
}

// Op types in the case's graph that have no CPU kernel yet (an _expanded case needs many other ops).
inline std::set<std::string> missing_kernels(const onnx::ModelProto& m) {
  std::set<std::string> missing;
  for (const auto& n : m.graph().node())
    if (!cpu::cpu_kernels().find(n.op_type())) missing.insert(n.op_type());
  return missing;
}

inline double element_as_double(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DType::kFloat32:
      return t.data<float>()[i];
    case DType::kFloat64:
      return t.data<double>()[i];
    case DType::kInt64:
      return static_cast<double>(t.data<int64_t>()[i]);
    case DType::kInt32:
      return t.data<int32_t>()[i];
    case DType::kInt8:
      return t.data<int8_t>()[i];
    case DType::kUInt8:
    case DType::kBool:
      return t.data<uint8_t>()[i];
    default:
      return std::nan("");
  }
}

// Runs the case; GTEST_SKIPs when `skips` names it or an op in it has no kernel.
inline void run_node_case(const std::string& name, const std::map<std::string, std::string>& skips,
                          double rtol = 1e-4, double atol = 1e-5) {
  if (auto it = skips.find(name); it != skips.end()) GTEST_SKIP() << it->second;
  const std::filesystem::path dir = std::filesystem::path(kNodeCaseDir) / name;
  onnx::ModelProto model;
  ASSERT_TRUE(read_proto(dir / "model.onnx", model)) << "cannot read " << dir / "model.onnx";
  if (auto missing = missing_kernels(model); !missing.empty())
    GTEST_SKIP() << "no CPU kernel yet for " << *missing.begin() << " (and " << missing.size() - 1
                 << " more)";
  std::vector<Tensor> inputs, expected;
  const auto data = dir / "test_data_set_0";
  for (int i = 0; std::filesystem::exists(data / ("input_" + std::to_string(i) + ".pb")); ++i) {
    auto t = read_tensor_pb(data / ("input_" + std::to_string(i) + ".pb"));
    ASSERT_TRUE(t.is_ok()) << t.status().message();
    inputs.push_back(*t);
  }
  for (int i = 0; std::filesystem::exists(data / ("output_" + std::to_string(i) + ".pb")); ++i) {
    auto t = read_tensor_pb(data / ("output_" + std::to_string(i) + ".pb"));
    ASSERT_TRUE(t.is_ok()) << t.status().message();
    expected.push_back(*t);
  }
  auto got = run_on_cpu(model, inputs);
  ASSERT_TRUE(got.is_ok()) << got.status().message();
  ASSERT_EQ(got->size(), expected.size());
  for (std::size_t k = 0; k < expected.size(); ++k) {
    const Tensor& g = (*got)[k];
    const Tensor& e = expected[k];
    ASSERT_EQ(g.dtype(), e.dtype()) << "output " << k;
    ASSERT_EQ(g.shape(), e.shape()) << "output " << k << ": got " << g.describe() << ", want "
                                    << e.describe();
    int bad = 0;
    for (int64_t i = 0; i < e.numel() && bad < 5; ++i) {
      const double gv = element_as_double(g, i), ev = element_as_double(e, i);
      if (std::isnan(ev) && std::isnan(gv)) continue;
      if (!(std::abs(gv - ev) <= atol + rtol * std::abs(ev)) && !(gv == ev)) {
        ADD_FAILURE() << "output " << k << " element " << i << ": got " << gv << ", want " << ev;
        ++bad;
      }
    }
  }
}

}  // namespace tandem::test
