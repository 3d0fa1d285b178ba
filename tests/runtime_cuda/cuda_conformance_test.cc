// ONNX's backend node cases (libonnx-testdata) on the GPU: every case with a node the CudaDevice takes
// runs on a plan that puts each such node on the GPU and the rest on the CPU, and its outputs must match
// the CPU device's on the case's own inputs (the CPU itself is held to ONNX's expected outputs by
// conformance/onnx_node_test). The GPU machine has no Debian packages: tools/gpu_check.sh carries the
// cases and names their folder in TANDEM_ONNX_NODE_CASES.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "graph/topo_order.h"
#include "onnx_import/onnx_import.h"
#include "runtime/executor.h"
#include "runtime/placement.h"
#include "runtime/plan_executor.h"
#include "runtime_cpu/cpu_device.h"
#include "runtime_cuda/cuda_device.h"
#include "runtime_cuda/cuda_probe.h"
#include "session/case_check.h"
#include "session/tensor_io.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

fs::path cases_folder() {
  const char* env = std::getenv("TANDEM_ONNX_NODE_CASES");
  return env && *env ? fs::path(env) : fs::path("/usr/share/libonnx-testdata/data/node");
}

// A case the GPU takes part in: its graph, which nodes the GPU supports, and its first data set's inputs.
struct GpuCase {
  std::string name;
  ModelIR ir;
  Placement placement;  // device 1 (the GPU) for every node it supports, device 0 (the CPU) otherwise
  std::size_t on_gpu = 0;
};

// Every case whose model imports, whose nodes all have CPU kernels and of which the GPU supports at least
// one node, sorted by name. supports() needs no GPU, so this list is the same on every machine.
std::vector<GpuCase> gpu_cases(const fs::path& root) {
  std::vector<GpuCase> cases;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return cases;
  const cpu::CpuDevice cpu;
  const cuda::CudaDevice gpu;
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(root))
    if (fs::is_regular_file(e.path() / "model.onnx")) dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end());
  for (const fs::path& dir : dirs) {
    auto ir = onnx_import::import_model((dir / "model.onnx").string());
    if (!ir) continue;
    const Graph& g = *ir->graph;
    auto order = topological_order(g);
    if (!order) continue;
    GpuCase c{dir.filename().string(), std::move(ir).value(), {}, 0};
    c.placement.device.assign(g.num_nodes(), 0);
    c.placement.order.resize(2);
    bool cpu_runs_all = true;
    for (NodeId id : *order) {
      cpu_runs_all = cpu_runs_all && cpu.supports(g, id).ok;
      const int d = gpu.supports(g, id).ok ? 1 : 0;
      c.placement.device[static_cast<std::size_t>(id)] = d;
      c.placement.order[static_cast<std::size_t>(d)].push_back(id);
      c.on_gpu += static_cast<std::size_t>(d);
    }
    if (cpu_runs_all && c.on_gpu > 0) cases.push_back(std::move(c));
  }
  return cases;
}

// Without a GPU too: the GPU's supports() takes part in hundreds of ONNX's node cases. A floor, not the
// count (284 cases, 185 of them wholly on the GPU, on 2026-11-22): a change to supports() that refused
// whole op families would otherwise shrink what the GPU test below covers without a word.
TEST(CudaConformanceNoGpu, TheGpuTakesPartInHundredsOfOnnxNodeCases) {
  if (!fs::is_directory(cases_folder())) GTEST_SKIP() << "no ONNX node cases at " << cases_folder();
  const std::vector<GpuCase> cases = gpu_cases(cases_folder());
  std::size_t whole = 0;
  for (const GpuCase& c : cases) whole += c.on_gpu == c.ir.graph->num_nodes() ? 1 : 0;
  EXPECT_GE(cases.size(), 250u);
  EXPECT_GE(whole, 150u) << "cases whose every node runs on the GPU";
}

TEST(CudaConformance, EveryNodeCaseTheGpuTakesPartInMatchesTheCpu) {
  const cuda::CudaProbe probe = cuda::probe_cuda();
  if (probe.gpus.empty()) GTEST_SKIP() << "no CUDA GPU: " << probe.reason;
  // On a GPU machine the cases must be there (gpu_check.sh carries them): their absence fails, not skips.
  ASSERT_TRUE(fs::is_directory(cases_folder()))
      << "no ONNX node cases at " << cases_folder() << " (set TANDEM_ONNX_NODE_CASES)";
  const std::vector<GpuCase> cases = gpu_cases(cases_folder());
  ASSERT_FALSE(cases.empty());
  const cpu::CpuDevice cpu;
  const cuda::CudaDevice gpu;  // one for every case: its caching pool and cuBLAS handles are reused
  std::size_t ran = 0;
  std::vector<std::string> failed;
  for (const GpuCase& c : cases) {
    SCOPED_TRACE(c.name);
    const Graph& g = *c.ir.graph;
    // The first data set's inputs, by name where the files carry one (else in order).
    std::vector<Tensor> inputs(g.inputs().size());
    bool readable = true;
    for (std::size_t j = 0; readable; ++j) {
      const fs::path p = cases_folder() / c.name / "test_data_set_0" / ("input_" + std::to_string(j) + ".pb");
      if (!fs::exists(p)) break;
      auto t = read_tensor_file(p.string());
      if (!t) {
        readable = false;  // a sequence or optional: the GPU takes no node of such a case's values anyway
        break;
      }
      std::size_t k = j;
      for (std::size_t q = 0; q < g.inputs().size(); ++q)
        if (!t->name.empty() && g.value(g.inputs()[q]).name == t->name) k = q;
      if (k < inputs.size()) inputs[k] = std::move(t->tensor);
    }
    if (!readable) continue;
    const std::vector<const Tensor*> feeds = pointers_to(inputs);

    // A case that fails is reported and the loop goes on (EXPECT, not ASSERT): on a first GPU run, one
    // failing case must not hide what every case after it would say.
    auto cpu_ex = GraphExecutor::compile(g, cpu);
    if (!cpu_ex) {
      ADD_FAILURE() << "CPU compile: " << cpu_ex.status().message();
      continue;
    }
    auto want = (*cpu_ex)->run(feeds);
    if (!want) continue;  // a case the CPU refuses on purpose (onnx_node_test lists them)
    ++ran;
    auto ex = PlanExecutor::compile(g, {&cpu, &gpu}, c.placement);
    if (!ex) {
      ADD_FAILURE() << "plan compile: " << ex.status().message();
      failed.push_back(c.name);
      continue;
    }
    bool ok = true;
    for (int rep = 0; rep < 2 && ok; ++rep) {  // the second run reuses cached blocks and workspaces
      auto got = (*ex)->run(feeds);
      if (!got || got->size() != want->size()) {
        ADD_FAILURE() << "run " << rep << ": "
                      << (got ? "output count " + std::to_string(got->size()) : got.status().message());
        ok = false;
        break;
      }
      for (std::size_t k = 0; k < want->size(); ++k) {
        const OutputComparison o =
            compare_values(g.value(g.outputs()[k]).name, (*got)[k], (*want)[k], Tolerance{1e-4, 1e-5});
        EXPECT_TRUE(o.pass) << "output " << o.name << ": " << o.problem << " max abs " << o.max_abs_error
                            << " max rel " << o.max_rel_error;
        ok = ok && o.pass;
      }
    }
    if (!ok) failed.push_back(c.name);
  }
  std::printf("%zu ONNX node cases ran with GPU nodes (of %zu the GPU takes part in), %zu failed\n", ran,
              cases.size(), failed.size());
  for (const std::string& name : failed) std::printf("  failed: %s\n", name.c_str());
  EXPECT_GE(ran, cases.size() * 9 / 10) << "most cases must run, not be passed over";
}

}  // namespace
}  // namespace tandem
