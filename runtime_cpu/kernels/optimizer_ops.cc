// The optimizers of ai.onnx.preview.training (opset 1): Adagrad, Adam and Momentum. Each is one update step
// of a training loop, a pure function of the learning rate R, the update count T, and per optimized tensor
// X its gradient G and its optimizer state, so an inference engine runs it like any other op. One node
// updates several tensors at once: its inputs are R, T, the X's, the G's, then each state's tensors in the
// same order (Adagrad: H; Momentum: V; Adam: V then H); its outputs are the new X's, then the new states in
// that order. The spec writes the update with numpy broadcasting, but its outputs take X's and the states'
// shapes, so G and every state must have X's shape. Arithmetic is in double, stored as the tensors' type
// (float32 or float64). The preview domain's Gradient needs automatic differentiation and has no kernel.
#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/register.h"
#include "runtime_cpu/kernels/tensor_ops.h"

namespace tandem::cpu {
namespace {

constexpr const char* kTrainingDomain = "ai.onnx.preview.training";
constexpr std::size_t kMaxStates = 2;

// One element's update: x, g and its states in; new x and new states out.
struct Element {
  double x, g;
  std::array<double, kMaxStates> state;
};
struct Updated {
  double x;
  std::array<double, kMaxStates> state;
};

// R, T and the variadic inputs as `states.size()` + 2 lists of k tensors, checked; then step(element) for
// every element of every optimized tensor, written to the outputs.
template <typename Step>
Status run_optimizer(KernelContext& ctx, const std::vector<std::string>& states, Step&& step) {
  const std::size_t lists = 2 + states.size();
  std::string state_names;  // ", H" or ", V, H"
  for (const std::string& s : states) state_names += ", " + s;
  if (ctx.num_inputs() < 2 + lists || (ctx.num_inputs() - 2) % lists != 0)
    return ctx.error("takes R, T and " + std::to_string(lists) + " tensors per optimized tensor (X, G" + state_names +
                     "), got " + std::to_string(ctx.num_inputs()) + " inputs");
  const std::size_t k = (ctx.num_inputs() - 2) / lists;
  if (ctx.num_outputs() != (1 + states.size()) * k)
    return ctx.error("updates " + std::to_string(k) + " tensor(s), so it has " +
                     std::to_string((1 + states.size()) * k) + " outputs (the new X" + state_names + " of each), got " +
                     std::to_string(ctx.num_outputs()));
  TANDEM_ASSIGN_OR_RETURN(const Tensor* r_t, required_input(ctx, 0, "R"));
  TANDEM_ASSIGN_OR_RETURN(const Tensor* t_t, required_input(ctx, 1, "T"));
  if (r_t->numel() != 1 || r_t->rank() > 1 || (r_t->dtype() != DType::kFloat32 && r_t->dtype() != DType::kFloat64))
    return ctx.error("R must be one float32 or float64, got " + r_t->describe());
  if (t_t->numel() != 1 || t_t->rank() > 1 || t_t->dtype() != DType::kInt64)
    return ctx.error("T must be one int64, got " + t_t->describe());
  const double r = element_as_double(*r_t, 0);
  const int64_t t = t_t->data<int64_t>()[0];

  // in[list][i]: list 0 the X's, 1 the G's, 2... the states.
  std::vector<std::vector<const Tensor*>> in(lists, std::vector<const Tensor*>(k));
  auto name = [&](std::size_t list, std::size_t i) {
    return (list == 0 ? std::string("X") : list == 1 ? std::string("G") : states[list - 2]) + "_" +
           std::to_string(i + 1) + " (input " + std::to_string(2 + list * k + i) + ")";
  };
  for (std::size_t list = 0; list < lists; ++list)
    for (std::size_t i = 0; i < k; ++i) {
      TANDEM_ASSIGN_OR_RETURN(in[list][i], required_input(ctx, 2 + list * k + i, name(list, i)));
      const Tensor& v = *in[list][i];
      const Tensor& x = *in[0][i];
      if (v.dtype() != DType::kFloat32 && v.dtype() != DType::kFloat64)
        return ctx.error(name(list, i) + " must be float32 or float64, got " + v.describe());
      if (v.dtype() != in[0][0]->dtype())
        return ctx.error(name(list, i) + " " + v.describe() + " must have the type of " + name(0, 0) + " " +
                         in[0][0]->describe());
      if (v.shape() != x.shape())
        return ctx.error(name(list, i) + " " + v.describe() + " must have the shape of " + name(0, i) + " " +
                         x.describe());
    }

  auto update = [&](auto tag) {
    using T = decltype(tag);
    for (std::size_t i = 0; i < k; ++i) {
      const int64_t n = in[0][i]->numel();
      std::array<const T*, 2 + kMaxStates> src{};
      for (std::size_t list = 0; list < lists; ++list) src[list] = in[list][i]->template data<T>();
      std::array<T*, 1 + kMaxStates> dst{};
      for (std::size_t out = 0; out <= states.size(); ++out)
        if (ctx.wants_output(out * k + i))
          dst[out] = ctx.allocate_output(out * k + i, in[0][i]->dtype(), in[0][i]->shape()).template data<T>();
      for (int64_t e = 0; e < n; ++e) {
        Element el{static_cast<double>(src[0][e]), static_cast<double>(src[1][e]), {}};
        for (std::size_t s = 0; s < states.size(); ++s) el.state[s] = static_cast<double>(src[2 + s][e]);
        const Updated u = step(el, r, t);
        if (dst[0]) dst[0][e] = static_cast<T>(u.x);
        for (std::size_t s = 0; s < states.size(); ++s)
          if (dst[1 + s]) dst[1 + s][e] = static_cast<T>(u.state[s]);
      }
    }
  };
  if (in[0][0]->dtype() == DType::kFloat32)
    update(float{});
  else
    update(double{});
  return Status::ok();
}

// --- Adagrad --------------------------------------------------------------------------------------------

// r = R / (1 + T * decay_factor); G' = norm_coefficient * X + G; H_new = H + G'^2;
// X_new = X - r * G' / (sqrt(H_new) + epsilon).
class AdagradKernel final : public Kernel {
 public:
  AdagradKernel(double epsilon, double decay, double norm) : epsilon_(epsilon), decay_(decay), norm_(norm) {}

  Status run(KernelContext& ctx) const override {
    return run_optimizer(ctx, {"H"}, [&](const Element& e, double r, int64_t t) {
      const double rate = r / (1 + static_cast<double>(t) * decay_);
      const double g = norm_ * e.x + e.g;
      const double h = e.state[0] + g * g;
      return Updated{e.x - rate * g / (std::sqrt(h) + epsilon_), {h}};
    });
  }

 private:
  double epsilon_, decay_, norm_;
};

// --- Momentum -------------------------------------------------------------------------------------------

// G' = norm_coefficient * X + G; V_new = alpha * V + (T > 0 ? beta : 1) * G'; standard:
// X_new = X - R * V_new; nesterov: X_new = X - R * (G' + alpha * V_new).
class MomentumKernel final : public Kernel {
 public:
  MomentumKernel(double alpha, double beta, double norm, bool nesterov)
      : alpha_(alpha), beta_(beta), norm_(norm), nesterov_(nesterov) {}

  Status run(KernelContext& ctx) const override {
    return run_optimizer(ctx, {"V"}, [&](const Element& e, double r, int64_t t) {
      const double g = norm_ * e.x + e.g;
      const double v = alpha_ * e.state[0] + (t > 0 ? beta_ : 1.0) * g;
      return Updated{e.x - r * (nesterov_ ? g + alpha_ * v : v), {v}};
    });
  }

 private:
  double alpha_, beta_, norm_;
  bool nesterov_;
};

// --- Adam -----------------------------------------------------------------------------------------------

// G' = norm_coefficient * X + G; V_new = alpha * V + (1 - alpha) * G'; H_new = beta * H + (1 - beta) * G'^2;
// R' = T > 0 ? R * sqrt(1 - beta^T) / (1 - alpha^T) : R; X_new = (1 - norm_coefficient_post) *
// (X - R' * V_new / (sqrt(H_new) + epsilon)).
class AdamKernel final : public Kernel {
 public:
  AdamKernel(double alpha, double beta, double norm, double norm_post, double epsilon)
      : alpha_(alpha), beta_(beta), norm_(norm), norm_post_(norm_post), epsilon_(epsilon) {}

  Status run(KernelContext& ctx) const override {
    return run_optimizer(ctx, {"V", "H"}, [&](const Element& e, double r, int64_t t) {
      const double tt = static_cast<double>(t);
      const double rate = t > 0 ? r * std::sqrt(1 - std::pow(beta_, tt)) / (1 - std::pow(alpha_, tt)) : r;
      const double g = norm_ * e.x + e.g;
      const double v = alpha_ * e.state[0] + (1 - alpha_) * g;
      const double h = beta_ * e.state[1] + (1 - beta_) * g * g;
      const double x = e.x - rate * v / (std::sqrt(h) + epsilon_);
      return Updated{(1 - norm_post_) * x, {v, h}};
    });
  }

 private:
  double alpha_, beta_, norm_, norm_post_, epsilon_;
};

Result<KernelPtr> make_momentum(const KernelInit& init) {
  const Node& n = init.node();
  for (const char* required : {"alpha", "beta", "norm_coefficient", "mode"})
    if (!has_attr(n, required)) return init.error("attribute '" + std::string(required) + "' is required");
  const std::string mode = attr_string(n, "mode", "");
  if (mode != "standard" && mode != "nesterov")
    return init.error("mode must be 'standard' or 'nesterov', got '" + mode + "'");
  return KernelPtr(new MomentumKernel(attr_float(n, "alpha", 0), attr_float(n, "beta", 0),
                                      attr_float(n, "norm_coefficient", 0), mode == "nesterov"));
}

}  // namespace

void register_optimizer_kernels(KernelRegistry& r) {
  r.add(kTrainingDomain, "Adagrad", [](const KernelInit& init) -> Result<KernelPtr> {
    const Node& n = init.node();
    return KernelPtr(new AdagradKernel(attr_float(n, "epsilon", 1e-6f), attr_float(n, "decay_factor", 0),
                                       attr_float(n, "norm_coefficient", 0)));
  });
  r.add(kTrainingDomain, "Momentum", make_momentum);
  r.add(kTrainingDomain, "Adam", [](const KernelInit& init) -> Result<KernelPtr> {
    const Node& n = init.node();
    return KernelPtr(new AdamKernel(attr_float(n, "alpha", 0.9f), attr_float(n, "beta", 0.999f),
                                    attr_float(n, "norm_coefficient", 0), attr_float(n, "norm_coefficient_post", 0),
                                    attr_float(n, "epsilon", 1e-6f)));
  });
}

}  // namespace tandem::cpu
