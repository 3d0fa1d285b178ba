#include "runtime_cuda/device_block.h"

#include <cstdio>
#include <memory>
#include <string>
#include <utility>

#include "runtime_cuda/cuda_check.h"

namespace tandem::cuda {

DeviceBlocks::~DeviceBlocks() {
  Status s = reap(/*wait=*/true);
  if (!s) std::fprintf(stderr, "tandem: %s\n", s.message().c_str());
}

Result<Tensor> DeviceBlocks::allocate(DType dtype, std::vector<int64_t> shape) const {
  TANDEM_ASSIGN_OR_RETURN(cudaStream_t stream, current_stream_());
  return allocate(dtype, std::move(shape), MemoryCategory::kActivations, stream);
}

Result<Tensor> DeviceBlocks::allocate(DType dtype, std::vector<int64_t> shape, MemoryCategory category,
                                      cudaStream_t stream) const {
  const std::size_t bytes = static_cast<std::size_t>(shape_numel(shape)) * dtype_size(dtype);
  TANDEM_RETURN_IF_ERROR(reap(/*wait=*/false));
  auto p = allocator_.allocate(bytes, category);
  if (!p) {
    // Blocks waiting for their streams may be what is missing: wait for them and try once more.
    TANDEM_RETURN_IF_ERROR(reap(/*wait=*/true));
    p = allocator_.allocate(bytes, category);
    if (!p) return p.status();
  }
  auto* block = new DeviceBlock{*p, stream, category};
  std::shared_ptr<DeviceBlock> owner(block, [this](DeviceBlock* b) { release(b); });
  {
    std::lock_guard<std::mutex> lock(mu_);
    live_.insert(block);
  }
  return Tensor::adopt(dtype, std::move(shape), block->ptr, DeviceKind::kCuda, std::move(owner));
}

void DeviceBlocks::forget_stream(cudaStream_t stream) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const void* p : live_) {
    auto* b = static_cast<DeviceBlock*>(const_cast<void*>(p));
    if (b->stream == stream) b->stream = nullptr;
  }
}

const DeviceBlock* DeviceBlocks::block_of(const Tensor& t) const {
  if (t.device() != DeviceKind::kCuda || !t.storage()) return nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  return live_.count(t.storage()) ? static_cast<const DeviceBlock*>(t.storage()) : nullptr;
}

// Runs in a shared_ptr deleter, so it cannot fail: errors are reported on stderr.
void DeviceBlocks::release(DeviceBlock* b) const {
  std::unique_ptr<DeviceBlock> owned(b);
  std::lock_guard<std::mutex> lock(mu_);
  live_.erase(b);
  if (!b->ptr) return;
  // No readers' stream left (forget_stream), or one with nothing queued (a run's arena after finish_run):
  // nothing can still read the block, so it goes back now, and the next run's arena reuses it rather than
  // waiting on an event not yet seen complete.
  if (!b->stream || cudaStreamQuery(b->stream) == cudaSuccess) {
    Status f = allocator_.free(b->ptr);
    if (!f) std::fprintf(stderr, "tandem: %s\n", f.message().c_str());
    return;
  }
  (void)cudaGetLastError();  // "not ready" is an answer; any other error falls through to the event's ordering
  CudaEvent done;
  if (!spare_events_.empty()) {
    done = std::move(spare_events_.back());
    spare_events_.pop_back();
  } else if (auto e = CudaEvent::create(/*timing=*/false)) {
    done = std::move(e).value();
  }
  Status s = done.get() ? done.record(b->stream) : Status::error("no CUDA event for a block's release");
  if (s) {
    pending_.push_back(Pending{b->ptr, std::move(done)});
    return;
  }
  // Cannot order the release after the stream: wait for the stream instead.
  Status w = cuda_status(cudaStreamSynchronize(b->stream), "cudaStreamSynchronize");
  if (!w) std::fprintf(stderr, "tandem: releasing a GPU block: %s; %s\n", s.message().c_str(), w.message().c_str());
  Status f = allocator_.free(b->ptr);
  if (!f) std::fprintf(stderr, "tandem: %s\n", f.message().c_str());
}

Status DeviceBlocks::reap(bool wait) const {
  std::lock_guard<std::mutex> lock(mu_);
  Status first;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    Pending& p = pending_[i];
    bool done = true;
    if (wait) {
      Status s = p.done.synchronize();
      if (!s && first) first = s;
    } else {
      const cudaError_t e = cudaEventQuery(p.done.get());
      if (e == cudaErrorNotReady) {
        (void)cudaGetLastError();  // "not ready" is an answer, not an error: keep it out of later launch checks
        done = false;
      } else if (e != cudaSuccess) {
        // No answer is not "finished": wait for the event before the block goes. If even that fails the
        // context is broken; the block goes anyway, and the error is reported (once: the block is gone).
        (void)cudaGetLastError();  // reported below (cuda_status(e, ...)), not by a later launch check
        Status w = p.done.synchronize();
        if (first) first = w ? cuda_status(e, "cudaEventQuery") : w;
      }
    }
    if (!done) {
      if (kept != i) pending_[kept] = std::move(p);
      ++kept;
      continue;
    }
    Status f = allocator_.free(p.ptr);
    if (!f && first) first = f;
    spare_events_.push_back(std::move(p.done));
  }
  pending_.resize(kept);
  return first;
}

}  // namespace tandem::cuda
