#include "runtime_cuda/cuda_thread_state.h"

#include "runtime_cuda/cuda_check.h"

namespace tandem::cuda {

Result<std::unique_ptr<CudaThreadState>> CudaThreadState::create(int device) {
  TANDEM_CUDA_RETURN_IF_ERROR(cudaSetDevice(device));
  auto s = std::make_unique<CudaThreadState>();
  TANDEM_ASSIGN_OR_RETURN(s->compute, CudaStream::create(device));
  TANDEM_ASSIGN_OR_RETURN(s->copy, CudaStream::create(device));
  TANDEM_ASSIGN_OR_RETURN(s->copied, CudaEvent::create(/*timing=*/false));
  TANDEM_ASSIGN_OR_RETURN(s->mark, CudaEvent::create(/*timing=*/false));
  TANDEM_ASSIGN_OR_RETURN(s->staging, PinnedStaging::create());
  return s;
}

Result<cublasHandle_t> CudaThreadState::cublas_handle() {
  if (!cublas) {
    TANDEM_ASSIGN_OR_RETURN(CublasHandle h, CublasHandle::create());
    cublas = std::move(h);
  }
  return cublas->get();
}

}  // namespace tandem::cuda
