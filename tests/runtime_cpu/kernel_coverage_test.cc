// Every operator of ONNX's default domain that the installed libonnx defines (opsets up to 17) has a CPU
// kernel: a new op without one fails this test rather than a user's model. (Ops of opsets 18 to 26, whose
// schemas are tandem's own, are checked per opset in tests/onnx_import/schema_registry_test.cc and
// tests/conformance/newer_opset_cases_test.cc.)
#include <gtest/gtest.h>

#include <set>
#include <string>

#include <onnx/defs/schema.h>

#include "runtime_cpu/kernel_registry.h"

namespace tandem {
namespace {

TEST(KernelCoverage, EveryDefaultDomainOpHasACpuKernel) {
  std::set<std::string> checked, missing;
  for (const onnx::OpSchema& s : onnx::OpSchemaRegistry::get_all_schemas()) {
    if (!s.domain().empty() || s.Deprecated()) continue;
    checked.insert(s.Name());
    if (!cpu::cpu_kernels().find("", s.Name())) missing.insert(s.Name());
  }
  EXPECT_GT(checked.size(), 170u);  // libonnx 1.12 defines 176 (deprecated ones left out)
  std::string names;
  for (const std::string& op : missing) names += " " + op;
  EXPECT_TRUE(missing.empty()) << "default-domain ops without a CPU kernel:" << names;
}

}  // namespace
}  // namespace tandem
