// Ops that make tensors from a few numbers (ConstantOfShape, Range), and Dropout, which at inference is the
// identity and in training mode (opsets 1-6 with is_test 0, opset 12+ with training_mode) zeroes a random
// share of its input.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>
#include <type_traits>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/element_types.h"
#include "runtime_cpu/kernels/random_source.h"
#include "runtime_cpu/kernels/tensor_ops.h"

namespace tandem::cpu {
namespace {

class ConstantOfShapeKernel final : public Kernel {
 public:
  ConstantOfShapeKernel(DType dtype, std::vector<std::byte> value)
      : dtype_(dtype), value_(std::move(value)) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* shape_in, required_input(ctx, 0, "input"));
    TANDEM_ASSIGN_OR_RETURN(std::vector<int64_t> shape, read_ints(ctx, *shape_in, "shape"));
    for (int64_t d : shape)
      if (d < 0) return ctx.error("shape " + shape_string(shape) + " has a negative dimension");
    TANDEM_RETURN_IF_ERROR(check_output_size(ctx, shape, dtype_));
    Tensor& y = ctx.allocate_output(0, dtype_, std::move(shape));  // an empty shape gives a scalar
    fill_elements(dtype_, y.raw(), y.numel(), value_.data());
    return Status::ok();
  }

 private:
  DType dtype_;
  std::vector<std::byte> value_;
};

Result<KernelPtr> make_constant_of_shape(const KernelInit& init) {
  const Attribute* a = init.node().attribute("value");
  if (!a) return KernelPtr(new ConstantOfShapeKernel(DType::kFloat32, std::vector<std::byte>(sizeof(float))));
  if (a->kind != Attribute::Kind::kTensor || !a->t) return init.error("attribute 'value' is not a tensor");
  const TensorData& t = *a->t;
  if (dtype_size(t.dtype) == 0)
    return init.error("value of type " + std::string(dtype_name(t.dtype)) + " is not supported");
  if (t.num_elements() != 1 || t.bytes.size() != dtype_size(t.dtype))
    return init.error("value must hold one element, got " + std::to_string(t.num_elements()));
  return KernelPtr(new ConstantOfShapeKernel(t.dtype, t.bytes));
}

// Range: start + i * delta for i < max(ceil((limit - start) / delta), 0), computed in the element type as
// the spec writes it.
class RangeKernel final : public Kernel {
 public:
  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* start, required_input(ctx, 0, "start"));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* limit, required_input(ctx, 1, "limit"));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* delta, required_input(ctx, 2, "delta"));
    for (const Tensor* t : {start, limit, delta}) {
      if (t->numel() != 1 || t->rank() > 1)
        return ctx.error("start, limit and delta must be scalars, got " + t->describe());
      if (t->dtype() != start->dtype())
        return ctx.error("start, limit and delta must have one type, got " + start->describe() + " and " +
                         t->describe());
    }
    switch (start->dtype()) {
      case DType::kFloat32:
        return fill<float>(ctx, *start, *limit, *delta);
      case DType::kFloat64:
        return fill<double>(ctx, *start, *limit, *delta);
      case DType::kInt16:
        return fill<int16_t>(ctx, *start, *limit, *delta);
      case DType::kInt32:
        return fill<int32_t>(ctx, *start, *limit, *delta);
      case DType::kInt64:
        return fill<int64_t>(ctx, *start, *limit, *delta);
      default:
        return ctx.error("type " + std::string(dtype_name(start->dtype())) +
                         " is not supported (float32, float64, int16, int32, int64 are)");
    }
  }

 private:
  template <typename T>
  static Status fill(KernelContext& ctx, const Tensor& s, const Tensor& l, const Tensor& d) {
    const T start = s.data<T>()[0], limit = l.data<T>()[0], delta = d.data<T>()[0];
    if (delta == T(0)) return ctx.error("delta is 0");
    int64_t n = 0;
    if constexpr (std::is_floating_point_v<T>) {
      const double c =
          std::ceil(static_cast<double>(static_cast<T>(limit - start)) / static_cast<double>(delta));
      if (!(c < 9.0e15)) return ctx.error("start, limit and delta give no finite element count");
      n = c > 0 ? static_cast<int64_t>(c) : 0;
    } else {
      // Unsigned differences: exact for any pair of int64 values, where a signed one could overflow.
      const auto ustart = static_cast<uint64_t>(static_cast<int64_t>(start));
      const auto ulimit = static_cast<uint64_t>(static_cast<int64_t>(limit));
      const auto udelta = static_cast<uint64_t>(static_cast<int64_t>(delta));
      uint64_t count = 0;
      if (delta > 0 && limit > start) count = (ulimit - ustart - 1) / udelta + 1;
      if (delta < 0 && start > limit) count = (ustart - ulimit - 1) / (0 - udelta) + 1;
      if (count > (uint64_t{1} << 48))
        return ctx.error("start, limit and delta give " + std::to_string(count) +
                         " elements, which is too many");
      n = static_cast<int64_t>(count);
    }
    TANDEM_RETURN_IF_ERROR(check_output_size(ctx, {n}, s.dtype()));
    Tensor& y = ctx.allocate_output(0, s.dtype(), {n});
    T* out = y.data<T>();
    for (int64_t i = 0; i < n; ++i) {
      if constexpr (std::is_floating_point_v<T>) {
        out[i] = start + static_cast<T>(i) * delta;
      } else {  // wraps modulo 2^64 on the way, lands in range
        out[i] = static_cast<T>(static_cast<int64_t>(static_cast<uint64_t>(static_cast<int64_t>(start)) +
                                                     static_cast<uint64_t>(i) *
                                                         static_cast<uint64_t>(static_cast<int64_t>(delta))));
      }
    }
    return Status::ok();
  }
};

// Dropout at inference passes its input through; the optional mask is all ones (true). Training mode drops
// each element with probability ratio and scales the kept ones by 1 / (1 - ratio), the mask saying which were
// kept. Opsets 1-6 say which mode by the is_test attribute, whose default 0 means training (ratio from the
// attribute, 0.5 by default); opsets 7-11 only run inference; opsets 12+ take training_mode as an input, and
// a true one asks for training with the ratio input (0.5 without one). The ratio must be in [0, 1), as the
// later spec and ONNX Runtime require (the old spec is silent; a ratio of 1 would divide by zero). The output
// is x * mask / (1 - ratio) as the spec writes it, so a dropped NaN or infinity stays NaN (x * 0), as in
// ONNX's reference and ONNX Runtime. Ratio 0 keeps everything: the input itself, with an all-true mask.
// Before opset 10 the mask has the data's type (1 kept, 0 dropped), bool since. Draws come from a
// RandomSource (random_source.h) seeded by the `seed` attribute when there is one.
class DropoutKernel final : public Kernel {
 public:
  // `legacy_training`: opsets 1-6 with is_test 0, at `legacy_ratio`.
  DropoutKernel(int opset, std::optional<uint64_t> seed, bool legacy_training, double legacy_ratio)
      : opset_(opset), source_(seed), legacy_training_(legacy_training), legacy_ratio_(legacy_ratio) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "data"));
    if (legacy_training_) return run_training(ctx, *x, legacy_ratio_);
    if (opset_ >= 12) {
      if (const Tensor* training = ctx.input(2)) {
        if (training->dtype() != DType::kBool || training->numel() != 1)
          return ctx.error("training_mode must be one bool, got " + training->describe());
        if (training->data<uint8_t>()[0]) {
          double ratio = 0.5;
          if (const Tensor* r = ctx.input(1)) {
            if (r->numel() != 1 || !(r->dtype() == DType::kFloat32 || r->dtype() == DType::kFloat64 ||
                                     r->dtype() == DType::kFloat16))
              return ctx.error("ratio must be one float16, float32 or float64, got " + r->describe());
            ratio = element_as_double(*r, 0);
          }
          return run_training(ctx, *x, ratio);
        }
      }
    }
    if (ctx.num_outputs() > 1 && ctx.wants_output(1)) {
      if (opset_ >= 10) {
        Tensor& mask = ctx.allocate_output(1, DType::kBool, x->shape());
        if (mask.numel()) std::memset(mask.raw(), 1, static_cast<std::size_t>(mask.numel()));
      } else {  // before opset 10 the mask has the data's type
        TANDEM_RETURN_IF_ERROR(check_movable(ctx, *x, "input 0"));
        auto one = scalar_bytes(x->dtype(), 1.0);
        if (!one) return ctx.error("mask: " + one.status().message());
        Tensor& mask = ctx.allocate_output(1, x->dtype(), x->shape());
        fill_elements(mask.dtype(), mask.raw(), mask.numel(), one->data());
      }
    }
    ctx.set_output(0, *x);
    return Status::ok();
  }

 private:
  Status run_training(KernelContext& ctx, const Tensor& x, double ratio) const {
    if (!(ratio >= 0.0 && ratio < 1.0)) {
      char shown[32];
      std::snprintf(shown, sizeof shown, "%.7g", ratio);
      return ctx.error("ratio must be in [0, 1) in training mode, got " + std::string(shown));
    }
    if (!dispatch(x.dtype(), FloatTypes{}, [](auto) {}))
      return ctx.error("training mode takes " + type_names(FloatTypes{}) + " data, got " + x.describe());
    const bool want_mask = ctx.num_outputs() > 1 && ctx.wants_output(1);
    const bool bool_mask = opset_ >= 10;
    Tensor* mask = want_mask ? &ctx.allocate_output(1, bool_mask ? DType::kBool : x.dtype(), x.shape()) : nullptr;
    if (ratio == 0.0) {
      if (mask) {
        auto one = scalar_bytes(mask->dtype(), 1.0);  // true, or 1 in the data's type
        if (!one) return ctx.error("mask: " + one.status().message());
        fill_elements(mask->dtype(), mask->raw(), mask->numel(), one->data());
      }
      ctx.set_output(0, x);
      return Status::ok();
    }
    const double keep_scale = 1.0 - ratio;
    std::mt19937_64 g = source_.engine();
    dispatch(x.dtype(), FloatTypes{}, [&](auto tag) {
      using T = typename decltype(tag)::type;
      using Tr = ElementTraits<T>;
      const T* px = x.data<T>();
      T* py = ctx.allocate_output(0, x.dtype(), x.shape()).data<T>();
      uint8_t* bool_out = mask && bool_mask ? mask->data<uint8_t>() : nullptr;
      T* typed_out = mask && !bool_mask ? mask->data<T>() : nullptr;
      for (int64_t i = 0; i < x.numel(); ++i) {
        const bool keep = uniform01(g) >= ratio;
        if (bool_out) bool_out[i] = keep ? 1 : 0;
        if (typed_out) typed_out[i] = Tr::store(keep ? 1.0f : 0.0f);
        const double v = static_cast<double>(Tr::load(px[i]));
        const double y = keep ? v / keep_scale : v * 0.0;
        if constexpr (std::is_same_v<T, Half>)
          py[i] = half_from_double(y);
        else if constexpr (std::is_same_v<T, BFloat16>)
          py[i] = bfloat16_from_double(y);
        else
          py[i] = static_cast<T>(y);
      }
    });
    return Status::ok();
  }

  int opset_;
  RandomSource source_;
  bool legacy_training_;
  double legacy_ratio_;
};

}  // namespace

void register_generator_ops(KernelRegistry& r) {
  r.add("ConstantOfShape", make_constant_of_shape);
  r.add("Range", [](const KernelInit&) -> Result<KernelPtr> { return KernelPtr(new RangeKernel()); });
  r.add("Dropout", [](const KernelInit& init) -> Result<KernelPtr> {
    const Node& n = init.node();
    std::optional<uint64_t> seed;
    if (has_attr(n, "seed")) seed = static_cast<uint64_t>(attr_int(n, "seed", 0));
    const bool legacy_training = n.opset < 7 && attr_int(n, "is_test", 0) == 0;
    const float ratio = attr_float(n, "ratio", 0.5f);
    if (legacy_training && !(ratio >= 0.0f && ratio < 1.0f))
      return init.error("ratio must be in [0, 1) in training mode (is_test 0), got " + std::to_string(ratio));
    return KernelPtr(new DropoutKernel(n.opset, seed, legacy_training, ratio));
  });
}

}  // namespace tandem::cpu
