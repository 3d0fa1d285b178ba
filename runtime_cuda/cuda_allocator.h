// GPU memory for tandem: a CachingPool over cudaMalloc/cudaFree on one device, and DeviceBuffer, the RAII
// handle kernels and weights hold. Accounting (current and peak per category, reserved) comes from the pool.
#pragma once

#include <cstddef>
#include <memory>
#include <shared_mutex>

#include "graph/status.h"
#include "runtime_cuda/caching_pool.h"

namespace tandem::cuda {

// The process's guard of CUDA Graph captures against calls that synchronize the whole device (cudaFree,
// cudaFreeHost, cublasDestroy): such a call from any thread invalidates a capture under way on the same GPU,
// thread-local capture mode or not. Held shared while a thread records a graph (CudaRnn::run, through
// CublasContext::capture_guard), exclusively around those calls and the ones that may synchronize (the raw
// allocator's cudaMalloc and cudaFree, cudaHostAlloc and cublasCreate when a thread state is made, its
// destruction). One for the process, not one per CudaDevice: two devices on one GPU (two sessions) would
// otherwise break each other's captures. Lock order: a pool's lock, then this guard (never the reverse).
std::shared_mutex& device_sync_guard();

class CudaAllocator {
 public:
  // Allocations go to device `device` (cudaSetDevice is called around each raw allocation).
  explicit CudaAllocator(int device = 0);
  CudaAllocator(const CudaAllocator&) = delete;
  CudaAllocator& operator=(const CudaAllocator&) = delete;

  int device() const { return device_; }
  Result<void*> allocate(std::size_t bytes, MemoryCategory category) { return pool_.allocate(bytes, category); }
  Status free(void* ptr) { return pool_.free(ptr); }
  void release_cached() { pool_.release_cached(); }
  PoolStats stats() const { return pool_.stats(); }
  void reset_peaks() { pool_.reset_peaks(); }

 private:
  int device_;
  CachingPool pool_;
};

// A block of device memory from a CudaAllocator, returned to it on destruction. Move-only.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  static Result<DeviceBuffer> allocate(CudaAllocator& allocator, std::size_t bytes, MemoryCategory category);
  DeviceBuffer(DeviceBuffer&& o) noexcept { *this = std::move(o); }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { reset(); }

  void reset();
  void* get() const { return ptr_; }
  template <typename T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }
  std::size_t size() const { return bytes_; }

 private:
  CudaAllocator* allocator_ = nullptr;
  void* ptr_ = nullptr;
  std::size_t bytes_ = 0;
};

}  // namespace tandem::cuda
