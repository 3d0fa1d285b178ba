// What one thread needs to work for a CudaDevice: its streams, cuBLAS handle, pinned staging, ordering
// events and per-kernel RNN workspaces. One per (device, thread), owned by the device; only that thread
// touches it.
#pragma once

#include <memory>
#include <optional>
#include <unordered_map>

#include "graph/status.h"
#include "runtime_cuda/cuda_rnn.h"
#include "runtime_cuda/cuda_stream.h"
#include "runtime_cuda/kernels/gemm.h"
#include "runtime_cuda/pinned_staging.h"

namespace tandem::cuda {

struct CudaThreadState {
  CudaStream compute;   // kernels
  CudaStream copy;      // host<->device copies, ordered against `compute` with the events below
  CudaEvent copied;     // recorded on `copy` after an upload; `compute` waits on it
  CudaEvent mark;       // recorded on a producer's stream before a download
  PinnedStaging staging;
  std::optional<CublasHandle> cublas;  // made on first use (a thread that only copies needs none)
  // One workspace per RNN kernel (a workspace caches the CUDA Graph of one RNN's time loop).
  std::unordered_map<const void*, std::unique_ptr<CudaRnnWorkspace>> rnn;

  static Result<std::unique_ptr<CudaThreadState>> create(int device);
  Result<cublasHandle_t> cublas_handle();
};

}  // namespace tandem::cuda
