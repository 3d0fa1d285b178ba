// The profiler: timing loop, link fits, GPU estimates, whole-model profiles, merging, traces. No timing
// thresholds: what is asserted is structure, bookkeeping and arithmetic that must hold on any machine.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "graph/graph_edit.h"
#include "onnx_import/model_hash.h"
#include "partitioner/profile.h"
#include "profiler/cpu_handoff.h"
#include "profiler/device_link.h"
#include "profiler/gpu_estimate.h"
#include "profiler/link_fit.h"
#include "profiler/profile_merge.h"
#include "profiler/profile_model.h"
#include "profiler/profile_summary.h"
#include "profiler/run_trace.h"
#include "profiler/timing.h"
#include "runtime_cpu/cpu_device.h"
#include "session/device_set.h"
#include "tests/support/model_builder.h"
#include "tests/support/rnn_kernel_choice.h"

namespace tandem {
namespace {

using namespace tandem::profiler;
using test::RnnKernelChoice;
using partition::LinkSample;
using partition::Profile;

// --- timing --------------------------------------------------------------------------------------------

TEST(Timing, PercentileInterpolatesBetweenRanks) {
  const std::vector<double> v = {1, 2, 3, 4, 5};
  EXPECT_DOUBLE_EQ(percentile(v, 0.5), 3);
  EXPECT_DOUBLE_EQ(percentile(v, 0.9), 4.6);
  EXPECT_DOUBLE_EQ(percentile(v, 0), 1);
  EXPECT_DOUBLE_EQ(percentile(v, 1), 5);
}

TEST(Timing, StableSamplesStopAtTheMinimumCount) {
  TimingOptions o;
  o.warmup = 1;
  o.min_reps = 4;
  o.max_reps = 50;
  int calls = 0;
  auto t = measure([&]() -> Result<double> { ++calls; return 5.0; }, o);
  ASSERT_TRUE(t.is_ok());
  EXPECT_TRUE(t->stable);
  EXPECT_EQ(t->reps, 4);
  EXPECT_EQ(calls, 5);  // one warm-up
  EXPECT_DOUBLE_EQ(t->median_us, 5);
  EXPECT_DOUBLE_EQ(t->p90_us, 5);
}

TEST(Timing, DriftingSamplesStopAtTheMaximumCount) {
  TimingOptions o;
  o.warmup = 0;
  o.min_reps = 3;
  o.max_reps = 17;
  o.budget_ms = 1e9;
  double next = 1;
  auto t = measure([&]() -> Result<double> { return next *= 2; }, o);  // the median never settles
  ASSERT_TRUE(t.is_ok());
  EXPECT_FALSE(t->stable);
  EXPECT_EQ(t->reps, 17);
  EXPECT_GE(t->p90_us, t->median_us);
}

TEST(Timing, AnErrorStopsTheMeasurement) {
  int calls = 0;
  auto t = measure([&]() -> Result<double> {
    if (++calls == 3) return Status::error("node 'x' (Foo): broke");
    return 1.0;
  }, TimingOptions{});
  ASSERT_FALSE(t.is_ok());
  EXPECT_EQ(t.status().message(), "node 'x' (Foo): broke");
}

// --- link fits -----------------------------------------------------------------------------------------

TEST(LinkFit, CalibrationSizesArePowersOfFourFrom4BTo64MiB) {
  const std::vector<int64_t> s = calibration_sizes();
  ASSERT_EQ(s.size(), 13u);
  EXPECT_EQ(s.front(), 4);
  EXPECT_EQ(s.back(), int64_t{64} << 20);
  for (std::size_t i = 1; i < s.size(); ++i) EXPECT_EQ(s[i], 4 * s[i - 1]);
}

TEST(LinkFit, RecoversAKnownLatencyAndBandwidth) {
  std::vector<LinkSample> samples;
  for (int64_t b : calibration_sizes()) samples.push_back({b, 7.0 + static_cast<double>(b) / 1234.0});
  const auto fit = fit_link(samples);
  EXPECT_NEAR(fit.alpha_us, 7.0, 1e-6);
  EXPECT_NEAR(fit.beta_bytes_per_us, 1234.0, 1e-6);
  EXPECT_LT(fit.max_residual_us, 1e-6);
  EXPECT_EQ(fit.samples.size(), samples.size());
  EXPECT_FALSE(fit.estimated);
}

TEST(LinkFit, EverySampleLiesWithinTheStatedResidual) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> noise(0.85, 1.15);
  std::vector<LinkSample> samples;
  for (int64_t b : calibration_sizes()) samples.push_back({b, (3.0 + static_cast<double>(b) / 25000.0) * noise(rng)});
  const auto fit = fit_link(samples);
  EXPECT_GE(fit.alpha_us, 0);
  EXPECT_GT(fit.beta_bytes_per_us, 0);
  EXPECT_LE(fit.residual_us, fit.max_residual_us);
  for (const LinkSample& s : samples)
    EXPECT_LE(std::abs(fit.alpha_us + static_cast<double>(s.bytes) / fit.beta_bytes_per_us - s.us),
              fit.max_residual_us + 1e-9);
  // Within the noise of the bandwidth it was drawn around.
  EXPECT_NEAR(fit.beta_bytes_per_us, 25000.0, 25000.0 * 0.2);
}

TEST(LinkFit, SizeIndependentCostsGiveALatencyAndNoBandwidthLimit) {
  const auto fit = fit_link({{4, 5}, {4096, 5}, {1 << 20, 5}});
  EXPECT_NEAR(fit.alpha_us, 5, 1e-9);
  EXPECT_GT(fit.beta_bytes_per_us, 1e9);
}

TEST(LinkFit, CpuHandoffCalibrationReproducesItsOwnMeasurements) {
  CpuHandoff handoff;
  const std::vector<int64_t> sizes = calibration_sizes(4, 1 << 20);
  auto fit = calibrate_link([&](int64_t b) { return handoff(b); }, sizes, TimingOptions{1, 3, 10, 50, 0.05});
  ASSERT_TRUE(fit.is_ok()) << fit.status().message();
  ASSERT_EQ(fit->samples.size(), sizes.size());
  EXPECT_GT(fit->beta_bytes_per_us, 0);
  for (const LinkSample& s : fit->samples) {
    EXPECT_GT(s.us, 0);
    EXPECT_LE(std::abs(fit->alpha_us + static_cast<double>(s.bytes) / fit->beta_bytes_per_us - s.us),
              fit->max_residual_us + 1e-9);
  }
}

TEST(LinkFit, ACopyErrorNamesTheSize) {
  auto fit = calibrate_link([](int64_t b) -> Result<double> {
    if (b > 16) return Status::error("out of pinned memory");
    return 1.0;
  }, {4, 16, 64}, TimingOptions{0, 1, 1, 10, 0.1});
  ASSERT_FALSE(fit.is_ok());
  EXPECT_EQ(fit.status().message(), "copying 64 bytes: out of pinned memory");
}

// --- GPU specs -----------------------------------------------------------------------------------------

TEST(GpuSpec, NamedDevicesAndOverrides) {
  auto h100 = parse_gpu_spec("h100");
  ASSERT_TRUE(h100.is_ok());
  auto h200 = parse_gpu_spec("h200,launch_us=7,efficiency=0.5");
  ASSERT_TRUE(h200.is_ok()) << h200.status().message();
  EXPECT_GT(h200->memory_gbps, h100->memory_gbps);
  EXPECT_DOUBLE_EQ(h200->launch_us, 7);
  EXPECT_DOUBLE_EQ(h200->efficiency, 0.5);
  EXPECT_NE(describe_gpu_spec(*h200).find("NVIDIA H200"), std::string::npos);
}

TEST(GpuSpec, BadSpecsAreNamed) {
  EXPECT_EQ(parse_gpu_spec("a100").status().message(),
            "unknown GPU 'a100' for estimates (expected h100 or h200, then optional ',key=value' overrides)");
  EXPECT_NE(parse_gpu_spec("h100,warp=3").status().message().find("unknown GPU spec key 'warp' (known: "),
            std::string::npos);
  EXPECT_EQ(parse_gpu_spec("h100,launch_us=fast").status().message(),
            "GPU spec 'launch_us=fast': expected a non-negative number");
  EXPECT_EQ(parse_gpu_spec("h100,memory_gbps=0").status().message(), "GPU spec 'memory_gbps' must be above 0");
  EXPECT_EQ(parse_gpu_spec("h100,efficiency=2").status().message(), "GPU spec 'efficiency' must be at most 1");
  EXPECT_EQ(parse_gpu_spec("h100,launch_us").status().message(), "GPU spec override 'launch_us' is not key=value");
}

// The GPU holds no strings: an estimated GPU must not offer to run a Concat of strings or a Cast that makes
// them (the CUDA device refuses both), else a plan from estimated costs could not run on a real GPU.
TEST(GpuSpec, NodesTouchingStringsAreNotEstimatedOnTheGpu) {
  onnx::ModelProto m = test::make_model();
  auto& g = *m.mutable_graph();
  test::add_input(g, "words", onnx::TensorProto::STRING, {4});
  test::add_input(g, "x", onnx::TensorProto::FLOAT, {4});
  onnx::NodeProto* concat_node = test::add_node(g, "Concat", {"words", "words"}, {"twice"}, "concat");
  test::set_int(concat_node, "axis", 0);
  onnx::NodeProto* c = test::add_node(g, "Cast", {"x"}, {"text"}, "to_text");
  test::set_int(c, "to", onnx::TensorProto::STRING);
  test::add_node(g, "Relu", {"x"}, {"r"}, "relu");
  test::add_output(g, "twice", onnx::TensorProto::STRING);
  test::add_output(g, "text", onnx::TensorProto::STRING);
  test::add_output(g, "r");
  auto ir = test::import_proto(m);
  ASSERT_TRUE(ir.is_ok()) << ir.status().message();
  const Graph& graph = *ir->graph;
  const NodeFacts f;
  const auto concat = estimate_gpu_node(graph, 0, f, *parse_gpu_spec("h100"));
  EXPECT_FALSE(concat.supported);
  EXPECT_EQ(concat.reason, "'words' is a string tensor, which lives on the host");
  const auto cast = estimate_gpu_node(graph, 1, f, *parse_gpu_spec("h100"));
  EXPECT_FALSE(cast.supported);
  EXPECT_EQ(cast.reason, "'text' is a string tensor, which lives on the host");
  EXPECT_TRUE(estimate_gpu_node(graph, 2, f, *parse_gpu_spec("h100")).supported);
}

TEST(GpuSpec, SlowerDevicesEstimateSlower) {
  // The estimate must move the right way with the spec: half the bandwidth cannot make a node faster.
  onnx::ModelProto m = test::make_model();
  auto& g = *m.mutable_graph();
  test::add_input(g, "x", onnx::TensorProto::FLOAT, {256, 256});
  test::add_float_initializer(g, "w", {256, 256}, std::vector<float>(256 * 256, 0.5f));
  test::add_node(g, "MatMul", {"x", "w"}, {"y"}, "mm");
  test::add_output(g, "y");
  auto ir = test::import_proto(m);
  ASSERT_TRUE(ir.is_ok()) << ir.status().message();
  NodeFacts f;
  f.input_bytes = f.output_bytes = f.weight_bytes = 256 * 256 * 4;
  const auto fast = estimate_gpu_node(*ir->graph, 0, f, *parse_gpu_spec("h100"));
  const auto slow = estimate_gpu_node(*ir->graph, 0, f, *parse_gpu_spec("h100,memory_gbps=100,fp32_tflops=1"));
  ASSERT_TRUE(fast.supported && slow.supported);
  EXPECT_TRUE(fast.estimated);
  EXPECT_GT(slow.median_us, fast.median_us);
  EXPECT_EQ(fast.weight_bytes, 256 * 256 * 4);
}

TEST(GpuSpec, NodesThatCallCublasShareTheirStreamsCublasWorkspace) {
  // MatMul and a grouped Conv call cuBLAS; the direct Conv kernel (depthwise, at most 32 kernel elements)
  // and elementwise ops do not. The workspace's size is the spec's, overridable.
  onnx::ModelProto m = test::make_model();
  auto& g = *m.mutable_graph();
  test::add_input(g, "x", onnx::TensorProto::FLOAT, {1, 4, 8, 8});
  test::add_float_initializer(g, "wd", {4, 1, 3, 3}, std::vector<float>(36, 0.5f));    // depthwise 3x3
  test::add_float_initializer(g, "wg", {4, 2, 3, 3}, std::vector<float>(72, 0.5f));    // 2 groups
  test::add_float_initializer(g, "wl", {4, 1, 7, 7}, std::vector<float>(196, 0.5f));   // depthwise 7x7
  test::add_float_initializer(g, "m", {8, 8}, std::vector<float>(64, 0.5f));
  test::set_int(test::add_node(g, "Conv", {"x", "wd"}, {"d"}, "depthwise"), "group", 4);
  test::set_int(test::add_node(g, "Conv", {"x", "wg"}, {"gr"}, "grouped"), "group", 2);
  test::set_int(test::add_node(g, "Conv", {"x", "wl"}, {"l"}, "large"), "group", 4);
  test::add_node(g, "MatMul", {"x", "m"}, {"mm"}, "matmul");
  test::add_node(g, "Relu", {"x"}, {"r"}, "relu");
  for (const char* out : {"d", "gr", "l", "mm", "r"}) test::add_output(g, out);
  auto ir = test::import_proto(m);
  ASSERT_TRUE(ir.is_ok()) << ir.status().message();
  const Graph& graph = *ir->graph;
  NodeFacts f;
  const int64_t mib32 = int64_t{32} << 20;
  auto shared = [&](const char* node, const std::string& spec) -> int64_t {
    auto id = find_unique_node(graph, node);
    EXPECT_TRUE(id.is_ok()) << node;
    return id.is_ok() ? estimate_gpu_node(graph, *id, f, *parse_gpu_spec(spec)).shared_workspace_bytes : -1;
  };
  EXPECT_EQ(shared("depthwise", "h100"), 0);
  EXPECT_EQ(shared("grouped", "h100"), mib32);
  EXPECT_EQ(shared("large", "h100"), mib32);  // 49 kernel elements: im2col and cuBLAS
  EXPECT_EQ(shared("matmul", "h100"), mib32);
  EXPECT_EQ(shared("relu", "h100"), 0);
  EXPECT_EQ(shared("matmul", "h200,blas_workspace_bytes=4194304"), 4 << 20);
}

// --- whole-model profiles ------------------------------------------------------------------------------

// x[seq,2,3] -> MatMul(W0) -> Add(B0) -> LSTM(W,R,B,P; hidden 4) -> Y, Y_h; Shape(Y) -> s.
onnx::ModelProto lstm_model() {
  onnx::ModelProto m = test::make_model();
  auto& g = *m.mutable_graph();
  test::add_input(g, "x", onnx::TensorProto::FLOAT, {std::string("seq"), 2, 3});
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  auto values = [&](std::size_t n) {
    std::vector<float> v(n);
    for (float& x : v) x = u(rng);
    return v;
  };
  test::add_float_initializer(g, "W0", {3, 3}, values(9));
  test::add_float_initializer(g, "B0", {3}, values(3));
  test::add_float_initializer(g, "W", {1, 16, 3}, values(48));
  test::add_float_initializer(g, "R", {1, 16, 4}, values(64));
  test::add_float_initializer(g, "B", {1, 32}, values(32));
  test::add_float_initializer(g, "P", {1, 12}, values(12));
  test::add_node(g, "MatMul", {"x", "W0"}, {"xm"}, "project");
  test::add_node(g, "Add", {"xm", "B0"}, {"xa"}, "bias");
  auto* lstm = test::add_node(g, "LSTM", {"xa", "W", "R", "B", "", "", "", "P"}, {"Y", "Y_h"}, "lstm");
  test::set_int(lstm, "hidden_size", 4);
  test::add_node(g, "Shape", {"Y"}, {"s"}, "shape");
  test::add_output(g, "Y_h");
  test::add_output(g, "s");
  return m;
}

Tensor random_tensor(std::vector<int64_t> shape, uint32_t seed) {
  Tensor t = Tensor::empty(DType::kFloat32, std::move(shape));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = u(rng);
  return t;
}

struct Profiled {
  ModelIR ir;
  Profile profile;
};

Profiled profile_lstm(int64_t seq = 5) {
  auto ir = test::import_proto(lstm_model(), "lstm.onnx");
  EXPECT_TRUE(ir.is_ok()) << ir.status().message();
  Profiled out{std::move(ir).value(), {}};
  static const cpu::CpuDevice cpu(1, "cpu");
  ProfileRequest r;
  r.model = &out.ir;
  r.inputs = {random_tensor({seq, 2, 3}, 11)};
  r.devices = {{"cpu", &cpu}};
  r.estimate_gpu = *parse_gpu_spec("h100");
  r.timing = TimingOptions{1, 3, 10, 20, 0.05};
  r.machine.cpu_model = "test CPU";
  r.machine.threads = 1;
  auto p = profile_model(r);
  EXPECT_TRUE(p.is_ok()) << p.status().message();
  if (p.is_ok()) out.profile = std::move(p).value();
  return out;
}

const partition::NodeProfile& node_named(const Profile& p, const std::string& name) {
  for (const auto& n : p.nodes)
    if (n.name == name) return n;
  throw std::runtime_error("no node " + name);
}

TEST(ProfileModel, EveryNodeHasEveryDeviceAndEveryValueItsSize) {
  const Profiled pr = profile_lstm();
  const Profile& p = pr.profile;
  const Graph& g = *pr.ir.graph;
  ASSERT_EQ(p.nodes.size(), g.num_nodes());
  for (std::size_t i = 0; i < p.nodes.size(); ++i) {
    const auto& n = p.nodes[i];
    EXPECT_EQ(n.index, static_cast<int64_t>(i));
    EXPECT_EQ(n.name, g.node(static_cast<NodeId>(i)).name);
    ASSERT_TRUE(n.devices.count("cpu") && n.devices.count("cuda")) << n.name;
    const auto& cpu = n.devices.at("cpu");
    EXPECT_TRUE(cpu.supported);
    EXPECT_FALSE(cpu.estimated);
    EXPECT_GT(cpu.median_us, 0);
    EXPECT_GE(cpu.p90_us, cpu.median_us);
  }
  // Value sizes follow from the shapes of the run: seq 5, batch 2.
  EXPECT_EQ(p.find_value("x")->bytes, 5 * 2 * 3 * 4);
  EXPECT_EQ(p.find_value("xa")->bytes, 5 * 2 * 3 * 4);
  EXPECT_EQ(p.find_value("Y")->bytes, 5 * 1 * 2 * 4 * 4);
  EXPECT_EQ(p.find_value("Y_h")->bytes, 1 * 2 * 4 * 4);
  EXPECT_EQ(p.find_value("s")->bytes, 4 * 8);
  EXPECT_EQ(node_named(p, "lstm").devices.at("cpu").output_bytes, (5 * 2 * 4 + 2 * 4) * 4);
  EXPECT_EQ(p.input_shapes.at("seq"), 5);
  EXPECT_EQ(p.model_hash, pr.ir.sha256);
  EXPECT_EQ(p.model_hash.size(), 64u);
  EXPECT_EQ(p.machine.cpu_model, "test CPU");
}

TEST(ProfileModel, WeightBytesAgreeWithTheInitializers) {
  Profile p;
  {
    // The reference twin's layout, which the initializers determine exactly.
    RnnKernelChoice reference("reference");
    p = profile_lstm().profile;
  }
  // Nodes that read their weights in place: exactly their initializers.
  EXPECT_EQ(node_named(p, "project").devices.at("cpu").weight_bytes, 9 * 4);
  EXPECT_EQ(node_named(p, "bias").devices.at("cpu").weight_bytes, 3 * 4);
  EXPECT_EQ(node_named(p, "shape").devices.at("cpu").weight_bytes, 0);
  // The reference CPU LSTM keeps W and R transposed, Wb+Rb folded into one bias, and the peepholes.
  EXPECT_EQ(node_named(p, "lstm").devices.at("cpu").weight_bytes, (48 + 64 + 16 + 12) * 4);
  // The GPU estimate counts the initializers as stored in the file.
  EXPECT_EQ(node_named(p, "lstm").devices.at("cuda").weight_bytes, (48 + 64 + 32 + 12) * 4);
  // Workspace of the reference CPU LSTM: the input projection of all steps, h, c and one step's gates.
  EXPECT_EQ(node_named(p, "lstm").devices.at("cpu").workspace_bytes, (5 * 2 * 16 + 8 + 8 + 2 * 16) * 4);
}

TEST(ProfileModel, WeightBytesAreWhatTheDefaultKernelStores) {
  // The default (fast) LSTM packs R into padded per-block panels: the profile reports what its kernel
  // keeps, which is at least the initializers' bytes.
  const Profiled pr = profile_lstm();
  const Graph& g = *pr.ir.graph;
  NodeId lstm = kNoNode;
  for (std::size_t i = 0; i < g.num_nodes(); ++i)
    if (g.node(static_cast<NodeId>(i)).name == "lstm") lstm = static_cast<NodeId>(i);
  ASSERT_NE(lstm, kNoNode);
  const cpu::CpuDevice cpu(1, "cpu");
  auto kernel = cpu.create_kernel(KernelInit{g, lstm, nullptr});
  ASSERT_TRUE(kernel) << kernel.status().message();
  EXPECT_EQ(node_named(pr.profile, "lstm").devices.at("cpu").weight_bytes, (*kernel)->own_weight_bytes());
  EXPECT_GE(node_named(pr.profile, "lstm").devices.at("cpu").weight_bytes, (48 + 64 + 16 + 12) * 4);
}

TEST(ProfileModel, EstimatedNumbersAreFlaggedAsSuch) {
  const Profile p = profile_lstm().profile;
  for (const auto& n : p.nodes) EXPECT_TRUE(n.devices.at("cuda").estimated) << n.name;
  EXPECT_FALSE(node_named(p, "shape").devices.at("cuda").supported);
  EXPECT_EQ(node_named(p, "shape").devices.at("cuda").reason, "Shape is host-side bookkeeping (runs on the CPU)");
  EXPECT_TRUE(node_named(p, "lstm").devices.at("cuda").supported);
  ASSERT_TRUE(p.links.count("cpu->cuda") && p.links.count("cuda->cpu"));
  EXPECT_TRUE(p.links.at("cpu->cuda").estimated);
  bool noted = false;
  for (const auto& note : p.notes) noted = noted || note.find("estimated") != std::string::npos;
  EXPECT_TRUE(noted);
  const std::string summary = profile_summary(p);
  EXPECT_NE(summary.find("cuda (estimated)"), std::string::npos) << summary;
  EXPECT_NE(summary.find("(estimated)\n"), std::string::npos) << summary;  // the link lines
}

TEST(ProfileModel, LongerSequencesCostTheLstmMoreOnTheEstimatedGpu) {
  // The RNN estimate is per time step: 50 steps must cost more than 5.
  const double short_us = node_named(profile_lstm(5).profile, "lstm").devices.at("cuda").median_us;
  const double long_us = node_named(profile_lstm(50).profile, "lstm").devices.at("cuda").median_us;
  EXPECT_GT(long_us, short_us);
}

TEST(ProfileModel, TheEstimatedGpuLstmHoldsTheWorkspaceTandemsGpuKernelKeeps) {
  // seq 5, batch 2, hidden 4, one direction, in floats: the input projection 5*2*16, one step's gates
  // 2*16, H, C and r(.)H 3*2*4, Y 5*2*4, and the lengths 2 int32s. Its projections use the stream's 32
  // MiB cuBLAS workspace, shared with the MatMul.
  const Profile p = profile_lstm(5).profile;
  const partition::NodeDeviceProfile& gpu = node_named(p, "lstm").devices.at("cuda");
  EXPECT_TRUE(gpu.estimated);
  EXPECT_TRUE(gpu.workspace_held);
  EXPECT_EQ(gpu.workspace_bytes, (5 * 2 * 16 + 2 * 16 + 3 * 2 * 4 + 5 * 2 * 4) * 4 + 2 * 4);
  EXPECT_EQ(gpu.shared_workspace_bytes, int64_t{32} << 20);
  // Other nodes' workspace (none here) lives only while they run.
  EXPECT_FALSE(node_named(p, "project").devices.at("cuda").workspace_held);
  EXPECT_EQ(node_named(p, "project").devices.at("cuda").shared_workspace_bytes, int64_t{32} << 20);
  EXPECT_EQ(node_named(p, "bias").devices.at("cuda").shared_workspace_bytes, 0);
  // The CPU kernels share nothing per stream.
  for (const auto& n : p.nodes) EXPECT_EQ(n.devices.at("cpu").shared_workspace_bytes, 0) << n.name;
}

TEST(ProfileModel, NodeTimesComeFromWholeRunsWhenTheDeviceRunsEveryNode) {
  const Profile p = profile_lstm().profile;
  EXPECT_NE(std::find(p.notes.begin(), p.notes.end(), "cpu: node times measured inside whole runs of the model"),
            p.notes.end());
  // Without it, the note is absent and the numbers still well formed.
  auto ir = test::import_proto(lstm_model(), "lstm.onnx");
  ASSERT_TRUE(ir.is_ok());
  const cpu::CpuDevice cpu(1, "cpu");
  ProfileRequest r;
  r.model = &*ir;
  r.inputs = {random_tensor({5, 2, 3}, 11)};
  r.devices = {{"cpu", &cpu}};
  r.timing = TimingOptions{1, 3, 10, 20, 0.05};
  r.time_in_runs = false;
  auto alone = profile_model(r);
  ASSERT_TRUE(alone.is_ok()) << alone.status().message();
  for (const auto& note : alone->notes) EXPECT_EQ(note.find("whole runs"), std::string::npos);
  for (const auto& n : alone->nodes) EXPECT_GE(n.devices.at("cpu").p90_us, n.devices.at("cpu").median_us);
}

// Recurrent nodes that can be split in time get a per-call cost from whole runs of the model in time chunks
// (what each chunk pays again); other nodes, estimated devices and profiles without whole runs get none.
TEST(ProfileModel, RecurrentNodesGetAPerCallCostFromWholeRunsInTimeChunks) {
  // A time length the graph knows (the partitioner splits only those): seq fixed at 5, so 5 chunks of a step.
  onnx::ModelProto m = lstm_model();
  m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(0)->set_dim_value(5);
  auto fixed = test::import_proto(m, "lstm.onnx");
  ASSERT_TRUE(fixed.is_ok()) << fixed.status().message();
  static const cpu::CpuDevice one(1, "cpu");
  ProfileRequest req;
  req.model = &*fixed;
  req.inputs = {random_tensor({5, 2, 3}, 11)};
  req.devices = {{"cpu", &one}};
  req.estimate_gpu = *parse_gpu_spec("h100");
  req.timing = TimingOptions{1, 3, 10, 20, 0.05};
  auto profiled = profile_model(req);
  ASSERT_TRUE(profiled.is_ok()) << profiled.status().message();
  const Profile& p = *profiled;
  EXPECT_NE(std::find(p.notes.begin(), p.notes.end(),
                      "cpu: per-call costs of 1 recurrent node measured inside whole runs of the model split into 8 "
                      "time chunks"),
            p.notes.end());
  for (const auto& n : p.nodes) {
    const auto& cpu = n.devices.at("cpu");
    EXPECT_GE(cpu.call_us, 0) << n.name;
    EXPECT_LE(cpu.call_us, cpu.median_us) << n.name;
    if (n.op_type != "LSTM") {
      EXPECT_EQ(cpu.call_us, 0) << n.name;
    }
    EXPECT_EQ(n.devices.at("cuda").call_us, 0) << n.name;  // estimated
  }
  req.time_in_runs = false;
  auto alone = profile_model(req);
  ASSERT_TRUE(alone.is_ok()) << alone.status().message();
  for (const auto& n : alone->nodes) EXPECT_EQ(n.devices.at("cpu").call_us, 0) << n.name;
  // With the time length unknown to the graph (lstm_model's "seq"), nothing is split: no call costs.
  for (const auto& n : profile_lstm().profile.nodes) EXPECT_EQ(n.devices.at("cpu").call_us, 0) << n.name;
}

TEST(ProfileModel, TheFileRoundTrips) {
  const Profile p = profile_lstm().profile;
  const std::string text = partition::profile_to_json(p);
  auto back = partition::profile_from_json(text);
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  EXPECT_EQ(partition::profile_to_json(*back), text);
}

TEST(ProfileModel, ABadInputIsAnErrorFromTheReferenceRun) {
  auto ir = test::import_proto(lstm_model(), "lstm.onnx");
  ASSERT_TRUE(ir.is_ok());
  const cpu::CpuDevice cpu(1, "cpu");
  ProfileRequest r;
  r.model = &*ir;
  r.inputs = {random_tensor({5, 2, 7}, 1)};  // 7 features where MatMul's W0 takes 3
  r.devices = {{"cpu", &cpu}};
  auto p = profile_model(r);
  ASSERT_FALSE(p.is_ok());
  EXPECT_EQ(p.status().message().rfind("profiler: reference run on cpu: node 'project' (MatMul): ", 0), 0u)
      << p.status().message();
  r.inputs = {};
  EXPECT_EQ(profile_model(r).status().message(), "profiler: the model takes 1 inputs, got 0");
}

TEST(ProfileModel, AnIfIsMeasuredAsAWholeWithItsBodiesWeights) {
  onnx::ModelProto m = test::make_model();
  auto& g = *m.mutable_graph();
  test::add_input(g, "c", onnx::TensorProto::BOOL, {});
  test::add_input(g, "x", onnx::TensorProto::FLOAT, {4});
  auto* node = test::add_node(g, "If", {"c"}, {"y"}, "branch");
  for (const char* attr : {"then_branch", "else_branch"}) {
    onnx::GraphProto* body = test::set_graph(node, attr);
    body->set_name(attr);
    test::add_float_initializer(*body, "k", {4}, {1, 2, 3, 4});
    test::add_node(*body, std::string(attr) == "then_branch" ? "Add" : "Mul", {"x", "k"}, {"out"});
    std::vector<test::DimSpec> dims = {4};
    test::add_output(*body, "out", onnx::TensorProto::FLOAT, &dims);
  }
  test::add_output(g, "y");
  auto ir = test::import_proto(m, "if.onnx");
  ASSERT_TRUE(ir.is_ok()) << ir.status().message();
  const cpu::CpuDevice cpu(1, "cpu");
  Tensor c = Tensor::empty(DType::kBool, {});
  *c.data<bool>() = true;
  ProfileRequest r;
  r.model = &*ir;
  r.inputs = {c, random_tensor({4}, 2)};
  r.devices = {{"cpu", &cpu}};
  r.timing = TimingOptions{0, 2, 4, 10, 0.1};
  auto p = profile_model(r);
  ASSERT_TRUE(p.is_ok()) << p.status().message();
  ASSERT_EQ(p->nodes.size(), 1u);
  EXPECT_EQ(p->nodes[0].op_type, "If");
  EXPECT_EQ(p->nodes[0].devices.at("cpu").weight_bytes, 2 * 4 * 4);  // k in each branch
  EXPECT_EQ(p->nodes[0].devices.at("cpu").output_bytes, 4 * 4);
}

// --- measuring through the Device interface -------------------------------------------------------------

// A device the way the profiler sees a GPU, wrapping the CPU so it runs anywhere: it says it is not a host
// device, `receive` copies (and remembers what it handed out), its kernels' outputs come from its own
// allocator (which counts the live ones), and `finish_run` takes a while, as waiting for a GPU's queued
// work does. Everything it is asked to do is logged in order.
class RecordingDevice final : public Device {
 public:
  struct Event {
    std::string what;  // "create", "receive", "run", "finish"
    NodeId node = kNoNode;
    std::string detail;  // receive: where from ("caller" or a device); run: "foreign input" if one was not received
    int live_outputs = 0;  // finish: outputs of this device's kernels still alive
  };

  std::string name() const override { return "recorder"; }
  DeviceKind kind() const override { return DeviceKind::kCuda; }
  Support supports(const Graph& g, NodeId id) const override { return cpu_.supports(g, id); }
  Result<KernelPtr> create_kernel(const KernelInit& init) const override {
    TANDEM_ASSIGN_OR_RETURN(KernelPtr k, cpu_.create_kernel(init));
    current_ = init.node_id;
    events_.push_back({"create", init.node_id, "", 0});
    return KernelPtr(new Logged(std::move(k), *this, init.node_id));
  }
  void bind_thread() const override { cpu_.bind_thread(); }
  const OutputAllocator* output_allocator() const override { return &allocator_; }
  int memory_space() const override { return 1; }  // memory of its own, as a GPU's: what it reads is copied
  Result<Tensor> receive(const Tensor& t, const Device* from, const Tensor* /*into*/) const override {
    Tensor copy = t.clone();
    received_.push_back(copy.storage());
    events_.push_back({"receive", current_, from ? from->name() : "caller", 0});
    return copy;
  }
  Status finish_run() const override {
    std::this_thread::sleep_for(std::chrono::microseconds(kFinishUs));
    events_.push_back({"finish", current_, "", *allocator_.live});
    return Status::ok();
  }

  static constexpr int kFinishUs = 1000;
  const std::vector<Event>& events() const { return events_; }
  int allocated() const { return allocator_.allocated; }

 private:
  class Logged final : public Kernel {
   public:
    Logged(KernelPtr inner, const RecordingDevice& device, NodeId id)
        : inner_(std::move(inner)), device_(device), id_(id) {}
    Status run(KernelContext& ctx) const override {
      std::string detail;
      for (std::size_t i = 0; i < ctx.num_inputs(); ++i) {
        const Tensor* t = ctx.input(i);
        if (t && !t->is_constant() &&
            std::find(device_.received_.begin(), device_.received_.end(), t->storage()) == device_.received_.end())
          detail = "foreign input";
      }
      device_.events_.push_back({"run", id_, detail, 0});
      return inner_->run(ctx);
    }
    int64_t own_weight_bytes() const override { return inner_->own_weight_bytes(); }

   private:
    KernelPtr inner_;
    const RecordingDevice& device_;
    NodeId id_;
  };
  struct CountingAllocator final : OutputAllocator {
    Result<Tensor> allocate(DType dtype, std::vector<int64_t> shape) const override {
      auto block = std::make_shared<Tensor>(Tensor::empty(dtype, shape));
      void* data = block->raw();
      ++*live;
      ++allocated;
      std::shared_ptr<const void> owner(new std::shared_ptr<Tensor>(std::move(block)), [c = live](const void* p) {
        delete static_cast<const std::shared_ptr<Tensor>*>(p);
        --*c;
      });
      return Tensor::adopt(dtype, std::move(shape), data, DeviceKind::kCpu, std::move(owner));
    }
    std::shared_ptr<int> live = std::make_shared<int>(0);
    mutable int allocated = 0;
  };

  cpu::CpuDevice cpu_{1, "recorder"};
  CountingAllocator allocator_;
  mutable NodeId current_ = kNoNode;
  mutable std::vector<const void*> received_;
  mutable std::vector<Event> events_;
};

TEST(ProfileModel, AnyDeviceIsMeasuredThroughTheDeviceInterface) {
  auto ir = test::import_proto(lstm_model(), "lstm.onnx");
  ASSERT_TRUE(ir.is_ok()) << ir.status().message();
  const Graph& g = *ir->graph;
  const cpu::CpuDevice cpu(1, "cpu");
  const RecordingDevice recorder;
  ProfileRequest r;
  r.model = &*ir;
  r.inputs = {random_tensor({5, 2, 3}, 11)};
  r.devices = {{"cpu", &cpu}, {"cuda", &recorder}};
  r.timing = TimingOptions{1, 3, 3, 1e6, 0.05};  // exactly one warm-up and three timed repetitions
  auto p = profile_model(r);
  ASSERT_TRUE(p.is_ok()) << p.status().message();

  // Every node on both devices, measured (not estimated); each repetition on the recorder (a device that
  // only enqueues, as a GPU) queued kQueuedRunsPerRepetition runs and waited for one finish_run, so no node
  // can look faster than that wait's share.
  ASSERT_EQ(p->nodes.size(), g.num_nodes());
  for (const auto& n : p->nodes)
    for (const char* key : {"cpu", "cuda"}) {
      ASSERT_TRUE(n.devices.count(key)) << n.name << " " << key;
      const auto& d = n.devices.at(key);
      EXPECT_TRUE(d.supported) << n.name;
      EXPECT_FALSE(d.estimated) << n.name;
      EXPECT_GE(d.p90_us, d.median_us) << n.name;
    }
  for (const auto& n : p->nodes)
    EXPECT_GE(n.devices.at("cuda").median_us, RecordingDevice::kFinishUs / kQueuedRunsPerRepetition) << n.name;
  EXPECT_EQ(node_named(*p, "lstm").devices.at("cuda").output_bytes, (5 * 2 * 4 + 2 * 4) * 4);
  // The CPU is timed in whole runs; the recorder is not a host device, so its per-node times stand.
  EXPECT_NE(std::find(p->notes.begin(), p->notes.end(), "cpu: node times measured inside whole runs of the model"),
            p->notes.end());
  EXPECT_NE(std::find(p->notes.begin(), p->notes.end(),
                      "cuda: node times measured node by node, each repetition waiting for the device"),
            p->notes.end());

  // Per node, in order: the kernel is made; each input that is not a constant is received once (a graph
  // input from the caller, the rest from the reference device) and the copies finish, untimed; then four
  // repetitions (warm-up and three timed), each kQueuedRunsPerRepetition runs and a finish_run with the
  // runs' outputs already released; a last finish_run once the inputs and the kernel are gone. Kernels only
  // ever read received copies.
  const auto& ev = recorder.events();
  std::size_t i = 0;
  for (std::size_t k = 0; k < g.num_nodes(); ++k) {
    ASSERT_LT(i, ev.size());
    ASSERT_EQ(ev[i].what, "create");
    const NodeId id = ev[i].node;
    const Node& n = g.node(id);
    ++i;
    std::set<ValueId> expected;
    for (ValueId v : n.inputs)
      if (v != kNoValue && g.value(v).kind != ValueKind::kInitializer) expected.insert(v);
    std::size_t receives = 0;
    for (; i < ev.size() && ev[i].what == "receive"; ++i, ++receives) {
      const bool from_caller = receives == 0 && g.value(*expected.begin()).kind == ValueKind::kGraphInput;
      EXPECT_EQ(ev[i].detail, from_caller ? "caller" : "cpu") << n.name;
    }
    EXPECT_EQ(receives, expected.size()) << n.name;
    ASSERT_LT(i, ev.size());
    EXPECT_EQ(ev[i++].what, "finish") << n.name;  // the received copies land before timing
    for (int rep = 0; rep < 4; ++rep) {
      for (int q = 0; q < kQueuedRunsPerRepetition; ++q, ++i) {
        ASSERT_LT(i, ev.size());
        EXPECT_EQ(ev[i].what, "run") << n.name << " repetition " << rep << " run " << q;
        EXPECT_EQ(ev[i].detail, "") << n.name;
      }
      ASSERT_LT(i, ev.size());
      EXPECT_EQ(ev[i].what, "finish") << n.name << " repetition " << rep;
      EXPECT_EQ(ev[i].live_outputs, 0) << n.name;
      ++i;
    }
    ASSERT_LT(i, ev.size());
    EXPECT_EQ(ev[i++].what, "finish") << n.name;
  }
  EXPECT_EQ(i, ev.size());
  EXPECT_GT(recorder.allocated(), 0);  // outputs came from the device's allocator
}

TEST(DeviceLink, TimersCrossThroughTheDevicesOwnReceiveAndWaitForIt) {
  // cpu->cuda: the device receives a host tensor of the size asked, from the caller, and the timed span
  // ends after its finish_run (the recorder's takes kFinishUs). cuda->cpu: a tensor is received and
  // finished untimed, then copied out.
  const RecordingDevice recorder;
  const CopyTimer in = receive_timer(recorder), out = to_host_timer(recorder);
  auto t = in(1000);
  ASSERT_TRUE(t.is_ok()) << t.status().message();
  EXPECT_GE(*t, RecordingDevice::kFinishUs);
  ASSERT_EQ(recorder.events().size(), 2u);
  EXPECT_EQ(recorder.events()[0].what, "receive");
  EXPECT_EQ(recorder.events()[0].detail, "caller");
  EXPECT_EQ(recorder.events()[1].what, "finish");
  auto back = out(64);
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  ASSERT_EQ(recorder.events().size(), 4u);
  EXPECT_EQ(recorder.events()[2].what, "receive");
  EXPECT_EQ(recorder.events()[3].what, "finish");
  EXPECT_FALSE(in(-1).is_ok());
  // A link fitted over them: one sample per size.
  auto fit = calibrate_link(in, {4, 4096, 65536}, TimingOptions{0, 2, 2, 1e6, 0.05});
  ASSERT_TRUE(fit.is_ok()) << fit.status().message();
  EXPECT_EQ(fit->samples.size(), 3u);
}

// With a GPU: the same path on the CudaDevice (session/device_set.h), and the links through its hand-over.
TEST(ProfileModel, OnAGpuEveryNodeIsMeasuredOnTheCudaDeviceAndTheLinksThroughItsHandOver) {
  const GpuAvailability gpu = find_gpu();
  if (!gpu.present) GTEST_SKIP() << "no CUDA GPU: " << gpu.why_not;
  auto devices = make_device_set("cpu,cuda", 2);
  ASSERT_TRUE(devices.is_ok()) << devices.status().message();
  auto ir = test::import_proto(lstm_model(), "lstm.onnx");
  ASSERT_TRUE(ir.is_ok()) << ir.status().message();
  ProfileRequest r;
  r.model = &*ir;
  r.inputs = {random_tensor({5, 2, 3}, 11)};
  r.devices = {{"cpu", &devices->cpu()}, {"cuda", devices->second()}};
  r.timing = TimingOptions{1, 3, 10, 50, 0.05};
  r.links = devices->link_timers();
  r.link_sizes = calibration_sizes(4, 1 << 20);
  auto p = profile_model(r);
  ASSERT_TRUE(p.is_ok()) << p.status().message();
  for (const auto& n : p->nodes) {
    ASSERT_TRUE(n.devices.count("cuda")) << n.name;
    const auto& d = n.devices.at("cuda");
    EXPECT_FALSE(d.estimated) << n.name;
    if (!d.supported) continue;
    EXPECT_GT(d.median_us, 0) << n.name;
    EXPECT_GE(d.p90_us, d.median_us) << n.name;
  }
  const auto& lstm = node_named(*p, "lstm").devices.at("cuda");
  EXPECT_TRUE(lstm.supported) << lstm.reason;
  EXPECT_EQ(lstm.output_bytes, (5 * 2 * 4 + 2 * 4) * 4);
  for (const char* key : {"cpu->cuda", "cuda->cpu"}) {
    ASSERT_TRUE(p->links.count(key)) << key;
    EXPECT_FALSE(p->links.at(key).estimated) << key;
    EXPECT_GT(p->links.at(key).beta_bytes_per_us, 0) << key;
  }
  EXPECT_NE(std::find(p->notes.begin(), p->notes.end(),
                      "cuda: node times measured node by node, each repetition waiting for the device"),
            p->notes.end());
}

TEST(ProfileModel, TheReferenceRunNeedsTheCpuFirst) {
  auto ir = test::import_proto(lstm_model(), "lstm.onnx");
  ASSERT_TRUE(ir.is_ok());
  const RecordingDevice recorder;
  ProfileRequest r;
  r.model = &*ir;
  r.inputs = {random_tensor({5, 2, 3}, 11)};
  r.devices = {{"cuda", &recorder}};
  EXPECT_EQ(profile_model(r).status().message(),
            "profiler: the first device ('cuda') runs the reference run, so it must be the CPU");
}

// --- merging -------------------------------------------------------------------------------------------

// The same profile as a "GPU machine" would have written it: measured cuda numbers, no cpu.
Profile as_gpu_profile(Profile p) {
  for (auto& n : p.nodes) {
    n.devices.erase("cpu");
    n.devices.at("cuda").estimated = false;
    n.devices.at("cuda").median_us = 1.5;
  }
  for (auto& [key, l] : p.links) l.estimated = false;
  p.notes.clear();
  p.machine = {"GPU host CPU", 16, "NVIDIA H100 80GB HBM3", "570.1"};
  return p;
}

TEST(ProfileMerge, MeasuredGpuNumbersReplaceEstimatesAndTheMachineIsCombined) {
  const Profile cpu_here = profile_lstm().profile;  // cpu measured, cuda estimated
  const Profile gpu_there = as_gpu_profile(cpu_here);
  auto m = merge_profiles(cpu_here, gpu_there);
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  for (const auto& n : m->nodes) {
    EXPECT_FALSE(n.devices.at("cuda").estimated) << n.name;
    EXPECT_FALSE(n.devices.at("cpu").estimated) << n.name;
  }
  EXPECT_DOUBLE_EQ(node_named(*m, "lstm").devices.at("cuda").median_us, 1.5);
  EXPECT_DOUBLE_EQ(node_named(*m, "lstm").devices.at("cpu").median_us,
                   node_named(cpu_here, "lstm").devices.at("cpu").median_us);
  EXPECT_EQ(m->machine.cpu_model, "test CPU");
  EXPECT_EQ(m->machine.gpu_name, "NVIDIA H100 80GB HBM3");
  EXPECT_FALSE(m->links.at("cpu->cuda").estimated);
  for (const auto& note : m->notes) EXPECT_EQ(note.find("estimated"), std::string::npos) << note;
  // Order does not matter.
  auto reverse = merge_profiles(gpu_there, cpu_here);
  ASSERT_TRUE(reverse.is_ok()) << reverse.status().message();
  EXPECT_FALSE(node_named(*reverse, "lstm").devices.at("cuda").estimated);
}

TEST(ProfileMerge, RefusesProfilesOfAnotherModelOrShape) {
  const Profile a = profile_lstm().profile;
  Profile b = as_gpu_profile(a);
  b.model_hash = std::string(64, 'f');
  EXPECT_EQ(merge_profiles(a, b).status().message().rfind(
                "cannot merge profiles: they were taken of different models (model hash ", 0),
            0u);
  b = as_gpu_profile(a);
  b.model_hash.clear();
  EXPECT_EQ(merge_profiles(a, b).status().message(),
            "cannot merge profiles: a profile without a model hash cannot be matched to the other");
  b = as_gpu_profile(a);
  b.input_shapes["seq"] = 50;
  EXPECT_EQ(merge_profiles(a, b).status().message(),
            "cannot merge profiles: they were taken at different input shapes (seq=5 vs seq=50)");
  b = as_gpu_profile(a);
  b.nodes[2].name = "other";
  EXPECT_EQ(merge_profiles(a, b).status().message(),
            "cannot merge profiles: node 2 is #2 'lstm' in one and #2 'other' in the other");
  b = as_gpu_profile(a);
  b.values[0].bytes += 4;
  EXPECT_NE(merge_profiles(a, b).status().message().find("is " + std::to_string(a.values[0].bytes) + " bytes in one"),
            std::string::npos);
}

TEST(ProfileMerge, TwoMeasurementsOfOneDeviceAreAConflict) {
  const Profile a = profile_lstm().profile;
  EXPECT_EQ(merge_profiles(a, a).status().message(),
            "cannot merge profiles: node 'project' on cpu is measured in both profiles; keep one of them");
}

// --- traces --------------------------------------------------------------------------------------------

TEST(RunTrace, OneEventPerNodeInOneLane) {
  auto ir = test::import_proto(lstm_model(), "lstm.onnx");
  ASSERT_TRUE(ir.is_ok());
  const cpu::CpuDevice cpu(1, "cpu");
  auto events = trace_run(*ir->graph, cpu, {random_tensor({5, 2, 3}, 4)}, "cpu");
  ASSERT_TRUE(events.is_ok()) << events.status().message();
  ASSERT_EQ(events->size(), ir->graph->num_nodes());
  double last_end = 0;
  for (const TraceEvent& e : *events) {
    EXPECT_EQ(e.lane, "cpu");
    EXPECT_GE(e.duration_us, 0);
    EXPECT_GE(e.start_us + 1e-9, last_end);  // one device runs its nodes one after another
    last_end = e.start_us + e.duration_us;
  }
  EXPECT_EQ((*events)[2].name, "lstm");
  EXPECT_EQ((*events)[2].category, "LSTM");
  EXPECT_EQ((*events)[2].args.at("output 0"), "float32 [5,1,2,4]");
  const auto j = nlohmann::json::parse(chrome_trace_json(*events));
  int complete = 0, names = 0;
  for (const auto& e : j.at("traceEvents")) {
    complete += e.at("ph") == "X";
    names += e.at("ph") == "M";
  }
  EXPECT_EQ(complete, 4);
  EXPECT_EQ(names, 1);
}

}  // namespace
}  // namespace tandem
