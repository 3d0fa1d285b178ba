// Weights held once (session/packed_weight_release.h): a session holding the only reference to its model
// frees the model's copy of the constants its kernels packed, computes what a session that freed nothing
// computes, keeps every constant something else still reads, and a model so freed makes no other session.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <string>

#include <tandem/tandem.h>

#include "graph/rnn_time_split.h"
#include "graph/topo_order.h"
#include "partitioner/plan.h"
#include "runtime_cpu/cpu_device.h"
#include "session/model_impl.h"
#include "session/random_inputs.h"
#include "session/session_impl.h"
#include "tests/support/bitwise_difference.h"
#include "tests/support/model_builder.h"

namespace tandem {
namespace {

using test::source_path;

// Weak references to the model's initializers by name, taken before any session frees them.
std::map<std::string, std::weak_ptr<const TensorData>> initializers_of(const Model& m) {
  std::map<std::string, std::weak_ptr<const TensorData>> out;
  for (const Value& v : m.impl().ir.graph->values())
    if (v.kind == ValueKind::kInitializer && v.data) out[v.name] = v.data;
  return out;
}

// Names of the initializers whose every reader is an LSTM, GRU or RNN taking it as W, R, B or P: what the
// recurrent kernels pack, so what a session holding the only reference frees.
std::set<std::string> packed_by_recurrent_nodes(const Model& m) {
  const Graph& g = *m.impl().ir.graph;
  std::map<ValueId, bool> only_packed;
  for (const Node& n : g.nodes()) {
    const bool rnn = n.op_type == "LSTM" || n.op_type == "GRU" || n.op_type == "RNN";
    for (std::size_t i = 0; i < n.inputs.size(); ++i) {
      const ValueId v = n.inputs[i];
      if (v == kNoValue || g.value(v).kind != ValueKind::kInitializer) continue;
      const bool weight = rnn && (i == 1 || i == 2 || i == 3 || (i == 7 && n.op_type == "LSTM"));
      auto [it, fresh] = only_packed.emplace(v, weight);
      if (!fresh) it->second = it->second && weight;
    }
    for (ValueId v : n.implicit_inputs) only_packed[v] = false;
  }
  std::set<std::string> names;
  for (const auto& [v, packed] : only_packed)
    if (packed && !g.is_graph_output(v)) names.insert(g.value(v).name);
  return names;
}

std::vector<Tensor> run_random(const Session& s, uint64_t seed) {
  const Graph& g = s.impl().graph();
  std::vector<Tensor> feeds;
  for (ValueId v : g.inputs()) feeds.push_back(random_input(g.value(v), seed++).tensor);
  auto out = s.impl().run(pointers_to(feeds));
  EXPECT_TRUE(out) << out.status().message();
  return out ? std::move(out).value() : std::vector<Tensor>{};
}

SessionOptions one_thread() {
  SessionOptions o;
  o.threads = 1;
  return o;
}

class RecurrentModel : public ::testing::TestWithParam<std::string> {};

TEST_P(RecurrentModel, ASessionHoldingTheOnlyReferenceFreesThePackedWeightsAndComputesTheSame) {
  const std::string path = source_path("tests/data/pytorch/" + GetParam() + "/model.onnx");
  const Model kept = Model::load(path);
  const Session reference(kept, one_thread());  // its caller keeps the model: nothing is freed

  Model model = Model::load(path);
  const auto weak = initializers_of(model);
  const std::set<std::string> packed = packed_by_recurrent_nodes(model);
  ASSERT_FALSE(packed.empty()) << "the model has no recurrent weights to free";
  const Session lean(std::move(model), one_thread());
  EXPECT_TRUE(lean.model().impl().weights_released);
  EXPECT_FALSE(kept.impl().weights_released);
  for (const auto& [name, w] : weak)
    EXPECT_EQ(w.expired(), packed.count(name) == 1) << name << (w.expired() ? " was freed" : " is still held");
  for (const auto& [name, w] : initializers_of(kept)) EXPECT_FALSE(w.expired()) << name;

  for (uint64_t seed : {1u, 2u}) {
    const std::vector<Tensor> got = run_random(lean, seed), want = run_random(reference, seed);
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t k = 0; k < got.size(); ++k)
      EXPECT_EQ(test::bitwise_difference(got[k], want[k], "output " + std::to_string(k)), "") << "seed " << seed;
  }
}

INSTANTIATE_TEST_SUITE_P(Models, RecurrentModel,
                         ::testing::Values("lstm_2layer_bidir", "gru_batch_first", "rnn_tanh_2layer",
                                           "rnn_family_double", "lstm_initial_state"),
                         [](const auto& param_info) { return param_info.param; });

// An LSTM whose W is also summed by a ReduceSum: W stays (the ReduceSum reads it at every run), R and B,
// which only the LSTM reads, go; both outputs are still right.
TEST(PackedWeightRelease, AConstantAnotherNodeReadsIsKept) {
  constexpr int64_t kInput = 4, kHidden = 5, kSeq = 3;
  onnx::ModelProto m = test::make_model(17);
  auto& g = *m.mutable_graph();
  test::add_input(g, "x", onnx::TensorProto::FLOAT, {kSeq, 1, kInput});
  const std::vector<float> w = test::random_floats(4 * kHidden * kInput, 11);
  test::add_float_initializer(g, "W", {1, 4 * kHidden, kInput}, w);
  test::add_float_initializer(g, "R", {1, 4 * kHidden, kHidden}, test::random_floats(4 * kHidden * kHidden, 12));
  test::add_float_initializer(g, "B", {1, 8 * kHidden}, test::random_floats(8 * kHidden, 13));
  test::set_int(test::add_node(g, "LSTM", {"x", "W", "R", "B"}, {"y"}, "lstm"), "hidden_size", kHidden);
  test::set_int(test::add_node(g, "ReduceSum", {"W"}, {"w_sum"}, "sum"), "keepdims", 0);
  test::add_output(g, "y");
  test::add_output(g, "w_sum");
  const std::string bytes = m.SerializeAsString();

  const Model kept = Model::load_from_bytes(bytes.data(), bytes.size(), "lstm_and_sum.onnx");
  const Session reference(kept, one_thread());
  Model model = Model::load_from_bytes(bytes.data(), bytes.size(), "lstm_and_sum.onnx");
  const auto weak = initializers_of(model);
  const Session lean(std::move(model), one_thread());
  EXPECT_FALSE(weak.at("W").expired()) << "W was freed, but ReduceSum reads it";
  EXPECT_TRUE(weak.at("R").expired());
  EXPECT_TRUE(weak.at("B").expired());

  const std::vector<Tensor> got = run_random(lean, 5), want = run_random(reference, 5);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(test::bitwise_difference(got[0], want[0], "y"), "");
  double sum = 0;
  for (float v : w) sum += v;
  EXPECT_NEAR(got[1].data<float>()[0], sum, 1e-4);
}

// A packed constant with no elements still counts: the model is marked and refuses another session (its B
// is gone); a constant nothing reads is dropped without marking the model, which makes sessions as before.
TEST(PackedWeightRelease, AnEmptyPackedConstantMarksTheModelAndAnUnreadOneDoesNot) {
  const auto uint8_initializer = [](onnx::GraphProto& g, const std::string& name, std::vector<int64_t> dims) {
    onnx::TensorProto* t = g.add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::UINT8);
    int64_t n = 1;
    for (int64_t d : dims) t->add_dims(d), n *= d;
    t->set_raw_data(std::string(static_cast<std::size_t>(n), '\x03'));
  };
  onnx::ModelProto empty_b = test::make_model(17);
  auto& g = *empty_b.mutable_graph();
  test::add_input(g, "a", onnx::TensorProto::UINT8, {2, 3});
  uint8_initializer(g, "B", {3, 0});
  test::add_node(g, "MatMulInteger", {"a", "B"}, {"y"}, "mm");
  test::add_output(g, "y");
  std::string bytes = empty_b.SerializeAsString();
  const Session lean(Model::load_from_bytes(bytes.data(), bytes.size(), "empty_b.onnx"));
  EXPECT_TRUE(lean.model().impl().weights_released);
  EXPECT_THROW(Session again(lean.model()), Error);
  EXPECT_EQ(run_random(lean, 1).at(0).shape(), (std::vector<int64_t>{2, 0}));

  onnx::ModelProto unread = test::make_model(17);
  auto& u = *unread.mutable_graph();
  test::add_input(u, "x", onnx::TensorProto::FLOAT, {2});
  test::add_float_initializer(u, "left_over", {1000}, std::vector<float>(1000, 1.0f));
  test::add_node(u, "Identity", {"x"}, {"y"}, "id");
  test::add_output(u, "y");
  bytes = unread.SerializeAsString();
  Model model = Model::load_from_bytes(bytes.data(), bytes.size(), "unread.onnx");
  const auto weak = initializers_of(model);
  const Session first(std::move(model));
  EXPECT_TRUE(weak.at("left_over").expired());
  EXPECT_FALSE(first.model().impl().weights_released);
  const Session second(first.model());  // allowed: nothing it reads was dropped
  EXPECT_EQ(run_random(second, 2).size(), 1u);
}

TEST(PackedWeightRelease, AFreedModelDescribesItselfButMakesNoOtherSession) {
  const std::string path = source_path("tests/data/pytorch/lstm_initial_state/model.onnx");
  const Session s(path);
  const Model& m = s.model();
  ASSERT_TRUE(m.impl().weights_released);
  EXPECT_EQ(m.inputs().size(), 3u);
  EXPECT_EQ(m.parameter_count(), Model::load(path).parameter_count());
  try {
    Session again(m);
    ADD_FAILURE() << "a session was made from a model whose weights were freed";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("model '" + path + "': its weights were freed by the session that held its only reference"),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("load the model again"), std::string::npos) << what;
  }
  EXPECT_EQ(run_random(s, 3).size(), 3u);  // the session that freed them still runs
}

// One Model its caller keeps makes any number of sessions: none of them frees anything, also one given the
// model by std::move while the others still hold it.
TEST(PackedWeightRelease, AModelItsCallerKeepsMakesManySessions) {
  const std::string path = source_path("tests/data/pytorch/lstm_2layer_bidir/model.onnx");
  Model model = Model::load(path);
  const auto weak = initializers_of(model);
  const Session a(model, one_thread()), b(model, one_thread());
  const Session c(std::move(model), one_thread());
  EXPECT_FALSE(c.model().impl().weights_released);
  for (const auto& [name, w] : weak) EXPECT_FALSE(w.expired()) << name;
  const std::vector<Tensor> from_a = run_random(a, 7), from_b = run_random(b, 7), from_c = run_random(c, 7);
  ASSERT_EQ(from_a.size(), from_b.size());
  for (std::size_t k = 0; k < from_a.size(); ++k) {
    EXPECT_EQ(test::bitwise_difference(from_b[k], from_a[k], "output " + std::to_string(k)), "");
    EXPECT_EQ(test::bitwise_difference(from_c[k], from_a[k], "output " + std::to_string(k)), "");
  }
}

// A plan for the LSTM split into time chunks, on two CPU devices: the chunks read the model's weights
// through the session's split copy of the graph, and both copies let them go.
TEST(PackedWeightRelease, APlanOverTimeChunksFreesTheWeightsToo) {
  const std::string path = source_path("tests/data/pytorch/lstm_initial_state/model.onnx");
  LoadOptions dims;
  dims.dims = {{"seq", 6}, {"batch", 1}};
  constexpr int kChunks = 3;
  Graph split(*Model::load(path, dims).impl().ir.graph);
  ASSERT_FALSE(split_rnns_in_time(split, kChunks).split.empty());
  auto order = topological_order(split);
  ASSERT_TRUE(order) << order.status().message();
  partition::Plan plan;
  plan.algorithm = "by hand";
  plan.time_chunks = kChunks;
  for (std::size_t k = 0; k < order->size(); ++k) {
    const NodeId id = (*order)[k];
    partition::PlanNode n;
    n.node_index = id;
    n.name = split.node(id).name;
    n.device = k % 2 ? partition::Device::kGpu : partition::Device::kCpu;
    n.order = static_cast<int>(k);
    plan.nodes.push_back(n);
  }
  const test::TempDir dir;
  const std::string plan_path = (dir.path() / "plan.json").string();
  ASSERT_TRUE(partition::save_plan(plan, plan_path).is_ok());

  const Model kept = Model::load(path, dims);
  SessionOptions cpu_alone = one_thread();
  cpu_alone.load = dims;
  const Session reference(kept, cpu_alone);
  Model model = Model::load(path, dims);
  const auto weak = initializers_of(model);
  const std::set<std::string> packed = packed_by_recurrent_nodes(model);
  SessionOptions o;
  o.load = dims;
  o.plan_path = plan_path;
  o.devices = "cpu,cpu";
  o.threads = 2;
  const Session lean(std::move(model), o);
  ASSERT_TRUE(lean.impl().plan_executor);
  int lstm = 0;
  for (const Node& n : lean.impl().plan_executor->graph().nodes()) lstm += n.op_type == "LSTM";
  EXPECT_EQ(lstm, kChunks);
  EXPECT_TRUE(lean.model().impl().weights_released);
  for (const auto& [name, w] : weak) EXPECT_EQ(w.expired(), packed.count(name) == 1) << name;

  const std::vector<Tensor> got = run_random(lean, 9), want = run_random(reference, 9);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t k = 0; k < got.size(); ++k)
    for (int64_t i = 0; i < want[k].numel(); ++i)
      ASSERT_NEAR(got[k].data<float>()[i], want[k].data<float>()[i], 1e-5) << "output " << k << " element " << i;
}

}  // namespace
}  // namespace tandem
