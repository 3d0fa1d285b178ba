// A device self-test: y = a*x + y on the GPU, checked on the host. It proves the sm_90 build runs here.
#include <cuda_runtime.h>

#include <cmath>
#include <string>
#include <vector>

#include "runtime_cuda/cuda_probe.h"

namespace tandem::cuda {
namespace {

__global__ void axpy_kernel(int n, float a, const float* x, float* y) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = a * x[i] + y[i];
}

std::string check(cudaError_t err, const char* what) {
  return err == cudaSuccess ? std::string() : std::string(what) + ": " + cudaGetErrorString(err);
}

}  // namespace

std::string run_device_selftest(int index) {
  constexpr int n = 1 << 16;
  std::vector<float> x(n), y(n);
  for (int i = 0; i < n; ++i) {
    x[i] = static_cast<float>(i % 97) * 0.25f;
    y[i] = static_cast<float>(i % 13);
  }
  if (auto e = check(cudaSetDevice(index), "cudaSetDevice"); !e.empty()) return e;
  float *dx = nullptr, *dy = nullptr;
  std::string err = check(cudaMalloc(&dx, n * sizeof(float)), "cudaMalloc");
  if (err.empty()) err = check(cudaMalloc(&dy, n * sizeof(float)), "cudaMalloc");
  if (err.empty()) err = check(cudaMemcpy(dx, x.data(), n * sizeof(float), cudaMemcpyHostToDevice), "copy x");
  if (err.empty()) err = check(cudaMemcpy(dy, y.data(), n * sizeof(float), cudaMemcpyHostToDevice), "copy y");
  if (err.empty()) {
    axpy_kernel<<<(n + 255) / 256, 256>>>(n, 3.0f, dx, dy);
    err = check(cudaGetLastError(), "kernel launch");
  }
  std::vector<float> out(n);
  if (err.empty()) err = check(cudaMemcpy(out.data(), dy, n * sizeof(float), cudaMemcpyDeviceToHost), "copy back");
  for (float* p : {dx, dy})  // freed whatever happened before; the first failure is the one reported
    if (std::string e = check(cudaFree(p), "cudaFree"); err.empty()) err = e;
  if (!err.empty()) return err;
  for (int i = 0; i < n; ++i)
    if (std::fabs(out[i] - (3.0f * x[i] + y[i])) > 1e-5f) return "wrong result at element " + std::to_string(i);
  return {};
}

}  // namespace tandem::cuda
