#include "profiler/link_fit.h"

#include <algorithm>
#include <cmath>

namespace tandem::profiler {

using partition::LinkProfile;
using partition::LinkSample;

LinkProfile fit_link(const std::vector<LinkSample>& samples) {
  // Weighted least squares for t = alpha + k * bytes with weights 1/t^2 (relative error); beta = 1/k.
  double sw = 0, sb = 0, st = 0, sbb = 0, sbt = 0;
  for (const LinkSample& s : samples) {
    const double w = 1.0 / std::max(s.us * s.us, 1e-12), b = static_cast<double>(s.bytes);
    sw += w;
    sb += w * b;
    st += w * s.us;
    sbb += w * b * b;
    sbt += w * b * s.us;
  }
  double alpha = 0, k = 0;
  const double det = sw * sbb - sb * sb;
  if (det > 0) {
    k = (sw * sbt - sb * st) / det;
    alpha = (st - k * sb) / sw;
  }
  if (alpha < 0 || det <= 0) {  // a pure bandwidth fits better than a negative latency
    alpha = 0;
    k = sbb > 0 ? sbt / sbb : 0;
  }
  if (!(k > 0)) {  // no growth with size (all sizes cost the same): a flat latency, a huge bandwidth
    alpha = sw > 0 ? st / sw : 0;
    k = 1e-12;
  }
  LinkProfile fit;
  fit.alpha_us = alpha;
  fit.beta_bytes_per_us = 1.0 / k;
  double sum_sq = 0;
  for (const LinkSample& s : samples) {
    const double r = alpha + k * static_cast<double>(s.bytes) - s.us;
    sum_sq += r * r;
    fit.max_residual_us = std::max(fit.max_residual_us, std::abs(r));
  }
  fit.residual_us = samples.empty() ? 0 : std::sqrt(sum_sq / static_cast<double>(samples.size()));
  fit.samples = samples;
  return fit;
}

std::vector<int64_t> calibration_sizes(int64_t smallest, int64_t largest) {
  std::vector<int64_t> sizes;
  for (int64_t b = std::max<int64_t>(1, smallest); b < largest; b *= 4) sizes.push_back(b);
  sizes.push_back(largest);
  return sizes;
}

Result<LinkProfile> calibrate_link(const std::function<Result<double>(int64_t bytes)>& copy_us,
                                   const std::vector<int64_t>& sizes, const TimingOptions& options,
                                   const std::function<void(int, int)>& on_size) {
  if (sizes.empty()) return Status::error("link calibration needs at least one copy size");
  std::vector<LinkSample> samples;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const int64_t bytes = sizes[i];
    auto t = measure([&] { return copy_us(bytes); }, options);
    if (!t) return Status::error("copying " + std::to_string(bytes) + " bytes: " + t.status().message());
    samples.push_back({bytes, t->median_us});
    if (on_size) on_size(static_cast<int>(i + 1), static_cast<int>(sizes.size()));
  }
  return fit_link(samples);
}

}  // namespace tandem::profiler
