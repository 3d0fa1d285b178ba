// The CUDA caching pool's bookkeeping, over a fake raw allocator (malloc with a capacity), so it runs on
// every machine: exact current and peak bytes per category, reuse from the cache, retry after freeing the
// cache when the device is full, errors, and consistency under concurrent use.
#include "runtime_cuda/caching_pool.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

namespace tandem::cuda {
namespace {

// malloc with a byte limit and counters, standing in for cudaMalloc/cudaFree.
struct FakeDevice {
  std::size_t capacity = SIZE_MAX, live = 0;
  int allocs = 0, frees = 0;
  std::mutex mu;

  RawAllocator raw() {
    RawAllocator r;
    r.alloc = [this](std::size_t bytes) -> Result<void*> {
      std::lock_guard<std::mutex> lock(mu);
      EXPECT_EQ(bytes % CachingPool::kBlockGranularity, 0u) << "the pool asks the device for rounded sizes";
      if (live + bytes > capacity) return Status::error("fake device: out of memory");
      live += bytes;
      ++allocs;
      void* p = std::malloc(bytes);
      sizes[p] = bytes;
      return p;
    };
    r.free = [this](void* p) {
      std::lock_guard<std::mutex> lock(mu);
      live -= sizes.at(p);
      sizes.erase(p);
      ++frees;
      std::free(p);
    };
    return r;
  }
  std::map<void*, std::size_t> sizes;
};

constexpr auto kW = MemoryCategory::kWeights, kA = MemoryCategory::kActivations, kS = MemoryCategory::kWorkspace;

TEST(CachingPool, CountsCurrentAndPeakPerCategoryExactly) {
  FakeDevice dev;
  CachingPool pool(dev.raw());
  void* w = *pool.allocate(1000, kW);
  void* a1 = *pool.allocate(300, kA);
  void* a2 = *pool.allocate(700, kA);
  void* s = *pool.allocate(5000, kS);
  PoolStats st = pool.stats();
  EXPECT_EQ(st.of(kW).current, 1000u);
  EXPECT_EQ(st.of(kA).current, 1000u);
  EXPECT_EQ(st.of(kS).current, 5000u);
  EXPECT_EQ(st.in_use.current, 7000u);
  EXPECT_EQ(st.in_use.peak, 7000u);
  // Reserved is what the device gave: each request rounded up to the granularity.
  const std::size_t reserved = CachingPool::round_up(1000) + CachingPool::round_up(300) +
                               CachingPool::round_up(700) + CachingPool::round_up(5000);
  EXPECT_EQ(st.reserved.current, reserved);
  EXPECT_EQ(dev.live, reserved);

  ASSERT_TRUE(pool.free(a1));
  ASSERT_TRUE(pool.free(s));
  st = pool.stats();
  EXPECT_EQ(st.of(kA).current, 700u);
  EXPECT_EQ(st.of(kA).peak, 1000u);
  EXPECT_EQ(st.of(kS).current, 0u);
  EXPECT_EQ(st.of(kS).peak, 5000u);
  EXPECT_EQ(st.in_use.current, 1700u);
  EXPECT_EQ(st.in_use.peak, 7000u);
  EXPECT_EQ(st.reserved.current, reserved) << "freed blocks stay cached";
  EXPECT_EQ(st.cached_bytes, CachingPool::round_up(300) + CachingPool::round_up(5000));

  ASSERT_TRUE(pool.free(w));
  ASSERT_TRUE(pool.free(a2));
  pool.release_cached();
  st = pool.stats();
  EXPECT_EQ(st.in_use.current, 0u);
  EXPECT_EQ(st.reserved.current, 0u);
  EXPECT_EQ(dev.live, 0u);
  EXPECT_EQ(dev.frees, dev.allocs);
}

TEST(CachingPool, InUsePeakIsSimultaneousNotSumOfCategoryPeaks) {
  FakeDevice dev;
  CachingPool pool(dev.raw());
  void* a = *pool.allocate(4096, kA);
  ASSERT_TRUE(pool.free(a));
  void* s = *pool.allocate(8192, kS);
  ASSERT_TRUE(pool.free(s));
  const PoolStats st = pool.stats();
  EXPECT_EQ(st.of(kA).peak, 4096u);
  EXPECT_EQ(st.of(kS).peak, 8192u);
  EXPECT_EQ(st.in_use.peak, 8192u);
}

TEST(CachingPool, ReusesCachedBlocksWithoutCallingTheDevice) {
  FakeDevice dev;
  CachingPool pool(dev.raw());
  void* p = *pool.allocate(10000, kA);
  ASSERT_TRUE(pool.free(p));
  void* q = *pool.allocate(9999, kS);  // same rounded size
  EXPECT_EQ(q, p);
  EXPECT_EQ(dev.allocs, 1);
  EXPECT_EQ(pool.stats().cache_hits, 1u);
  EXPECT_EQ(pool.stats().of(kS).current, 9999u) << "accounting follows the request, not the block";
  ASSERT_TRUE(pool.free(q));

  // A much smaller request does not take the big block (it would waste more than half of it).
  void* small = *pool.allocate(512, kA);
  EXPECT_NE(small, p);
  EXPECT_EQ(dev.allocs, 2);
  // A request up to the block's size does.
  void* r = *pool.allocate(6000, kA);
  EXPECT_EQ(r, p);
  ASSERT_TRUE(pool.free(small));
  ASSERT_TRUE(pool.free(r));
}

TEST(CachingPool, ReleasesTheCacheAndRetriesWhenTheDeviceIsFull) {
  FakeDevice dev;
  dev.capacity = 64 * 1024;
  CachingPool pool(dev.raw());
  void* a = *pool.allocate(40 * 1024, kA);
  ASSERT_TRUE(pool.free(a));  // cached: the device is still 40 KiB full
  Result<void*> b = pool.allocate(50 * 1024, kA);
  ASSERT_TRUE(b) << b.status().message();
  EXPECT_EQ(pool.stats().cached_bytes, 0u);
  EXPECT_EQ(dev.live, 50u * 1024);
  ASSERT_TRUE(pool.free(*b));
}

TEST(CachingPool, ReportsOutOfMemoryWithContextAndKeepsCountsIntact) {
  FakeDevice dev;
  dev.capacity = 4096;
  CachingPool pool(dev.raw());
  void* a = *pool.allocate(2048, kW);
  Result<void*> b = pool.allocate(1 << 20, kA);
  ASSERT_FALSE(b);
  EXPECT_NE(b.status().message().find("activations"), std::string::npos) << b.status().message();
  EXPECT_NE(b.status().message().find("fake device: out of memory"), std::string::npos) << b.status().message();
  EXPECT_EQ(pool.stats().in_use.current, 2048u);
  EXPECT_EQ(pool.stats().of(kA).peak, 0u);
  ASSERT_TRUE(pool.free(a));
}

TEST(CachingPool, RefusesUnknownAndDoubleFrees) {
  FakeDevice dev;
  CachingPool pool(dev.raw());
  int local = 0;
  EXPECT_FALSE(pool.free(&local));
  void* p = *pool.allocate(100, kW);
  EXPECT_TRUE(pool.free(p));
  EXPECT_FALSE(pool.free(p));
  EXPECT_TRUE(pool.free(nullptr));
  EXPECT_EQ(*pool.allocate(0, kW), nullptr);
  EXPECT_EQ(pool.stats().in_use.current, 0u);
}

TEST(CachingPool, ResetPeaksStartsANewMeasurement) {
  FakeDevice dev;
  CachingPool pool(dev.raw());
  void* a = *pool.allocate(3000, kA);
  void* b = *pool.allocate(1000, kA);
  ASSERT_TRUE(pool.free(a));
  pool.reset_peaks();
  EXPECT_EQ(pool.stats().of(kA).peak, 1000u);
  EXPECT_EQ(pool.stats().in_use.peak, 1000u);
  ASSERT_TRUE(pool.free(b));
}

TEST(CachingPool, StaysConsistentUnderConcurrentUse) {
  FakeDevice dev;
  CachingPool pool(dev.raw());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&pool, t] {
      std::mt19937 gen(static_cast<uint32_t>(t));
      std::uniform_int_distribution<std::size_t> size(1, 20000);
      std::vector<void*> held;
      for (int i = 0; i < 2000; ++i) {
        if (held.size() < 8 && gen() % 2 == 0) {
          Result<void*> p = pool.allocate(size(gen), static_cast<MemoryCategory>(gen() % kNumMemoryCategories));
          ASSERT_TRUE(p);
          held.push_back(*p);
        } else if (!held.empty()) {
          ASSERT_TRUE(pool.free(held.back()));
          held.pop_back();
        }
      }
      for (void* p : held) ASSERT_TRUE(pool.free(p));
    });
  }
  for (auto& th : threads) th.join();
  const PoolStats st = pool.stats();
  EXPECT_EQ(st.in_use.current, 0u);
  for (const MemoryCounter& c : st.by_category) EXPECT_EQ(c.current, 0u);
  EXPECT_EQ(st.reserved.current, st.cached_bytes);
  EXPECT_LE(st.in_use.peak, 4u * 8 * 20000);
  pool.release_cached();
  EXPECT_EQ(dev.live, 0u);
}

}  // namespace
}  // namespace tandem::cuda
