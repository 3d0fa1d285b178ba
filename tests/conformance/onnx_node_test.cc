// ONNX's own backend node tests (Debian's libonnx-testdata), and its small "simple" models: every case whose
// ops all have CPU kernels runs through check_case, the code behind `tandem check`, and must match ONNX's
// expected outputs. Cases that are in scope but knowingly not supported are listed below with the reason.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include "runtime_cpu/cpu_device.h"
#include "session/case_check.h"
#include "onnx_import/onnx_import.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;
const fs::path kCases = "/usr/share/libonnx-testdata/data/node";
const fs::path kSimpleCases = "/usr/share/libonnx-testdata/data/simple";

// Case -> why tandem does not pass it. Each entry must be a real limitation, not a bug to hide.
const std::map<std::string, std::string>& known_unsupported() {
  static const std::string kTraining = "training mode: tandem runs inference only and refuses it with an error";
  static const std::string kNumpyDraws =
      "the expected outputs are numpy's random draws, which no other engine reproduces; random_ops_test "
      "holds tandem's draws to their distribution";
  static const std::string kBf16 =
      "ONNX 1.12's generator truncated float32 to bfloat16; tandem rounds to nearest even (as ONNX does since)";
  static const std::string kBf16Input =
      "the test data stores the bfloat16 input as uint16 (numpy has no bfloat16), which the session's input "
      "check refuses; elementwise_test covers the conversion";
  static const std::string kWindowPi =
      "ONNX 1.12's generator computed the expected windows with pi = 3.1415 (its *window.py), so they are "
      "off by up to 7.4e-5 from the exact window; tandem runs the expanded graph (2*pi in float32) to "
      "within 3e-7 of the exact window";
  static const std::string kWindowKernelPi =
      "ONNX 1.12's generator computed the expected window with pi = 3.1415 (its *window.py; the data match "
      "that to 1.5e-7 and are off by up to 7.4e-5 from the exact window); tandem's window kernels use the "
      "exact pi, and signal_ops_test checks them against numpy's windows";
  static const std::string kAdamEpsilon =
      "ONNX 1.12's generator made the expected outputs with epsilon 1e-2 but left the attribute out of the "
      "node (default 1e-6; later ONNX passes it): X_new is off by 3e-3. optimizer_ops_test runs the case "
      "with epsilon 1e-2 and matches the data";
  static const std::map<std::string, std::string> m = {
      {"test_adam_multiple", kAdamEpsilon},
      {"test_batchnorm_epsilon_training_mode", kTraining},
      {"test_cast_BFLOAT16_to_FLOAT", kBf16Input},
      {"test_castlike_BFLOAT16_to_FLOAT", kBf16Input},
      {"test_castlike_BFLOAT16_to_FLOAT_expanded", kBf16Input},
      {"test_batchnorm_example_training_mode", kTraining},
      {"test_bernoulli", kNumpyDraws},
      {"test_bernoulli_double", kNumpyDraws},
      {"test_bernoulli_double_expanded", kNumpyDraws},
      {"test_bernoulli_expanded", kNumpyDraws},
      {"test_bernoulli_seed", kNumpyDraws},
      {"test_bernoulli_seed_expanded", kNumpyDraws},
      {"test_blackmanwindow", kWindowKernelPi},
      {"test_blackmanwindow_expanded", kWindowPi},
      {"test_blackmanwindow_symmetric", kWindowKernelPi},
      {"test_blackmanwindow_symmetric_expanded", kWindowPi},
      {"test_cast_FLOAT_to_BFLOAT16", kBf16},
      {"test_castlike_FLOAT_to_BFLOAT16", kBf16},
      {"test_castlike_FLOAT_to_BFLOAT16_expanded", kBf16},
      {"test_hammingwindow", kWindowKernelPi},
      {"test_hammingwindow_expanded", kWindowPi},
      {"test_hammingwindow_symmetric", kWindowKernelPi},
      {"test_hammingwindow_symmetric_expanded", kWindowPi},
      {"test_hannwindow", kWindowKernelPi},
      {"test_hannwindow_expanded", kWindowPi},
      {"test_hannwindow_symmetric", kWindowKernelPi},
      {"test_hannwindow_symmetric_expanded", kWindowPi},
      {"test_training_dropout", kNumpyDraws},
      {"test_training_dropout_default", kNumpyDraws},
      {"test_training_dropout_default_mask", kNumpyDraws},
      {"test_training_dropout_mask", kNumpyDraws},
  };
  return m;
}

// Cases whose expected outputs ONNX's generator holds to 4 decimals only (pasted in by hand): compared to
// that precision, 1e-4, rather than the usual 1e-5. Their kernels' tests check them against torch to 1e-6.
// RoiAlign's data even cuts one value short (0.9727 for 0.972784: off by 8.4e-5); bicubic GridSample's
// rounds (-0.1406 for torch's -0.140625).
const std::set<std::string>& four_decimal_cases() {
  static const std::set<std::string> s = {"test_gridsample_bicubic", "test_roialign_aligned_false",
                                          "test_roialign_aligned_true"};
  return s;
}

struct Case {
  std::string name;
  bool in_scope = false;  // every op has a CPU kernel
  std::string load_error;
};

std::vector<Case> discover(const fs::path& root) {
  std::vector<Case> cases;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return cases;
  static const cpu::CpuDevice cpu;
  for (const auto& e : fs::directory_iterator(root)) {
    if (!fs::is_regular_file(e.path() / "model.onnx")) continue;
    Case c;
    c.name = e.path().filename().string();
    auto ir = onnx_import::import_model((e.path() / "model.onnx").string());
    if (!ir) {
      c.load_error = ir.status().message();
    } else {
      c.in_scope = true;
      for (std::size_t i = 0; i < ir->graph->num_nodes(); ++i)
        c.in_scope = c.in_scope && cpu.supports(*ir->graph, static_cast<NodeId>(i)).ok;
    }
    cases.push_back(std::move(c));
  }
  std::sort(cases.begin(), cases.end(), [](const Case& a, const Case& b) { return a.name < b.name; });
  return cases;
}

const std::vector<Case>& all_cases() {
  static const std::vector<Case> cases = discover(kCases);
  return cases;
}

std::vector<std::string> in_scope_names(const std::vector<Case>& cases) {
  std::vector<std::string> names;
  for (const Case& c : cases)
    if (c.in_scope) names.push_back(c.name);
  if (names.empty()) names.push_back("none_found");
  return names;
}

void expect_case_matches(const fs::path& dir, double atol = 1e-5) {
  auto r = check_case(dir.string(), Tolerance{1e-4, atol}, 1);
  ASSERT_TRUE(r) << r.status().message();
  for (const DataSetResult& ds : r->data_sets)
    for (const OutputComparison& o : ds.outputs)
      EXPECT_TRUE(o.pass) << ds.name << " " << o.name << ": " << o.problem << " max abs " << o.max_abs_error
                          << " max rel " << o.max_rel_error;
}

class OnnxNodeCase : public ::testing::TestWithParam<std::string> {};

TEST_P(OnnxNodeCase, MatchesExpectedOutputs) {
  if (GetParam() == "none_found") GTEST_SKIP() << "no libonnx-testdata cases at " << kCases;
  const auto skip = known_unsupported().find(GetParam());
  if (skip != known_unsupported().end()) GTEST_SKIP() << skip->second;
  expect_case_matches(kCases / GetParam(), four_decimal_cases().count(GetParam()) ? 1e-4 : 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Backend, OnnxNodeCase, ::testing::ValuesIn(in_scope_names(all_cases())),
                         [](const auto& param_info) { return param_info.param; });

// ONNX's "simple" models (sequence ops chained, Expand, Sign, ...): those whose ops all have CPU kernels.
class OnnxSimpleCase : public ::testing::TestWithParam<std::string> {};

TEST_P(OnnxSimpleCase, MatchesExpectedOutputs) {
  if (GetParam() == "none_found") GTEST_SKIP() << "no libonnx-testdata cases at " << kSimpleCases;
  expect_case_matches(kSimpleCases / GetParam());
}

INSTANTIATE_TEST_SUITE_P(Simple, OnnxSimpleCase, ::testing::ValuesIn(in_scope_names(discover(kSimpleCases))),
                         [](const auto& param_info) { return param_info.param; });

TEST(OnnxNodeCases, SkipListNamesOnlyCasesInScope) {
  // A skip or tolerance entry for a case that is gone or out of scope is stale and would hide nothing.
  std::vector<std::string> named;
  for (const auto& [name, reason] : known_unsupported()) named.push_back(name);
  named.insert(named.end(), four_decimal_cases().begin(), four_decimal_cases().end());
  for (const std::string& name : named) {
    auto it = std::find_if(all_cases().begin(), all_cases().end(), [&](const Case& c) { return c.name == name; });
    ASSERT_NE(it, all_cases().end()) << name;
    EXPECT_TRUE(it->in_scope) << name << " is named but not in scope";
  }
}

}  // namespace
}  // namespace tandem
