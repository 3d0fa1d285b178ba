// Finds out whether a usable CUDA GPU is present. Any error from the CUDA runtime means "no GPU": on a
// machine without a driver cudaGetDeviceCount fails (error 35, insufficient driver), and tandem must then
// run on the CPU rather than fail.
#pragma once

#include <string>
#include <vector>

namespace tandem::cuda {

struct GpuInfo {
  int index = 0;
  std::string name;
  int compute_major = 0, compute_minor = 0;
  std::size_t total_memory = 0;
  int multiprocessors = 0;
};

struct CudaProbe {
  std::vector<GpuInfo> gpus;
  std::string reason;  // why there is no GPU, when `gpus` is empty
  int driver_version = 0, runtime_version = 0;
};

CudaProbe probe_cuda();

// Runs a small kernel on GPU `index` and checks its result: proof that code built for sm_90 really runs
// on this device. Returns an empty string on success, else what went wrong.
std::string run_device_selftest(int index);

}  // namespace tandem::cuda
