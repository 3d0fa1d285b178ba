// A run's time limit and its caller's cancel flag end an LSTM/GRU between two of its steps
// (runtime_cpu/kernels/rnn_step_stop.h), on every path: the reference, the panels on one thread and on a
// team, a bidirectional layer's directions one after the other or at once. Without it a long sequence held
// its cores until its last step, whatever the run's limit. The error names the node and a step inside the
// sequence; a limit the run stays within changes no bit.
#include <gtest/gtest.h>
#include <omp.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <future>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "runtime/executor.h"
#include "runtime/run_control.h"
#include "runtime_cpu/cpu_device.h"
#include "tests/support/model_builder.h"
#include "tests/support/op_runner.h"
#include "tests/support/rnn_kernel_choice.h"

namespace tandem {
namespace {

using namespace std::chrono_literals;
using namespace tandem::test;
using onnx::TensorProto;

// Steps of a wide layer take long, and its input projection (all steps at once, with the buffer it fills,
// before step 0) little beside them: kLongSeq steps are a second or more here, the projection of a narrow
// input about 20 ms, so a limit of 100 ms lands between steps.
constexpr int64_t kLongSeq = 4000, kInput = 2, kHidden = 512;
#ifdef __SANITIZE_THREAD__
constexpr auto kLimit = 2s;  // ThreadSanitizer slows everything about ten times
constexpr const char* kLimitText = "2 s";
#else
constexpr auto kLimit = 100ms;
constexpr const char* kLimitText = "100 ms";
#endif

// X [seq, 1, kInput] -> `op` 'cell' (random weights and bias) -> Y_h.
onnx::ModelProto long_sequence(const std::string& op, const std::string& direction, int64_t seq = kLongSeq) {
  const int64_t dirs = direction == "bidirectional" ? 2 : 1, gh = (op == "LSTM" ? 4 : 3) * kHidden;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-0.125f, 0.125f);
  auto fill = [&](int64_t n) {
    std::vector<float> v(static_cast<std::size_t>(n));
    for (float& e : v) e = u(rng);
    return v;
  };
  auto m = make_model(14);
  auto& g = *m.mutable_graph();
  add_input(g, "X", TensorProto::FLOAT, {seq, int64_t{1}, kInput});
  add_float_initializer(g, "W", {dirs, gh, kInput}, fill(dirs * gh * kInput));
  add_float_initializer(g, "R", {dirs, gh, kHidden}, fill(dirs * gh * kHidden));
  add_float_initializer(g, "B", {dirs, 2 * gh}, fill(dirs * 2 * gh));
  auto* n = add_node(g, op, {"X", "W", "R", "B"}, {"", "Y_h"}, "cell");
  set_int(n, "hidden_size", kHidden);
  set_string(n, "direction", direction);
  add_output(g, "Y_h", TensorProto::FLOAT);
  return m;
}

// One model compiled for one kernel choice on a CPU device of `threads`, run with a control made just
// before the run (so compiling does not eat the time limit).
struct Compiled {
  ModelIR ir;
  cpu::CpuDevice device;
  std::shared_ptr<const GraphExecutor> exec;
  Tensor x;

  Compiled(const onnx::ModelProto& m, const char* choice, int threads) : device(threads, "cpu") {
    const RnnKernelChoice env(choice);
    auto imported = import_proto(m);
    if (!imported) throw std::runtime_error(imported.status().message());
    ir = std::move(*imported);
    auto compiled = GraphExecutor::compile(*ir.graph, device);
    if (!compiled) throw std::runtime_error(compiled.status().message());
    exec = std::move(*compiled);
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    const int64_t seq = m.graph().input(0).type().tensor_type().shape().dim(0).dim_value();
    std::vector<float> v(static_cast<std::size_t>(seq * kInput));
    for (float& e : v) e = u(rng);
    x = make_tensor<float>({seq, 1, kInput}, v);
  }
  Result<std::vector<Tensor>> run(const RunControl* control) const {
    device.bind_thread();
    const Tensor* in[] = {&x};
    return exec->run(in, {}, nullptr, control);
  }
};

struct Path {
  const char* choice;
  int threads;
};
#ifdef __SANITIZE_THREAD__
// Under ThreadSanitizer, no OpenMP teams: libgomp is not instrumented, so its teams' synchronisation would
// read as races (the cancel flag read across threads, the point here, is still checked).
constexpr Path kPaths[] = {{"reference", 1}, {"fast", 1}};
#else
constexpr Path kPaths[] = {{"reference", 1}, {"fast", 1}, {"fast", 2}};
#endif

// "...: step N: ..." -> N, or -1.
int64_t step_of(const std::string& message) {
  const auto at = message.find(": step ");
  return at == std::string::npos ? -1 : std::strtoll(message.c_str() + at + 7, nullptr, 10);
}

TEST(RnnStop, ATimeLimitStopsBetweenSteps) {
  for (const char* op : {"LSTM", "GRU"})
    for (const char* direction : {"forward", "bidirectional"})
      for (const Path& p : kPaths) {
        SCOPED_TRACE(std::string(op) + " " + direction + " " + p.choice + " on " + std::to_string(p.threads));
        const Compiled c(long_sequence(op, direction), p.choice, p.threads);
        const RunControl control(kLimit, nullptr);
        auto r = c.run(&control);
        ASSERT_FALSE(r) << "the run ended although its limit was " << kLimitText;
        const std::string& why = r.status().message();
        EXPECT_EQ(control.stopped(), RunControl::Stop::kDeadline);
        EXPECT_EQ(why.rfind("run stopped before node 'cell' (" + std::string(op) + "): step ", 0), 0u) << why;
        EXPECT_NE(why.find(std::string(": past its time limit of ") + kLimitText), std::string::npos) << why;
        const int64_t step = step_of(why);
        EXPECT_GE(step, 0) << why;
        EXPECT_LT(step, kLongSeq) << why;
      }
}

TEST(RnnStop, TheCancelFlagStopsARunningLayerFromAnotherThread) {
  for (const Path& p : kPaths) {
    SCOPED_TRACE(std::string(p.choice) + " on " + std::to_string(p.threads));
    const Compiled c(long_sequence("LSTM", "bidirectional"), p.choice, p.threads);
    std::atomic<bool> cancel{false};
    const RunControl control(std::nullopt, &cancel);
    auto run = std::async(std::launch::async, [&] { return c.run(&control); });
    std::this_thread::sleep_for(kLimit);  // past the input projection
    cancel.store(true);
    auto r = run.get();
    ASSERT_FALSE(r);
    EXPECT_EQ(control.stopped(), RunControl::Stop::kCancelled);
    EXPECT_EQ(r.status().message().rfind("run cancelled by the caller before node 'cell' (LSTM): step ", 0), 0u)
        << r.status().message();
  }
}

// The input projection of a long sequence (one GEMM over every step, before step 0) is itself seconds of
// work for a wide float64 layer; the limit stops it between blocks of rows, inside the projection (where
// the error says it stopped), not after it.
TEST(RnnStop, ATimeLimitStopsTheInputProjection) {
  constexpr int64_t seq = 10000, input = 512, hidden = 128, gh = 4 * hidden;
  auto m = make_model(14);
  auto& g = *m.mutable_graph();
  add_input(g, "X", TensorProto::DOUBLE, {seq, int64_t{1}, input});
  add_input(g, "W", TensorProto::DOUBLE, {int64_t{1}, gh, input});
  add_input(g, "R", TensorProto::DOUBLE, {int64_t{1}, gh, hidden});
  auto* n = add_node(g, "LSTM", {"X", "W", "R"}, {"", "Y_h"}, "cell");
  set_int(n, "hidden_size", hidden);
  add_output(g, "Y_h", TensorProto::DOUBLE);
  auto ir = import_proto(m);
  ASSERT_TRUE(ir) << ir.status().message();
  cpu::CpuDevice device(1, "cpu");
  auto exec = GraphExecutor::compile(*ir->graph, device);
  ASSERT_TRUE(exec) << exec.status().message();
  auto values = [](int64_t count, uint32_t seed, double scale) {
    std::vector<double> v(static_cast<std::size_t>(count));
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(-scale, scale);
    for (double& e : v) e = u(rng);
    return v;
  };
  const Tensor x = make_tensor<double>({seq, 1, input}, values(seq * input, 1, 1.0));
  const Tensor w = make_tensor<double>({1, gh, input}, values(gh * input, 2, 0.05));
  const Tensor r = make_tensor<double>({1, gh, hidden}, values(gh * hidden, 3, 0.05));
  const Tensor* in[] = {&x, &w, &r};
  device.bind_thread();
  const RunControl control(20ms, nullptr);
  auto limited = (*exec)->run(in, {}, nullptr, &control);
  ASSERT_FALSE(limited) << "the run ended although its limit was 20 ms";
  const std::string& why = limited.status().message();
  const std::string inside = "run stopped before node 'cell' (LSTM): the input projection, row ";
  ASSERT_EQ(why.rfind(inside, 0), 0u) << why;
  EXPECT_NE(why.find(" of " + std::to_string(seq) + ": past its time limit of 20 ms"), std::string::npos) << why;
  const int64_t row = std::strtoll(why.c_str() + inside.size(), nullptr, 10);
  EXPECT_GE(row, 0) << why;
  EXPECT_LT(row, seq) << why;
}

// A control that never stops the run (a flag left down, a limit of an hour) gives the same bits as none.
TEST(RnnStop, AControlThatDoesNotStopChangesNothing) {
  for (const Path& p : kPaths) {
    SCOPED_TRACE(std::string(p.choice) + " on " + std::to_string(p.threads));
    const Compiled c(long_sequence("GRU", "bidirectional", 300), p.choice, p.threads);
    std::atomic<bool> cancel{false};
    const RunControl control(std::chrono::hours(1), &cancel);
    auto plain = c.run(nullptr);
    auto limited = c.run(&control);
    ASSERT_TRUE(plain) << plain.status().message();
    ASSERT_TRUE(limited) << limited.status().message();
    const Tensor &a = (*plain)[0], &b = (*limited)[0];
    ASSERT_EQ(a.shape(), b.shape());
    EXPECT_EQ(std::memcmp(a.raw(), b.raw(), a.nbytes()), 0);
    EXPECT_EQ(control.stopped(), RunControl::Stop::kNone);
  }
}

}  // namespace
}  // namespace tandem
