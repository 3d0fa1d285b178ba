#include "runtime_cuda/cublas_context.h"

#include <atomic>
#include <cstdlib>
#include <string>

namespace tandem::cuda {

namespace {

Result<std::size_t> requested_workspace_bytes() {
  const char* env = std::getenv("TANDEM_CUBLAS_WORKSPACE_MIB");
  if (!env || !*env) return CublasContext::kWorkspaceBytes;
  char* end = nullptr;
  const long mib = std::strtol(env, &end, 10);
  if (*end != '\0' || mib < 0 || mib > 1024)
    return Status::error(std::string("TANDEM_CUBLAS_WORKSPACE_MIB='") + env + "': expected a whole number of MiB from 0 to 1024");
  return static_cast<std::size_t>(mib) << 20;
}

}  // namespace

Result<CublasContext> CublasContext::create(CudaAllocator& allocator, int device, cudaStream_t stream) {
  static std::atomic<uint64_t> next_serial{1};
  CublasContext c;
  c.stream_ = stream;
  c.serial_ = next_serial.fetch_add(1);
  TANDEM_ASSIGN_OR_RETURN(const std::size_t bytes, requested_workspace_bytes());
  if (bytes > 0) {
    TANDEM_ASSIGN_OR_RETURN(c.workspace_, DeviceBuffer::allocate(allocator, bytes, MemoryCategory::kWorkspace));
  }
  TANDEM_ASSIGN_OR_RETURN(c.capture_stream_, CudaStream::create(device));
  TANDEM_ASSIGN_OR_RETURN(c.handle_, CublasHandle::create(stream, c.workspace_.get(), c.workspace_.size()));
  TANDEM_ASSIGN_OR_RETURN(c.capture_handle_,
                          CublasHandle::create(c.capture_stream_.get(), c.workspace_.get(), c.workspace_.size()));
  return c;
}

}  // namespace tandem::cuda
