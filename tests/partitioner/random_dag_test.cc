// The heuristics against the exact solver on 500 random DAGs of up to 12 tasks (fixed seeds), some with pins
// and GPU budgets: every plan valid (dependencies, lanes, copies, supported devices, pins, budget, the cost
// model's own numbers), the exact solver never beaten, the heuristic within 10% of the optimum on at least
// 95% of them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "partitioner/partitioner.h"
#include "partitioner/random_dag.h"
#include "tests/partitioner/plan_checks.h"

namespace tandem::partition {
namespace {

using testing::ExpectValidPlan;

constexpr int kGraphs = 500;

// Seed-dependent shapes: 3..12 tasks, sparse to dense, GPU faster or slower, transfers cheap or dear.
RandomDagOptions options_for(int seed) {
  RandomDagOptions o;
  o.tasks = 3 + seed % 10;
  o.edge_probability = 0.15 + 0.1 * (seed % 4);
  o.gpu_speedup_min = seed % 3 == 0 ? 0.2 : 0.5;
  o.gpu_speedup_max = seed % 3 == 0 ? 3 : 10;
  if (seed % 5 == 0) o.to_gpu = o.to_cpu = Link{20, 1000};  // transfer-dominated
  return o;
}

Lanes lanes_for(int seed) { return seed % 7 == 3 ? Lanes{2, 2} : Lanes{1, 1}; }

void print_distribution(const char* what, std::vector<double> gaps) {
  std::sort(gaps.begin(), gaps.end());
  auto at = [&](double q) {
    return gaps[static_cast<std::size_t>(q * static_cast<double>(gaps.size() - 1))];
  };
  const auto exact = std::count_if(gaps.begin(), gaps.end(), [](double g) { return g <= 1e-9; });
  std::printf(
      "%s gap to the exact optimum over %zu graphs: optimal %ld, median %.2f%%, p90 %.2f%%, "
      "p95 %.2f%%, p99 %.2f%%, max %.2f%%\n",
      what, gaps.size(), static_cast<long>(exact), 100 * at(0.5), 100 * at(0.9), 100 * at(0.95),
      100 * at(0.99), 100 * gaps.back());
}

// Some graphs carry a pin (every 6th) or a GPU budget of half the `gpu` baseline's peak (every 4th).
PartitionOptions constraints_for(int seed, const TaskGraph& g) {
  PartitionOptions o;
  o.lanes = lanes_for(seed);
  if (seed % 6 == 1) o.pins[g.task(g.num_tasks() - 1).name] = Device::kCpu;
  if (seed % 4 == 2) {
    PartitionOptions b = o;
    b.baseline = "gpu";
    o.gpu_budget_bytes = partition(g, b).value().predicted_peak_gpu_bytes / 2;
  }
  return o;
}

TEST(RandomDags, LatencyHeuristicIsValidAndNearTheExactOptimum) {
  std::vector<double> gaps;
  int infeasible = 0;
  for (int seed = 0; seed < kGraphs; ++seed) {
    const TaskGraph g = random_dag(options_for(seed), static_cast<uint64_t>(seed));
    PartitionOptions o = constraints_for(seed, g);
    const std::string what = "seed " + std::to_string(seed);
    auto heuristic = partition(g, o);
    o.exact = true;
    auto exact = partition(g, o);
    // A budget below what the GPU-only nodes need fails both, with the same message.
    ASSERT_EQ(heuristic.is_ok(), exact.is_ok()) << what;
    if (!exact.is_ok()) {
      ASSERT_TRUE(o.gpu_budget_bytes) << what << ": " << exact.status().message();
      EXPECT_EQ(heuristic.status().message(), exact.status().message());
      ++infeasible;
      continue;
    }
    if (!ExpectValidPlan(g, *heuristic, o, what + " heuristic") ||
        !ExpectValidPlan(g, *exact, o, what + " exact"))
      return;
    // The oracle searches every assignment, so nothing beats it under the same cost model.
    ASSERT_LE(exact->predicted_latency_us, heuristic->predicted_latency_us * (1 + 1e-12)) << what;
    // Nor does any baseline (held to the same pins and budget, when it fits at all).
    for (const std::string& b : baseline_names()) {
      PartitionOptions bo = o;
      bo.exact = false;
      bo.baseline = b;
      auto base = partition(g, bo);
      if (!base.is_ok()) continue;
      ExpectValidPlan(g, *base, bo, what + " baseline " + b);
      ASSERT_LE(exact->predicted_latency_us, base->predicted_latency_us * (1 + 1e-12)) << what << " " << b;
      ASSERT_LE(heuristic->predicted_latency_us, base->predicted_latency_us * (1 + 1e-12))
          << what << ": the heuristic starts from " << b << ", so it is never worse";
    }
    gaps.push_back(heuristic->predicted_latency_us / exact->predicted_latency_us - 1);
  }
  print_distribution("latency", gaps);
  EXPECT_LT(infeasible, kGraphs / 20);  // the budgets are meant to bind, not to rule most graphs out
  const auto within = std::count_if(gaps.begin(), gaps.end(), [](double g) { return g <= 0.10; });
  EXPECT_GE(within, static_cast<long>(gaps.size()) * 95 / 100)
      << "heuristic within 10% on only " << within << " of " << gaps.size();
}

// The exact solver against brute force (every assignment through the cost model) on graphs of up to 10
// tasks: its pruning must never cut off the optimum. The heuristic seeds its bound, so graphs where the
// heuristic is not optimal are the ones that catch over-eager pruning.
TEST(RandomDags, ExactSolverMatchesBruteForce) {
  for (int seed = 0; seed < 200; ++seed) {
    RandomDagOptions r = options_for(seed);
    r.tasks = 3 + seed % 8;
    const TaskGraph g = random_dag(r, static_cast<uint64_t>(5000 + seed));
    const Lanes lanes = lanes_for(seed);
    CostModel cm(g, lanes);
    const std::size_t n = static_cast<std::size_t>(g.num_tasks());
    double best_latency = 1e300;
    std::vector<Score> all;
    for (uint32_t bits = 0; bits < (1u << n); ++bits) {
      Assignment a(n);
      bool ok = true;
      for (std::size_t t = 0; t < n; ++t) {
        a[t] = (bits >> t) & 1 ? Device::kGpu : Device::kCpu;
        ok = ok && g.task(static_cast<int>(t)).supports(a[t]);
      }
      if (!ok) continue;
      all.push_back(cm.score(a));
      best_latency = std::min(best_latency, all.back().latency_us);
    }
    PartitionOptions o;
    o.lanes = lanes;
    o.exact = true;
    auto exact = partition(g, o);
    ASSERT_TRUE(exact.is_ok());
    ASSERT_DOUBLE_EQ(exact->predicted_latency_us, best_latency) << "seed " << seed;

    const double slo = best_latency * (1.0 + 0.1 * (seed % 5));
    int64_t best_peak = INT64_MAX;
    for (const Score& s : all)
      if (s.latency_us <= slo) best_peak = std::min(best_peak, s.peak_gpu_bytes);
    o.objective = Objective::kMemory;
    o.slo_us = slo;
    exact = partition(g, o);
    ASSERT_TRUE(exact.is_ok());
    ASSERT_TRUE(exact->slo_met);
    // The exact solver optimises the cost model's score (the plan itself reports the static memory plan).
    auto chosen = assignment_from_plan(g, *exact);
    ASSERT_TRUE(chosen.is_ok());
    ASSERT_EQ(cm.score(*chosen).peak_gpu_bytes, best_peak) << "seed " << seed;
  }
}

// Memory under an SLO between the fastest latency and 1.5 times it, with a GPU budget on some graphs and a
// pin on others: the plan meets the SLO whenever it says so, respects the budget and the pins, and the
// exact solver's peak is never above the heuristic's.
TEST(RandomDags, MemoryModeNeverClaimsAnSloItMissesAndTracksTheExactSolver) {
  std::vector<double> gaps;
  int heuristic_missed = 0;
  for (int seed = 0; seed < kGraphs; ++seed) {
    const TaskGraph g = random_dag(options_for(seed), static_cast<uint64_t>(1000 + seed));
    PartitionOptions o;
    o.lanes = lanes_for(seed);
    o.exact = true;
    auto fastest = partition(g, o);
    ASSERT_TRUE(fastest.is_ok()) << fastest.status().message();
    o.exact = false;
    o.objective = Objective::kMemory;
    o.slo_us = fastest->predicted_latency_us * (1.0 + 0.05 * (seed % 11));
    if (seed % 4 == 1) o.gpu_budget_bytes = fastest->predicted_peak_gpu_bytes;
    if (seed % 6 == 2) o.pins[g.task(0).name] = Device::kCpu;
    const std::string what = "seed " + std::to_string(seed);

    auto heuristic = partition(g, o);
    ASSERT_TRUE(heuristic.is_ok()) << what << ": " << heuristic.status().message();
    o.exact = true;
    auto exact = partition(g, o);
    ASSERT_TRUE(exact.is_ok()) << what << ": " << exact.status().message();
    if (!ExpectValidPlan(g, *heuristic, o, what + " heuristic") ||
        !ExpectValidPlan(g, *exact, o, what + " exact"))
      return;
    // Under its own cost model, a plan that says it meets the SLO does.
    if (heuristic->slo_met) {
      ASSERT_LE(heuristic->predicted_latency_us, *o.slo_us) << what;
    }
    if (exact->slo_met) {
      ASSERT_LE(exact->predicted_latency_us, *o.slo_us) << what;
    }
    if (!heuristic->slo_met) {
      ASSERT_FALSE(heuristic->notes.empty()) << what << ": a missed SLO must be said";
      if (exact->slo_met) ++heuristic_missed;
    }
    if (o.pins.empty() && !o.gpu_budget_bytes) {
      // Without pins or budget the SLO is at least the exact optimum, so the exact solver meets it.
      ASSERT_TRUE(exact->slo_met) << what;
    }
    if (exact->slo_met && heuristic->slo_met) {
      // Both search the cost model's estimate of peak memory; compare them on it.
      CostModel cm(g, o.lanes);
      auto searched = [&](const Plan& plan) {
        auto a = assignment_from_plan(g, plan);
        return a.is_ok() ? cm.score(*a).peak_gpu_bytes : INT64_MAX;
      };
      const int64_t exact_peak = searched(*exact), heuristic_peak = searched(*heuristic);
      ASSERT_LE(exact_peak, heuristic_peak) << what;
      const double base = std::max<double>(1.0, static_cast<double>(exact_peak));
      gaps.push_back(static_cast<double>(heuristic_peak - exact_peak) / base);
    }
  }
  print_distribution("peak GPU memory", gaps);
  std::printf("memory mode: the heuristic missed an SLO the exact solver met on %d of %d graphs\n",
              heuristic_missed, kGraphs);
  const auto within = std::count_if(gaps.begin(), gaps.end(), [](double g) { return g <= 0.10; });
  EXPECT_GE(within, static_cast<long>(gaps.size()) * 90 / 100);
  EXPECT_LE(heuristic_missed, kGraphs / 20);
}

}  // namespace
}  // namespace tandem::partition
