// The bookkeeping of tandem's GPU memory: a caching pool with exact accounting, kept apart from cudaMalloc
// so it is tested on machines without a GPU (the raw allocation functions are parameters).
//
// Freed blocks are kept in a cache keyed by their rounded size and handed out again to requests that fit
// them without wasting more than half the block, so a steady-state serving loop stops calling cudaMalloc
// (which synchronises the device). When the raw allocator fails, the pool frees its cache and tries once
// more. Every byte is accounted twice: by category (weights, activations, workspace: what callers asked
// for, current and peak) and as reserved (what the pool holds from the device, cached blocks included).
//
// Thread-safe. Reuse is immediate: a block freed while work queued on another stream still reads it is
// the caller's bug (free after synchronising that stream, or use one stream per pool user).
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

#include "graph/status.h"

namespace tandem::cuda {

enum class MemoryCategory { kWeights = 0, kActivations = 1, kWorkspace = 2 };
constexpr std::size_t kNumMemoryCategories = 3;
const char* memory_category_name(MemoryCategory c);

struct MemoryCounter {
  std::size_t current = 0;
  std::size_t peak = 0;
  void add(std::size_t bytes);
  void sub(std::size_t bytes) { current -= bytes; }
};

struct PoolStats {
  std::array<MemoryCounter, kNumMemoryCategories> by_category;  // bytes asked for, per category
  MemoryCounter in_use;    // bytes asked for, all categories together (its peak is a simultaneous peak)
  MemoryCounter reserved;  // bytes held from the raw allocator: blocks in use (rounded) plus the cache
  std::size_t cached_bytes = 0;
  std::size_t raw_allocs = 0, raw_frees = 0, cache_hits = 0, allocs = 0;

  const MemoryCounter& of(MemoryCategory c) const { return by_category[static_cast<std::size_t>(c)]; }
};

struct RawAllocator {
  // Returns a block of exactly `bytes` (a multiple of kBlockGranularity), or a failed Status.
  std::function<Result<void*>(std::size_t bytes)> alloc;
  std::function<void(void* ptr)> free;
};

class CachingPool {
 public:
  static constexpr std::size_t kBlockGranularity = 512;  // cudaMalloc's own alignment is 256

  explicit CachingPool(RawAllocator raw) : raw_(std::move(raw)) {}
  ~CachingPool();  // returns every cached block; blocks still in use are reported lost, not freed
  CachingPool(const CachingPool&) = delete;
  CachingPool& operator=(const CachingPool&) = delete;

  // A block of at least `bytes` bytes (nullptr for 0 bytes, which is accounted as nothing).
  Result<void*> allocate(std::size_t bytes, MemoryCategory category);
  // Gives a block back to the cache; freeing nullptr is a no-op, an unknown pointer is an error.
  Status free(void* ptr);
  // Returns all cached blocks to the raw allocator.
  void release_cached();

  PoolStats stats() const;
  // Forgets the peaks (sets them to the current values), e.g. before measuring one run.
  void reset_peaks();
  // The category and requested size of a live block (for checks and error messages).
  Result<std::size_t> block_size(const void* ptr) const;

  static std::size_t round_up(std::size_t bytes);

 private:
  struct Block {
    std::size_t rounded = 0, requested = 0;
    MemoryCategory category = MemoryCategory::kActivations;
  };
  void release_cached_locked();

  RawAllocator raw_;
  mutable std::mutex mu_;
  std::multimap<std::size_t, void*> cache_;     // rounded size -> free block
  std::unordered_map<void*, Block> live_;       // blocks handed out
  PoolStats stats_;
};

}  // namespace tandem::cuda
