#include "runtime_cuda/copy_timing.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "runtime_cuda/cuda_allocator.h"
#include "runtime_cuda/cuda_check.h"
#include "runtime_cuda/cuda_stream.h"
#include "runtime_cuda/pinned_staging.h"

namespace tandem::cuda {

Result<double> time_copy_us(std::size_t bytes, bool host_to_device, int reps) {
  if (reps < 1) return Status::error("time_copy_us: reps must be at least 1, got " + std::to_string(reps));
  const std::size_t n = std::max<std::size_t>(bytes, 1);  // a zero-byte copy still pays the launch
  TANDEM_ASSIGN_OR_RETURN(CudaStream stream, CudaStream::create(0));
  TANDEM_ASSIGN_OR_RETURN(PinnedBuffer host, PinnedBuffer::allocate(n));
  void* device = nullptr;
  TANDEM_RETURN_IF_ERROR(cuda_status(cudaMalloc(&device, n), "cudaMalloc(" + std::to_string(n) + " bytes)"));
  // The device block is freed on every path out of here.
  std::unique_ptr<void, void (*)(void*)> device_owner(device, [](void* p) { cudaFree(p); });
  TANDEM_ASSIGN_OR_RETURN(CudaEvent start, CudaEvent::create());
  TANDEM_ASSIGN_OR_RETURN(CudaEvent stop, CudaEvent::create());

  auto copy = [&]() {
    return host_to_device ? copy_to_device_async(device, host.get(), bytes, stream.get())
                          : copy_to_host_async(host.get(), device, bytes, stream.get());
  };
  TANDEM_RETURN_IF_ERROR(copy());  // warm-up: first-touch and DMA setup costs are not the link's
  TANDEM_RETURN_IF_ERROR(stream.synchronize());
  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(reps));
  for (int r = 0; r < reps; ++r) {
    TANDEM_RETURN_IF_ERROR(start.record(stream.get()));
    TANDEM_RETURN_IF_ERROR(copy());
    TANDEM_RETURN_IF_ERROR(stop.record(stream.get()));
    TANDEM_RETURN_IF_ERROR(stop.synchronize());
    TANDEM_ASSIGN_OR_RETURN(float ms, stop.elapsed_ms_since(start));
    us.push_back(static_cast<double>(ms) * 1000.0);
  }
  std::nth_element(us.begin(), us.begin() + us.size() / 2, us.end());
  return us[us.size() / 2];
}

}  // namespace tandem::cuda
