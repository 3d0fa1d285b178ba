#include "runtime_cuda/pinned_staging.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "runtime_cuda/cuda_check.h"

namespace tandem::cuda {

Result<PinnedBuffer> PinnedBuffer::allocate(std::size_t bytes) {
  PinnedBuffer b;
  if (bytes == 0) return b;
  TANDEM_RETURN_IF_ERROR(cuda_status(cudaHostAlloc(&b.ptr_, bytes, cudaHostAllocDefault),
                                     "cudaHostAlloc(" + std::to_string(bytes) + " bytes)"));
  b.bytes_ = bytes;
  return b;
}

PinnedBuffer& PinnedBuffer::operator=(PinnedBuffer&& o) noexcept {
  if (this != &o) {
    if (ptr_) TANDEM_CUDA_REPORT_IF_ERROR(cudaFreeHost(ptr_));
    ptr_ = o.ptr_;
    bytes_ = o.bytes_;
    o.ptr_ = nullptr;
    o.bytes_ = 0;
  }
  return *this;
}

PinnedBuffer::~PinnedBuffer() {
  if (ptr_) TANDEM_CUDA_REPORT_IF_ERROR(cudaFreeHost(ptr_));
}

Status copy_to_device_async(void* device_dst, const void* pinned_src, std::size_t bytes, cudaStream_t stream) {
  return cuda_status(cudaMemcpyAsync(device_dst, pinned_src, bytes, cudaMemcpyHostToDevice, stream),
                     "cudaMemcpyAsync host->device (" + std::to_string(bytes) + " bytes)");
}

Status copy_to_host_async(void* pinned_dst, const void* device_src, std::size_t bytes, cudaStream_t stream) {
  return cuda_status(cudaMemcpyAsync(pinned_dst, device_src, bytes, cudaMemcpyDeviceToHost, stream),
                     "cudaMemcpyAsync device->host (" + std::to_string(bytes) + " bytes)");
}

Result<PinnedStaging> PinnedStaging::create(std::size_t chunk_bytes) {
  if (chunk_bytes == 0) return Status::error("PinnedStaging: chunk size must be positive");
  PinnedStaging s;
  s.chunk_bytes_ = chunk_bytes;
  for (int i = 0; i < 2; ++i) {
    TANDEM_ASSIGN_OR_RETURN(s.chunk_[i], PinnedBuffer::allocate(chunk_bytes));
    TANDEM_ASSIGN_OR_RETURN(s.done_[i], CudaEvent::create(/*timing=*/false));
  }
  return s;
}

Status PinnedStaging::upload(void* device_dst, const void* host_src, std::size_t bytes, cudaStream_t stream) {
  const auto* src = static_cast<const char*>(host_src);
  auto* dst = static_cast<char*>(device_dst);
  for (std::size_t off = 0, i = 0; off < bytes; off += chunk_bytes_, i ^= 1) {
    const std::size_t n = std::min(chunk_bytes_, bytes - off);
    if (pending_[i]) TANDEM_RETURN_IF_ERROR(done_[i].synchronize());  // its previous DMA has read it
    std::memcpy(chunk_[i].get(), src + off, n);
    TANDEM_RETURN_IF_ERROR(copy_to_device_async(dst + off, chunk_[i].get(), n, stream));
    TANDEM_RETURN_IF_ERROR(done_[i].record(stream));
    pending_[i] = true;
  }
  return Status::ok();
}

Status PinnedStaging::download(void* host_dst, const void* device_src, std::size_t bytes, cudaStream_t stream) {
  const auto* src = static_cast<const char*>(device_src);
  auto* dst = static_cast<char*>(host_dst);
  // Queue chunk k+1's DMA before copying chunk k out on the CPU, so the two overlap.
  std::size_t queued_off = 0, queued_n = 0;
  int queued_i = -1;
  for (std::size_t off = 0, i = 0; off < bytes || queued_i >= 0; off += chunk_bytes_, i ^= 1) {
    int this_i = -1;
    std::size_t n = 0;
    if (off < bytes) {
      n = std::min(chunk_bytes_, bytes - off);
      if (pending_[i]) TANDEM_RETURN_IF_ERROR(done_[i].synchronize());
      TANDEM_RETURN_IF_ERROR(copy_to_host_async(chunk_[i].get(), src + off, n, stream));
      TANDEM_RETURN_IF_ERROR(done_[i].record(stream));
      pending_[i] = true;
      this_i = static_cast<int>(i);
    }
    if (queued_i >= 0) {
      TANDEM_RETURN_IF_ERROR(done_[queued_i].synchronize());
      pending_[queued_i] = false;
      std::memcpy(dst + queued_off, chunk_[queued_i].get(), queued_n);
    }
    queued_i = this_i;
    queued_off = off;
    queued_n = n;
  }
  return Status::ok();
}

}  // namespace tandem::cuda
