#include "profiler/report_svg.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "profiler/report_format.h"

namespace tandem::profiler::svg {
namespace {

using report_format::bytes;
using report_format::duration;
using report_format::fixed;
using report_format::html_escape;

constexpr double kCharWidth = 6.2;  // of an 11px sans-serif character, for fitting labels without a layout engine

std::string num(double x) { return fixed(x, 1); }

// Decade ticks of a byte axis: 1 B, 10 B, 100 B, 1 kB, ... (powers of 1000 read cleanly at powers of 10).
std::string decade_bytes(double exponent) {
  static const char* const kUnits[] = {"B", "kB", "MB", "GB", "TB"};
  const int e = static_cast<int>(std::lround(exponent));
  if (e < 0 || e >= 15) return bytes(static_cast<int64_t>(std::llround(std::pow(10.0, exponent))));
  return std::to_string(static_cast<int>(std::lround(std::pow(10.0, e % 3)))) + " " + kUnits[e / 3];
}

// Shortens to what fits in `px` (by the estimate above), marking the cut with an ellipsis.
std::string fit_text(const std::string& s, double px) {
  const auto max_chars = static_cast<std::size_t>(std::max(0.0, px / kCharWidth));
  if (s.size() <= max_chars) return s;
  if (max_chars < 2) return "";
  return s.substr(0, max_chars - 1) + "\u2026";
}

std::string open_svg(double w, double h, const std::string& css_class, const std::string& aria) {
  // No xmlns: inline SVG in HTML needs none, and the page then names no URL at all.
  std::ostringstream o;
  o << "<svg class=\"" << css_class << "\" width=\"" << num(w) << "\" height=\"" << num(h) << "\" viewBox=\"0 0 "
    << num(w) << " " << num(h) << "\" role=\"img\" aria-label=\"" << html_escape(aria) << "\">\n";
  return o.str();
}

// A diagonally hatched fill in `color`: how estimated bars differ from measured ones.
std::string hatch_pattern(const std::string& pattern_id, const std::string& color) {
  return "<pattern id=\"" + pattern_id +
         "\" patternUnits=\"userSpaceOnUse\" width=\"6\" height=\"6\" patternTransform=\"rotate(45)\">"
         "<rect width=\"6\" height=\"6\" fill=\"#fff\"/><rect width=\"3\" height=\"6\" fill=\"" +
         html_escape(color) + "\"/></pattern>\n";
}

// Decades covering [lo, hi] (both > 0).
struct LogAxis {
  double lo_exp, hi_exp;
  explicit LogAxis(double lo, double hi) {
    lo_exp = std::floor(std::log10(lo));
    hi_exp = std::ceil(std::log10(hi));
    if (hi_exp <= lo_exp) hi_exp = lo_exp + 1;
  }
  double frac(double v) const {  // 0..1 along the axis
    const double e = std::log10(std::max(v, std::pow(10.0, lo_exp)));
    return std::clamp((e - lo_exp) / (hi_exp - lo_exp), 0.0, 1.0);
  }
};

// A step of 1, 2 or 5 x 10^k giving about `ticks` intervals over `range`.
double nice_step(double range, int ticks) {
  const double raw = range / ticks;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double r = raw / mag;
  return mag * (r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10);
}

}  // namespace

std::string grouped_time_bars(const std::string& id, const std::vector<Series>& series,
                              const std::vector<BarRow>& rows) {
  constexpr double kLabelW = 210, kPlotW = 520, kRight = 80, kBarH = 10, kTop = 34, kAxisH = 30;
  const double group_h = static_cast<double>(series.size()) * (kBarH + 2) + 8;
  const double w = kLabelW + kPlotW + kRight;
  const double h = kTop + group_h * static_cast<double>(rows.size()) + kAxisH;

  double lo = 0, hi = 0;
  bool any_estimated = false;
  for (const BarRow& r : rows)
    for (const Bar& b : r.bars) {
      if (!b.present || !(b.value > 0)) continue;
      lo = lo > 0 ? std::min(lo, b.value) : b.value;
      hi = std::max(hi, b.value);
      any_estimated = any_estimated || b.estimated;
    }
  if (!(lo > 0)) lo = hi = 1;
  const LogAxis axis(lo, hi);
  auto x_of = [&](double v) { return kLabelW + axis.frac(v) * kPlotW; };

  std::ostringstream o;
  o << open_svg(w, h, "chart bars", "bar chart, log scale");
  o << "<defs>\n";
  for (std::size_t s = 0; s < series.size(); ++s) o << hatch_pattern(id + "-hatch-" + std::to_string(s), series[s].color);
  o << "</defs>\n";

  // Legend: one swatch per series, then the hatched one for "estimated".
  double lx = kLabelW;
  for (std::size_t s = 0; s < series.size(); ++s) {
    o << "<rect x=\"" << num(lx) << "\" y=\"8\" width=\"14\" height=\"10\" fill=\"" << html_escape(series[s].color)
      << "\"/><text x=\"" << num(lx + 18) << "\" y=\"17\">" << html_escape(series[s].name) << " (measured)</text>\n";
    lx += 18 + kCharWidth * static_cast<double>(series[s].name.size() + 11) + 14;
  }
  if (any_estimated && !series.empty()) {
    o << "<rect x=\"" << num(lx) << "\" y=\"8\" width=\"14\" height=\"10\" fill=\"url(#" << id
      << "-hatch-0)\" stroke=\"#555\"/><text x=\"" << num(lx + 18) << "\" y=\"17\">hatched: estimated</text>\n";
  }

  // Decade grid lines and labels.
  const double plot_bottom = kTop + group_h * static_cast<double>(rows.size());
  for (double e = axis.lo_exp; e <= axis.hi_exp; e += 1) {
    const double x = kLabelW + (e - axis.lo_exp) / (axis.hi_exp - axis.lo_exp) * kPlotW;
    o << "<line class=\"grid\" x1=\"" << num(x) << "\" y1=\"" << num(kTop - 4) << "\" x2=\"" << num(x) << "\" y2=\""
      << num(plot_bottom) << "\"/><text class=\"tick\" x=\"" << num(x) << "\" y=\"" << num(plot_bottom + 14)
      << "\" text-anchor=\"middle\">" << html_escape(duration(std::pow(10.0, e))) << "</text>\n";
  }
  o << "<text class=\"tick\" x=\"" << num(kLabelW + kPlotW / 2) << "\" y=\"" << num(plot_bottom + 27)
    << "\" text-anchor=\"middle\">median time per run (log scale)</text>\n";

  for (std::size_t r = 0; r < rows.size(); ++r) {
    const double y0 = kTop + group_h * static_cast<double>(r);
    o << "<text x=\"" << num(kLabelW - 6) << "\" y=\"" << num(y0 + group_h / 2) << "\" text-anchor=\"end\">"
      << "<title>" << html_escape(rows[r].label) << "</title>" << html_escape(fit_text(rows[r].label, kLabelW - 10))
      << "</text>\n";
    for (std::size_t s = 0; s < rows[r].bars.size() && s < series.size(); ++s) {
      const Bar& b = rows[r].bars[s];
      const double y = y0 + 4 + static_cast<double>(s) * (kBarH + 2);
      if (!b.present) {
        o << "<text class=\"missing\" x=\"" << num(kLabelW + 4) << "\" y=\"" << num(y + kBarH - 1) << "\">"
          << html_escape(series[s].name + ": " + b.missing_text) << "</text>\n";
        continue;
      }
      const double x1 = x_of(b.value);
      const std::string text = duration(b.value) + (b.estimated ? " (estimated)" : "");
      o << "<rect class=\"bar" << (b.estimated ? " estimated" : "") << "\" x=\"" << num(kLabelW) << "\" y=\""
        << num(y) << "\" width=\"" << num(std::max(1.0, x1 - kLabelW)) << "\" height=\"" << num(kBarH) << "\" fill=\""
        << (b.estimated ? "url(#" + id + "-hatch-" + std::to_string(s) + ")" : html_escape(series[s].color))
        << "\" stroke=\"" << html_escape(series[s].color) << "\"><title>"
        << html_escape(rows[r].label + ", " + series[s].name + ": " + text) << "</title></rect>"
        << "<text class=\"value\" x=\"" << num(std::max(x1, kLabelW + 1) + 4) << "\" y=\"" << num(y + kBarH - 1) << "\">"
        << html_escape(b.estimated ? duration(b.value) + " est." : duration(b.value)) << "</text>\n";
    }
  }
  o << "</svg>\n";
  return o.str();
}

std::string loglog_scatter(const std::string& id, const std::vector<Point>& samples,
                           const std::function<double(double)>& fit, const std::string& x_label,
                           const std::string& y_label) {
  constexpr double kW = 540, kH = 300, kLeft = 70, kRight = 40, kTop = 16, kBottom = 44;
  const double pw = kW - kLeft - kRight, ph = kH - kTop - kBottom;
  double x_lo = 0, x_hi = 0, y_lo = 0, y_hi = 0;
  auto widen = [](double& lo, double& hi, double v) {
    if (!(v > 0) || !std::isfinite(v)) return;
    lo = lo > 0 ? std::min(lo, v) : v;
    hi = std::max(hi, v);
  };
  for (const Point& p : samples) {
    widen(x_lo, x_hi, p.x);
    widen(y_lo, y_hi, p.y);
  }
  if (!(x_lo > 0)) x_lo = x_hi = 1;
  for (const Point& p : samples) widen(y_lo, y_hi, fit(p.x));
  if (!(y_lo > 0)) y_lo = y_hi = 1;
  const LogAxis ax(x_lo, x_hi), ay(y_lo, y_hi);
  auto px = [&](double x) { return kLeft + ax.frac(x) * pw; };
  auto py = [&](double y) { return kTop + (1 - ay.frac(y)) * ph; };

  std::ostringstream o;
  o << open_svg(kW, kH, "chart scatter", "link samples and fit, log-log");
  o << "<g id=\"" << html_escape(id) << "\">\n";
  for (double e = ax.lo_exp; e <= ax.hi_exp; e += 1) {
    const double x = kLeft + (e - ax.lo_exp) / (ax.hi_exp - ax.lo_exp) * pw;
    o << "<line class=\"grid\" x1=\"" << num(x) << "\" y1=\"" << num(kTop) << "\" x2=\"" << num(x) << "\" y2=\""
      << num(kTop + ph) << "\"/><text class=\"tick\" x=\"" << num(x) << "\" y=\"" << num(kTop + ph + 14)
      << "\" text-anchor=\"middle\">" << html_escape(decade_bytes(e))
      << "</text>\n";
  }
  for (double e = ay.lo_exp; e <= ay.hi_exp; e += 1) {
    const double y = kTop + (1 - (e - ay.lo_exp) / (ay.hi_exp - ay.lo_exp)) * ph;
    o << "<line class=\"grid\" x1=\"" << num(kLeft) << "\" y1=\"" << num(y) << "\" x2=\"" << num(kLeft + pw)
      << "\" y2=\"" << num(y) << "\"/><text class=\"tick\" x=\"" << num(kLeft - 4) << "\" y=\"" << num(y + 4)
      << "\" text-anchor=\"end\">" << html_escape(duration(std::pow(10.0, e))) << "</text>\n";
  }
  o << "<text class=\"tick\" x=\"" << num(kLeft + pw / 2) << "\" y=\"" << num(kH - 8) << "\" text-anchor=\"middle\">"
    << html_escape(x_label) << "</text>\n";
  o << "<text class=\"tick\" transform=\"translate(12," << num(kTop + ph / 2) << ") rotate(-90)\" text-anchor=\"middle\">"
    << html_escape(y_label) << "</text>\n";

  // The fit is a curve on log-log axes (a constant plus a line), so it is sampled, not drawn as one segment.
  std::ostringstream line;
  constexpr int kSteps = 64;
  const double a = std::log10(x_lo), b = std::log10(std::max(x_hi, x_lo * 1.0001));
  for (int i = 0; i <= kSteps; ++i) {
    const double x = std::pow(10.0, a + (b - a) * i / kSteps);
    line << (i ? " " : "") << num(px(x)) << "," << num(py(fit(x)));
  }
  o << "<polyline class=\"fit\" points=\"" << line.str() << "\"/>\n";
  for (const Point& p : samples)
    o << "<circle class=\"sample\" cx=\"" << num(px(p.x)) << "\" cy=\"" << num(py(p.y)) << "\" r=\"3.5\"><title>"
      << html_escape(bytes(static_cast<int64_t>(p.x)) + ": " + duration(p.y) + " measured, " + duration(fit(p.x)) +
                     " fitted")
      << "</title></circle>\n";
  o << "</g>\n</svg>\n";
  return o.str();
}

std::string timeline(const std::string& id, const std::vector<std::string>& row_labels, const std::vector<Box>& boxes,
                     double end_us) {
  constexpr double kLabelW = 130, kPlotW = 760, kRight = 20, kRowH = 24, kTop = 8, kAxisH = 34;
  const double w = kLabelW + kPlotW + kRight;
  const double plot_h = kRowH * static_cast<double>(row_labels.size());
  const double h = kTop + plot_h + kAxisH;
  double end = end_us;
  for (const Box& b : boxes) end = std::max(end, b.finish);
  if (!(end > 0)) end = 1;
  auto x_of = [&](double us) { return kLabelW + std::clamp(us / end, 0.0, 1.0) * kPlotW; };

  std::ostringstream o;
  o << open_svg(w, h, "chart timeline", "timeline of the plan");
  o << "<g id=\"" << html_escape(id) << "\">\n";
  for (std::size_t r = 0; r < row_labels.size(); ++r) {
    const double y = kTop + kRowH * static_cast<double>(r);
    o << "<rect class=\"lane" << (r % 2 ? " odd" : "") << "\" x=\"" << num(kLabelW) << "\" y=\"" << num(y)
      << "\" width=\"" << num(kPlotW) << "\" height=\"" << num(kRowH) << "\"/><text x=\"" << num(kLabelW - 6)
      << "\" y=\"" << num(y + kRowH / 2 + 4) << "\" text-anchor=\"end\">" << html_escape(row_labels[r]) << "</text>\n";
  }
  const double step = nice_step(end, 8);
  for (double t = 0; t <= end * 1.0001; t += step) {
    const double x = x_of(t);
    o << "<line class=\"grid\" x1=\"" << num(x) << "\" y1=\"" << num(kTop) << "\" x2=\"" << num(x) << "\" y2=\""
      << num(kTop + plot_h) << "\"/><text class=\"tick\" x=\"" << num(x) << "\" y=\"" << num(kTop + plot_h + 14)
      << "\" text-anchor=\"middle\">" << html_escape(duration(t)) << "</text>\n";
  }
  o << "<text class=\"tick\" x=\"" << num(kLabelW + kPlotW / 2) << "\" y=\"" << num(h - 4)
    << "\" text-anchor=\"middle\">predicted time from the start of a run</text>\n";
  for (const Box& b : boxes) {
    const double x0 = x_of(b.start), x1 = x_of(b.finish);
    const double bw = std::max(1.0, x1 - x0);
    const double y = kTop + kRowH * static_cast<double>(b.row) + 3;
    o << "<rect class=\"" << html_escape(b.css_class) << "\" x=\"" << num(x0) << "\" y=\"" << num(y) << "\" width=\""
      << num(bw) << "\" height=\"" << num(kRowH - 6) << "\"><title>" << html_escape(b.hover) << "</title></rect>";
    const std::string shown = fit_text(b.label, bw - 4);
    if (!shown.empty())
      o << "<text class=\"boxlabel\" x=\"" << num(x0 + 2) << "\" y=\"" << num(y + kRowH / 2 + 1) << "\">"
        << html_escape(shown) << "</text>";
    o << "\n";
  }
  o << "</g>\n</svg>\n";
  return o.str();
}

std::string value_bars(const std::string& title, const std::string& color, const std::vector<ValueBar>& rows) {
  constexpr double kLabelW = 170, kPlotW = 260, kRight = 90, kRowH = 20, kTop = 24;
  const double w = kLabelW + kPlotW + kRight, h = kTop + kRowH * static_cast<double>(rows.size()) + 8;
  double hi = 0;
  for (const ValueBar& r : rows) hi = std::max(hi, r.value);
  if (!(hi > 0)) hi = 1;
  std::ostringstream o;
  o << open_svg(w, h, "chart compare", title);
  o << "<text class=\"charttitle\" x=\"0\" y=\"14\">" << html_escape(title) << "</text>\n";
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const double y = kTop + kRowH * static_cast<double>(r);
    const double bw = std::max(1.0, rows[r].value / hi * kPlotW);
    o << "<text x=\"" << num(kLabelW - 6) << "\" y=\"" << num(y + 13) << "\" text-anchor=\"end\"><title>"
      << html_escape(rows[r].label) << "</title>" << html_escape(fit_text(rows[r].label, kLabelW - 10))
      << "</text><rect x=\"" << num(kLabelW) << "\" y=\"" << num(y + 3) << "\" width=\"" << num(bw)
      << "\" height=\"" << num(kRowH - 6) << "\" fill=\"" << html_escape(color) << "\"><title>"
      << html_escape(rows[r].label + ": " + rows[r].text) << "</title></rect><text class=\"value\" x=\""
      << num(kLabelW + bw + 4) << "\" y=\"" << num(y + 13) << "\">" << html_escape(rows[r].text) << "</text>\n";
  }
  o << "</svg>\n";
  return o.str();
}

}  // namespace tandem::profiler::svg
