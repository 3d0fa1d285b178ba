// What machine a profile was taken on, as far as the CPU side can tell (the GPU's name and driver come from
// the CUDA probe, when there is one).
#pragma once

#include <cstdint>
#include <string>

namespace tandem::profiler {

// "model name" from /proc/cpuinfo, or "unknown CPU".
std::string cpu_model_name();

// The 1-minute load average (/proc/loadavg), or a negative number when it cannot be read. Profiles taken
// while other work shares the cores are inflated (OpenMP teams spin against the other work), so the
// profiler warns when this is high.
double load_average();

// This process's resident memory now (VmRSS) and at its peak (VmHWM), in bytes, from /proc/self/status;
// -1 where it cannot be read (not Linux).
struct ResidentMemory {
  int64_t now = -1, peak = -1;
};
ResidentMemory resident_memory();

}  // namespace tandem::profiler
