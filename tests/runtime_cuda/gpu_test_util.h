// Helpers for the GPU tests: a fixture that skips (saying why) when no GPU is present, device buffers
// filled from and read back to host vectors, and the comparison every GPU test uses.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "runtime_cuda/cuda_allocator.h"
#include "runtime_cuda/cuda_check.h"
#include "runtime_cuda/cuda_probe.h"
#include "runtime_cuda/cuda_stream.h"
#include "runtime_cuda/cublas_context.h"
#include "runtime_cuda/kernels/gemm.h"

namespace tandem::cuda::test {

class GpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const CudaProbe probe = probe_cuda();
    if (probe.gpus.empty()) GTEST_SKIP() << "no CUDA GPU: " << probe.reason;
    auto s = CudaStream::create(0);
    ASSERT_TRUE(s) << s.status().message();
    stream_ = std::move(s).value();
    auto h = CublasContext::create(allocator_, 0, stream_.get());
    ASSERT_TRUE(h) << h.status().message();
    cublas_.emplace(std::move(h).value());
  }
  cudaStream_t stream() const { return stream_.get(); }

  // A device copy of `host`.
  template <typename T>
  DeviceBuffer upload(const std::vector<T>& host) {
    auto b = DeviceBuffer::allocate(allocator_, host.size() * sizeof(T), MemoryCategory::kActivations);
    EXPECT_TRUE(b) << b.status().message();
    if (!b) return DeviceBuffer();
    if (!host.empty()) {
      EXPECT_EQ(cudaMemcpy(b->get(), host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice), cudaSuccess);
      // From pageable memory cudaMemcpy may return before the DMA has landed, and the test's stream does not
      // wait for the legacy stream: wait here so kernels on stream() read the data.
      EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    }
    return std::move(b).value();
  }
  // Uninitialised device memory for `n` elements.
  template <typename T>
  DeviceBuffer device(int64_t n) {
    auto b = DeviceBuffer::allocate(allocator_, static_cast<std::size_t>(n) * sizeof(T), MemoryCategory::kActivations);
    EXPECT_TRUE(b) << b.status().message();
    return b ? std::move(b).value() : DeviceBuffer();
  }
  // Waits for the stream and copies `n` elements back.
  template <typename T>
  std::vector<T> download(const DeviceBuffer& b, int64_t n) {
    std::vector<T> out(static_cast<std::size_t>(n));
    Status st = stream_.synchronize();
    EXPECT_TRUE(st) << st.message();
    if (n > 0) {
      EXPECT_EQ(cudaMemcpy(out.data(), b.get(), out.size() * sizeof(T), cudaMemcpyDeviceToHost), cudaSuccess);
    }
    return out;
  }

  CudaAllocator allocator_{0};
  CudaStream stream_;
  std::optional<CublasContext> cublas_;  // bound to stream_, its workspace from allocator_
};

inline std::vector<float> random_vector(int64_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(static_cast<std::size_t>(n));
  for (float& x : v) x = dist(gen);
  return v;
}

// |got - want| <= atol + rtol·|want| elementwise; reports the first few misses with `what`.
template <typename G, typename W>
void expect_near_all(const std::vector<G>& got, const std::vector<W>& want, const std::string& what,
                     double rtol = 1e-4, double atol = 1e-5) {
  ASSERT_EQ(got.size(), want.size()) << what;
  int bad = 0;
  for (std::size_t i = 0; i < want.size() && bad < 5; ++i) {
    const double g = static_cast<double>(got[i]), w = static_cast<double>(want[i]);
    if (std::isnan(g) && std::isnan(w)) continue;
    if (!(std::abs(g - w) <= atol + rtol * std::abs(w))) {
      ADD_FAILURE() << what << ": element " << i << ": GPU " << g << ", reference " << w;
      ++bad;
    }
  }
}

}  // namespace tandem::cuda::test
