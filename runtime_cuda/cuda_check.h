// Turns CUDA runtime and cuBLAS return codes into tandem::Status, naming the call that failed, so GPU code
// reports errors the way the rest of tandem does ("cudaMalloc(4096 bytes): out of memory").
// C++17-clean: .cu files include it.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstdio>
#include <string>

#include "graph/status.h"

namespace tandem::cuda {

inline Status cuda_status(cudaError_t err, const std::string& call) {
  if (err == cudaSuccess) return Status::ok();
  // A failed runtime call also leaves its code as the thread's "last error", which the next kernel launch's
  // check (launch_status: cudaGetLastError) would report as its own failure: a later, unrelated node (often
  // of the next run) failing with this call's error. The error now travels in the Status: consume it here.
  // (A sticky error, a broken context, is not cleared by this and keeps failing every later call.)
  (void)cudaGetLastError();
  return Status::error(call + ": " + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ")");
}

inline Status cublas_status(cublasStatus_t st, const std::string& call) {
  if (st == CUBLAS_STATUS_SUCCESS) return Status::ok();
  return Status::error(call + ": " + cublasGetStatusName(st) + " (" + cublasGetStatusString(st) + ")");
}

// A kernel launch reports bad configurations through cudaGetLastError, not through a return value.
inline Status launch_status(const char* kernel) {
  return cuda_status(cudaGetLastError(), std::string("launch of ") + kernel);
}

// For calls in destructors and clean-up paths, which have no Status to return: a failure is reported on
// stderr ("tandem: cudaStreamDestroy(stream_): ..."), as the allocator reports cudaFree's, not dropped.
inline void report_if_failed(cudaError_t err, const char* call) noexcept {
  if (err == cudaSuccess) return;  // nothing allocated on the path every destructor takes
  try {
    std::fprintf(stderr, "tandem: %s\n", cuda_status(err, call).message().c_str());
  } catch (...) {  // no memory for the message: the code alone
    std::fprintf(stderr, "tandem: %s: CUDA error %d\n", call, static_cast<int>(err));
  }
}

}  // namespace tandem::cuda

// Returns from the enclosing function (which returns Status or Result<T>) when the call fails.
#define TANDEM_CUDA_RETURN_IF_ERROR(call) TANDEM_RETURN_IF_ERROR(::tandem::cuda::cuda_status((call), #call))
#define TANDEM_CUBLAS_RETURN_IF_ERROR(call) \
  TANDEM_RETURN_IF_ERROR(::tandem::cuda::cublas_status((call), #call))
// Reports on stderr when the call fails (destructors, clean-up after another error).
#define TANDEM_CUDA_REPORT_IF_ERROR(call) ::tandem::cuda::report_if_failed((call), #call)
