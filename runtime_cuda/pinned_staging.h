// Pinned (page-locked) host memory and asynchronous host<->device copies.
//
// cudaMemcpyAsync is only asynchronous, and only reaches full link bandwidth, from pinned memory; tensors
// on the host live in ordinary pageable memory. PinnedStaging moves pageable data through two pinned
// chunks in turn, so the CPU's memcpy into one chunk overlaps the DMA out of the other.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

#include "graph/status.h"
#include "runtime_cuda/cuda_stream.h"

namespace tandem::cuda {

// Page-locked host memory from cudaHostAlloc, freed on destruction. Move-only.
class PinnedBuffer {
 public:
  static Result<PinnedBuffer> allocate(std::size_t bytes);
  PinnedBuffer() = default;
  PinnedBuffer(PinnedBuffer&& o) noexcept : ptr_(o.ptr_), bytes_(o.bytes_) { o.ptr_ = nullptr, o.bytes_ = 0; }
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept;
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  ~PinnedBuffer();

  void* get() const { return ptr_; }
  std::size_t size() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  std::size_t bytes_ = 0;
};

// Asynchronous copies between pinned host memory and the device, ordered on `stream`.
Status copy_to_device_async(void* device_dst, const void* pinned_src, std::size_t bytes, cudaStream_t stream);
Status copy_to_host_async(void* pinned_dst, const void* device_src, std::size_t bytes, cudaStream_t stream);

// Stages copies of pageable host memory through two pinned chunks. Not thread-safe: one per stream/thread.
class PinnedStaging {
 public:
  static Result<PinnedStaging> create(std::size_t chunk_bytes = std::size_t{4} << 20);

  // Copies `bytes` from pageable host memory to the device on `stream`. Returns once the source has been
  // read (the caller may reuse it); the device copy may still be in flight, ordered on `stream`.
  Status upload(void* device_dst, const void* host_src, std::size_t bytes, cudaStream_t stream);
  // Copies `bytes` from the device to pageable host memory after the work queued on `stream`; returns
  // when the data is on the host.
  Status download(void* host_dst, const void* device_src, std::size_t bytes, cudaStream_t stream);

  std::size_t chunk_bytes() const { return chunk_bytes_; }

 private:
  std::size_t chunk_bytes_ = 0;
  PinnedBuffer chunk_[2];
  CudaEvent done_[2];     // recorded after the copy that last used chunk i
  bool pending_[2] = {false, false};
};

}  // namespace tandem::cuda
