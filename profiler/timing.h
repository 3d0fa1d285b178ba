// Repeating a measurement until its median is trustworthy: warm-up runs (caches, lazy first-touch), then
// repetitions until the median of all samples and the median of the first half agree within a tolerance,
// bounded by a repetition count and a time budget. Used for nodes, link copies and CPU hand-overs.
#pragma once

#include <functional>
#include <vector>

#include "graph/status.h"

namespace tandem::profiler {

struct TimingOptions {
  int warmup = 2;
  int min_reps = 5;
  int max_reps = 200;
  double budget_ms = 200;         // stop repeating after this much time (min_reps still run)
  double stable_tolerance = 0.03;  // relative difference of the two medians that counts as stable
};

struct Timing {
  double median_us = 0;
  double p90_us = 0;
  int reps = 0;
  bool stable = false;  // the tolerance was met (false: the count or the budget ran out first)
};

// Linear interpolation between the closest ranks; `sorted` must be sorted and non-empty; p in [0, 1].
double percentile(const std::vector<double>& sorted, double p);

// `once` runs the thing once and returns its time in microseconds (it may time only part of its work,
// e.g. a copy without its set-up). An error from it stops the measurement and is returned.
Result<Timing> measure(const std::function<Result<double>()>& once, const TimingOptions& options);

}  // namespace tandem::profiler
