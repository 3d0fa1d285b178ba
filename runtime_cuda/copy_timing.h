// Measures one host<->device copy over the link, for the profiler's link calibration (alpha + bytes/beta).
#pragma once

#include <cstddef>

#include "graph/status.h"

namespace tandem::cuda {

// Median time in microseconds of copying `bytes` between pinned host memory and device 0, in the given
// direction, over `reps` timed repetitions (after one untimed warm-up), each timed with CUDA events on a
// stream of its own. Fails when there is no GPU, when reps < 1, or when any CUDA call fails.
Result<double> time_copy_us(std::size_t bytes, bool host_to_device, int reps);

}  // namespace tandem::cuda
