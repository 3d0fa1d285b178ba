// One lane's free time (a CPU lane, a GPU stream or a copy engine), with insertion into idle gaps. Shared by
// the cost model and HEFT. Internal to the partitioner.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace tandem::partition {

class Timeline {
 public:
  // Gaps further than this many past `ready` are not searched, so placing stays cheap on long lanes; a
  // task that fits none goes at the end, which is always valid.
  static constexpr std::size_t kMaxGapScan = 64;

  struct Slot {
    double start;
    std::size_t gap;  // which gap it goes in; gaps().size() for the end of the lane
  };

  void clear() {
    gaps_.clear();
    end_ = 0;
    widest_gap_ = 0;
  }
  // The earliest start >= ready of `dur` that overlaps nothing placed so far.
  Slot find(double ready, double dur) const;
  void place(Slot slot, double dur);
  double end() const { return end_; }  // when the last placed task finishes

 private:
  std::vector<std::pair<double, double>> gaps_;  // idle intervals before end_, sorted, non-empty
  double end_ = 0;
  double widest_gap_ = 0;  // no gap is wider: wider tasks skip the search
};

}  // namespace tandem::partition
