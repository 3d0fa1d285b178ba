// The HTML report: one page, everything inline (CSS in <style>, charts as <svg>), so it can be mailed,
// attached to an issue or opened offline. The charts are drawn by report_svg.cc.
#include <algorithm>
#include <sstream>

#include "profiler/report.h"
#include "profiler/report_data.h"
#include "profiler/report_format.h"
#include "profiler/report_svg.h"

namespace tandem::profiler {
namespace {

using namespace report_data;
using partition::Device;
using partition::NodeDeviceProfile;
using partition::NodeProfile;
using partition::Plan;
using partition::Profile;
using report_format::bytes;
using report_format::duration;
using report_format::fixed;
using report_format::html_escape;

constexpr const char* kCpuColor = "#4e79a7";
constexpr const char* kCudaColor = "#59a14f";

constexpr const char* kStyle = R"css(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;max-width:1120px;margin:24px auto;padding:0 16px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:18px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:36px}
h3{font-size:16px;margin-top:28px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{padding:3px 8px;border-bottom:1px solid #eee;text-align:right;vertical-align:top}
th{background:#f4f4f4;font-weight:600}th.l,td.l{text-align:left}td.name{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
.est{color:#8a5a00}.tag{font-size:11px;background:#fff3cd;color:#8a5a00;border:1px solid #e0c36b;border-radius:3px;padding:0 4px;margin-left:4px;white-space:nowrap}
.na{color:#999;font-style:italic}.warn{background:#fff3cd;border:1px solid #e0c36b;border-radius:4px;padding:6px 10px}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:8px 0}dt{color:#666}dd{margin:0}
.scroll{overflow-x:auto}.charts{display:flex;flex-wrap:wrap;gap:24px}
svg{display:block;margin:8px 0}svg text{font:11px system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;fill:#333}
svg .tick{fill:#666}svg .grid{stroke:#e3e3e3;stroke-width:1}svg .lane{fill:#fafafa}svg .lane.odd{fill:#f1f1f1}
svg .task.cpu{fill:#4e79a7}svg .task.cuda{fill:#59a14f}svg .copy{fill:#f28e2b}svg rect.task,svg rect.copy{stroke:#fff;stroke-width:.5}
svg .boxlabel{fill:#fff;font-size:10px}svg .missing{fill:#999;font-style:italic}svg .value{fill:#555;font-size:10px}
svg .fit{fill:none;stroke:#e15759;stroke-width:1.5}svg .sample{fill:#4e79a7}svg .charttitle{font-weight:600}
.swatch{display:inline-block;width:12px;height:10px;margin:0 4px 0 12px;vertical-align:baseline}
)css";

const char* const kEstimatedTag = "<span class=\"tag\">estimated</span>";

// A node's median or p90 on a device as a table cell, tagged when estimated, "cannot run" with the reason.
std::string cost_cell(const NodeProfile& n, const std::string& device, bool p90) {
  auto it = n.devices.find(device);
  if (it == n.devices.end()) return "<td class=\"na\">-</td>";
  const NodeDeviceProfile& d = it->second;
  if (!d.supported) return "<td class=\"na\" title=\"" + html_escape(d.reason) + "\">cannot run</td>";
  const std::string v = html_escape(duration(p90 ? d.p90_us : d.median_us));
  return d.estimated ? "<td class=\"est\">" + v + kEstimatedTag + "</td>" : "<td>" + v + "</td>";
}

// Per-device byte counts agree on most nodes; when packing makes them differ, both are shown.
std::string bytes_cell(const NodeProfile& n, int64_t NodeDeviceProfile::*field) {
  std::vector<std::pair<std::string, int64_t>> seen;
  for (const auto& [key, d] : n.devices)
    if (d.supported) seen.emplace_back(key, d.*field);
  if (seen.empty()) return "<td class=\"na\">-</td>";
  bool same = true;
  for (const auto& s : seen) same = same && s.second == seen.front().second;
  if (same) return "<td>" + html_escape(bytes(seen.front().second)) + "</td>";
  std::string out;
  for (const auto& [key, b] : seen) out += (out.empty() ? "" : "<br>") + html_escape(key + " " + bytes(b));
  return "<td>" + out + "</td>";
}

void header(std::ostringstream& o, const Profile& p) {
  o << "<section id=\"profile\"><h2>Profile</h2><dl class=\"facts\">\n";
  o << "<dt>model</dt><dd><code>" << html_escape(p.model_hash.empty() ? "(no hash)" : p.model_hash)
    << "</code>, " << p.nodes.size() << " nodes, " << p.values.size() << " values</dd>\n";
  o << "<dt>CPU</dt><dd>" << html_escape(p.machine.cpu_model.empty() ? "?" : p.machine.cpu_model) << ", "
    << p.machine.threads << (p.machine.threads == 1 ? " thread" : " threads") << "</dd>\n";
  o << "<dt>GPU</dt><dd>" << html_escape(p.machine.gpu_name.empty() ? "none measured" : p.machine.gpu_name)
    << (p.machine.driver.empty() ? "" : ", driver " + html_escape(p.machine.driver)) << "</dd>\n";
  o << "<dt>input shapes</dt><dd>";
  if (p.input_shapes.empty()) o << "(none symbolic)";
  for (const auto& [k, v] : p.input_shapes) o << "<code>" << html_escape(k) << "=" << v << "</code> ";
  o << "</dd>\n</dl>\n";

  const std::vector<std::string> estimated = estimated_parts(p);
  if (!estimated.empty()) {
    o << "<p class=\"warn\">Estimated, not measured:";
    for (std::size_t i = 0; i < estimated.size(); ++i) o << (i ? ", " : " ") << html_escape(estimated[i]);
    o << ". They come from an analytic model (see the notes) and are marked " << kEstimatedTag
      << " and hatched wherever they appear.</p>\n";
  }
  if (!p.notes.empty()) {
    o << "<h3>Notes</h3><ul class=\"notes\">\n";
    for (const std::string& n : p.notes) o << "<li>" << html_escape(n) << "</li>\n";
    o << "</ul>\n";
  }
  o << "</section>\n";
}

void slowest(std::ostringstream& o, const Profile& p, int top_n) {
  const auto nodes = slowest_nodes(p, top_n);
  o << "<section id=\"slowest\"><h2>Slowest " << nodes.size() << " nodes</h2>\n";
  if (nodes.empty()) {
    o << "<p class=\"na\">The profile has no nodes.</p></section>\n";
    return;
  }
  std::vector<svg::BarRow> rows;
  for (const NodeProfile* n : nodes) {
    svg::BarRow r;
    r.label = node_label(*n) + (n->op_type.empty() ? "" : " (" + n->op_type + ")");
    for (const char* key : {kCpu, kCuda}) {
      svg::Bar b;
      if (const NodeDeviceProfile* d = on(*n, key)) {
        b.value = d->median_us;
        b.estimated = d->estimated;
      } else {
        b.present = false;
        b.missing_text = n->devices.count(key) ? "cannot run" : "not profiled";
      }
      r.bars.push_back(b);
    }
    rows.push_back(std::move(r));
  }
  o << "<div class=\"scroll\">"
    << svg::grouped_time_bars("slowest", {{"cpu", kCpuColor}, {"cuda", kCudaColor}}, rows) << "</div></section>\n";
}

void node_table(std::ostringstream& o, const Profile& p) {
  o << "<section id=\"nodes\"><h2>Every node</h2><div class=\"scroll\"><table>\n"
    << "<tr><th>#</th><th class=\"l\">node</th><th class=\"l\">op</th><th>cpu median</th><th>cpu p90</th>"
       "<th>cuda median</th><th>cuda p90</th><th>cpu/cuda</th><th>weights</th><th>outputs</th></tr>\n";
  for (const NodeProfile& n : p.nodes) {
    const std::string ratio = ratio_text(n);
    const bool ratio_est = ratio.find("(estimated)") != std::string::npos;
    o << "<tr><td>" << n.index << "</td><td class=\"l name\">" << html_escape(node_label(n)) << "</td><td class=\"l\">"
      << html_escape(n.op_type) << "</td>" << cost_cell(n, kCpu, false) << cost_cell(n, kCpu, true)
      << cost_cell(n, kCuda, false) << cost_cell(n, kCuda, true)
      << (ratio_est ? "<td class=\"est\">" + html_escape(ratio.substr(0, ratio.find(' '))) + kEstimatedTag + "</td>"
                    : "<td>" + html_escape(ratio) + "</td>")
      << bytes_cell(n, &NodeDeviceProfile::weight_bytes) << bytes_cell(n, &NodeDeviceProfile::output_bytes)
      << "</tr>\n";
  }
  o << "</table></div></section>\n";
}

void links(std::ostringstream& o, const Profile& p) {
  o << "<section id=\"links\"><h2>Links</h2>\n";
  if (p.links.empty()) {
    o << "<p class=\"na\">The profile has no link fits.</p></section>\n";
    return;
  }
  o << "<p>Copy time fitted as alpha + bytes / beta.</p><table>\n<tr><th class=\"l\">link</th><th>alpha</th>"
       "<th>beta</th><th>residual rms</th><th>max residual</th><th>samples</th></tr>\n";
  for (const auto& [key, l] : p.links) {
    const std::string tag = l.estimated ? kEstimatedTag : "";
    o << "<tr" << (l.estimated ? " class=\"est\"" : "") << "><td class=\"l\">" << html_escape(key) << tag
      << "</td><td>" << html_escape(duration(l.alpha_us)) << "</td><td>"
      << html_escape(fixed(l.beta_bytes_per_us / 1e3, 2)) << " GB/s</td><td>" << html_escape(duration(l.residual_us))
      << "</td><td>" << html_escape(duration(l.max_residual_us)) << "</td><td>" << l.samples.size() << "</td></tr>\n";
  }
  o << "</table>\n<div class=\"charts\">\n";
  int k = 0;
  for (const auto& [key, l] : p.links) {
    if (l.samples.empty()) continue;
    std::vector<svg::Point> pts;
    for (const auto& s : l.samples) pts.push_back({static_cast<double>(s.bytes), s.us});
    const double alpha = l.alpha_us, beta = l.beta_bytes_per_us > 0 ? l.beta_bytes_per_us : 1;
    o << "<figure><figcaption>" << html_escape(key) << ": " << l.samples.size() << " copy sizes and the fit</figcaption>"
      << svg::loglog_scatter("link-" + std::to_string(k++), pts, [=](double b) { return alpha + b / beta; },
                             "bytes copied (log)", "time (log)")
      << "</figure>\n";
  }
  o << "</div></section>\n";
}

void plan_section(std::ostringstream& o, const Profile& profile, const ReportPlan& rp, std::size_t k) {
  const Plan& plan = rp.plan;
  const PlanCounts c = count_plan(plan, profile);
  o << "<section class=\"plan\" id=\"plan-" << k << "\"><h3>Plan: " << html_escape(rp.label) << "</h3>\n<dl class=\"facts\">\n";
  o << "<dt>objective</dt><dd>" << html_escape(std::string(partition::objective_name(plan.objective))) << " ("
    << html_escape(plan.algorithm) << ")</dd>\n";
  if (plan.slo_us)
    o << "<dt>SLO</dt><dd>" << html_escape(duration(*plan.slo_us)) << (plan.slo_met ? ", met" : ", <b>not met</b>")
      << "</dd>\n";
  if (plan.gpu_budget_bytes) o << "<dt>GPU budget</dt><dd>" << html_escape(bytes(*plan.gpu_budget_bytes)) << "</dd>\n";
  o << "<dt>predicted latency</dt><dd><b>" << html_escape(duration(plan.predicted_latency_us)) << "</b></dd>\n";
  o << "<dt>peak GPU memory</dt><dd><b>" << html_escape(bytes(plan.predicted_peak_gpu_bytes)) << "</b> = weights "
    << html_escape(bytes(plan.gpu_weight_bytes)) << " + activations " << html_escape(bytes(plan.gpu_activation_bytes))
    << " + workspace " << html_escape(bytes(plan.gpu_workspace_bytes)) << "</dd>\n";
  o << "<dt>nodes</dt><dd>" << c.cpu_nodes << " on cpu, " << c.gpu_nodes << " on cuda; " << plan.cpu_lanes
    << " cpu lane(s), " << plan.gpu_lanes << " cuda stream(s)</dd>\n";
  o << "<dt>copies</dt><dd>" << c.copies << " (" << html_escape(bytes(c.copy_bytes)) << ")</dd>\n";
  if (plan.time_chunks > 1)
    o << "<dt>time chunks</dt><dd>" << plan.time_chunks
      << " (recurrent nodes split; the plan names the split graph's nodes)</dd>\n";
  if (plan.split_directions)
    o << "<dt>directions</dt><dd>bidirectional nodes split into their forward and reverse directions (the plan "
         "names the split graph's nodes)</dd>\n";
  o << "</dl>\n";
  if (c.not_in_profile > 0 && plan.time_chunks == 1 && !plan.split_directions)
    o << "<p class=\"warn\">" << c.not_in_profile << " of the plan's " << plan.nodes.size()
      << " nodes are not in this profile: was the plan made from another profile?</p>\n";

  const Lanes lanes = plan_lanes(plan);
  std::vector<svg::Box> boxes;
  for (const partition::PlanNode& n : plan.nodes) {
    const std::string op = plan_node_op(n, profile);
    const bool gpu = n.device == Device::kGpu;
    svg::Box b;
    b.row = lanes.row_of(n.device, n.lane);
    b.start = n.start_us;
    b.finish = n.finish_us;
    b.css_class = gpu ? "task cuda" : "task cpu";
    b.label = n.name;
    b.hover = n.name + (op.empty() ? "" : " (" + op + ")") + " on " + lanes.labels[static_cast<std::size_t>(b.row)] +
              ": " + duration(n.start_us) + " to " + duration(n.finish_us) + " (" + duration(n.finish_us - n.start_us) +
              ")" + (n.reason.empty() ? "" : "; " + n.reason);
    boxes.push_back(std::move(b));
  }
  for (const partition::PlanCopy& cp : plan.copies) {
    svg::Box b;
    b.row = lanes.copy_row(cp.from);
    b.start = cp.start_us;
    b.finish = cp.finish_us;
    b.css_class = "copy";
    b.label = cp.value;
    b.hover = "copy " + cp.value + " (" + bytes(cp.bytes) + ") " + std::string(partition::device_name(cp.from)) +
              "\u2192" + std::string(partition::device_name(cp.to)) + ": " + duration(cp.start_us) + " to " +
              duration(cp.finish_us);
    boxes.push_back(std::move(b));
  }
  o << "<p><span class=\"swatch\" style=\"background:#4e79a7\"></span>cpu node<span class=\"swatch\" "
       "style=\"background:#59a14f\"></span>cuda node<span class=\"swatch\" style=\"background:#f28e2b\"></span>copy"
       " &mdash; hover a box for its name and times</p>\n";
  o << "<div class=\"scroll\">"
    << svg::timeline("timeline-" + std::to_string(k), lanes.labels, boxes, plan.predicted_latency_us) << "</div>\n";
  if (!plan.notes.empty()) {
    o << "<ul class=\"notes\">\n";
    for (const std::string& n : plan.notes) o << "<li>" << html_escape(n) << "</li>\n";
    o << "</ul>\n";
  }
  o << "</section>\n";
}

void plans_section(std::ostringstream& o, const Profile& profile, const std::vector<ReportPlan>& plans) {
  o << "<section id=\"plans\"><h2>Plans</h2>\n";
  if (plans.empty()) {
    o << "<p class=\"na\">No plans given (tandem report --plan PLAN.json).</p></section>\n";
    return;
  }
  if (any_estimated(profile, kCpu) || any_estimated(profile, kCuda))
    o << "<p class=\"warn\">Predictions below rest on estimated node costs " << kEstimatedTag << ".</p>\n";
  if (plans.size() > 1) {
    double fastest = plans.front().plan.predicted_latency_us;
    for (const ReportPlan& rp : plans) fastest = std::min(fastest, rp.plan.predicted_latency_us);
    o << "<table class=\"compare\">\n<tr><th class=\"l\">plan</th><th class=\"l\">objective</th><th>predicted latency</th>"
         "<th>vs fastest</th><th>peak GPU memory</th><th>nodes cpu / cuda</th><th>copies</th></tr>\n";
    std::vector<svg::ValueBar> lat, mem;
    for (const ReportPlan& rp : plans) {
      const PlanCounts c = count_plan(rp.plan, profile);
      o << "<tr><td class=\"l\">" << html_escape(rp.label) << "</td><td class=\"l\">"
        << html_escape(std::string(partition::objective_name(rp.plan.objective)) + " (" + rp.plan.algorithm + ")")
        << "</td><td>" << html_escape(duration(rp.plan.predicted_latency_us)) << "</td><td>"
        << (fastest > 0 ? fixed(rp.plan.predicted_latency_us / fastest, 2) + "x" : "-") << "</td><td>"
        << html_escape(bytes(rp.plan.predicted_peak_gpu_bytes)) << "</td><td>" << c.cpu_nodes << " / " << c.gpu_nodes
        << "</td><td>" << c.copies << "</td></tr>\n";
      lat.push_back({rp.label, rp.plan.predicted_latency_us, duration(rp.plan.predicted_latency_us)});
      mem.push_back({rp.label, static_cast<double>(rp.plan.predicted_peak_gpu_bytes),
                     bytes(rp.plan.predicted_peak_gpu_bytes)});
    }
    o << "</table>\n<div class=\"charts\">" << svg::value_bars("predicted latency", kCpuColor, lat)
      << svg::value_bars("peak GPU memory", kCudaColor, mem) << "</div>\n";
  }
  for (std::size_t k = 0; k < plans.size(); ++k) plan_section(o, profile, plans[k], k);
  o << "</section>\n";
}

}  // namespace

std::string report_html(const Profile& profile, const std::vector<ReportPlan>& plans, const ReportOptions& options) {
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>"
    << html_escape(options.title) << "</title>\n<style>" << kStyle << "</style>\n</head>\n<body>\n<h1>"
    << html_escape(options.title) << "</h1>\n<p>" << profile.nodes.size() << " nodes, " << plans.size()
    << (plans.size() == 1 ? " plan" : " plans") << ". Times are medians per run unless marked p90.</p>\n";
  header(o, profile);
  slowest(o, profile, options.top_n);
  node_table(o, profile);
  links(o, profile);
  plans_section(o, profile, plans);
  o << "</body>\n</html>\n";
  return o.str();
}

}  // namespace tandem::profiler
