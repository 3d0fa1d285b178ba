// The partitioner: which device runs each node, for the least latency or for the least GPU memory under a
// latency SLO.
//
// How it works (every prediction comes from the one cost model, cost_model.h):
//
//  1. Constraints. Each task may use the devices that support it; a user pin (NODE=cpu) narrows that to
//     one. A GPU memory budget caps the predicted peak GPU memory. Every algorithm below, baselines
//     included, honours both, or fails saying which node or budget makes it impossible.
//  2. A plan is an assignment. The cost model derives the order, lanes, copies and times from the device
//     per task (list scheduling by upward rank with insertion), so the algorithms search over
//     assignments only, and a Plan is the cost model's schedule of the assignment they pick.
//  3. Baselines: `cpu` (everything on the CPU), `gpu` (every task the GPU supports on the GPU, the rest
//     on the CPU), `fallback` (ONNX Runtime's policy: the GPU where supported, except shape arithmetic,
//     which it keeps on the CPU).
//  4. Latency: HEFT. Tasks in descending upward rank (average cost over the devices a task may use, plus
//     the expected copy on each edge); each goes to the device and lane where it finishes earliest,
//     counting the copies its inputs need and idle gaps it can be inserted into.
//  5. Budget repair. If the assignment exceeds the GPU budget, tasks move to the CPU by step 7's rule
//     until it fits (no latency cap).
//  6. Local search. Move one task to the other device, or swap two tasks on different devices, and keep
//     any change that improves the objective (latency, then peak memory) within the constraints; repeat
//     until nothing improves. Small graphs try every task and pair, starting from HEFT's plan and from
//     each baseline; large graphs improve the best of those four, trying the tasks on and next to the
//     current critical path, within an evaluation budget that keeps 10,000 tasks well under a second.
//  7. Memory under an SLO. Start from the latency plan; then move to the CPU, one at a time, the GPU
//     task that saves the most GPU bytes per added microsecond while the predicted latency stays within
//     the SLO (small graphs measure every candidate each step; large graphs rank them by an estimate and
//     try them in batches that grow while accepted); then local search with the objective (peak memory,
//     then latency). Small graphs also start from the other end (everything it can on the CPU, then to
//     the GPU what buys the most time per byte until the SLO holds) and keep the better. If no plan found
//     meets the SLO, the plan says so in its notes and is the fastest found (slo_met false).
//  8. Exact (--exact, tests' oracle). Branch and bound over assignments in topological order, for up to
//     kMaxExactTasks tasks. Lower bounds on a partial assignment: the critical path with every unassigned
//     task on its best device and copies only where a dependency must cross; the CPU and GPU loads as a
//     fractional relaxation; for memory, the weights of the GPU tasks plus the largest inputs+outputs
//     and workspace of any one of them. The heuristic's plan is the first incumbent. Exact over the space
//     of step 2, so no heuristic can beat it under the same cost model.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "graph/status.h"
#include "partitioner/cost_model.h"
#include "partitioner/plan.h"
#include "partitioner/task_graph.h"

namespace tandem::partition {

inline constexpr int kMaxExactTasks = 24;

struct PartitionOptions {
  Objective objective = Objective::kLatency;
  std::optional<double> slo_us;             // required by kMemory; otherwise only reported against
  std::optional<int64_t> gpu_budget_bytes;  // cap on predicted peak GPU memory
  std::map<std::string, Device> pins;       // task name -> device
  bool exact = false;                       // branch and bound instead of the heuristics
  std::string baseline;                     // "cpu", "gpu" or "fallback": that policy instead of a search
  Lanes lanes;
  // Search budget in cost-model evaluations per phase (latency; memory); 0 scales it with the graph.
  int64_t max_evaluations = 0;
};

// The plan for `g` (finalized) under `options`. Fails, naming the node or the number, when a pin names no
// node or a device that cannot run it, when the budget cannot be met, or when an option is out of range.
// A memory-objective plan that cannot meet the SLO is not a failure: it is the fastest plan found, with
// slo_met false and a note saying so.
Result<Plan> partition(const TaskGraph& g, const PartitionOptions& options);

// The baselines partition() knows, for help texts.
std::vector<std::string> baseline_names();

// "NODE=cpu" or "NODE=cuda" (the last '=' splits, so node names may contain '=').
Result<std::pair<std::string, Device>> parse_pin(std::string_view text);

// The assignment a plan describes, checked against `g`: every task named once, on a device that supports
// it. For re-evaluating an edited plan with the cost model.
Result<Assignment> assignment_from_plan(const TaskGraph& g, const Plan& plan);

}  // namespace tandem::partition
