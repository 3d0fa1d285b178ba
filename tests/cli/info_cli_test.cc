// `tandem info` as a user runs it: the real binary, its output, its files and its exit codes.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/support/model_builder.h"
#include "tests/support/run_cli.h"

namespace tandem {
namespace {

using test::run_cli;
using test::source_path;

const std::string kOp15 = source_path("models/silero_vad/silero_vad_16k_op15/model.onnx");
const std::string kOp18 = source_path("models/silero_vad/silero_vad_op18_ifless/model.onnx");

TEST(InfoCli, TextReportOnSileroOpset15) {
  auto r = run_cli("info " + kOp15);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_NE(r.out.find("IR 8, opset ai.onnx 15"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" LSTM 2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" If 12"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  input  float32  [batch, sequence]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  state  float32  [2, batch, 128]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  sr     int64    []"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  output  float32  [batch, 1]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ONNX checker passed"), std::string::npos) << r.out;
}

// The op counts describe the model as stored; "folded" says how many nodes load computes once: at least
// every Constant node (none of Silero's is a graph's output), and never more than there are.
TEST(InfoCli, SaysHowManyNodesAreFoldedIntoConstants) {
  auto r = run_cli("info --json " + kOp15);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["op_counts"]["Constant"], 160);
  EXPECT_GE(j["nodes"]["folded"].get<int64_t>(), 160);
  EXPECT_LT(j["nodes"]["folded"].get<int64_t>(), j["nodes"]["total"].get<int64_t>());
  auto text = run_cli("info " + kOp15);
  EXPECT_NE(text.out.find(" of them computed once at load (inputs all constant)"), std::string::npos) << text.out;
}

TEST(InfoCli, JsonReportOnSileroOpset18) {
  auto r = run_cli("info --json " + kOp18);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ir_version"], 10);
  EXPECT_EQ(j["opsets"][0]["version"], 18);
  EXPECT_EQ(j["op_counts"]["Gemm"], 4);
  EXPECT_EQ(j["op_counts"]["If"], 1);
  EXPECT_EQ(j["onnx_checker"], "skipped");
  ASSERT_EQ(j["notes"].size(), 1u);
  EXPECT_NE(j["notes"][0].get<std::string>().find("IR version 10"), std::string::npos);
  ASSERT_EQ(j["inputs"].size(), 3u);
  EXPECT_EQ(j["inputs"][1]["name"], "sr");
  EXPECT_EQ(j["inputs"][2]["shape"], nlohmann::json::parse(R"([2, "batch", 128])"));
  // Every Gemm has a FLOP estimate: 2 * batch * 128 * 512 + 512 * batch (bias), batch taken as 1.
  int gemms = 0;
  for (const auto& n : j["flops"]["nodes"]) {
    if (n["op"] != "Gemm") continue;
    ++gemms;
    EXPECT_DOUBLE_EQ(n["flops"].get<double>(), 2.0 * 128 * 512 + 512) << n.dump();
    EXPECT_EQ(n["per_symbol"], nlohmann::json::parse(R"(["batch"])"));
  }
  EXPECT_EQ(gemms, 4);
  EXPECT_EQ(j["cannot_run"]["count"], 0) << j["cannot_run"].dump();
}

TEST(InfoCli, DimOptionFixesSymbolsInTheReport) {
  auto r = run_cli("info --json --dim batch=3 --dim sequence=576 " + kOp18);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["inputs"][0]["shape"], nlohmann::json::parse("[3, 576]"));
  for (const auto& n : j["flops"]["nodes"]) {
    if (n["op"] == "Gemm") {
      EXPECT_DOUBLE_EQ(n["flops"].get<double>(), 3 * (2.0 * 128 * 512 + 512));
    }
  }
}

TEST(InfoCli, DotFileDescribesTheGraph) {
  test::TempDir tmp;
  const std::string dot = (tmp.path() / "g.dot").string();
  auto r = run_cli("info " + kOp15 + " --dot " + dot);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in(dot);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  EXPECT_EQ(text.rfind("digraph", 0), 0u);
  EXPECT_NE(text.find("LSTM"), std::string::npos);
  EXPECT_NE(text.find("subgraph cluster_"), std::string::npos) << "If bodies are drawn as clusters";
  EXPECT_EQ(text.substr(text.size() - 2), "}\n");
}

TEST(InfoCli, NodesWithoutAKernelAreListedWithTheReason) {
  test::TempDir tmp;
  auto m = test::make_model();
  auto& g = *m.mutable_graph();
  // Resize takes strings in ONNX (nearest neighbours of words); tandem's interpolating kernel does not.
  test::add_input(g, "x", onnx::TensorProto::STRING, {int64_t{1}, int64_t{2}});
  test::add_float_initializer(g, "scales", {2}, {1.0f, 2.0f});
  test::add_node(g, "Resize", {"x", "", "scales"}, {"y"}, "s");
  test::add_output(g, "y", onnx::TensorProto::STRING);
  auto r = run_cli("info --json " + tmp.write_model("m.onnx", m));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["cannot_run"]["count"], 1);
  EXPECT_EQ(j["cannot_run"]["nodes"][0]["node"], "'s' (Resize)");
  EXPECT_EQ(j["cannot_run"]["nodes"][0]["reason"], "Resize does not take string tensors ('x' is one)");
}

TEST(InfoCli, SaysHowManyIfsAConstantConditionReplacedByTheirBranch) {
  test::TempDir tmp;
  auto m = test::make_model();
  auto& g = *m.mutable_graph();
  test::add_input(g, "x", onnx::TensorProto::FLOAT, {int64_t{2}});
  test::add_int64_initializer(g, "flag", {}, {0});
  test::set_int(test::add_node(g, "Cast", {"flag"}, {"cond"}, "cast"), "to", onnx::TensorProto::BOOL);
  auto* n = test::add_node(g, "If", {"cond"}, {"y"}, "pick");
  for (const char* branch : {"then_branch", "else_branch"}) {
    auto* body = test::set_graph(n, branch);
    body->set_name(branch);
    test::add_node(*body, branch[0] == 't' ? "Neg" : "Abs", {"x"}, {std::string(branch) + "_y"}, branch);
    test::add_output(*body, std::string(branch) + "_y", onnx::TensorProto::FLOAT);
  }
  test::add_output(g, "y", onnx::TensorProto::FLOAT);
  const std::string path = tmp.write_model("m.onnx", m);
  auto r = run_cli("info --json " + path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["nodes"]["inlined_ifs"], 1);
  EXPECT_EQ(j["nodes"]["folded"], 1) << "the Cast";
  EXPECT_EQ(j["op_counts"]["If"], 1) << "as stored";
  auto text = run_cli("info " + path);
  EXPECT_NE(text.out.find("; 1 If node replaced by the branch a constant condition takes"), std::string::npos)
      << text.out;
  // Silero VAD's Ifs test the sample-rate input: nothing to replace.
  EXPECT_EQ(nlohmann::json::parse(run_cli("info --json " + kOp15).out)["nodes"]["inlined_ifs"], 0);
}

TEST(InfoCli, ExitCodes) {
  EXPECT_EQ(run_cli("").exit_code, 2) << "no subcommand";
  EXPECT_EQ(run_cli("frobnicate").exit_code, 2);
  EXPECT_EQ(run_cli("info").exit_code, 2) << "model missing";
  EXPECT_EQ(run_cli("info --no-such-flag " + kOp15).exit_code, 2);
  EXPECT_EQ(run_cli("info --dim batch " + kOp15).exit_code, 2) << "--dim without a value";
  EXPECT_EQ(run_cli("--help").exit_code, 0);
  auto v = run_cli("--version");
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out.rfind("tandem ", 0), 0u) << v.out;

  auto missing = run_cli("info /nonexistent/model.onnx");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err, "tandem: model '/nonexistent/model.onnx': file not found\n");
  EXPECT_TRUE(missing.out.empty());
  auto dir = run_cli("info " + source_path("models"));
  EXPECT_EQ(dir.exit_code, 1);
  EXPECT_NE(dir.err.find("not a regular file"), std::string::npos) << dir.err;
}

}  // namespace
}  // namespace tandem
