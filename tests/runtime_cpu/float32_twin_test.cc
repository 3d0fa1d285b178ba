// float16 and bfloat16 through the ops whose CPU kernels compute in float32 (runtime_cpu/float32_twin.h):
// each op's 16-bit output must be, bit for bit, its float32 kernel's output on the same values (exact in
// the 16-bit type) rounded once, with constants and computed inputs; errors still name the model's node.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "graph/float16.h"
#include "runtime_cpu/cpu_device.h"
#include "tests/support/model_builder.h"
#include "tests/support/op_runner.h"

namespace tandem {
namespace {

using namespace tandem::test;
using onnx::TensorProto;

uint16_t to_16bit(int32_t type, float v) {
  return type == TensorProto::FLOAT16 ? round_to_narrow_float<5, 10>(v) : round_to_narrow_float<8, 7>(v);
}
float from_16bit(int32_t type, uint16_t bits) {
  return type == TensorProto::FLOAT16 ? half_to_float(bits) : bfloat16_to_float(bits);
}

// A float input or constant: its shape, and whether it is an initializer (widened once, when the kernel is
// made) rather than fed at run time.
struct Operand {
  std::vector<int64_t> shape;
  bool constant = false;
};

struct OpCase {
  const char* name;
  std::vector<Operand> operands;                           // named in0, in1, ... in order
  std::function<void(onnx::GraphProto&)> add_node;         // reads in0..., writes y
  float lo = -2.0f, hi = 2.0f;
};

// Values exact in the 16-bit type (so both runs see the same numbers).
std::vector<float> values_for(int32_t type, const std::vector<int64_t>& shape, uint32_t seed, float lo, float hi) {
  std::vector<float> v = random_floats(shape_numel(shape), seed, lo, hi);
  for (float& x : v) x = from_16bit(type, to_16bit(type, x));
  return v;
}

onnx::ModelProto op_model(const OpCase& c, int32_t type, const std::vector<std::vector<float>>& values) {
  onnx::ModelProto m = make_model(22, 10);
  auto& g = *m.mutable_graph();
  for (std::size_t i = 0; i < c.operands.size(); ++i) {
    const std::string name = "in" + std::to_string(i);
    const Operand& o = c.operands[i];
    if (!o.constant) {
      add_input(g, name, type, {o.shape.begin(), o.shape.end()});
      continue;
    }
    auto* t = g.add_initializer();
    t->set_name(name);
    t->set_data_type(type);
    for (int64_t d : o.shape) t->add_dims(d);
    if (type == TensorProto::FLOAT) {
      for (float v : values[i]) t->add_float_data(v);
    } else {
      std::string raw;
      for (float v : values[i]) {
        const uint16_t b = to_16bit(type, v);
        raw.push_back(static_cast<char>(b & 0xff));
        raw.push_back(static_cast<char>(b >> 8));
      }
      t->set_raw_data(raw);
    }
  }
  c.add_node(g);
  add_output(g, "y", type);
  return m;
}

const std::vector<OpCase>& op_cases() {
  static const std::vector<OpCase> cases = {
      {"Conv", {{{1, 3, 6, 7}}, {{4, 3, 3, 3}, true}, {{4}, true}},
       [](onnx::GraphProto& g) { set_ints(add_node(g, "Conv", {"in0", "in1", "in2"}, {"y"}, "conv"), "pads", {1, 1, 1, 1}); }},
      {"ConvTranspose", {{{1, 2, 4, 4}}, {{2, 3, 3, 3}, true}},
       [](onnx::GraphProto& g) { set_ints(add_node(g, "ConvTranspose", {"in0", "in1"}, {"y"}, "deconv"), "strides", {2, 2}); }},
      {"MatMul", {{{2, 3, 5}}, {{5, 4}}}, [](onnx::GraphProto& g) { add_node(g, "MatMul", {"in0", "in1"}, {"y"}, "mm"); }},
      {"Gemm", {{{3, 5}}, {{4, 5}, true}, {{4}, true}},
       [](onnx::GraphProto& g) { set_int(add_node(g, "Gemm", {"in0", "in1", "in2"}, {"y"}, "gemm"), "transB", 1); }},
      {"AveragePool", {{{1, 2, 5, 5}}},
       [](onnx::GraphProto& g) { set_ints(add_node(g, "AveragePool", {"in0"}, {"y"}, "pool"), "kernel_shape", {2, 3}); }},
      {"MaxPool", {{{1, 2, 5, 5}}},
       [](onnx::GraphProto& g) { set_ints(add_node(g, "MaxPool", {"in0"}, {"y"}, "pool"), "kernel_shape", {3, 2}); }},
      {"GlobalAveragePool", {{{2, 3, 4, 4}}},
       [](onnx::GraphProto& g) { add_node(g, "GlobalAveragePool", {"in0"}, {"y"}, "pool"); }},
      {"LpPool", {{{1, 2, 5, 5}}},
       [](onnx::GraphProto& g) {
         auto* n = add_node(g, "LpPool", {"in0"}, {"y"}, "pool");
         set_ints(n, "kernel_shape", {2, 2});
         set_int(n, "p", 3);
       }},
      {"LpNormalization", {{{3, 6}}}, [](onnx::GraphProto& g) { add_node(g, "LpNormalization", {"in0"}, {"y"}, "lpn"); }},
      {"Softmax", {{{2, 3, 7}}}, [](onnx::GraphProto& g) { add_node(g, "Softmax", {"in0"}, {"y"}, "softmax"); }},
      {"LogSoftmax", {{{2, 7}}}, [](onnx::GraphProto& g) { add_node(g, "LogSoftmax", {"in0"}, {"y"}, "lsm"); }},
      {"ReduceMean", {{{2, 3, 5}}},
       [](onnx::GraphProto& g) { add_node(g, "ReduceMean", {"in0"}, {"y"}, "mean"); }},
      {"ReduceSumSquare", {{{4, 6}}},
       [](onnx::GraphProto& g) { set_int(add_node(g, "ReduceSumSquare", {"in0"}, {"y"}, "ss"), "keepdims", 0); }},
      {"InstanceNormalization", {{{2, 3, 8}}, {{3}, true}, {{3}, true}},
       [](onnx::GraphProto& g) { add_node(g, "InstanceNormalization", {"in0", "in1", "in2"}, {"y"}, "norm"); }},
      {"LayerNormalization", {{{2, 3, 8}}, {{8}, true}, {{8}, true}},
       [](onnx::GraphProto& g) { add_node(g, "LayerNormalization", {"in0", "in1", "in2"}, {"y"}, "norm"); }},
      {"BatchNormalization", {{{2, 3, 4}}, {{3}, true}, {{3}, true}, {{3}, true}, {{3}, true}},
       [](onnx::GraphProto& g) { add_node(g, "BatchNormalization", {"in0", "in1", "in2", "in3", "in4"}, {"y"}, "bn"); },
       0.25f, 2.0f},  // positive: in4 is the variance
  };
  return cases;
}

class Float32Twin : public testing::TestWithParam<int32_t> {};

TEST_P(Float32Twin, SixteenBitOutputsAreTheFloat32KernelsRoundedOnce) {
  const int32_t type = GetParam();
  for (const OpCase& c : op_cases()) {
    SCOPED_TRACE(c.name);
    std::vector<std::vector<float>> values;
    uint32_t seed = 11;
    for (const Operand& o : c.operands) values.push_back(values_for(type, o.shape, seed++, c.lo, c.hi));
    std::vector<Tensor> wide_feeds, narrow_feeds;
    for (std::size_t i = 0; i < c.operands.size(); ++i) {
      if (c.operands[i].constant) continue;
      wide_feeds.push_back(make_tensor<float>(c.operands[i].shape, values[i]));
      Tensor t = Tensor::empty(type == TensorProto::FLOAT16 ? DType::kFloat16 : DType::kBFloat16, c.operands[i].shape);
      for (std::size_t k = 0; k < values[i].size(); ++k) t.data<uint16_t>()[k] = to_16bit(type, values[i][k]);
      narrow_feeds.push_back(std::move(t));
    }
    auto want = run_on_cpu(op_model(c, TensorProto::FLOAT, values), wide_feeds);
    auto got = run_on_cpu(op_model(c, type, values), narrow_feeds);
    ASSERT_TRUE(want) << want.status().message();
    ASSERT_TRUE(got) << got.status().message();
    const Tensor &w = (*want)[0], &h = (*got)[0];
    ASSERT_EQ(h.dtype(), type == TensorProto::FLOAT16 ? DType::kFloat16 : DType::kBFloat16);
    ASSERT_EQ(h.shape(), w.shape());
    ASSERT_GT(w.numel(), 0);
    for (int64_t i = 0; i < w.numel(); ++i)
      ASSERT_EQ(h.data<uint16_t>()[i], to_16bit(type, w.data<float>()[i]))
          << "element " << i << ": " << from_16bit(type, h.data<uint16_t>()[i]) << " against " << w.data<float>()[i];
  }
}

INSTANTIATE_TEST_SUITE_P(Types, Float32Twin, testing::Values(TensorProto::FLOAT16, TensorProto::BFLOAT16),
                         [](const testing::TestParamInfo<int32_t>& i) {
                           return i.param == TensorProto::FLOAT16 ? std::string("Float16") : std::string("BFloat16");
                         });

// The twin's kernel errs as the node's own would, naming the model's node: here an unnamed second node,
// whose input's channels do not match W's (known only at run time).
TEST(Float32TwinErrors, NameTheModelsNode) {
  onnx::ModelProto m = make_model(22, 10);
  auto& g = *m.mutable_graph();
  add_input(g, "x", TensorProto::FLOAT16, {int64_t{1}, std::string("c"), int64_t{4}, int64_t{4}});
  add_node(g, "Identity", {"x"}, {"same"}, "first");
  auto* w = add_float_initializer(g, "w", {2, 3, 1, 1}, std::vector<float>(6, 0.5f));
  w->set_data_type(TensorProto::FLOAT16);
  w->clear_float_data();
  w->set_raw_data(std::string(12, '\0'));
  add_node(g, "Conv", {"same", "w"}, {"y"}, "");
  add_output(g, "y", TensorProto::FLOAT16);
  auto r = run_on_cpu(m, {Tensor::zeros(DType::kFloat16, {1, 2, 4, 4})});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().message().rfind("node #1 (Conv): ", 0), 0u) << r.status().message();
}

// The widened constants are the kernel's own weights (the model keeps its 16-bit ones): a float16 Conv
// reports its W and B in float32 bytes, at least, where the float32 model's Conv reads its constants in place.
TEST(Float32TwinWeights, TheWidenedConstantsAreTheKernelsOwn) {
  const OpCase& conv = op_cases()[0];
  ASSERT_EQ(std::string(conv.name), "Conv");
  std::vector<std::vector<float>> values;
  for (const Operand& o : conv.operands) values.push_back(values_for(TensorProto::FLOAT16, o.shape, 3, -1.0f, 1.0f));
  const cpu::CpuDevice cpu;
  for (int32_t type : {TensorProto::FLOAT16, TensorProto::FLOAT}) {
    auto ir = import_proto(op_model(conv, type, values));
    ASSERT_TRUE(ir) << ir.status().message();
    auto k = cpu.create_kernel(KernelInit{*ir->graph, 0, nullptr});
    ASSERT_TRUE(k) << k.status().message();
    if (type == TensorProto::FLOAT16)
      EXPECT_GE((*k)->own_weight_bytes(), int64_t{(4 * 3 * 3 * 3 + 4) * 4});
    else
      EXPECT_EQ((*k)->own_weight_bytes(), -1);
  }
}

}  // namespace
}  // namespace tandem
