#include "profiler/report_data.h"

#include <algorithm>

#include "profiler/report_format.h"

namespace tandem::profiler::report_data {

using partition::Device;
using partition::NodeDeviceProfile;
using partition::NodeProfile;
using partition::Plan;
using partition::Profile;

const NodeDeviceProfile* on(const NodeProfile& n, const std::string& device) {
  auto it = n.devices.find(device);
  return it != n.devices.end() && it->second.supported ? &it->second : nullptr;
}

std::string node_label(const NodeProfile& n) { return n.name.empty() ? "#" + std::to_string(n.index) : n.name; }

std::vector<const NodeProfile*> slowest_nodes(const Profile& p, int n) {
  auto worst = [](const NodeProfile& node) {
    double m = 0;
    for (const auto& [key, d] : node.devices)
      if (d.supported) m = std::max(m, d.median_us);
    return m;
  };
  std::vector<const NodeProfile*> nodes;
  for (const NodeProfile& node : p.nodes) nodes.push_back(&node);
  std::stable_sort(nodes.begin(), nodes.end(),
                   [&](const NodeProfile* a, const NodeProfile* b) { return worst(*a) > worst(*b); });
  if (n >= 0 && nodes.size() > static_cast<std::size_t>(n)) nodes.resize(static_cast<std::size_t>(n));
  return nodes;
}

bool any_estimated(const Profile& p, const std::string& device) {
  for (const NodeProfile& n : p.nodes)
    if (const NodeDeviceProfile* d = on(n, device); d && d->estimated) return true;
  return false;
}

std::vector<std::string> estimated_parts(const Profile& p) {
  std::vector<std::string> parts;
  for (const char* d : {kCpu, kCuda})
    if (any_estimated(p, d)) parts.push_back(std::string(d) + " node costs");
  for (const auto& [key, l] : p.links)
    if (l.estimated) parts.push_back(key + " link");
  return parts;
}

std::string cost_text(const NodeProfile& n, const std::string& device, bool p90) {
  const NodeDeviceProfile* d = on(n, device);
  if (!d) return "-";
  return report_format::duration(p90 ? d->p90_us : d->median_us) + (d->estimated ? " (estimated)" : "");
}

std::string ratio_text(const NodeProfile& n) {
  const NodeDeviceProfile* c = on(n, kCpu);
  const NodeDeviceProfile* g = on(n, kCuda);
  if (!c || !g || !(g->median_us > 0)) return "-";
  return report_format::fixed(c->median_us / g->median_us, 2) + "x" +
         (c->estimated || g->estimated ? " (estimated)" : "");
}

PlanCounts count_plan(const Plan& plan, const Profile& profile) {
  PlanCounts c;
  for (const partition::PlanNode& n : plan.nodes) {
    (n.device == Device::kGpu ? c.gpu_nodes : c.cpu_nodes) += 1;
    const NodeProfile* p = n.node_index >= 0 ? profile.find_node(n.node_index) : nullptr;
    if (!p || p->name != n.name) ++c.not_in_profile;
  }
  c.copies = static_cast<int>(plan.copies.size());
  for (const partition::PlanCopy& cp : plan.copies) c.copy_bytes += cp.bytes;
  return c;
}

std::string plan_node_op(const partition::PlanNode& n, const Profile& profile) {
  const NodeProfile* p = n.node_index >= 0 ? profile.find_node(n.node_index) : nullptr;
  return p && p->name == n.name ? p->op_type : "";
}

int Lanes::row_of(Device d, int lane) const {
  return d == Device::kCpu ? std::clamp(lane, 0, cpu_lanes - 1) : cpu_lanes + std::clamp(lane, 0, gpu_lanes - 1);
}

int Lanes::copy_row(Device from) const { return from == Device::kCpu ? to_gpu_row : to_cpu_row; }

Lanes plan_lanes(const Plan& plan) {
  // Lanes the plan declares, widened to any lane a node names, so every node has a row.
  Lanes l;
  l.cpu_lanes = std::max(1, plan.cpu_lanes);
  l.gpu_lanes = std::max(1, plan.gpu_lanes);
  for (const partition::PlanNode& n : plan.nodes) {
    int& lanes = n.device == Device::kCpu ? l.cpu_lanes : l.gpu_lanes;
    lanes = std::max(lanes, n.lane + 1);
  }
  for (int i = 0; i < l.cpu_lanes; ++i) l.labels.push_back("cpu lane " + std::to_string(i));
  for (int i = 0; i < l.gpu_lanes; ++i) l.labels.push_back("cuda stream " + std::to_string(i));
  bool to_gpu = false, to_cpu = false;
  for (const partition::PlanCopy& c : plan.copies) (c.from == Device::kCpu ? to_gpu : to_cpu) = true;
  if (to_gpu) {
    l.to_gpu_row = static_cast<int>(l.labels.size());
    l.labels.push_back("copy cpu\u2192cuda");
  }
  if (to_cpu) {
    l.to_cpu_row = static_cast<int>(l.labels.size());
    l.labels.push_back("copy cuda\u2192cpu");
  }
  return l;
}

}  // namespace tandem::profiler::report_data
