// RMSNormalization (opset 23): each row of X over the axes from `axis` to the last is divided by its root
// mean square, y = x / sqrt(mean(x^2) + epsilon) * scale, with scale broadcast unidirectionally to X (ONNX
// Runtime takes any such scale, not only one constant along the leading axes, and so does this kernel).
// stash_type names the precision of the statistics; they and the whole result are computed in double here,
// which meets any it names, and rounded once to X's type (ONNX Runtime also rounds float16 once, where the
// spec's function body rounds the normalised value before the Mul by scale).
#include <cmath>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/broadcast.h"
#include "runtime_cpu/kernels/element_types.h"
#include "runtime_cpu/kernels/elementwise_kernels.h"
#include "runtime_cpu/kernels/register.h"
#include "runtime_cpu/kernels/tensor_ops.h"

namespace tandem::cpu {
namespace {

// A double rounded once to T (a float rounded again to a 16-bit float could round twice onto a tie).
template <typename T>
T round_from_double(double v) {
  if constexpr (std::is_same_v<T, Half>)
    return half_from_double(v);
  else if constexpr (std::is_same_v<T, BFloat16>)
    return bfloat16_from_double(v);
  else
    return static_cast<T>(v);
}

// Offsets into a broadcast operand while walking a row-major index over `shape` (an odometer).
class StridedWalk {
 public:
  StridedWalk(std::vector<int64_t> shape, std::vector<int64_t> strides)
      : shape_(std::move(shape)), strides_(std::move(strides)), index_(shape_.size(), 0) {}
  int64_t offset() const { return offset_; }
  void next() {
    for (std::size_t d = shape_.size(); d-- > 0;) {
      offset_ += strides_[d];
      if (++index_[d] < shape_[d]) return;
      offset_ -= strides_[d] * shape_[d];
      index_[d] = 0;
    }
  }

 private:
  std::vector<int64_t> shape_, strides_, index_;
  int64_t offset_ = 0;
};

class RmsNormKernel final : public Kernel {
 public:
  RmsNormKernel(int64_t axis, double epsilon) : axis_(axis), epsilon_(epsilon) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "X"));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* scale, required_input(ctx, 1, "scale"));
    auto axis = normalize_axis(axis_, static_cast<int64_t>(x->rank()), "axis");
    if (!axis) return ctx.error(axis.status().message() + " (X " + x->describe() + ")");
    if (scale->dtype() != x->dtype())
      return ctx.error("scale must have X's type " + std::string(dtype_name(x->dtype())) + ", got " +
                       scale->describe());
    // Unidirectional broadcasting: scale's dimensions, aligned to X's last ones, are X's or 1.
    const std::vector<int64_t>& xs = x->shape();
    bool broadcasts = scale->rank() <= x->rank();
    for (std::size_t i = 0; broadcasts && i < scale->rank(); ++i) {
      const int64_t s = scale->dim(i), want = xs[xs.size() - scale->rank() + i];
      broadcasts = s == want || s == 1;
    }
    if (!broadcasts)
      return ctx.error("scale " + scale->describe() + " does not broadcast (unidirectionally) to X " + x->describe());
    const std::vector<int64_t> outer_shape(xs.begin(), xs.begin() + *axis), inner_shape(xs.begin() + *axis, xs.end());
    const std::vector<int64_t> strides = broadcast_strides(scale->shape(), xs);
    const std::vector<int64_t> outer_strides(strides.begin(), strides.begin() + *axis),
        inner_strides(strides.begin() + *axis, strides.end());
    // An empty X has nothing to normalise (a row of no elements included: its output is empty too), and
    // its leading axes may multiply to more rows than could be walked.
    const int64_t inner = x->numel() == 0 ? 0 : shape_numel(inner_shape);
    const int64_t rows = inner == 0 ? 0 : x->numel() / inner;
    const bool known = dispatch(x->dtype(), FloatTypes{}, [&](auto tag) {
      using T = typename decltype(tag)::type;
      using Tr = ElementTraits<T>;
      const T* px = x->data<T>();
      const T* ps = scale->data<T>();
      T* py = ctx.allocate_output(0, x->dtype(), xs).data<T>();
      StridedWalk outer_walk(outer_shape, outer_strides);
      for (int64_t r = 0; r < rows; ++r, outer_walk.next()) {
        const T* row = px + r * inner;
        T* out = py + r * inner;
        double sum = 0;
        for (int64_t i = 0; i < inner; ++i) {
          const double v = static_cast<double>(Tr::load(row[i]));
          sum += v * v;
        }
        const double inv_rms = 1.0 / std::sqrt(sum / static_cast<double>(inner) + epsilon_);
        const T* row_scale = ps + outer_walk.offset();
        StridedWalk inner_walk(inner_shape, inner_strides);
        for (int64_t i = 0; i < inner; ++i, inner_walk.next()) {
          const double v = static_cast<double>(Tr::load(row[i])) * inv_rms *
                           static_cast<double>(Tr::load(row_scale[inner_walk.offset()]));
          out[i] = round_from_double<T>(v);
        }
      }
    });
    return known ? Status::ok() : ew::unsupported(ctx, "X", *x, FloatTypes{});
  }

 private:
  int64_t axis_;
  double epsilon_;
};

Result<KernelPtr> make_rms_norm(const KernelInit& init) {
  const Node& n = init.node();
  // A floating-point TensorProto type: float, float16, double, bfloat16 (the function body's own check).
  const int64_t stash = attr_int(n, "stash_type", 1);
  if (stash != 1 && stash != 10 && stash != 11 && stash != 16)
    return init.error("stash_type must be a floating-point type (1, 10, 11 or 16), got " + std::to_string(stash));
  return KernelPtr(new RmsNormKernel(attr_int(n, "axis", -1), attr_float(n, "epsilon", 1e-5f)));
}

}  // namespace

void register_rms_norm_kernels(KernelRegistry& r) { r.add("RMSNormalization", make_rms_norm); }

}  // namespace tandem::cpu
