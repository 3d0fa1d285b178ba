// Plan: where each node runs, in what order, and what the partitioner predicts for it.
//
// The data contract between the partitioner (which writes it) and the runtime (which executes it, issue 6).
// Plain data with a versioned JSON form, so a plan can be inspected, diffed, edited and replayed: the
// runtime needs only `nodes[].device`, `lane` and `order`; the rest is the prediction and its reasons.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "graph/status.h"
#include "partitioner/device.h"

namespace tandem::partition {

inline constexpr int kPlanSchemaVersion = 1;

enum class Objective { kLatency, kMemory };
constexpr std::string_view objective_name(Objective o) {
  return o == Objective::kLatency ? "latency" : "memory";
}
constexpr std::optional<Objective> parse_objective(std::string_view s) {
  if (s == "latency") return Objective::kLatency;
  if (s == "memory") return Objective::kMemory;
  return std::nullopt;
}

struct PlanNode {
  std::string name;
  int64_t node_index = -1;  // NodeId in the main graph; -1 for a synthetic task
  Device device = Device::kCpu;
  int lane = 0;   // CPU lane or GPU stream
  int order = 0;  // position when all nodes are sorted by predicted start: on each lane, the order it runs in
  double start_us = 0;
  double finish_us = 0;
  std::string reason;  // one line: why it is on this device
};

struct PlanCopy {
  std::string value;
  Device from = Device::kCpu;
  Device to = Device::kGpu;
  int64_t bytes = 0;
  double start_us = 0;
  double finish_us = 0;
};

struct Plan {
  int schema_version = kPlanSchemaVersion;
  Objective objective = Objective::kLatency;
  std::string algorithm;  // e.g. "heft+local_search", "exact", "baseline:gpu"
  std::optional<double> slo_us;
  std::optional<int64_t> gpu_budget_bytes;
  bool slo_met = true;  // predicted latency <= slo_us (true when there is no SLO)
  int cpu_lanes = 1;
  int gpu_lanes = 1;
  // The plan is for the model with its LSTM/GRU/RNN nodes split into this many time chunks
  // (graph/rnn_time_split.h, split_rnns_in_time): a runtime repeats that split before running the plan.
  int time_chunks = 1;
  // The plan is for the model with its bidirectional LSTM/GRU/RNN nodes split into their two directions
  // (graph/rnn_direction_split.h, split_bidirectional_rnns), done before any time split.
  bool split_directions = false;
  double predicted_latency_us = 0;
  int64_t predicted_peak_gpu_bytes = 0;  // = the three parts below
  int64_t gpu_weight_bytes = 0;
  int64_t gpu_activation_bytes = 0;  // the GPU's static memory plan: its arena (graph/memory_plan.h)
  int64_t gpu_workspace_bytes = 0;
  std::vector<PlanNode> nodes;     // by task id
  std::vector<PlanCopy> copies;    // by predicted start
  std::vector<std::string> notes;  // what a user should know, e.g. that no plan meets the SLO

  // nullptr when absent.
  const PlanNode* find_node(const std::string& node_name) const;
};

std::string plan_to_json(const Plan& p);
// Errors name the field: "plan: nodes[2].device: unknown device 'tpu' (expected \"cpu\" or \"cuda\")".
Result<Plan> plan_from_json(std::string_view text);

Status save_plan(const Plan& p, const std::string& path);
Result<Plan> load_plan(const std::string& path);

}  // namespace tandem::partition
