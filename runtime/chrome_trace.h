// Chrome/Perfetto trace files (the "Trace Event Format": chrome://tracing, ui.perfetto.dev): one lane per
// device or copy engine, one box per node or copy. Written by `tandem profile --trace` and `tandem run
// --trace`, so a user can see where the time of one run went.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "graph/status.h"

namespace tandem {

struct TraceEvent {
  std::string name;      // the node or copy
  std::string category;  // e.g. the op type, "copy"
  std::string lane;      // "cpu", "cuda:0", "cpu->cuda"; one row per lane in the viewer
  double start_us = 0;   // from the start of the run
  double duration_us = 0;
  std::map<std::string, std::string> args;  // shown when the box is selected
};

// The JSON text: complete ("X") events plus one thread-name record per lane, lanes in first-seen order.
std::string chrome_trace_json(const std::vector<TraceEvent>& events);
Status write_chrome_trace(const std::vector<TraceEvent>& events, const std::string& path);

}  // namespace tandem
