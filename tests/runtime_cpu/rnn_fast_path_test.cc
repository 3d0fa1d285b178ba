// The fast RNN path (runtime_cpu/kernels/rnn_fast_path.h) against its reference twin (rnn.cc's oneDNN
// path), each chosen with TANDEM_RNN_KERNEL: random weights and inputs, every cell kind, direction and
// attribute, on each instruction set this CPU has, with one, two and four threads. Agreement with the ONNX
// equations themselves is rnn_test.cc's job (it runs the default choice, the fast path); here the two paths
// must agree to 1e-5, the fast path must give the same bits on any number of threads (each block's sums
// run in one order whoever computes them, and a bidirectional layer's directions run at once or in turn),
// and the kernel must report the bytes it keeps.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/kernel.h"
#include "runtime_cpu/cpu_device.h"
#include "runtime_cpu/kernels/rnn_fast_path.h"
#include "tests/support/model_builder.h"
#include "tests/support/op_runner.h"
#include "tests/support/rnn_kernel_choice.h"

namespace tandem {
namespace {

using namespace tandem::test;
using onnx::TensorProto;
using CellKindForTest = cpu::rnn::CellKind;

constexpr double kRtol = 1e-5, kAtol = 1e-6;

enum class Op { kRnn, kGru, kLstm };
const char* op_name(Op op) { return op == Op::kRnn ? "RNN" : op == Op::kGru ? "GRU" : "LSTM"; }
int64_t gates(Op op) { return op == Op::kRnn ? 1 : op == Op::kGru ? 3 : 4; }

struct Case {
  Op op = Op::kLstm;
  std::string direction = "forward";
  int64_t layout = 0;
  int64_t seq = 5, batch = 3, input = 5, hidden = 33;
  bool lens = false;  // mixed sequence lengths, 0 and full included
  bool init = false;  // initial_h (and initial_c)
  bool bias = true, peep = false, input_forget = false, lbr = false;
  std::optional<float> clip;
  std::vector<std::string> acts;  // empty: the attribute is absent
  std::vector<float> alpha, beta;
  bool const_weights = true;  // initializers (packed once) or graph inputs (packed per run)
  bool symbolic_batch = false;
  uint32_t seed = 1;

  int64_t dirs() const { return direction == "bidirectional" ? 2 : 1; }
  std::string describe() const {
    std::ostringstream s;
    s << op_name(op) << " " << direction << " layout=" << layout << " seq=" << seq << " batch=" << batch
      << " input=" << input << " hidden=" << hidden << " lens=" << lens << " init=" << init
      << " bias=" << bias << " peep=" << peep << " input_forget=" << input_forget << " lbr=" << lbr
      << " clip=" << (clip ? *clip : 0.0f) << " acts=" << acts.size() << " const=" << const_weights
      << " seed=" << seed;
    return s.str();
  }
};

struct Built {
  onnx::ModelProto model;
  std::vector<Tensor> feeds;
};

// Weights drawn as PyTorch initialises them (uniform in +-1/sqrt(hidden)), so long sequences neither die out
// nor blow up and the two paths' rounding differences stay small; inputs and states in +-1.
Built build(const Case& c) {
  std::mt19937 rng(c.seed);
  const float k = 1.0f / std::sqrt(static_cast<float>(c.hidden));
  auto fill = [&](int64_t n, float range) {
    std::uniform_real_distribution<float> u(-range, range);
    std::vector<float> v(static_cast<std::size_t>(n));
    for (float& e : v) e = u(rng);
    return v;
  };
  Built out;
  out.model = make_model(14);
  auto& g = *out.model.mutable_graph();
  const int64_t D = c.dirs(), GH = gates(c.op) * c.hidden;
  const DimSpec batch = c.symbolic_batch ? DimSpec(std::string("batch")) : DimSpec(c.batch);
  auto dims_of = [&](const std::vector<int64_t>& dims, int batch_axis) {
    std::vector<DimSpec> ds(dims.begin(), dims.end());
    if (batch_axis >= 0) ds[static_cast<std::size_t>(batch_axis)] = batch;
    return ds;
  };
  auto feed = [&](const std::string& name, const std::vector<int64_t>& dims, std::vector<float> v,
                  bool weight, int batch_axis) {
    if (weight && c.const_weights) {
      add_float_initializer(g, name, dims, v);
      return;
    }
    add_input(g, name, TensorProto::FLOAT, dims_of(dims, batch_axis));
    out.feeds.push_back(make_tensor<float>(dims, v));
  };
  const int state_batch_axis = c.layout == 0 ? 1 : 0;
  const std::vector<int64_t> state =
      c.layout == 0 ? std::vector<int64_t>{D, c.batch, c.hidden} : std::vector<int64_t>{c.batch, D, c.hidden};
  feed("X",
       c.layout == 0 ? std::vector<int64_t>{c.seq, c.batch, c.input}
                     : std::vector<int64_t>{c.batch, c.seq, c.input},
       fill(c.seq * c.batch * c.input, 1.0f), false, c.layout == 0 ? 1 : 0);
  feed("W", {D, GH, c.input}, fill(D * GH * c.input, k), true, -1);
  feed("R", {D, GH, c.hidden}, fill(D * GH * c.hidden, k), true, -1);
  std::vector<std::string> ins = {"X", "W", "R", "", "", "", "", ""};
  if (c.bias) feed("B", {D, 2 * GH}, fill(D * 2 * GH, k), true, -1), ins[3] = "B";
  if (c.lens) {
    std::vector<int32_t> lens;
    for (int64_t b = 0; b < c.batch; ++b)
      lens.push_back(static_cast<int32_t>(b % 3 == 0 ? c.seq : b % 3 == 1 ? (c.seq + 1) / 2 : 0));
    if (c.batch > 2) lens[1] = static_cast<int32_t>(std::max<int64_t>(c.seq - 1, 0));
    add_input(g, "lens", TensorProto::INT32, {batch});
    out.feeds.push_back(make_tensor<int32_t>({c.batch}, lens));
    ins[4] = "lens";
  }
  if (c.init) {
    feed("h0", state, fill(D * c.batch * c.hidden, 1.0f), false, state_batch_axis), ins[5] = "h0";
    if (c.op == Op::kLstm)
      feed("c0", state, fill(D * c.batch * c.hidden, 1.0f), false, state_batch_axis), ins[6] = "c0";
  }
  if (c.peep) feed("P", {D, 3 * c.hidden}, fill(D * 3 * c.hidden, k), true, -1), ins[7] = "P";
  while (!ins.empty() && ins.back().empty()) ins.pop_back();
  std::vector<std::string> outs = {"Y", "Y_h"};
  if (c.op == Op::kLstm) outs.push_back("Y_c");
  auto* n = add_node(g, op_name(c.op), ins, outs, "cell");
  set_int(n, "hidden_size", c.hidden);
  if (c.direction != "forward") set_string(n, "direction", c.direction);
  if (c.layout != 0) set_int(n, "layout", c.layout);
  if (c.clip) set_float(n, "clip", *c.clip);
  if (c.input_forget) set_int(n, "input_forget", 1);
  if (c.lbr) set_int(n, "linear_before_reset", 1);
  auto list = [&](const std::string& name, onnx::AttributeProto::AttributeType type) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(type);
    return a;
  };
  if (!c.acts.empty()) {
    auto* a = list("activations", onnx::AttributeProto::STRINGS);
    for (const std::string& s : c.acts) a->add_strings(s);
  }
  if (!c.alpha.empty()) {
    auto* a = list("activation_alpha", onnx::AttributeProto::FLOATS);
    for (float f : c.alpha) a->add_floats(f);
  }
  if (!c.beta.empty()) {
    auto* a = list("activation_beta", onnx::AttributeProto::FLOATS);
    for (float f : c.beta) a->add_floats(f);
  }
  for (const auto& o : outs) add_output(g, o, TensorProto::FLOAT);
  return out;
}

// Runs with a kernel choice and an OpenMP team size (the calling thread's, as CpuDevice sets it).
Result<std::vector<Tensor>> run_with(const Built& b, const char* choice, int threads) {
  RnnKernelChoice env(choice);
  const int saved = omp_get_max_threads();
  omp_set_num_threads(threads);
  auto r = run_on_cpu(b.model, b.feeds);
  omp_set_num_threads(saved);
  return r;
}

struct Agreement {
  bool close = true;
  bool bitwise_equal = true;
};

Agreement compare(const std::vector<Tensor>& got, const std::vector<Tensor>& want, const std::string& what) {
  Agreement a;
  EXPECT_EQ(got.size(), want.size()) << what;
  if (got.size() != want.size()) return {false, false};
  const char* names[] = {"Y", "Y_h", "Y_c"};
  for (std::size_t o = 0; o < got.size(); ++o) {
    const Tensor &g = got[o], &w = want[o];
    if (g.shape() != w.shape() || g.dtype() != DType::kFloat32) {
      ADD_FAILURE() << what << ": " << names[o] << " is " << g.describe() << ", reference " << w.describe();
      return {false, false};
    }
    const float *gp = g.data<float>(), *wp = w.data<float>();
    for (int64_t i = 0; i < g.numel(); ++i) {
      if (gp[i] != wp[i]) a.bitwise_equal = false;
      const double diff = std::abs(double(gp[i]) - double(wp[i]));
      if (!(diff <= kAtol + kRtol * std::abs(double(wp[i])))) {
        ADD_FAILURE() << what << ": " << names[o] << "[" << i << "] = " << gp[i] << ", reference " << wp[i]
                      << " (diff " << diff << ")";
        a.close = false;
        break;
      }
    }
  }
  return a;
}

// The panels on every instruction set (capped to what this CPU has).
const std::vector<const char*> kPanelChoices = {"fast-avx512", "fast-avx2", "fast-scalar"};

// Checks a case's runs with each choice against its reference run, on one, two and four threads (four on
// the 2-core machine too: teams of two per direction); the runs on several threads must give the bits of
// the run on one. Stops a sweep after a few failing cases.
struct Sweep {
  std::vector<const char*> choices = kPanelChoices;
  int failures = 0, cases = 0, differing = 0;
  void run(const Case& c) {
    if (failures >= 5) return;
    ++cases;
    SCOPED_TRACE(c.describe());
    const Built b = build(c);
    auto want = run_with(b, "reference", 1);
    ASSERT_TRUE(want) << want.status().message();
    bool ok = true;
    for (const char* choice : choices) {
      std::optional<std::vector<Tensor>> one_thread;
      for (int threads : {1, 2, 4}) {
        auto got = run_with(b, choice, threads);
        ASSERT_TRUE(got) << choice << ": " << got.status().message();
        const std::string what =
            std::string(choice ? choice : "default") + " on " + std::to_string(threads) + " threads";
        const Agreement a = compare(*got, *want, what);
        ok = ok && a.close;
        differing += a.bitwise_equal ? 0 : 1;
        if (!one_thread) {
          one_thread = std::move(got).value();
          continue;
        }
        const Agreement same = compare(*got, *one_thread, what + " against one thread");
        EXPECT_TRUE(same.bitwise_equal) << what << ": not the bits of the run on one thread";
        ok = ok && same.bitwise_equal;
      }
    }
    if (!ok) ++failures;
  }
};

const char* const kDirections[] = {"forward", "reverse", "bidirectional"};

// Every op x hidden {1, 7, 16, 33, 64, 256} x batch {1, 2, 3, 8}; input {1, 5, 64} and seq {1, 5, 40} take
// turns so each op meets all nine pairs, and the attributes are drawn per case from a seeded generator.
TEST(RnnFastPath, ShapesMatchReference) {
  Sweep sweep;
  std::mt19937 pick(77);
  auto coin = [&] { return (pick() & 1) != 0; };
  uint32_t seed = 1000;
  for (Op op : {Op::kLstm, Op::kGru, Op::kRnn}) {
    int turn = 0;
    for (int64_t hidden : {1, 7, 16, 33, 64, 256})
      for (int64_t batch : {1, 2, 3, 8}) {
        Case c;
        c.op = op, c.hidden = hidden, c.batch = batch, c.seed = seed++;
        c.input = std::vector<int64_t>{1, 5, 64}[static_cast<std::size_t>(turn % 3)];
        c.seq = std::vector<int64_t>{1, 5, 40}[static_cast<std::size_t>(turn / 3 % 3)];
        ++turn;
        c.direction = kDirections[pick() % 3];
        c.layout = coin() ? 1 : 0;
        c.lens = coin();
        c.init = coin();
        c.bias = coin();
        c.peep = op == Op::kLstm && coin();
        c.input_forget = op == Op::kLstm && pick() % 4 == 0;
        c.lbr = op == Op::kGru && coin();
        if (pick() % 3 == 0) c.clip = 0.5f;
        c.const_weights = pick() % 4 != 0;
        sweep.run(c);
      }
  }
  EXPECT_EQ(sweep.cases, 72);
  EXPECT_EQ(sweep.failures, 0);
  // Different summation order and activation code: identical bits everywhere would mean the fast path
  // never ran.
  EXPECT_GT(sweep.differing, 0);
}

// For each op, the full product of its attributes at a shape with a partial last block (hidden 33).
TEST(RnnFastPath, FeatureProductMatchesReference) {
  Sweep sweep;
  uint32_t seed = 3000;
  for (Op op : {Op::kLstm, Op::kGru, Op::kRnn})
    for (const char* dir : kDirections)
      for (bool lens : {false, true})
        for (bool clip : {false, true})
          for (bool peep_or_lbr : {false, true})
            for (bool input_forget : {false, true})
              for (int64_t layout : {0, 1}) {
                if (op == Op::kRnn && peep_or_lbr) continue;
                if (op != Op::kLstm && input_forget) continue;
                Case c;
                c.op = op, c.direction = dir, c.lens = lens, c.layout = layout, c.seed = seed++;
                c.init = seed % 2 == 0;
                if (clip) c.clip = 0.3f;
                c.peep = op == Op::kLstm && peep_or_lbr;
                c.lbr = op == Op::kGru && peep_or_lbr;
                c.input_forget = input_forget;
                sweep.run(c);
              }
  EXPECT_EQ(sweep.cases, 96 + 48 + 24);
  EXPECT_EQ(sweep.failures, 0);
}

// Non-default activations with their alpha and beta: Sigmoid and Tanh run vectorised, the others through
// the reference path's own functions, on whole blocks padded past the hidden size.
TEST(RnnFastPath, ActivationsMatchReference) {
  Sweep sweep;
  Case c;
  c.direction = "bidirectional", c.lens = true, c.init = true, c.peep = true, c.seed = 5000;
  c.acts = {"HardSigmoid", "ScaledTanh", "LeakyRelu", "Sigmoid", "Softsign", "Elu"};
  c.alpha = {0.3f, 1.3f, 0.05f, 0.7f}, c.beta = {0.45f, 0.7f};
  sweep.run(c);
  c.acts = {"Sigmoid", "Tanh", "Softplus", "Tanh", "Relu", "Tanh"}, c.alpha = {}, c.beta = {}, c.seed = 5001;
  sweep.run(c);
  c.op = Op::kGru, c.peep = false, c.seed = 5002;
  for (bool lbr : {false, true}) {
    c.lbr = lbr, c.seed++;
    c.acts = {"HardSigmoid", "Softplus", "Sigmoid", "Affine"};
    c.alpha = {0.25f, 0.8f}, c.beta = {0.55f, 0.1f};
    sweep.run(c);
  }
  c.op = Op::kRnn, c.lbr = false;
  for (const auto& acts : std::vector<std::vector<std::string>>{
           {"Relu", "ThresholdedRelu"}, {"Sigmoid", "Softsign"}, {"Elu", "Tanh"}}) {
    c.acts = acts, c.alpha = {0.1f}, c.beta = {}, c.seed++;
    sweep.run(c);
  }
  EXPECT_EQ(sweep.failures, 0);
}

// Above 8 rows the panels run in tiles of up to 8 rows (6 for an LSTM on AVX-512), the last tile partial:
// every op and attribute at 9 and 12 rows with the default choice.
TEST(RnnFastPath, LargeBatchesMatchReference) {
  Sweep sweep;
  sweep.choices = {nullptr};
  uint32_t seed = 4000;
  for (Op op : {Op::kLstm, Op::kGru, Op::kRnn})
    for (const char* dir : kDirections)
      for (bool clip : {false, true})
        for (bool peep_or_lbr : {false, true})
          for (int64_t batch : {9, 12}) {
            if (op == Op::kRnn && peep_or_lbr) continue;
            Case c;
            c.op = op, c.direction = dir, c.batch = batch, c.lens = true, c.seed = seed++;
            c.init = seed % 2 == 0, c.layout = seed % 3 == 0 ? 1 : 0;
            c.input_forget = op == Op::kLstm && seed % 5 == 0;
            if (clip) c.clip = 0.3f;
            c.peep = op == Op::kLstm && peep_or_lbr;
            c.lbr = op == Op::kGru && peep_or_lbr;
            c.const_weights = seed % 4 != 0;
            sweep.run(c);
          }
  EXPECT_EQ(sweep.cases, 3 * 2 * 2 * 2 * 3 - 12);
  EXPECT_EQ(sweep.failures, 0);
  EXPECT_GT(sweep.differing, 0);
}

// Larger batches, hidden sizes that leave the last block partial, mixed sequence lengths, and the
// attributes drawn per case, on every instruction set: batch 9 to 64.
TEST(RnnFastPath, LargeBatchShapesMatchReference) {
  Sweep sweep;
  std::mt19937 pick(91);
  auto coin = [&] { return (pick() & 1) != 0; };
  uint32_t seed = 7000;
  for (Op op : {Op::kLstm, Op::kGru, Op::kRnn})
    for (int64_t batch : {9, 14, 23, 64})
      for (int64_t hidden : {20, 37}) {
        Case c;
        c.op = op, c.batch = batch, c.hidden = hidden, c.seq = 6, c.input = 11, c.seed = seed++;
        c.lens = true;
        c.direction = kDirections[pick() % 3];
        c.layout = coin() ? 1 : 0;
        c.init = coin();
        c.peep = op == Op::kLstm && coin();
        c.input_forget = op == Op::kLstm && pick() % 4 == 0;
        c.lbr = op == Op::kGru && (hidden == 20) == (batch % 2 == 0);  // both forms at every batch size
        if (coin()) c.clip = 0.4f;
        c.const_weights = pick() % 4 != 0;
        sweep.run(c);
      }
  EXPECT_EQ(sweep.cases, 24);
  EXPECT_EQ(sweep.failures, 0);
  EXPECT_GT(sweep.differing, 0);
}

// Bidirectional layers whose directions each fit one thread run both at once on two threads (and on two
// teams of two on four): every op and the attributes that change a direction's state, against the
// reference and, through the sweep, bit for bit against one thread.
TEST(RnnFastPath, ConcurrentDirectionsMatchReference) {
  Sweep sweep;
  sweep.choices = {nullptr, "fast-scalar"};
  uint32_t seed = 8000;
  for (Op op : {Op::kLstm, Op::kGru, Op::kRnn})
    for (int64_t hidden : {7, 24, 33})
      for (int64_t batch : {1, 4, 11}) {
        Case c;
        c.op = op, c.direction = "bidirectional", c.hidden = hidden, c.batch = batch, c.seq = 9;
        c.seed = seed++;
        c.lens = seed % 2 == 0, c.init = seed % 3 != 0, c.layout = seed % 4 == 0 ? 1 : 0;
        c.peep = op == Op::kLstm && seed % 2 == 1;
        c.lbr = op == Op::kGru && seed % 2 == 1;
        if (seed % 3 == 0) c.clip = 0.5f;
        sweep.run(c);
      }
  EXPECT_EQ(sweep.cases, 27);
  EXPECT_EQ(sweep.failures, 0);
}

// Which runs take the concurrent form: a bidirectional layer whose direction would leave threads of the
// team idle, or whose steps are small (under 1M multiply-adds), split between the directions; one
// direction, one thread, or large steps that fill the team: the directions in turn.
TEST(RnnFastPath, TeamsForBidirectionalLayers) {
  struct Saved {
    int n = omp_get_max_threads();
    ~Saved() { omp_set_num_threads(n); }
  } saved;
  auto plan = [](CellKindForTest kind, int64_t dirs, int64_t hidden, int64_t batch, int threads,
                 bool every_thread) {
    cpu::rnn::RnnAttrs a;
    a.kind = kind, a.gates = cpu::rnn::gates_of(kind), a.num_dirs = dirs;
    const cpu::rnn::FastWeights w =
        cpu::rnn::pack_fast_weights(a, cpu::rnn::Isa::kAvx2, hidden, std::vector<float>(
            static_cast<std::size_t>(dirs * a.gates * hidden * hidden)).data(), nullptr, nullptr);
    omp_set_num_threads(threads);
    return cpu::rnn::plan_fast_teams(a, w, batch, every_thread);
  };
  using K = CellKindForTest;
  // LSTM hidden 32 at batch 1: 4k multiply-adds per step, one thread's worth (blocks of 8: 4 blocks).
  auto t = plan(K::kLstm, 2, 32, 1, 2, false);
  EXPECT_TRUE(t.concurrent);
  EXPECT_EQ(t.forward, 1);
  EXPECT_EQ(t.backward, 1);
  t = plan(K::kLstm, 2, 32, 4, 4, false);  // 16k: teams of two
  EXPECT_TRUE(t.concurrent);
  EXPECT_EQ(t.forward, 2);
  EXPECT_EQ(t.backward, 2);
  t = plan(K::kLstm, 2, 32, 1, 3, false);  // three threads: two for the forward direction would idle one
  EXPECT_TRUE(t.concurrent);
  EXPECT_EQ(t.forward + t.backward, 2);
  EXPECT_FALSE(plan(K::kLstm, 1, 32, 1, 2, false).concurrent);  // one direction
  EXPECT_FALSE(plan(K::kLstm, 2, 32, 1, 1, false).concurrent);  // one thread
  t = plan(K::kLstm, 2, 256, 1, 2, false);  // 262k per step fills the team, but steps are short
  EXPECT_TRUE(t.concurrent);
  EXPECT_EQ(t.forward, 1);
  EXPECT_EQ(t.backward, 1);
  t = plan(K::kGru, 2, 128, 64, 2, false);  // 3.1M per step: the directions in turn, on both threads
  EXPECT_FALSE(t.concurrent);
  EXPECT_EQ(t.per_direction, 2);
  t = plan(K::kGru, 2, 256, 64, 4, false);  // 12.6M per step fills 4 threads
  EXPECT_FALSE(t.concurrent);
  EXPECT_EQ(t.per_direction, 4);
}

// The default choice against the reference twin at batch sizes either side of 8 (the panels' limit before
// they ran at every batch size).
TEST(RnnFastPath, DefaultChoiceMatchesReference) {
  uint32_t seed = 6000;
  for (Op op : {Op::kLstm, Op::kGru})
    for (int64_t batch : {1, 8, 9, 20}) {
      Case c;
      c.op = op, c.batch = batch, c.hidden = 64, c.seq = 12, c.lens = true, c.lbr = op == Op::kGru;
      c.direction = "bidirectional", c.seed = seed++;
      SCOPED_TRACE(c.describe());
      const Built b = build(c);
      auto want = run_with(b, "reference", 1);
      ASSERT_TRUE(want) << want.status().message();
      for (int threads : {1, 2}) {
        auto got = run_with(b, nullptr, threads);
        ASSERT_TRUE(got) << got.status().message();
        EXPECT_TRUE(compare(*got, *want, "default on " + std::to_string(threads) + " threads").close);
      }
    }
}

// Creates the node's kernel with a choice and runs it once directly: the bytes it keeps and the workspace
// it reports.
struct Bytes {
  int64_t weights = 0;
  std::size_t workspace = 0;
};
Bytes kernel_bytes(const Case& c, const char* choice) {
  RnnKernelChoice env(choice);
  const Built b = build(c);
  auto ir = import_proto(b.model);
  EXPECT_TRUE(ir) << ir.status().message();
  if (!ir) return {};
  const Graph& g = *ir->graph;
  const cpu::CpuDevice device;
  auto kernel = device.create_kernel(KernelInit{g, 0, nullptr});
  EXPECT_TRUE(kernel) << kernel.status().message();
  if (!kernel) return {};
  std::vector<const Tensor*> inputs{&b.feeds[0]};  // X; the weights are constants the kernel packed
  std::vector<Tensor> outputs(g.node(0).outputs.size());
  KernelContext ctx(g, 0, inputs, {}, outputs);
  Status st = (*kernel)->run(ctx);
  EXPECT_TRUE(st) << st.message();
  return {(*kernel)->own_weight_bytes(), ctx.workspace_bytes()};
}

// What the kernel keeps and needs is what its path packs and allocates: R once, transposed for the
// reference path or as panels for the fast path, whatever the batch; a bidirectional layer whose directions
// run at once holds both directions' input projections and states.
TEST(RnnFastPath, WeightAndWorkspaceBytes) {
  Case c;  // LSTM, hidden 33, input 5, seq 5, batch 3, bias, one direction
  const int64_t G = 4, H = 33, I = 5, T = 5, B = 3, F = sizeof(float);
  const int64_t shared = (G * H * I + G * H) * F;  // W transposed and the bias: both paths
  const int64_t rt = G * H * H * F;
  auto panels = [&](int64_t block) { return (H + block - 1) / block * block * H * G * F; };
  auto state = [&](int64_t block) { return 3 * B * ((H + block - 1) / block * block) * F; };
  const std::size_t xw = static_cast<std::size_t>(T * B * G * H * F);

  Bytes ref = kernel_bytes(c, "reference");
  EXPECT_EQ(ref.weights, shared + rt);
  EXPECT_EQ(ref.workspace, xw + static_cast<std::size_t>((B * H + B * G * H + B * H) * F));

  Bytes scalar = kernel_bytes(c, "fast-scalar");  // blocks of 8 units: 40 padded
  EXPECT_EQ(scalar.weights, shared + panels(8));
  EXPECT_EQ(scalar.workspace, xw + static_cast<std::size_t>(state(8)));

  Bytes best = kernel_bytes(c, nullptr);  // the fast path's panels alone
  EXPECT_TRUE(best.weights == shared + panels(8) || best.weights == shared + panels(16)) << best.weights;

  c.symbolic_batch = true;  // any batch may come: still the panels alone
  Bytes any = kernel_bytes(c, nullptr);
  EXPECT_EQ(any.weights, best.weights);

  c.symbolic_batch = false, c.batch = 9;  // many rows: the panels too
  Bytes large = kernel_bytes(c, nullptr);
  EXPECT_EQ(large.weights, best.weights);
  const std::size_t xw9 = static_cast<std::size_t>(T * 9 * G * H * F);
  auto large_ws = [&](int64_t hp) { return xw9 + static_cast<std::size_t>(3 * 9 * hp * F); };
  EXPECT_TRUE(large.workspace == large_ws(40) || large.workspace == large_ws(48)) << large.workspace;

  // Bidirectional, batch 3, on two threads: hidden 33 is one thread's work per direction, so both run at
  // once and the workspace is twice one direction's. (The weights: both directions' of everything.)
  c.batch = 3, c.direction = "bidirectional";
  const int saved = omp_get_max_threads();
  omp_set_num_threads(2);
  Bytes bidir = kernel_bytes(c, nullptr);
  omp_set_num_threads(1);
  Bytes bidir_one = kernel_bytes(c, nullptr);
  omp_set_num_threads(saved);
  EXPECT_TRUE(bidir.weights == 2 * (shared + panels(8)) || bidir.weights == 2 * (shared + panels(16)))
      << bidir.weights;
  EXPECT_TRUE(bidir_one.workspace == xw + static_cast<std::size_t>(state(8)) ||
              bidir_one.workspace == xw + static_cast<std::size_t>(state(16)))
      << bidir_one.workspace;
  EXPECT_EQ(bidir.workspace, 2 * bidir_one.workspace);
}

}  // namespace
}  // namespace tandem
