// RAII owners of a CUDA stream and a CUDA event, so error paths cannot leak them.
#pragma once

#include <cuda_runtime_api.h>

#include "graph/status.h"

namespace tandem::cuda {

class CudaStream {
 public:
  // A non-blocking stream (it does not synchronise with the legacy default stream).
  static Result<CudaStream> create(int device = 0);
  CudaStream() = default;
  CudaStream(CudaStream&& o) noexcept : stream_(o.stream_) { o.stream_ = nullptr; }
  CudaStream& operator=(CudaStream&& o) noexcept;
  CudaStream(const CudaStream&) = delete;
  CudaStream& operator=(const CudaStream&) = delete;
  ~CudaStream();

  cudaStream_t get() const { return stream_; }
  Status synchronize() const;
  // Makes later work on this stream wait for `event` (recorded on another stream), without blocking the host.
  Status wait(cudaEvent_t event) const;

 private:
  cudaStream_t stream_ = nullptr;
};

class CudaEvent {
 public:
  // timing=false makes a lighter event for ordering only.
  static Result<CudaEvent> create(bool timing = true);
  CudaEvent() = default;
  CudaEvent(CudaEvent&& o) noexcept : event_(o.event_) { o.event_ = nullptr; }
  CudaEvent& operator=(CudaEvent&& o) noexcept;
  CudaEvent(const CudaEvent&) = delete;
  CudaEvent& operator=(const CudaEvent&) = delete;
  ~CudaEvent();

  cudaEvent_t get() const { return event_; }
  Status record(cudaStream_t stream) const;
  Status synchronize() const;
  // Milliseconds between `start` and this event, both recorded and complete (timing events only).
  Result<float> elapsed_ms_since(const CudaEvent& start) const;

 private:
  cudaEvent_t event_ = nullptr;
};

}  // namespace tandem::cuda
