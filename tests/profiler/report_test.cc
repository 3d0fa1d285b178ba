// The HTML and Markdown reports from a Profile and Plans built in code: self-contained pages, escaping of
// user-chosen names, estimated costs marked, one timeline box per plan node, the comparison of plans.
#include <gtest/gtest.h>

#include <string>

#include "partitioner/plan.h"
#include "partitioner/profile.h"
#include "profiler/report.h"
#include "profiler/report_format.h"
#include "tests/support/model_builder.h"

namespace tandem {
namespace {

using namespace tandem::profiler;
using partition::Device;
using partition::NodeDeviceProfile;
using partition::NodeProfile;
using partition::Plan;
using partition::PlanCopy;
using partition::PlanNode;
using partition::Profile;

const std::string kNasty = "a<b&\"c\"";  // a node name straight from a user's model

int count(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (std::size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

// The text of the <svg> element that contains `marker`.
std::string svg_around(const std::string& html, const std::string& marker) {
  const std::size_t at = html.find(marker);
  if (at == std::string::npos) return "";
  const std::size_t begin = html.rfind("<svg", at);
  const std::size_t end = html.find("</svg>", at);
  return html.substr(begin, end - begin);
}

NodeDeviceProfile cost(double median, bool estimated = false) {
  NodeDeviceProfile d;
  d.median_us = median;
  d.p90_us = median * 1.1;
  d.weight_bytes = 4096;
  d.output_bytes = 256;
  d.estimated = estimated;
  return d;
}

Profile make_profile() {
  Profile p;
  p.model_hash = std::string(64, 'f');
  p.machine.cpu_model = "Test CPU <x86>";
  p.machine.threads = 4;
  p.input_shapes = {{"seq", 4}, {"batch", 1}};
  NodeProfile lstm;
  lstm.index = 0;
  lstm.name = kNasty;
  lstm.op_type = "LSTM";
  lstm.devices["cpu"] = cost(120);
  lstm.devices["cuda"] = cost(30, /*estimated=*/true);
  NodeProfile mm;
  mm.index = 1;
  mm.name = "mm|pipe";
  mm.op_type = "MatMul";
  mm.devices["cpu"] = cost(8);
  mm.devices["cuda"] = cost(5, true);
  NodeProfile shape;
  shape.index = 2;
  shape.name = "shape";
  shape.op_type = "Shape";
  shape.devices["cpu"] = cost(0.2);
  shape.devices["cuda"].supported = false;
  shape.devices["cuda"].reason = "no kernel for Shape";
  p.nodes = {lstm, mm, shape};
  p.values = {{"x", 64, "", true}, {"h", 256, "", true}};
  partition::LinkProfile up = partition::LinkProfile::of(9, 20e3, 0.3);
  up.samples = {{4, 9.1}, {4096, 9.3}, {1 << 20, 61}};
  p.links["cpu->cuda"] = up;
  p.links["cuda->cpu"] = partition::LinkProfile::of(8, 40e3);
  p.links["cuda->cpu"].estimated = true;
  p.notes = {"cuda costs are estimated for <H100> & friends"};
  return p;
}

PlanNode plan_node(const std::string& name, int64_t index, Device d, double start, double finish) {
  PlanNode n;
  n.name = name;
  n.node_index = index;
  n.device = d;
  n.start_us = start;
  n.finish_us = finish;
  n.reason = "faster there";
  return n;
}

// A mixed plan (a copy each way) and an all-CPU one.
std::vector<ReportPlan> make_plans() {
  Plan mixed;
  mixed.algorithm = "heft+local_search";
  mixed.nodes = {plan_node("shape", 2, Device::kCpu, 0, 0.2), plan_node(kNasty, 0, Device::kGpu, 9.5, 39.5),
                 plan_node("mm|pipe", 1, Device::kCpu, 48, 56)};
  mixed.copies = {PlanCopy{"x", Device::kCpu, Device::kGpu, 64, 0.2, 9.5},
                  PlanCopy{"h", Device::kGpu, Device::kCpu, 256, 39.5, 48}};
  mixed.predicted_latency_us = 1250;  // not the sum above: only the report's arithmetic is under test
  mixed.predicted_peak_gpu_bytes = 4096 + 512 + 1024;
  mixed.gpu_weight_bytes = 4096;
  mixed.gpu_activation_bytes = 512;
  mixed.gpu_workspace_bytes = 1024;
  mixed.notes = {"the cost model evaluated 7 assignments"};
  Plan cpu;
  cpu.algorithm = "baseline:cpu";
  cpu.objective = partition::Objective::kMemory;
  cpu.slo_us = 5000;
  cpu.nodes = {plan_node("shape", 2, Device::kCpu, 0, 0.2), plan_node(kNasty, 0, Device::kCpu, 0.2, 120.2),
               plan_node("mm|pipe", 1, Device::kCpu, 120.2, 128.2)};
  cpu.predicted_latency_us = 2500;
  return {{"fast<1>.json", mixed}, {"cpu.json", cpu}};
}

TEST(Report, HtmlIsSelfContained) {
  const std::string html = report_html(make_profile(), make_plans());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_EQ(html.find("http"), std::string::npos);  // no URL at all, not even an SVG namespace
  // Every url() is a reference to a pattern inside the page.
  EXPECT_EQ(count(html, "url("), count(html, "url(#"));
  EXPECT_NE(html.find("<style>"), std::string::npos);
  // Balanced elements: nothing a user's string could have opened or closed.
  EXPECT_EQ(count(html, "<svg"), count(html, "</svg>"));
  EXPECT_EQ(count(html, "<section"), count(html, "</section>"));
  EXPECT_EQ(count(html, "<table"), count(html, "</table>"));
  EXPECT_EQ(count(html, "<title>"), count(html, "</title>"));
}

TEST(Report, HtmlEscapesEveryUserString) {
  const std::string html = report_html(make_profile(), make_plans());
  EXPECT_EQ(html.find(kNasty), std::string::npos);
  EXPECT_NE(html.find("a&lt;b&amp;&quot;c&quot;"), std::string::npos);
  EXPECT_EQ(html.find("<H100>"), std::string::npos);
  EXPECT_NE(html.find("&lt;H100&gt; &amp; friends"), std::string::npos);
  EXPECT_NE(html.find("Test CPU &lt;x86&gt;"), std::string::npos);
  EXPECT_NE(html.find("fast&lt;1&gt;.json"), std::string::npos);
  EXPECT_EQ(html.find("fast<1>"), std::string::npos);
}

TEST(Report, HtmlHasOneTimelineBoxPerPlanNodeAndCopy) {
  const auto plans = make_plans();
  const std::string html = report_html(make_profile(), plans);
  for (std::size_t k = 0; k < plans.size(); ++k) {
    const std::string svg = svg_around(html, "id=\"timeline-" + std::to_string(k) + "\"");
    ASSERT_FALSE(svg.empty()) << k;
    EXPECT_EQ(count(svg, "<rect class=\"task "), static_cast<int>(plans[k].plan.nodes.size())) << k;
    EXPECT_EQ(count(svg, "<rect class=\"task cuda\""), k == 0 ? 1 : 0) << k;
    EXPECT_EQ(count(svg, "<rect class=\"copy\""), static_cast<int>(plans[k].plan.copies.size())) << k;
  }
  // Copies get rows of their own, one per direction used.
  const std::string mixed = svg_around(html, "id=\"timeline-0\"");
  EXPECT_NE(mixed.find("copy cpu\u2192cuda"), std::string::npos);
  EXPECT_NE(mixed.find("copy cuda\u2192cpu"), std::string::npos);
  EXPECT_EQ(svg_around(html, "id=\"timeline-1\"").find("copy cpu"), std::string::npos);
}

TEST(Report, HtmlMarksEstimatedCosts) {
  const std::string html = report_html(make_profile(), make_plans());
  // Both estimated cuda bars are hatched; the measured cpu bars are not.
  const std::string bars = svg_around(html, "median time per run (log scale)");
  EXPECT_EQ(count(bars, "class=\"bar estimated\""), 2);
  EXPECT_EQ(count(bars, "fill=\"url(#slowest-hatch-1)\""), 2);
  EXPECT_NE(bars.find("hatched: estimated"), std::string::npos);
  EXPECT_NE(bars.find("cuda: cannot run"), std::string::npos);
  // In the node table, the estimated node's cuda cells carry the tag; the row of "shape" does not.
  const std::size_t row = html.find("<td class=\"l name\">a&lt;b");
  ASSERT_NE(row, std::string::npos);
  const std::string lstm_row = html.substr(row, html.find("</tr>", row) - row);
  EXPECT_EQ(count(lstm_row, "<span class=\"tag\">estimated</span>"), 3);  // median, p90, ratio
  const std::size_t shape_at = html.find("<td class=\"l name\">shape");
  const std::string shape_row = html.substr(shape_at, html.find("</tr>", shape_at) - shape_at);
  EXPECT_EQ(shape_row.find("estimated"), std::string::npos);
  EXPECT_NE(shape_row.find("title=\"no kernel for Shape\">cannot run"), std::string::npos);
  // The estimated link is tagged in the link table; the header says what is estimated.
  EXPECT_NE(html.find("cuda-&gt;cpu<span class=\"tag\">estimated</span>"), std::string::npos);
  EXPECT_NE(html.find("Estimated, not measured: cuda node costs, cuda-&gt;cpu link."), std::string::npos);
}

TEST(Report, HtmlShowsEveryNodeLinkSamplesAndPlanNumbers) {
  const Profile p = make_profile();
  const std::string html = report_html(p, make_plans());
  EXPECT_EQ(count(html, "<td class=\"l name\">"), static_cast<int>(p.nodes.size()));
  EXPECT_NE(html.find(p.model_hash), std::string::npos);
  EXPECT_NE(html.find("<code>seq=4</code>"), std::string::npos);
  // The measured link's samples around its fitted curve; the estimated link has no samples and no chart.
  const std::string scatter = svg_around(html, "class=\"fit\"");
  EXPECT_EQ(count(scatter, "<circle class=\"sample\""), 3);
  EXPECT_EQ(count(html, "class=\"chart scatter\""), 1);
  EXPECT_NE(html.find("20.00 GB/s"), std::string::npos);
  // Plans: comparison table and chart, each plan's prediction and memory breakdown.
  EXPECT_NE(html.find("<table class=\"compare\">"), std::string::npos);
  EXPECT_NE(html.find("aria-label=\"predicted latency\""), std::string::npos);
  EXPECT_NE(html.find("1.25 ms"), std::string::npos);
  EXPECT_NE(html.find("2.50 ms"), std::string::npos);
  EXPECT_NE(html.find("<td>2.00x</td>"), std::string::npos);
  EXPECT_NE(html.find("<b>5.5 KiB</b> = weights 4.0 KiB + activations 512 B + workspace 1.0 KiB"), std::string::npos);
  EXPECT_NE(html.find("2 on cpu, 1 on cuda"), std::string::npos);
  EXPECT_NE(html.find("the cost model evaluated 7 assignments"), std::string::npos);
  EXPECT_NE(html.find("5.00 ms, met"), std::string::npos);
}

TEST(Report, OnePlanHasNoComparisonAndNoPlansSaySo) {
  auto plans = make_plans();
  plans.resize(1);
  std::string html = report_html(make_profile(), plans);
  EXPECT_EQ(html.find("class=\"compare\""), std::string::npos);
  EXPECT_NE(html.find("id=\"timeline-0\""), std::string::npos);
  html = report_html(make_profile(), {});
  EXPECT_NE(html.find("No plans given"), std::string::npos);
  EXPECT_EQ(html.find("timeline-"), std::string::npos);
  EXPECT_EQ(report_markdown(make_profile(), {}).find("## Plans"), std::string::npos);
}

TEST(Report, PlanNamingNodesOutsideTheProfileIsFlagged) {
  auto plans = make_plans();
  plans[0].plan.nodes[0].name = "renamed";
  const std::string html = report_html(make_profile(), plans);
  EXPECT_NE(html.find("1 of the plan's 3 nodes are not in this profile"), std::string::npos);
}

TEST(Report, MarkdownComparesThePlansAndEscapesNames) {
  const std::string md = report_markdown(make_profile(), make_plans());
  EXPECT_EQ(md.rfind("# tandem report\n", 0), 0u);
  EXPECT_NE(md.find("| plan | objective | predicted latency | vs fastest | peak GPU memory |"), std::string::npos);
  EXPECT_NE(md.find("| fast&lt;1>.json | latency (heft+local_search) | 1.25 ms | 1.00x | 5.5 KiB | 2 / 1 | 2 |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| cpu.json | memory (baseline:cpu) | 2.50 ms | 2.00x | 0 B | 3 / 0 | 0 |"), std::string::npos)
      << md;
  // Names: < and & as entities, | escaped so the table keeps its columns.
  EXPECT_NE(md.find("| a&lt;b&amp;\"c\" | LSTM | 120.0 us | 132.0 us | 30.0 us (estimated) |"), std::string::npos)
      << md;
  EXPECT_NE(md.find("| mm\\|pipe | MatMul |"), std::string::npos) << md;
  EXPECT_NE(md.find("**estimated, not measured:** cuda node costs, cuda->cpu link"), std::string::npos) << md;
  EXPECT_NE(md.find("| cuda->cpu (estimated) |"), std::string::npos) << md;
  EXPECT_NE(md.find("- note: cuda costs are estimated for &lt;H100> &amp; friends"), std::string::npos) << md;
  EXPECT_NE(md.find("5.5 KiB = weights 4.0 KiB + activations 512 B + workspace 1.0 KiB"), std::string::npos);
  EXPECT_NE(md.find("(SLO 5.00 ms, met)"), std::string::npos);
}

TEST(ReportFormat, NumbersAreReadable) {
  using namespace report_format;
  EXPECT_EQ(duration(0.5), "0.50 us");
  EXPECT_EQ(duration(12.34), "12.3 us");
  EXPECT_EQ(duration(1500), "1.50 ms");
  EXPECT_EQ(duration(2.5e6), "2.50 s");
  EXPECT_EQ(bytes(512), "512 B");
  EXPECT_EQ(bytes(1536), "1.5 KiB");
  EXPECT_EQ(bytes(3 << 20), "3.00 MiB");
  EXPECT_EQ(bytes(int64_t{5} << 30), "5.00 GiB");
  EXPECT_EQ(html_escape("<a href='x'>&\""), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;");
  EXPECT_EQ(md_escape("a|b\nc_d _e_ *f*"), "a\\|b c_d \\_e\\_ \\*f\\*");
}

TEST(Report, WritingToAMissingFolderNamesTheFile) {
  test::TempDir dir;
  const std::string path = (dir.path() / "no" / "r.html").string();
  const Status s = write_report_file(path, "x");
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("cannot write report file '" + path + "'"), std::string::npos) << s.message();
  EXPECT_TRUE(write_report_file((dir.path() / "r.html").string(), "x").is_ok());
}

}  // namespace
}  // namespace tandem
