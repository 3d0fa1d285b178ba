// Splitting LSTM/GRU/RNN nodes into time chunks must not change what they compute: the split graph runs
// on the CPU and is compared with the node it replaced, on random weights, for every op, direction,
// layout and chunk count, with outputs omitted or not.
#include <gtest/gtest.h>


#include "graph/rnn_time_split.h"
#include "runtime/executor.h"
#include "runtime_cpu/cpu_device.h"
#include "tests/support/model_builder.h"
#include "tests/support/op_runner.h"

namespace tandem {
namespace {

using namespace tandem::test;
using onnx::TensorProto;

constexpr int64_t kSteps = 7, kBatch = 2, kInput = 3, kHidden = 5;

std::vector<float> random_values(std::size_t n, uint32_t seed) {
  return test::random_floats(static_cast<int64_t>(n), seed, -0.5f, 0.5f);
}

struct Config {
  std::string op;
  std::string direction;
  int layout;
  bool want_y, want_h, initial_state;
};

int gates(const std::string& op) { return op == "LSTM" ? 4 : op == "GRU" ? 3 : 1; }

onnx::ModelProto rnn_model(const Config& c) {
  auto m = make_model(14);
  auto& g = *m.mutable_graph();
  const int64_t t = kSteps, b = kBatch;
  if (c.layout == 0) add_input(g, "X", TensorProto::FLOAT, {t, b, kInput});
  else add_input(g, "X", TensorProto::FLOAT, {b, t, kInput});
  const int64_t gh = gates(c.op) * kHidden;
  add_float_initializer(g, "W", {1, gh, kInput}, random_values(static_cast<std::size_t>(gh * kInput), 1));
  add_float_initializer(g, "R", {1, gh, kHidden}, random_values(static_cast<std::size_t>(gh * kHidden), 2));
  add_float_initializer(g, "B", {1, 2 * gh}, random_values(static_cast<std::size_t>(2 * gh), 3));
  std::vector<std::string> inputs = {"X", "W", "R", "B", "", c.initial_state ? "h0" : ""};
  const std::vector<int64_t> state_shape = c.layout == 0 ? std::vector<int64_t>{1, b, kHidden} : std::vector<int64_t>{b, 1, kHidden};
  const auto state_count = static_cast<std::size_t>(b * kHidden);
  if (c.initial_state) add_float_initializer(g, "h0", state_shape, random_values(state_count, 4));
  if (c.op == "LSTM") {
    inputs.push_back(c.initial_state ? "c0" : "");
    if (c.initial_state) add_float_initializer(g, "c0", state_shape, random_values(state_count, 5));
    inputs.push_back("P");
    add_float_initializer(g, "P", {1, 3 * kHidden}, random_values(static_cast<std::size_t>(3 * kHidden), 6));
  }
  std::vector<std::string> outputs = {c.want_y ? "Y" : "", c.want_h ? "Y_h" : ""};
  if (c.op == "LSTM") outputs.push_back("Y_c");
  auto* n = add_node(g, c.op, inputs, outputs, "rnn");
  set_int(n, "hidden_size", kHidden);
  set_string(n, "direction", c.direction);
  set_int(n, "layout", c.layout);
  if (c.op == "GRU") set_int(n, "linear_before_reset", 1);
  if (c.want_y) add_output(g, "Y", TensorProto::FLOAT);
  if (c.want_h) add_output(g, "Y_h", TensorProto::FLOAT);
  if (c.op == "LSTM") add_output(g, "Y_c", TensorProto::FLOAT);
  return m;
}

std::vector<Tensor> run(const Graph& g, const Tensor& x) {
  static const cpu::CpuDevice cpu;
  auto exec = GraphExecutor::compile(g, cpu);
  EXPECT_TRUE(exec) << exec.status().message();
  if (!exec) return {};
  std::vector<const Tensor*> feeds = {&x};
  auto out = (*exec)->run(feeds);
  EXPECT_TRUE(out) << out.status().message();
  return out ? *out : std::vector<Tensor>{};
}

TEST(RnnTimeSplit, ChunkedNodesComputeWhatTheNodeDid) {
  int checked = 0;
  for (const std::string op : {"LSTM", "GRU", "RNN"})
    for (const std::string direction : {"forward", "reverse"})
      for (int layout : {0, 1})
        for (bool initial : {false, true})
          for (auto [want_y, want_h] : {std::pair{true, true}, std::pair{true, false}, std::pair{false, true}}) {
            const Config c{op, direction, layout, want_y, want_h, initial};
            auto ir = import_proto(rnn_model(c));
            ASSERT_TRUE(ir) << ir.status().message();
            const Tensor x = make_tensor<float>(layout == 0 ? std::vector<int64_t>{kSteps, kBatch, kInput}
                                                            : std::vector<int64_t>{kBatch, kSteps, kInput},
                                                random_values(kSteps * kBatch * kInput, 7));
            const std::vector<Tensor> want = run(*ir->graph, x);
            for (int chunks : {2, 3, 7}) {
              SCOPED_TRACE(op + " " + direction + " layout " + std::to_string(layout) + " chunks " +
                           std::to_string(chunks) + (want_y ? " Y" : "") + (want_h ? " Y_h" : "") +
                           (initial ? " initial" : ""));
              Graph g = *ir->graph;
              // The graph's nested pointers are shared by the copy; an RNN node has none, so this is safe.
              ASSERT_TRUE(split_rnn_in_time(g, 0, chunks).is_ok());
              int rnn_nodes = 0;
              for (const Node& n : g.nodes()) rnn_nodes += n.op_type == op ? 1 : 0;
              EXPECT_EQ(rnn_nodes, chunks);
              const std::vector<Tensor> got = run(g, x);
              ASSERT_EQ(got.size(), want.size());
              for (std::size_t k = 0; k < want.size(); ++k) {
                ASSERT_EQ(got[k].shape(), want[k].shape());
                for (int64_t i = 0; i < want[k].numel(); ++i)
                  ASSERT_NEAR(got[k].data<float>()[i], want[k].data<float>()[i], 1e-6) << "output " << k << " element " << i;
              }
              ++checked;
            }
          }
  EXPECT_EQ(checked, 3 * 2 * 2 * 2 * 3 * 3);
}

TEST(RnnTimeSplit, RefusesWhatItCannotSplitExactly) {
  auto message = [](Config c, int chunks, bool seq_lens = false) {
    auto m = rnn_model(c);
    if (seq_lens) {
      auto& g = *m.mutable_graph();
      auto* lens = g.add_initializer();  // sequence_lens is int32
      lens->set_name("lens"), lens->set_data_type(TensorProto::INT32), lens->add_dims(kBatch);
      lens->add_int32_data(kSteps), lens->add_int32_data(3);
      g.mutable_node(0)->set_input(4, "lens");
    }
    auto ir = import_proto(m);
    EXPECT_TRUE(ir) << ir.status().message();
    const Status s = split_rnn_in_time(*ir->graph, 0, chunks);
    return s.is_ok() ? std::string("ok") : s.message();
  };
  EXPECT_NE(message({"LSTM", "bidirectional", 0, true, true, false}, 2).find("bidirectional node cannot be split"),
            std::string::npos);
  EXPECT_NE(message({"GRU", "forward", 0, true, true, false}, 2, true).find("sequence_lens"), std::string::npos);
  EXPECT_NE(message({"RNN", "forward", 0, true, true, false}, 8).find("8 chunks for 7 steps"), std::string::npos);
  EXPECT_EQ(message({"RNN", "forward", 0, true, true, false}, 1), "ok");
}

}  // namespace
}  // namespace tandem
