// `tandem run --plan`: runs a hand-made device plan (no GPU here, so the plan's cuda nodes run on a second
// CPU device, as the log line says), prints measured latency and per-device peak memory beside the plan's
// predictions, writes a trace with a lane per device, and gives the same outputs as a plain run.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include <tandem/tandem.h>

#include "partitioner/plan.h"
#include "session/device_set.h"
#include "session/model_impl.h"
#include "session/tensor_io.h"
#include "tests/support/model_builder.h"
#include "tests/support/run_cli.h"

namespace tandem {
namespace {

using test::run_cli;

const std::string kModel = test::source_path("tests/data/pytorch/two_encoders/model.onnx");

// Nodes alternate between cpu and cuda, in the model's (topological) order.
partition::Plan alternating_plan(const Graph& g) {
  partition::Plan p;
  p.algorithm = "by hand";
  p.predicted_latency_us = 1234;
  p.predicted_peak_gpu_bytes = 5 << 20;
  p.gpu_activation_bytes = 3 << 20;
  for (std::size_t i = 0; i < g.num_nodes(); ++i) {
    partition::PlanNode n;
    n.node_index = static_cast<int64_t>(i);
    n.name = g.node(static_cast<NodeId>(i)).name;
    n.device = i % 2 ? partition::Device::kGpu : partition::Device::kCpu;
    n.order = static_cast<int>(i);
    p.nodes.push_back(n);
  }
  return p;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(RunPlanCli, PrintsMeasuredAgainstPredictedWritesATraceAndMatchesThePlainRun) {
  test::TempDir tmp;
  const Model m = Model::load(kModel);
  const std::string plan = (tmp.path() / "plan.json").string(), trace = (tmp.path() / "trace.json").string();
  const std::string plain_dir = (tmp.path() / "plain").string(), plan_dir = (tmp.path() / "plan").string();
  ASSERT_TRUE(partition::save_plan(alternating_plan(*m.impl().ir.graph), plan).is_ok());

  // One thread per kernel either way (the plan's two devices share --threads 2), so the bits must agree.
  auto plain = run_cli("run " + kModel + " --threads 1 --output-dir " + plain_dir);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  auto r = run_cli("run " + kModel + " --threads 2 --plan " + plan + " --repeat 3 --trace " + trace +
                   " --output-dir " + plan_dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("so a second CPU device ('cpu1', 1 thread) runs them in its place"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("over 3 runs (after 2 untimed); plan predicts 1.234 ms"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("peak memory cpu: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("peak memory cpu1 (in place of cuda): "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("plan predicts 3.0 MiB of activations (GPU peak 5.0 MiB"), std::string::npos) << r.out;

  for (const auto& out : m.outputs()) {
    std::string file = out.name;
    for (char& c : file)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') c = '_';
    auto a = read_tensor_file(plain_dir + "/" + file + ".npy");
    auto b = read_tensor_file(plan_dir + "/" + file + ".npy");
    ASSERT_TRUE(a && b) << out.name;
    ASSERT_EQ(a->tensor.shape(), b->tensor.shape());
    EXPECT_EQ(std::memcmp(a->tensor.raw(), b->tensor.raw(), a->tensor.nbytes()), 0) << out.name;
  }

  // One lane per device, one box per node of the last run.
  const auto j = nlohmann::json::parse(slurp(trace));
  std::set<std::string> lanes;
  std::size_t boxes = 0;
  for (const auto& e : j.at("traceEvents")) {
    if (e.at("ph") == "M") lanes.insert(e.at("args").at("name").get<std::string>());
    if (e.at("ph") == "X") ++boxes;
  }
  EXPECT_EQ(lanes, (std::set<std::string>{"cpu", "cpu1"}));
  EXPECT_EQ(boxes, static_cast<std::size_t>(m.impl().ir.graph->num_nodes()));
}

TEST(RunPlanCli, CudaWithoutAGpuIsAnErrorSayingWhyAndAnUnknownDeviceIsAUsageError) {
  auto bad = run_cli("run " + kModel + " --mode latency --devices tpu");
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("--devices must be auto, cpu, cpu,cpu or cpu,cuda, got 'tpu'"), std::string::npos) << bad.err;

  const GpuAvailability gpu = find_gpu();
  if (gpu.present) GTEST_SKIP() << "a GPU is here (" << gpu.name << "): --devices cpu,cuda runs on it";
  test::TempDir tmp;
  const Model m = Model::load(kModel);
  const std::string plan = (tmp.path() / "plan.json").string();
  ASSERT_TRUE(partition::save_plan(alternating_plan(*m.impl().ir.graph), plan).is_ok());
  auto r = run_cli("run " + kModel + " --plan " + plan + " --devices cpu,cuda --output-dir " + tmp.path().string());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("SessionOptions::devices \"cpu,cuda\": no GPU to run on: " + gpu.why_not), std::string::npos)
      << r.err;
}

TEST(RunPlanCli, RepeatWithoutAPlanIsAUsageError) {
  auto r = run_cli("run " + kModel + " --repeat 3");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--repeat and --trace need --plan"), std::string::npos) << r.err;
}

TEST(RunPlanCli, APlanForAnotherModelIsRefusedByName) {
  test::TempDir tmp;
  const Model other = Model::load(test::source_path("tests/data/pytorch/tagger/model.onnx"));
  const std::string plan = (tmp.path() / "plan.json").string();
  ASSERT_TRUE(partition::save_plan(alternating_plan(*other.impl().ir.graph), plan).is_ok());
  auto r = run_cli("run " + kModel + " --plan " + plan);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("was the plan made for another model?"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace tandem
