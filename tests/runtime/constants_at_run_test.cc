// Constants held without their elements (runtime/constants_at_run.h): for each kernel that packs a
// constant when it is made, the executor reads that constant's elements no more, and the node computes
// bit for bit what it computes when the same values come as a run-time input (packed per run instead).
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "graph/float16.h"
#include "runtime/executor.h"
#include "runtime_cpu/cpu_device.h"
#include "tests/support/bitwise_difference.h"
#include "tests/support/model_builder.h"

namespace tandem {
namespace {

struct Operand {
  std::string name;
  int32_t type;  // onnx::TensorProto element type
  DType dtype;
  std::vector<int64_t> dims;
  std::vector<std::byte> bytes;
  bool constant;  // an initializer (else a graph input)
  bool read;      // whether the kernel still reads it at run, as an initializer
};

// Operands of the given element type and shape with random elements: uint8/int8 anywhere in their range,
// float16 and float32 in [-1, 1].
Operand operand(const std::string& name, DType dtype, std::vector<int64_t> dims, uint32_t seed, bool constant,
                bool read = false) {
  const int32_t type = dtype == DType::kUInt8    ? onnx::TensorProto::UINT8
                       : dtype == DType::kInt8    ? onnx::TensorProto::INT8
                       : dtype == DType::kFloat16 ? onnx::TensorProto::FLOAT16
                                                  : onnx::TensorProto::FLOAT;
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  std::vector<std::byte> bytes;
  std::mt19937 rng(seed);
  for (int64_t i = 0; i < n; ++i) {
    if (dtype == DType::kUInt8 || dtype == DType::kInt8) {
      bytes.push_back(static_cast<std::byte>(rng() & 0xff));
      continue;
    }
    const double v = std::uniform_real_distribution<double>(-1, 1)(rng);
    if (dtype == DType::kFloat16) {
      const uint16_t h = round_to_narrow_float<5, 10>(v);
      bytes.push_back(static_cast<std::byte>(h & 0xff));
      bytes.push_back(static_cast<std::byte>(h >> 8));
    } else {
      const auto f = static_cast<float>(v);
      std::byte b[4];
      std::memcpy(b, &f, 4);
      bytes.insert(bytes.end(), b, b + 4);
    }
  }
  return {name, type, dtype, std::move(dims), std::move(bytes), constant, read};
}

// One node of `op` over `operands`; those marked constant become initializers, the others graph inputs.
ModelIR one_node(const std::string& op, const std::vector<Operand>& operands, bool constants,
                 const std::vector<std::pair<std::string, std::vector<int64_t>>>& ints = {}) {
  onnx::ModelProto m = test::make_model(17);
  auto& g = *m.mutable_graph();
  std::vector<std::string> names;
  for (const Operand& o : operands) {
    names.push_back(o.name);
    if (constants && o.constant) {
      onnx::TensorProto* t = g.add_initializer();
      t->set_name(o.name);
      t->set_data_type(o.type);
      for (int64_t d : o.dims) t->add_dims(d);
      t->set_raw_data(std::string(reinterpret_cast<const char*>(o.bytes.data()), o.bytes.size()));
    } else {
      std::vector<test::DimSpec> dims(o.dims.begin(), o.dims.end());
      test::add_input(g, o.name, o.type, dims);
    }
  }
  onnx::NodeProto* n = test::add_node(g, op, names, {"y"}, "node");
  for (const auto& [attr, v] : ints) {
    if (v.size() == 1) test::set_int(n, attr, v[0]);
    else test::set_ints(n, attr, v);
  }
  test::add_output(g, "y");
  auto ir = test::import_proto(m, op + ".onnx");
  EXPECT_TRUE(ir) << ir.status().message();
  return ir ? std::move(ir).value() : ModelIR{};
}

std::vector<Tensor> run_node(const Graph& g, const std::vector<Operand>& operands) {
  cpu::CpuDevice cpu(1, "cpu");
  auto ex = GraphExecutor::compile(g, cpu);
  EXPECT_TRUE(ex) << ex.status().message();
  if (!ex) return {};
  std::vector<Tensor> feeds;
  for (ValueId v : g.inputs()) {
    const Value& val = g.value(v);
    for (const Operand& o : operands)
      if (o.name == val.name) {
        feeds.push_back(Tensor::empty(o.dtype, o.dims));
        std::memcpy(feeds.back().raw(), o.bytes.data(), o.bytes.size());
      }
  }
  auto out = (*ex)->run(pointers_to(feeds));
  EXPECT_TRUE(out) << out.status().message();
  return out ? std::move(out).value() : std::vector<Tensor>{};
}

// The node with its constant operands as initializers: the executor reads those the kernel packed no
// more, and the output is the one the same node computes with every operand fed at run time.
void expect_packed_and_unchanged(const std::string& op, const std::vector<Operand>& operands,
                                 const std::vector<std::pair<std::string, std::vector<int64_t>>>& ints = {}) {
  SCOPED_TRACE(op);
  const ModelIR with_constants = one_node(op, operands, true, ints);
  const ModelIR fed = one_node(op, operands, false, ints);
  ASSERT_TRUE(with_constants.graph && fed.graph);
  const Graph& g = *with_constants.graph;
  cpu::CpuDevice cpu(1, "cpu");
  auto ex = GraphExecutor::compile(g, cpu);
  ASSERT_TRUE(ex) << ex.status().message();
  int packed = 0;
  for (const Operand& o : operands) {
    if (!o.constant) continue;
    ValueId v = 0;
    while (g.value(v).name != o.name) ++v;
    ASSERT_EQ(g.value(v).kind, ValueKind::kInitializer) << o.name;
    packed += !o.read;
    EXPECT_EQ((*ex)->reads_constant(v), o.read) << o.name;
  }
  EXPECT_GT(packed, 0);
  const std::vector<Tensor> got = run_node(g, operands), want = run_node(*fed.graph, operands);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(want.size(), 1u);
  EXPECT_EQ(test::bitwise_difference(got[0], want[0], "y"), "");
}

TEST(ConstantsAtRun, MatMulIntegerNoLongerReadsBOrItsZeroPoint) {
  expect_packed_and_unchanged("MatMulInteger", {operand("a", DType::kUInt8, {3, 5}, 1, false),
                                                operand("b", DType::kUInt8, {5, 4}, 2, true),
                                                operand("a_zp", DType::kUInt8, {}, 3, false),
                                                operand("b_zp", DType::kUInt8, {}, 4, true)});
}

TEST(ConstantsAtRun, QLinearMatMulNoLongerReadsB) {
  expect_packed_and_unchanged(
      "QLinearMatMul",
      {operand("a", DType::kInt8, {2, 6}, 1, false), operand("a_scale", DType::kFloat32, {}, 2, false),
       operand("a_zp", DType::kInt8, {}, 3, false), operand("b", DType::kInt8, {6, 3}, 4, true),
       operand("b_scale", DType::kFloat32, {}, 5, true, true), operand("b_zp", DType::kInt8, {}, 6, true, true),
       operand("y_scale", DType::kFloat32, {}, 7, false), operand("y_zp", DType::kInt8, {}, 8, false)});
}

TEST(ConstantsAtRun, ConvIntegerNoLongerReadsW) {
  expect_packed_and_unchanged("ConvInteger", {operand("x", DType::kUInt8, {1, 2, 5, 5}, 1, false),
                                              operand("w", DType::kUInt8, {3, 2, 3, 3}, 2, true)});
}

TEST(ConstantsAtRun, QLinearConvNoLongerReadsW) {
  expect_packed_and_unchanged(
      "QLinearConv",
      {operand("x", DType::kUInt8, {1, 2, 4, 4}, 1, false), operand("x_scale", DType::kFloat32, {}, 2, false),
       operand("x_zp", DType::kUInt8, {}, 3, false), operand("w", DType::kUInt8, {2, 2, 3, 3}, 4, true),
       operand("w_scale", DType::kFloat32, {}, 5, true, true), operand("w_zp", DType::kUInt8, {}, 6, true, true),
       operand("y_scale", DType::kFloat32, {}, 7, false), operand("y_zp", DType::kUInt8, {}, 8, false)});
}

// A float16 Conv runs as its float32 twin (runtime_cpu/float32_twin.h), which widened W once.
TEST(ConstantsAtRun, AFloat16ConvNoLongerReadsItsWidenedW) {
  expect_packed_and_unchanged("Conv", {operand("x", DType::kFloat16, {1, 2, 5, 5}, 1, false),
                                       operand("w", DType::kFloat16, {3, 2, 3, 3}, 2, true)});
}

TEST(ConstantsAtRun, AnLstmNoLongerReadsWRAndB) {
  constexpr int64_t kHidden = 3;
  expect_packed_and_unchanged("LSTM", {operand("x", DType::kFloat32, {4, 2, 5}, 1, false),
                                       operand("w", DType::kFloat32, {1, 4 * kHidden, 5}, 2, true),
                                       operand("r", DType::kFloat32, {1, 4 * kHidden, kHidden}, 3, true),
                                       operand("b", DType::kFloat32, {1, 8 * kHidden}, 4, true)},
                              {{"hidden_size", {kHidden}}});
}

// What is still read: a float32 Conv's W (read in place), an initializer the graph returns, and one a
// nested body reads.
TEST(ConstantsAtRun, ConstantsReadInPlaceReturnedOrReadByABodyStay) {
  onnx::ModelProto m = test::make_model(17);
  auto& g = *m.mutable_graph();
  test::add_input(g, "x", onnx::TensorProto::FLOAT, {1, 1, 4, 4});
  test::add_input(g, "cond", onnx::TensorProto::BOOL, {});
  test::add_float_initializer(g, "w", {1, 1, 3, 3}, test::random_floats(9, 1));
  test::add_float_initializer(g, "returned", {2}, {1, 2});
  test::add_float_initializer(g, "in_body", {2}, {3, 4});
  test::add_node(g, "Conv", {"x", "w"}, {"y"}, "conv");
  onnx::NodeProto* branch = test::add_node(g, "If", {"cond"}, {"z"}, "if");
  for (const char* name : {"then_branch", "else_branch"}) {
    onnx::GraphProto* body = test::set_graph(branch, name);
    body->set_name(name);
    test::add_node(*body, "Identity", {"in_body"}, {"out"});
    test::add_output(*body, "out", onnx::TensorProto::FLOAT);
  }
  test::add_output(g, "y");
  test::add_output(g, "z");
  test::add_output(g, "returned");
  auto ir = test::import_proto(m, "stays.onnx");
  ASSERT_TRUE(ir) << ir.status().message();
  cpu::CpuDevice cpu(1, "cpu");
  auto ex = GraphExecutor::compile(*ir->graph, cpu);
  ASSERT_TRUE(ex) << ex.status().message();
  for (std::size_t v = 0; v < ir->graph->num_values(); ++v) {
    const Value& val = ir->graph->values()[v];
    if (val.kind == ValueKind::kInitializer) {
      EXPECT_TRUE((*ex)->reads_constant(static_cast<ValueId>(v))) << val.name;
    }
  }
}

}  // namespace
}  // namespace tandem
