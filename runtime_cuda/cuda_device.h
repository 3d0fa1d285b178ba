// The GPU as a Device: runs the nodes runtime_cuda has kernels for, with outputs in GPU memory from the
// caching allocator, and moves values between host and GPU through pinned staging.
//
// Threads and streams: every thread that works for this device (the plan executor's device thread, one
// per concurrent run, and any thread that calls to_host) gets its own state: a compute stream, a copy
// stream, a cuBLAS handle, pinned staging chunks and RNN workspaces. Kernels enqueue on the calling
// thread's compute stream and return; values from the host are uploaded on the copy stream and the
// compute stream waits on an event; finish_run waits for the thread's streams, so a run's GPU work is done
// when PlanExecutor::run returns.
//
// Memory: a GPU tensor's storage is a DeviceBlock (device_block.h) that remembers the stream its readers
// use; when the last Tensor goes, the block is handed back to the caching allocator only once that stream
// has passed the point of release (an event), so another thread's stream cannot reuse memory still being
// read. Current and peak bytes per category come from the allocator (memory()).
//
// A CudaDevice can be made on a machine without a GPU: nothing touches CUDA until a kernel is created or
// a thread is bound, so supports() (pure inspection of the node) works everywhere.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "runtime/device.h"
#include "runtime_cuda/caching_pool.h"
#include "runtime_cuda/cuda_allocator.h"
#include "runtime_cuda/device_block.h"

namespace tandem::cuda {

struct CudaThreadState;

class CudaDevice final : public Device {
 public:
  explicit CudaDevice(int device = 0);
  ~CudaDevice() override;
  CudaDevice(const CudaDevice&) = delete;
  CudaDevice& operator=(const CudaDevice&) = delete;

  std::string name() const override { return name_; }
  DeviceKind kind() const override { return DeviceKind::kCuda; }
  Support supports(const Graph& g, NodeId id) const override;
  Result<KernelPtr> create_kernel(const KernelInit& init) const override;
  void bind_thread() const override;
  // Frees the calling thread's state (its streams, pinned staging, cuBLAS handle and workspace); a thread
  // that ends does so by itself.
  void release_thread() const override;
  // Frees one thread's state (that thread is ending or done with the device).
  void drop_state(CudaThreadState* state) const;
  const OutputAllocator* output_allocator() const override { return &blocks_; }
  Result<Tensor> receive(const Tensor& t, const Device* from, const Tensor* into) const override;
  // Its own memory: what it reads from the host (or another GPU) comes through a copy.
  int memory_space() const override { return 1 + device_; }
  Result<Tensor> to_host(const Tensor& t) const override;
  Status finish_run() const override;

  int device() const { return device_; }
  // Bytes in use and peak per category (weights, activations, workspace) and reserved, from the allocator.
  // Blocks whose release still waits for their stream count as in use (release_pending first to settle).
  PoolStats memory() const { return allocator_.stats(); }
  // Waits for the streams to pass every pending release and gives those blocks back to the allocator.
  Status release_pending() const { return blocks_.reap(/*wait=*/true); }
  // After release_pending(), so blocks whose stream has finished with them do not set the new peaks.
  void reset_memory_peaks() const override {
    (void)release_pending();
    allocator_.reset_peaks();
  }
  // memory() in the Device interface's terms, after release_pending() (a block whose stream is done is
  // no longer in use).
  std::optional<DeviceMemoryUsage> memory_usage() const override;

  // For kernels: the calling thread's streams and handles (created on first use), and the allocator.
  Result<CudaThreadState*> thread_state() const;
  CudaAllocator& allocator() const { return allocator_; }
  // A device tensor of the given shape from the allocator (category `category`), its readers on the
  // calling thread's compute stream.
  Result<Tensor> allocate(DType dtype, std::vector<int64_t> shape, MemoryCategory category) const;
  // A device copy of a host tensor, made synchronously (weights at kernel creation).
  Result<Tensor> upload_now(const Tensor& host, MemoryCategory category) const;

 private:
  int device_;
  std::string name_;
  uint64_t serial_;  // tells thread-local state of this device from that of one destroyed before it
  mutable CudaAllocator allocator_;
  mutable DeviceBlocks blocks_;  // after allocator_: gives its blocks back before the allocator goes
  mutable std::mutex mu_;
  // A thread state is destroyed holding device_sync_guard() (cuda_allocator.h) exclusively: cublasDestroy
  // and cudaFreeHost synchronize the whole device, which would invalidate a CUDA Graph capture under way.
  mutable std::vector<std::unique_ptr<CudaThreadState>> states_;  // every thread's, owned here
};

}  // namespace tandem::cuda
