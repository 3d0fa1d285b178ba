#include "runtime_cuda/cuda_probe.h"

#include <cuda_runtime_api.h>

namespace tandem::cuda {

CudaProbe probe_cuda() {
  CudaProbe p;
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    p.reason = std::string("cudaGetDeviceCount: ") + cudaGetErrorString(err);
    (void)cudaGetLastError();  // clear the sticky error so later calls start clean
    return p;
  }
  // Versions are for reports only: one that cannot be read stays 0 ("unknown"), its error cleared.
  if (cudaDriverGetVersion(&p.driver_version) != cudaSuccess) (void)cudaGetLastError();
  if (cudaRuntimeGetVersion(&p.runtime_version) != cudaSuccess) (void)cudaGetLastError();
  if (count == 0) p.reason = "no CUDA device found";
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) {  // a device that cannot be described is not used
      (void)cudaGetLastError();
      continue;
    }
    p.gpus.push_back({i, prop.name, prop.major, prop.minor, prop.totalGlobalMem, prop.multiProcessorCount});
  }
  return p;
}

}  // namespace tandem::cuda
