// Softmax and LogSoftmax. Before opset 13 the input is coerced to 2-D at `axis` ([d0*...*d(axis-1),
// d(axis)*...*d(n-1)]) and each row is normalised; from 13 on only dimension `axis` is. Either way the data
// is [outer, n, inner] with the normalised dimension in the middle. Each slice is shifted by its maximum so
// exp cannot overflow, and sums accumulate in double. float32 rows (inner 1: the last axis, the usual case)
// run over whole vectors (vector_math.h); these loops are their reference twin.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/sub_families.h"
#include "runtime_cpu/kernels/vector_math.h"

namespace tandem::cpu {
namespace {

template <typename T>
void softmax(const T* x, int64_t outer, int64_t n, int64_t inner, bool log, T* y) {
  std::vector<T> max(static_cast<std::size_t>(inner));
  std::vector<double> sum(static_cast<std::size_t>(inner));
  for (int64_t o = 0; o < outer; ++o, x += n * inner, y += n * inner) {
    std::fill(max.begin(), max.end(), -std::numeric_limits<T>::infinity());
    std::fill(sum.begin(), sum.end(), 0.0);
    for (int64_t j = 0; j < n; ++j)
      for (int64_t i = 0; i < inner; ++i) max[i] = std::max(max[i], x[j * inner + i]);
    for (int64_t j = 0; j < n; ++j)
      for (int64_t i = 0; i < inner; ++i) {
        const T e = std::exp(x[j * inner + i] - max[i]);
        sum[i] += e;
        if (!log) y[j * inner + i] = e;
      }
    if (log)
      for (double& s : sum) s = std::log(s);  // once per slice, not per element
    for (int64_t j = 0; j < n; ++j)
      for (int64_t i = 0; i < inner; ++i) {
        if (log)
          y[j * inner + i] = static_cast<T>(x[j * inner + i] - max[i] - sum[i]);
        else
          y[j * inner + i] = static_cast<T>(y[j * inner + i] / sum[i]);
      }
  }
}

class SoftmaxKernel final : public Kernel {
 public:
  SoftmaxKernel(bool log, bool coerce_2d, int64_t axis, SoftmaxRowsFn rows)
      : log_(log), coerce_2d_(coerce_2d), axis_(axis), rows_(rows) {}

  Status run(KernelContext& ctx) const override {
    const Tensor* x = ctx.input(0);
    if (!x) return ctx.error("input 0 is missing");
    if (x->rank() == 0) return ctx.error("the input must have rank 1 or more, got " + x->describe());
    auto axis = normalize_axis(axis_, static_cast<int64_t>(x->rank()), "axis");
    if (!axis) return ctx.error(axis.status().message() + " (input " + x->describe() + ")");
    int64_t outer = 1, n = 1, inner = 1;
    for (std::size_t d = 0; d < x->rank(); ++d) {
      const auto i = static_cast<int64_t>(d);
      if (i < *axis)
        outer *= x->dim(d);
      else if (i == *axis || coerce_2d_)
        n *= x->dim(d);
      else
        inner *= x->dim(d);
    }
    if (x->dtype() == DType::kFloat32) {
      float* y = ctx.allocate_output(0, x->dtype(), x->shape()).data<float>();
      if (rows_ && inner == 1)
        rows_(x->data<float>(), y, outer, n, log_);
      else
        softmax(x->data<float>(), outer, n, inner, log_, y);
    } else if (x->dtype() == DType::kFloat64) {
      softmax(x->data<double>(), outer, n, inner, log_,
              ctx.allocate_output(0, x->dtype(), x->shape()).data<double>());
    } else {
      return ctx.error("the input must be float32 or float64, got " + x->describe());
    }
    return Status::ok();
  }

 private:
  bool log_, coerce_2d_;
  int64_t axis_;
  SoftmaxRowsFn rows_;  // nullptr: the loops above (TANDEM_ELEMENTWISE_KERNEL=reference)
};

KernelFactory softmax_factory(bool log) {
  return [log](const KernelInit& init) -> Result<KernelPtr> {
    const bool coerce_2d = init.node().opset < 13;
    const VectorMath* vm = vector_math();
    return KernelPtr(new SoftmaxKernel(log, coerce_2d, attr_int(init.node(), "axis", coerce_2d ? 1 : -1),
                                       vm ? vm->softmax_rows : nullptr));
  };
}

}  // namespace

void register_softmax_kernels(KernelRegistry& r) {
  r.add("Softmax", softmax_factory(false));
  r.add("LogSoftmax", softmax_factory(true));
}

}  // namespace tandem::cpu
