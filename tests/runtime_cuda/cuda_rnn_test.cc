// LSTM, GRU and RNN on the GPU against tandem's CPU kernels (runtime_cpu/kernels/rnn.cc, itself tested
// against the ONNX equations in double precision), on random weights and inputs over the options of the
// spec: directions, layouts, sequence_lens, initial states, clip, peepholes, input_forget,
// linear_before_reset, activations with alpha/beta, missing bias, omitted outputs; with and without the
// CUDA Graph; and the persistent kernel (kernels/rnn_persistent.h) against both the per-step path (its
// reference twin) and the CPU over hidden 1 to 128, batch 1 and 3, seq 1 to 100. Skips when no GPU is
// present (the path names are checked everywhere).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "runtime_cuda/cuda_rnn.h"
#include "tests/runtime_cpu/kernel_test_util.h"
#include "tests/runtime_cuda/gpu_test_util.h"

namespace tandem::cuda {
namespace {

using test::GpuTest;
using test::random_vector;
using tandem::test::OneNode;
using tandem::test::set_float;
using tandem::test::set_int;
using tandem::test::set_string;

struct Case {
  RnnCellKind kind = RnnCellKind::kLstm;
  std::string direction = "forward";
  int64_t layout = 0, seq = 7, batch = 3, input = 5, hidden = 6;
  bool mixed_lens = false, init_h = false, init_c = false, bias = true, peep = false;
  bool zero_lens = false;  // every sequence_lens entry 0: no step at all
  std::optional<float> clip;
  std::vector<std::string> acts;  // empty: attribute absent
  std::vector<float> alphas, betas;
  bool input_forget = false, lbr = false, use_graph = true;
  RnnPath path = RnnPath::kStepwise;  // the time loop asked for (kAuto: the selection rule)
  bool want_y = true, want_yh = true, want_yc = true;
  uint32_t seed = 1;

  int64_t dirs() const { return direction == "bidirectional" ? 2 : 1; }
  int64_t gates() const { return static_cast<int64_t>(gates_of(kind)); }
  const char* op() const { return kind == RnnCellKind::kRnn ? "RNN" : kind == RnnCellKind::kGru ? "GRU" : "LSTM"; }
  std::string describe() const {
    std::ostringstream s;
    s << op() << " " << direction << " layout=" << layout << " seq=" << seq << " batch=" << batch << " input=" << input
      << " hidden=" << hidden << " mixed_lens=" << mixed_lens << " init_h=" << init_h << " init_c=" << init_c
      << " zero_lens=" << zero_lens << " bias=" << bias << " peep=" << peep << " clip=" << clip.value_or(0.0f) << " acts=" << acts.size()
      << " input_forget=" << input_forget << " lbr=" << lbr << " graph=" << use_graph << " path=" << rnn_path_name(path)
      << " outs=" << want_y << want_yh << want_yc << " seed=" << seed;
    return s.str();
  }
};

struct Data {
  std::vector<float> x, w, r, b, p, h0, c0;
  std::vector<int32_t> lens;
};

Data make_data(const Case& c) {
  uint32_t seed = c.seed * 16;
  const int64_t gh = c.gates() * c.hidden, d = c.dirs(), state = d * c.batch * c.hidden;
  Data out;
  out.x = random_vector(c.seq * c.batch * c.input, seed++);
  // Weights scaled so gates are neither saturated nor negligible at the larger sizes.
  const float ws = 1.0f / std::sqrt(static_cast<float>(std::max(c.input, c.hidden)));
  out.w = random_vector(d * gh * c.input, seed++, -ws, ws);
  out.r = random_vector(d * gh * c.hidden, seed++, -ws, ws);
  if (c.bias) out.b = random_vector(d * 2 * gh, seed++, -0.5f, 0.5f);
  if (c.peep) out.p = random_vector(d * 3 * c.hidden, seed++, -0.5f, 0.5f);
  if (c.init_h) out.h0 = random_vector(state, seed++);
  if (c.init_c) out.c0 = random_vector(state, seed++);
  if (c.zero_lens) out.lens.assign(static_cast<std::size_t>(c.batch), 0);
  if (c.mixed_lens && !c.zero_lens)
    for (int64_t b = 0; b < c.batch; ++b)
      out.lens.push_back(static_cast<int32_t>(b % 3 == 0 ? c.seq : b % 3 == 1 ? 0 : (c.seq + 1) / 2));
  return out;
}

std::vector<int64_t> x_shape(const Case& c) {
  return c.layout == 0 ? std::vector<int64_t>{c.seq, c.batch, c.input} : std::vector<int64_t>{c.batch, c.seq, c.input};
}
std::vector<int64_t> state_shape(const Case& c) {
  return c.layout == 0 ? std::vector<int64_t>{c.dirs(), c.batch, c.hidden}
                       : std::vector<int64_t>{c.batch, c.dirs(), c.hidden};
}

void add_strings(onnx::NodeProto* n, const std::string& name, const std::vector<std::string>& v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRINGS);
  for (const auto& s : v) a->add_strings(s);
}
void add_floats(onnx::NodeProto* n, const std::string& name, const std::vector<float>& v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOATS);
  for (float f : v) a->add_floats(f);
}

// The CPU kernel's outputs (Y, Y_h, Y_c; undefined tensors where not wanted).
std::vector<Tensor> run_cpu(const Case& c, Data& d) {
  OneNode n(14, c.op());
  onnx::NodeProto* node = n.node();
  set_int(node, "hidden_size", c.hidden);
  set_string(node, "direction", c.direction);
  set_int(node, "layout", c.layout);
  if (c.clip) set_float(node, "clip", *c.clip);
  if (!c.acts.empty()) add_strings(node, "activations", c.acts);
  if (!c.alphas.empty()) add_floats(node, "activation_alpha", c.alphas);
  if (!c.betas.empty()) add_floats(node, "activation_beta", c.betas);
  if (c.kind == RnnCellKind::kLstm && c.input_forget) set_int(node, "input_forget", 1);
  if (c.kind == RnnCellKind::kGru && c.lbr) set_int(node, "linear_before_reset", 1);
  const int64_t gh = c.gates() * c.hidden, dirs = c.dirs();
  auto f32 = [](std::vector<int64_t> shape, std::vector<float>& v) {
    return Tensor::wrap(DType::kFloat32, std::move(shape), v.data());
  };
  n.input(f32(x_shape(c), d.x)).input(f32({dirs, gh, c.input}, d.w)).input(f32({dirs, gh, c.hidden}, d.r));
  // An absent optional input or output is an empty name in its slot.
  auto in = [&n](bool present, const Tensor& t) { present ? n.input(t) : n.no_input(); };
  auto out = [&n](bool wanted) { wanted ? n.output() : n.no_output(); };
  in(c.bias, c.bias ? f32({dirs, 2 * gh}, d.b) : Tensor());
  in(!d.lens.empty(), d.lens.empty() ? Tensor() : Tensor::wrap(DType::kInt32, {c.batch}, d.lens.data()));
  in(c.init_h, c.init_h ? f32(state_shape(c), d.h0) : Tensor());
  if (c.kind == RnnCellKind::kLstm) {
    in(c.init_c, c.init_c ? f32(state_shape(c), d.c0) : Tensor());
    if (c.peep) n.input(f32({dirs, 3 * c.hidden}, d.p));
  }
  out(c.want_y);
  out(c.want_yh);
  if (c.kind == RnnCellKind::kLstm) out(c.want_yc);
  auto ran = n.run();
  EXPECT_TRUE(ran) << ran.status().message();
  if (!ran) return {};
  // Graph outputs come back in the order the node declared the wanted ones.
  std::vector<Tensor> full(3);
  std::size_t next = 0;
  const bool wanted[3] = {c.want_y, c.want_yh, c.kind == RnnCellKind::kLstm && c.want_yc};
  for (int i = 0; i < 3; ++i)
    if (wanted[i] && next < ran->size()) full[static_cast<std::size_t>(i)] = (*ran)[next++];
  return full;
}

std::vector<float> values(const Tensor& t) { return std::vector<float>(t.data<float>(), t.data<float>() + t.numel()); }

// What one GPU run gave: Y, Y_h, Y_c (empty where not asked), and the path it took.
struct GpuOut {
  std::vector<float> y, yh, yc;
  RnnPath path = RnnPath::kAuto;
};

class CudaRnnTest : public GpuTest {
 protected:
  // Runs the case on the GPU (twice) and compares with the CPU; returns the second run's outputs.
  GpuOut check(const Case& c) {
    GpuOut out;
    check_into(c, out);
    return out;
  }

  void check_into(const Case& c, GpuOut& out) {
    SCOPED_TRACE(c.describe());
    Data d = make_data(c);
    const std::vector<Tensor> want = run_cpu(c, d);
    ASSERT_EQ(want.size(), 3u);

    CudaRnnSpec spec;
    spec.kind = c.kind;
    spec.num_dirs = c.dirs();
    spec.reverse = c.direction == "reverse";
    spec.input_size = c.input;
    spec.hidden = c.hidden;
    spec.layout = c.layout;
    spec.clip = c.clip;
    spec.input_forget = c.input_forget;
    spec.linear_before_reset = c.lbr;
    if (c.acts.empty()) {
      spec.activations = default_rnn_activations(c.kind, c.dirs());
    } else {
      auto acts = resolve_rnn_activations(c.acts, c.alphas, c.betas);
      ASSERT_TRUE(acts) << acts.status().message();
      spec.activations = *acts;
    }
    RnnHostWeights hw;
    hw.w = d.w.data();
    hw.r = d.r.data();
    hw.b = c.bias ? d.b.data() : nullptr;
    hw.p = c.peep ? d.p.data() : nullptr;
    auto rnn = CudaRnn::create(spec, hw, allocator_);
    ASSERT_TRUE(rnn) << rnn.status().message();
    auto ws = CudaRnnWorkspace::create(allocator_, c.use_graph, c.path);
    ASSERT_TRUE(ws) << ws.status().message();

    const int64_t y_n = c.seq * c.dirs() * c.batch * c.hidden, s_n = c.dirs() * c.batch * c.hidden;
    DeviceBuffer x = upload(d.x), h0 = upload(d.h0), c0 = upload(d.c0);
    DeviceBuffer y = device<float>(y_n), yh = device<float>(s_n), yc = device<float>(s_n);
    RnnRunIo io;
    io.seq = c.seq;
    io.batch = c.batch;
    io.x = x.as<float>();
    io.lens = d.lens.empty() ? nullptr : d.lens.data();
    io.init_h = c.init_h ? h0.as<float>() : nullptr;
    io.init_c = c.init_c ? c0.as<float>() : nullptr;
    io.y = c.want_y ? y.as<float>() : nullptr;
    io.y_h = c.want_yh ? yh.as<float>() : nullptr;
    io.y_c = c.want_yc ? yc.as<float>() : nullptr;
    // Twice: the second run replays the cached graph and must give the same answer.
    for (int run = 0; run < 2; ++run) {
      SCOPED_TRACE("run " + std::to_string(run));
      // Poisoned (NaN) before each run, on the run's stream: an element the run does not write fails the
      // comparison, also where fresh device memory would happen to hold the expected zeros.
      for (const DeviceBuffer* b : {&y, &yh, &yc})
        ASSERT_EQ(cudaMemsetAsync(b->get(), 0xff, b->size(), stream()), cudaSuccess);
      Status st = (*rnn)->run(io, **ws, *cublas_);
      ASSERT_TRUE(st) << st.message();
      out.path = (*ws)->last_path();
      if (c.path != RnnPath::kAuto) {
        EXPECT_EQ(rnn_path_name(out.path), std::string(rnn_path_name(c.path)));
      }
      if (c.want_y) {
        out.y = download<float>(y, y_n);
        test::expect_near_all(out.y, values(want[0]), "Y", 1e-4, 1e-4);
      }
      if (c.want_yh) {
        out.yh = download<float>(yh, s_n);
        test::expect_near_all(out.yh, values(want[1]), "Y_h", 1e-4, 1e-4);
      }
      if (c.want_yc && c.kind == RnnCellKind::kLstm) {
        out.yc = download<float>(yc, s_n);
        test::expect_near_all(out.yc, values(want[2]), "Y_c", 1e-4, 1e-4);
      }
    }
    if (c.use_graph && out.path == RnnPath::kStepwise) {
      // No step to run (every length 0): nothing is captured.
      const bool any_step = c.seq > 0 && (d.lens.empty() || *std::max_element(d.lens.begin(), d.lens.end()) > 0);
      EXPECT_EQ((*ws)->graphs_captured(), any_step ? 1 : 0) << "the second run must reuse the graph";
    }
  }
};

// Every sequence_lens entry 0: no step runs on any path (nothing to capture into a graph, no persistent
// launch); Y is all zeros and Y_h, Y_c are the initial states.
TEST_F(CudaRnnTest, ZeroLengthsKeepTheInitialStates) {
  uint32_t seed = 70;
  for (RnnCellKind kind : {RnnCellKind::kLstm, RnnCellKind::kGru})
    for (RnnPath path : {RnnPath::kStepwise, RnnPath::kPersistent})
      for (bool graph : {true, false}) {
        Case c;
        c.kind = kind;
        c.direction = "bidirectional";
        c.zero_lens = true;
        c.init_h = c.init_c = true;
        c.path = path;
        c.use_graph = graph;
        c.seed = seed++;
        const GpuOut out = check(c);
        if (HasFatalFailure()) return;
        SCOPED_TRACE(c.describe());
        EXPECT_EQ(out.y, std::vector<float>(out.y.size(), 0.0f)) << "Y of steps never taken must be zero";
        EXPECT_EQ(out.yh, make_data(c).h0) << "Y_h must be initial_h";
      }
}

// Two threads, each with its own stream, cuBLAS and workspace, run one shared CudaRnn at once; every run
// changes the step count, so every run records a new CUDA Graph while the other thread launches kernels,
// records events, queries its stream, copies from pageable memory and allocates (what a CudaDevice's other
// threads do meanwhile). Thread-local capture mode is what keeps the other thread's calls out of a capture
// (global mode would invalidate it), device_sync_guard() what keeps device-wide synchronization away; a
// capture that another thread's work joined or invalidated, or a graph replayed with another thread's
// buffers, gives a failed run or wrong Y_h.
TEST_F(CudaRnnTest, TwoThreadsCaptureAtOnce) {
  Case base;
  base.kind = RnnCellKind::kLstm;
  base.batch = 2, base.input = 8, base.hidden = 32;
  base.want_y = false, base.want_yc = false;
  base.seed = 90;
  const std::vector<int64_t> seqs = {3, 4, 5, 6, 7, 8, 9, 10};
  // Weights depend on the seed only (make_data draws X first), so one CudaRnn serves every seq.
  std::vector<Data> data;
  std::vector<std::vector<float>> want;
  for (int64_t seq : seqs) {
    Case c = base;
    c.seq = seq;
    data.push_back(make_data(c));
    const std::vector<Tensor> cpu = run_cpu(c, data.back());
    ASSERT_EQ(cpu.size(), 3u);
    want.push_back(values(cpu[1]));
  }
  CudaRnnSpec spec;
  spec.kind = base.kind;
  spec.input_size = base.input;
  spec.hidden = base.hidden;
  spec.activations = default_rnn_activations(spec.kind, 1);
  auto rnn = CudaRnn::create(spec, {data[0].w.data(), data[0].r.data(), data[0].b.data(), nullptr}, allocator_);
  ASSERT_TRUE(rnn) << rnn.status().message();

  constexpr int kRounds = 3;
  std::vector<std::string> errors[2];
  int captured[2] = {0, 0};
  std::atomic<int> done{0};
  auto worker = [&](int id) {
    std::vector<std::string>& err = errors[id];
    auto fail = [&err](const std::string& what) { err.push_back(what); };
    Result<CudaStream> stream = Status::error("not made");
    Result<CublasContext> blas = Status::error("not made");
    Result<std::unique_ptr<CudaRnnWorkspace>> ws = Status::error("not made");
    Result<CudaEvent> marker = Status::error("not made");
    // Destroyed first: a thread that is done waits for the other before its handles and streams go, since
    // destroying a cuBLAS handle synchronizes the device and would break the other's capture (CudaDevice
    // does that under device_sync_guard(); these are the bare objects).
    struct Barrier {
      std::atomic<int>& done;
      ~Barrier() {
        ++done;
        while (done.load() < 2) std::this_thread::yield();
      }
    } barrier{done};
    if (cudaSetDevice(0) != cudaSuccess) return fail("cudaSetDevice");
    stream = CudaStream::create(0);
    if (!stream) return fail(stream.status().message());
    // As a CudaDevice's threads do: captures hold device_sync_guard() shared, the pool's cudaMalloc takes it.
    blas = CublasContext::create(allocator_, 0, stream->get(), &device_sync_guard());
    if (!blas) return fail(blas.status().message());
    ws = CudaRnnWorkspace::create(allocator_, /*use_graph=*/true, RnnPath::kStepwise);
    if (!ws) return fail(ws.status().message());
    marker = CudaEvent::create(false);
    if (!marker) return fail(marker.status().message());
    const auto h_n = static_cast<std::size_t>(base.batch * base.hidden);
    std::vector<float> yh(h_n);
    for (int round = 0; round < kRounds; ++round)
      for (std::size_t k = 0; k < seqs.size(); ++k) {
        // Opposite orders: the two threads capture different shapes at overlapping times.
        const std::size_t i = id == 0 ? k : seqs.size() - 1 - k;
        const std::string at = "thread " + std::to_string(id) + " seq " + std::to_string(seqs[i]) + ": ";
        // What other work does meanwhile: allocations (cudaMalloc the first time), events, stream queries.
        auto x = DeviceBuffer::allocate(allocator_, data[i].x.size() * sizeof(float), MemoryCategory::kActivations);
        auto y = DeviceBuffer::allocate(allocator_, h_n * sizeof(float), MemoryCategory::kActivations);
        if (!x || !y) return fail(at + "allocation");
        if (cudaMemcpyAsync(x->get(), data[i].x.data(), data[i].x.size() * sizeof(float), cudaMemcpyHostToDevice,
                            stream->get()) != cudaSuccess ||
            cudaMemsetAsync(y->get(), 0xff, y->size(), stream->get()) != cudaSuccess)  // NaN: unwritten fails
          return fail(at + "upload");
        RnnRunIo io;
        io.seq = seqs[i];
        io.batch = base.batch;
        io.x = x->as<float>();
        io.y_h = y->as<float>();
        Status st = (*rnn)->run(io, **ws, *blas);
        if (!st) return fail(at + st.message());
        if (!marker->record(stream->get())) return fail(at + "cudaEventRecord");
        (void)cudaStreamQuery(stream->get());
        (void)cudaGetLastError();  // "not ready" is an answer
        if (cudaMemcpyAsync(yh.data(), y->get(), h_n * sizeof(float), cudaMemcpyDeviceToHost, stream->get()) !=
                cudaSuccess ||
            !stream->synchronize())
          return fail(at + "download");
        for (std::size_t e = 0; e < h_n; ++e)
          if (!(std::abs(yh[e] - want[i][e]) <= 1e-4 + 1e-4 * std::abs(want[i][e])))
            return fail(at + "Y_h[" + std::to_string(e) + "] = " + std::to_string(yh[e]) + ", CPU " +
                        std::to_string(want[i][e]));
      }
    captured[id] = (*ws)->graphs_captured();
  };
  std::thread t0(worker, 0), t1(worker, 1);
  t0.join();
  t1.join();
  for (int id = 0; id < 2; ++id) {
    for (const std::string& e : errors[id]) ADD_FAILURE() << e;
    if (errors[id].empty()) {
      EXPECT_EQ(captured[id], kRounds * static_cast<int>(seqs.size())) << "thread " << id << ": one capture per run";
    }
  }
}

// One point of the option matrix the option tests walk: `variant` 0..3 turns sequence lengths, initial
// states, bias, peepholes, clip, input_forget and linear_before_reset on and off in rotation.
Case option_case(RnnCellKind kind, const char* dir, int64_t layout, int variant, uint32_t seed) {
  Case c;
  c.kind = kind;
  c.direction = dir;
  c.layout = layout;
  c.seed = seed;
  c.mixed_lens = variant % 2 == 1;
  c.init_h = variant >= 2;
  c.init_c = variant == 3;
  c.bias = variant != 2;
  c.peep = kind == RnnCellKind::kLstm && variant % 2 == 0;
  if (variant == 3) c.clip = 0.7f;
  c.input_forget = kind == RnnCellKind::kLstm && variant == 1;
  c.lbr = kind == RnnCellKind::kGru && variant % 2 == 0;
  return c;
}

// Every cell kind, direction and layout, with the options rotating through the combinations.
TEST_F(CudaRnnTest, MatchesCpuAcrossOptions) {
  uint32_t seed = 1;
  int i = 0;
  for (RnnCellKind kind : {RnnCellKind::kLstm, RnnCellKind::kGru, RnnCellKind::kRnn})
    for (const char* dir : {"forward", "reverse", "bidirectional"})
      for (int64_t layout : {0, 1})
        for (int variant = 0; variant < 4; ++variant, ++i) {
          Case c = option_case(kind, dir, layout, variant, seed++);
          c.use_graph = i % 5 != 4;
          check(c);
        }
}

// Activations with alpha/beta consumed in order (each direction has its own functions).
TEST_F(CudaRnnTest, MatchesCpuWithCustomActivations) {
  Case c;
  c.direction = "bidirectional";
  c.kind = RnnCellKind::kLstm;
  c.acts = {"HardSigmoid", "ScaledTanh", "LeakyRelu", "Sigmoid", "Softsign", "Elu"};
  c.alphas = {0.3f, 1.3f, 0.05f, 0.7f};
  c.betas = {0.45f, 0.7f};
  check(c);
  c.kind = RnnCellKind::kGru;
  c.lbr = true;
  c.acts = {"HardSigmoid", "Softplus", "Sigmoid", "Affine"};
  c.alphas = {0.25f, 0.8f};
  c.betas = {0.55f, 0.1f};
  check(c);
  c.kind = RnnCellKind::kRnn;
  c.direction = "forward";
  for (auto acts : std::vector<std::vector<std::string>>{{"Relu"}, {"thresholdedrelu"}, {"Softsign"}, {"elu"}}) {
    c.acts = acts;
    c.alphas = {0.05f};
    c.betas = {};
    c.seed++;
    check(c);
  }
}

// Sizes around warp and block boundaries and the benchmark's shapes.
TEST_F(CudaRnnTest, MatchesCpuAtLargerSizes) {
  struct S {
    int64_t seq, batch, input, hidden;
  };
  uint32_t seed = 100;
  for (S s : {S{20, 4, 64, 64}, S{5, 1, 32, 257}, S{3, 64, 16, 128}, S{100, 1, 256, 256}, S{10, 64, 1024, 64}})
    for (RnnCellKind kind : {RnnCellKind::kLstm, RnnCellKind::kGru}) {
      Case c;
      c.kind = kind;
      c.seq = s.seq, c.batch = s.batch, c.input = s.input, c.hidden = s.hidden;
      c.lbr = true;
      c.mixed_lens = s.batch > 1;
      c.seed = seed++;
      check(c);
    }
}

TEST_F(CudaRnnTest, ComputesOnlyTheOutputsAsked) {
  for (int outs = 0; outs < 3; ++outs) {
    Case c;
    c.want_y = outs == 0, c.want_yh = outs == 1, c.want_yc = outs == 2;
    c.mixed_lens = true;
    c.seed = 40 + static_cast<uint32_t>(outs);
    check(c);
  }
}

TEST_F(CudaRnnTest, RejectsBadSequenceLengthsAndSpecs) {
  Case c;
  Data d = make_data(c);
  CudaRnnSpec spec;
  spec.input_size = c.input;
  spec.hidden = c.hidden;
  spec.activations = default_rnn_activations(spec.kind, 1);
  auto rnn = CudaRnn::create(spec, {d.w.data(), d.r.data(), nullptr, nullptr}, allocator_);
  ASSERT_TRUE(rnn) << rnn.status().message();
  auto ws = CudaRnnWorkspace::create(allocator_);
  ASSERT_TRUE(ws);
  DeviceBuffer x = upload(d.x);
  std::vector<int32_t> lens = {1, static_cast<int32_t>(c.seq) + 1, 2};
  RnnRunIo io;
  io.seq = c.seq;
  io.batch = c.batch;
  io.x = x.as<float>();
  io.lens = lens.data();
  Status st = (*rnn)->run(io, **ws, *cublas_);
  ASSERT_FALSE(st);
  EXPECT_NE(st.message().find("sequence_lens[1]"), std::string::npos) << st.message();

  spec.activations.pop_back();
  auto bad = CudaRnn::create(spec, {d.w.data(), d.r.data(), nullptr, nullptr}, allocator_);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.status().message().find("activations"), std::string::npos) << bad.status().message();
  EXPECT_FALSE(resolve_rnn_activations({"Swish"}, {}, {}));
}

// ---- the persistent kernel ----------------------------------------------------------------------------

TEST(CudaRnnPathNoGpu, NamesRoundTrip) {
  for (RnnPath p : {RnnPath::kAuto, RnnPath::kStepwise, RnnPath::kPersistent}) {
    auto parsed = parse_rnn_path(rnn_path_name(p));
    ASSERT_TRUE(parsed) << parsed.status().message();
    EXPECT_EQ(*parsed, p);
  }
  EXPECT_FALSE(parse_rnn_path("fast"));
}

// The persistent kernel and the per-step path against the CPU and against each other, over the sizes the
// persistent kernel takes; directions, layouts, lengths, initial states and options rotate through the
// cases. Hidden 33 leaves a last block with fewer units; seq 1 makes a single step (H(1) in the odd buffer).
TEST_F(CudaRnnTest, PersistentMatchesStepwiseAndCpu) {
  uint32_t seed = 1000;
  int i = 0;
  const char* const dirs[] = {"forward", "reverse", "bidirectional"};
  for (int kind_variant = 0; kind_variant < 4; ++kind_variant)
    for (int64_t hidden : {1, 16, 33, 64, 128})
      for (int64_t batch : {1, 3})
        for (int64_t seq : {1, 7, 100}) {
          Case c;
          c.kind = kind_variant == 0   ? RnnCellKind::kLstm
                   : kind_variant == 3 ? RnnCellKind::kRnn
                                       : RnnCellKind::kGru;
          c.lbr = kind_variant == 2;
          c.hidden = hidden;
          c.batch = batch;
          c.seq = seq;
          c.input = i % 3 == 0 ? 3 : i % 3 == 1 ? 16 : 40;
          c.direction = dirs[i % 3];
          c.layout = (i / 3) % 2;
          c.mixed_lens = batch > 1 && i % 2 == 0;
          c.init_h = i % 4 >= 2;
          c.init_c = i % 4 == 3;
          c.bias = i % 5 != 4;
          c.peep = c.kind == RnnCellKind::kLstm && i % 3 == 1;
          c.seed = seed++;
          ++i;
          c.path = RnnPath::kPersistent;
          const GpuOut persistent = check(c);
          c.path = RnnPath::kStepwise;
          const GpuOut stepwise = check(c);
          if (HasFatalFailure()) return;
          SCOPED_TRACE(c.describe());
          test::expect_near_all(persistent.y, stepwise.y, "Y persistent vs stepwise", 1e-4, 1e-4);
          test::expect_near_all(persistent.yh, stepwise.yh, "Y_h persistent vs stepwise", 1e-4, 1e-4);
          test::expect_near_all(persistent.yc, stepwise.yc, "Y_c persistent vs stepwise", 1e-4, 1e-4);
        }
}

// Every option the per-step cell takes, on the persistent kernel.
TEST_F(CudaRnnTest, PersistentMatchesCpuAcrossOptions) {
  uint32_t seed = 2000;
  for (RnnCellKind kind : {RnnCellKind::kLstm, RnnCellKind::kGru, RnnCellKind::kRnn})
    for (const char* dir : {"forward", "reverse", "bidirectional"})
      for (int64_t layout : {0, 1})
        for (int variant = 0; variant < 4; ++variant) {
          Case c = option_case(kind, dir, layout, variant, seed++);
          c.want_y = variant != 1;
          c.want_yc = variant != 2;
          c.path = RnnPath::kPersistent;
          check(c);
        }
  Case c;
  c.direction = "bidirectional";
  c.path = RnnPath::kPersistent;
  c.acts = {"HardSigmoid", "ScaledTanh", "LeakyRelu", "Sigmoid", "Softsign", "Elu"};
  c.alphas = {0.3f, 1.3f, 0.05f, 0.7f};
  c.betas = {0.45f, 0.7f};
  check(c);
  c.kind = RnnCellKind::kGru;
  for (bool lbr : {false, true}) {
    c.lbr = lbr;
    c.acts = {"HardSigmoid", "Softplus", "Sigmoid", "Affine"};
    c.alphas = {0.25f, 0.8f};
    c.betas = {0.55f, 0.1f};
    c.seed++;
    check(c);
  }
}

// The selection rule: small hidden sizes and batches take the persistent kernel, larger ones the per-step
// path; forcing the persistent kernel where it does not fit fails, saying why.
TEST_F(CudaRnnTest, AutoChoosesByTheSelectionRule) {
  Case c;
  c.path = RnnPath::kAuto;
  c.hidden = 64;
  c.batch = 3;
  EXPECT_EQ(rnn_path_name(check(c).path), std::string("persistent"));
  c.hidden = kPersistentRnnMaxHidden + 1;
  c.seed++;
  EXPECT_EQ(rnn_path_name(check(c).path), std::string("stepwise"));
  c.hidden = 16;
  c.batch = kPersistentRnnMaxBatch + 1;
  c.seed++;
  EXPECT_EQ(rnn_path_name(check(c).path), std::string("stepwise"));

  CudaRnnSpec spec;
  spec.input_size = 4;
  spec.hidden = kPersistentRnnMaxHidden * 2;
  spec.activations = default_rnn_activations(spec.kind, 1);
  const std::vector<float> w = random_vector(4 * spec.hidden * 4, 1), r = random_vector(4 * spec.hidden * spec.hidden, 2);
  auto rnn = CudaRnn::create(spec, {w.data(), r.data(), nullptr, nullptr}, allocator_);
  ASSERT_TRUE(rnn) << rnn.status().message();
  auto layout = (*rnn)->persistent_layout(1);
  ASSERT_TRUE(layout) << layout.status().message();
  EXPECT_FALSE(layout->fits);
  auto ws = CudaRnnWorkspace::create(allocator_, true, RnnPath::kPersistent);
  ASSERT_TRUE(ws) << ws.status().message();
  DeviceBuffer x = upload(random_vector(2 * 4, 3)), yh = device<float>(spec.hidden);
  RnnRunIo io;
  io.seq = 2;
  io.batch = 1;
  io.x = x.as<float>();
  io.y_h = yh.as<float>();
  Status st = (*rnn)->run(io, **ws, *cublas_);
  ASSERT_FALSE(st);
  EXPECT_NE(st.message().find("persistent kernel was forced"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("hidden size 256"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace tandem::cuda
