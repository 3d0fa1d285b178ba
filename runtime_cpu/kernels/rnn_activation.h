// The activation functions of ONNX's RNN, GRU and LSTM (the `activations` attribute), with their
// activation_alpha / activation_beta parameters.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/status.h"

namespace tandem::cpu {

enum class RnnActivationKind {
  kSigmoid,
  kTanh,
  kRelu,
  kAffine,
  kLeakyRelu,
  kThresholdedRelu,
  kScaledTanh,
  kHardSigmoid,
  kElu,
  kSoftsign,
  kSoftplus,
};

struct RnnActivation {
  RnnActivationKind kind = RnnActivationKind::kTanh;
  float alpha = 0.0f;
  float beta = 0.0f;

  // Applies the function to x[0..n) in place: in float for float32 and float16 models, in double for float64
  // ones (alpha and beta are the attributes' floats either way).
  void apply(float* x, int64_t n) const;
  void apply(double* x, int64_t n) const;
};

// Resolves activation names (case-insensitive) in order. As ONNX says, alpha and beta values are consumed in
// the order of the functions: each function that takes an alpha (beta) takes the next unused value of
// `alphas` (`betas`), or its default when the list is used up. Defaults follow the ONNX operators of the same
// name: LeakyRelu alpha 0.01, ThresholdedRelu alpha 1, HardSigmoid alpha 0.2 beta 0.5, Elu alpha 1; and for
// the ops without defaults, ScaledTanh alpha 1 beta 1 and Affine alpha 1 beta 0 (identity-like).
Result<std::vector<RnnActivation>> parse_rnn_activations(const std::vector<std::string>& names,
                                                         const std::vector<float>& alphas,
                                                         const std::vector<float>& betas);

}  // namespace tandem::cpu
