// QuantizeLinear, DequantizeLinear (opsets 10, 13 and 19) and DynamicQuantizeLinear (11): conversions between
// float32 and 8-bit integers through a scale and a zero point. From opset 13, a 1-D scale quantizes each
// index along `axis` with its own scale and zero point; a scalar (or 1-element) one the whole tensor. From
// opset 19 the float side may also be float16 or bfloat16: QuantizeLinear's x and y_scale (one type),
// DequantizeLinear's x_scale and y. They are computed in float32 (as ONNX's reference does DequantizeLinear
// and ONNX Runtime both) and y is rounded to its type once.
#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "graph/float16.h"
#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/element_types.h"
#include "runtime_cpu/kernels/elementwise_kernels.h"
#include "runtime_cpu/kernels/quantization.h"
#include "runtime_cpu/kernels/register.h"

namespace tandem::cpu {
namespace {

// The index along the quantization axis of each element: (i / inner) % n; per tensor, n == 1.
struct AxisWalk {
  int64_t n = 1, inner = 1;
  int64_t at(int64_t i) const { return n == 1 ? 0 : i / inner % n; }
};

// The per-axis scale's allowed length and the walk for it. Before opset 13 (per_axis false), and for a
// scalar x, only one value is allowed; an axis out of range matters only when the scale has several.
Result<AxisWalk> axis_walk(const KernelContext& ctx, const Tensor& x, const Tensor& scale, bool per_axis,
                           int64_t axis_attr, QuantOperand& what) {
  AxisWalk w;
  if (!per_axis || scale.numel() <= 1) return w;
  if (x.rank() == 0) return ctx.error("a scalar x " + x.describe() + " takes one scale, got " + scale.describe());
  auto axis = normalize_axis(axis_attr, static_cast<int64_t>(x.rank()), "axis");
  if (!axis) return ctx.error(axis.status().message() + " (x " + x.describe() + ")");
  w.n = x.dim(static_cast<std::size_t>(*axis));
  for (std::size_t d = static_cast<std::size_t>(*axis) + 1; d < x.rank(); ++d) w.inner *= x.dim(d);
  what.count = w.n;
  what.count_meaning = "the size of axis " + std::to_string(*axis) + " of x " + x.describe();
  return w;
}

// --- QuantizeLinear -------------------------------------------------------------------------------------

bool is_narrow_float(DType t) { return t == DType::kFloat16 || t == DType::kBFloat16; }

float narrow_to_float(DType t, uint16_t bits) {
  return t == DType::kFloat16 ? static_cast<float>(half_to_float(bits)) : bfloat16_to_float(bits);
}

class QuantizeLinearKernel final : public Kernel {
 public:
  QuantizeLinearKernel(bool per_axis, int64_t axis, bool narrow) : per_axis_(per_axis), axis_(axis), narrow_(narrow) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, ew::required_input(ctx, 0));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* scale, ew::required_input(ctx, 1));
    const bool narrow_x = narrow_ && is_narrow_float(x->dtype());
    if (x->dtype() != DType::kFloat32 && x->dtype() != DType::kInt32 && !narrow_x)
      return ctx.error("x must be float32" + std::string(narrow_ ? ", float16, bfloat16" : "") + " or int32, got " +
                       x->describe());
    if (narrow_ && (narrow_x || is_narrow_float(scale->dtype())) && scale->dtype() != x->dtype())
      return ctx.error("y_scale " + scale->describe() + " must have x's type (" + x->describe() + ")");
    QuantOperand what{"y"};
    what.narrow_scales = narrow_x;
    TANDEM_ASSIGN_OR_RETURN(const AxisWalk walk, axis_walk(ctx, *x, *scale, per_axis_, axis_, what));
    TANDEM_ASSIGN_OR_RETURN(const QuantParams p, read_quant_params(ctx, scale, ctx.input(2), what));
    const DType out_type = p.zero_point_type == DType::kUndefined ? DType::kUInt8 : p.zero_point_type;
    Tensor& y = ctx.allocate_output(0, out_type, x->shape());
    const auto fill = [&](auto* out) {
      using Q = std::remove_pointer_t<decltype(out)>;
      const int64_t n = x->numel();
      if (x->dtype() == DType::kFloat32) {  // float32 division, as the spec's x / y_scale in float
        const float* px = x->data<float>();
        for (int64_t i = 0; i < n; ++i) {
          const int64_t c = walk.at(i);
          out[i] = quantize_value<Q>(px[i] / p.scale_at(c), p.zero_point_at(c));
        }
      } else if (narrow_x) {  // widened exactly, divided in float32
        const uint16_t* px = x->data<uint16_t>();
        for (int64_t i = 0; i < n; ++i) {
          const int64_t c = walk.at(i);
          out[i] = quantize_value<Q>(narrow_to_float(x->dtype(), px[i]) / p.scale_at(c), p.zero_point_at(c));
        }
      } else {  // int32 / float32 promotes to double in numpy, which the reference uses
        const int32_t* px = x->data<int32_t>();
        for (int64_t i = 0; i < n; ++i) {
          const int64_t c = walk.at(i);
          out[i] = quantize_value<Q>(static_cast<double>(px[i]) / p.scale_at(c), p.zero_point_at(c));
        }
      }
    };
    if (out_type == DType::kUInt8)
      fill(y.data<uint8_t>());
    else
      fill(y.data<int8_t>());
    return Status::ok();
  }

 private:
  bool per_axis_;
  int64_t axis_;
  bool narrow_;  // opset 19: float16 and bfloat16 too
};

Result<KernelPtr> make_quantize(const KernelInit& init) {
  const Node& n = init.node();
  return KernelPtr(new QuantizeLinearKernel(n.opset >= 13, attr_int(n, "axis", 1), n.opset >= 19));
}

// --- DequantizeLinear -----------------------------------------------------------------------------------

class DequantizeLinearKernel final : public Kernel {
 public:
  DequantizeLinearKernel(bool per_axis, int64_t axis, bool narrow) : per_axis_(per_axis), axis_(axis), narrow_(narrow) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, ew::required_input(ctx, 0));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* scale, ew::required_input(ctx, 1));
    const Tensor* zp = ctx.input(2);
    if (!is_8bit(x->dtype()) && x->dtype() != DType::kInt32)
      return ctx.error("x must be uint8, int8 or int32, got " + x->describe());
    if (zp && zp->dtype() != x->dtype())
      return ctx.error("x_zero_point " + zp->describe() + " must have x's type (" + x->describe() + ")");
    QuantOperand what{"x"};
    what.int32_zero_point = true;
    what.narrow_scales = narrow_;
    TANDEM_ASSIGN_OR_RETURN(const AxisWalk walk, axis_walk(ctx, *x, *scale, per_axis_, axis_, what));
    TANDEM_ASSIGN_OR_RETURN(const QuantParams p, read_quant_params(ctx, scale, zp, what));
    if (x->dtype() == DType::kInt32 &&
        std::any_of(p.zero_point.begin(), p.zero_point.end(), [](int32_t z) { return z != 0; }))
      return ctx.error("an int32 x has no zero point: x_zero_point must be 0, got " + zp->describe());
    // y has the scale's type (float32 before opset 19); computed in float32, rounded to it once.
    const DType out_type = narrow_ && is_narrow_float(scale->dtype()) ? scale->dtype() : DType::kFloat32;
    Tensor& y = ctx.allocate_output(0, out_type, x->shape());
    const auto fill = [&](const auto* in) {
      for (int64_t i = 0; i < x->numel(); ++i) {
        const int64_t c = walk.at(i);
        const float v = static_cast<float>(int64_t{in[i]} - p.zero_point_at(c)) * p.scale_at(c);
        if (out_type == DType::kFloat32)
          y.data<float>()[i] = v;
        else if (out_type == DType::kFloat16)
          y.data<uint16_t>()[i] = half_from_double(v).bits;
        else
          y.data<uint16_t>()[i] = bfloat16_from_double(v).bits;
      }
    };
    if (x->dtype() == DType::kUInt8)
      fill(x->data<uint8_t>());
    else if (x->dtype() == DType::kInt8)
      fill(x->data<int8_t>());
    else
      fill(x->data<int32_t>());
    return Status::ok();
  }

 private:
  bool per_axis_;
  int64_t axis_;
  bool narrow_;  // opset 19: a float16 or bfloat16 scale (and y)
};

Result<KernelPtr> make_dequantize(const KernelInit& init) {
  const Node& n = init.node();
  return KernelPtr(new DequantizeLinearKernel(n.opset >= 13, attr_int(n, "axis", 1), n.opset >= 19));
}

// --- DynamicQuantizeLinear ------------------------------------------------------------------------------

// uint8 quantization over the range of x widened to include 0, in float32 as the spec's formula:
// scale = (max - min) / 255, zero point = saturate(round(0 - min / scale)). When max == min (x all zeros, or
// empty) the scale is 1 / 255 instead, as ONNX's reference implementation has it (ONNX Runtime uses 1), so
// nothing divides by zero. NaNs are left out of the range (they quantize to the zero point).
class DynamicQuantizeLinearKernel final : public Kernel {
 public:
  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, ew::required_input(ctx, 0));
    if (x->dtype() != DType::kFloat32) return ctx.error("x must be float32, got " + x->describe());
    const float* px = x->data<float>();
    const int64_t n = x->numel();
    float lo = 0, hi = 0;
    for (int64_t i = 0; i < n; ++i)
      if (!std::isnan(px[i])) lo = std::min(lo, px[i]), hi = std::max(hi, px[i]);
    const float scale = (hi == lo ? 1.0f : hi - lo) / 255.0f;
    const uint8_t zero_point = quantize_value<uint8_t>(0.0f - lo / scale, 0);
    uint8_t* y = ctx.allocate_output(0, DType::kUInt8, x->shape()).data<uint8_t>();
    for (int64_t i = 0; i < n; ++i) y[i] = quantize_value<uint8_t>(px[i] / scale, zero_point);
    if (ctx.wants_output(1)) ctx.allocate_output(1, DType::kFloat32, {}).data<float>()[0] = scale;
    if (ctx.wants_output(2)) ctx.allocate_output(2, DType::kUInt8, {}).data<uint8_t>()[0] = zero_point;
    return Status::ok();
  }
};

Result<KernelPtr> make_dynamic_quantize(const KernelInit&) { return KernelPtr(new DynamicQuantizeLinearKernel()); }

}  // namespace

void register_quantize_kernels(KernelRegistry& r) {
  r.add("QuantizeLinear", make_quantize);
  r.add("DequantizeLinear", make_dequantize);
  r.add("DynamicQuantizeLinear", make_dynamic_quantize);
}

}  // namespace tandem::cpu
