// Real exported models: both Silero VAD exports and the PyTorch fixtures. The expected interfaces and op
// counts come from the model files themselves as Python's onnx package reads them (manifest.json) and
// from the Silero README, not from tandem's output.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>
#include <onnx/onnx_pb.h>
#include <tandem/tandem.h>

#include "session/model_impl.h"
#include "tests/support/model_builder.h"

namespace tandem {
namespace {

using test::source_path;

std::vector<std::string> shape_text(const TensorSpec& t) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < t.dims.size(); ++i)
    out.push_back(t.dims[i] >= 0 ? std::to_string(t.dims[i]) : t.dim_names[i]);
  return out;
}

TEST(SileroVad, Opset15ExportHasTwoLstmsInsideTwelveIfs) {
  Model m = Model::load(source_path("models/silero_vad/silero_vad_16k_op15/model.onnx"));
  EXPECT_EQ(m.ir_version(), 8);
  ASSERT_EQ(m.opsets().size(), 1u);
  EXPECT_EQ(m.opsets()[0], std::make_pair(std::string("ai.onnx"), int64_t{15}));
  const auto ops = m.op_histogram();
  EXPECT_EQ(ops.at("LSTM"), 2);
  EXPECT_EQ(ops.at("If"), 12);
  EXPECT_EQ(ops.at("Conv"), 6);

  ASSERT_EQ(m.inputs().size(), 3u);
  EXPECT_EQ(m.inputs()[0].name, "input");
  EXPECT_EQ(m.inputs()[0].dtype, "float32");
  EXPECT_EQ(shape_text(m.inputs()[0]), (std::vector<std::string>{"batch", "sequence"}));
  EXPECT_EQ(m.inputs()[1].name, "state");
  EXPECT_EQ(shape_text(m.inputs()[1]), (std::vector<std::string>{"2", "batch", "128"}));
  EXPECT_EQ(m.inputs()[2].name, "sr");
  EXPECT_EQ(m.inputs()[2].dtype, "int64");
  EXPECT_TRUE(m.inputs()[2].dims.empty()) << "sr is a scalar";

  ASSERT_EQ(m.outputs().size(), 2u);
  EXPECT_EQ(m.outputs()[0].name, "output");
  EXPECT_EQ(shape_text(m.outputs()[0]), (std::vector<std::string>{"batch", "1"}));
  EXPECT_EQ(m.outputs()[1].name, "stateN");
  EXPECT_EQ(m.outputs()[1].dtype, "float32");
  EXPECT_TRUE(m.impl().ir.checker_ran);
}

TEST(SileroVad, Opset18Ir10ExportHasFourGemmsAndOneIf) {
  Model m = Model::load(source_path("models/silero_vad/silero_vad_op18_ifless/model.onnx"));
  EXPECT_EQ(m.ir_version(), 10);
  EXPECT_EQ(m.opsets()[0], std::make_pair(std::string("ai.onnx"), int64_t{18}));
  const auto ops = m.op_histogram();
  EXPECT_EQ(ops.at("Gemm"), 4);
  EXPECT_EQ(ops.at("If"), 1);
  EXPECT_EQ(ops.at("Split"), 2);  // opset-18 Split: validated by tandem's own schema
  EXPECT_EQ(ops.count("LSTM"), 0u) << "this export decomposes the LSTM";
  std::vector<std::string> in_names, out_names;
  for (const auto& t : m.inputs()) in_names.push_back(t.name);
  for (const auto& t : m.outputs()) out_names.push_back(t.name);
  EXPECT_EQ(in_names, (std::vector<std::string>{"input", "sr", "state"}));
  EXPECT_EQ(out_names, (std::vector<std::string>{"output", "stateN"}));
  EXPECT_EQ(shape_text(m.outputs()[1]), (std::vector<std::string>{"2", "batch", "128"}));
  EXPECT_FALSE(m.impl().ir.checker_ran);
  ASSERT_FALSE(m.impl().ir.notes.empty());
  EXPECT_NE(m.impl().ir.notes[0].find("ONNX checker skipped"), std::string::npos);
}

TEST(SileroVad, FixingSymbolicDimsMakesInterfaceShapesNumeric) {
  Model m = Model::load(source_path("models/silero_vad/silero_vad_op18_ifless/model.onnx"),
                        LoadOptions{{{"batch", 1}, {"sequence", 576}}});
  EXPECT_EQ(m.inputs()[0].dims, (std::vector<int64_t>{1, 576}));
  EXPECT_EQ(m.outputs()[0].dims, (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(m.outputs()[1].dims, (std::vector<int64_t>{2, 1, 128}));
}

class PyTorchFixture : public ::testing::TestWithParam<std::string> {};

nlohmann::json manifest() {
  std::ifstream in(source_path("tests/data/pytorch/manifest.json"));
  return nlohmann::json::parse(in);
}

std::vector<std::string> fixture_names() {
  std::vector<std::string> names;
  const nlohmann::json all = manifest();  // kept alive: a range-for over manifest()["models"] would dangle
  for (const auto& m : all["models"]) names.push_back(m["name"]);
  return names;
}

// ONNX's lower-case type names as the manifest writes them, mapped to tandem's.
std::string tandem_dtype(const std::string& onnx_name) {
  if (onnx_name == "float") return "float32";
  if (onnx_name == "double") return "float64";
  return onnx_name;
}

void expect_interface(const std::vector<TensorSpec>& got, const nlohmann::json& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE(what + " " + got[i].name);
    EXPECT_EQ(got[i].name, want[i]["name"].get<std::string>());
    EXPECT_EQ(got[i].dtype, tandem_dtype(want[i]["dtype"]));
    std::vector<std::string> dims;
    for (const auto& d : want[i]["shape"]) dims.push_back(d.is_string() ? d.get<std::string>() : std::to_string(d.get<int64_t>()));
    EXPECT_EQ(shape_text(got[i]), dims);
  }
}

TEST_P(PyTorchFixture, InterfaceAndOpCountsMatchTheFile) {
  nlohmann::json want;
  const nlohmann::json all = manifest();
  for (const auto& entry : all["models"])
    if (entry["name"] == GetParam()) want = entry;
  Model m = Model::load(source_path("tests/data/pytorch/" + GetParam() + "/model.onnx"));
  expect_interface(m.inputs(), want["inputs"], "input");
  expect_interface(m.outputs(), want["outputs"], "output");
  std::map<std::string, int64_t> ops;
  for (const auto& [op, count] : want["op_counts"].items()) ops[op] = count.get<int64_t>();
  EXPECT_EQ(m.op_histogram(), ops);
  EXPECT_EQ(m.num_nodes(), want["num_nodes"].get<int64_t>());
  EXPECT_EQ(m.opsets()[0].second, want["opset"].get<int64_t>());
  EXPECT_GT(m.parameter_count(), 0);
}

INSTANTIATE_TEST_SUITE_P(Exports, PyTorchFixture, ::testing::ValuesIn(fixture_names()),
                         [](const auto& param_info) { return param_info.param; });

TEST(PyTorchTagger, ShapesFlowThroughTheWholeModel) {
  // embedding -> LSTM -> Linear -> LogSoftmax over [batch, seq] token ids: with the dims fixed, every value
  // in the graph gets a full shape from ONNX's inference with data propagation.
  Model m = Model::load(source_path("tests/data/pytorch/tagger/model.onnx"), LoadOptions{{{"batch", 2}, {"seq", 5}}});
  const Graph& g = *m.impl().ir.graph;
  for (const Value& v : g.values()) {
    if (v.kind != ValueKind::kNodeOutput) continue;
    EXPECT_TRUE(v.shape.is_static()) << v.name << " " << v.shape;
  }
  EXPECT_EQ(shape_text(m.outputs()[0]), (std::vector<std::string>{"2", "5", "5"}));
}

// lstm_linear_functions, exported with export_modules_as_functions=True: the file's main graph is a single call of a model-local
// function whose body calls three more (Linear twice); the import expands them all, and the expanded graph is
// what the manifest counts (the functions' bodies, as Python's onnx package reads them).
TEST(PyTorchFunctions, EveryCallIsExpanded) {
  const std::string path = source_path("tests/data/pytorch/lstm_linear_functions/model.onnx");
  onnx::ModelProto proto;
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(proto.ParseFromIstream(&in));
  ASSERT_EQ(proto.graph().node_size(), 1);
  EXPECT_EQ(proto.graph().node(0).op_type(), "FunctionStack");
  EXPECT_EQ(proto.functions_size(), 4);

  Model m = Model::load(path);
  const auto ops = m.op_histogram();
  for (const char* fn : {"FunctionStack", "Linear"}) EXPECT_EQ(ops.count(fn), 0u) << fn;
  EXPECT_EQ(ops.at("LSTM"), 1);
  EXPECT_EQ(ops.at("MatMul"), 2);
  const Graph& g = *m.impl().ir.graph;
  const std::string call = proto.graph().node(0).name();  // "/out/FunctionStack"
  for (const Node& n : g.nodes()) {
    EXPECT_EQ(n.domain, "") << n.name << ": a call left unexpanded";
    EXPECT_EQ(n.name.rfind(call + "/", 0), 0u) << "named after the call site: " << n.name;
  }
  ASSERT_FALSE(m.impl().ir.notes.empty());
  EXPECT_NE(m.impl().ir.notes.back().find("expanded 5 calls of the model's 4 local functions"), std::string::npos)
      << m.impl().ir.notes.back();
}

}  // namespace
}  // namespace tandem
