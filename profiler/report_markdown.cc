// The Markdown summary: the headline numbers of the HTML report in a form that pastes into an issue or a
// pull request. The full per-node table and the charts stay in the HTML.
#include <algorithm>
#include <sstream>

#include "profiler/report.h"
#include "profiler/report_data.h"
#include "profiler/report_format.h"

namespace tandem::profiler {
namespace {

using namespace report_data;
using partition::NodeProfile;
using partition::Profile;
using report_format::bytes;
using report_format::duration;
using report_format::fixed;
using report_format::md_escape;

}  // namespace

std::string report_markdown(const Profile& p, const std::vector<ReportPlan>& plans, const ReportOptions& options) {
  std::ostringstream o;
  o << "# " << md_escape(options.title) << "\n\n";
  o << "- model: `" << (p.model_hash.empty() ? "(no hash)" : p.model_hash) << "`, " << p.nodes.size() << " nodes\n";
  o << "- machine: " << md_escape(p.machine.cpu_model.empty() ? "?" : p.machine.cpu_model) << ", "
    << p.machine.threads << (p.machine.threads == 1 ? " thread" : " threads") << "; GPU "
    << md_escape(p.machine.gpu_name.empty() ? "none measured" : p.machine.gpu_name)
    << (p.machine.driver.empty() ? "" : " (driver " + md_escape(p.machine.driver) + ")") << "\n";
  o << "- input shapes:";
  if (p.input_shapes.empty()) o << " (none symbolic)";
  for (const auto& [k, v] : p.input_shapes) o << " " << md_escape(k) << "=" << v;
  o << "\n";
  const std::vector<std::string> estimated = estimated_parts(p);
  if (!estimated.empty()) {
    o << "- **estimated, not measured:**";
    for (std::size_t i = 0; i < estimated.size(); ++i) o << (i ? ", " : " ") << md_escape(estimated[i]);
    o << " (marked \"(estimated)\" below)\n";
  }
  for (const std::string& n : p.notes) o << "- note: " << md_escape(n) << "\n";

  const auto nodes = slowest_nodes(p, options.top_n);
  if (!nodes.empty()) {
    o << "\n## Slowest " << nodes.size() << " of " << p.nodes.size() << " nodes\n\n"
      << "| node | op | cpu median | cpu p90 | cuda median | cuda p90 | cpu/cuda |\n"
      << "|---|---|--:|--:|--:|--:|--:|\n";
    for (const NodeProfile* n : nodes)
      o << "| " << md_escape(node_label(*n)) << " | " << md_escape(n->op_type) << " | " << cost_text(*n, kCpu, false)
        << " | " << cost_text(*n, kCpu, true) << " | " << cost_text(*n, kCuda, false) << " | "
        << cost_text(*n, kCuda, true) << " | " << ratio_text(*n) << " |\n";
  }

  if (!p.links.empty()) {
    o << "\n## Links (alpha + bytes / beta)\n\n| link | alpha | beta | residual rms | max residual | samples |\n"
      << "|---|--:|--:|--:|--:|--:|\n";
    for (const auto& [key, l] : p.links)
      o << "| " << md_escape(key) << (l.estimated ? " (estimated)" : "") << " | " << duration(l.alpha_us) << " | "
        << fixed(l.beta_bytes_per_us / 1e3, 2) << " GB/s | " << duration(l.residual_us) << " | "
        << duration(l.max_residual_us) << " | " << l.samples.size() << " |\n";
  }

  if (!plans.empty()) {
    double fastest = plans.front().plan.predicted_latency_us;
    for (const ReportPlan& rp : plans) fastest = std::min(fastest, rp.plan.predicted_latency_us);
    o << "\n## Plans\n\n";
    if (!estimated.empty()) o << "Predicted from a profile with estimated costs.\n\n";
    o << "| plan | objective | predicted latency | vs fastest | peak GPU memory | nodes cpu / cuda | copies |\n"
      << "|---|---|--:|--:|--:|--:|--:|\n";
    for (const ReportPlan& rp : plans) {
      const PlanCounts c = count_plan(rp.plan, p);
      o << "| " << md_escape(rp.label) << " | "
        << md_escape(std::string(partition::objective_name(rp.plan.objective)) + " (" + rp.plan.algorithm + ")")
        << " | " << duration(rp.plan.predicted_latency_us) << " | "
        << (fastest > 0 ? fixed(rp.plan.predicted_latency_us / fastest, 2) + "x" : "-") << " | "
        << bytes(rp.plan.predicted_peak_gpu_bytes) << " | " << c.cpu_nodes << " / " << c.gpu_nodes << " | "
        << c.copies << " |\n";
    }
    for (const ReportPlan& rp : plans) {
      const partition::Plan& plan = rp.plan;
      o << "\n### " << md_escape(rp.label) << "\n\n";
      o << "- predicted latency " << duration(plan.predicted_latency_us);
      if (plan.slo_us) o << " (SLO " << duration(*plan.slo_us) << (plan.slo_met ? ", met)" : ", **not met**)");
      o << "\n- peak GPU memory " << bytes(plan.predicted_peak_gpu_bytes) << " = weights "
        << bytes(plan.gpu_weight_bytes) << " + activations " << bytes(plan.gpu_activation_bytes) << " + workspace "
        << bytes(plan.gpu_workspace_bytes) << "\n";
      const PlanCounts c = count_plan(plan, p);
      o << "- " << c.cpu_nodes << " nodes on cpu, " << c.gpu_nodes << " on cuda; " << c.copies << " copies ("
        << bytes(c.copy_bytes) << ")";
      if (plan.time_chunks > 1) o << "; recurrent nodes split into " << plan.time_chunks << " time chunks";
      if (plan.split_directions) o << "; bidirectional nodes split into their two directions";
      o << "\n";
      for (const std::string& n : plan.notes) o << "- note: " << md_escape(n) << "\n";
    }
  }
  return o.str();
}

}  // namespace tandem::profiler
