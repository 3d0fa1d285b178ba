#include "runtime_cpu/kernels/rnn_activation.h"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace tandem::cpu {
namespace {

struct ActivationInfo {
  const char* name;
  RnnActivationKind kind;
  bool takes_alpha, takes_beta;
  float default_alpha, default_beta;
};

constexpr ActivationInfo kActivations[] = {
    {"Sigmoid", RnnActivationKind::kSigmoid, false, false, 0.0f, 0.0f},
    {"Tanh", RnnActivationKind::kTanh, false, false, 0.0f, 0.0f},
    {"Relu", RnnActivationKind::kRelu, false, false, 0.0f, 0.0f},
    {"Affine", RnnActivationKind::kAffine, true, true, 1.0f, 0.0f},
    {"LeakyRelu", RnnActivationKind::kLeakyRelu, true, false, 0.01f, 0.0f},
    {"ThresholdedRelu", RnnActivationKind::kThresholdedRelu, true, false, 1.0f, 0.0f},
    {"ScaledTanh", RnnActivationKind::kScaledTanh, true, true, 1.0f, 1.0f},
    {"HardSigmoid", RnnActivationKind::kHardSigmoid, true, true, 0.2f, 0.5f},
    {"Elu", RnnActivationKind::kElu, true, false, 1.0f, 0.0f},
    {"Softsign", RnnActivationKind::kSoftsign, false, false, 0.0f, 0.0f},
    {"Softplus", RnnActivationKind::kSoftplus, false, false, 0.0f, 0.0f},
};

bool same_name(const std::string& a, const char* b) {
  std::size_t i = 0;
  for (; i < a.size() && b[i] != '\0'; ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return i == a.size() && b[i] == '\0';
}

// The switch sits outside the loops so each loop is a plain vectorisable pass.
template <class T>
void apply_activation(RnnActivationKind kind, T a, T b, T* x, int64_t n) {
  switch (kind) {
    case RnnActivationKind::kSigmoid:
      for (int64_t i = 0; i < n; ++i) x[i] = T(1) / (T(1) + std::exp(-x[i]));
      break;
    case RnnActivationKind::kTanh:
      for (int64_t i = 0; i < n; ++i) x[i] = std::tanh(x[i]);
      break;
    case RnnActivationKind::kRelu:
      for (int64_t i = 0; i < n; ++i) x[i] = x[i] > T(0) ? x[i] : T(0);
      break;
    case RnnActivationKind::kAffine:
      for (int64_t i = 0; i < n; ++i) x[i] = a * x[i] + b;
      break;
    case RnnActivationKind::kLeakyRelu:
      for (int64_t i = 0; i < n; ++i) x[i] = x[i] >= T(0) ? x[i] : a * x[i];
      break;
    case RnnActivationKind::kThresholdedRelu:  // the RNN spec's form: x if x >= alpha
      for (int64_t i = 0; i < n; ++i) x[i] = x[i] >= a ? x[i] : T(0);
      break;
    case RnnActivationKind::kScaledTanh:
      for (int64_t i = 0; i < n; ++i) x[i] = a * std::tanh(b * x[i]);
      break;
    case RnnActivationKind::kHardSigmoid:
      for (int64_t i = 0; i < n; ++i) x[i] = std::min(std::max(a * x[i] + b, T(0)), T(1));
      break;
    case RnnActivationKind::kElu:
      for (int64_t i = 0; i < n; ++i) x[i] = x[i] >= T(0) ? x[i] : a * std::expm1(x[i]);
      break;
    case RnnActivationKind::kSoftsign:
      for (int64_t i = 0; i < n; ++i) x[i] = x[i] / (T(1) + std::fabs(x[i]));
      break;
    case RnnActivationKind::kSoftplus:  // log(1 + e^x) without overflow for large x
      for (int64_t i = 0; i < n; ++i)
        x[i] = x[i] > T(0) ? x[i] + std::log1p(std::exp(-x[i])) : std::log1p(std::exp(x[i]));
      break;
  }
}

}  // namespace

void RnnActivation::apply(float* x, int64_t n) const { apply_activation<float>(kind, alpha, beta, x, n); }
void RnnActivation::apply(double* x, int64_t n) const { apply_activation<double>(kind, alpha, beta, x, n); }

Result<std::vector<RnnActivation>> parse_rnn_activations(const std::vector<std::string>& names,
                                                         const std::vector<float>& alphas,
                                                         const std::vector<float>& betas) {
  std::vector<RnnActivation> out;
  std::size_t next_alpha = 0, next_beta = 0;
  for (const std::string& name : names) {
    const ActivationInfo* info = nullptr;
    for (const ActivationInfo& a : kActivations)
      if (same_name(name, a.name)) info = &a;
    if (!info) {
      std::string known;
      for (const ActivationInfo& a : kActivations) known += std::string(known.empty() ? "" : ", ") + a.name;
      return Status::error("unknown activation '" + name + "' (expected one of " + known + ")");
    }
    RnnActivation act;
    act.kind = info->kind;
    if (info->takes_alpha)
      act.alpha = next_alpha < alphas.size() ? alphas[next_alpha++] : info->default_alpha;
    if (info->takes_beta) act.beta = next_beta < betas.size() ? betas[next_beta++] : info->default_beta;
    out.push_back(act);
  }
  return out;
}

}  // namespace tandem::cpu
