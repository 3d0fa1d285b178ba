// What the HTML and Markdown reports both show, worked out once: the slowest nodes, per-node device costs,
// per-plan counts and timeline lanes. Internal to the report.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "partitioner/plan.h"
#include "partitioner/profile.h"

namespace tandem::profiler::report_data {

inline constexpr const char* kCpu = "cpu";
inline constexpr const char* kCuda = "cuda";

// The device's costs when the node can run there, else nullptr.
const partition::NodeDeviceProfile* on(const partition::NodeProfile& n, const std::string& device);
// The node's name, or "#index" for an unnamed node.
std::string node_label(const partition::NodeProfile& n);
// The `n` nodes with the largest median on any device, slowest first.
std::vector<const partition::NodeProfile*> slowest_nodes(const partition::Profile& p, int n);
// Whether any node's cost on `device` is estimated.
bool any_estimated(const partition::Profile& p, const std::string& device);
// What in the profile is estimated rather than measured: "cuda node costs", "cpu->cuda link", ...
std::vector<std::string> estimated_parts(const partition::Profile& p);
// "12.3 us", "12.3 us (estimated)" or "-" (cannot run) for a node's median or p90 on a device.
std::string cost_text(const partition::NodeProfile& n, const std::string& device, bool p90);
// CPU median / CUDA median as "2.41x (estimated)", or "-" when either cannot run.
std::string ratio_text(const partition::NodeProfile& n);

struct PlanCounts {
  int cpu_nodes = 0, gpu_nodes = 0, copies = 0;
  int64_t copy_bytes = 0;
  int not_in_profile = 0;  // nodes the profile does not name (a split plan names the split graph's nodes)
};
PlanCounts count_plan(const partition::Plan& plan, const partition::Profile& profile);

// The op of a plan node from the profile, or "" when the profile does not have it.
std::string plan_node_op(const partition::PlanNode& n, const partition::Profile& profile);

// Rows of a plan's timeline: "cpu lane 0".., "cuda stream 0".., then one per copy direction used.
struct Lanes {
  std::vector<std::string> labels;
  int row_of(partition::Device d, int lane) const;
  int copy_row(partition::Device from) const;  // -1 when that direction has no copies
  int cpu_lanes = 0, gpu_lanes = 0, to_gpu_row = -1, to_cpu_row = -1;
};
Lanes plan_lanes(const partition::Plan& plan);

}  // namespace tandem::profiler::report_data
