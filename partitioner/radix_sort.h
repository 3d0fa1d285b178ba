// LSD radix sort of (key, payload) pairs by key, stable: the cost model sorts thousands of times per search,
// and comparison sorts were a third of an evaluation. Internal to the partitioner.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <utility>
#include <vector>

namespace tandem::partition {

using KeyedItem = std::pair<uint64_t, uint32_t>;

// Order-preserving key of a double >= 0 (its bits, which compare like the values).
inline uint64_t key_of(double non_negative) { return std::bit_cast<uint64_t>(non_negative); }

// Sorts `items` by key, keeping the order of equal keys; `scratch` is reused between calls.
inline void radix_sort(std::vector<KeyedItem>& items, std::vector<KeyedItem>& scratch) {
  constexpr int kBits = 11;
  constexpr std::size_t kBuckets = std::size_t{1} << kBits;
  if (items.size() < 256) {  // the histograms cost more than they save
    std::stable_sort(items.begin(), items.end(),
                     [](const KeyedItem& x, const KeyedItem& y) { return x.first < y.first; });
    return;
  }
  scratch.resize(items.size());
  uint64_t differ = 0;  // bits in which some key differs from the first: passes over equal digits are skipped
  for (const KeyedItem& it : items) differ |= it.first ^ items.front().first;
  std::array<uint32_t, kBuckets> count;
  for (int shift = 0; shift < 64; shift += kBits) {
    if (((differ >> shift) & (kBuckets - 1)) == 0) continue;
    std::fill(count.begin(), count.end(), 0u);
    for (const KeyedItem& it : items) ++count[(it.first >> shift) & (kBuckets - 1)];
    uint32_t sum = 0;
    for (uint32_t& c : count) {
      const uint32_t here = c;
      c = sum;
      sum += here;
    }
    for (const KeyedItem& it : items) scratch[count[(it.first >> shift) & (kBuckets - 1)]++] = it;
    items.swap(scratch);
  }
}

}  // namespace tandem::partition
