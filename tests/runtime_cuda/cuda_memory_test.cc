// GPU memory and copies: the device allocator's accounting over real cudaMalloc and pinned staging round
// trips across chunk boundaries (link timing: cuda_device_test). Without a GPU, what can be checked is that every entry
// point fails with a Status naming the CUDA call instead of crashing; those tests run everywhere.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <vector>

#include "runtime_cuda/cuda_allocator.h"
#include "runtime_cuda/cuda_probe.h"
#include "runtime_cuda/pinned_staging.h"
#include "tests/runtime_cuda/gpu_test_util.h"

namespace tandem::cuda {
namespace {

bool have_gpu() { return !probe_cuda().gpus.empty(); }

TEST(CudaWithoutGpu, AllocationFailsWithTheCallNamed) {
  if (have_gpu()) GTEST_SKIP() << "a GPU is present: this test checks the no-GPU paths";
  CudaAllocator alloc(0);
  Result<void*> p = alloc.allocate(1024, MemoryCategory::kWeights);
  ASSERT_FALSE(p);
  EXPECT_NE(p.status().message().find("cuda"), std::string::npos) << p.status().message();
  EXPECT_EQ(alloc.stats().in_use.current, 0u);
}

class CudaMemoryTest : public test::GpuTest {};

TEST_F(CudaMemoryTest, AllocatorAccountsPerCategoryAndReusesBlocks) {
  CudaAllocator alloc(0);
  {
    auto w = DeviceBuffer::allocate(alloc, 3 << 20, MemoryCategory::kWeights);
    auto a = DeviceBuffer::allocate(alloc, 1000, MemoryCategory::kActivations);
    ASSERT_TRUE(w && a);
    EXPECT_EQ(alloc.stats().of(MemoryCategory::kWeights).current, 3u << 20);
    EXPECT_EQ(alloc.stats().of(MemoryCategory::kActivations).current, 1000u);
    // The memory is usable.
    EXPECT_EQ(cudaMemset(w->get(), 1, w->size()), cudaSuccess);
    DeviceBuffer moved = std::move(*a);
    EXPECT_EQ(moved.size(), 1000u);
  }
  PoolStats st = alloc.stats();
  EXPECT_EQ(st.in_use.current, 0u);
  EXPECT_EQ(st.in_use.peak, (3u << 20) + 1000u);
  EXPECT_GT(st.cached_bytes, 0u);
  auto again = DeviceBuffer::allocate(alloc, 3 << 20, MemoryCategory::kWorkspace);
  ASSERT_TRUE(again);
  EXPECT_EQ(alloc.stats().cache_hits, 1u);
  again->reset();
  alloc.release_cached();
  EXPECT_EQ(alloc.stats().reserved.current, 0u);
}

// A failed call that was reported (as a Status) must not be reported again by the next launch check, which
// reads the thread's last error: a later, unrelated kernel would fail with this call's error.
TEST_F(CudaMemoryTest, AReportedErrorIsNotTheNextLaunchsError) {
  int count = 0;
  ASSERT_EQ(cudaGetDeviceCount(&count), cudaSuccess);
  Status st = cuda_status(cudaSetDevice(count + 7), "cudaSetDevice");  // no such device: a non-sticky error
  ASSERT_FALSE(st);
  EXPECT_NE(st.message().find("cudaSetDevice"), std::string::npos) << st.message();
  EXPECT_EQ(cudaPeekAtLastError(), cudaSuccess);
  Status next = launch_status("a kernel launched after the failed call");
  EXPECT_TRUE(next) << next.message();
  int current = -1;
  ASSERT_EQ(cudaGetDevice(&current), cudaSuccess);
  EXPECT_EQ(current, 0) << "the failed cudaSetDevice changed the current device";
}

TEST_F(CudaMemoryTest, PinnedStagingRoundTripsAcrossChunks) {
  auto staging = PinnedStaging::create(1 << 16);
  ASSERT_TRUE(staging) << staging.status().message();
  for (std::size_t n : {std::size_t{1}, std::size_t{1} << 14, (std::size_t{1} << 16) + 3, std::size_t{5} << 18}) {
    std::vector<uint8_t> src(n), back(n, 0);
    std::iota(src.begin(), src.end(), static_cast<uint8_t>(n));
    DeviceBuffer d = device<uint8_t>(static_cast<int64_t>(n));
    ASSERT_TRUE(staging->upload(d.get(), src.data(), n, stream()));
    ASSERT_TRUE(staging->download(back.data(), d.get(), n, stream()));
    EXPECT_EQ(back, src) << n << " bytes";
  }
}

}  // namespace
}  // namespace tandem::cuda
