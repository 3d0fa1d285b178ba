// The partitioner's GPU memory prediction is what a run measures: profile a model (GPU costs estimated),
// partition it (GPU-only baseline, latency and memory modes), run the plan with the CPU and a device of
// its own memory space (the GPU's copy rules, on the CPU: tests/support/copying_device.h), and compare
// that device's measured peak of activation storage with the plan's gpu_activation_bytes, byte for byte.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "partitioner/partitioner.h"
#include "partitioner/task_graph.h"
#include "profiler/gpu_estimate.h"
#include "profiler/profile_model.h"
#include "runtime/placement.h"
#include "runtime/plan_executor.h"
#include "runtime_cpu/cpu_device.h"
#include "session/model_impl.h"
#include "tests/support/copying_device.h"
#include "tests/support/model_case.h"

namespace tandem {
namespace {

struct Measured {
  int64_t predicted = 0, measured = 0, arena = 0, gpu_nodes = 0;
};

class MemoryPrediction : public ::testing::TestWithParam<std::string> {};

TEST_P(MemoryPrediction, TheGpusMeasuredPeakIsThePlansPrediction) {
  const test::ModelCase c = test::load_model_case(GetParam());
  const Graph& g = c.graph();
  cpu::CpuDevice cpu(1, "cpu");
  test::CopyingDevice gpu(1, "cuda (copying CPU)");

  profiler::ProfileRequest r;
  r.model = &c.model.impl().ir;
  r.inputs = c.inputs;
  r.devices = {{"cpu", &cpu}};
  r.estimate_gpu = *profiler::parse_gpu_spec("h100");
  r.timing = profiler::TimingOptions{1, 2, 3, 5, 0.5};
  r.time_in_runs = false;
  auto profile = profiler::profile_model(r);
  ASSERT_TRUE(profile) << profile.status().message();
  auto tg = partition::build_task_graph(g, *profile);
  ASSERT_TRUE(tg) << tg.status().message();

  std::vector<partition::PartitionOptions> modes(3);
  modes[0].baseline = "gpu";
  modes[1].objective = partition::Objective::kLatency;
  modes[2].objective = partition::Objective::kMemory;
  int64_t planned_on_gpu = 0;
  for (std::size_t m = 0; m < modes.size(); ++m) {
    if (m == 2) {
      auto gpu_only = partition::partition(*tg, modes[0]);
      ASSERT_TRUE(gpu_only);
      modes[2].slo_us = gpu_only->predicted_latency_us * 1.25;
    }
    auto plan = partition::partition(*tg, modes[m]);
    ASSERT_TRUE(plan) << plan.status().message();
    auto placement = placement_from_plan(g, *plan, {0, 1});
    ASSERT_TRUE(placement) << placement.status().message();
    auto ex = PlanExecutor::compile(g, {&cpu, &gpu}, *placement);
    ASSERT_TRUE(ex) << ex.status().message();
    PlanRunStats stats;
    for (int run = 0; run < 2; ++run) {  // the first run records the sizes; the second runs in the plan
      PlanRunOptions opts;
      opts.stats = &stats;
      auto out = (*ex)->run(c.feeds(), opts);
      ASSERT_TRUE(out) << out.status().message();
    }
    const DeviceRunStats& s = stats.devices[1];
    EXPECT_EQ(s.plan_misses, 0);
    EXPECT_EQ(s.arena_bytes, plan->gpu_activation_bytes) << c.name << " mode " << m;
    EXPECT_EQ(s.peak_bytes, plan->gpu_activation_bytes) << c.name << " mode " << m;
    planned_on_gpu += plan->gpu_activation_bytes;
  }
  EXPECT_GT(planned_on_gpu, 0);  // the plans did put work on the GPU
}

INSTANTIATE_TEST_SUITE_P(Models, MemoryPrediction,
                         ::testing::Values("tests/data/pytorch/two_encoders", "tests/data/pytorch/tagger",
                                           "tests/data/pytorch/lstm_2layer_bidir", "tests/data/pytorch/crnn",
                                           "tests/data/pytorch/gru_batch_first"),
                         [](const auto& param_info) {
                           const std::string& p = param_info.param;
                           return p.substr(p.rfind('/') + 1);
                         });

}  // namespace
}  // namespace tandem
