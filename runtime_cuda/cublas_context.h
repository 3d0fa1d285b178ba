// A thread's cuBLAS: a handle bound to the thread's compute stream, with a workspace drawn from tandem's
// allocator (workspace category). Left to itself cuBLAS allocates a workspace of its own with cudaMalloc,
// which the allocator's accounting cannot see (GPU memory is one of the partitioner's two objectives) and
// which a CUDA Graph capture must not trigger. Every kernel a thread runs shares it (MatMul, Gemm, Conv and
// the RNNs' projections, also inside their captured time loops): they all enqueue on that one stream, so
// no two use it at once. Profiles count it once per GPU stream (KernelContext::note_shared_workspace).
//
// It also owns the thread's capture stream, on which CUDA Graphs are recorded and nothing runs: other
// threads record events on the compute stream (a download's ordering, a block's release), and whatever
// reaches a stream while it captures, from any thread, joins the capture. A second handle, bound to the
// capture stream, shares the workspace: a captured graph replays on the compute stream, in its order.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <shared_mutex>

#include "graph/status.h"
#include "runtime_cuda/cuda_allocator.h"
#include "runtime_cuda/cuda_stream.h"
#include "runtime_cuda/kernels/gemm.h"

namespace tandem::cuda {

class CublasContext {
 public:
  // cuBLAS's recommended workspace on Hopper (its documentation for cublasSetWorkspace). The environment
  // variable TANDEM_CUBLAS_WORKSPACE_KIB (64 to 1048576) sets another size for contexts made afterwards: an
  // internal switch, to measure what a smaller one costs the small GEMMs of batch-1 RNNs (GPU memory is
  // one of the partitioner's objectives; below some KiB cuBLAS routines may fail to allocate).
  static constexpr std::size_t kWorkspaceBytes = std::size_t{32} << 20;

  // `stream` (not owned) is where the handle enqueues; the capture stream is made on `device`.
  // `capture_guard` (may be nullptr; CudaDevice passes device_sync_guard()): held shared while a graph is
  // recorded on the capture stream (taken exclusively around what would break a capture under way).
  static Result<CublasContext> create(CudaAllocator& allocator, int device, cudaStream_t stream,
                                      std::shared_mutex* capture_guard = nullptr);

  cublasHandle_t get() const { return handle_.get(); }
  cudaStream_t stream() const { return stream_; }
  // For recording a CUDA Graph: a stream of its own and a handle bound to it (same workspace).
  cudaStream_t capture_stream() const { return capture_stream_.get(); }
  cublasHandle_t capture_handle() const { return capture_handle_.get(); }
  std::shared_mutex* capture_guard() const { return capture_guard_; }
  std::size_t workspace_bytes() const { return workspace_.size(); }
  uint64_t serial() const { return serial_; }  // unique per context made in this process

  // Destroys both handles and hands the workspace out, so the caller can destroy the handles holding
  // device_sync_guard() and give the workspace back to the pool after releasing it (the pool's own lock
  // is taken before that guard when it frees memory: see cuda_allocator.cc).
  DeviceBuffer release_handles();

 private:
  // Declared in the order they may go: the handles before the workspace and stream they use.
  DeviceBuffer workspace_;
  CudaStream capture_stream_;
  cudaStream_t stream_ = nullptr;
  uint64_t serial_ = 0;
  std::shared_mutex* capture_guard_ = nullptr;
  CublasHandle handle_, capture_handle_;
};

}  // namespace tandem::cuda
