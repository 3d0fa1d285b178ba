// What the partitioner's algorithms share: the constraints of one problem, the goal a search compares
// scores by, and the algorithms' entry points. Internal to the partitioner (partitioner.h is the API).
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "graph/status.h"
#include "partitioner/cost_model.h"
#include "partitioner/plan.h"
#include "partitioner/task_graph.h"

namespace tandem::partition::search {

inline constexpr double kInf = std::numeric_limits<double>::infinity();
inline constexpr int64_t kNoBudget = std::numeric_limits<int64_t>::max();

// Where each task may go: supported devices, narrowed by pins.
struct Problem {
  const TaskGraph* g = nullptr;
  std::vector<DeviceMask> allowed;
  int64_t budget = kNoBudget;  // GPU bytes
  bool movable(int t) const { return allowed[static_cast<std::size_t>(t)] == kBothDevices; }
  bool may(int t, Device d) const { return has(allowed[static_cast<std::size_t>(t)], d); }
};

// How a search compares two scores, and which scores it accepts.
struct Goal {
  Objective objective = Objective::kLatency;
  double latency_cap = kInf;       // the SLO, for kMemory
  int64_t memory_cap = kNoBudget;  // the GPU budget

  // No tolerance: a plan said to meet the SLO meets it under the cost model exactly.
  bool feasible(Score s) const { return s.latency_us <= latency_cap && s.peak_gpu_bytes <= memory_cap; }
  // Strictly better: the objective first, the other measure on ties.
  bool better(Score a, Score b) const {
    const double tol = 1e-9 * std::max(1.0, b.latency_us);
    if (objective == Objective::kLatency) {
      if (a.latency_us < b.latency_us - tol) return true;
      return a.latency_us <= b.latency_us + tol && a.peak_gpu_bytes < b.peak_gpu_bytes;
    }
    if (a.peak_gpu_bytes != b.peak_gpu_bytes) return a.peak_gpu_bytes < b.peak_gpu_bytes;
    return a.latency_us < b.latency_us - tol;
  }
};

// An assignment, its score, and a one-line reason per task for its device.
struct State {
  Assignment a;
  Score score;
  std::vector<std::string> reasons;
};

// Evaluation budget shared by the phases of one partition() call.
class Budget {
 public:
  Budget(const CostModel& cm, int64_t evaluations) : cm_(cm), end_(cm.evaluations() + evaluations) {}
  bool spent() const { return cm_.evaluations() >= end_; }
  int64_t left() const { return std::max<int64_t>(0, end_ - cm_.evaluations()); }

 private:
  const CostModel& cm_;
  int64_t end_;
};

// Graphs up to this many tasks get the full neighbourhoods (every task, every pair, every candidate
// measured); larger ones get the critical path and estimates.
inline constexpr int kSmallGraph = 64;

// Baselines (baselines.cc): "cpu", "gpu", "fallback".
Result<State> baseline(const Problem& p, std::string_view name);
std::vector<std::string> baseline_names();

// HEFT (heft.cc): an assignment with reasons; not scored.
State heft(const Problem& p, Lanes lanes);

// Local search (local_search.cc): improves `st` under `goal` until no move helps or the budget is spent.
// `st` must be feasible for `goal`.
void local_search(CostModel& cm, const Problem& p, const Goal& goal, Budget& budget, State& st);

// Memory reduction (memory_mode.cc): moves GPU tasks to the CPU, most bytes saved per added microsecond
// first, keeping latency <= latency_cap, until the peak is <= stop_at_bytes or nothing saves more.
// Returns whether the peak got to stop_at_bytes.
bool reduce_gpu_memory(CostModel& cm, const Problem& p, double latency_cap, int64_t stop_at_bytes,
                       Budget& budget, State& st);

// The other way round (memory_mode.cc, small graphs): from a plan over the SLO, moves CPU tasks to the GPU,
// most latency saved per GPU byte added first, until the latency is <= latency_cap. Returns whether it got
// there.
bool grow_until_slo(CostModel& cm, const Problem& p, double latency_cap, Budget& budget, State& st);

// Branch and bound (exact_solver.cc): the best feasible assignment under `goal`, or nullopt when none is
// feasible. `incumbent`, when given and feasible, seeds the bound. At most kMaxExactTasks tasks.
struct ExactStats {
  int64_t nodes = 0;
  int64_t leaves = 0;
};
std::optional<State> exact(CostModel& cm, const Problem& p, const Goal& goal, const State* incumbent,
                           ExactStats* stats);

// Formatting for reasons and notes: "12.3 us", "1.50 MiB".
std::string format_us(double us);
std::string format_bytes(int64_t bytes);
// "cpu 120 us, cuda 40 us" (or "cuda cannot run it").
std::string costs_of(const Task& t);

}  // namespace tandem::partition::search
