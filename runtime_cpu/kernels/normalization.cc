// LayerNormalization (opset 17), BatchNormalization (inference form) and InstanceNormalization.
// Statistics are computed in double with two passes (the mean, then squared deviations from it).
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/broadcast.h"
#include "runtime_cpu/kernels/sub_families.h"

namespace tandem::cpu {
namespace {

struct Moments {
  double mean, inv_std;  // inv_std = 1 / sqrt(variance + epsilon), variance over n (not n - 1)
};

template <typename T>
Moments moments(const T* x, int64_t n, double epsilon) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += x[i];
  const double mean = sum / static_cast<double>(n);
  double sq = 0.0;
  for (int64_t i = 0; i < n; ++i) sq += (x[i] - mean) * (x[i] - mean);
  return {mean, 1.0 / std::sqrt(sq / static_cast<double>(n) + epsilon)};
}

template <typename T>
std::vector<double> as_doubles(const Tensor& t) {
  const T* p = t.data<T>();
  return std::vector<double>(p, p + t.numel());
}

std::vector<double> values_as_doubles(const Tensor& t) {
  return t.dtype() == DType::kFloat64 ? as_doubles<double>(t) : as_doubles<float>(t);
}

// LayerNormalization's Scale or B, one value per normalised element: it must broadcast unidirectionally
// to X and be constant along the dimensions before `axis`.
Result<std::vector<double>> expand_to_inner(const Tensor& t, const std::vector<int64_t>& inner_shape,
                                            DType dtype, const std::string& what) {
  if (t.dtype() != dtype) return Status::error(what + " must have X's type, got " + t.describe());
  std::vector<int64_t> shape = t.shape();
  while (shape.size() > inner_shape.size() && shape.front() == 1) shape.erase(shape.begin());
  bool ok = shape.size() <= inner_shape.size();
  for (std::size_t i = 0; ok && i < shape.size(); ++i) {
    const int64_t target = inner_shape[inner_shape.size() - shape.size() + i];
    ok = shape[i] == target || shape[i] == 1;
  }
  if (!ok)
    return Status::error(what + " " + t.describe() + " does not broadcast to " + shape_string(inner_shape));
  const std::vector<double> v = values_as_doubles(t);
  const std::vector<int64_t> strides = broadcast_strides(shape, inner_shape);
  std::vector<double> out(static_cast<std::size_t>(shape_numel(inner_shape)));
  for (std::size_t i = 0; i < out.size(); ++i) {
    int64_t rest = static_cast<int64_t>(i), at = 0;
    for (std::size_t d = inner_shape.size(); d-- > 0;) {
      at += rest % inner_shape[d] * strides[d];
      rest /= inner_shape[d];
    }
    out[i] = v[static_cast<std::size_t>(at)];
  }
  return out;
}

class LayerNormKernel final : public Kernel {
 public:
  LayerNormKernel(int64_t axis, double epsilon) : axis_(axis), epsilon_(epsilon) {}

  Status run(KernelContext& ctx) const override {
    const Tensor* x = ctx.input(0);
    const Tensor* scale = ctx.input(1);
    if (!x || !scale) return ctx.error("inputs X and Scale are required");
    if (x->dtype() != DType::kFloat32 && x->dtype() != DType::kFloat64)
      return ctx.error("X must be float32 or float64, got " + x->describe());
    const int64_t rank = static_cast<int64_t>(x->rank());
    auto axis = normalize_axis(axis_, rank, "axis");
    if (!axis) return ctx.error(axis.status().message() + " (X " + x->describe() + ")");
    const std::vector<int64_t> inner_shape(x->shape().begin() + *axis, x->shape().end());
    const int64_t inner = shape_numel(inner_shape);
    const int64_t outer = shape_numel({x->shape().begin(), x->shape().begin() + *axis});
    auto gamma = expand_to_inner(*scale, inner_shape, x->dtype(), "Scale");
    if (!gamma) return ctx.error(gamma.status().message());
    std::vector<double> beta(static_cast<std::size_t>(inner), 0.0);
    if (const Tensor* b = ctx.input(2)) {
      auto expanded = expand_to_inner(*b, inner_shape, x->dtype(), "B");
      if (!expanded) return ctx.error(expanded.status().message());
      beta = std::move(*expanded);
    }
    // Mean and InvStdDev keep X's leading dimensions and have 1 for each normalised one.
    std::vector<int64_t> stat_shape(x->shape().begin(), x->shape().begin() + *axis);
    stat_shape.resize(x->rank(), 1);
    float* mean =
        ctx.wants_output(1) ? ctx.allocate_output(1, DType::kFloat32, stat_shape).data<float>() : nullptr;
    float* inv_std =
        ctx.wants_output(2) ? ctx.allocate_output(2, DType::kFloat32, stat_shape).data<float>() : nullptr;
    Tensor& y = ctx.allocate_output(0, x->dtype(), x->shape());
    if (x->dtype() == DType::kFloat32)
      normalize(x->data<float>(), outer, inner, *gamma, beta, y.data<float>(), mean, inv_std);
    else
      normalize(x->data<double>(), outer, inner, *gamma, beta, y.data<double>(), mean, inv_std);
    return Status::ok();
  }

 private:
  template <typename T>
  void normalize(const T* x, int64_t outer, int64_t inner, const std::vector<double>& gamma,
                 const std::vector<double>& beta, T* y, float* mean, float* inv_std) const {
    for (int64_t o = 0; o < outer; ++o, x += inner, y += inner) {
      const Moments m = moments(x, inner, epsilon_);
      for (int64_t i = 0; i < inner; ++i)
        y[i] = static_cast<T>((x[i] - m.mean) * m.inv_std * gamma[i] + beta[i]);
      if (mean) mean[o] = static_cast<float>(m.mean);
      if (inv_std) inv_std[o] = static_cast<float>(m.inv_std);
    }
  }

  int64_t axis_;
  double epsilon_;
};

Result<KernelPtr> make_layer_norm(const KernelInit& init) {
  const Node& n = init.node();
  const int64_t stash_type = attr_int(n, "stash_type", 1);
  if (stash_type != 1)
    return init.error("stash_type " + std::to_string(stash_type) + " is not supported (only 1, float)");
  return KernelPtr(new LayerNormKernel(attr_int(n, "axis", -1), attr_float(n, "epsilon", 1e-5f)));
}

// Per channel (or, with opset 7's spatial=0, per element of a [C, D1, ...] plane): y = x * a + b with
// a = scale / sqrt(var + epsilon), b = B - mean * a.
struct Affine {
  std::vector<float> a, b;
};

Result<Affine> fold_batch_norm(const Tensor* scale, const Tensor* bias, const Tensor* mean, const Tensor* var,
                               double epsilon) {
  const Tensor* params[] = {scale, bias, mean, var};
  const char* names[] = {"scale", "B", "input_mean", "input_var"};
  for (int i = 0; i < 4; ++i) {
    if (!params[i])
      return Status::error(std::string(names[i]) + " (input " + std::to_string(i + 1) + ") is missing");
    if (params[i]->dtype() != DType::kFloat32 || params[i]->numel() != scale->numel())
      return Status::error(std::string(names[i]) + " must be float32 with as many elements as scale " +
                           scale->describe() + ", got " + params[i]->describe());
  }
  Affine f;
  for (int64_t c = 0; c < scale->numel(); ++c) {
    const double a =
        scale->data<float>()[c] / std::sqrt(static_cast<double>(var->data<float>()[c]) + epsilon);
    f.a.push_back(static_cast<float>(a));
    f.b.push_back(static_cast<float>(bias->data<float>()[c] - mean->data<float>()[c] * a));
  }
  return f;
}

class BatchNormKernel final : public Kernel {
 public:
  BatchNormKernel(double epsilon, bool spatial, std::optional<Affine> folded)
      : epsilon_(epsilon), spatial_(spatial), folded_(std::move(folded)) {}

  Status run(KernelContext& ctx) const override {
    const Tensor* x = ctx.input(0);
    if (!x) return ctx.error("input 0 (X) is missing");
    if (x->dtype() != DType::kFloat32) return ctx.error("X must be float32, got " + x->describe());
    if (x->rank() == 0) return ctx.error("X must have rank 1 or more, got " + x->describe());
    Affine computed;
    if (!folded_) {
      auto f = fold_batch_norm(ctx.input(1), ctx.input(2), ctx.input(3), ctx.input(4), epsilon_);
      if (!f) return ctx.error(f.status().message());
      computed = std::move(*f);
    }
    const Affine& f = folded_ ? *folded_ : computed;
    // [N] is read as [N, 1]: one channel.
    const int64_t channels = x->rank() >= 2 ? x->dim(1) : 1;
    const int64_t inner = x->rank() >= 2 ? shape_numel({x->shape().begin() + 2, x->shape().end()}) : 1;
    const auto params = static_cast<int64_t>(f.a.size());
    const bool per_element = !spatial_ && params == channels * inner;
    if (params != channels && !per_element)
      return ctx.error("scale, B, mean and var have " + std::to_string(params) + " elements for X " +
                       x->describe() + " with " + std::to_string(channels) + " channels");
    Tensor& y = ctx.allocate_output(0, DType::kFloat32, x->shape());
    const float* px = x->data<float>();
    float* py = y.data<float>();
    const int64_t plane_size = channels * inner, planes = plane_size > 0 ? x->numel() / plane_size : 0;
    for (int64_t n = 0; n < planes; ++n)
      for (int64_t c = 0; c < channels; ++c, px += inner, py += inner)
        for (int64_t i = 0; i < inner; ++i) {
          const int64_t p = per_element ? c * inner + i : c;
          py[i] = px[i] * f.a[p] + f.b[p];
        }
    return Status::ok();
  }

 private:
  double epsilon_;
  bool spatial_;
  std::optional<Affine> folded_;  // when all four parameters are initializers
};

Result<KernelPtr> make_batch_norm(const KernelInit& init) {
  const Node& n = init.node();
  if (attr_int(n, "training_mode", 0) != 0)
    return init.error("training_mode=1 is not supported (inference only)");
  for (std::size_t i = 1; i < n.outputs.size(); ++i)
    if (n.outputs[i] != kNoValue)
      return init.error("output " + std::to_string(i) +
                        " (running or saved statistics) exists only in training, "
                        "which is not supported");
  const int64_t spatial = attr_int(n, "spatial", 1);
  if (spatial != 0 && spatial != 1)
    return init.error("spatial must be 0 or 1, got " + std::to_string(spatial));
  const double epsilon = attr_float(n, "epsilon", 1e-5f);
  std::optional<Affine> folded;
  TensorDataPtr params[4] = {init.constant_input(1), init.constant_input(2), init.constant_input(3),
                             init.constant_input(4)};
  if (params[0] && params[1] && params[2] && params[3]) {
    Tensor t[4];
    for (int i = 0; i < 4; ++i) t[i] = Tensor::from_constant(params[i]);
    auto f = fold_batch_norm(&t[0], &t[1], &t[2], &t[3], epsilon);
    if (!f) return init.error(f.status().message());
    folded = std::move(*f);
  }
  return KernelPtr(new BatchNormKernel(epsilon, spatial == 1, std::move(folded)));
}

// Per (batch, channel) plane: y = scale[c] * (x - mean) / sqrt(var + epsilon) + B[c].
class InstanceNormKernel final : public Kernel {
 public:
  explicit InstanceNormKernel(double epsilon) : epsilon_(epsilon) {}

  Status run(KernelContext& ctx) const override {
    const Tensor* x = ctx.input(0);
    const Tensor* scale = ctx.input(1);
    const Tensor* bias = ctx.input(2);
    if (!x || !scale || !bias) return ctx.error("inputs input, scale and B are required");
    if (x->dtype() != DType::kFloat32 && x->dtype() != DType::kFloat64)
      return ctx.error("input must be float32 or float64, got " + x->describe());
    if (x->rank() < 2) return ctx.error("input must have rank 2 or more ([N, C, ...]), got " + x->describe());
    const int64_t channels = x->dim(1);
    for (const Tensor* t : {scale, bias})
      if (t->dtype() != x->dtype() || t->rank() != 1 || t->dim(0) != channels)
        return ctx.error("scale and B must be " + std::string(dtype_name(x->dtype())) + " [" +
                         std::to_string(channels) + "], got " + t->describe());
    const std::vector<double> gamma = values_as_doubles(*scale), beta = values_as_doubles(*bias);
    const int64_t inner = shape_numel({x->shape().begin() + 2, x->shape().end()});
    Tensor& y = ctx.allocate_output(0, x->dtype(), x->shape());
    if (x->dtype() == DType::kFloat32)
      normalize(x->data<float>(), x->dim(0), channels, inner, gamma, beta, y.data<float>());
    else
      normalize(x->data<double>(), x->dim(0), channels, inner, gamma, beta, y.data<double>());
    return Status::ok();
  }

 private:
  template <typename T>
  void normalize(const T* x, int64_t batch, int64_t channels, int64_t inner, const std::vector<double>& gamma,
                 const std::vector<double>& beta, T* y) const {
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t c = 0; c < channels; ++c, x += inner, y += inner) {
        const Moments m = moments(x, inner, epsilon_);
        for (int64_t i = 0; i < inner; ++i)
          y[i] = static_cast<T>((x[i] - m.mean) * m.inv_std * gamma[c] + beta[c]);
      }
  }

  double epsilon_;
};

Result<KernelPtr> make_instance_norm(const KernelInit& init) {
  return KernelPtr(new InstanceNormKernel(attr_float(init.node(), "epsilon", 1e-5f)));
}

}  // namespace

void register_normalization_kernels(KernelRegistry& r) {
  r.add("LayerNormalization", make_layer_norm);
  r.add("BatchNormalization", make_batch_norm);
  r.add("InstanceNormalization", make_instance_norm);
}

}  // namespace tandem::cpu
