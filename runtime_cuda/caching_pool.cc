#include "runtime_cuda/caching_pool.h"

#include <cstdio>

namespace tandem::cuda {

const char* memory_category_name(MemoryCategory c) {
  switch (c) {
    case MemoryCategory::kWeights:
      return "weights";
    case MemoryCategory::kActivations:
      return "activations";
    case MemoryCategory::kWorkspace:
      return "workspace";
  }
  return "?";
}

void MemoryCounter::add(std::size_t bytes) {
  current += bytes;
  if (current > peak) peak = current;
}

std::size_t CachingPool::round_up(std::size_t bytes) {
  return (bytes + kBlockGranularity - 1) / kBlockGranularity * kBlockGranularity;
}

CachingPool::~CachingPool() {
  std::lock_guard<std::mutex> lock(mu_);
  release_cached_locked();
  // Live blocks at destruction mean a DeviceBuffer outlived its allocator: say so rather than free memory
  // that someone may still use.
  if (!live_.empty())
    std::fprintf(stderr, "tandem: CUDA caching pool destroyed with %zu blocks (%zu bytes) still in use\n",
                 live_.size(), stats_.in_use.current);
}

Result<void*> CachingPool::allocate(std::size_t bytes, MemoryCategory category) {
  if (bytes == 0) return static_cast<void*>(nullptr);
  const std::size_t rounded = round_up(bytes);
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.allocs;
  void* ptr = nullptr;
  std::size_t block = rounded;
  // Best fit among cached blocks no larger than twice the request, so a small request cannot pin a big block.
  auto it = cache_.lower_bound(rounded);
  if (it != cache_.end() && it->first <= 2 * rounded) {
    ptr = it->second;
    block = it->first;
    cache_.erase(it);
    stats_.cached_bytes -= block;
    ++stats_.cache_hits;
  } else {
    Result<void*> got = raw_.alloc(rounded);
    if (!got && !cache_.empty()) {  // the cache may be what fills the device: give it back and retry
      release_cached_locked();
      got = raw_.alloc(rounded);
    }
    if (!got)
      return Status::error("allocating " + std::to_string(bytes) + " bytes of " + memory_category_name(category) +
                           " (" + std::to_string(stats_.in_use.current) + " bytes in use, " +
                           std::to_string(stats_.reserved.current) + " reserved): " + got.status().message());
    ptr = *got;
    ++stats_.raw_allocs;
    stats_.reserved.add(rounded);
  }
  live_[ptr] = Block{block, bytes, category};
  stats_.by_category[static_cast<std::size_t>(category)].add(bytes);
  stats_.in_use.add(bytes);
  return ptr;
}

Status CachingPool::free(void* ptr) {
  if (!ptr) return Status::ok();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_.find(ptr);
  if (it == live_.end()) return Status::error("CUDA caching pool: freeing a pointer it did not allocate (or twice)");
  const Block b = it->second;
  live_.erase(it);
  stats_.by_category[static_cast<std::size_t>(b.category)].sub(b.requested);
  stats_.in_use.sub(b.requested);
  cache_.emplace(b.rounded, ptr);
  stats_.cached_bytes += b.rounded;
  return Status::ok();
}

void CachingPool::release_cached() {
  std::lock_guard<std::mutex> lock(mu_);
  release_cached_locked();
}

void CachingPool::release_cached_locked() {
  for (auto& [size, ptr] : cache_) {
    raw_.free(ptr);
    ++stats_.raw_frees;
    stats_.reserved.sub(size);
  }
  cache_.clear();
  stats_.cached_bytes = 0;
}

PoolStats CachingPool::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void CachingPool::reset_peaks() {
  std::lock_guard<std::mutex> lock(mu_);
  for (MemoryCounter& c : stats_.by_category) c.peak = c.current;
  stats_.in_use.peak = stats_.in_use.current;
  stats_.reserved.peak = stats_.reserved.current;
}

Result<std::size_t> CachingPool::block_size(const void* ptr) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_.find(const_cast<void*>(ptr));
  if (it == live_.end()) return Status::error("CUDA caching pool: not a live block");
  return it->second.requested;
}

}  // namespace tandem::cuda
