// `tandem partition` on a real model (the two-encoder PyTorch export) with a hand-made profile.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <tandem/tandem.h>

#include "partitioner/plan.h"
#include "partitioner/profile.h"
#include "session/model_impl.h"
#include "tests/support/model_builder.h"
#include "tests/support/run_cli.h"

namespace tandem {
namespace {

using namespace tandem::partition;
using test::run_cli;

const std::string kModel = test::source_path("tests/data/pytorch/two_encoders/model.onnx");

// Every node costs 100 us on the CPU; on the GPU the LSTM and GRU cost 10 us and everything else 50 us.
// Copies cost 1 us + bytes / 10,000 per us. Every node has a GPU version, weights of 1,000 bytes.
Profile two_encoder_profile(const Graph& g) {
  Profile p;
  for (std::size_t i = 0; i < g.num_nodes(); ++i) {
    const Node& n = g.node(static_cast<NodeId>(i));
    NodeProfile np;
    np.index = static_cast<int64_t>(i);
    np.name = n.name;
    np.op_type = n.op_type;
    const bool rnn = n.op_type == "LSTM" || n.op_type == "GRU";
    np.devices["cpu"] = NodeDeviceProfile{true, "", 100, 100, 1000, 64, 0, false, false, 0};
    np.devices["cuda"] = NodeDeviceProfile{true, "", rnn ? 10.0 : 50.0, rnn ? 10.0 : 50.0, 1000, 64, 0, false, false, 0};
    p.nodes.push_back(np);
  }
  p.links["cpu->cuda"] = LinkProfile::of(1, 10000, 0);
  p.links["cuda->cpu"] = LinkProfile::of(1, 10000, 0);
  return p;
}

struct Fixture {
  test::TempDir tmp;
  std::string profile_path, plan_path;
  Fixture() {
    Model m = Model::load(kModel);
    profile_path = (tmp.path() / "profile.json").string();
    plan_path = (tmp.path() / "plan.json").string();
    EXPECT_TRUE(save_profile(two_encoder_profile(*m.impl().ir.graph), profile_path).is_ok());
  }
};

TEST(PartitionCli, LatencyPlanBeatsTheCpuBaselineAndIsWritten) {
  Fixture f;
  auto r = run_cli("partition " + kModel + " --profile " + f.profile_path + " -o " + f.plan_path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("baseline cpu"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("baseline fallback"), std::string::npos) << r.out;
  auto plan = load_plan(f.plan_path);
  ASSERT_TRUE(plan) << plan.status().message();
  EXPECT_EQ(plan->objective, Objective::kLatency);
  // Every node is cheaper on the GPU and copies are nearly free: the all-CPU time is an upper bound and
  // the plan must be strictly faster than it.
  Model m = Model::load(kModel);
  const double all_cpu = 100.0 * static_cast<double>(m.impl().ir.graph->num_nodes());
  EXPECT_LT(plan->predicted_latency_us, all_cpu);
  EXPECT_GT(plan->predicted_peak_gpu_bytes, 0);
}

TEST(PartitionCli, MemoryModeWithAGenerousSloUsesNoGpuMemory) {
  Fixture f;
  // An SLO above the all-CPU latency: the least GPU memory is none at all.
  auto r = run_cli("partition " + kModel + " --profile " + f.profile_path + " --mode memory --slo 1s -o " +
                   f.plan_path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto plan = load_plan(f.plan_path);
  ASSERT_TRUE(plan) << plan.status().message();
  EXPECT_TRUE(plan->slo_met);
  EXPECT_EQ(plan->predicted_peak_gpu_bytes, 0);
  EXPECT_NE(r.out.find("SLO 1000.000 ms met"), std::string::npos) << r.out;
}

TEST(PartitionCli, PinsAreHonoured) {
  Fixture f;
  Model m = Model::load(kModel);
  std::string lstm;
  for (const Node& n : m.impl().ir.graph->nodes())
    if (n.op_type == "LSTM") lstm = n.name;
  ASSERT_FALSE(lstm.empty());
  auto r = run_cli("partition " + kModel + " --profile " + f.profile_path + " --pin '" + lstm + "=cpu' -o " +
                   f.plan_path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto plan = load_plan(f.plan_path);
  ASSERT_TRUE(plan);
  ASSERT_NE(plan->find_node(lstm), nullptr);
  EXPECT_EQ(plan->find_node(lstm)->device, Device::kCpu);
}

TEST(PartitionCli, SweepPrintsAFrontierThatTradesLatencyForMemory) {
  Fixture f;
  auto r = run_cli("partition " + kModel + " --profile " + f.profile_path + " --sweep --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_GE(j.size(), 2u) << "the fastest plan uses the GPU, the slowest need not: at least two points";
  for (std::size_t i = 0; i < j.size(); ++i) {
    EXPECT_LE(j[i]["latency_us"].get<double>(), j[i]["slo_us"].get<double>() + 1e-6) << j.dump();
    if (i == 0) continue;
    // Along the frontier, more latency always buys strictly less GPU memory.
    EXPECT_GE(j[i]["latency_us"].get<double>(), j[i - 1]["latency_us"].get<double>()) << j.dump();
    EXPECT_LT(j[i]["peak_gpu_bytes"].get<int64_t>(), j[i - 1]["peak_gpu_bytes"].get<int64_t>()) << j.dump();
  }
  EXPECT_EQ(j.back()["peak_gpu_bytes"], 0) << "at the all-CPU latency no GPU memory is needed";
  auto text = run_cli("partition " + kModel + " --profile " + f.profile_path + " --sweep");
  EXPECT_NE(text.out.find("Pareto frontier"), std::string::npos) << text.out;
}

TEST(PartitionCli, BadArgumentsAndFiles) {
  Fixture f;
  EXPECT_EQ(run_cli("partition " + kModel + " --profile " + f.profile_path + " --mode memory").exit_code, 2)
      << "memory mode needs an SLO";
  EXPECT_EQ(run_cli("partition " + kModel + " --profile " + f.profile_path + " --mode fastest").exit_code, 2);
  EXPECT_EQ(run_cli("partition " + kModel + " --profile " + f.profile_path + " --slo 5parsecs").exit_code, 2);
  auto missing = run_cli("partition " + kModel + " --profile /nonexistent.json");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("/nonexistent.json"), std::string::npos) << missing.err;
  // A profile of another model is refused, naming the node.
  auto other = run_cli("partition " + test::source_path("tests/data/pytorch/gru_batch_first/model.onnx") +
                       " --profile " + f.profile_path);
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_NE(other.err.find("node"), std::string::npos) << other.err;
}

}  // namespace
}  // namespace tandem
