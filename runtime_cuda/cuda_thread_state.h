// What one thread needs to work for a CudaDevice: its streams, cuBLAS (handle and workspace), pinned
// staging and ordering events. One per (device, thread), owned by the device; only that thread touches it.
// (An RNN kernel keeps its per-thread workspaces itself, so they go when the kernel goes.)
#pragma once

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <optional>

#include "graph/status.h"
#include "runtime_cuda/cublas_context.h"
#include "runtime_cuda/cuda_allocator.h"
#include "runtime_cuda/cuda_stream.h"
#include "runtime_cuda/pinned_staging.h"

namespace tandem::cuda {

struct CudaThreadState {
  CudaStream compute;   // kernels
  CudaStream copy;      // host<->device copies, ordered against `compute` with the events below
  CudaEvent copied;     // recorded on `copy` after an upload; `compute` waits on it
  CudaEvent mark;       // recorded on a producer's stream before a download
  PinnedStaging staging;
  int device = 0;
  uint64_t serial = 0;  // unique per state made in this process (an address may be reused)
  CudaAllocator* allocator = nullptr;   // the device's: the cuBLAS workspace comes from it
  std::optional<CublasContext> cublas;  // made on first use (a thread that only copies needs none)

  std::shared_mutex* capture_guard = nullptr;  // device_sync_guard() (CublasContext::capture_guard)

  static Result<std::unique_ptr<CudaThreadState>> create(int device, CudaAllocator& allocator,
                                                         std::shared_mutex* capture_guard);
  // The thread's cuBLAS, bound to `compute` (and its capture stream).
  Result<const CublasContext*> cublas_context();
};

}  // namespace tandem::cuda
