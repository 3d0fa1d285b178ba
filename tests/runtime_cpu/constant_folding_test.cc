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

// cond = Cast(flag, to=BOOL): folding makes it a constant, which then picks the branch.
void add_constant_condition(onnx::GraphProto& g, const std::string& name, const std::vector<int64_t>& dims,
                            const std::vector<int64_t>& flag) {
  add_int64_initializer(g, name + "_flag", dims, flag);
  set_int(add_node(g, "Cast", {name + "_flag"}, {name}, name + "_cast"), "to", TensorProto::BOOL);
}

// An If on a condition folding computes. Its then_branch holds an initializer, computes an output (written
// as the If's own), passes a main-graph input on (an Identity) and nests an If that reads a branch value by
// name; its else_branch passes a main-graph initializer on.
onnx::ModelProto constant_if_model(int64_t flag) {
  auto m = make_model(17);
  auto& g = *m.mutable_graph();
  add_input(g, "x", TensorProto::FLOAT, {int64_t{2}, int64_t{3}});
  add_float_initializer(g, "k", {3}, random_floats(3, 11));
  add_constant_condition(g, "cond", {}, {flag});
  auto* n = add_node(g, "If", {"cond"}, {"y", "z", "w"}, "pick");
  auto* then_b = set_graph(n, "then_branch");
  then_b->set_name("then");
  add_float_initializer(*then_b, "t_w", {3}, random_floats(3, 12));
  add_node(*then_b, "Mul", {"x", "t_w"}, {"t_y"}, "t_mul");
  add_node(*then_b, "Add", {"x", "k"}, {"t_sum"}, "t_add");
  auto* inner = add_node(*then_b, "If", {"cond"}, {"t_inner"}, "inner");
  auto* inner_then = set_graph(inner, "then_branch");
  inner_then->set_name("inner_then");
  add_node(*inner_then, "Neg", {"t_sum"}, {"i_neg"}, "i_neg");
  add_output(*inner_then, "i_neg", TensorProto::FLOAT);
  auto* inner_else = set_graph(inner, "else_branch");
  inner_else->set_name("inner_else");
  add_node(*inner_else, "Abs", {"t_sum"}, {"i_abs"}, "i_abs");
  add_output(*inner_else, "i_abs", TensorProto::FLOAT);
  for (const char* out : {"t_y", "x", "t_inner"}) add_output(*then_b, out, TensorProto::FLOAT);
  auto* else_b = set_graph(n, "else_branch");
  else_b->set_name("else");
  add_node(*else_b, "Sub", {"x", "k"}, {"e_y"}, "e_sub");
  add_node(*else_b, "Expand", {"k", "x_shape"}, {"e_k"}, "e_expand");
  for (const char* out : {"e_y", "k", "e_k"}) add_output(*else_b, out, TensorProto::FLOAT);
  add_int64_initializer(g, "x_shape", {2}, {2, 3});
  for (const char* out : {"y", "z", "w"}) add_output(g, out, TensorProto::FLOAT);
  return m;
}

TEST(ConstantFolding, AnIfOnAConstantConditionGivesWayToTheBranchItTakes) {
  const Tensor x = make_tensor<float>({2, 3}, random_floats(6, 13));
  for (int64_t flag : {1, 0}) {
    SCOPED_TRACE(flag ? "then" : "else");
    const onnx::ModelProto m = constant_if_model(flag);
    const Graph original = imported(m);
    Graph g = imported(m);
    const cpu::ConstantFoldingReport report = cpu::fold_constants(g);
    // then: the If and, once it is in the main graph, the If nested in its branch; else: the one If.
    EXPECT_EQ(report.ifs_inlined, flag ? 2u : 1u);
    EXPECT_EQ(count_ops(g, "If"), 0u);
    for (const Node& n : g.nodes()) EXPECT_TRUE(n.subgraphs().empty()) << n.name;
    // Nothing of the branch not taken is left.
    EXPECT_EQ(count_ops(g, flag ? "Sub" : "Mul"), 0u);
    if (flag) {
      EXPECT_EQ(count_ops(g, "Abs"), 0u);
      EXPECT_EQ(g.node(g.value(g.find_value("y")).producer).op_type, "Mul") << "written by the branch's node";
    }
    auto want = run_graph(original, {{"x", x}}), got = run_graph(g, {{"x", x}});
    ASSERT_TRUE(want.is_ok()) << want.status().message();
    ASSERT_TRUE(got.is_ok()) << got.status().message();
    expect_bitwise_equal(*got, *want, "outputs");
  }
}

// Three Ifs on one constant condition whose branches reuse a name, as sibling bodies may: the second
// branch's "tmp" is renamed in the main graph; the third's cannot be, since a body nested in it reads "tmp"
// by name (an If on a computed condition), so that If stays (and still runs).
TEST(ConstantFolding, ABranchWhoseNamesAreTakenIsRenamedOrLeftInItsIf) {
  auto m = make_model(17);
  auto& g = *m.mutable_graph();
  add_input(g, "x", TensorProto::FLOAT, {int64_t{4}});
  add_input(g, "c_cond", TensorProto::BOOL, {});
  add_constant_condition(g, "cond", {}, {1});
  const std::vector<std::pair<std::string, std::string>> ops = {{"a", "Neg"}, {"b", "Abs"}, {"c", "Sin"}};
  for (const auto& [p, op] : ops) {
    auto* n = add_node(g, "If", {"cond"}, {p + "_out"}, p);
    auto* then_b = set_graph(n, "then_branch");
    then_b->set_name(p + "_then");
    add_node(*then_b, op, {"x"}, {"tmp"}, p + "_op");
    if (p != "c") {
      add_node(*then_b, "Mul", {"tmp", "tmp"}, {p + "_res"}, p + "_mul");
    } else {
      auto* inner = add_node(*then_b, "If", {"c_cond"}, {p + "_res"}, "c_inner");
      for (const char* branch : {"then_branch", "else_branch"}) {
        auto* body = set_graph(inner, branch);
        const std::string out = std::string("c_") + branch;
        body->set_name(out);
        add_node(*body, "Exp", {"tmp"}, {out}, out + "_exp");
        add_output(*body, out, TensorProto::FLOAT);
      }
    }
    add_output(*then_b, p + "_res", TensorProto::FLOAT);
    auto* else_b = set_graph(n, "else_branch");
    else_b->set_name(p + "_else");
    add_node(*else_b, "Identity", {"x"}, {p + "_same"}, p + "_id");
    add_output(*else_b, p + "_same", TensorProto::FLOAT);
    add_output(g, p + "_out", TensorProto::FLOAT);
  }
  const Graph original = imported(m);
  Graph graph = imported(m);
  EXPECT_EQ(cpu::fold_constants(graph).ifs_inlined, 2u);
  std::vector<std::string> ifs;
  for (const Node& n : graph.nodes())
    if (n.op_type == "If") ifs.push_back(n.name);
  EXPECT_EQ(ifs, std::vector<std::string>{"c"});
  EXPECT_NE(graph.find_value("tmp"), kNoValue);
  EXPECT_NE(graph.find_value("tmp_1"), kNoValue);
  const Tensor x = make_tensor<float>({4}, random_floats(4, 14));
  for (bool c : {true, false}) {
    const std::map<std::string, Tensor> in = {{"x", x}, {"c_cond", make_bool_tensor({}, {c})}};
    auto want = run_graph(original, in), got = run_graph(graph, in);
    ASSERT_TRUE(want.is_ok()) << want.status().message();
    ASSERT_TRUE(got.is_ok()) << got.status().message();
    expect_bitwise_equal(*got, *want, "outputs");
  }
}

// A condition of two elements is the If kernel's to refuse at run time, naming the node, as unfolded.
TEST(ConstantFolding, AnIfWhoseConstantConditionIsNotOneBoolIsLeftToItsKernel) {
  auto m = make_model(17);
  auto& g = *m.mutable_graph();
  add_input(g, "x", TensorProto::FLOAT, {int64_t{1}});
  add_constant_condition(g, "cond", {2}, {1, 0});
  auto* n = add_node(g, "If", {"cond"}, {"y"}, "two_conditions");
  for (const char* branch : {"then_branch", "else_branch"}) {
    auto* body = set_graph(n, branch);
    const std::string out = std::string(branch) + "_y";
    body->set_name(branch);
    add_node(*body, "Neg", {"x"}, {out}, out);
    add_output(*body, out, TensorProto::FLOAT);
  }
  add_output(g, "y", TensorProto::FLOAT);
  Graph graph = imported(m);
  EXPECT_EQ(cpu::fold_constants(graph).ifs_inlined, 0u);
  EXPECT_EQ(count_ops(graph, "If"), 1u);
  auto r = run_graph(graph, {{"x", make_tensor<float>({1}, {1})}});
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("'two_conditions' (If)"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace tandem
