#include "partitioner/timeline.h"

#include <algorithm>
#include <cstddef>

namespace tandem::partition {

Timeline::Slot Timeline::find(double ready, double dur) const {
  if (ready >= end_ || dur > widest_gap_ || gaps_.empty()) return {std::max(ready, end_), gaps_.size()};
  // Gap ends are sorted: the first gap still open after `ready`.
  auto it = std::partition_point(gaps_.begin(), gaps_.end(),
                                 [ready](const std::pair<double, double>& g) { return g.second <= ready; });
  std::size_t i = static_cast<std::size_t>(it - gaps_.begin());
  for (std::size_t scanned = 0; i < gaps_.size() && scanned < kMaxGapScan; ++i, ++scanned) {
    const double start = std::max(ready, gaps_[i].first);
    if (start + dur <= gaps_[i].second) return {start, i};
  }
  return {std::max(ready, end_), gaps_.size()};
}

void Timeline::place(Slot slot, double dur) {
  const double finish = slot.start + dur;
  if (slot.gap >= gaps_.size()) {
    if (slot.start > end_) {
      gaps_.emplace_back(end_, slot.start);
      widest_gap_ = std::max(widest_gap_, slot.start - end_);
    }
    end_ = std::max(end_, finish);
    return;
  }
  // Split the gap around the task, keeping only the non-empty pieces.
  const auto [lo, hi] = gaps_[slot.gap];
  const auto at = gaps_.begin() + static_cast<std::ptrdiff_t>(slot.gap);
  if (slot.start > lo && finish < hi) {
    *at = {lo, slot.start};
    gaps_.insert(at + 1, {finish, hi});
  } else if (slot.start > lo) {
    *at = {lo, slot.start};
  } else if (finish < hi) {
    *at = {finish, hi};
  } else {
    gaps_.erase(at);
  }
}

}  // namespace tandem::partition
