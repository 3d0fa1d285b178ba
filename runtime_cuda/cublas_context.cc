#include "runtime_cuda/cublas_context.h"

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>

namespace tandem::cuda {

namespace {

Result<std::size_t> requested_workspace_bytes() {
  const char* env = std::getenv("TANDEM_CUBLAS_WORKSPACE_KIB");
  if (!env || !*env) return CublasContext::kWorkspaceBytes;
  char* end = nullptr;
  const long kib = std::strtol(env, &end, 10);
  if (*end != '\0' || kib < 64 || kib > (1L << 20))
    return Status::error(std::string("TANDEM_CUBLAS_WORKSPACE_KIB='") + env +
                         "': expected a whole number of KiB from 64 to 1048576");
  return static_cast<std::size_t>(kib) << 10;
}

}  // namespace

Result<CublasContext> CublasContext::create(CudaAllocator& allocator, int device, cudaStream_t stream,
                                            std::shared_mutex* capture_guard) {
  static std::atomic<uint64_t> next_serial{1};
  CublasContext c;
  c.stream_ = stream;
  c.serial_ = next_serial.fetch_add(1);
  c.capture_guard_ = capture_guard;
  TANDEM_ASSIGN_OR_RETURN(const std::size_t bytes, requested_workspace_bytes());
  TANDEM_ASSIGN_OR_RETURN(c.workspace_, DeviceBuffer::allocate(allocator, bytes, MemoryCategory::kWorkspace));
  TANDEM_ASSIGN_OR_RETURN(c.capture_stream_, CudaStream::create(device));
  // cublasCreate allocates device memory of its own and may synchronize the device: no capture meanwhile
  // (the workspace above comes from the pool, whose lock is never taken under the guard).
  std::unique_lock<std::shared_mutex> no_capture;
  if (capture_guard) no_capture = std::unique_lock<std::shared_mutex>(*capture_guard);
  TANDEM_ASSIGN_OR_RETURN(c.handle_, CublasHandle::create(stream, c.workspace_.get(), c.workspace_.size()));
  TANDEM_ASSIGN_OR_RETURN(c.capture_handle_,
                          CublasHandle::create(c.capture_stream_.get(), c.workspace_.get(), c.workspace_.size()));
  return c;
}

DeviceBuffer CublasContext::release_handles() {
  capture_handle_ = CublasHandle();
  handle_ = CublasHandle();
  return std::move(workspace_);
}

}  // namespace tandem::cuda
