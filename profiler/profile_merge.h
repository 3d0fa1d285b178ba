// Merging profiles: a GPU profile taken on another machine plus a CPU profile taken here make one profile to
// partition with. Both must describe the same model at the same shapes; measured numbers replace estimated
// ones, and two measurements of the same device are a conflict rather than a silent pick.
#pragma once

#include "graph/status.h"
#include "partitioner/profile.h"

namespace tandem::profiler {

// Errors: different model hashes (or a missing one), different input shapes, different node lists, a device
// or link measured in both.
Result<partition::Profile> merge_profiles(const partition::Profile& a, const partition::Profile& b);

}  // namespace tandem::profiler
