// GPU tensors' storage: blocks from the caching allocator, handed out as Tensor owners and given back in
// stream order.
//
// A block remembers the stream its readers run on (the compute stream of the thread that allocated it:
// in a plan run, every GPU reader of a value is a node on that run's GPU thread). When its last Tensor
// goes, the block is not returned to the caching pool at once, since kernels queued on that stream may
// still read it and the pool would hand it to another thread's stream: an event is recorded on the
// stream and the block waits in a pending list until the event has completed (checked without blocking
// on every allocation; waited for when memory runs out and on destruction).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_set>
#include <vector>

#include "runtime/kernel.h"
#include "runtime/tensor.h"
#include "runtime_cuda/cuda_allocator.h"
#include "runtime_cuda/cuda_stream.h"

namespace tandem::cuda {

class DeviceBlocks;

struct DeviceBlock {
  void* ptr = nullptr;
  cudaStream_t stream = nullptr;  // its readers' stream: the release is ordered after them (nullptr: none
                                  // pending, the stream is gone: released at once)
  MemoryCategory category = MemoryCategory::kActivations;
};

class DeviceBlocks final : public OutputAllocator {
 public:
  // `current_stream` gives the calling thread's compute stream (the owner's thread state).
  DeviceBlocks(CudaAllocator& allocator, std::function<Result<cudaStream_t>()> current_stream)
      : allocator_(allocator), current_stream_(std::move(current_stream)) {}
  ~DeviceBlocks() override;  // waits for the pending releases and gives them back
  // A stream about to be destroyed (its thread released the device), with nothing pending on it: blocks
  // that name it as their readers' stream no longer do, so their release does not touch the dead handle.
  void forget_stream(cudaStream_t stream) const;
  DeviceBlocks(const DeviceBlocks&) = delete;
  DeviceBlocks& operator=(const DeviceBlocks&) = delete;

  // An activation on the calling thread's compute stream (what kernels' outputs are).
  Result<Tensor> allocate(DType dtype, std::vector<int64_t> shape) const override;
  Result<Tensor> allocate(DType dtype, std::vector<int64_t> shape, MemoryCategory category,
                          cudaStream_t stream) const;

  // The block behind a tensor these blocks made (views included); nullptr for any other tensor.
  const DeviceBlock* block_of(const Tensor& t) const;

  // Gives back the pending blocks whose streams have passed their release (all of them, waiting, when
  // `wait`). Returns the first CUDA error met (the block is then given back anyway).
  Status reap(bool wait) const;

 private:
  struct Pending {
    void* ptr;
    CudaEvent done;
  };
  void release(DeviceBlock* b) const;

  CudaAllocator& allocator_;
  std::function<Result<cudaStream_t>()> current_stream_;
  mutable std::mutex mu_;
  mutable std::unordered_set<const void*> live_;  // DeviceBlock addresses, as Tensor::storage() reports them
  mutable std::vector<Pending> pending_;
  mutable std::vector<CudaEvent> spare_events_;
};

}  // namespace tandem::cuda
