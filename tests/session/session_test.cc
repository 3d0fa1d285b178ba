// The public Session: real models end to end against their expected outputs, input validation with
// messages that name the problem, and many threads sharing one session.
#include <gtest/gtest.h>

#include <filesystem>
#include <atomic>
#include <cmath>
#include <cstring>
#include <thread>

#include <tandem/tandem.h>

#include "session/case_check.h"
#include "tests/support/model_builder.h"

namespace tandem {
namespace {

using test::source_path;

void expect_case_passes(const std::string& dir, Tolerance tol) {
  auto r = check_case(dir, tol, 1);
  ASSERT_TRUE(r) << r.status().message();
  ASSERT_FALSE(r->data_sets.empty());
  for (const DataSetResult& ds : r->data_sets)
    for (const OutputComparison& o : ds.outputs)
      EXPECT_TRUE(o.pass) << dir << " " << ds.name << " " << o.name << ": " << o.problem << " max abs "
                          << o.max_abs_error << " max rel " << o.max_rel_error;
}

// Tolerances from the Silero README: ONNX Runtime and PyTorch agree within 1e-5 on the probability and
// 1e-4 on the state; the check uses atol 1e-4 with rtol 1e-3 on all outputs.
TEST(SileroVad, Opset15AllSixteenStepsMatchOnnxRuntime) {
  auto r = check_case(source_path("models/silero_vad/silero_vad_16k_op15"), {1e-3, 1e-4}, 1);
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_EQ(r->data_sets.size(), 16u);
  for (const DataSetResult& ds : r->data_sets)
    for (const OutputComparison& o : ds.outputs) EXPECT_TRUE(o.pass) << ds.name << " " << o.name << " " << o.max_abs_error;
}

TEST(SileroVad, Opset18AllSixteenStepsMatchOnnxRuntime) {
  auto r = check_case(source_path("models/silero_vad/silero_vad_op18_ifless"), {1e-3, 1e-4}, 1);
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_EQ(r->data_sets.size(), 16u);
  for (const DataSetResult& ds : r->data_sets)
    for (const OutputComparison& o : ds.outputs) EXPECT_TRUE(o.pass) << ds.name << " " << o.name << " " << o.max_abs_error;
}

class PyTorchExport : public ::testing::TestWithParam<std::string> {};

TEST_P(PyTorchExport, MatchesPyTorch) {
  expect_case_passes(source_path("tests/data/pytorch/" + GetParam()), {1e-4, 1e-5});
}

INSTANTIATE_TEST_SUITE_P(Models, PyTorchExport,
                         ::testing::Values("lstm_2layer_bidir", "lstm_initial_state", "lstm_opset17", "gru_batch_first",
                                           "rnn_tanh_2layer", "tagger", "crnn", "two_encoders",
                                           "lstm_linear_functions", "lstm_loop_decoder", "lstm_list_decoder",
                                           "rnn_family_double"),
                         [](const auto& param_info) { return param_info.param; });

// A model whose input and outputs are sequences, through the public API: SequenceInsert(seq, t) and its
// length. The API's HostTensor carries sequences both ways; a tensor fed where a sequence belongs is refused.
TEST(Session, SequencesGoInAndComeOutAsHostTensors) {
  onnx::ModelProto m = test::make_model(17);
  auto& g = *m.mutable_graph();
  test::add_sequence_input(g, "seq", onnx::TensorProto::FLOAT);
  test::add_input(g, "t", onnx::TensorProto::FLOAT, {"n"});
  test::add_node(g, "SequenceInsert", {"seq", "t"}, {"longer"});
  test::add_node(g, "SequenceLength", {"longer"}, {"length"});
  test::add_sequence_output(g, "longer", onnx::TensorProto::FLOAT);
  test::add_output(g, "length", onnx::TensorProto::INT64);
  const std::string bytes = m.SerializeAsString();
  Session session(Model::load_from_bytes(bytes.data(), bytes.size(), "seq.onnx"));
  ASSERT_EQ(session.model().inputs().size(), 2u);
  EXPECT_EQ(session.model().inputs()[0].form, "sequence");
  EXPECT_EQ(session.model().inputs()[0].dtype, "float32");
  EXPECT_EQ(session.model().inputs()[1].form, "tensor");
  EXPECT_EQ(session.model().outputs()[0].form, "sequence");

  const HostTensor a = HostTensor::of<float>({2}, {1, 2}), b = HostTensor::of<float>({3}, {3, 4, 5});
  const HostTensor t = HostTensor::of<float>({1}, {6});
  auto out = session.run({{"seq", HostTensor::sequence(ElementType::kFloat32, {a, b})}, {"t", t}});
  const HostTensor& longer = out.at("longer");
  ASSERT_TRUE(longer.is_sequence());
  ASSERT_EQ(longer.elements().size(), 3u);
  const std::vector<std::vector<float>> want = {{1, 2}, {3, 4, 5}, {6}};
  for (std::size_t k = 0; k < 3; ++k) {
    const HostTensor& e = longer.elements()[k];
    ASSERT_EQ(e.numel(), static_cast<int64_t>(want[k].size())) << k;
    EXPECT_EQ(std::vector<float>(e.data<float>(), e.data<float>() + e.numel()), want[k]) << k;
  }
  EXPECT_EQ(out.at("length").data<int64_t>()[0], 3);

  try {
    session.run({{"seq", a}, {"t", t}});
    FAIL() << "a tensor was accepted as a sequence";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("input 'seq' must be a sequence of tensors, got a float32 [2]"),
              std::string::npos)
        << e.what();
  }
  try {
    session.run({{"seq", HostTensor::sequence(ElementType::kInt64, {HostTensor::of<int64_t>({1}, {1})})}, {"t", t}});
    FAIL() << "a sequence of int64 was accepted for a sequence of float32";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("must be a sequence of float32 tensors"), std::string::npos) << e.what();
  }
  EXPECT_THROW(HostTensor::sequence(ElementType::kFloat32, {HostTensor::of<int64_t>({1}, {1})}), Error);
}

const std::string kLstm = source_path("tests/data/pytorch/lstm_initial_state/model.onnx");  // x [seq,batch,8], h0, c0 [1,batch,16]

SessionOptions one_thread() {
  SessionOptions o;
  o.threads = 1;
  return o;
}

std::map<std::string, HostTensor> lstm_inputs(int64_t seq, int64_t batch, float scale = 0.1f) {
  std::vector<float> x(static_cast<std::size_t>(seq * batch * 8)), h(static_cast<std::size_t>(batch * 16));
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = scale * static_cast<float>((i * 37) % 17) - 0.8f;
  for (std::size_t i = 0; i < h.size(); ++i) h[i] = 0.05f * static_cast<float>(i % 7);
  return {{"x", HostTensor::of<float>({seq, batch, 8}, x)},
          {"h0", HostTensor::of<float>({1, batch, 16}, h)},
          {"c0", HostTensor::of<float>({1, batch, 16}, h)}};
}

std::string run_error(const Session& s, const std::map<std::string, HostTensor>& inputs) {
  try {
    s.run(inputs);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(Session, RunReturnsEveryOutputByName) {
  Session s(kLstm);
  auto out = s.run(lstm_inputs(5, 2));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out.at("y").shape(), (std::vector<int64_t>{5, 2, 16}));
  EXPECT_EQ(out.at("h_n").shape(), (std::vector<int64_t>{1, 2, 16}));
  EXPECT_EQ(out.at("y").type(), ElementType::kFloat32);
  // The last step of y is the final hidden state.
  for (int i = 0; i < 2 * 16; ++i) EXPECT_EQ(out.at("y").data<float>()[4 * 32 + i], out.at("h_n").data<float>()[i]);
}

TEST(Session, DynamicDimensionsChangeFromRunToRun) {
  Session s(kLstm);
  EXPECT_EQ(s.run(lstm_inputs(3, 1)).at("y").shape(), (std::vector<int64_t>{3, 1, 16}));
  EXPECT_EQ(s.run(lstm_inputs(9, 4)).at("y").shape(), (std::vector<int64_t>{9, 4, 16}));
}

TEST(Session, AnAbsurdThreadCountIsRefusedByName) {
  for (int threads : {-1, 5000}) {
    SessionOptions o;
    o.threads = threads;
    try {
      Session s(kLstm, o);
      ADD_FAILURE() << threads << " threads were accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("SessionOptions::threads must be from 0 (every core) to 1024, got " +
                                           std::to_string(threads)),
                std::string::npos)
          << e.what();
    }
  }
}

TEST(Session, WrongInputsAreNamedInTheError) {
  Session s(kLstm);
  auto in = lstm_inputs(5, 2);
  auto renamed = in;
  renamed["X"] = renamed.at("x");
  renamed.erase("x");
  EXPECT_NE(run_error(s, renamed).find("no input named 'X' (the inputs are: x, h0, c0)"), std::string::npos)
      << run_error(s, renamed);

  auto missing = in;
  missing.erase("c0");
  EXPECT_NE(run_error(s, missing).find("input 'c0' was not given"), std::string::npos);

  auto wrong_type = in;
  wrong_type["x"] = HostTensor::of<int64_t>({5, 2, 8}, std::vector<int64_t>(80, 1));
  EXPECT_NE(run_error(s, wrong_type).find("input 'x' must be float32, got int64"), std::string::npos)
      << run_error(s, wrong_type);

  auto wrong_rank = in;
  wrong_rank["x"] = HostTensor::of<float>({10, 8}, std::vector<float>(80, 0.5f));
  EXPECT_NE(run_error(s, wrong_rank).find("input 'x' must have rank 3 [seq,batch,8], got rank 2 [10,8]"),
            std::string::npos)
      << run_error(s, wrong_rank);

  auto wrong_size = in;
  wrong_size["x"] = HostTensor::of<float>({5, 2, 7}, std::vector<float>(70, 0.5f));
  EXPECT_NE(run_error(s, wrong_size).find("input 'x' dimension 2 must be 8, got 7"), std::string::npos)
      << run_error(s, wrong_size);

  auto inconsistent = in;
  inconsistent["h0"] = HostTensor::of<float>({1, 3, 16}, std::vector<float>(48, 0.5f));
  EXPECT_NE(run_error(s, inconsistent).find("input 'h0' dimension 1 ('batch') is 3, but input 'x' has 'batch' = 2"),
            std::string::npos)
      << run_error(s, inconsistent);
  EXPECT_EQ(run_error(s, in), "no error");
}

TEST(Session, WrappedCallerBuffersAreNotCopiedOrChanged) {
  Session s(kLstm);
  auto in = lstm_inputs(4, 1);
  std::vector<float> x(4 * 8, 0.25f);
  in["x"] = HostTensor::wrap(ElementType::kFloat32, {4, 1, 8}, x.data());
  auto a = s.run(in);
  for (float v : x) ASSERT_EQ(v, 0.25f);
  std::fill(x.begin(), x.end(), -0.5f);  // the session reads the buffer as it is at run time
  auto b = s.run(in);
  EXPECT_NE(a.at("h_n").data<float>()[0], b.at("h_n").data<float>()[0]);
}

TEST(Session, EightThreadsTimesTwoHundredRunsMatchTheSingleThreadedResult) {
  Session s(kLstm, one_thread());
  // Each thread uses its own inputs (two shapes), so wrong sharing of intermediates would show.
  const auto small = lstm_inputs(3, 1, 0.1f), large = lstm_inputs(7, 3, 0.07f);
  const auto want_small = s.run(small), want_large = s.run(large);
  std::atomic<int> mismatches{0}, errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const bool use_small = (i + t) % 2 == 0;
        try {
          auto got = s.run(use_small ? small : large);
          const auto& want = use_small ? want_small : want_large;
          for (const auto& [name, w] : want) {
            const HostTensor& g = got.at(name);
            if (g.shape() != w.shape() || std::memcmp(g.raw(), w.raw(), w.nbytes()) != 0) ++mismatches;
          }
        } catch (const Error&) {
          ++errors;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(mismatches.load(), 0) << "outputs must be bit-identical to the single-threaded run";
}

TEST(Session, SileroOnManyThreads) {
  // The opset 18 export: an If body, LSTMs, convolutions. The threads' first runs meet in a session that
  // has not run yet, where kernels prepare what they make at their first run (a Conv's panels).
  const std::string model = source_path("models/silero_vad/silero_vad_op18_ifless/model.onnx");
  Session s(model, one_thread()), fresh(model, one_thread());
  std::vector<float> audio(576);
  for (std::size_t i = 0; i < audio.size(); ++i) audio[i] = 0.3f * std::sin(0.05f * static_cast<float>(i));
  std::map<std::string, HostTensor> in = {{"input", HostTensor::of<float>({1, 576}, audio)},
                                          {"state", HostTensor(ElementType::kFloat32, {2, 1, 128})},
                                          {"sr", HostTensor::of<int64_t>({}, {16000})}};
  const auto want = s.run(in);
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        auto got = fresh.run(in);
        for (const auto& [name, w] : want)
          if (std::memcmp(got.at(name).raw(), w.raw(), w.nbytes()) != 0) ++mismatches;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace tandem
