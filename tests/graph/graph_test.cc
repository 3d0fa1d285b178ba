// The graph IR and its passes, on graphs built by hand.
#include <gtest/gtest.h>

#include "graph/dead_nodes.h"
#include "graph/dot_export.h"
#include "graph/flops.h"
#include "graph/liveness.h"
#include "graph/summary.h"
#include "graph/topo_order.h"

namespace tandem {
namespace {

// A small builder: values by name, created on first mention.
struct G {
  Graph g;
  ValueId v(const std::string& name, ValueKind kind = ValueKind::kNodeOutput) {
    ValueId id = g.find_value(name);
    return id != kNoValue ? id : g.add_value(name, kind);
  }
  NodeId node(const std::string& name, const std::string& op, std::vector<std::string> ins,
              std::vector<std::string> outs) {
    Node n;
    n.name = name;
    n.op_type = op;
    for (auto& i : ins) n.inputs.push_back(i.empty() ? kNoValue : v(i));
    for (auto& o : outs) n.outputs.push_back(v(o));
    return g.add_node(std::move(n));
  }
  ValueId input(const std::string& name) {
    ValueId id = v(name, ValueKind::kGraphInput);
    g.add_input(id);
    return id;
  }
};

std::vector<std::string> names(const Graph& g, const std::vector<NodeId>& order) {
  std::vector<std::string> out;
  for (NodeId id : order) out.push_back(g.node(id).name);
  return out;
}

TEST(Graph, ProducersAndConsumersAreRecorded) {
  G b;
  b.input("x");
  b.node("a", "Relu", {"x"}, {"y"});
  b.node("b", "Add", {"y", "y"}, {"z"});
  const Value& y = b.g.value(b.g.find_value("y"));
  EXPECT_EQ(y.producer, 0);
  EXPECT_EQ(y.producer_output, 0);
  EXPECT_EQ(y.consumers, (std::vector<NodeId>{1, 1}));  // one entry per use
  EXPECT_EQ(b.g.value(b.g.find_value("x")).consumers, (std::vector<NodeId>{0}));
}

TEST(TopologicalOrder, SortsOutOfOrderNodesAndKeepsSortedOnesAsTheyAre) {
  G b;
  b.input("x");
  b.node("last", "Add", {"p", "q"}, {"out"});
  b.node("second", "Relu", {"p"}, {"q"});
  b.node("first", "Relu", {"x"}, {"p"});
  auto order = topological_order(b.g);
  ASSERT_TRUE(order) << order.status().message();
  EXPECT_EQ(names(b.g, *order), (std::vector<std::string>{"first", "second", "last"}));

  G sorted;
  sorted.input("x");
  sorted.node("n0", "Relu", {"x"}, {"a"});
  sorted.node("n1", "Relu", {"x"}, {"b"});
  sorted.node("n2", "Add", {"a", "b"}, {"c"});
  auto same = topological_order(sorted.g);
  ASSERT_TRUE(same);
  EXPECT_EQ(*same, (std::vector<NodeId>{0, 1, 2}));
}

TEST(TopologicalOrder, ImplicitInputsCountAsDependencies) {
  G b;
  b.input("x");
  NodeId user = b.node("if", "If", {"x"}, {"y"});
  b.node("producer", "Relu", {"x"}, {"captured"});
  b.g.node(user).implicit_inputs.push_back(b.g.find_value("captured"));
  // Rebuild through reorder so uses are recomputed from the edited node.
  b.g.reorder_nodes({0, 1});
  auto order = topological_order(b.g);
  ASSERT_TRUE(order);
  EXPECT_EQ(names(b.g, *order), (std::vector<std::string>{"producer", "if"}));
}

TEST(TopologicalOrder, ReportsTheNodesOfACycle) {
  G b;
  b.input("x");
  b.node("a", "Add", {"x", "c_out"}, {"a_out"});
  b.node("b", "Relu", {"a_out"}, {"b_out"});
  b.node("c", "Relu", {"b_out"}, {"c_out"});
  b.node("d", "Relu", {"x"}, {"d_out"});
  auto order = topological_order(b.g);
  ASSERT_FALSE(order);
  const std::string& msg = order.status().message();
  EXPECT_NE(msg.find("cycle"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'a' (Add)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'b' (Relu)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'c' (Relu)"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("'d'"), std::string::npos) << "d is not on the cycle: " << msg;
  // Along the data flow: a feeds b feeds c feeds a; the walk may start anywhere on the loop.
  const std::vector<std::string> rotations = {"'a' (Add) -> 'b' (Relu) -> 'c' (Relu) -> 'a' (Add)",
                                              "'b' (Relu) -> 'c' (Relu) -> 'a' (Add) -> 'b' (Relu)",
                                              "'c' (Relu) -> 'a' (Add) -> 'b' (Relu) -> 'c' (Relu)"};
  bool found = false;
  for (const auto& r : rotations) found = found || msg.find(r) != std::string::npos;
  EXPECT_TRUE(found) << msg;
}

TEST(Liveness, FirstAndLastUse) {
  G b;
  b.input("x");
  b.node("n0", "Relu", {"x"}, {"a"});
  b.node("n1", "Relu", {"a"}, {"b"});
  b.node("n2", "Add", {"a", "b"}, {"c"});
  b.node("n3", "Relu", {"c"}, {"unused"});
  b.g.add_output(b.g.find_value("c"));
  auto order = topological_order(b.g);
  ASSERT_TRUE(order);
  auto life = compute_liveness(b.g, *order);
  auto at = [&](const char* n) { return life[static_cast<std::size_t>(b.g.find_value(n))]; };
  EXPECT_EQ(at("x").first, -1);
  EXPECT_EQ(at("x").last, 0);
  EXPECT_EQ(at("a").first, 0);
  EXPECT_EQ(at("a").last, 2);
  EXPECT_EQ(at("b").first, 1);
  EXPECT_EQ(at("b").last, 2);
  EXPECT_EQ(at("c").last, 4) << "a graph output lives past the last step";
  EXPECT_EQ(at("unused").first, 3);
  EXPECT_EQ(at("unused").last, -1);
}

TEST(DeadNodes, RemovesWhatCannotReachAnOutputAndRenumbers) {
  G b;
  b.input("x");
  b.node("dead1", "Relu", {"x"}, {"d1"});
  b.node("live", "Relu", {"x"}, {"y"});
  b.node("dead2", "Add", {"d1", "y"}, {"d2"});
  b.node("out", "Sigmoid", {"y"}, {"z"});
  b.g.add_output(b.g.find_value("z"));
  EXPECT_EQ(eliminate_dead_nodes(b.g), 2u);
  ASSERT_EQ(b.g.num_nodes(), 2u);
  EXPECT_EQ(b.g.node(0).name, "live");
  EXPECT_EQ(b.g.node(1).name, "out");
  EXPECT_EQ(b.g.find_value("d1"), kNoValue);
  EXPECT_EQ(b.g.find_value("d2"), kNoValue);
  // Ids were renumbered consistently: out's input is live's output.
  EXPECT_EQ(b.g.node(1).inputs[0], b.g.node(0).outputs[0]);
  EXPECT_EQ(b.g.value(b.g.find_value("y")).producer, 0);
  EXPECT_EQ(b.g.value(b.g.find_value("y")).consumers, (std::vector<NodeId>{1}));
  EXPECT_EQ(b.g.value(b.g.outputs()[0]).name, "z");
  EXPECT_EQ(eliminate_dead_nodes(b.g), 0u);
}

TEST(DotExport, NamesEveryNodeAndEdge) {
  G b;
  b.input("x");
  b.node("relu1", "Relu", {"x"}, {"y"});
  b.g.add_output(b.g.find_value("y"));
  b.g.value(b.g.find_value("x")).shape = Shape({Dim::symbolic("batch"), Dim::known(3)});
  const std::string dot = to_dot(b.g);
  EXPECT_EQ(dot.rfind("digraph", 0), 0u);
  EXPECT_NE(dot.find("Relu\\nrelu1"), std::string::npos) << dot;
  EXPECT_NE(dot.find("[batch,3]"), std::string::npos) << dot;
  EXPECT_NE(dot.find("g_v0 -> g_n0"), std::string::npos) << dot;
  EXPECT_EQ(dot.back(), '\n');
}

TEST(Shape, ElementCountsAndText) {
  EXPECT_EQ(Shape::of({2, 3, 4}).num_elements(), 24);
  EXPECT_EQ(Shape::of({}).num_elements(), 1);
  Shape sym({Dim::symbolic("b"), Dim::known(5)});
  EXPECT_FALSE(sym.num_elements());
  EXPECT_EQ(sym.num_elements_symbols_as_one(), 5);
  EXPECT_EQ(sym.to_string(), "[b,5]");
  EXPECT_EQ(Shape().to_string(), "?");
  EXPECT_FALSE(Shape::of({int64_t{1} << 40, int64_t{1} << 40}).num_elements()) << "overflow is not a count";
}

Value& typed(G& b, const std::string& name, Shape s) {
  Value& v = b.g.value(b.v(name));
  v.shape = std::move(s);
  return v;
}

TEST(Flops, MatMulGemmConv) {
  G b;
  b.node("mm", "MatMul", {"a", "w"}, {"y"});
  typed(b, "a", Shape({Dim::symbolic("batch"), Dim::known(8), Dim::known(16)}));
  typed(b, "y", Shape({Dim::symbolic("batch"), Dim::known(8), Dim::known(4)}));
  auto f = estimate_flops(b.g, b.g.node(0));
  ASSERT_TRUE(f);
  EXPECT_DOUBLE_EQ(f->flops, 2.0 * 8 * 4 * 16);
  EXPECT_EQ(f->per_symbol, (std::set<std::string>{"batch"}));

  G gemm;
  NodeId n = gemm.node("g", "Gemm", {"a", "b", "c"}, {"y"});
  gemm.g.node(n).attributes["transA"] = Attribute::of_int(1);
  typed(gemm, "a", Shape::of({7, 3}));  // transposed: K = 7
  typed(gemm, "y", Shape::of({3, 5}));
  ASSERT_TRUE(estimate_flops(gemm.g, gemm.g.node(n)));
  EXPECT_DOUBLE_EQ(estimate_flops(gemm.g, gemm.g.node(n))->flops, 2.0 * 3 * 5 * 7 + 3 * 5);

  G conv;
  conv.node("c", "Conv", {"x", "w"}, {"y"});
  typed(conv, "w", Shape::of({16, 4, 3, 3}));  // 8 input channels in 2 groups
  typed(conv, "y", Shape::of({1, 16, 10, 10}));
  EXPECT_DOUBLE_EQ(estimate_flops(conv.g, conv.g.node(0))->flops, 2.0 * 1600 * 4 * 9);
}

TEST(Flops, QuantizedProductsCountLikeTheFloatOnes) {
  G mm;
  mm.node("q", "QLinearMatMul", {"a", "as", "az", "b", "bs", "bz", "ys", "yz"}, {"y"});
  typed(mm, "a", Shape::of({2, 8, 16}));
  typed(mm, "y", Shape::of({2, 8, 4}));
  ASSERT_TRUE(estimate_flops(mm.g, mm.g.node(0)));
  EXPECT_DOUBLE_EQ(estimate_flops(mm.g, mm.g.node(0))->flops, 2.0 * 64 * 16);

  G mi;
  mi.node("m", "MatMulInteger", {"a", "b", "az"}, {"y"});
  typed(mi, "a", Shape::of({3, 5}));
  typed(mi, "y", Shape::of({3, 7}));
  EXPECT_DOUBLE_EQ(estimate_flops(mi.g, mi.g.node(0))->flops, 2.0 * 21 * 5);

  // ConvInteger's input 2 is x's zero point, not a bias; QLinearConv's W is input 3 and its bias input 8.
  G ci;
  ci.node("c", "ConvInteger", {"x", "w", "xz"}, {"y"});
  typed(ci, "w", Shape::of({16, 4, 3, 3}));
  typed(ci, "y", Shape::of({1, 16, 10, 10}));
  EXPECT_DOUBLE_EQ(estimate_flops(ci.g, ci.g.node(0))->flops, 2.0 * 1600 * 4 * 9);
  G qc;
  qc.node("c", "QLinearConv", {"x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "bias"}, {"y"});
  typed(qc, "w", Shape::of({16, 4, 3, 3}));
  typed(qc, "y", Shape::of({1, 16, 10, 10}));
  EXPECT_DOUBLE_EQ(estimate_flops(qc.g, qc.g.node(0))->flops, 2.0 * 1600 * 4 * 9 + 1600);
}

// Attention's two products: batch x query heads x seq x total scores, each a head_size dot product, then
// as many total-long dot products per element of V's head size; past_key's keys count into total.
TEST(Flops, AttentionCountsItsTwoProducts) {
  G four;
  four.node("att", "Attention", {"q", "k", "v", "", "past_k", "past_v"}, {"y"});
  typed(four, "q", Shape::of({2, 4, 3, 8}));       // batch 2, 4 query heads, 3 queries, head size 8
  typed(four, "k", Shape::of({2, 2, 5, 8}));       // 2 kv heads, 5 new keys
  typed(four, "v", Shape::of({2, 2, 5, 6}));       // V's head size 6
  typed(four, "past_k", Shape::of({2, 2, 7, 8}));  // 7 cached keys: total 12
  auto f = estimate_flops(four.g, four.g.node(0));
  ASSERT_TRUE(f);
  EXPECT_DOUBLE_EQ(f->flops, 2.0 * (2 * 4 * 3 * 12) * (8 + 6));
  G three;
  three.node("att", "Attention", {"q", "k", "v"}, {"y"});
  typed(three, "q", Shape({Dim::known(1), Dim::symbolic("seq"), Dim::known(32)}));  // 4 heads of 8
  typed(three, "k", Shape::of({1, 10, 16}));                                          // 2 kv heads of 8
  typed(three, "v", Shape::of({1, 10, 12}));                                          // 2 kv heads of 6
  typed(three, "y", Shape({Dim::known(1), Dim::symbolic("seq"), Dim::known(24)}));  // 4 heads of 6
  f = estimate_flops(three.g, three.g.node(0));
  ASSERT_TRUE(f);
  EXPECT_DOUBLE_EQ(f->flops, 2.0 * 1 * 10 * (32 + 24));
  EXPECT_EQ(f->per_symbol, (std::set<std::string>{"seq"}));
}

TEST(Flops, RecurrentOpsScaleWithStepsBatchAndDirections) {
  G b;
  b.node("lstm", "LSTM", {"x", "w", "r", "bias"}, {"y"});
  typed(b, "x", Shape({Dim::symbolic("seq"), Dim::known(2), Dim::known(10)}));
  typed(b, "w", Shape::of({2, 4 * 12, 10}));
  typed(b, "r", Shape::of({2, 4 * 12, 12}));
  auto f = estimate_flops(b.g, b.g.node(0));
  ASSERT_TRUE(f);
  EXPECT_DOUBLE_EQ(f->flops, 2 /*dirs*/ * 1 /*seq*/ * 2 /*batch*/ * (2.0 * 48 * (10 + 12) + 2.0 * 48));
  EXPECT_EQ(f->per_symbol, (std::set<std::string>{"seq"}));

  G u;
  u.node("gru", "GRU", {"x", "w", "r"}, {"y"});
  typed(u, "x", Shape::of({5, 1, 6}));
  typed(u, "w", Shape::of({1, 30, 6}));
  typed(u, "r", Shape::of({1, 30, 10}));
  EXPECT_DOUBLE_EQ(estimate_flops(u.g, u.g.node(0))->flops, 5.0 * 2 * 30 * 16);

  G unknown;
  unknown.node("rnn", "RNN", {"x", "w", "r"}, {"y"});
  EXPECT_FALSE(estimate_flops(unknown.g, unknown.g.node(0))) << "no shapes, no estimate";
  G relu;
  relu.node("r", "Relu", {"x"}, {"y"});
  EXPECT_FALSE(is_flop_counted_op(relu.g.node(0)));
}

}  // namespace
}  // namespace tandem
