// Reports comparing plans: one Profile and any number of Plans rendered as a self-contained HTML page
// (inline CSS and SVG charts; no scripts, no fonts, nothing fetched) and as a Markdown summary, written by
// `tandem report`. Estimated costs are marked as estimated wherever they appear.
#pragma once

#include <string>
#include <vector>

#include "graph/status.h"
#include "partitioner/plan.h"
#include "partitioner/profile.h"

namespace tandem::profiler {

struct ReportPlan {
  std::string label;  // how the report names the plan, e.g. its file name
  partition::Plan plan;
};

struct ReportOptions {
  std::string title = "tandem report";
  int top_n = 15;  // nodes in the "slowest nodes" chart and list
};

std::string report_html(const partition::Profile& profile, const std::vector<ReportPlan>& plans,
                        const ReportOptions& options = {});
std::string report_markdown(const partition::Profile& profile, const std::vector<ReportPlan>& plans,
                            const ReportOptions& options = {});

// Writes `text` to `path`; errors name the file ("cannot write report file 'r.html': No such file ...").
Status write_report_file(const std::string& path, const std::string& text);

}  // namespace tandem::profiler
