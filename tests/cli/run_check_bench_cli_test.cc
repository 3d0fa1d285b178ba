// `tandem run`, `tandem check` and `tandem bench` as a user runs them.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>
#include <onnx/onnx-data_pb.h>

#include "session/tensor_io.h"
#include "tests/support/model_builder.h"
#include "tests/support/op_runner.h"
#include "tests/support/run_cli.h"

namespace tandem {
namespace {

using test::run_cli;
using test::source_path;
namespace fs = std::filesystem;

const std::string kOp15Dir = source_path("models/silero_vad/silero_vad_16k_op15");
const std::string kLstm = source_path("tests/data/pytorch/lstm_initial_state/model.onnx");

TEST(CheckCli, SileroPassesEveryStep) {
  auto r = run_cli("check " + kOp15Dir);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("check: 16 passed, 0 failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("PASS test_data_set_15"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("output: max abs error"), std::string::npos) << r.out;
}

// A copy of a case with one expected output changed must fail with exit 1 and name the output.
TEST(CheckCli, AMismatchExitsOneAndShowsTheError) {
  test::TempDir tmp;
  const fs::path src = source_path("tests/data/pytorch/gru_batch_first");
  fs::copy(src, tmp.path() / "case", fs::copy_options::recursive);
  const std::string out0 = (tmp.path() / "case/test_data_set_0/output_0.pb").string();
  auto t = read_tensor_file(out0);
  ASSERT_TRUE(t) << t.status().message();
  Tensor changed = t->tensor.clone();
  changed.data<float>()[3] += 0.5f;
  // Rewrite as .npy (check reads either format by content).
  ASSERT_TRUE(write_npy(out0, changed).is_ok());
  auto r = run_cli("check " + (tmp.path() / "case").string());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("FAIL test_data_set_0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("max abs error 5.00e-01"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("check: 0 passed, 1 failed"), std::string::npos) << r.out;
  // A looser tolerance accepts it.
  EXPECT_EQ(run_cli("check --atol 0.6 " + (tmp.path() / "case").string()).exit_code, 0);
}

TEST(CheckCli, AFolderWithoutAModelIsAnError) {
  test::TempDir tmp;
  auto r = run_cli("check " + tmp.path().string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("no model.onnx"), std::string::npos) << r.out;
}

TEST(RunCli, WritesEveryOutputAsNpyAndSummarises) {
  test::TempDir tmp;
  const std::string set = kOp15Dir + "/test_data_set_12/";
  auto r = run_cli("run " + kOp15Dir + "/model.onnx --input input=" + set + "input_0.pb --input state=" + set +
                   "input_1.pb --input sr=" + set + "input_2.pb --output-dir " + tmp.path().string());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("output output: float32 [1,1]"), std::string::npos) << r.out;
  auto prob = read_tensor_file((tmp.path() / "output.npy").string());
  auto want = read_tensor_file(set + "output_0.pb");
  ASSERT_TRUE(prob && want);
  EXPECT_NEAR(prob->tensor.data<float>()[0], want->tensor.data<float>()[0], 1e-5);
  auto state = read_tensor_file((tmp.path() / "stateN.npy").string());
  ASSERT_TRUE(state);
  EXPECT_EQ(state->tensor.shape(), (std::vector<int64_t>{2, 1, 128}));
}

// String inputs from NumPy's .npy (words_u.npy, as numpy.save writes '<U5') and .pb, string outputs
// summarised as strings and written as .npy; check compares strings as strings; a string that is no
// number stops the run naming the node and the element.
TEST(RunCli, StringTensorsGoInAndOutAsNpy) {
  test::TempDir tmp;
  const std::string dir = source_path("tests/data/strings/text_features");
  const std::string set = dir + "/test_data_set_0/";
  auto r = run_cli("run " + dir + "/model.onnx --input text=" + set + "input_0.pb --input amounts=" + set +
                   "input_1.pb --output-dir " + tmp.path().string());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("output grid: string [2,2]  [\"mat\", \"cat\", \"sat\", \"sat\"]"), std::string::npos) << r.out;
  auto grid = read_tensor_file((tmp.path() / "grid.npy").string());
  auto want = read_tensor_file(set + "output_2.pb");
  ASSERT_TRUE(grid && want);
  ASSERT_EQ(grid->tensor.dtype(), DType::kString);
  EXPECT_TRUE(std::equal(grid->tensor.data<std::string>(), grid->tensor.data<std::string>() + 4,
                         want->tensor.data<std::string>()));
  auto check = run_cli("check " + dir);
  ASSERT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_NE(check.out.find("grid: every string equal"), std::string::npos) << check.out;
  // Strings from a NumPy file, one of them no number.
  const std::string amounts = tmp.write("amounts.npy", [] {
    std::ifstream in(source_path("tests/data/strings/words_u.npy"), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }());
  auto bad = run_cli("run " + dir + "/model.onnx --input text=" + set + "input_0.pb --input amounts=" + amounts);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("input 'amounts' must have rank 1"), std::string::npos) << bad.err;
}

// A sequence output is written one .npy per element (NAME.0.npy, ...); a sequence input is read from a
// SequenceProto .pb, or made random as a sequence of one tensor.
TEST(RunCli, SequencesAreReadFromSequenceProtosAndWrittenPerElement) {
  test::TempDir tmp;
  onnx::ModelProto m = test::make_model(17);
  auto& g = *m.mutable_graph();
  test::add_sequence_input(g, "seq", onnx::TensorProto::FLOAT);
  test::add_input(g, "x", onnx::TensorProto::FLOAT, {2, 3});
  test::add_node(g, "SplitToSequence", {"x"}, {"parts"});
  test::add_node(g, "Identity", {"seq"}, {"same"});
  for (const char* name : {"parts", "same"}) test::add_sequence_output(g, name, onnx::TensorProto::FLOAT);
  const std::string model = (tmp.path() / "seq.onnx").string();
  std::ofstream(model, std::ios::binary) << m.SerializeAsString();
  onnx::SequenceProto seq;
  seq.set_elem_type(onnx::SequenceProto::TENSOR);
  for (float v : {1.5f, -2.0f}) {
    auto* t = seq.add_tensor_values();
    t->set_data_type(onnx::TensorProto::FLOAT);
    t->add_dims(1);
    t->add_float_data(v);
  }
  const std::string seq_file = (tmp.path() / "seq.pb").string();
  std::ofstream(seq_file, std::ios::binary) << seq.SerializeAsString();

  auto r = run_cli("run " + model + " --input seq=" + seq_file + " --output-dir " + tmp.path().string());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("output parts: sequence of 2 float32 tensors"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("output same: sequence of 2 float32 tensors"), std::string::npos) << r.out;
  for (int e = 0; e < 2; ++e) {
    auto part = read_tensor_file((tmp.path() / ("parts." + std::to_string(e) + ".npy")).string());
    ASSERT_TRUE(part) << part.status().message();
    EXPECT_EQ(part->tensor.shape(), (std::vector<int64_t>{1, 3}));
    auto same = read_tensor_file((tmp.path() / ("same." + std::to_string(e) + ".npy")).string());
    ASSERT_TRUE(same) << same.status().message();
    EXPECT_EQ(same->tensor.data<float>()[0], e == 0 ? 1.5f : -2.0f);
  }
  EXPECT_FALSE(fs::exists(tmp.path() / "same.2.npy"));

  // Random: a sequence of one tensor.
  auto random = run_cli("run " + model + " --output-dir " + tmp.path().string());
  ASSERT_EQ(random.exit_code, 0) << random.out << random.err;
  EXPECT_NE(random.out.find("input  seq: random sequence of 1 float32 tensors"), std::string::npos) << random.out;
}

// A TensorProto file given for a sequence or an optional input parsed as an empty one (protobuf matched its
// data_type to elem_type and kept the rest as unknown fields), so the model ran on nothing without a word
// (found by the fuzzer). It is refused, naming the file.
TEST(RunCli, ATensorFileForASequenceOrOptionalInputIsRefused) {
  test::TempDir tmp;
  onnx::ModelProto m = test::make_model(18);
  auto& g = *m.mutable_graph();
  test::add_sequence_input(g, "seq", onnx::TensorProto::FLOAT);
  auto* opt = g.add_input();
  opt->set_name("opt");
  opt->mutable_type()->mutable_optional_type()->mutable_elem_type()->mutable_tensor_type()->set_elem_type(
      onnx::TensorProto::FLOAT);
  test::add_node(g, "SequenceLength", {"seq"}, {"n"});
  test::add_node(g, "OptionalHasElement", {"opt"}, {"has"});
  test::add_output(g, "n", onnx::TensorProto::INT64);
  test::add_output(g, "has", onnx::TensorProto::BOOL);
  const std::string model = (tmp.path() / "m.onnx").string();
  std::ofstream(model, std::ios::binary) << m.SerializeAsString();
  onnx::TensorProto t;  // as numpy_helper.from_array writes one: raw_data
  t.set_name("t");
  t.set_data_type(onnx::TensorProto::FLOAT);
  t.add_dims(2);
  const float values[2] = {1.0f, 2.0f};
  t.set_raw_data(values, sizeof values);
  const std::string tensor_file = (tmp.path() / "t.pb").string();
  std::ofstream(tensor_file, std::ios::binary) << t.SerializeAsString();
  onnx::OptionalProto none;
  none.set_elem_type(onnx::OptionalProto::TENSOR);
  const std::string none_file = (tmp.path() / "none.pb").string();
  std::ofstream(none_file, std::ios::binary) << none.SerializeAsString();

  auto r = run_cli("run " + model + " --input seq=" + tensor_file + " --input opt=" + none_file + " --output-dir " +
                   tmp.path().string());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("--input seq: '" + tensor_file + "': not an ONNX SequenceProto"), std::string::npos) << r.err;
  r = run_cli("run " + model + " --input opt=" + tensor_file + " --output-dir " + tmp.path().string());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("--input opt: '" + tensor_file + "': not an ONNX OptionalProto"), std::string::npos) << r.err;
  // The genuine empty optional still reads as one.
  r = run_cli("run " + model + " --input opt=" + none_file + " --output-dir " + tmp.path().string());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

// An output NumPy has no type for (bfloat16) is written as an ONNX TensorProto, NAME.pb, and said so; it
// reads back as the bits the model computed. (It used to end the run, found by the structural fuzzer,
// first as an unnamed "cannot write bfloat16 [1,1] as .npy", then named: a bfloat16 model's outputs could
// not be had at all.)
TEST(RunCli, AnOutputNumpyCannotHoldIsWrittenAsATensorProto) {
  test::TempDir tmp;
  onnx::ModelProto m = test::make_model(17);
  auto& g = *m.mutable_graph();
  test::add_input(g, "x", onnx::TensorProto::FLOAT, {2});
  test::set_int(test::add_node(g, "Cast", {"x"}, {"half"}, "narrow"), "to", onnx::TensorProto::BFLOAT16);
  test::add_output(g, "half", onnx::TensorProto::BFLOAT16);
  const std::string model = tmp.write_model("bf16.onnx", m);
  const std::string input = (tmp.path() / "x.npy").string();
  ASSERT_TRUE(write_npy(input, test::make_tensor<float>({2}, {1.5f, -3.0f})).is_ok());
  auto r = run_cli("run " + model + " --input x=" + input + " --output-dir " + tmp.path().string());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("half.pb (an ONNX TensorProto: NumPy has no bfloat16 type)"), std::string::npos) << r.out;
  auto back = read_tensor_file((tmp.path() / "half.pb").string());
  ASSERT_TRUE(back) << back.status().message();
  EXPECT_EQ(back->name, "half");
  ASSERT_EQ(back->tensor.dtype(), DType::kBFloat16);
  ASSERT_EQ(back->tensor.shape(), (std::vector<int64_t>{2}));
  EXPECT_EQ(back->tensor.data<uint16_t>()[0], 0x3fc0);  // 1.5
  EXPECT_EQ(back->tensor.data<uint16_t>()[1], 0xc040);  // -3
}

TEST(RunCli, RandomInputsUseDeclaredShapesAndDims) {
  test::TempDir tmp;
  auto r = run_cli("run " + kLstm + " --dim seq=4 --output-dir " + tmp.path().string());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("input  x: random float32 [4,1,8] (taking batch=1; set with --dim)"), std::string::npos) << r.out;
  auto y = read_tensor_file((tmp.path() / "y.npy").string());
  ASSERT_TRUE(y);
  EXPECT_EQ(y->tensor.shape(), (std::vector<int64_t>{4, 1, 16}));
}

// --dim values the model accepts but the machine cannot hold: random input x is [2^31, 17, 8] floats, 1.1 TiB.
// The allocation failed as a bare std::bad_alloc ("internal error: std::bad_alloc"; found by the ASan fuzzer).
TEST(RunCli, RandomInputTooBigForMemoryNamesTheInputAndSize) {
  std::ifstream overcommit("/proc/sys/vm/overcommit_memory");
  int mode = 0;
  if (overcommit >> mode && mode == 1) GTEST_SKIP() << "vm.overcommit_memory=1 would grant the 1.1 TiB";
  auto r = run_cli("run " + kLstm + " --dim seq=2147483648 --dim batch=17");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("random input 'x': cannot allocate 1168231104512 bytes for a float32 [2147483648,17,8] "
                       "tensor"),
            std::string::npos)
      << r.err;
}

// An .npy header whose shape asks for 800 GB over 16 bytes of data: refused for its size before anything
// is allocated (found by the ASan fuzzer: the shape was allocated first, "internal error: std::bad_alloc").
TEST(RunCli, NpyHeaderShapeBeyondItsDataIsRefusedWithoutAllocating) {
  test::TempDir tmp;
  std::string header = "{'descr': '<i4', 'fortran_order': False, 'shape': (99999999999, 2), }";
  header += std::string(63 - (10 + header.size()) % 64, ' ') + "\n";  // data 64-byte aligned, as numpy writes
  std::string bytes = std::string("\x93NUMPY\x01\x00", 8);
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>(header.size() >> 8);
  bytes += header + std::string(16, '\0');
  const std::string path = (tmp.path() / "x.npy").string();
  std::ofstream(path, std::ios::binary) << bytes;
  auto t = read_tensor_file(path);
  ASSERT_FALSE(t);
  EXPECT_NE(t.status().message().find(".npy holds 16 bytes of data, its shape (99999999999, 2) needs 799999999992"),
            std::string::npos)
      << t.status().message();
}

TEST(RunCli, BadInputsExitOneWithTheReason) {
  test::TempDir tmp;
  // x as int64 instead of float32.
  ASSERT_TRUE(write_npy((tmp.path() / "x.npy").string(), test::make_tensor<int64_t>({2, 1, 8}, std::vector<int64_t>(16, 1))).is_ok());
  auto wrong_type = run_cli("run " + kLstm + " --input x=" + (tmp.path() / "x.npy").string() + " --output-dir " +
                            tmp.path().string());
  EXPECT_EQ(wrong_type.exit_code, 1);
  EXPECT_NE(wrong_type.err.find("input 'x' must be float32, got int64"), std::string::npos) << wrong_type.err;

  auto no_such = run_cli("run " + kLstm + " --input nope=" + (tmp.path() / "x.npy").string());
  EXPECT_EQ(no_such.exit_code, 1);
  EXPECT_NE(no_such.err.find("the model has no input named 'nope'"), std::string::npos) << no_such.err;

  auto missing_file = run_cli("run " + kLstm + " --input x=/nonexistent.npy");
  EXPECT_EQ(missing_file.exit_code, 1);
  EXPECT_NE(missing_file.err.find("'/nonexistent.npy': file not found"), std::string::npos) << missing_file.err;

  EXPECT_EQ(run_cli("run " + kLstm + " --input x").exit_code, 2) << "NAME=FILE required";

  // Counts out of range say which bound, plainly.
  auto zero_runs = run_cli("bench " + kLstm + " --runs 0");
  EXPECT_EQ(zero_runs.exit_code, 2);
  EXPECT_NE(zero_runs.err.find("--runs: must be at least 1, got '0'"), std::string::npos) << zero_runs.err;
  auto threads = run_cli("run " + kLstm + " --threads -2");
  EXPECT_EQ(threads.exit_code, 2);
  EXPECT_NE(threads.err.find("--threads: must be from 0 to 1024, got '-2'"), std::string::npos) << threads.err;
}

// A loop whose condition never turns false ends at --timeout, saying where it stopped.
TEST(RunCli, TimeoutEndsARunThatWouldNotEnd) {
  onnx::ModelProto m = test::make_model();
  auto& g = *m.mutable_graph();
  test::add_input(g, "go", onnx::TensorProto::BOOL, {});
  test::add_input(g, "s0", onnx::TensorProto::FLOAT, {int64_t{2}});
  auto* n = test::add_node(g, "Loop", {"", "go", "s0"}, {"s"}, "loop");
  auto* body = test::set_graph(n, "body");
  body->set_name("count");
  test::add_input(*body, "i", onnx::TensorProto::INT64, {});
  test::add_input(*body, "cond_in", onnx::TensorProto::BOOL, {});
  test::add_input(*body, "s_in", onnx::TensorProto::FLOAT, {int64_t{2}});
  test::add_node(*body, "Identity", {"cond_in"}, {"cond_out"});
  test::add_node(*body, "Neg", {"s_in"}, {"s_out"});
  test::add_output(*body, "cond_out", onnx::TensorProto::BOOL);
  test::add_output(*body, "s_out", onnx::TensorProto::FLOAT);
  test::add_output(g, "s", onnx::TensorProto::FLOAT);
  test::TempDir tmp;
  const std::string model = tmp.write_model("forever.onnx", m);
  const std::string go = (tmp.path() / "go.npy").string();
  ASSERT_TRUE(write_npy(go, test::make_bool_tensor({}, {true})).is_ok());
  const std::string args = "run " + model + " --input go=" + go + " --output-dir " + tmp.path().string();
  auto r = run_cli(args + " --timeout 50ms");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("node 'loop' (Loop): iteration "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("past its time limit of 50 ms"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "s.npy"));
  auto zero = run_cli(args + " --timeout 0");
  EXPECT_EQ(zero.exit_code, 2) << zero.out << zero.err;
  EXPECT_NE(zero.err.find("--timeout must be above 0"), std::string::npos) << zero.err;
  auto unit = run_cli(args + " --timeout 5min");
  EXPECT_EQ(unit.exit_code, 2) << unit.out << unit.err;
  EXPECT_NE(unit.err.find("--timeout: unknown unit 'min'"), std::string::npos) << unit.err;
}

// bench makes its random inputs as run does, so one too big to allocate is the same one-line error.
TEST(BenchCli, RandomInputTooBigForMemoryNamesTheInputAndSize) {
  std::ifstream overcommit("/proc/sys/vm/overcommit_memory");
  int mode = 0;
  if (overcommit >> mode && mode == 1) GTEST_SKIP() << "vm.overcommit_memory=1 would grant the 1.1 TiB";
  auto r = run_cli("bench " + kLstm + " --dim seq=2147483648 --dim batch=17 --runs 1 --warmup 0");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("random input 'x': cannot allocate 1168231104512 bytes"), std::string::npos) << r.err;
}

// Inputs from files, as `run` reads them: Silero VAD's random 1-sample chunk is shorter than its STFT
// window, one recorded step runs.
TEST(BenchCli, TimesTheModelOnInputsFromFiles) {
  const std::string model = kOp15Dir + "/model.onnx", step = kOp15Dir + "/test_data_set_0/";
  auto random = run_cli("bench " + model + " --runs 1 --warmup 0");
  EXPECT_EQ(random.exit_code, 1) << random.err;
  EXPECT_NE(random.err.find("is larger than the padded input"), std::string::npos) << random.err;
  const std::string files = " --input input=" + step + "input_0.pb --input state=" + step +
                            "input_1.pb --input sr=" + step + "input_2.pb";
  auto given = run_cli("bench " + model + files + " --runs 3 --warmup 1 --json");
  ASSERT_EQ(given.exit_code, 0) << given.err;
  EXPECT_EQ(nlohmann::json::parse(given.out)["runs"], 3);
  auto unknown = run_cli("bench " + model + files + " --input nope=" + step + "input_0.pb");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("the model has no input named 'nope'"), std::string::npos) << unknown.err;
}

TEST(BenchCli, ReportsPercentilesAsJson) {
  auto r = run_cli("bench " + kLstm + " --dim seq=5 --dim batch=1 --warmup 2 --runs 20 --threads 1 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["runs"], 20);
  EXPECT_GT(j["median_us"].get<double>(), 0);
  EXPECT_LE(j["min_us"].get<double>(), j["median_us"].get<double>());
  EXPECT_LE(j["median_us"].get<double>(), j["p90_us"].get<double>());
  EXPECT_LE(j["p90_us"].get<double>(), j["p99_us"].get<double>());
  EXPECT_LE(j["p99_us"].get<double>(), j["max_us"].get<double>());
  // The process's resident memory (Linux): at least the LSTM's packed weights, and the peak at least that.
  EXPECT_GT(j["resident_bytes"].get<int64_t>(), 1 << 20);
  EXPECT_GE(j["peak_resident_bytes"].get<int64_t>(), j["resident_bytes"].get<int64_t>());
  EXPECT_TRUE(j["model_weights_freed"].get<bool>());  // the session held the only reference
  EXPECT_EQ(run_cli("bench " + kLstm + " --runs 0").exit_code, 2);
}

}  // namespace
}  // namespace tandem
