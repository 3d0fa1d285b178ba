// Splitting a bidirectional LSTM/GRU/RNN node into its two directions must not change what it computes:
// the split graph runs on the CPU and is compared with the node it replaced, on random weights, for every
// op, layout, kind of initial state (none, constant, a graph input: then a Split node cuts it), with
// sequence_lens, non-default activations, clip and outputs omitted; and on a PyTorch model.
#include <gtest/gtest.h>


#include "graph/rnn_direction_split.h"
#include "runtime/executor.h"
#include "runtime_cpu/cpu_device.h"
#include "tests/support/model_builder.h"
#include "tests/support/model_case.h"
#include "tests/support/op_runner.h"

namespace tandem {
namespace {

using namespace tandem::test;
using onnx::TensorProto;

constexpr int64_t kSteps = 6, kBatch = 3, kInput = 4, kHidden = 5;

std::vector<float> random_values(std::size_t n, uint32_t seed) {
  return test::random_floats(static_cast<int64_t>(n), seed, -0.6f, 0.6f);
}

// kInputWithDefault: a graph input with an initializer of its name, which the caller may replace.
enum class Initial { kNone, kConstant, kGraphInput, kInputWithDefault };

struct Config {
  std::string op;
  int layout = 0;
  Initial initial = Initial::kNone;
  bool want_y = true, want_h = true, seq_lens = false, extras = false;  // extras: activations, clip, ...
};

int gates(const std::string& op) { return op == "LSTM" ? 4 : op == "GRU" ? 3 : 1; }

std::vector<int64_t> state_shape(int layout) {
  return layout == 0 ? std::vector<int64_t>{2, kBatch, kHidden} : std::vector<int64_t>{kBatch, 2, kHidden};
}

onnx::ModelProto bidirectional_model(const Config& c) {
  auto m = make_model(17);
  auto& g = *m.mutable_graph();
  if (c.layout == 0) add_input(g, "X", TensorProto::FLOAT, {kSteps, kBatch, kInput});
  else add_input(g, "X", TensorProto::FLOAT, {kBatch, kSteps, kInput});
  const int64_t gh = gates(c.op) * kHidden;
  add_float_initializer(g, "W", {2, gh, kInput}, random_values(static_cast<std::size_t>(2 * gh * kInput), 1));
  add_float_initializer(g, "R", {2, gh, kHidden}, random_values(static_cast<std::size_t>(2 * gh * kHidden), 2));
  add_float_initializer(g, "B", {2, 2 * gh}, random_values(static_cast<std::size_t>(4 * gh), 3));
  std::vector<std::string> inputs = {"X", "W", "R", "B", c.seq_lens ? "lens" : "", c.initial != Initial::kNone ? "h0" : ""};
  if (c.seq_lens) {
    auto* lens = g.add_initializer();  // sequence_lens is int32
    lens->set_name("lens"), lens->set_data_type(TensorProto::INT32), lens->add_dims(kBatch);
    lens->add_int32_data(kSteps), lens->add_int32_data(2), lens->add_int32_data(0);
  }
  const auto state_count = static_cast<std::size_t>(2 * kBatch * kHidden);
  auto add_state = [&](const std::string& name, uint32_t seed) {
    if (c.initial == Initial::kConstant || c.initial == Initial::kInputWithDefault)
      add_float_initializer(g, name, state_shape(c.layout), random_values(state_count, seed));
    if (c.initial != Initial::kGraphInput && c.initial != Initial::kInputWithDefault) return;
    if (c.layout == 0) add_input(g, name, TensorProto::FLOAT, {int64_t{2}, kBatch, kHidden});
    else add_input(g, name, TensorProto::FLOAT, {kBatch, int64_t{2}, kHidden});
  };
  add_state("h0", 4);
  if (c.op == "LSTM") {
    inputs.push_back(c.initial != Initial::kNone ? "c0" : "");
    add_state("c0", 5);
    inputs.push_back("P");
    add_float_initializer(g, "P", {2, 3 * kHidden}, random_values(static_cast<std::size_t>(6 * kHidden), 6));
  }
  std::vector<std::string> outputs = {c.want_y ? "Y" : "", c.want_h ? "Y_h" : ""};
  if (c.op == "LSTM") outputs.push_back("Y_c");
  auto* n = add_node(g, c.op, inputs, outputs, "rnn");
  set_int(n, "hidden_size", kHidden);
  set_string(n, "direction", "bidirectional");
  set_int(n, "layout", c.layout);
  if (c.op == "GRU") set_int(n, "linear_before_reset", c.extras ? 0 : 1);
  if (c.extras) {
    // Each direction its own functions: a split that gave both the first half would show.
    auto* acts = n->add_attribute();
    acts->set_name("activations");
    acts->set_type(onnx::AttributeProto::STRINGS);
    const std::vector<std::string> per_op =
        c.op == "LSTM"  ? std::vector<std::string>{"Sigmoid", "Tanh", "Tanh", "HardSigmoid", "Relu", "Sigmoid"}
        : c.op == "GRU" ? std::vector<std::string>{"Sigmoid", "Tanh", "HardSigmoid", "Relu"}
                        : std::vector<std::string>{"Tanh", "Relu"};
    for (const std::string& a : per_op) acts->add_strings(a);
    set_float(n, "clip", 0.7f);
    if (c.op == "LSTM") set_int(n, "input_forget", 1);
  }
  if (c.want_y) add_output(g, "Y", TensorProto::FLOAT);
  if (c.want_h) add_output(g, "Y_h", TensorProto::FLOAT);
  if (c.op == "LSTM") add_output(g, "Y_c", TensorProto::FLOAT);
  return m;
}

std::vector<Tensor> run(const Graph& g, const std::vector<Tensor>& inputs) {
  static const cpu::CpuDevice cpu;
  auto exec = GraphExecutor::compile(g, cpu);
  EXPECT_TRUE(exec) << exec.status().message();
  if (!exec) return {};
  std::vector<const Tensor*> feeds;
  for (const Tensor& t : inputs) feeds.push_back(&t);
  auto out = (*exec)->run(feeds);
  EXPECT_TRUE(out) << out.status().message();
  return out ? *out : std::vector<Tensor>{};
}

void expect_same(const std::vector<Tensor>& got, const std::vector<Tensor>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t k = 0; k < want.size(); ++k) {
    ASSERT_EQ(got[k].shape(), want[k].shape()) << "output " << k;
    for (int64_t i = 0; i < want[k].numel(); ++i)
      ASSERT_NEAR(got[k].data<float>()[i], want[k].data<float>()[i], 1e-6) << "output " << k << " element " << i;
  }
}

TEST(RnnDirectionSplit, TheTwoDirectionsComputeWhatTheNodeDid) {
  int checked = 0;
  for (const std::string op : {"LSTM", "GRU", "RNN"})
    for (int layout : {0, 1})
      for (Initial initial : {Initial::kNone, Initial::kConstant, Initial::kGraphInput, Initial::kInputWithDefault})
        for (auto [want_y, want_h] : {std::pair{true, true}, std::pair{true, false}, std::pair{false, true}})
          for (bool variant : {false, true}) {
            const Config c{op, layout, initial, want_y, want_h, /*seq_lens=*/variant, /*extras=*/variant};
            SCOPED_TRACE(op + " layout " + std::to_string(layout) + " initial " + std::to_string(static_cast<int>(initial)) +
                         (want_y ? " Y" : "") + (want_h ? " Y_h" : "") + (variant ? " seq_lens+activations+clip" : ""));
            auto ir = import_proto(bidirectional_model(c));
            ASSERT_TRUE(ir) << ir.status().message();
            std::vector<Tensor> inputs = {make_tensor<float>(
                layout == 0 ? std::vector<int64_t>{kSteps, kBatch, kInput} : std::vector<int64_t>{kBatch, kSteps, kInput},
                random_values(kSteps * kBatch * kInput, 7))};
            const bool fed = initial == Initial::kGraphInput || initial == Initial::kInputWithDefault;
            if (fed)  // a caller's value, not the default
              for (int s = 0; s < (op == "LSTM" ? 2 : 1); ++s)
                inputs.push_back(make_tensor<float>(state_shape(layout), random_values(2 * kBatch * kHidden, 8 + s)));
            const std::vector<Tensor> want = run(*ir->graph, inputs);

            Graph g = *ir->graph;
            const DirectionSplitReport report = split_bidirectional_rnns(g);
            ASSERT_EQ(report.split, std::vector<std::string>{"rnn"});
            int forward = 0, reverse = 0, splits = 0;
            for (const Node& n : g.nodes()) {
              if (n.op_type == op) (n.attribute_string("direction", "forward") == "reverse" ? reverse : forward) += 1;
              splits += n.op_type == "Split" ? 1 : 0;
            }
            EXPECT_EQ(forward, 1);
            EXPECT_EQ(reverse, 1);
            EXPECT_EQ(splits, fed ? (op == "LSTM" ? 2 : 1) : 0);
            expect_same(run(g, inputs), want);
            ++checked;
          }
  EXPECT_EQ(checked, 3 * 2 * 4 * 3 * 2);
}

TEST(RnnDirectionSplit, APyTorchTwoLayerBidirectionalLstm) {
  const ModelCase c = load_model_case("tests/data/pytorch/lstm_2layer_bidir");
  std::vector<Tensor> inputs;
  for (const Tensor& t : c.inputs) inputs.push_back(t);
  const std::vector<Tensor> want = run(c.graph(), inputs);
  Graph g = c.graph();
  const DirectionSplitReport report = split_bidirectional_rnns(g);
  EXPECT_EQ(report.split.size(), 2u);
  EXPECT_TRUE(report.refused.empty());
  expect_same(run(g, inputs), want);
  // Splitting again finds nothing left to split: the runtime can repeat what the partitioner did.
  EXPECT_TRUE(split_bidirectional_rnns(g).split.empty());
}

TEST(RnnDirectionSplit, RefusesWhatItCannotSplitExactly) {
  auto message = [](onnx::ModelProto m) {
    auto ir = import_proto(m);
    EXPECT_TRUE(ir) << ir.status().message();
    if (!ir) return std::string();
    NodeId rnn = kNoNode;
    for (std::size_t i = 0; i < ir->graph->num_nodes(); ++i)
      if (ir->graph->node(static_cast<NodeId>(i)).name == "rnn") rnn = static_cast<NodeId>(i);
    const Status s = split_rnn_directions(*ir->graph, rnn);
    return s.is_ok() ? std::string("ok") : s.message();
  };
  auto forward = bidirectional_model({"GRU"});
  {  // one direction only (W of one direction would be invalid for bidirectional, so build a forward GRU)
    auto& g = *forward.mutable_graph();
    g.clear_initializer();
    const int64_t gh = 3 * kHidden;
    add_float_initializer(g, "W", {1, gh, kInput}, random_values(static_cast<std::size_t>(gh * kInput), 1));
    add_float_initializer(g, "R", {1, gh, kHidden}, random_values(static_cast<std::size_t>(gh * kHidden), 2));
    add_float_initializer(g, "B", {1, 2 * gh}, random_values(static_cast<std::size_t>(2 * gh), 3));
    g.mutable_node(0)->mutable_attribute(1)->set_s("forward");
  }
  EXPECT_NE(message(forward).find("not bidirectional"), std::string::npos);

  auto with_alpha = bidirectional_model({"RNN"});
  {
    auto* alpha = with_alpha.mutable_graph()->mutable_node(0)->add_attribute();
    alpha->set_name("activation_alpha");
    alpha->set_type(onnx::AttributeProto::FLOATS);
    alpha->add_floats(0.5f), alpha->add_floats(0.25f);
  }
  EXPECT_NE(message(with_alpha).find("activation_alpha"), std::string::npos);

  auto computed = bidirectional_model({"LSTM"});  // R = Identity(R0): computed by the graph
  {
    auto& g = *computed.mutable_graph();
    g.mutable_initializer(1)->set_name("R0");
    auto* id = g.add_node();
    id->set_op_type("Identity"), id->add_input("R0"), id->add_output("R"), id->set_name("r");
    g.mutable_node()->SwapElements(0, 1);
  }
  EXPECT_NE(message(computed).find("R is computed by the graph"), std::string::npos);
  {  // refused after W passed its checks: nothing was added to the graph
    auto ir = import_proto(computed);
    ASSERT_TRUE(ir) << ir.status().message();
    const std::size_t values = ir->graph->num_values(), nodes = ir->graph->num_nodes();
    const DirectionSplitReport report = split_bidirectional_rnns(*ir->graph);
    EXPECT_TRUE(report.split.empty());
    EXPECT_EQ(ir->graph->num_values(), values);
    EXPECT_EQ(ir->graph->num_nodes(), nodes);
  }
  EXPECT_EQ(message(bidirectional_model({"LSTM"})), "ok");
}

}  // namespace
}  // namespace tandem
