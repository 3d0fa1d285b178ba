// Device-side arithmetic shared by the per-step cell kernels (rnn_cell.cu) and the persistent kernel
// (rnn_persistent.cu), so both compute exactly what runtime_cpu/kernels/rnn.cc does. CUDA only (nvcc).
#pragma once

#include <cuda_runtime.h>

#include "runtime_cuda/kernels/rnn_cell.h"

namespace tandem::cuda {

// ONNX's RNN activation function `s` at x.
__device__ __forceinline__ float rnn_activate(const RnnActivationSpec& s, float x) {
  const float a = s.alpha, b = s.beta;
  switch (s.fn) {
    case RnnActivationFn::kSigmoid:
      return 1.0f / (1.0f + expf(-x));
    case RnnActivationFn::kTanh:
      return tanhf(x);
    case RnnActivationFn::kRelu:
      return x > 0.0f ? x : 0.0f;
    case RnnActivationFn::kAffine:
      return a * x + b;
    case RnnActivationFn::kLeakyRelu:
      return x >= 0.0f ? x : a * x;
    case RnnActivationFn::kThresholdedRelu:
      return x >= a ? x : 0.0f;
    case RnnActivationFn::kScaledTanh:
      return a * tanhf(b * x);
    case RnnActivationFn::kHardSigmoid:
      return fminf(fmaxf(a * x + b, 0.0f), 1.0f);
    case RnnActivationFn::kElu:
      return x >= 0.0f ? x : a * expm1f(x);
    case RnnActivationFn::kSoftsign:
      return x / (1.0f + fabsf(x));
    case RnnActivationFn::kSoftplus:  // log(1 + e^x) without overflow for large x
      return x > 0.0f ? x + log1pf(expf(-x)) : log1pf(expf(x));
  }
  return x;
}

// ONNX's clip (applied to gate inputs before their activation).
__device__ __forceinline__ float rnn_clip(bool has_clip, float clip, float x) {
  return has_clip ? fminf(fmaxf(x, -clip), clip) : x;
}

}  // namespace tandem::cuda
