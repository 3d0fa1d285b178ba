// The plan executor over several CPU devices (each with its own thread arena): random placements of the
// test models give outputs bit-identical to the single-device GraphExecutor; plans from the partitioner
// convert and run; failures on either device come back as the node's message without hanging; per-device
// memory peaks follow liveness across devices; from the second run with the same shapes, every device
// runs in its static memory plan's arena (graph/memory_plan.h) with the same bits; a device with a memory
// space of its own (a GPU's behaviour, played by a copying CPU device) holds exactly its arena; many
// threads share executors safely.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>

#include <tandem/tandem.h>

#include "graph/topo_order.h"
#include "runtime/executor.h"
#include "runtime/plan_executor.h"
#include "runtime_cpu/cpu_device.h"
#include "session/model_impl.h"
#include "session/tensor_io.h"
#include "tests/support/bitwise_difference.h"
#include "tests/support/model_builder.h"
#include "tests/support/copying_device.h"
#include "tests/support/model_case.h"
#include "tests/support/op_runner.h"
#include "tests/support/random_placement.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;
using test::source_path;

using Case = test::ModelCase;
Case load_case(const std::string& dir) { return test::load_model_case(dir); }

const std::vector<std::string>& case_dirs() {
  static const std::vector<std::string> dirs = {
      "models/silero_vad/silero_vad_16k_op15",  "models/silero_vad/silero_vad_op18_ifless",
      "tests/data/pytorch/lstm_2layer_bidir",   "tests/data/pytorch/lstm_initial_state",
      "tests/data/pytorch/lstm_opset17",        "tests/data/pytorch/gru_batch_first",
      "tests/data/pytorch/rnn_tanh_2layer",     "tests/data/pytorch/tagger",
      "tests/data/pytorch/crnn",                "tests/data/pytorch/two_encoders",
      "tests/data/pytorch/lstm_linear_functions", "tests/data/pytorch/lstm_loop_decoder",
      "tests/data/pytorch/lstm_list_decoder", "tests/data/strings/text_features"};
  return dirs;
}

// Every device and the reference use the same OpenMP team size, so oneDNN splits each GEMM the same way
// and results can be compared bit for bit. Under ThreadSanitizer, one: libgomp is not instrumented, so
// its teams' synchronisation is invisible to TSan and would read as races in oneDNN.
#ifdef __SANITIZE_THREAD__
constexpr int kThreads = 1;
constexpr bool kUnderTsan = true;
#else
constexpr int kThreads = 2;
constexpr bool kUnderTsan = false;
#endif

std::vector<Tensor> reference_run(const Case& c) {
  cpu::CpuDevice ref(kThreads, "ref");
  ref.bind_thread();
  auto ex = GraphExecutor::compile(c.graph(), ref);
  if (!ex) throw std::runtime_error(ex.status().message());
  auto feeds = c.feeds();
  auto out = (*ex)->run(feeds);
  if (!out) throw std::runtime_error(out.status().message());
  return *out;
}

using test::bitwise_difference;
using test::random_placement;

struct Devices {
  cpu::CpuDevice a{kThreads, "cpu0"}, b{kThreads, "cpu1"}, c{kThreads, "cpu2"};
  std::vector<const Device*> first(std::size_t n) const {
    std::vector<const Device*> all{&a, &b, &c};
    all.resize(n);
    return all;
  }
};

// One run that fills `stats`.
Result<std::vector<Tensor>> run_counting(const PlanExecutor& ex, std::span<const Tensor* const> feeds,
                                         PlanRunStats& stats) {
  PlanRunOptions opts;
  opts.stats = &stats;
  return ex.run(feeds, opts);
}

class RandomPlans : public ::testing::TestWithParam<std::string> {};

TEST_P(RandomPlans, OutputsAreBitIdenticalToTheSingleDeviceRun) {
  const Case c = load_case(GetParam());
  const std::vector<Tensor> want = reference_run(c);
  Devices devs;
  std::mt19937 rng(1234);
  const auto feeds = c.feeds();
  int cross_plans = 0;
  for (int trial = 0; trial < 12; ++trial) {
    const std::size_t num_devices = trial % 3 == 2 ? 3 : 2;
    Placement p = random_placement(c.graph(), num_devices, rng);
    auto ex = PlanExecutor::compile(c.graph(), devs.first(num_devices), p);
    ASSERT_TRUE(ex) << ex.status().message();
    // The first run records the sizes; the next ones run in the static memory plan.
    for (int run = 0; run < 3; ++run) {
      PlanRunStats stats;
      auto got = run_counting(**ex, feeds, stats);
      ASSERT_TRUE(got) << got.status().message();
      EXPECT_EQ(bitwise_difference(*got, want), "") << c.name << " trial " << trial << " run " << run;
      // Every node ran once, on its own device.
      ASSERT_EQ(stats.devices.size(), num_devices);
      for (std::size_t d = 0; d < num_devices; ++d)
        EXPECT_EQ(stats.devices[d].nodes, static_cast<int64_t>(p.order[d].size())) << "device " << d;
      // Two CPUs share storage: values cross devices without copies.
      int64_t received = 0;
      for (const DeviceRunStats& s : stats.devices) {
        EXPECT_EQ(s.copied_bytes, 0);
        EXPECT_EQ(s.plan_misses, 0);
        received += s.received;
      }
      if (run == 0) {
        cross_plans += received > 0;
        for (const DeviceRunStats& s : stats.devices) EXPECT_EQ(s.arena_bytes, 0);
        continue;
      }
      const std::vector<int64_t> arenas = (*ex)->planned_arena_bytes(feeds);
      ASSERT_EQ(arenas.size(), num_devices);
      for (std::size_t d = 0; d < num_devices; ++d) {
        EXPECT_EQ(stats.devices[d].arena_bytes, arenas[d]);
        EXPECT_GE(stats.devices[d].peak_bytes, arenas[d]);
      }
    }
  }
  EXPECT_GT(cross_plans, 0);  // the plans did move values between devices
}

bool has_nested_graphs(const Graph& g) {
  for (const Node& n : g.nodes())
    if (!n.subgraphs().empty()) return true;
  return false;
}

// A CPU and a device with a memory space of its own: every value crossing devices is copied (the GPU's
// rule), the copies land in the plan's slots, and outputs stay bit-identical. Such a device plans all it
// holds (its graph outputs too: they go to the host at the end), so its measured peak is its arena, the
// number the partitioner predicts, except where a nested graph's results come out unplanned.
bool has_strings(const Graph& g) {
  for (const Value& v : g.values())
    if (v.dtype == DType::kString) return true;
  return false;
}

TEST_P(RandomPlans, ADeviceOfItsOwnMemorySpaceHoldsExactlyItsArena) {
  const Case c = load_case(GetParam());
  // A GPU holds no strings (its device refuses their nodes), so random plans that put them there are moot.
  if (has_strings(c.graph())) GTEST_SKIP() << "string values stay on host devices";
  const std::vector<Tensor> want = reference_run(c);
  cpu::CpuDevice host(kThreads, "cpu");
  test::CopyingDevice other(kThreads, "gpu-like");
  std::mt19937 rng(99);
  const auto feeds = c.feeds();
  int64_t copied = 0;
  for (int trial = 0; trial < 6; ++trial) {
    Placement p = random_placement(c.graph(), 2, rng);
    auto ex = PlanExecutor::compile(c.graph(), {&host, &other}, p);
    ASSERT_TRUE(ex) << ex.status().message();
    for (int run = 0; run < 2; ++run) {
      PlanRunStats stats;
      auto got = run_counting(**ex, feeds, stats);
      ASSERT_TRUE(got) << got.status().message();
      EXPECT_EQ(bitwise_difference(*got, want), "") << c.name << " trial " << trial << " run " << run;
      copied += stats.devices[1].copied_bytes;
      if (run == 0) continue;
      const DeviceRunStats& s = stats.devices[1];
      EXPECT_EQ(s.plan_misses, 0);
      if (has_nested_graphs(c.graph())) EXPECT_GE(s.peak_bytes, s.arena_bytes);
      else EXPECT_EQ(s.peak_bytes, s.arena_bytes) << c.name << " trial " << trial;
    }
  }
  EXPECT_GT(copied, 0);
}

INSTANTIATE_TEST_SUITE_P(Models, RandomPlans, ::testing::ValuesIn(case_dirs()), [](const auto& param_info) {
  return fs::path(param_info.param).filename().string();
});

TEST(PlanExecutor, EachDeviceRunsWithItsOwnOpenMpTeamSize) {
  if (kUnderTsan) GTEST_SKIP() << "OpenMP teams of more than one thread: libgomp is not TSan-instrumented";
  const Case c = load_case("tests/data/pytorch/tagger");
  cpu::CpuDevice one(1, "one"), three(3, "three");
  std::mt19937 rng(7);
  Placement p = random_placement(c.graph(), 2, rng);
  auto ex = PlanExecutor::compile(c.graph(), {&one, &three}, p);
  ASSERT_TRUE(ex) << ex.status().message();
  std::mutex mu;
  std::map<int, std::set<int>> seen;  // device -> team sizes its nodes ran with
  NodeObserver obs = [&](const NodeEvent& e) {
    const int team = omp_get_max_threads();
    std::lock_guard<std::mutex> lock(mu);
    seen[p.device[static_cast<std::size_t>(e.node)]].insert(team);
  };
  PlanRunOptions opts;
  opts.on_node = &obs;
  auto feeds = c.feeds();
  ASSERT_TRUE((*ex)->run(feeds, opts));
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], std::set<int>{1});
  EXPECT_EQ(seen[1], std::set<int>{3});
}

// A cap on the runs in flight (what a GPU memory budget sets): 4 threads x 6 runs never have more than
// `cap` runs between their first node's start and their last node's end at once, and compute what one
// run alone does.
TEST(PlanExecutor, RunsBeyondTheCapWaitForOneToFinish) {
  using Clock = std::chrono::steady_clock;
  const Case c = load_case("tests/data/pytorch/lstm_2layer_bidir");
  const Graph& g = c.graph();
  const std::vector<Tensor> want = reference_run(c);
  std::mt19937 rng(7);
  const Placement p = random_placement(g, 2, rng);
  Devices devs;
  for (int cap : {1, 2}) {
    PlanCompileOptions o;
    o.max_concurrent_runs = cap;
    auto ex = PlanExecutor::compile(g, devs.first(2), p, o);
    ASSERT_TRUE(ex) << ex.status().message();
    EXPECT_EQ((*ex)->max_concurrent_runs(), cap);
    std::mutex mu;
    std::vector<std::pair<Clock::time_point, Clock::time_point>> spans;  // per run: first start, last end
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&] {
        for (int r = 0; r < 6; ++r) {
          std::mutex run_mu;
          Clock::time_point first = Clock::time_point::max(), last = Clock::time_point::min();
          const NodeObserver seen = [&](const NodeEvent& e) {
            std::lock_guard<std::mutex> lock(run_mu);
            first = std::min(first, e.start);
            last = std::max(last, e.end);
          };
          PlanRunOptions ro;
          ro.on_node = &seen;
          auto feeds = c.feeds();
          auto got = (*ex)->run(feeds, ro);
          if (!got || bitwise_difference(*got, want) != "") ++wrong;
          std::lock_guard<std::mutex> lock(mu);
          spans.emplace_back(first, last);
        }
      });
    for (auto& t : threads) t.join();
    EXPECT_EQ(wrong.load(), 0);
    // The most spans open at once: at equal times an end comes before a start.
    std::vector<std::pair<Clock::time_point, int>> edges;
    for (const auto& [a, b] : spans) {
      edges.emplace_back(a, +1);
      edges.emplace_back(b, -1);
    }
    std::sort(edges.begin(), edges.end());
    int open = 0, most = 0;
    for (const auto& [when, step] : edges) most = std::max(most, open += step);
    EXPECT_LE(most, cap);
    EXPECT_GE(most, 1);
  }
  PlanCompileOptions bad;
  bad.max_concurrent_runs = -1;
  auto refused = PlanExecutor::compile(g, devs.first(2), p, bad);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.status().message(), "plan executor: max_concurrent_runs must be 0 (no limit) or more, got -1");
}

TEST(PlanExecutor, RunsAPartitionerPlanAndMapsItsDevices) {
  const Case c = load_case("tests/data/pytorch/lstm_2layer_bidir");
  const Graph& g = c.graph();
  const std::vector<Tensor> want = reference_run(c);
  std::mt19937 rng(99);
  Placement random = random_placement(g, 2, rng);
  // The plan lists nodes in some other order; `order` is the position in one global topological order.
  partition::Plan plan;
  std::vector<int> rank(g.num_nodes());
  auto topo = topological_order(g);
  ASSERT_TRUE(topo);
  int position = 0;
  for (NodeId id : *topo) rank[static_cast<std::size_t>(id)] = position++;
  for (std::size_t i = g.num_nodes(); i-- > 0;) {
    partition::PlanNode pn;
    pn.node_index = static_cast<int64_t>(i);
    pn.name = g.node(static_cast<NodeId>(i)).name.empty() ? "#" + std::to_string(i) : g.node(static_cast<NodeId>(i)).name;
    pn.device = random.device[i] == 0 ? partition::Device::kCpu : partition::Device::kGpu;
    pn.order = rank[i];
    plan.nodes.push_back(pn);
  }
  auto p = placement_from_plan(g, plan, {0, 1});
  ASSERT_TRUE(p) << p.status().message();
  EXPECT_EQ(p->device, random.device);
  Devices devs;
  auto ex = PlanExecutor::compile(g, devs.first(2), *p);
  ASSERT_TRUE(ex) << ex.status().message();
  auto feeds = c.feeds();
  auto got = (*ex)->run(feeds);
  ASSERT_TRUE(got) << got.status().message();
  EXPECT_EQ(bitwise_difference(*got, want), "");

  // Both plan devices on one executor device: one merged order.
  auto single = placement_from_plan(g, plan, {0, 0});
  ASSERT_TRUE(single) << single.status().message();
  ASSERT_EQ(single->order.size(), 1u);
  EXPECT_EQ(single->order[0].size(), g.num_nodes());
  EXPECT_TRUE(validate_placement(g, *single, {"cpu"}).is_ok());

  // A plan for another model, or with a hole, is refused by name.
  partition::Plan bad = plan;
  bad.nodes[0].name = "not_a_node";
  auto r = placement_from_plan(g, bad, {0, 1});
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("was the plan made for another model?"), std::string::npos) << r.status().message();
  bad = plan;
  bad.nodes.pop_back();
  r = placement_from_plan(g, bad, {0, 1});
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("has no entry"), std::string::npos) << r.status().message();
  r = placement_from_plan(g, plan, {0, -1});
  if (random.device != std::vector<int>(g.num_nodes(), 0)) {
    ASSERT_FALSE(r);
    EXPECT_NE(r.status().message().find("placed on 'cuda', which this run does not have"), std::string::npos)
        << r.status().message();
  }
}

// x -> Relu a -> Relu b -> Relu c -> y, and x -> Neg d -> z: small enough to place by hand.
onnx::ModelProto chain_model() {
  onnx::ModelProto m = test::make_model();
  onnx::GraphProto& g = *m.mutable_graph();
  test::add_input(g, "x", onnx::TensorProto::FLOAT, {int64_t{1000}});
  test::add_node(g, "Relu", {"x"}, {"a"}, "a");
  test::add_node(g, "Relu", {"a"}, {"b"}, "b");
  test::add_node(g, "Relu", {"b"}, {"c"}, "c");
  test::add_node(g, "Neg", {"x"}, {"d"}, "d");
  test::add_output(g, "c");
  test::add_output(g, "d");
  return m;
}

struct Imported {
  ModelIR ir;
  const Graph& g() const { return *ir.graph; }
  NodeId node(const std::string& name) const {
    for (std::size_t i = 0; i < g().num_nodes(); ++i)
      if (g().node(static_cast<NodeId>(i)).name == name) return static_cast<NodeId>(i);
    throw std::runtime_error("no node " + name);
  }
  // Nodes by name per device.
  Placement place(const std::vector<std::vector<std::string>>& orders) const {
    Placement p;
    p.device.assign(g().num_nodes(), -1);
    for (std::size_t d = 0; d < orders.size(); ++d) {
      p.order.emplace_back();
      for (const std::string& n : orders[d]) {
        p.device[static_cast<std::size_t>(node(n))] = static_cast<int>(d);
        p.order.back().push_back(node(n));
      }
    }
    return p;
  }
};

Imported import(const onnx::ModelProto& m) {
  auto ir = test::import_proto(m);
  if (!ir) throw std::runtime_error(ir.status().message());
  return Imported{std::move(*ir)};
}

TEST(PlanExecutor, PeakMemoryPerDeviceFollowsLivenessAcrossDevices) {
  const Imported m = import(chain_model());
  Devices devs;
  const Tensor x = test::make_tensor<float>({1000}, std::vector<float>(1000, 0.5f));
  const std::vector<const Tensor*> feeds{&x};
  auto peaks = [&](const Placement& p) {
    auto ex = PlanExecutor::compile(m.g(), devs.first(p.order.size()), p);
    if (!ex) throw std::runtime_error(ex.status().message());
    PlanRunStats stats;
    PlanRunOptions opts;
    opts.stats = &stats;
    auto out = (*ex)->run(feeds, opts);
    if (!out) throw std::runtime_error(out.status().message());
    std::vector<int64_t> bytes;
    for (const DeviceRunStats& s : stats.devices) bytes.push_back(s.peak_bytes);
    return bytes;
  };
  // One device: d (returned) stays; a and b are live together, then b and c (also returned).
  EXPECT_EQ(peaks(m.place({{"d", "a", "b", "c"}})), (std::vector<int64_t>{12000}));
  EXPECT_EQ(peaks(m.place({{"a", "b", "c", "d"}})), (std::vector<int64_t>{8000}));
  // a on 0, b on 1, c and d on 0: a is freed (by device 1, after b) before c can start, so device 0 never
  // holds more than one of a, c besides d; device 1 holds b only. The input x is the caller's: not counted.
  EXPECT_EQ(peaks(m.place({{"a", "c", "d"}, {"b"}})), (std::vector<int64_t>{8000, 4000}));
  EXPECT_EQ(peaks(m.place({{"a", "d", "c"}, {"b"}})), (std::vector<int64_t>{8000, 4000}));
  EXPECT_EQ(peaks(m.place({{"d"}, {"a", "b", "c"}})), (std::vector<int64_t>{4000, 8000}));
}

// The second run of each placement above runs in the static memory plan: the arena holds what is live at
// once, graph outputs (handed to the caller) are outside it, and the peak is the arena plus those.
TEST(PlanExecutor, TheStaticPlanReusesBytesAndCountsOutputsApart) {
  const Imported m = import(chain_model());
  Devices devs;
  const Tensor x = test::make_tensor<float>({1000}, std::vector<float>(1000, 0.5f));
  const std::vector<const Tensor*> feeds{&x};
  auto planned = [&](const Placement& p) {
    auto ex = PlanExecutor::compile(m.g(), devs.first(p.order.size()), p);
    if (!ex) throw std::runtime_error(ex.status().message());
    std::vector<std::pair<int64_t, int64_t>> arena_and_peak;
    for (int run = 0; run < 2; ++run) {
      PlanRunStats stats;
      PlanRunOptions opts;
      opts.stats = &stats;
      auto out = (*ex)->run(feeds, opts);
      if (!out) throw std::runtime_error(out.status().message());
      if (run == 1)
        for (const DeviceRunStats& s : stats.devices) arena_and_peak.emplace_back(s.arena_bytes, s.peak_bytes);
    }
    return arena_and_peak;
  };
  using V = std::vector<std::pair<int64_t, int64_t>>;
  // a and b are live together (a is read by b): 8000 in the arena; c and d are outputs, outside it.
  EXPECT_EQ(planned(m.place({{"a", "b", "c", "d"}})), (V{{8192, 16192}}));  // 256-byte aligned
  // a on 0 is read by b on 1, and device 0 never waits for device 1 afterwards: a stays to the end.
  EXPECT_EQ(planned(m.place({{"a", "c", "d"}, {"b"}})), (V{{4096, 12096}, {4096, 4096}}));
  // Without static memory the same run allocates as it goes.
  auto ex = PlanExecutor::compile(m.g(), devs.first(1), m.place({{"a", "b", "c", "d"}}), PlanCompileOptions{false});
  ASSERT_TRUE(ex);
  for (int run = 0; run < 2; ++run) {
    PlanRunStats stats;
    PlanRunOptions opts;
    opts.stats = &stats;
    ASSERT_TRUE((*ex)->run(feeds, opts));
    EXPECT_EQ(stats.devices[0].arena_bytes, 0);
    EXPECT_EQ(stats.devices[0].peak_bytes, 8000);
  }
  EXPECT_TRUE((*ex)->planned_arena_bytes(feeds).empty());
}

TEST(PlanExecutor, OrdersThatWouldDeadlockAreRefusedAtCompileTime) {
  const Imported m = import(chain_model());
  Devices devs;
  auto ex = PlanExecutor::compile(m.g(), devs.first(2), m.place({{"c", "a", "d"}, {"b"}}));
  ASSERT_FALSE(ex);
  EXPECT_NE(ex.status().message().find("the device orders deadlock: 'cpu0' waits at 'c' (Relu) for 'b' (Relu) on "
                                       "'cpu1'; 'cpu1' waits at 'b' (Relu) for 'a' (Relu) on 'cpu0'"),
            std::string::npos)
      << ex.status().message();
  ex = PlanExecutor::compile(m.g(), devs.first(2), m.place({{"a", "c", "d", "a"}, {"b"}}));
  ASSERT_FALSE(ex);
  EXPECT_NE(ex.status().message().find("'a' (Relu) is listed twice"), std::string::npos) << ex.status().message();
  Placement missing = m.place({{"a", "c"}, {"b"}});
  missing.device[static_cast<std::size_t>(m.node("d"))] = 1;
  ex = PlanExecutor::compile(m.g(), devs.first(2), missing);
  ASSERT_FALSE(ex);
  EXPECT_NE(ex.status().message().find("'d' (Neg) is on device 'cpu1' but not in its order"), std::string::npos)
      << ex.status().message();
}

// The CPU device, except that one named node fails when it runs (by returning an error or by throwing).
class FailingDevice final : public Device {
 public:
  FailingDevice(std::string name, std::string victim, bool throws) : cpu_(kThreads, std::move(name)), victim_(std::move(victim)), throws_(throws) {}
  std::string name() const override { return cpu_.name(); }
  DeviceKind kind() const override { return DeviceKind::kCpu; }
  Support supports(const Graph& g, NodeId id) const override { return cpu_.supports(g, id); }
  void bind_thread() const override { cpu_.bind_thread(); }
  Result<KernelPtr> create_kernel(const KernelInit& init) const override {
    if (init.node().name != victim_) return cpu_.create_kernel(init);
    return KernelPtr(new Failing(throws_));
  }

 private:
  class Failing final : public Kernel {
   public:
    explicit Failing(bool throws) : throws_(throws) {}
    Status run(KernelContext& ctx) const override {
      if (throws_) throw std::runtime_error("thrown on purpose");
      return ctx.error("failed on purpose");
    }

   private:
    bool throws_;
  };
  cpu::CpuDevice cpu_;
  std::string victim_;
  bool throws_;
};

TEST(PlanExecutor, AFailingNodeOnEitherDeviceStopsTheRunWithItsMessage) {
  const Imported m = import(chain_model());
  const Tensor x = test::make_tensor<float>({1000}, std::vector<float>(1000, 0.5f));
  const std::vector<const Tensor*> feeds{&x};
  struct Scenario {
    std::vector<std::vector<std::string>> orders;
    std::size_t failing_device;
    std::string victim;
  };
  // Each: the other device is waiting on (or would later wait on) what the failing node holds up.
  const std::vector<Scenario> scenarios = {
      {{{"a", "c", "d"}, {"b"}}, 1, "b"},  // device 0 waits at c for b, which fails on device 1
      {{{"a", "c", "d"}, {"b"}}, 0, "a"},  // device 1 waits at b for a, which fails on device 0
      {{{"d", "a"}, {"b", "c"}}, 0, "d"},  // device 1 waits at b for a, which comes after the failure
      {{{"d", "a"}, {"b", "c"}}, 1, "c"},  // the last node fails; nothing waits
  };
  for (bool throws : {false, true})
    for (const Scenario& s : scenarios) {
      cpu::CpuDevice plain(kThreads, "plain");
      FailingDevice failing(s.failing_device == 0 ? "fail0" : "fail1", s.victim, throws);
      std::vector<const Device*> devices = s.failing_device == 0 ? std::vector<const Device*>{&failing, &plain}
                                                                 : std::vector<const Device*>{&plain, &failing};
      auto ex = PlanExecutor::compile(m.g(), devices, m.place(s.orders));
      ASSERT_TRUE(ex) << ex.status().message();
      for (int repeat = 0; repeat < 20; ++repeat) {
        auto out = (*ex)->run(feeds);
        ASSERT_FALSE(out) << s.victim;
        const std::string want = throws ? "node '" + s.victim + "' (" + m.g().node(m.node(s.victim)).op_type +
                                              "): failed: thrown on purpose"
                                        : "node '" + s.victim + "' (" + m.g().node(m.node(s.victim)).op_type +
                                              "): failed on purpose";
        EXPECT_EQ(out.status().message(), want);
      }
    }
}

TEST(PlanExecutor, MissingInputsAreNamed) {
  const Imported m = import(chain_model());
  Devices devs;
  auto ex = PlanExecutor::compile(m.g(), devs.first(2), m.place({{"a", "c", "d"}, {"b"}}));
  ASSERT_TRUE(ex);
  const std::vector<const Tensor*> none{nullptr};
  auto out = (*ex)->run(none);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.status().message(), "graph input 'x' was not given");
}

// 8 threads, each running many times with plans drawn at random from a set compiled up front (several
// executors per model, shared by all threads) on four models, a text model of string tensors among them:
// every result bit-identical to the reference.
TEST(PlanExecutorStress, EightThreadsManyRunsRandomPlans) {
  const std::vector<Case> cases = {load_case("tests/data/pytorch/tagger"),
                                   load_case("tests/data/pytorch/lstm_2layer_bidir"),
                                   load_case("models/silero_vad/silero_vad_16k_op15"),
                                   load_case("tests/data/strings/text_features")};
  std::vector<std::vector<Tensor>> want;
  for (const Case& c : cases) want.push_back(reference_run(c));
  Devices devs;
  std::mt19937 rng(2024);
  std::vector<std::pair<std::size_t, std::shared_ptr<const PlanExecutor>>> executors;
  for (std::size_t k = 0; k < cases.size(); ++k)
    for (int i = 0; i < 4; ++i) {
      const std::size_t num_devices = i == 3 ? 3 : 2;
      auto ex = PlanExecutor::compile(cases[k].graph(), devs.first(num_devices),
                                      random_placement(cases[k].graph(), num_devices, rng));
      ASSERT_TRUE(ex) << ex.status().message();
      executors.emplace_back(k, *ex);
    }
  constexpr int kThreadsRunning = 8, kRuns = 100;
  std::atomic<int> failures{0}, runs{0};
  std::mutex mu;
  std::string first_failure;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreadsRunning; ++t)
    threads.emplace_back([&, t] {
      std::mt19937 pick(static_cast<unsigned>(t));
      for (int r = 0; r < kRuns; ++r) {
        const auto& [k, ex] = executors[pick() % executors.size()];
        const auto feeds = cases[k].feeds();
        auto out = ex->run(feeds);
        const std::string diff = out ? bitwise_difference(*out, want[k]) : out.status().message();
        ++runs;
        if (!diff.empty()) {
          ++failures;
          std::lock_guard<std::mutex> lock(mu);
          if (first_failure.empty()) first_failure = cases[k].name + ": " + diff;
        }
      }
    });
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(runs.load(), kThreadsRunning * kRuns);
  EXPECT_EQ(failures.load(), 0) << first_failure;
}

}  // namespace
}  // namespace tandem
