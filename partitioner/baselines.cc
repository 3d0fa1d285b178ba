// Baselines: fixed policies to compare the searches against (and to fall back on).
#include <cstdio>

#include "partitioner/search.h"

namespace tandem::partition::search {

std::vector<std::string> baseline_names() { return {"cpu", "gpu", "fallback"}; }

Result<State> baseline(const Problem& p, std::string_view name) {
  const TaskGraph& g = *p.g;
  const bool cpu_only = name == "cpu", gpu = name == "gpu", fallback = name == "fallback";
  if (!cpu_only && !gpu && !fallback)
    return Status::error("unknown baseline '" + std::string(name) + "' (expected cpu, gpu or fallback)");
  const std::string tag = "baseline '" + std::string(name) + "': ";
  State st;
  st.a.assign(static_cast<std::size_t>(g.num_tasks()), Device::kCpu);
  st.reasons.resize(st.a.size());
  for (int t = 0; t < g.num_tasks(); ++t) {
    const Task& task = g.task(t);
    const std::size_t ti = static_cast<std::size_t>(t);
    if (!p.movable(t)) {
      // A pin, or the only device that can run it.
      const Device d = p.may(t, Device::kCpu) ? Device::kCpu : Device::kGpu;
      if (cpu_only && d == Device::kGpu && !task.supports(Device::kCpu))
        return Status::error(tag + "node " + task.label() +
                             " cannot run on the CPU: " + task.on(Device::kCpu).reason);
      st.a[ti] = d;
      st.reasons[ti] = tag + "the only device it may use";
      continue;
    }
    if (cpu_only) {
      st.a[ti] = Device::kCpu;
      st.reasons[ti] = tag + "everything on the CPU";
    } else if (gpu || !task.host_preferred) {
      st.a[ti] = Device::kGpu;
      st.reasons[ti] = tag + "cuda supports it";
    } else {
      st.a[ti] = Device::kCpu;
      st.reasons[ti] = tag + "shape arithmetic stays on the CPU";
    }
  }
  return st;
}

std::string format_us(double us) {
  char buf[64];
  std::snprintf(buf, sizeof buf, us < 10 ? "%.2f us" : us < 1000 ? "%.1f us" : "%.0f us", us);
  return buf;
}

std::string format_bytes(int64_t bytes) {
  char buf[64];
  const double b = static_cast<double>(bytes);
  if (bytes < 1024)
    std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(bytes));
  else if (bytes < (1 << 20))
    std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024);
  else if (bytes < (int64_t{1} << 30))
    std::snprintf(buf, sizeof buf, "%.2f MiB", b / (1 << 20));
  else
    std::snprintf(buf, sizeof buf, "%.2f GiB", b / (int64_t{1} << 30));
  return buf;
}

std::string costs_of(const Task& t) {
  std::string s;
  for (Device d : kDevices) {
    if (!s.empty()) s += ", ";
    s += std::string(device_name(d)) + " " +
         (t.supports(d) ? format_us(t.on(d).time_us) : std::string("cannot run it"));
  }
  return s;
}

}  // namespace tandem::partition::search
