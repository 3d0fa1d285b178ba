// What machine a profile was taken on, as far as the CPU side can tell (the GPU's name and driver come from
// the CUDA probe, when there is one).
#pragma once

#include <string>

namespace tandem::profiler {

// "model name" from /proc/cpuinfo, or "unknown CPU".
std::string cpu_model_name();

}  // namespace tandem::profiler
