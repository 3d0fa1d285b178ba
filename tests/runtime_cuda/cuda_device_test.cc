// CudaDevice behind the Device interface. Without a GPU (everywhere, CI included): the device is made and
// answers supports() with reasons naming the op, the input or the type. With a GPU: single nodes on
// random data of several shapes match the CPU device, and PyTorch models run on a plan across the CPU and
// the GPU match the CPU-only run within 1e-4. The GPU tests skip, saying why, when no GPU is present.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <tandem/tandem.h>

#include "graph/graph_edit.h"
#include "graph/rnn_time_split.h"
#include "graph/topo_order.h"
#include "profiler/device_link.h"
#include "runtime/executor.h"
#include "runtime/placement.h"
#include "runtime/plan_executor.h"
#include "runtime_cpu/cpu_device.h"
#include "runtime_cuda/cublas_context.h"
#include "runtime_cuda/cuda_device.h"
#include "runtime_cuda/cuda_probe.h"
#include "runtime_cuda/cuda_thread_state.h"
#include "session/model_impl.h"
#include "session/tensor_io.h"
#include "tests/support/model_builder.h"
#include "tests/support/model_case.h"
#include "tests/support/op_runner.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;
using Shape = std::vector<int64_t>;
using test::add_float_initializer;
using test::add_input;
using test::add_int64_initializer;
using test::add_node;
using test::add_output;
using test::make_model;

constexpr int32_t kFloat = onnx::TensorProto::FLOAT;
constexpr int32_t kInt64 = onnx::TensorProto::INT64;

std::vector<test::DimSpec> dims_of(const Shape& s) { return std::vector<test::DimSpec>(s.begin(), s.end()); }

ModelIR import(const onnx::ModelProto& m) {
  auto ir = test::import_proto(m);
  if (!ir) throw std::runtime_error(ir.status().message());
  return std::move(ir).value();
}

NodeId node_named(const Graph& g, const std::string& name) {
  for (std::size_t i = 0; i < g.num_nodes(); ++i)
    if (g.node(static_cast<NodeId>(i)).name == name) return static_cast<NodeId>(i);
  throw std::runtime_error("no node " + name);
}

// ---- supports(): no GPU needed ----------------------------------------------------------------------

TEST(CudaDeviceNoGpu, ConstructsAndNamesItself) {
  cuda::CudaDevice dev;
  EXPECT_EQ(dev.name(), "cuda:0");
  EXPECT_EQ(dev.kind(), DeviceKind::kCuda);
  EXPECT_NE(dev.output_allocator(), nullptr);
  const cuda::PoolStats s = dev.memory();
  EXPECT_EQ(s.in_use.current, 0u);
  EXPECT_EQ(s.of(cuda::MemoryCategory::kWeights).peak, 0u);
}

TEST(CudaDeviceNoGpu, SupportsSaysWhyNot) {
  onnx::ModelProto m = make_model(17);
  auto& g = *m.mutable_graph();
  add_input(g, "x", kFloat, {2, 3});
  add_input(g, "i", kInt64, {2, 3});
  add_float_initializer(g, "w", {3, 4}, std::vector<float>(12, 0.5f));
  add_int64_initializer(g, "shape", {2}, {3, 2});
  add_node(g, "MatMul", {"x", "w"}, {"mm"}, "matmul");
  add_node(g, "Shape", {"x"}, {"sh"}, "shape_op");
  add_node(g, "Reshape", {"x", "sh"}, {"r1"}, "reshape_computed");
  add_node(g, "Reshape", {"x", "shape"}, {"r2"}, "reshape_const");
  add_node(g, "Max", {"x", "x", "x"}, {"mx"}, "max3");
  add_node(g, "Sigmoid", {"x"}, {"sg"}, "sigmoid");
  add_node(g, "Add", {"i", "i"}, {"ai"}, "add_int");
  add_node(g, "Relu", {"i"}, {"ri"}, "relu_int");
  add_node(g, "Gather", {"x", "i"}, {"ga"}, "gather");
  for (const char* out : {"mm", "r1", "r2", "mx", "sg", "ai", "ri", "ga"}) add_output(g, out);
  const ModelIR ir = import(m);
  const Graph& graph = *ir.graph;
  cuda::CudaDevice dev;
  auto sup = [&](const char* name) { return dev.supports(graph, node_named(graph, name)); };

  EXPECT_TRUE(sup("matmul").ok) << sup("matmul").reason;
  EXPECT_TRUE(sup("reshape_const").ok) << sup("reshape_const").reason;
  EXPECT_TRUE(sup("sigmoid").ok);
  EXPECT_TRUE(sup("add_int").ok) << sup("add_int").reason;
  EXPECT_TRUE(sup("gather").ok) << sup("gather").reason;

  EXPECT_FALSE(sup("shape_op").ok);
  EXPECT_EQ(sup("shape_op").reason, "no CUDA kernel for op 'Shape'");
  EXPECT_FALSE(sup("reshape_computed").ok);
  EXPECT_NE(sup("reshape_computed").reason.find("input 1 ('sh')"), std::string::npos) << sup("reshape_computed").reason;
  EXPECT_NE(sup("reshape_computed").reason.find("must be a constant"), std::string::npos);
  EXPECT_FALSE(sup("max3").ok);
  EXPECT_NE(sup("max3").reason.find("Max with 3 inputs"), std::string::npos) << sup("max3").reason;
  EXPECT_FALSE(sup("relu_int").ok);
  EXPECT_NE(sup("relu_int").reason.find("takes float32, not int64"), std::string::npos) << sup("relu_int").reason;
}

// ONNX's Pow takes an exponent of another type (T1); the GPU kernel one type for both, so such a node must
// stay on the CPU rather than be placed on the GPU and fail there ("inputs differ in type").
TEST(CudaDeviceNoGpu, PowWithAnExponentOfAnotherTypeStaysOnTheCpu) {
  onnx::ModelProto m = make_model(15);
  auto& g = *m.mutable_graph();
  add_input(g, "x", kFloat, {3});
  add_input(g, "e", kInt64, {3});
  add_input(g, "f", kFloat, {3});
  add_int64_initializer(g, "ec", {3}, {1, 2, 3});
  add_node(g, "Pow", {"x", "e"}, {"p1"}, "pow_int_input");
  add_node(g, "Pow", {"x", "ec"}, {"p2"}, "pow_int_const");
  add_node(g, "Pow", {"x", "f"}, {"p3"}, "pow_float");
  for (const char* out : {"p1", "p2", "p3"}) add_output(g, out);
  const ModelIR ir = import(m);
  const Graph& graph = *ir.graph;
  cuda::CudaDevice dev;
  cpu::CpuDevice cpu;
  auto sup = [&](const char* name) { return dev.supports(graph, node_named(graph, name)); };
  EXPECT_TRUE(sup("pow_float").ok) << sup("pow_float").reason;
  for (const char* name : {"pow_int_input", "pow_int_const"}) {
    EXPECT_FALSE(sup(name).ok) << name;
    EXPECT_NE(sup(name).reason.find("float32 exponent, not int64"), std::string::npos) << sup(name).reason;
    EXPECT_TRUE(cpu.supports(graph, node_named(graph, name)).ok) << name;
  }
}

TEST(CudaDeviceNoGpu, SupportsTheRecurrentModelsRecurrentNodes) {
  const Model model = Model::load(test::source_path("tests/data/pytorch/lstm_opset17/model.onnx"));
  const Graph& g = *model.impl().ir.graph;
  cuda::CudaDevice dev;
  int rnn_nodes = 0;
  for (std::size_t i = 0; i < g.num_nodes(); ++i) {
    const Node& n = g.node(static_cast<NodeId>(i));
    if (n.op_type != "LSTM") continue;
    ++rnn_nodes;
    const Support s = dev.supports(g, static_cast<NodeId>(i));
    EXPECT_TRUE(s.ok) << n.name << ": " << s.reason;
  }
  EXPECT_GT(rnn_nodes, 0);
}

// The GPU's RNN is float32 only: float64 and float16 nodes are refused, naming the type and the input, so
// plans keep them on the CPU (which runs them); the reason holds when only a weight's type is known.
TEST(CudaDeviceNoGpu, RefusesRecurrentNodesNotInFloat32) {
  const Model model = Model::load(test::source_path("tests/data/pytorch/rnn_family_double/model.onnx"));
  const Graph& g = *model.impl().ir.graph;
  cuda::CudaDevice dev;
  const cpu::CpuDevice cpu;
  int rnn_nodes = 0;
  for (std::size_t i = 0; i < g.num_nodes(); ++i) {
    const Node& n = g.node(static_cast<NodeId>(i));
    if (n.op_type != "LSTM" && n.op_type != "GRU" && n.op_type != "RNN") continue;
    ++rnn_nodes;
    const Support s = dev.supports(g, static_cast<NodeId>(i));
    EXPECT_FALSE(s.ok) << n.name;
    EXPECT_NE(s.reason.find(n.op_type + " on the GPU takes float32, not float64 (input 0 '"), std::string::npos)
        << s.reason;
    EXPECT_TRUE(cpu.supports(g, static_cast<NodeId>(i)).ok) << n.name;
  }
  EXPECT_EQ(rnn_nodes, 3);

  onnx::ModelProto m = make_model(14);
  auto& mg = *m.mutable_graph();
  add_input(mg, "x", onnx::TensorProto::FLOAT16, {5, 2, 3});
  for (const auto& [name, dims] : {std::pair{"w", Shape{1, 16, 3}}, std::pair{"r", Shape{1, 16, 4}}}) {
    auto* t = mg.add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT16);
    for (int64_t d : dims) t->add_dims(d);
    t->set_raw_data(std::string(static_cast<std::size_t>(dims[1] * dims[2]) * 2, '\0'));
  }
  test::set_int(add_node(mg, "LSTM", {"x", "w", "r"}, {"y"}, "lstm"), "hidden_size", 4);
  add_output(mg, "y");
  ModelIR ir = import(m);
  Graph& hg = *ir.graph;
  hg.value(hg.node(0).inputs[0]).dtype = DType::kUndefined;  // only the weights say float16
  const Support s = dev.supports(hg, 0);
  EXPECT_FALSE(s.ok);
  EXPECT_EQ(s.reason, "LSTM on the GPU takes float32, not float16 (input 1 'w'); the CPU runs it");
  EXPECT_TRUE(cpu.supports(hg, 0).ok) << cpu.supports(hg, 0).reason;
}

// Sequences live on the host: Identity (which the GPU runs for tensors) of a sequence stays on the CPU, and
// so do the sequence ops; a tensor taken out of a sequence may go to the GPU.
TEST(CudaDeviceNoGpu, NodesTouchingSequencesStayOnTheHost) {
  onnx::ModelProto m = make_model(17);
  auto& g = *m.mutable_graph();
  add_input(g, "x", kFloat, {4, 3});
  add_node(g, "SplitToSequence", {"x"}, {"seq"}, "split");
  add_node(g, "Identity", {"seq"}, {"same"}, "identity_seq");
  add_int64_initializer(g, "zero", {}, {0});
  add_node(g, "SequenceAt", {"same", "zero"}, {"first"}, "at");
  add_node(g, "Identity", {"first"}, {"y"}, "identity_tensor");
  add_output(g, "y");
  const ModelIR ir = import(m);
  const Graph& graph = *ir.graph;
  cuda::CudaDevice dev;
  auto sup = [&](const char* name) { return dev.supports(graph, node_named(graph, name)); };
  for (const char* name : {"split", "identity_seq", "at"}) {
    EXPECT_FALSE(sup(name).ok) << name;
    EXPECT_NE(sup(name).reason.find("is a sequence, which lives on the host"), std::string::npos) << sup(name).reason;
  }
  EXPECT_TRUE(sup("identity_tensor").ok) << sup("identity_tensor").reason;
}

// Strings live on the host too: a Gather of strings (Gather runs on the GPU for numbers) and a Cast from
// strings stay on the CPU; what follows on numbers may go.
TEST(CudaDeviceNoGpu, NodesTouchingStringsStayOnTheHost) {
  onnx::ModelProto m = make_model(17);
  auto& g = *m.mutable_graph();
  add_input(g, "words", onnx::TensorProto::STRING, {4});
  add_int64_initializer(g, "picks", {2}, {0, 3});
  add_node(g, "Gather", {"words", "picks"}, {"picked"}, "gather");
  onnx::NodeProto* read = add_node(g, "Cast", {"picked"}, {"numbers"}, "read");
  test::set_int(read, "to", kFloat);
  add_node(g, "Relu", {"numbers"}, {"y"}, "relu");
  add_output(g, "y");
  const ModelIR ir = import(m);
  const Graph& graph = *ir.graph;
  cuda::CudaDevice dev;
  auto sup = [&](const char* name) { return dev.supports(graph, node_named(graph, name)); };
  EXPECT_EQ(sup("gather").reason, "'words' is a string tensor, which lives on the host");
  EXPECT_EQ(sup("read").reason, "'picked' is a string tensor, which lives on the host");
  EXPECT_FALSE(sup("gather").ok || sup("read").ok);
  EXPECT_TRUE(sup("relu").ok) << sup("relu").reason;
}

// ---- on a GPU ------------------------------------------------------------------------------------------

class CudaDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const cuda::CudaProbe probe = cuda::probe_cuda();
    if (probe.gpus.empty()) GTEST_SKIP() << "no CUDA GPU: " << probe.reason;
  }
};

Tensor random_tensor(const Shape& shape, uint32_t seed) {
  Tensor t = Tensor::empty(DType::kFloat32, shape);
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(gen);
  return t;
}

void expect_close(const Tensor& got, const Tensor& want, const std::string& what, double tol = 1e-4) {
  ASSERT_EQ(got.device(), DeviceKind::kCpu) << what;
  ASSERT_EQ(got.dtype(), want.dtype()) << what;
  ASSERT_EQ(got.shape(), want.shape()) << what << ": " << got.describe() << " vs " << want.describe();
  int bad = 0;
  for (int64_t i = 0; i < want.numel() && bad < 5; ++i) {
    const double g = element_as_double(got, i), w = element_as_double(want, i);
    if (!(std::abs(g - w) <= tol * (1.0 + std::abs(w)))) {
      ADD_FAILURE() << what << ": element " << i << ": GPU " << g << ", CPU " << w;
      ++bad;
    }
  }
}

// Runs `m` on the CPU device and, with every node on the GPU, on the CudaDevice; compares every output.
void compare_one_node(const onnx::ModelProto& m, const std::vector<Tensor>& inputs, const std::string& what) {
  SCOPED_TRACE(what);
  const ModelIR ir = import(m);
  const Graph& g = *ir.graph;
  cpu::CpuDevice cpu;
  cuda::CudaDevice gpu;
  std::vector<const Tensor*> feeds;
  for (const Tensor& t : inputs) feeds.push_back(&t);

  auto cpu_ex = GraphExecutor::compile(g, cpu);
  ASSERT_TRUE(cpu_ex) << cpu_ex.status().message();
  auto want = (*cpu_ex)->run(feeds);
  ASSERT_TRUE(want) << want.status().message();

  auto placement = single_device_placement(g);
  ASSERT_TRUE(placement) << placement.status().message();
  {
    auto gpu_ex = PlanExecutor::compile(g, {&gpu}, *placement);
    ASSERT_TRUE(gpu_ex) << gpu_ex.status().message();
    for (int rep = 0; rep < 2; ++rep) {  // the second run reuses cached blocks and workspaces
      auto got = (*gpu_ex)->run(feeds);
      ASSERT_TRUE(got) << got.status().message();
      ASSERT_EQ(got->size(), want->size());
      for (std::size_t k = 0; k < want->size(); ++k) expect_close((*got)[k], (*want)[k], "output " + std::to_string(k));
    }
  }
  Status settled = gpu.release_pending();
  EXPECT_TRUE(settled) << settled.message();
  const cuda::PoolStats s = gpu.memory();
  EXPECT_EQ(s.of(cuda::MemoryCategory::kActivations).current, 0u) << "activations left after the runs";
}

onnx::ModelProto unary_model(const std::string& op, const Shape& shape) {
  onnx::ModelProto m = make_model(17);
  auto& g = *m.mutable_graph();
  add_input(g, "x", kFloat, dims_of(shape));
  add_node(g, op, {"x"}, {"y"}, "n");
  add_output(g, "y");
  return m;
}

TEST_F(CudaDeviceTest, ElementwiseMatchesCpu) {
  uint32_t seed = 1;
  for (const Shape& s : {Shape{7}, Shape{3, 5}, Shape{2, 3, 4, 5}}) {
    for (const char* op : {"Relu", "Sigmoid", "Tanh", "Neg", "Abs", "Exp", "Erf"})
      compare_one_node(unary_model(op, s), {random_tensor(s, seed++)}, std::string(op) + " " + shape_string(s));
    for (const char* op : {"Add", "Sub", "Mul", "Max", "Min"}) {
      const Shape b = {s.back()};  // broadcast along the last axis
      onnx::ModelProto m = make_model(17);
      auto& g = *m.mutable_graph();
      add_input(g, "a", kFloat, dims_of(s));
      add_input(g, "b", kFloat, dims_of(b));
      add_node(g, op, {"a", "b"}, {"y"}, "n");
      add_output(g, "y");
      compare_one_node(m, {random_tensor(s, seed++), random_tensor(b, seed++)}, std::string(op) + " " + shape_string(s));
    }
  }
}

// An RNN of one direction whose `activations` lists two functions (the schema's default does): the first
// applies, on the GPU as on the CPU; the GPU kernel used to refuse it at creation, after the plan placed it.
TEST_F(CudaDeviceTest, OneDirectionRnnWithTwoActivationsTakesTheFirst) {
  const int64_t seq = 5, batch = 2, input = 3, hidden = 4;
  onnx::ModelProto m = make_model(14);
  auto& g = *m.mutable_graph();
  add_input(g, "x", kFloat, {seq, batch, input});
  add_float_initializer(g, "w", {1, hidden, input}, test::random_floats(hidden * input, 7, -0.5f, 0.5f));
  add_float_initializer(g, "r", {1, hidden, hidden}, test::random_floats(hidden * hidden, 8, -0.5f, 0.5f));
  add_float_initializer(g, "b", {1, 2 * hidden}, test::random_floats(2 * hidden, 9, -0.5f, 0.5f));
  onnx::NodeProto* n = add_node(g, "RNN", {"x", "w", "r", "b"}, {"y", "y_h"}, "rnn");
  test::set_int(n, "hidden_size", hidden);
  auto* acts = n->add_attribute();
  acts->set_name("activations");
  acts->set_type(onnx::AttributeProto::STRINGS);
  acts->add_strings("Relu");  // not the default Tanh, so taking the second one would show
  acts->add_strings("Tanh");
  add_output(g, "y");
  add_output(g, "y_h");
  compare_one_node(m, {random_tensor({seq, batch, input}, 10)}, "RNN forward, activations [Relu, Tanh]");
}

TEST_F(CudaDeviceTest, MatMulAndGemmMatchCpu) {
  uint32_t seed = 100;
  for (const auto& [a, b] : std::vector<std::pair<Shape, Shape>>{{{4, 8}, {8, 5}}, {{3, 4, 8}, {8, 6}}, {{2, 3, 5, 7}, {2, 3, 7, 4}}}) {
    onnx::ModelProto m = make_model(17);
    auto& g = *m.mutable_graph();
    add_input(g, "a", kFloat, dims_of(a));
    add_input(g, "b", kFloat, dims_of(b));
    add_node(g, "MatMul", {"a", "b"}, {"y"}, "n");
    add_output(g, "y");
    compare_one_node(m, {random_tensor(a, seed++), random_tensor(b, seed++)}, "MatMul " + shape_string(a) + shape_string(b));
  }
  for (int64_t trans_b : {0, 1}) {
    onnx::ModelProto m = make_model(17);
    auto& g = *m.mutable_graph();
    add_input(g, "a", kFloat, {6, 9});
    const Shape ws = trans_b ? Shape{5, 9} : Shape{9, 5};
    const Tensor w = random_tensor(ws, seed++), c = random_tensor({5}, seed++);
    add_float_initializer(g, "w", ws, std::vector<float>(w.data<float>(), w.data<float>() + w.numel()));
    add_float_initializer(g, "c", {5}, std::vector<float>(c.data<float>(), c.data<float>() + 5));
    auto* n = add_node(g, "Gemm", {"a", "w", "c"}, {"y"}, "n");
    test::set_int(n, "transB", trans_b);
    test::set_float(n, "alpha", 0.5f);
    add_output(g, "y");
    compare_one_node(m, {random_tensor({6, 9}, seed++)}, "Gemm transB=" + std::to_string(trans_b));
  }
}

TEST_F(CudaDeviceTest, NormalizationAndReductionsMatchCpu) {
  uint32_t seed = 200;
  for (const Shape& s : {Shape{4, 10}, Shape{2, 3, 17}}) {
    for (const char* op : {"Softmax", "LogSoftmax"}) compare_one_node(unary_model(op, s), {random_tensor(s, seed++)}, op);
    {
      onnx::ModelProto m = make_model(17);
      auto& g = *m.mutable_graph();
      add_input(g, "x", kFloat, dims_of(s));
      const Tensor sc = random_tensor({s.back()}, seed++), bi = random_tensor({s.back()}, seed++);
      add_float_initializer(g, "scale", {s.back()}, std::vector<float>(sc.data<float>(), sc.data<float>() + sc.numel()));
      add_float_initializer(g, "bias", {s.back()}, std::vector<float>(bi.data<float>(), bi.data<float>() + bi.numel()));
      add_node(g, "LayerNormalization", {"x", "scale", "bias"}, {"y"}, "n");
      add_output(g, "y");
      compare_one_node(m, {random_tensor(s, seed++)}, "LayerNormalization " + shape_string(s));
    }
    for (const char* op : {"ReduceMean", "ReduceMax", "ReduceL2"}) {
      onnx::ModelProto m = make_model(17);
      auto& g = *m.mutable_graph();
      add_input(g, "x", kFloat, dims_of(s));
      auto* n = add_node(g, op, {"x"}, {"y"}, "n");
      test::set_ints(n, "axes", {-1});
      add_output(g, "y");
      compare_one_node(m, {random_tensor(s, seed++)}, std::string(op) + " " + shape_string(s));
    }
  }
}

TEST_F(CudaDeviceTest, LayoutAndViewOpsMatchCpu) {
  uint32_t seed = 300;
  const Shape s = {2, 3, 4};
  {
    onnx::ModelProto m = unary_model("Transpose", s);
    test::set_ints(m.mutable_graph()->mutable_node(0), "perm", {2, 0, 1});
    compare_one_node(m, {random_tensor(s, seed++)}, "Transpose");
  }
  {
    onnx::ModelProto m = make_model(17);
    auto& g = *m.mutable_graph();
    add_input(g, "x", kFloat, dims_of(s));
    add_int64_initializer(g, "starts", {2}, {1, -1});
    add_int64_initializer(g, "ends", {2}, {3, -5});
    add_int64_initializer(g, "axes", {2}, {1, 2});
    add_int64_initializer(g, "steps", {2}, {1, -2});
    add_node(g, "Slice", {"x", "starts", "ends", "axes", "steps"}, {"y"}, "n");
    add_output(g, "y");
    compare_one_node(m, {random_tensor(s, seed++)}, "Slice");
  }
  {
    onnx::ModelProto m = make_model(17);
    auto& g = *m.mutable_graph();
    add_input(g, "a", kFloat, dims_of(s));
    add_input(g, "b", kFloat, {2, 5, 4});
    auto* n = add_node(g, "Concat", {"a", "b"}, {"c"}, "concat");
    test::set_int(n, "axis", 1);
    add_int64_initializer(g, "split", {3}, {2, 4, 2});
    auto* sp = add_node(g, "Split", {"c", "split"}, {"p", "q", "r"}, "split");
    test::set_int(sp, "axis", 1);
    for (const char* o : {"p", "q", "r"}) add_output(g, o);
    compare_one_node(m, {random_tensor(s, seed++), random_tensor({2, 5, 4}, seed++)}, "Concat+Split");
  }
  {
    onnx::ModelProto m = make_model(17);
    auto& g = *m.mutable_graph();
    add_input(g, "x", kFloat, dims_of(s));
    add_int64_initializer(g, "idx", {2, 2}, {2, 0, -1, 1});
    auto* n = add_node(g, "Gather", {"x", "idx"}, {"y"}, "gather");
    test::set_int(n, "axis", 1);
    add_int64_initializer(g, "shape", {2}, {4, -1});
    add_node(g, "Reshape", {"y", "shape"}, {"z"}, "reshape");
    add_int64_initializer(g, "eshape", {3}, {3, 1, 1});
    add_node(g, "Expand", {"z", "eshape"}, {"e"}, "expand");
    add_int64_initializer(g, "uaxes", {1}, {0});
    add_node(g, "Unsqueeze", {"e", "uaxes"}, {"u"}, "unsqueeze");
    add_node(g, "Flatten", {"u"}, {"f"}, "flatten");
    add_output(g, "f");
    compare_one_node(m, {random_tensor(s, seed++)}, "Gather+Reshape+Expand+Unsqueeze+Flatten");
  }
}

// ---- PyTorch models on a plan across the CPU and the GPU ----------------------------------------------

using Case = test::ModelCase;
Case load_case(const std::string& dir) { return test::load_model_case(dir); }

class CudaPlanTest : public CudaDeviceTest, public ::testing::WithParamInterface<std::string> {};

// Every node the GPU supports on the GPU (device 1), the rest on the CPU (device 0), both in one
// topological order.
Placement supported_on_gpu(const Graph& g, const cuda::CudaDevice& gpu) {
  auto order = topological_order(g);
  if (!order) throw std::runtime_error(order.status().message());
  Placement p;
  p.device.assign(g.num_nodes(), 0);
  p.order.resize(2);
  for (NodeId id : *order) {
    const int d = gpu.supports(g, id).ok ? 1 : 0;
    p.device[static_cast<std::size_t>(id)] = d;
    p.order[static_cast<std::size_t>(d)].push_back(id);
  }
  return p;
}

TEST_P(CudaPlanTest, CpuPlusGpuMatchesCpuOnly) {
  const Case c = load_case(GetParam());
  const Graph& g = c.graph();
  cpu::CpuDevice cpu;
  cuda::CudaDevice gpu;
  std::vector<const Tensor*> feeds;
  for (const Tensor& t : c.inputs) feeds.push_back(t.defined() ? &t : nullptr);

  auto cpu_ex = GraphExecutor::compile(g, cpu);
  ASSERT_TRUE(cpu_ex) << cpu_ex.status().message();
  auto want = (*cpu_ex)->run(feeds);
  ASSERT_TRUE(want) << want.status().message();

  const Placement p = supported_on_gpu(g, gpu);
  const auto on_gpu = std::count(p.device.begin(), p.device.end(), 1);
  EXPECT_GT(on_gpu, 0) << "no node of " << GetParam() << " runs on the GPU";
  auto ex = PlanExecutor::compile(g, {&cpu, &gpu}, p);
  ASSERT_TRUE(ex) << ex.status().message();
  for (int rep = 0; rep < 2; ++rep) {
    PlanRunStats stats;
    PlanRunOptions opts;
    opts.stats = &stats;
    auto got = (*ex)->run(feeds, opts);
    ASSERT_TRUE(got) << got.status().message();
    ASSERT_EQ(got->size(), want->size());
    for (std::size_t k = 0; k < want->size(); ++k) expect_close((*got)[k], (*want)[k], "output " + std::to_string(k));
    EXPECT_GT(stats.devices[1].nodes, 0);
  }
  const cuda::PoolStats s = gpu.memory();
  EXPECT_GT(s.of(cuda::MemoryCategory::kWeights).current, 0u);
  EXPECT_GT(s.of(cuda::MemoryCategory::kActivations).peak, 0u);
}

TEST_F(CudaDeviceTest, AThreadsKernelsShareOneCublasWorkspaceAndRnnWorkspacesGoWithTheirKernels) {
  // Two bidirectional LSTM layers, each with its own held workspace, project through cuBLAS on the GPU's
  // worker thread: one 32 MiB cuBLAS workspace for both (not one each). When the executor goes, its worker
  // releases its thread state and the kernels their RNN workspaces: no workspace is left.
  const Case c = load_case("tests/data/pytorch/lstm_2layer_bidir");
  const Graph& g = c.graph();
  cpu::CpuDevice cpu;
  cuda::CudaDevice gpu;
  std::vector<const Tensor*> feeds;
  for (const Tensor& t : c.inputs) feeds.push_back(t.defined() ? &t : nullptr);
  const Placement p = supported_on_gpu(g, gpu);
  int rnns = 0;
  for (std::size_t id = 0; id < g.num_nodes(); ++id)
    rnns += p.device[id] == 1 && g.node(static_cast<NodeId>(id)).op_type == "LSTM";
  ASSERT_EQ(rnns, 2);
  {
    auto ex = PlanExecutor::compile(g, {&cpu, &gpu}, p);
    ASSERT_TRUE(ex) << ex.status().message();
    for (int rep = 0; rep < 2; ++rep) {
      auto got = (*ex)->run(feeds);
      ASSERT_TRUE(got) << got.status().message();
    }
    ASSERT_TRUE(gpu.release_pending());
    const std::size_t workspace = gpu.memory().of(cuda::MemoryCategory::kWorkspace).current;
    EXPECT_GT(workspace, cuda::CublasContext::kWorkspaceBytes) << "the RNNs' own buffers are held too";
    EXPECT_LT(workspace, 2 * cuda::CublasContext::kWorkspaceBytes) << "one cuBLAS workspace per RNN";
  }
  ASSERT_TRUE(gpu.release_pending());
  EXPECT_EQ(gpu.memory().of(cuda::MemoryCategory::kWorkspace).current, 0u);
}

// A GPU tensor released while its stream still has work queued (which may read it) goes back to the
// caching pool only once the stream has passed the release: another thread allocating meanwhile must get
// other memory, not the block a kernel could still be reading. The stream is held by a host function; while
// it is held nothing here calls what might wait for the whole device (cudaMalloc, cudaFreeHost, a thread
// state's creation or release): the other thread's state exists beforehand and the pool holds a larger
// cached block for it, so the held block, were it handed out, would be the best fit.
TEST_F(CudaDeviceTest, ABlockReleasedBehindQueuedWorkIsNotHandedOutBeforeItsStreamPasses) {
  cuda::CudaDevice gpu;
  std::atomic<bool> go{false};
  std::atomic<int> phase{0};  // 1: the other thread is ready; 2: it may allocate; 3: it has
  auto wait_for = [&](int p) {
    while (phase.load() < p && !(p < 3 && go.load())) std::this_thread::yield();
  };
  constexpr int64_t kFloats = int64_t{1} << 20;
  void* second = nullptr;
  std::string error;
  std::thread other([&] {
    if (auto made = gpu.thread_state(); !made) error = made.status().message();
    phase = 1;
    wait_for(2);
    if (!go.load()) {
      auto t = gpu.allocate(DType::kFloat32, {kFloats}, cuda::MemoryCategory::kActivations);
      if (t) second = t->raw();
      else error = t.status().message();
    }
    phase = 3;
    while (!go.load()) std::this_thread::yield();  // its state goes (cudaFreeHost) once the stream runs again
    gpu.release_thread();
  });
  // Whatever fails below: first the held stream and the other thread go on (`release`, destroyed first),
  // then the thread is joined (else the device's destructor, or the join, would wait forever).
  struct Join {
    std::thread& t;
    ~Join() { t.join(); }
  } join{other};
  struct Release {
    std::atomic<bool>& go;
    ~Release() { go = true; }
  } release{go};
  wait_for(1);
  void* first = nullptr;
  {
    auto t = gpu.allocate(DType::kFloat32, {kFloats}, cuda::MemoryCategory::kActivations);
    ASSERT_TRUE(t) << t.status().message();
    first = t->raw();
    {  // A cached block 1.5 times as large: what the other thread gets when the held one is not offered.
      auto spare = gpu.allocate(DType::kFloat32, {kFloats * 3 / 2}, cuda::MemoryCategory::kActivations);
      ASSERT_TRUE(spare) << spare.status().message();
    }
    ASSERT_TRUE(gpu.release_pending());
    auto ts = gpu.thread_state();
    ASSERT_TRUE(ts) << ts.status().message();
    const cudaHostFn_t hold = [](void* flag) {
      while (!static_cast<std::atomic<bool>*>(flag)->load()) std::this_thread::yield();
    };
    ASSERT_EQ(cudaLaunchHostFunc((*ts)->compute.get(), hold, &go), cudaSuccess);
  }  // the tensor goes here, with the held host function still queued on its stream
  phase = 2;
  wait_for(3);
  ASSERT_TRUE(error.empty()) << error;
  EXPECT_NE(second, nullptr);
  EXPECT_NE(second, first) << "a block its stream may still read was handed to another thread";
  EXPECT_EQ(gpu.memory().of(cuda::MemoryCategory::kActivations).current, static_cast<std::size_t>(kFloats) * 4)
      << "the released block counts as in use until its stream passes the release";
  go = true;
  ASSERT_TRUE(gpu.release_pending());
  EXPECT_EQ(gpu.memory().of(cuda::MemoryCategory::kActivations).current, 0u);
}

TEST_F(CudaDeviceTest, TheTimeChunksOfALayerHoldItsWeightsOnceOnTheGpu) {
  // An LSTM and a GRU encoder split into 3 time chunks each, every chunk on the GPU: the chunks of a node
  // share one upload (the partitioner's weight group), so the GPU holds exactly the unsplit model's
  // weights, and the outputs are the CPU's.
  const Case c = test::load_model_case("tests/data/pytorch/two_encoders", /*fix_dims=*/true);
  std::vector<const Tensor*> feeds;
  for (const Tensor& t : c.inputs) feeds.push_back(t.defined() ? &t : nullptr);
  cpu::CpuDevice cpu;
  auto cpu_ex = GraphExecutor::compile(c.graph(), cpu);
  ASSERT_TRUE(cpu_ex) << cpu_ex.status().message();
  auto want = (*cpu_ex)->run(feeds);
  ASSERT_TRUE(want) << want.status().message();

  auto weights_held = [&](const Graph& g, int expected_rnns) -> std::size_t {
    cuda::CudaDevice gpu;
    const Placement p = supported_on_gpu(g, gpu);
    int rnns = 0;
    for (std::size_t id = 0; id < g.num_nodes(); ++id)
      rnns += p.device[id] == 1 && is_recurrent(g.node(static_cast<NodeId>(id)));
    EXPECT_EQ(rnns, expected_rnns);
    auto ex = PlanExecutor::compile(g, {&cpu, &gpu}, p);
    EXPECT_TRUE(ex) << ex.status().message();
    if (!ex) return 0;
    auto got = (*ex)->run(feeds);
    EXPECT_TRUE(got) << got.status().message();
    if (got)
      for (std::size_t k = 0; k < want->size(); ++k) expect_close((*got)[k], (*want)[k], "output " + std::to_string(k));
    return gpu.memory().of(cuda::MemoryCategory::kWeights).current;
  };
  const std::size_t whole = weights_held(c.graph(), 2);
  Graph split = c.graph();
  ASSERT_EQ(split_rnns_in_time(split, 3).split.size(), 2u);
  const std::size_t chunked = weights_held(split, 6);
  EXPECT_GT(whole, 0u);
  EXPECT_EQ(chunked, whole);
}

TEST_F(CudaDeviceTest, LinkTimersCrossThroughTheRuntimesHandOverBothWays) {
  // What the profile's cpu->cuda and cuda->cpu fits are made of: the CudaDevice's receive (pinned staging,
  // its streams) and to_host, timed on the host.
  cuda::CudaDevice gpu;
  for (const profiler::CopyTimer& timer : {profiler::receive_timer(gpu), profiler::to_host_timer(gpu)}) {
    Result<double> small = timer(4096), big = timer(int64_t{64} << 20);
    ASSERT_TRUE(small) << small.status().message();
    ASSERT_TRUE(big) << big.status().message();
    EXPECT_GT(*small, 0.0);
    EXPECT_TRUE(std::isfinite(*big));
    EXPECT_GT(*big, *small) << "64 MiB cannot cross the link faster than 4 KiB";
  }
  ASSERT_TRUE(gpu.release_pending());
  EXPECT_EQ(gpu.memory().of(cuda::MemoryCategory::kActivations).current, 0u) << "the timers keep no device memory";
}

INSTANTIATE_TEST_SUITE_P(PyTorch, CudaPlanTest,
                         ::testing::Values("tests/data/pytorch/two_encoders", "tests/data/pytorch/lstm_opset17",
                                           "tests/data/pytorch/gru_batch_first",
                                           "tests/data/pytorch/lstm_2layer_bidir",
                                           "tests/data/pytorch/rnn_tanh_2layer"),
                         [](const ::testing::TestParamInfo<std::string>& i) {
                           return fs::path(i.param).filename().string();
                         });

}  // namespace
}  // namespace tandem
