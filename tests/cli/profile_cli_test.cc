// `tandem profile` as a user runs it: on a real PyTorch export, then partitioned from the file it wrote.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <tandem/tandem.h>

#include "partitioner/profile.h"
#include "session/model_impl.h"
#include "tests/support/model_builder.h"
#include "tests/support/run_cli.h"

namespace tandem {
namespace {

using test::run_cli;

const std::string kModel = test::source_path("tests/data/pytorch/two_encoders/model.onnx");
const std::string kQuick = " --dim seq=4 --dim batch=1 --reps 3 --budget-ms 20 --link-max 64KiB --threads 1";

TEST(ProfileCli, WritesAProfileOfEveryNodeOnEveryDeviceThatPartitionReads) {
  test::TempDir dir;
  const std::string out = (dir.path() / "p.json").string(), trace = (dir.path() / "t.json").string();
  const auto r = run_cli("profile " + kModel + kQuick + " -o " + out + " --trace " + trace);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("slowest nodes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cuda (estimated)"), std::string::npos) << r.out;  // no GPU in CI
  EXPECT_NE(r.out.find("cpu/cuda"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("profile written to " + out), std::string::npos);
  // Not a terminal: plain progress lines, no carriage returns.
  EXPECT_NE(r.err.find("nodes: "), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\r'), std::string::npos);

  auto p = partition::load_profile(out);
  ASSERT_TRUE(p.is_ok()) << p.status().message();
  LoadOptions load;
  load.dims = {{"seq", 4}, {"batch", 1}};
  Model model = Model::load(kModel, load);
  const Graph& g = *model.impl().ir.graph;
  ASSERT_EQ(p->nodes.size(), g.num_nodes());
  for (const auto& n : p->nodes) {
    EXPECT_TRUE(n.devices.count("cpu")) << n.name;
    EXPECT_TRUE(n.devices.count("cuda")) << n.name;
  }
  EXPECT_EQ(p->model_hash, model.impl().ir.sha256);
  EXPECT_EQ(p->input_shapes.at("seq"), 4);
  EXPECT_TRUE(p->links.count("cpu->cpu"));
  EXPECT_TRUE(p->links.at("cpu->cuda").estimated);

  std::ifstream in(trace);
  const auto j = nlohmann::json::parse(in);
  int events = 0;
  for (const auto& e : j.at("traceEvents")) events += e.at("ph") == "X";
  EXPECT_EQ(events, static_cast<int>(g.num_nodes()));

  const auto plan = run_cli("partition " + kModel + " --dim seq=4 --dim batch=1 --profile " + out +
                            " --mode latency -o " + (dir.path() / "plan.json").string());
  EXPECT_EQ(plan.exit_code, 0) << plan.err;

  // The same profile for another model is refused by its hash.
  const std::string other = test::source_path("tests/data/pytorch/gru_batch_first/model.onnx");
  const auto wrong = run_cli("partition " + other + " --profile " + out + " --mode latency -o " +
                             (dir.path() / "plan2.json").string());
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.err.find("was taken of another model (model hash "), std::string::npos) << wrong.err;
}

TEST(ProfileCli, MergeRefusesAProfileOfAnotherModel) {
  test::TempDir dir;
  partition::Profile other;
  other.model_hash = std::string(64, 'a');
  const std::string other_path = (dir.path() / "other.json").string();
  ASSERT_TRUE(partition::save_profile(other, other_path).is_ok());
  const auto r = run_cli("profile " + kModel + kQuick + " -o " + (dir.path() / "p.json").string() + " --merge " +
                         other_path);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("tandem: --merge " + other_path +
                       ": cannot merge profiles: they were taken of different models"),
            std::string::npos)
      << r.err;
}

TEST(ProfileCli, BadArgumentsAreUsageErrors) {
  test::TempDir dir;
  const std::string out = " -o " + (dir.path() / "p.json").string();
  auto r = run_cli("profile " + kModel + kQuick + out + " --devices cpu,tpu");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "tandem: --devices: unknown device 'tpu' (expected cpu, cuda or cpu,cuda)\n");
  r = run_cli("profile " + kModel + kQuick + out + " --gpu-spec a100");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--gpu-spec: unknown GPU 'a100'"), std::string::npos) << r.err;
  r = run_cli("profile " + kModel + kQuick + out + " --reps 0");
  EXPECT_EQ(r.exit_code, 2);
  r = run_cli("profile " + (dir.path() / "missing.onnx").string() + out);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("file not found"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace tandem
