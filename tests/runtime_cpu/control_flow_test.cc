// If, Loop, Scan, Constant and Identity through the real pipeline, and the executor around them.
#include <gtest/gtest.h>

#include <tuple>

#include "runtime/executor.h"
#include "runtime_cpu/cpu_device.h"
#include "tests/support/model_builder.h"
#include "tests/support/op_runner.h"

namespace tandem {
namespace {

using namespace tandem::test;
using onnx::TensorProto;

// If(cond) then Neg(x) * captured-from-outside else x + 1, where 'outer' is computed in the main graph.
onnx::ModelProto if_model() {
  auto m = make_model();
  auto& g = *m.mutable_graph();
  add_input(g, "cond", TensorProto::BOOL, {});
  add_input(g, "x", TensorProto::FLOAT, {int64_t{3}});
  add_float_initializer(g, "two", {}, {2.0f});
  add_node(g, "Mul", {"x", "two"}, {"outer"}, "double_x");
  auto* n = add_node(g, "If", {"cond"}, {"y"}, "if");
  auto* then_g = set_graph(n, "then_branch");
  then_g->set_name("then_body");
  add_node(*then_g, "Neg", {"outer"}, {"neg"});
  add_output(*then_g, "neg", TensorProto::FLOAT);
  auto* else_g = set_graph(n, "else_branch");
  else_g->set_name("else_body");
  add_float_initializer(*else_g, "one", {}, {1.0f});
  add_node(*else_g, "Add", {"x", "one"}, {"plus"});
  add_output(*else_g, "plus", TensorProto::FLOAT);
  add_output(g, "y", TensorProto::FLOAT);
  return m;
}

TEST(IfKernel, RunsTheChosenBranchWithOuterValues) {
  const auto m = if_model();
  const Tensor x = make_tensor<float>({3}, {1, -2, 3});
  auto yes = run_on_cpu(m, {make_bool_tensor({}, {true}), x});
  ASSERT_TRUE(yes) << yes.status().message();
  EXPECT_EQ(values_of<float>((*yes)[0]), (std::vector<float>{-2, 4, -6}));
  auto no = run_on_cpu(m, {make_bool_tensor({}, {false}), x});
  ASSERT_TRUE(no) << no.status().message();
  EXPECT_EQ(values_of<float>((*no)[0]), (std::vector<float>{2, -1, 4}));
}

TEST(IfKernel, RejectsANonBoolCondition) {
  auto m = if_model();
  m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(TensorProto::BOOL);
  auto r = run_on_cpu(m, {make_tensor<float>({}, {1.0f}), make_tensor<float>({3}, {1, 2, 3})});
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("condition must be a single bool"), std::string::npos) << r.status().message();
}

// A condition declared [2^31] is refused when the kernel is made, naming the value and its shape (found by
// the ASan fuzzer: `tandem run` filled 2^31 random bools first and timed out).
TEST(IfKernel, RejectsAConditionDeclaredWithManyElementsAtCompileTime) {
  auto m = if_model();
  auto* shape = m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
  shape->add_dim()->set_dim_value(int64_t{1} << 31);
  auto ir = import_proto(m);
  ASSERT_TRUE(ir) << ir.status().message();
  static const cpu::CpuDevice device;
  auto exec = GraphExecutor::compile(*ir->graph, device);
  ASSERT_FALSE(exec);
  EXPECT_NE(exec.status().message().find("node 'if' (If): the condition must be a single bool, but 'cond' is "
                                         "declared [2147483648]"),
            std::string::npos)
      << exec.status().message();
}

// ---------------------------------------------------------------------------------------------------------
// Loop

// Loop(M, cond, s0 [2]) whose body adds x * i to s (x read from the main graph), and, when `with_limit`,
// continues while sum(s) < limit; scan output: s after each iteration. Inputs: M (int64 []), cond (bool []),
// s0, x, limit; an empty name in `m`/`cond` leaves that loop input out.
onnx::ModelProto loop_model(bool with_m, bool with_cond) {
  auto m = make_model();
  auto& g = *m.mutable_graph();
  add_input(g, "M", TensorProto::INT64, {});
  add_input(g, "cond", TensorProto::BOOL, {});
  add_input(g, "s0", TensorProto::FLOAT, {int64_t{2}});
  add_input(g, "x", TensorProto::FLOAT, {int64_t{2}});
  add_input(g, "limit", TensorProto::FLOAT, {});
  auto* n = add_node(g, "Loop", {with_m ? "M" : "", with_cond ? "cond" : "", "s0"}, {"s_final", "s_all"}, "loop");
  auto* b = set_graph(n, "body");
  b->set_name("loop_body");
  add_input(*b, "i", TensorProto::INT64, {});
  add_input(*b, "cond_in", TensorProto::BOOL, {});
  add_input(*b, "s", TensorProto::FLOAT, {int64_t{2}});
  auto* cast = add_node(*b, "Cast", {"i"}, {"i_f"});
  set_int(cast, "to", TensorProto::FLOAT);
  add_node(*b, "Mul", {"x", "i_f"}, {"xi"});
  add_node(*b, "Add", {"s", "xi"}, {"s_next"});
  add_node(*b, "ReduceSum", {"s_next"}, {"total"});
  add_node(*b, "Less", {"total", "limit"}, {"go_on"});
  add_node(*b, "Identity", {"s_next"}, {"scanned"});
  add_output(*b, "go_on", TensorProto::BOOL);
  add_output(*b, "s_next", TensorProto::FLOAT);
  const std::vector<DimSpec> two = {int64_t{2}};
  add_output(*b, "scanned", TensorProto::FLOAT, &two);
  add_output(g, "s_final", TensorProto::FLOAT);
  add_output(g, "s_all", TensorProto::FLOAT);
  return m;
}

struct LoopRun {
  std::vector<float> final_s, all;
  std::vector<int64_t> all_shape;
};

Result<LoopRun> run_loop(bool with_m, bool with_cond, int64_t trips, bool cond, float limit) {
  const auto m = loop_model(with_m, with_cond);
  auto r = run_on_cpu(m, {make_tensor<int64_t>({}, {trips}), make_bool_tensor({}, {cond}),
                          make_tensor<float>({2}, {0.5f, -1}), make_tensor<float>({2}, {1, 2}),
                          make_tensor<float>({}, {limit})});
  if (!r) return r.status();
  return LoopRun{values_of<float>((*r)[0]), values_of<float>((*r)[1]), (*r)[1].shape()};
}

TEST(LoopKernel, ForWhileAndBothStopWhereOnnxSays) {
  // s_i = s0 + x * (0 + 1 + ... + i): s0 = [0.5, -1], x = [1, 2]; sum(s_i) = -0.5 + 3 * i(i+1)/2.
  // For M = 4 (the body's condition ignored): i = 0..3.
  auto f = run_loop(true, false, 4, true, -100);
  ASSERT_TRUE(f) << f.status().message();
  EXPECT_EQ(f->final_s, (std::vector<float>{6.5f, 11}));
  EXPECT_EQ(f->all_shape, (std::vector<int64_t>{4, 2}));
  EXPECT_EQ(f->all, (std::vector<float>{0.5f, -1, 1.5f, 1, 3.5f, 5, 6.5f, 11}));
  // While sum < 10 (no M): sums after i = 0, 1, 2, 3 are -0.5, 2.5, 8.5, 17.5: stops after i = 3.
  auto w = run_loop(false, true, 0, true, 10);
  ASSERT_TRUE(w) << w.status().message();
  EXPECT_EQ(w->all_shape, (std::vector<int64_t>{4, 2}));
  EXPECT_EQ(w->final_s, (std::vector<float>{6.5f, 11}));
  // Both: M = 2 stops first; then the condition stops first (sum < 1: after i = 0 and 1 only).
  auto b = run_loop(true, true, 2, true, 100);
  ASSERT_TRUE(b) << b.status().message();
  EXPECT_EQ(b->all_shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(b->final_s, (std::vector<float>{1.5f, 1}));
  auto c = run_loop(true, true, 10, true, 1);
  ASSERT_TRUE(c) << c.status().message();
  EXPECT_EQ(c->all_shape, (std::vector<int64_t>{2, 2}));
}

TEST(LoopKernel, ZeroIterationsReturnTheInitialValuesAndEmptyScans) {
  // cond false at the start, M = 0, or a negative M: no iteration; the scan output is [0, 2] (the body
  // declares its slice as [2]).
  for (auto [with_m, with_cond, trips, cond] :
       {std::tuple{false, true, int64_t{0}, false}, std::tuple{true, false, int64_t{0}, true},
        std::tuple{true, true, int64_t{-3}, true}}) {
    auto r = run_loop(with_m, with_cond, trips, cond, 100);
    ASSERT_TRUE(r) << r.status().message();
    EXPECT_EQ(r->final_s, (std::vector<float>{0.5f, -1}));
    EXPECT_EQ(r->all_shape, (std::vector<int64_t>{0, 2}));
  }
}

TEST(LoopKernel, BadLoopsAreRefusedByName) {
  // Neither M nor cond: it would never end.
  auto forever = run_loop(false, false, 0, true, 100);
  ASSERT_FALSE(forever);
  EXPECT_NE(forever.status().message().find("neither a trip count M nor a condition"), std::string::npos)
      << forever.status().message();
  // M of another type (the importer's inference refuses it), or of more than one element (the kernel).
  auto m = loop_model(true, false);
  m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(TensorProto::FLOAT);
  auto r = run_on_cpu(m, {make_tensor<float>({}, {2}), make_bool_tensor({}, {true}), make_tensor<float>({2}, {0, 0}),
                          make_tensor<float>({2}, {1, 2}), make_tensor<float>({}, {0})});
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("node 'loop' (Loop)"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("tensor(float)"), std::string::npos) << r.status().message();
  m = loop_model(true, false);
  m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_value(2);
  r = run_on_cpu(m, {make_tensor<int64_t>({2}, {2, 3}), make_bool_tensor({}, {true}), make_tensor<float>({2}, {0, 0}),
                     make_tensor<float>({2}, {1, 2}), make_tensor<float>({}, {0})});
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("the trip count M must be a single int64, got int64 [2]"), std::string::npos)
      << r.status().message();
}

TEST(LoopKernel, AScanOutputThatChangesShapeIsAnErrorNamingTheIteration) {
  // The scan output is Range(0, i + 1): one more element every iteration.
  auto m = make_model();
  auto& g = *m.mutable_graph();
  add_input(g, "M", TensorProto::INT64, {});
  auto* n = add_node(g, "Loop", {"M", ""}, {"ranges"}, "loop");
  auto* b = set_graph(n, "body");
  b->set_name("range_body");
  add_input(*b, "i", TensorProto::INT64, {});
  add_input(*b, "cond_in", TensorProto::BOOL, {});
  add_int64_initializer(*b, "zero", {}, {0});
  add_int64_initializer(*b, "one", {}, {1});
  add_node(*b, "Add", {"i", "one"}, {"end"});
  add_node(*b, "Range", {"zero", "end", "one"}, {"r"});
  add_node(*b, "Identity", {"cond_in"}, {"cond_out"});
  add_output(*b, "cond_out", TensorProto::BOOL);
  add_output(*b, "r", TensorProto::INT64);
  add_output(g, "ranges", TensorProto::INT64);
  auto r = run_on_cpu(m, {make_tensor<int64_t>({}, {3})});
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("scan output 0: iteration 1 made int64 [2], iteration 0 made int64 [1]"),
            std::string::npos)
      << r.status().message();
}

// ---------------------------------------------------------------------------------------------------------
// Scan

// A Scan body of one state and one scan input, both float32 [width]: s_out = s_in + x_t, and s_out again
// as the scan output's slice.
void add_running_sum_body(onnx::NodeProto* scan, int64_t width) {
  auto* b = set_graph(scan, "body");
  b->set_name("running_sum");
  add_input(*b, "s_in", TensorProto::FLOAT, {width});
  add_input(*b, "x_t", TensorProto::FLOAT, {width});
  add_node(*b, "Add", {"s_in", "x_t"}, {"s_out"});
  add_node(*b, "Identity", {"s_out"}, {"y_t"});
  add_output(*b, "s_out", TensorProto::FLOAT);
  add_output(*b, "y_t", TensorProto::FLOAT);
}

// Scan (opset 11) over X [2, 3] along axis 1 with state s [2]: s += X[:, t]; scan output s after each step.
onnx::ModelProto cumsum_scan(int64_t input_direction, int64_t output_axis, int64_t output_direction) {
  auto m = make_model(11);
  auto& g = *m.mutable_graph();
  add_input(g, "s0", TensorProto::FLOAT, {int64_t{2}});
  add_input(g, "X", TensorProto::FLOAT, {int64_t{2}, int64_t{3}});
  auto* n = add_node(g, "Scan", {"s0", "X"}, {"s", "Y"}, "scan");
  set_int(n, "num_scan_inputs", 1);
  set_ints(n, "scan_input_axes", {-1});
  set_ints(n, "scan_input_directions", {input_direction});
  set_ints(n, "scan_output_axes", {output_axis});
  set_ints(n, "scan_output_directions", {output_direction});
  add_running_sum_body(n, 2);
  add_output(g, "s", TensorProto::FLOAT);
  add_output(g, "Y", TensorProto::FLOAT);
  return m;
}

TEST(ScanKernel, AxesAndDirectionsOfInputsAndOutputs) {
  // X = [[1, 2, 3], [10, 20, 30]]: slices along axis 1 are [1, 10], [2, 20], [3, 30].
  const Tensor s0 = make_tensor<float>({2}, {0, 0});
  const Tensor x = make_tensor<float>({2, 3}, {1, 2, 3, 10, 20, 30});
  struct Want {
    int64_t in_dir, out_axis, out_dir;
    std::vector<int64_t> shape;
    std::vector<float> y;
  };
  for (const Want& w : {
           // Forward: s = [1,10], [3,30], [6,60], stacked on a new first axis.
           Want{0, 0, 0, {3, 2}, {1, 10, 3, 30, 6, 60}},
           // ... on a new last axis (-1 of the rank-2 result).
           Want{0, -1, 0, {2, 3}, {1, 3, 6, 10, 30, 60}},
           // Input reversed: [3,30], [5,50], [6,60]; the output reversed too: last iteration first.
           Want{1, 0, 1, {3, 2}, {6, 60, 5, 50, 3, 30}},
       }) {
    auto r = run_on_cpu(cumsum_scan(w.in_dir, w.out_axis, w.out_dir), {s0, x});
    ASSERT_TRUE(r) << r.status().message();
    EXPECT_EQ(values_of<float>((*r)[0]), (std::vector<float>{6, 60}));
    EXPECT_EQ((*r)[1].shape(), w.shape) << w.in_dir << w.out_axis << w.out_dir;
    EXPECT_EQ(values_of<float>((*r)[1]), w.y) << w.in_dir << w.out_axis << w.out_dir;
  }
}

TEST(ScanKernel, Scan8ScansEachBatchEntryOverItsOwnLength) {
  // Scan-8: X [batch 2, seq 3, 1], state [2, 1], sequence_lens [3, 1]: entry 0 sums 1, 2, 3; entry 1 only
  // its first step (10); its scan output is zero past its length.
  auto m = make_model(8);
  auto& g = *m.mutable_graph();
  add_input(g, "lens", TensorProto::INT64, {int64_t{2}});
  add_input(g, "s0", TensorProto::FLOAT, {int64_t{2}, int64_t{1}});
  add_input(g, "X", TensorProto::FLOAT, {int64_t{2}, int64_t{3}, int64_t{1}});
  auto* n = add_node(g, "Scan", {"lens", "s0", "X"}, {"s", "Y"}, "scan8");
  set_int(n, "num_scan_inputs", 1);
  add_running_sum_body(n, 1);
  add_output(g, "s", TensorProto::FLOAT);
  add_output(g, "Y", TensorProto::FLOAT);
  const Tensor s0 = make_tensor<float>({2, 1}, {0, 0}), x = make_tensor<float>({2, 3, 1}, {1, 2, 3, 10, 20, 30});
  auto r = run_on_cpu(m, {make_tensor<int64_t>({2}, {3, 1}), s0, x});
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_EQ(values_of<float>((*r)[0]), (std::vector<float>{6, 10}));
  EXPECT_EQ((*r)[1].shape(), (std::vector<int64_t>{2, 3, 1}));
  EXPECT_EQ(values_of<float>((*r)[1]), (std::vector<float>{1, 3, 6, 10, 0, 0}));

  auto bad = run_on_cpu(m, {make_tensor<int64_t>({2}, {3, 4}), s0, x});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.status().message().find("sequence_lens[1] is 4, outside 0..3"), std::string::npos)
      << bad.status().message();
}

TEST(ScanKernel, ScanInputsOfDifferentLengthsAreAnError) {
  auto m = make_model(11);
  auto& g = *m.mutable_graph();
  // Symbolic lengths: a static mismatch is already refused by the importer's shape inference.
  add_input(g, "A", TensorProto::FLOAT, {std::string("n")});
  add_input(g, "B", TensorProto::FLOAT, {std::string("m")});
  auto* n = add_node(g, "Scan", {"A", "B"}, {"Y"}, "zip");
  set_int(n, "num_scan_inputs", 2);
  auto* b = set_graph(n, "body");
  b->set_name("zip_body");
  add_input(*b, "a", TensorProto::FLOAT, {});
  add_input(*b, "b", TensorProto::FLOAT, {});
  add_node(*b, "Add", {"a", "b"}, {"y"});
  add_output(*b, "y", TensorProto::FLOAT);
  add_output(g, "Y", TensorProto::FLOAT);
  auto r = run_on_cpu(m, {make_tensor<float>({3}, {1, 2, 3}), make_tensor<float>({4}, {1, 2, 3, 4})});
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("scan input 1 float32 [4] has 4 slices along axis 0, scan input 0 has 3"),
            std::string::npos)
      << r.status().message();
}

TEST(ConstantKernel, EveryValueForm) {
  auto m = make_model();
  auto& g = *m.mutable_graph();
  auto* a = add_node(g, "Constant", {}, {"a"});
  set_float(a, "value_float", 2.5f);
  auto* b = add_node(g, "Constant", {}, {"b"});
  set_ints(b, "value_ints", {4, 5, 6});
  auto* c = add_node(g, "Constant", {}, {"c"});
  auto* attr = c->add_attribute();
  attr->set_name("value");
  attr->set_type(onnx::AttributeProto::TENSOR);
  auto* t = attr->mutable_t();
  t->set_data_type(TensorProto::FLOAT), t->add_dims(2), t->add_float_data(7), t->add_float_data(8);
  add_output(g, "a", TensorProto::FLOAT);
  add_output(g, "b", TensorProto::INT64);
  add_output(g, "c", TensorProto::FLOAT);
  auto r = run_on_cpu(m, {});
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_TRUE((*r)[0].shape().empty());
  EXPECT_EQ(values_of<float>((*r)[0]), (std::vector<float>{2.5f}));
  EXPECT_EQ(values_of<int64_t>((*r)[1]), (std::vector<int64_t>{4, 5, 6}));
  EXPECT_EQ((*r)[2].shape(), (std::vector<int64_t>{2}));
  EXPECT_EQ(values_of<float>((*r)[2]), (std::vector<float>{7, 8}));
}

TEST(Executor, IdentityChainsAndMissingInputs) {
  auto m = make_model();
  auto& g = *m.mutable_graph();
  add_input(g, "x", TensorProto::INT64, {int64_t{2}});
  add_node(g, "Identity", {"x"}, {"y"});
  add_node(g, "Identity", {"y"}, {"z"});
  add_output(g, "z", TensorProto::INT64);
  auto r = run_on_cpu(m, {make_tensor<int64_t>({2}, {7, -7})});
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_EQ(values_of<int64_t>((*r)[0]), (std::vector<int64_t>{7, -7}));
  auto missing = run_on_cpu(m, {});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.status().message().find("takes 1 inputs, got 0"), std::string::npos);
}

// Import refuses every op ONNX knows and tandem does not run, so a graph built in code reaches the device
// with one: the CPU says it has no kernel, both when asked and when compiling.
TEST(Executor, AnOpWithoutAKernelIsRefusedAtCompileTime) {
  Graph g;
  Node n;
  n.name = "s";
  n.op_type = "NoSuchOp";
  n.opset = 17;
  const ValueId x = g.add_value("x", ValueKind::kGraphInput);
  g.add_input(x);
  n.inputs.push_back(x);
  n.outputs.push_back(g.add_value("y", ValueKind::kNodeOutput));
  const NodeId id = g.add_node(std::move(n));
  const cpu::CpuDevice cpu;
  const Support s = cpu.supports(g, id);
  EXPECT_FALSE(s.ok);
  EXPECT_EQ(s.reason, "no CPU kernel for op 'NoSuchOp'");
  auto k = cpu.create_kernel(KernelInit{g, id, {}});
  ASSERT_FALSE(k);
  EXPECT_EQ(k.status().message(), "node 's' (NoSuchOp): no CPU kernel for op 'NoSuchOp'");
}

}  // namespace
}  // namespace tandem
