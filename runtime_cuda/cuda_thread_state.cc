#include "runtime_cuda/cuda_thread_state.h"

#include <atomic>
#include <mutex>

#include "runtime_cuda/cuda_check.h"

namespace tandem::cuda {

Result<std::unique_ptr<CudaThreadState>> CudaThreadState::create(int device, CudaAllocator& allocator,
                                                                   std::shared_mutex* capture_guard) {
  TANDEM_CUDA_RETURN_IF_ERROR(cudaSetDevice(device));
  auto s = std::make_unique<CudaThreadState>();
  static std::atomic<uint64_t> next_serial{1};
  s->device = device;
  s->serial = next_serial.fetch_add(1);
  s->allocator = &allocator;
  s->capture_guard = capture_guard;
  TANDEM_ASSIGN_OR_RETURN(s->compute, CudaStream::create(device));
  TANDEM_ASSIGN_OR_RETURN(s->copy, CudaStream::create(device));
  TANDEM_ASSIGN_OR_RETURN(s->copied, CudaEvent::create(/*timing=*/false));
  TANDEM_ASSIGN_OR_RETURN(s->mark, CudaEvent::create(/*timing=*/false));
  {
    // cudaHostAlloc may synchronize the device (device_sync_guard, cuda_allocator.h).
    std::unique_lock<std::shared_mutex> no_capture;
    if (capture_guard) no_capture = std::unique_lock<std::shared_mutex>(*capture_guard);
    TANDEM_ASSIGN_OR_RETURN(s->staging, PinnedStaging::create());
  }
  return s;
}

Result<const CublasContext*> CudaThreadState::cublas_context() {
  if (!cublas) {
    TANDEM_ASSIGN_OR_RETURN(CublasContext c, CublasContext::create(*allocator, device, compute.get(), capture_guard));
    cublas = std::move(c);
  }
  return &*cublas;
}

}  // namespace tandem::cuda
