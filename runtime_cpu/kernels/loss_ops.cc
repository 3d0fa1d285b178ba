// The training losses ONNX defines as ops: NegativeLogLikelihoodLoss (picks -input[n][target][d...]) and
// SoftmaxCrossEntropyLoss (the same over log_softmax(scores) along axis 1, with log_prob as an optional
// second output). Both see the input as [N, C, D] with D the product of d1..dk, and the target as [N, D].
//
// A target equal to ignore_index contributes nothing: zero loss and zero weight. Reduction 'mean' divides
// the sum of the weighted losses by the sum of the weights applied (weight[target], or 1 without weights)
// over the targets not ignored, as the ops' function bodies, ONNX's reference and PyTorch do; when every
// target is ignored that is 0/0 = NaN, as there. Every other target must lie in [0, C): one outside is an
// error naming it, never a read out of bounds. Arithmetic is in double; results are rounded to T once.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/element_types.h"
#include "runtime_cpu/kernels/elementwise_kernels.h"
#include "runtime_cpu/kernels/register.h"

namespace tandem::cpu {
namespace {

enum class Reduction { kNone, kSum, kMean };

// float16/float/double (and bfloat16, which SoftmaxCrossEntropyLoss-13 takes; the schema check refuses
// it where the op does not).
using LossTypes = FloatTypes;

class LossKernel final : public Kernel {
 public:
  LossKernel(bool softmax, Reduction reduction, bool has_ignore, int64_t ignore_index)
      : softmax_(softmax), reduction_(reduction), has_ignore_(has_ignore), ignore_index_(ignore_index) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, ew::required_input(ctx, 0));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* t, ew::required_input(ctx, 1));
    const Tensor* w = ctx.input(2);
    const char* xname = softmax_ ? "scores" : "input";
    const char* tname = softmax_ ? "labels" : "target";
    if (x->rank() < 2) return ctx.error(std::string(xname) + " must be [N, C, d1..dk], got " + x->describe());
    if (t->dtype() != DType::kInt64 && t->dtype() != DType::kInt32)
      return ctx.error(std::string(tname) + " must be int64 or int32, got " + t->describe());
    bool shape_ok = t->rank() + 1 == x->rank() && t->dim(0) == x->dim(0);
    for (std::size_t d = 1; d < t->rank() && shape_ok; ++d) shape_ok = t->dim(d) == x->dim(d + 1);
    if (!shape_ok)
      return ctx.error(std::string(tname) + " " + t->describe() + " does not match " + xname + " " +
                       x->describe() + ": it must be [N, d1..dk]");
    const int64_t c = x->dim(1), d = x->numel() == 0 ? 0 : x->numel() / (x->dim(0) * c);
    // The loops below walk n x d positions. With none to walk (d == 0), n is taken as 0: it may be up to
    // 2^40 (an input [2^40, 1, 0] kept them busy for hours).
    const int64_t n = d == 0 ? 0 : x->dim(0);
    if (w) {
      if (w->dtype() != x->dtype() || w->rank() != 1 || w->dim(0) != c)
        return ctx.error("weights must be a 1-D tensor of " + std::to_string(c) + " " +
                         std::string(dtype_name(x->dtype())) + " (one per class), got " + w->describe());
    }
    // Every target checked before any is used.
    std::vector<int64_t> target(static_cast<std::size_t>(t->numel()));
    for (std::size_t i = 0; i < target.size(); ++i) {
      const int64_t v = t->dtype() == DType::kInt64 ? t->data<int64_t>()[i] : t->data<int32_t>()[i];
      if (!(has_ignore_ && v == ignore_index_) && (v < 0 || v >= c))
        return ctx.error(std::string(tname) + " " + std::to_string(v) + " (element " + std::to_string(i) +
                         ") is out of range for " + std::to_string(c) + " classes" +
                         (has_ignore_ ? " and is not ignore_index " + std::to_string(ignore_index_)
                                      : std::string(" (no ignore_index is set)")));
      target[i] = v;
    }

    const bool known = dispatch(x->dtype(), LossTypes{}, [&](auto tag) {
      using T = typename decltype(tag)::type;
      using Tr = ElementTraits<T>;
      const T* px = x->data<T>();
      // log_prob[(i * c + k) * d + j]: the input itself for NLL, log_softmax over k for SCE.
      std::vector<double> log_prob;
      if (softmax_) {
        log_prob.resize(static_cast<std::size_t>(x->numel()));
        for (int64_t i = 0; i < n; ++i)
          for (int64_t j = 0; j < d; ++j) {
            const int64_t base = i * c * d + j;
            double m = -std::numeric_limits<double>::infinity();
            for (int64_t k = 0; k < c; ++k) m = std::max(m, static_cast<double>(Tr::load(px[base + k * d])));
            double s = 0;
            for (int64_t k = 0; k < c; ++k) s += std::exp(static_cast<double>(Tr::load(px[base + k * d])) - m);
            const double lse = m + std::log(s);
            for (int64_t k = 0; k < c; ++k)
              log_prob[base + k * d] = static_cast<double>(Tr::load(px[base + k * d])) - lse;
          }
        if (ctx.wants_output(1)) {
          T* lp = ctx.allocate_output(1, x->dtype(), x->shape()).data<T>();
          for (std::size_t i = 0; i < log_prob.size(); ++i) lp[i] = Tr::store(static_cast<compute_t<T>>(log_prob[i]));
        }
      }
      const auto input_at = [&](int64_t idx) {
        return softmax_ ? log_prob[static_cast<std::size_t>(idx)] : static_cast<double>(Tr::load(px[idx]));
      };
      std::vector<double> loss(target.size());
      double loss_sum = 0, weight_sum = 0;
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < d; ++j) {
          const int64_t k = target[static_cast<std::size_t>(i * d + j)];
          if (has_ignore_ && k == ignore_index_) continue;  // loss and weight 0
          const double wk = w ? static_cast<double>(Tr::load(w->data<T>()[k])) : 1.0;
          const double l = -input_at((i * c + k) * d + j) * wk;
          loss[static_cast<std::size_t>(i * d + j)] = l;
          loss_sum += l;
          weight_sum += wk;
        }
      if (reduction_ == Reduction::kNone) {
        T* y = ctx.allocate_output(0, x->dtype(), t->shape()).data<T>();
        for (std::size_t i = 0; i < loss.size(); ++i) y[i] = Tr::store(static_cast<compute_t<T>>(loss[i]));
      } else {
        const double r = reduction_ == Reduction::kSum ? loss_sum : loss_sum / weight_sum;
        ctx.allocate_output(0, x->dtype(), {}).data<T>()[0] = Tr::store(static_cast<compute_t<T>>(r));
      }
    });
    return known ? Status::ok() : ew::unsupported(ctx, std::string(xname), *x, LossTypes{});
  }

 private:
  bool softmax_;
  Reduction reduction_;
  bool has_ignore_;
  int64_t ignore_index_;
};

template <bool kSoftmax>
Result<KernelPtr> make_loss(const KernelInit& init) {
  const Node& node = init.node();
  const std::string r = attr_string(node, "reduction", "mean");
  Reduction reduction;
  if (r == "none")
    reduction = Reduction::kNone;
  else if (r == "sum")
    reduction = Reduction::kSum;
  else if (r == "mean")
    reduction = Reduction::kMean;
  else
    return init.error("reduction '" + r + "' is not one of none, sum, mean");
  const bool has_ignore = has_attr(node, "ignore_index");
  return KernelPtr(new LossKernel(kSoftmax, reduction, has_ignore, attr_int(node, "ignore_index", 0)));
}

}  // namespace

void register_loss_kernels(KernelRegistry& r) {
  r.add("NegativeLogLikelihoodLoss", make_loss<false>);
  r.add("SoftmaxCrossEntropyLoss", make_loss<true>);
}

}  // namespace tandem::cpu
