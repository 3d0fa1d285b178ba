#include "profiler/machine_info.h"

#include <exception>
#include <fstream>

namespace tandem::profiler {

std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(colon + 1);
    const auto first = name.find_first_not_of(" \t");
    return first == std::string::npos ? "unknown CPU" : name.substr(first);
  }
  return "unknown CPU";
}

double load_average() {
  std::ifstream in("/proc/loadavg");
  double load = -1;
  if (!(in >> load)) return -1;
  return load;
}

ResidentMemory resident_memory() {
  ResidentMemory m;
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    int64_t* field = line.rfind("VmRSS:", 0) == 0 ? &m.now : line.rfind("VmHWM:", 0) == 0 ? &m.peak : nullptr;
    if (!field) continue;
    try {
      *field = std::stoll(line.substr(6)) * 1024;  // "VmRSS:	  163272 kB"
    } catch (const std::exception&) {
      *field = -1;
    }
  }
  return m;
}

}  // namespace tandem::profiler
