#include "runtime_cuda/cuda_stream.h"

#include "runtime_cuda/cuda_check.h"

namespace tandem::cuda {

Result<CudaStream> CudaStream::create(int device) {
  TANDEM_CUDA_RETURN_IF_ERROR(cudaSetDevice(device));
  CudaStream s;
  TANDEM_CUDA_RETURN_IF_ERROR(cudaStreamCreateWithFlags(&s.stream_, cudaStreamNonBlocking));
  return s;
}

CudaStream& CudaStream::operator=(CudaStream&& o) noexcept {
  if (this != &o) {
    if (stream_) TANDEM_CUDA_REPORT_IF_ERROR(cudaStreamDestroy(stream_));
    stream_ = o.stream_;
    o.stream_ = nullptr;
  }
  return *this;
}

CudaStream::~CudaStream() {
  if (stream_) TANDEM_CUDA_REPORT_IF_ERROR(cudaStreamDestroy(stream_));  // returns at once; pending work completes
}

Status CudaStream::synchronize() const { return cuda_status(cudaStreamSynchronize(stream_), "cudaStreamSynchronize"); }

Status CudaStream::wait(cudaEvent_t event) const {
  return cuda_status(cudaStreamWaitEvent(stream_, event, 0), "cudaStreamWaitEvent");
}

Result<CudaEvent> CudaEvent::create(bool timing) {
  CudaEvent e;
  TANDEM_CUDA_RETURN_IF_ERROR(cudaEventCreateWithFlags(&e.event_, timing ? cudaEventDefault : cudaEventDisableTiming));
  return e;
}

CudaEvent& CudaEvent::operator=(CudaEvent&& o) noexcept {
  if (this != &o) {
    if (event_) TANDEM_CUDA_REPORT_IF_ERROR(cudaEventDestroy(event_));
    event_ = o.event_;
    o.event_ = nullptr;
  }
  return *this;
}

CudaEvent::~CudaEvent() {
  if (event_) TANDEM_CUDA_REPORT_IF_ERROR(cudaEventDestroy(event_));
}

Status CudaEvent::record(cudaStream_t stream) const {
  return cuda_status(cudaEventRecord(event_, stream), "cudaEventRecord");
}

Status CudaEvent::synchronize() const { return cuda_status(cudaEventSynchronize(event_), "cudaEventSynchronize"); }

Result<float> CudaEvent::elapsed_ms_since(const CudaEvent& start) const {
  float ms = 0.0f;
  TANDEM_CUDA_RETURN_IF_ERROR(cudaEventElapsedTime(&ms, start.event_, event_));
  return ms;
}

}  // namespace tandem::cuda
