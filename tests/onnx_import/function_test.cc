// Model-local functions (ModelProto.functions) are expanded on import: a model calling them runs exactly as
// the same model written out by hand, and what the IR holds afterwards (names, opsets, shapes) is what the
// functions' bodies say. The refusals are in malformed_model_test's table.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include <tandem/tandem.h>

#include "onnx_import/onnx_import.h"
#include "tests/support/model_builder.h"

namespace tandem::test {
namespace {

using onnx::AttributeProto;
using onnx::FunctionProto;
using onnx::ModelProto;
using onnx::TensorProto;

constexpr int32_t kFloat = TensorProto::FLOAT;
constexpr int32_t kBool = TensorProto::BOOL;

void ref_attr(onnx::NodeProto* n, const std::string& name, AttributeProto::AttributeType type,
              const std::string& ref) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(type);
  a->set_ref_attr_name(ref);
}

FunctionProto* add_function(ModelProto& m, const std::string& name, int64_t opset,
                            const std::vector<std::string>& inputs, const std::vector<std::string>& outputs,
                            const std::vector<std::string>& attributes) {
  auto* f = m.add_functions();
  f->set_name(name);
  f->set_domain("local");
  for (const auto& i : inputs) f->add_input(i);
  for (const auto& o : outputs) f->add_output(o);
  for (const auto& a : attributes) f->add_attribute(a);
  auto* imp = f->add_opset_import();
  imp->set_domain("");
  imp->set_version(opset);
  auto* local = f->add_opset_import();
  local->set_domain("local");
  local->set_version(1);
  return f;
}

// A function body is a GraphProto-like node list; this adds a node to it.
onnx::NodeProto* body_node(FunctionProto* f, const std::string& op, const std::vector<std::string>& inputs,
                           const std::vector<std::string>& outputs, const std::string& domain = "") {
  auto* n = f->add_node();
  n->set_op_type(op);
  n->set_domain(domain);
  for (const auto& i : inputs) n->add_input(i);
  for (const auto& o : outputs) n->add_output(o);
  return n;
}

onnx::NodeProto* call(onnx::GraphProto& g, const std::string& fn, const std::vector<std::string>& inputs,
                      const std::vector<std::string>& outputs, const std::string& name) {
  auto* n = add_node(g, fn, inputs, outputs, name);
  n->set_domain("local");
  return n;
}

// The inputs both models take: x float [2,3,4], lo float scalar, cond bool scalar.
void add_inputs(onnx::GraphProto& g) {
  add_input(g, "x", kFloat, {int64_t{2}, int64_t{3}, int64_t{4}});
  add_input(g, "lo", kFloat, {});
  add_input(g, "cond", kBool, {});
}

void add_outputs(onnx::GraphProto& g) {
  for (const char* o : {"y1", "z1", "y2", "r", "g"}) add_output(g, o, kFloat);
}

// Functions (domain "local"):
//   Inner(v) -> out, attribute gamma; imports ai.onnx 13 (the model 17):  out = Elu(Abs(v), alpha=@gamma)
//   Block(x, lo?) -> (y, z), attributes alpha, axis:
//     t = LeakyRelu(x, alpha=@alpha); c = Clip(t, lo); y = Softmax(c, axis=@axis); z = Inner(x, gamma=@alpha)
//   Gate(c, v) -> out, attribute slope: out = If(c) then LeakyRelu(v, alpha=@slope) else Neg(v)
// Main graph: y1, z1 = Block(x) {alpha 0.2, axis 1} (lo left out: fewer inputs)
//             y2 = Block(x, lo) {alpha 0.05} (axis left out: Softmax's default; z left out)
//             r = If(cond) then Block(y1, "") {alpha 0.3, axis 2} else Identity(y2)
//             g = Gate(cond, x) {slope 0.7}
ModelProto with_functions() {
  ModelProto m = make_model(17);
  auto* imp = m.add_opset_import();
  imp->set_domain("local");
  imp->set_version(1);

  FunctionProto* inner = add_function(m, "Inner", 13, {"v"}, {"out"}, {"gamma"});
  body_node(inner, "Abs", {"v"}, {"a"});
  ref_attr(body_node(inner, "Elu", {"a"}, {"out"}), "alpha", AttributeProto::FLOAT, "gamma");

  FunctionProto* block = add_function(m, "Block", 17, {"x", "lo"}, {"y", "z"}, {"alpha", "axis"});
  ref_attr(body_node(block, "LeakyRelu", {"x"}, {"t"}), "alpha", AttributeProto::FLOAT, "alpha");
  body_node(block, "Clip", {"t", "lo"}, {"c"});
  ref_attr(body_node(block, "Softmax", {"c"}, {"y"}), "axis", AttributeProto::INT, "axis");
  ref_attr(body_node(block, "Inner", {"x"}, {"z"}, "local"), "gamma", AttributeProto::FLOAT, "alpha");

  FunctionProto* gate = add_function(m, "Gate", 17, {"c", "v"}, {"out"}, {"slope"});
  auto* gate_if = body_node(gate, "If", {"c"}, {"out"});
  {
    auto* then_g = gate_if->add_attribute();
    then_g->set_name("then_branch");
    then_g->set_type(AttributeProto::GRAPH);
    auto& tg = *then_g->mutable_g();
    tg.set_name("gate_then");
    auto* lr = add_node(tg, "LeakyRelu", {"v"}, {"t"});
    ref_attr(lr, "alpha", AttributeProto::FLOAT, "slope");
    add_output(tg, "t", kFloat);
    auto& eg = *set_graph(gate_if, "else_branch");
    eg.set_name("gate_else");
    add_node(eg, "Neg", {"v"}, {"t"});  // the same local name in the sibling body
    add_output(eg, "t", kFloat);
  }

  auto& g = *m.mutable_graph();
  add_inputs(g);
  auto* c1 = call(g, "Block", {"x"}, {"y1", "z1"}, "block1");
  set_float(c1, "alpha", 0.2f);
  set_int(c1, "axis", 1);
  set_float(call(g, "Block", {"x", "lo"}, {"y2"}, "block2"), "alpha", 0.05f);
  auto* iff = add_node(g, "If", {"cond"}, {"r"}, "branch");
  auto& then_g = *set_graph(iff, "then_branch");
  then_g.set_name("then");
  auto* c3 = call(then_g, "Block", {"y1", ""}, {"ty"}, "block3");
  set_float(c3, "alpha", 0.3f);
  set_int(c3, "axis", 2);
  add_output(then_g, "ty", kFloat);
  auto& else_g = *set_graph(iff, "else_branch");
  else_g.set_name("else");
  add_node(else_g, "Identity", {"y2"}, {"ey"});
  add_output(else_g, "ey", kFloat);
  set_float(call(g, "Gate", {"cond", "x"}, {"g"}, "gate"), "slope", 0.7f);
  add_outputs(g);
  return m;
}

// The same computation written out by hand, without functions.
ModelProto by_hand() {
  ModelProto m = make_model(17);
  auto& g = *m.mutable_graph();
  add_inputs(g);
  set_float(add_node(g, "LeakyRelu", {"x"}, {"t1"}), "alpha", 0.2f);
  add_node(g, "Clip", {"t1"}, {"c1"});
  set_int(add_node(g, "Softmax", {"c1"}, {"y1"}), "axis", 1);
  add_node(g, "Abs", {"x"}, {"a1"});
  set_float(add_node(g, "Elu", {"a1"}, {"z1"}), "alpha", 0.2f);
  set_float(add_node(g, "LeakyRelu", {"x"}, {"t2"}), "alpha", 0.05f);
  add_node(g, "Clip", {"t2", "lo"}, {"c2"});
  add_node(g, "Softmax", {"c2"}, {"y2"});
  auto* iff = add_node(g, "If", {"cond"}, {"r"});
  auto& then_g = *set_graph(iff, "then_branch");
  then_g.set_name("then");
  set_float(add_node(then_g, "LeakyRelu", {"y1"}, {"t3"}), "alpha", 0.3f);
  add_node(then_g, "Clip", {"t3"}, {"c3"});
  set_int(add_node(then_g, "Softmax", {"c3"}, {"ty"}), "axis", 2);
  add_output(then_g, "ty", kFloat);
  auto& else_g = *set_graph(iff, "else_branch");
  else_g.set_name("else");
  add_node(else_g, "Identity", {"y2"}, {"ey"});
  add_output(else_g, "ey", kFloat);
  auto* gate = add_node(g, "If", {"cond"}, {"g"});
  auto& gt = *set_graph(gate, "then_branch");
  gt.set_name("gate_then");
  set_float(add_node(gt, "LeakyRelu", {"x"}, {"gt"}), "alpha", 0.7f);
  add_output(gt, "gt", kFloat);
  auto& ge = *set_graph(gate, "else_branch");
  ge.set_name("gate_else");
  add_node(ge, "Neg", {"x"}, {"ge"});
  add_output(ge, "ge", kFloat);
  add_outputs(g);
  return m;
}

Model load(const ModelProto& m, const std::string& name) {
  const std::string bytes = m.SerializeAsString();
  return Model::load_from_bytes(bytes.data(), bytes.size(), name);
}

TEST(LocalFunctions, RunExactlyAsTheModelWrittenOutByHand) {
  Session inlined(load(with_functions(), "functions.onnx"));
  Session reference(load(by_hand(), "by_hand.onnx"));
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  for (int trial = 0; trial < 6; ++trial) {
    std::vector<float> x(24);
    for (float& v : x) v = normal(rng);
    const bool cond = trial % 2 == 0;
    std::map<std::string, HostTensor> feeds{{"x", HostTensor::of<float>({2, 3, 4}, x)},
                                            {"lo", HostTensor::of<float>({}, {normal(rng) * 0.1f})},
                                            {"cond", HostTensor::of<bool>({}, {cond})}};
    const auto got = inlined.run(feeds);
    const auto want = reference.run(feeds);
    ASSERT_EQ(got.size(), 5u);
    for (const auto& [name, w] : want) {
      SCOPED_TRACE(name + " trial " + std::to_string(trial));
      const HostTensor& o = got.at(name);
      ASSERT_EQ(o.shape(), w.shape());
      for (int64_t i = 0; i < w.numel(); ++i) ASSERT_EQ(o.data<float>()[i], w.data<float>()[i]) << "element " << i;
    }
    // The outputs differ from one another, so a mix-up of call sites or attributes could not pass unseen.
    EXPECT_NE(got.at("y1").data<float>()[0], got.at("y2").data<float>()[0]);
  }
}

TEST(LocalFunctions, InlinedNodesKeepTheFunctionsOpsetsNamesAndShapes) {
  auto r = import_proto(with_functions(), "functions.onnx");
  ASSERT_TRUE(r) << r.status().message();
  const Graph& g = *r->graph;
  std::set<std::string> names;
  std::map<std::string, int> ops;
  for (NodeId id = 0; id < static_cast<NodeId>(g.num_nodes()); ++id) {
    const Node& n = g.node(id);
    ++ops[n.op_type];
    EXPECT_TRUE(names.insert(n.name).second) << "node name '" << n.name << "' twice";
    // Inner imports ai.onnx 13 while the model imports 17: its nodes resolve at 13.
    const bool from_inner = n.op_type == "Abs" || n.op_type == "Elu";
    EXPECT_EQ(n.opset, from_inner ? 13 : 17) << n.name << " " << n.op_type;
    for (ValueId v : n.outputs)
      if (v != kNoValue) {
        EXPECT_TRUE(g.value(v).shape.is_static()) << g.value(v).name << " " << g.value(v).shape;
        EXPECT_EQ(g.value(v).dtype, DType::kFloat32) << g.value(v).name;
      }
  }
  // block1: 5 nodes, block2: 5 (its z is computed though nobody reads it), the If, Gate's If.
  EXPECT_EQ(ops, (std::map<std::string, int>{
                     {"Abs", 2}, {"Clip", 2}, {"Elu", 2}, {"If", 2}, {"LeakyRelu", 2}, {"Softmax", 2}}));
  EXPECT_TRUE(names.count("block1/LeakyRelu")) << "nodes are named after their call site";
  EXPECT_TRUE(names.count("block1/Inner/Elu")) << "nested calls nest the names";
  EXPECT_EQ(g.value(g.find_value("y1")).shape.to_string(), "[2,3,4]");
  // The call in the If body was expanded there, with names of its own.
  auto named = [&](const std::string& name) -> const Node& {
    for (const Node& n : g.nodes())
      if (n.name == name) return n;
    throw std::runtime_error("no node " + name);
  };
  const Graph& then_g = *named("branch").attribute("then_branch")->g;
  std::map<std::string, int> then_ops;
  for (const Node& n : then_g.nodes()) ++then_ops[n.op_type];
  EXPECT_EQ(then_ops, (std::map<std::string, int>{{"Abs", 1}, {"Clip", 1}, {"Elu", 1}, {"LeakyRelu", 1}, {"Softmax", 1}}));
  // Attribute values as the call sites gave them, and left out where the call left them out.
  ASSERT_NE(named("block1/Softmax").attribute("axis"), nullptr);
  EXPECT_EQ(named("block1/Softmax").attribute("axis")->i, 1);
  EXPECT_EQ(named("block2/Softmax").attribute("axis"), nullptr);
  ASSERT_NE(named("block2/Inner/Elu").attribute("alpha"), nullptr);
  EXPECT_FLOAT_EQ(named("block2/Inner/Elu").attribute("alpha")->f, 0.05f);
  ASSERT_FALSE(r->notes.empty());
  EXPECT_NE(r->notes.back().find("expanded 7 calls of the model's 3 local functions"), std::string::npos)
      << r->notes.back();
}

// A function whose output is one of its inputs, and a call that names no outputs of a function at all.
TEST(LocalFunctions, OutputThatIsAnInputBecomesAnIdentity) {
  ModelProto m = make_model(17);
  auto* imp = m.add_opset_import();
  imp->set_domain("local");
  imp->set_version(1);
  FunctionProto* f = add_function(m, "Pass", 17, {"a"}, {"a", "b"}, {});
  body_node(f, "Neg", {"a"}, {"b"});
  auto& g = *m.mutable_graph();
  add_input(g, "x", kFloat, {int64_t{3}});
  call(g, "Pass", {"x"}, {"same", "neg"}, "pass");
  add_output(g, "same", kFloat);
  add_output(g, "neg", kFloat);
  Session s(load(m, "pass.onnx"));
  const auto out = s.run({{"x", HostTensor::of<float>({3}, {1.0f, -2.0f, 3.5f})}});
  EXPECT_EQ(std::vector<float>(out.at("same").data<float>(), out.at("same").data<float>() + 3),
            (std::vector<float>{1.0f, -2.0f, 3.5f}));
  EXPECT_EQ(std::vector<float>(out.at("neg").data<float>(), out.at("neg").data<float>() + 3),
            (std::vector<float>{-1.0f, 2.0f, -3.5f}));
}

// Names the function body uses that the model also uses stay apart: the body's become fresh names.
TEST(LocalFunctions, BodyNamesThatClashWithTheModelsAreRenamed) {
  ModelProto m = make_model(17);
  auto* imp = m.add_opset_import();
  imp->set_domain("local");
  imp->set_version(1);
  FunctionProto* f = add_function(m, "Twice", 17, {"x"}, {"y"}, {});
  body_node(f, "Neg", {"x"}, {"t"});   // "t" is also a value of the main graph
  body_node(f, "Neg", {"t"}, {"y"});
  auto& g = *m.mutable_graph();
  add_input(g, "t", kFloat, {int64_t{2}});
  call(g, "Twice", {"t"}, {"x"}, "");   // the model's "x" is the function's output
  call(g, "Twice", {"x"}, {"y"}, "");
  add_output(g, "y", kFloat);
  auto r = import_proto(m, "clash.onnx");
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_EQ(r->graph->num_nodes(), 4u);
  Session s(load(m, "clash.onnx"));
  const auto out = s.run({{"t", HostTensor::of<float>({2}, {1.5f, -4.0f})}});
  EXPECT_EQ(out.at("y").data<float>()[0], 1.5f);
  EXPECT_EQ(out.at("y").data<float>()[1], -4.0f);
}

// Graph-valued attributes passed by reference: the bodies the call gives read the caller's names, and land
// in the function's If wherever it is inlined.
TEST(LocalFunctions, GraphAttributesGivenByTheCallReadTheCallersNames) {
  ModelProto m = make_model(17);
  auto* imp = m.add_opset_import();
  imp->set_domain("local");
  imp->set_version(1);
  FunctionProto* f = add_function(m, "Choose", 17, {"c"}, {"out"}, {"yes", "no"});
  auto* iff = body_node(f, "If", {"c"}, {"out"});
  ref_attr(iff, "then_branch", AttributeProto::GRAPH, "yes");
  ref_attr(iff, "else_branch", AttributeProto::GRAPH, "no");
  auto& g = *m.mutable_graph();
  add_input(g, "cond", kBool, {});
  add_input(g, "x", kFloat, {int64_t{3}});
  auto* c = call(g, "Choose", {"cond"}, {"y"}, "choose");
  auto& yes = *set_graph(c, "yes");
  yes.set_name("yes");
  add_node(yes, "Neg", {"x"}, {"a"});
  add_output(yes, "a", kFloat);
  auto& no = *set_graph(c, "no");
  no.set_name("no");
  add_node(no, "Abs", {"x"}, {"b"});
  add_output(no, "b", kFloat);
  add_output(g, "y", kFloat);
  Session s(load(m, "choose.onnx"));
  const HostTensor x = HostTensor::of<float>({3}, {1.0f, -2.0f, 3.0f});
  const auto yes_out = s.run({{"cond", HostTensor::of<bool>({}, {true})}, {"x", x}});
  const auto no_out = s.run({{"cond", HostTensor::of<bool>({}, {false})}, {"x", x}});
  EXPECT_EQ(std::vector<float>(yes_out.at("y").data<float>(), yes_out.at("y").data<float>() + 3),
            (std::vector<float>{-1.0f, 2.0f, -3.0f}));
  EXPECT_EQ(std::vector<float>(no_out.at("y").data<float>(), no_out.at("y").data<float>() + 3),
            (std::vector<float>{1.0f, 2.0f, 3.0f}));
}

}  // namespace
}  // namespace tandem::test
