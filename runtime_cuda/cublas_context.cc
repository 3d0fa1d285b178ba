#include "runtime_cuda/cublas_context.h"

#include <atomic>

namespace tandem::cuda {

Result<CublasContext> CublasContext::create(CudaAllocator& allocator, int device, cudaStream_t stream) {
  static std::atomic<uint64_t> next_serial{1};
  CublasContext c;
  c.stream_ = stream;
  c.serial_ = next_serial.fetch_add(1);
  TANDEM_ASSIGN_OR_RETURN(c.workspace_, DeviceBuffer::allocate(allocator, kWorkspaceBytes, MemoryCategory::kWorkspace));
  TANDEM_ASSIGN_OR_RETURN(c.capture_stream_, CudaStream::create(device));
  TANDEM_ASSIGN_OR_RETURN(c.handle_, CublasHandle::create(stream, c.workspace_.get(), c.workspace_.size()));
  TANDEM_ASSIGN_OR_RETURN(c.capture_handle_,
                          CublasHandle::create(c.capture_stream_.get(), c.workspace_.get(), c.workspace_.size()));
  return c;
}

}  // namespace tandem::cuda
