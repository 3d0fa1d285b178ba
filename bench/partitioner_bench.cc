// Partitioner benchmarks: a 10,000-node random layered DAG per mode (target: under 1 s each on the 2-core
// dev machine), one cost-model evaluation of it, and, after the timings, the distribution of the
// heuristic's gap to the exact solver on small random DAGs.
//
//   ninja -C build partitioner_bench && build/bench/partitioner_bench
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "partitioner/partitioner.h"
#include "partitioner/random_dag.h"

namespace tandem::partition {
namespace {

const TaskGraph& layered_dag() {
  static const TaskGraph g = [] {
    RandomDagOptions o;
    o.tasks = 10'000;
    o.layers = 100;
    return random_dag(o, 42);
  }();
  return g;
}

double fastest_latency() {
  static const double latency = [] { return partition(layered_dag(), {}).value().predicted_latency_us; }();
  return latency;
}

void report(benchmark::State& state, const Plan& p) {
  PartitionOptions fallback;
  fallback.baseline = "fallback";
  static const Plan base = partition(layered_dag(), fallback).value();
  state.counters["latency_ms"] = p.predicted_latency_us / 1000;
  state.counters["peak_gpu_GiB"] = static_cast<double>(p.predicted_peak_gpu_bytes) / (1 << 30);
  state.counters["vs_fallback_latency"] = p.predicted_latency_us / base.predicted_latency_us;
  state.counters["vs_fallback_memory"] =
      static_cast<double>(p.predicted_peak_gpu_bytes) / static_cast<double>(base.predicted_peak_gpu_bytes);
}

void BM_PartitionLatency10k(benchmark::State& state) {
  const TaskGraph& g = layered_dag();
  Plan plan;
  for (auto _ : state) plan = partition(g, {}).value();
  report(state, plan);
}
BENCHMARK(BM_PartitionLatency10k)->Unit(benchmark::kMillisecond)->MinTime(2);

void BM_PartitionMemory10k(benchmark::State& state) {
  const TaskGraph& g = layered_dag();
  PartitionOptions o;
  o.objective = Objective::kMemory;
  o.slo_us = fastest_latency() * 1.2;
  Plan plan;
  for (auto _ : state) plan = partition(g, o).value();
  report(state, plan);
  state.counters["slo_met"] = plan.slo_met;
}
BENCHMARK(BM_PartitionMemory10k)->Unit(benchmark::kMillisecond)->MinTime(2);

void BM_Baseline10k(benchmark::State& state) {
  PartitionOptions o;
  o.baseline = "fallback";
  for (auto _ : state) benchmark::DoNotOptimize(partition(layered_dag(), o).value());
}
BENCHMARK(BM_Baseline10k)->Unit(benchmark::kMillisecond);

void BM_CostModelScore10k(benchmark::State& state) {
  const TaskGraph& g = layered_dag();
  CostModel cm(g);
  Assignment a(static_cast<std::size_t>(g.num_tasks()), Device::kCpu);
  for (int t = 0; t < g.num_tasks(); ++t)
    if (g.task(t).supports(Device::kGpu) && t % 2) a[static_cast<std::size_t>(t)] = Device::kGpu;
  for (auto _ : state) benchmark::DoNotOptimize(cm.score(a));
}
BENCHMARK(BM_CostModelScore10k)->Unit(benchmark::kMillisecond);

// Gap of the heuristic to the exact optimum, per objective, on `count` random DAGs of 4..`max_tasks` tasks.
void print_gaps(int count, int max_tasks) {
  std::vector<double> latency, memory;
  for (int seed = 0; seed < count; ++seed) {
    RandomDagOptions r;
    r.tasks = 4 + seed % (max_tasks - 3);
    r.edge_probability = 0.15 + 0.1 * (seed % 4);
    if (seed % 5 == 0) r.to_gpu = r.to_cpu = Link{20, 1000};
    const TaskGraph g = random_dag(r, static_cast<uint64_t>(seed) + 7777);
    PartitionOptions o;
    const double h = partition(g, o).value().predicted_latency_us;
    o.exact = true;
    const double e = partition(g, o).value().predicted_latency_us;
    latency.push_back(h / e - 1);
    o.objective = Objective::kMemory;
    o.slo_us = e * 1.25;
    const Plan em = partition(g, o).value();
    o.exact = false;
    const Plan hm = partition(g, o).value();
    if (em.slo_met && hm.slo_met)
      memory.push_back(static_cast<double>(hm.predicted_peak_gpu_bytes - em.predicted_peak_gpu_bytes) /
                       std::max<double>(1.0, static_cast<double>(em.predicted_peak_gpu_bytes)));
  }
  auto print = [&](const char* what, std::vector<double> gaps) {
    std::sort(gaps.begin(), gaps.end());
    auto at = [&](double q) {
      return 100 * gaps[static_cast<std::size_t>(q * static_cast<double>(gaps.size() - 1))];
    };
    const long optimal = std::count_if(gaps.begin(), gaps.end(), [](double x) { return x <= 1e-9; });
    const long within10 = std::count_if(gaps.begin(), gaps.end(), [](double x) { return x <= 0.10; });
    std::printf(
        "%-16s %4zu DAGs: optimal %5.1f%%, within 10%% %5.1f%% | gap median %.2f%% p90 %.2f%% p95 %.2f%% "
        "p99 %.2f%% max %.2f%%\n",
        what, gaps.size(), 100.0 * static_cast<double>(optimal) / static_cast<double>(gaps.size()),
        100.0 * static_cast<double>(within10) / static_cast<double>(gaps.size()), at(0.5), at(0.9), at(0.95),
        at(0.99), at(1.0));
  };
  std::printf("\nHeuristic vs exact solver, %d random DAGs of 4..%d tasks (memory: SLO = 1.25 x optimum):\n",
              count, max_tasks);
  print("latency", latency);
  print("peak GPU memory", memory);
}

}  // namespace
}  // namespace tandem::partition

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  tandem::partition::print_gaps(300, 16);
  return 0;
}
