// The human view of a profile, printed by `tandem profile`: the slowest nodes per device, each node's
// CPU/GPU time ratio, device totals and the link fits. Estimated numbers are marked as such.
#pragma once

#include <string>

#include "partitioner/profile.h"

namespace tandem::profiler {

std::string profile_summary(const partition::Profile& p, int top_n = 10);

}  // namespace tandem::profiler
