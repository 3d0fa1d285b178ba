// Issue 6's benchmark: does running a plan on two devices at once beat the best single device, does memory
// mode save the second device's memory, and does the measured latency match the cost model's prediction?
//
//   dual_device_bench MODEL.onnx... [--runs N] [--threads N] [--devices auto|cpu,cpu|cpu,cuda] [--chunks N]
//
// --chunks N makes the latency plan split the recurrent nodes N ways in time whatever its prediction (as
// `tandem partition --chunks N`), to measure one split against its prediction.
//
// For each model: profile on the two devices, plan (latency mode with its time-chunk choice; memory mode
// at an SLO of 1.25x the second-device-only latency; the single-device baselines), run every plan N times
// through a Session and print predicted against measured. The devices come from session/device_set.h, as
// the Session's do: the GPU when there is one (auto), else a CPU with its own threads standing in for it.
// Models: bench/models/make_bench_models.py. A plain program (no Google Benchmark) so it runs where only
// the built binary is carried.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <tandem/tandem.h>

#include "partitioner/partitioner.h"
#include "partitioner/time_chunks.h"
#include "profiler/link_fit.h"
#include "profiler/profile_model.h"
#include "runtime_cpu/cpu_device.h"
#include "session/device_set.h"
#include "session/model_impl.h"
#include "session/random_inputs.h"
#include "session/session_impl.h"

namespace tandem {
namespace {

struct Measured {
  double median_ms = 0;
  int64_t second_peak_bytes = 0;  // the second device's peak live activations (the executor's tally)
  // The second device's allocator over the timed runs (a GPU's: weights, activations and workspace).
  std::optional<DeviceMemoryUsage> second_allocator;
};

[[noreturn]] void fail(const std::string& what) {
  std::cerr << "dual_device_bench: " << what << "\n";
  std::exit(1);
}

Measured run_plan(const std::string& model, const partition::Plan& plan, int threads, const std::string& devices,
                  int runs, const std::vector<const Tensor*>& feeds) {
  const std::string path = (std::filesystem::temp_directory_path() / "tandem_dual_bench_plan.json").string();
  if (!partition::save_plan(plan, path).is_ok()) fail("cannot write " + path);
  SessionOptions o;
  o.threads = threads;
  o.plan_path = path;
  o.devices = devices;
  Session session(model, o);
  const PlanExecutor& ex = *session.impl().plan_executor;
  std::vector<double> ms;
  Measured m;
  for (int r = 0; r < runs + 2; ++r) {  // two warm-up runs
    if (r == 2)
      for (const Device* d : ex.devices()) d->reset_memory_peaks();
    PlanRunStats stats;
    PlanRunOptions opts;
    opts.stats = &stats;
    const auto t0 = std::chrono::steady_clock::now();
    auto outs = ex.run(feeds, opts);
    const auto t1 = std::chrono::steady_clock::now();
    if (!outs) fail(model + ": " + outs.status().message());
    if (r < 2) continue;
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    if (stats.devices.size() > 1) m.second_peak_bytes = std::max(m.second_peak_bytes, stats.devices[1].peak_bytes);
  }
  std::sort(ms.begin(), ms.end());
  m.median_ms = ms[ms.size() / 2];
  if (ex.devices().size() > 1) m.second_allocator = ex.devices()[1]->memory_usage();
  return m;
}

void bench_model(const std::string& path, int threads, const std::string& option, const DeviceSet& devices,
                 int runs, int chunks) {
  Model model = Model::load(path);
  const ModelIR& ir = model.impl().ir;
  const Graph& g = *ir.graph;
  std::vector<Tensor> inputs;
  std::vector<const Tensor*> feeds;
  inputs.reserve(g.inputs().size());
  for (std::size_t k = 0; k < g.inputs().size(); ++k) {
    const Value& v = g.value(g.inputs()[k]);
    inputs.push_back(v.data ? Tensor() : random_input(v, 1 + k).tensor);
    feeds.push_back(inputs.back().defined() ? &inputs.back() : nullptr);
  }

  // Profile: on the same kind of devices, with the same threads, as the Session builds for the plans.
  profiler::ProfileRequest r;
  r.model = &ir;
  r.inputs = inputs;
  r.devices = {{"cpu", &devices.cpu()}, {"cuda", devices.second()}};
  r.machine.threads = static_cast<const cpu::CpuDevice&>(devices.cpu()).threads();
  r.timing = profiler::TimingOptions{2, 5, 30, 300, 0.03};
  r.links = devices.link_timers();
  r.link_sizes = profiler::calibration_sizes(4, 4 << 20);
  std::cerr << "profiling " << path << " ...\n";
  auto profile = profiler::profile_model(r);
  if (!profile) fail(path + ": " + profile.status().message());

  auto tasks = partition::build_task_graph(g, *profile);
  if (!tasks) fail(path + ": " + tasks.status().message());
  auto baseline = [&](const std::string& name) {
    partition::PartitionOptions o;
    o.baseline = name;
    auto p = partition::partition(*tasks, o);
    if (!p) fail(path + ": baseline " + name + ": " + p.status().message());
    return *p;
  };
  const partition::Plan cpu_only = baseline("cpu"), second_only = baseline("gpu");
  auto latency = chunks > 0 ? partition::choose_time_chunks(g, *profile, partition::PartitionOptions{}, {chunks}, -1)
                            : partition::choose_time_chunks(g, *profile, partition::PartitionOptions{});
  if (!latency) fail(path + ": " + latency.status().message());
  partition::PartitionOptions mem;
  mem.objective = partition::Objective::kMemory;
  mem.slo_us = 1.25 * second_only.predicted_latency_us;
  auto memory = partition::partition(*tasks, mem);
  if (!memory) fail(path + ": " + memory.status().message());

  struct Row {
    std::string name;
    const partition::Plan* plan;
    Measured m;
  };
  std::vector<Row> rows = {{"cpu only", &cpu_only, {}},
                           {"second only", &second_only, {}},
                           {latency->split_directions ? std::string("latency (directions)")
                                                       : "latency (" + std::to_string(latency->chunks) + " chunks)",
                            &latency->plan, {}},
                           {"memory @1.25x", &*memory, {}}};
  for (Row& row : rows) {
    std::cerr << "  running " << row.name << " ...\n";
    row.m = run_plan(path, *row.plan, threads, option, runs, feeds);
  }

  const double best_single_measured = std::min(rows[0].m.median_ms, rows[1].m.median_ms);
  const double best_single_predicted =
      std::min(cpu_only.predicted_latency_us, second_only.predicted_latency_us) / 1e3;
  std::printf("\n%s\n", path.c_str());
  // Memory columns: the second device's activations (plan vs the executor's tally) and, where it has an
  // allocator of its own (the GPU), its whole peak (plan's weights + activations + workspace vs the
  // allocator's account).
  auto mib = [](int64_t b) { return static_cast<double>(b) / (1 << 20); };
  std::printf("  %-22s %12s %12s %10s %13s %13s %13s %13s\n", "plan", "predicted ms", "measured ms", "meas/pred",
              "pred act MiB", "meas act MiB", "pred 2nd MiB", "alloc 2nd MiB");
  for (const Row& row : rows) {
    std::printf("  %-22s %12.3f %12.3f %10.2f %13.3f %13.3f %13.3f", row.name.c_str(),
                row.plan->predicted_latency_us / 1e3, row.m.median_ms,
                row.m.median_ms / (row.plan->predicted_latency_us / 1e3), mib(row.plan->gpu_activation_bytes),
                mib(row.m.second_peak_bytes), mib(row.plan->predicted_peak_gpu_bytes));
    if (row.m.second_allocator) std::printf(" %13.3f\n", mib(row.m.second_allocator->total.peak));
    else std::printf(" %13s\n", "n/a");
  }
  std::printf("  latency mode vs best single device: predicted %.1f%% lower, measured %.1f%% lower\n",
              100 * (1 - latency->plan.predicted_latency_us / 1e3 / best_single_predicted),
              100 * (1 - rows[2].m.median_ms / best_single_measured));
  auto less = [](int64_t a, int64_t b) { return b > 0 ? 100 * (1 - static_cast<double>(a) / static_cast<double>(b)) : 0.0; };
  std::printf("  memory mode vs second-device-only memory: predicted %.1f%% less",
              less(memory->predicted_peak_gpu_bytes, second_only.predicted_peak_gpu_bytes));
  if (rows[1].m.second_allocator && rows[3].m.second_allocator)
    std::printf(", measured by the allocator %.1f%% less",
                less(rows[3].m.second_allocator->total.peak, rows[1].m.second_allocator->total.peak));
  std::printf("\n");
}

}  // namespace
}  // namespace tandem

int main(int argc, char** argv) {
  int runs = 20, threads = static_cast<int>(std::max(2u, std::thread::hardware_concurrency())), chunks = 0;
  std::string option = "auto";
  std::vector<std::string> models;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "--runs" || a == "--threads") && i + 1 < argc) (a == "--runs" ? runs : threads) = std::atoi(argv[++i]);
    else if (a == "--devices" && i + 1 < argc) option = argv[++i];
    else if (a == "--chunks" && i + 1 < argc) chunks = std::atoi(argv[++i]);
    else models.push_back(a);
  }
  if (models.empty() || runs < 1 || threads < 2 || option == "cpu" || chunks < 0) {
    std::cerr << "usage: dual_device_bench MODEL.onnx... [--runs N] [--threads N>=2] [--devices auto|cpu,cpu|cpu,cuda] [--chunks N]\n";
    return 2;
  }
  auto devices = tandem::make_device_set(option, threads);
  if (!devices) {
    std::cerr << "dual_device_bench: " << devices.status().message() << "\n";
    return 2;
  }
  if (!devices->note.empty()) std::cerr << "dual_device_bench: the plans' cuda nodes: " << devices->note << "\n";
  // Said once here: the sessions that run the plans are given the choice by name, so they stay quiet.
  const std::string chosen = devices->stand_in() ? "cpu,cpu" : "cpu,cuda";
  if (devices->stand_in())
    std::printf("dual_device_bench: the second device is '%s', a CPU with %d of %d threads standing in for the GPU\n",
                devices->second()->name().c_str(),
                static_cast<const tandem::cpu::CpuDevice*>(devices->second())->threads(), threads);
  else
    std::printf("dual_device_bench: the second device is the GPU %s ('%s')\n", devices->gpu.name.c_str(),
                devices->second()->name().c_str());
  try {
    for (const std::string& m : models) tandem::bench_model(m, threads, chosen, *devices, runs, chunks);
  } catch (const tandem::Error& e) {
    std::cerr << "dual_device_bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
