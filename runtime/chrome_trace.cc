#include "runtime/chrome_trace.h"

#include <fstream>
#include <nlohmann/json.hpp>

namespace tandem {

std::string chrome_trace_json(const std::vector<TraceEvent>& events) {
  std::map<std::string, int> lane_ids;
  nlohmann::json list = nlohmann::json::array();
  for (const TraceEvent& e : events) {
    auto [it, added] = lane_ids.emplace(e.lane, static_cast<int>(lane_ids.size()) + 1);
    if (added)
      list.push_back({{"name", "thread_name"}, {"ph", "M"}, {"pid", 1}, {"tid", it->second},
                      {"args", {{"name", e.lane}}}});
    nlohmann::json ev = {{"name", e.name}, {"cat", e.category.empty() ? "node" : e.category},
                         {"ph", "X"},      {"pid", 1},
                         {"tid", it->second}, {"ts", e.start_us},
                         {"dur", e.duration_us}};
    if (!e.args.empty()) ev["args"] = e.args;
    list.push_back(std::move(ev));
  }
  return nlohmann::json{{"traceEvents", std::move(list)}, {"displayTimeUnit", "ms"}}.dump(1);
}

Status write_chrome_trace(const std::vector<TraceEvent>& events, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Status::error("cannot write trace '" + path + "'");
  out << chrome_trace_json(events) << '\n';
  out.close();
  if (!out) return Status::error("failed writing trace '" + path + "'");
  return Status::ok();
}

}  // namespace tandem
