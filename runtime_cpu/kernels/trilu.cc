// Trilu: the upper (j - i >= k) or lower (j - i <= k) triangle of each of the last two dimensions' matrices,
// zero elsewhere. Only moves bytes, so it serves every fixed-size type; zero is the all-zero bit pattern
// (0, 0.0, false).
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/register.h"
#include "runtime_cpu/kernels/tensor_ops.h"

namespace tandem::cpu {
namespace {

class TriluKernel final : public Kernel {
 public:
  bool takes_strings() const override { return true; }
  explicit TriluKernel(bool upper) : upper_(upper) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "input"));
    TANDEM_RETURN_IF_ERROR(check_movable(ctx, *x, "input"));
    if (x->rank() < 2) return ctx.error("the input must have rank 2 or more, got " + x->describe());
    int64_t k = 0;
    if (const Tensor* kt = ctx.input(1)) {
      if (kt->dtype() != DType::kInt64 || kt->numel() != 1 || kt->rank() > 1)
        return ctx.error("k (input 1) must be one int64, got " + kt->describe());
      k = kt->data<int64_t>()[0];
    }
    const std::size_t r = x->rank();
    const int64_t rows = x->dim(r - 2), cols = x->dim(r - 1);
    // Beyond +-(rows + cols) every k keeps all or nothing; clamping keeps i + k from overflowing.
    k = std::clamp(k, -(rows + cols), rows + cols);
    Tensor& y = ctx.allocate_output(0, x->dtype(), x->shape());
    const std::size_t elem = element_stride(x->dtype());
    const bool strings = x->dtype() == DType::kString;  // their zero is "", which a new string tensor holds
    const auto* src = static_cast<const std::byte*>(x->raw());
    auto* dst = static_cast<std::byte*>(y.raw());
    const int64_t matrices = rows * cols == 0 ? 0 : x->numel() / (rows * cols);
    for (int64_t m = 0; m < matrices; ++m)
      for (int64_t i = 0; i < rows; ++i) {
        // Row i keeps columns [begin, end): upper from i + k on, lower up to i + k.
        const int64_t begin = upper_ ? std::clamp<int64_t>(i + k, 0, cols) : 0;
        const int64_t end = upper_ ? cols : std::clamp<int64_t>(i + k + 1, 0, cols);
        const std::size_t row = static_cast<std::size_t>((m * rows + i) * cols) * elem;
        const auto at = [&](int64_t j) { return row + static_cast<std::size_t>(j) * elem; };
        if (!strings) std::memset(dst + at(0), 0, at(begin) - at(0));
        copy_elements(x->dtype(), dst + at(begin), src + at(begin), at(std::max(begin, end)) - at(begin));
        if (!strings) std::memset(dst + at(std::max(begin, end)), 0, at(cols) - at(std::max(begin, end)));
      }
    return Status::ok();
  }

 private:
  bool upper_;
};

Result<KernelPtr> make_trilu(const KernelInit& init) {
  const int64_t upper = attr_int(init.node(), "upper", 1);
  if (upper != 0 && upper != 1) return init.error("upper must be 0 or 1, got " + std::to_string(upper));
  return KernelPtr(new TriluKernel(upper == 1));
}

}  // namespace

void register_trilu_kernels(KernelRegistry& r) {
  r.add("Trilu", make_trilu);
  r.take_strings("Trilu");
}

}  // namespace tandem::cpu
