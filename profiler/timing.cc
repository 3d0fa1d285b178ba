#include "profiler/timing.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace tandem::profiler {

double percentile(const std::vector<double>& sorted, double p) {
  const double at = p * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(at);
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - static_cast<double>(lo));
}

namespace {

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return percentile(v, 0.5);
}

}  // namespace

Result<Timing> measure(const std::function<Result<double>()>& once, const TimingOptions& options) {
  for (int i = 0; i < options.warmup; ++i) TANDEM_RETURN_IF_ERROR(once().status());
  const int min_reps = std::max(1, options.min_reps);
  const int max_reps = std::max(min_reps, options.max_reps);
  const auto start = std::chrono::steady_clock::now();
  std::vector<double> samples;
  Timing t;
  while (static_cast<int>(samples.size()) < max_reps) {
    TANDEM_ASSIGN_OR_RETURN(double us, once());
    samples.push_back(us);
    if (static_cast<int>(samples.size()) < min_reps || samples.size() < 2) continue;  // a half needs one sample
    const std::vector<double> first_half(samples.begin(), samples.begin() + static_cast<long>(samples.size() / 2));
    const double all = median_of(samples), half = median_of(first_half);
    if (std::abs(all - half) <= options.stable_tolerance * std::max(all, 1e-3)) {
      t.stable = true;
      break;
    }
    const double elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (elapsed_ms >= options.budget_ms) break;
  }
  std::sort(samples.begin(), samples.end());
  t.median_us = percentile(samples, 0.5);
  t.p90_us = percentile(samples, 0.9);
  t.reps = static_cast<int>(samples.size());
  return t;
}

}  // namespace tandem::profiler
