#include "runtime_cuda/cuda_allocator.h"

#include <cuda_runtime_api.h>

#include <cstdio>
#include <string>

#include "runtime_cuda/cuda_check.h"

namespace tandem::cuda {

std::shared_mutex& device_sync_guard() {
  static auto* guard = new std::shared_mutex;  // never destroyed: pools may go during static destruction
  return *guard;
}

namespace {

RawAllocator cuda_raw_allocator(int device) {
  RawAllocator raw;
  raw.alloc = [device](std::size_t bytes) -> Result<void*> {
    TANDEM_CUDA_RETURN_IF_ERROR(cudaSetDevice(device));
    void* p = nullptr;
    // cudaMalloc may synchronize the device (CUDA's programming guide lists device memory allocation among
    // the implicit synchronizations); rare in steady state (the pool caches), so it waits for captures too.
    std::unique_lock<std::shared_mutex> no_capture(device_sync_guard());
    Status st = cuda_status(cudaMalloc(&p, bytes), "cudaMalloc(" + std::to_string(bytes) + " bytes)");
    if (!st) {
      (void)cudaGetLastError();  // out-of-memory is not sticky; clear it so later calls start clean
      return st;
    }
    return p;
  };
  raw.free = [device](void* p) {
    TANDEM_CUDA_REPORT_IF_ERROR(cudaSetDevice(device));
    // cudaFree synchronises the device, which would invalidate a graph capture under way on another thread
    // (the pool frees when out of memory and when it goes, with its CudaDevice: another session's captures
    // go on meanwhile): wait until none is. A failure here can only be reported, not handled.
    std::unique_lock<std::shared_mutex> no_capture(device_sync_guard());
    TANDEM_CUDA_REPORT_IF_ERROR(cudaFree(p));
  };
  return raw;
}

}  // namespace

CudaAllocator::CudaAllocator(int device) : device_(device), pool_(cuda_raw_allocator(device)) {}

Result<DeviceBuffer> DeviceBuffer::allocate(CudaAllocator& allocator, std::size_t bytes, MemoryCategory category) {
  TANDEM_ASSIGN_OR_RETURN(void* p, allocator.allocate(bytes, category));
  DeviceBuffer b;
  b.allocator_ = &allocator;
  b.ptr_ = p;
  b.bytes_ = bytes;
  return b;
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
  if (this != &o) {
    reset();
    allocator_ = o.allocator_;
    ptr_ = o.ptr_;
    bytes_ = o.bytes_;
    o.allocator_ = nullptr;
    o.ptr_ = nullptr;
    o.bytes_ = 0;
  }
  return *this;
}

void DeviceBuffer::reset() {
  if (allocator_ && ptr_) {
    Status st = allocator_->free(ptr_);
    if (!st) std::fprintf(stderr, "tandem: %s\n", st.message().c_str());
  }
  allocator_ = nullptr;
  ptr_ = nullptr;
  bytes_ = 0;
}

}  // namespace tandem::cuda
