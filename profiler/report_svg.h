// The SVG charts of the HTML report, drawn in C++ as text: no script draws anything, so the page shows the
// same in any browser, offline, and can be diffed. Charts know nothing of profiles or plans; every string
// they are given is escaped here. Each chart takes an id prefix so the ids it defines (hatch patterns) stay
// unique when several charts share a page. SVG <title> children give hover text without scripts.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tandem::profiler::svg {

struct Series {
  std::string name;   // in the legend
  std::string color;  // CSS colour
};

struct Bar {
  double value = 0;
  bool present = true;     // false: drawn as `missing_text` ("cannot run")
  bool estimated = false;  // hatched, and the hover text says "estimated"
  std::string missing_text;
};

struct BarRow {
  std::string label;
  std::vector<Bar> bars;  // one per series
};

// Horizontal bars, one group per row, one bar per series, on a log10 time axis in microseconds (decade
// ticks), so a 2 us node and a 20 ms node are both readable. Estimated bars are hatched, with a legend entry.
std::string grouped_time_bars(const std::string& id, const std::vector<Series>& series,
                              const std::vector<BarRow>& rows);

struct Point {
  double x = 0, y = 0;
};

// Log-log scatter of copy samples (bytes, us) with a fitted curve drawn through `fit` (bytes -> us).
std::string loglog_scatter(const std::string& id, const std::vector<Point>& samples,
                           const std::function<double(double)>& fit, const std::string& x_label,
                           const std::string& y_label);

struct Box {
  int row = 0;
  double start = 0, finish = 0;  // us
  std::string css_class;         // "task cpu", "task cuda", "copy": the fill comes from the page's CSS
  std::string label;             // drawn inside the box when it fits
  std::string hover;             // <title> text
};

// Gantt chart: one row per lane, boxes from start to finish on a linear time axis from 0 to `end_us`.
std::string timeline(const std::string& id, const std::vector<std::string>& row_labels,
                     const std::vector<Box>& boxes, double end_us);

struct ValueBar {
  std::string label;
  double value = 0;
  std::string text;  // the value as printed beside the bar
};

// One horizontal bar per row on a linear axis from 0: small comparisons (plans' latency, GPU memory).
std::string value_bars(const std::string& title, const std::string& color, const std::vector<ValueBar>& rows);

}  // namespace tandem::profiler::svg
