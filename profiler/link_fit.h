// The cost of moving a tensor between two devices, as the partitioner's cost model sees it: alpha + bytes/beta
// (a fixed latency plus a bandwidth), fitted over copies measured from 4 B to 64 MiB.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "graph/status.h"
#include "partitioner/profile.h"
#include "profiler/timing.h"

namespace tandem::profiler {

// Fits alpha and beta by least squares on relative error (sizes span seven orders of magnitude, so an
// absolute fit would ignore every small copy), with alpha >= 0 and beta > 0. Reports the RMS and the largest
// absolute residual over the samples, and keeps the samples. Needs at least one sample.
partition::LinkProfile fit_link(const std::vector<partition::LinkSample>& samples);

// 4 B, 16 B, ... 64 MiB: powers of four, both ends included.
std::vector<int64_t> calibration_sizes(int64_t smallest = 4, int64_t largest = int64_t{64} << 20);

// `copy_us(bytes)` performs one copy of that size and returns its time. Each size is measured with
// `options` (median of repetitions), then fitted. `on_size(done, total)` reports progress.
Result<partition::LinkProfile> calibrate_link(const std::function<Result<double>(int64_t bytes)>& copy_us,
                                              const std::vector<int64_t>& sizes, const TimingOptions& options,
                                              const std::function<void(int, int)>& on_size = {});

}  // namespace tandem::profiler
