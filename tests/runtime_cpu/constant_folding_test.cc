// Constant folding (runtime_cpu/constant_folding.h): what it computes at load, what it must leave to run
// time, and that a folded model's outputs are bit for bit the unfolded model's, on built models and on
// every real model the tests carry.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "onnx_import/onnx_import.h"
#include "runtime/executor.h"
#include "runtime_cpu/constant_folding.h"
#include "runtime_cpu/cpu_device.h"
#include "session/tensor_io.h"
#include "tests/support/model_builder.h"
#include "tests/support/op_runner.h"

namespace tandem {
namespace {

using namespace tandem::test;
using onnx::TensorProto;
namespace fs = std::filesystem;

Graph imported(const onnx::ModelProto& m) {
  Result<ModelIR> ir = import_proto(m);
  EXPECT_TRUE(ir.is_ok()) << ir.status().message();
  return ir.is_ok() ? *ir->graph : Graph{};
}

// Runs `g` on the CPU; `inputs` by input name, the others left to their defaults.
Result<std::vector<Tensor>> run_graph(const Graph& g, const std::map<std::string, Tensor>& inputs) {
  const cpu::CpuDevice cpu(1, "cpu");
  TANDEM_ASSIGN_OR_RETURN(std::shared_ptr<const GraphExecutor> exec, GraphExecutor::compile(g, cpu));
  std::vector<const Tensor*> feeds;
  for (ValueId v : g.inputs()) {
    auto it = inputs.find(g.value(v).name);
    feeds.push_back(it == inputs.end() ? nullptr : &it->second);
  }
  return exec->run(feeds);
}

void expect_bitwise_equal(const std::vector<Tensor>& a, const std::vector<Tensor>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].describe(), b[i].describe()) << what << " output " << i;
    if (a[i].dtype() == DType::kString) {
      for (int64_t k = 0; k < a[i].numel(); ++k)
        EXPECT_EQ(a[i].data<std::string>()[k], b[i].data<std::string>()[k]) << what << " output " << i;
    } else if (a[i].is_tensor()) {
      EXPECT_EQ(std::memcmp(a[i].raw(), b[i].raw(), a[i].nbytes()), 0) << what << " output " << i;
    }
  }
}

std::size_t count_ops(const Graph& g, const std::string& op) {
  std::size_t n = 0;
  for (const Node& node : g.nodes()) {
    n += node.op_type == op ? 1 : 0;
    for (const Graph* body : node.subgraphs()) n += count_ops(*body, op);
  }
  return n;
}

// An LSTM inside each branch of an If whose weights are Unsqueeze(a main-graph initializer), as PyTorch
// exports Silero VAD's decoder; the branches differ in direction.
onnx::ModelProto lstm_in_if_model() {
  auto m = make_model(17);
  auto& g = *m.mutable_graph();
  add_input(g, "cond", TensorProto::BOOL, {});
  add_input(g, "x", TensorProto::FLOAT, {int64_t{3}, int64_t{1}, int64_t{4}});
  add_float_initializer(g, "w2d", {8, 4}, random_floats(32, 1));
  add_float_initializer(g, "r2d", {8, 2}, random_floats(16, 2));
  add_float_initializer(g, "b1d", {16}, random_floats(16, 3));
  auto* n = add_node(g, "If", {"cond"}, {"h"}, "branch");
  for (const char* branch : {"then_branch", "else_branch"}) {
    const std::string p = branch[0] == 't' ? "t_" : "e_";
    auto* body = set_graph(n, branch);
    body->set_name(p + "body");
    auto* axes = add_node(*body, "Constant", {}, {p + "axes"});
    auto* value = axes->add_attribute();
    value->set_name("value");
    value->set_type(onnx::AttributeProto::TENSOR);
    value->mutable_t()->set_data_type(TensorProto::INT64);
    value->mutable_t()->add_dims(1);
    value->mutable_t()->add_int64_data(0);
    add_node(*body, "Unsqueeze", {"w2d", p + "axes"}, {p + "w"});
    add_node(*body, "Unsqueeze", {"r2d", p + "axes"}, {p + "r"});
    add_node(*body, "Unsqueeze", {"b1d", p + "axes"}, {p + "b"});
    auto* lstm = add_node(*body, "LSTM", {"x", p + "w", p + "r", p + "b"}, {"", p + "h"}, p + "lstm");
    set_int(lstm, "hidden_size", 2);
    if (p == "e_") set_string(lstm, "direction", "reverse");
    add_output(*body, p + "h", TensorProto::FLOAT);
  }
  add_output(g, "h", TensorProto::FLOAT);
  return m;
}

TEST(ConstantFolding, ComputesAnRnnsWeightsInsideBranchesOnceAndDropsWhatTheyWereMadeFrom) {
  const onnx::ModelProto m = lstm_in_if_model();
  const Graph original = imported(m);
  Graph g = imported(m);
  const cpu::ConstantFoldingReport report = cpu::fold_constants(g);
  EXPECT_EQ(report.nodes, 8u);  // per branch: the Constant and three Unsqueeze
  EXPECT_EQ(count_ops(g, "Unsqueeze"), 0u);
  EXPECT_EQ(count_ops(g, "Constant"), 0u);
  ASSERT_EQ(g.num_nodes(), 1u);
  const Node& branch = g.node(0);
  ASSERT_EQ(branch.implicit_inputs.size(), 1u) << "the branches read x alone from the main graph now";
  EXPECT_EQ(g.value(branch.implicit_inputs[0]).name, "x");
  for (const char* gone : {"w2d", "r2d", "b1d"}) EXPECT_EQ(g.find_value(gone), kNoValue) << gone;
  for (const Graph* body : branch.subgraphs()) {
    ASSERT_EQ(body->outer_refs().size(), 1u);
    EXPECT_EQ(body->value(body->outer_refs()[0]).name, "x");
    ASSERT_EQ(body->num_nodes(), 1u);
    const Node& lstm = body->node(0);
    for (std::size_t i = 1; i <= 3; ++i) {
      const Value& w = body->value(lstm.inputs[i]);
      EXPECT_EQ(w.kind, ValueKind::kInitializer) << w.name;
      ASSERT_TRUE(w.data);
      EXPECT_EQ(w.data->dims.front(), 1) << w.name << " was unsqueezed";
    }
  }
  const Tensor x = make_tensor<float>({3, 1, 4}, random_floats(12, 9));
  for (bool cond : {true, false}) {
    const std::map<std::string, Tensor> in = {{"cond", make_bool_tensor({}, {cond})}, {"x", x}};
    auto want = run_graph(original, in), got = run_graph(g, in);
    ASSERT_TRUE(want.is_ok()) << want.status().message();
    ASSERT_TRUE(got.is_ok()) << got.status().message();
    expect_bitwise_equal(*got, *want, cond ? "then" : "else");
  }
}

TEST(ConstantFolding, LeavesRandomOpsOutputsOverridableInputsAndLargeResultsToRunTime) {
  auto m = make_model(17);
  auto& g = *m.mutable_graph();
  add_input(g, "x", TensorProto::FLOAT, {int64_t{2}});
  add_input(g, "scale", TensorProto::FLOAT, {int64_t{2}});
  add_float_initializer(g, "scale", {2}, {3.0f, 4.0f});  // a default the caller may override
  add_float_initializer(g, "one", {1}, {1.0f});
  add_int64_initializer(g, "big", {1}, {300000});  // 1.2 MB of floats from 4 bytes: computed per run
  add_int64_initializer(g, "two", {1}, {2});
  auto* noise = add_node(g, "RandomNormal", {}, {"noise"}, "noise");
  set_ints(noise, "shape", {2});
  add_node(g, "Add", {"x", "noise"}, {"noisy"}, "add_noise");
  add_node(g, "Neg", {"scale"}, {"neg_scale"}, "neg_scale");
  add_node(g, "Expand", {"one", "big"}, {"ones"}, "expand_big");
  add_node(g, "ReduceSum", {"ones"}, {"total"}, "sum_big");
  add_node(g, "Expand", {"one", "two"}, {"pair"}, "expand_small");
  add_node(g, "Identity", {"pair"}, {"pair_out"}, "pair_out");
  add_node(g, "Mul", {"one", "one"}, {"one_out"}, "graph_output");
  for (const char* out : {"noisy", "neg_scale", "total", "pair_out", "one_out"})
    add_output(g, out, TensorProto::FLOAT);
  Graph graph = imported(m);
  EXPECT_EQ(cpu::fold_constants(graph).nodes, 1u) << "only expand_small";
  std::vector<std::string> left;
  for (const Node& n : graph.nodes()) left.push_back(n.name);
  EXPECT_EQ(left, (std::vector<std::string>{"noise", "add_noise", "neg_scale", "expand_big", "sum_big",
                                            "pair_out", "graph_output"}));
  const Value& pair = graph.value(graph.find_value("pair"));
  EXPECT_EQ(pair.kind, ValueKind::kInitializer);
  // The overridden default still reaches Neg; two runs draw different noise.
  auto a = run_graph(graph, {{"x", make_tensor<float>({2}, {0, 0})}, {"scale", make_tensor<float>({2}, {5, 6})}});
  auto b = run_graph(graph, {{"x", make_tensor<float>({2}, {0, 0})}});
  ASSERT_TRUE(a.is_ok()) << a.status().message();
  ASSERT_TRUE(b.is_ok()) << b.status().message();
  EXPECT_EQ((*a)[1].data<float>()[0], -5.0f);
  EXPECT_EQ((*b)[1].data<float>()[0], -3.0f);
  EXPECT_NE((*a)[0].data<float>()[0], (*b)[0].data<float>()[0]);
  EXPECT_EQ((*a)[2].data<float>()[0], 300000.0f);
  EXPECT_EQ((*a)[3].data<float>()[1], 1.0f);
}

// A node that fails on its constants is not folded: loading succeeds and the run fails as it always did,
// naming the node.
TEST(ConstantFolding, ANodeThatFailsIsLeftToFailAtRunTime) {
  auto m = make_model(17);
  auto& g = *m.mutable_graph();
  add_input(g, "x", TensorProto::FLOAT, {int64_t{1}});
  add_float_initializer(g, "data", {3}, {1, 2, 3});
  add_int64_initializer(g, "index", {1}, {7});
  add_node(g, "Gather", {"data", "index"}, {"picked"}, "out_of_range");
  add_node(g, "Add", {"x", "picked"}, {"y"}, "add");
  add_output(g, "y", TensorProto::FLOAT);
  Graph graph = imported(m);
  EXPECT_EQ(cpu::fold_constants(graph).nodes, 0u);
  auto r = run_graph(graph, {{"x", make_tensor<float>({1}, {1})}});
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("'out_of_range' (Gather)"), std::string::npos) << r.status().message();
}

// Every real model the tests carry, on its recorded inputs: folded and unfolded give the same bits.
TEST(ConstantFolding, RealModelsGiveTheSameBitsFolded) {
  std::vector<std::string> dirs = {"models/silero_vad/silero_vad_16k_op15", "models/silero_vad/silero_vad_op18_ifless",
                                   "tests/data/strings/text_features"};
  for (const auto& e : fs::directory_iterator(source_path("tests/data/pytorch")))
    if (fs::exists(e.path() / "model.onnx")) dirs.push_back("tests/data/pytorch/" + e.path().filename().string());
  std::size_t folded_somewhere = 0;
  for (const std::string& dir : dirs) {
    SCOPED_TRACE(dir);
    const std::string root = source_path(dir);
    Result<ModelIR> a = onnx_import::import_model(root + "/model.onnx", {});
    Result<ModelIR> b = onnx_import::import_model(root + "/model.onnx", {});
    ASSERT_TRUE(a.is_ok() && b.is_ok()) << (a.is_ok() ? b.status() : a.status()).message();
    const std::size_t folded = cpu::fold_constants(*b->graph).nodes;
    folded_somewhere += folded;
    std::map<std::string, Tensor> inputs;
    for (int i = 0; fs::exists(root + "/test_data_set_0/input_" + std::to_string(i) + ".pb"); ++i) {
      Result<NamedTensor> t = read_tensor_file(root + "/test_data_set_0/input_" + std::to_string(i) + ".pb");
      ASSERT_TRUE(t.is_ok()) << t.status().message();
      inputs[t->name] = t->tensor;
    }
    ASSERT_FALSE(inputs.empty());
    auto want = run_graph(*a->graph, inputs), got = run_graph(*b->graph, inputs);
    ASSERT_TRUE(want.is_ok()) << want.status().message();
    ASSERT_TRUE(got.is_ok()) << got.status().message();
    expect_bitwise_equal(*got, *want, dir + " (" + std::to_string(folded) + " nodes folded)");
  }
  EXPECT_GT(folded_somewhere, 100u) << "Silero VAD alone has 160 Constant nodes";
}

}  // namespace
}  // namespace tandem
