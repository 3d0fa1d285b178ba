// QuantizeLinear, DequantizeLinear (opsets 10, 13, 19, 21 and 23) and DynamicQuantizeLinear (11):
// conversions between float32 and integers through a scale and a zero point.
// - Granularity: a scalar (or 1-element) scale quantizes the whole tensor; from opset 13 a 1-D scale each
//   index along `axis` with its own scale and zero point; from opset 21, with `block_size` > 0, a scale of
//   x's rank each block of block_size indices along `axis` (its length there ceil(D / block_size), the other
//   dimensions x's).
// - Types: 8-bit integers; from opset 21 also 16-bit ones (QuantizeLinear's `output_dtype` names y's type
//   when there is no zero point). From opset 19 the float side may be float16 or bfloat16: QuantizeLinear's
//   x and y_scale (one type), DequantizeLinear's x_scale and y. They are computed in float32 (as ONNX's
//   reference does DequantizeLinear and ONNX Runtime both) and y is rounded to its type once.
// - From opset 23 the scale's type is its own: QuantizeLinear's x and y_scale may differ, and `precision`
//   may name the type x / y_scale is computed in (both converted to it, the quotient rounded to it, as ONNX's
//   reference does); without it the division is in float32 (in double for int32 x), as numpy's promotion in
//   the reference gives for every pair but float16 / float16 and bfloat16 / bfloat16 (there float32 too, as
//   ONNX Runtime does before opset 23). DequantizeLinear's `output_dtype` names y's type.
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
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

// What a node's opset allows.
struct QuantRules {
  bool per_axis = false;  // 13: 1-D scales along `axis`
  bool narrow = false;    // 19: float16 and bfloat16 on the float side
  bool wide = false;      // 21: 16-bit integers, blocked quantization, output_dtype
  bool own_scale_type = false;  // 23: the scale's type need not be x's (QuantizeLinear) or y's (Dequantize)
  int64_t axis = 1, block_size = 0;
  DType output_dtype = DType::kUndefined;  // QuantizeLinear-21's and DequantizeLinear-23's; kUndefined: not given
  DType precision = DType::kUndefined;     // QuantizeLinear-23's; kUndefined: not given
};

// x / scale computed in `precision` (float32, float16 or bfloat16): both converted to it, the quotient
// rounded to it. For the 16-bit types the float32 quotient of two such values rounded once is their correctly
// rounded quotient (float32 carries more than twice their significand bits).
inline float divide_in(DType precision, double x, float scale) {
  if (precision == DType::kFloat32) return static_cast<float>(x) / scale;
  const float xp = narrow_to_float(precision, float_to_narrow(precision, x));
  const float sp = narrow_to_float(precision, float_to_narrow(precision, scale));
  return narrow_to_float(precision, float_to_narrow(precision, xp / sp));
}

// Which scale (and zero point) element i of x uses: per tensor (n == 1), per index along the axis
// (i / inner % n), or per block along it ((outer index * blocks + index / block) * inner + inner index).
struct ScaleWalk {
  int64_t n = 1, inner = 1, block = 0, blocks = 1;
  int64_t at(int64_t i) const {
    if (n == 1 && block == 0) return 0;
    const int64_t along = i / inner % n;
    if (block == 0) return along;
    return ((i / inner / n) * blocks + along / block) * inner + i % inner;
  }
};

// The walk for x's scale, and what the scale and zero point may be (in `what`). Before opset 13, and for a
// scalar x, only one value is allowed; an axis out of range matters only when the scale has several.
Result<ScaleWalk> scale_walk(const KernelContext& ctx, const Tensor& x, const Tensor& scale, const QuantRules& r,
                             QuantOperand& what) {
  ScaleWalk w;
  const bool blocked = r.wide && r.block_size > 0;
  // One value (a scalar or [1]) is per tensor; an empty 1-D scale is per axis, for an axis of length 0.
  if (!blocked && (!r.per_axis || scale.numel() == 1 || scale.rank() == 0)) return w;
  if (x.rank() == 0) return ctx.error("a scalar x " + x.describe() + " takes one scale, got " + scale.describe());
  auto axis = normalize_axis(r.axis, static_cast<int64_t>(x.rank()), "axis");
  if (!axis) return ctx.error(axis.status().message() + " (x " + x.describe() + ")");
  const auto a = static_cast<std::size_t>(*axis);
  w.n = x.dim(a);
  for (std::size_t d = a + 1; d < x.rank(); ++d) w.inner *= x.dim(d);
  if (!blocked) {
    what.count = w.n;
    what.count_meaning = "the size of axis " + std::to_string(*axis) + " of x " + x.describe();
    return w;
  }
  w.block = r.block_size;
  // ceil(n / block_size) without n + block_size - 1, which overflows for a block_size near int64's end.
  w.blocks = w.n == 0 ? 0 : (w.n - 1) / r.block_size + 1;
  what.shape = x.shape();
  what.shape[a] = w.blocks;
  what.count = shape_numel(what.shape);
  what.count_meaning = "x " + x.describe() + " in blocks of " + std::to_string(r.block_size) + " along axis " +
                       std::to_string(*axis);
  return w;
}

// The quantized types a node may use: 8-bit, and 16-bit from opset 21.
bool quantized_type_ok(DType t, const QuantRules& r) {
  return is_8bit(t) || (r.wide && (t == DType::kUInt16 || t == DType::kInt16));
}
std::string quantized_types(const QuantRules& r) { return r.wide ? "uint8, int8, uint16 or int16" : "uint8 or int8"; }

// Calls f with a typed pointer to t's elements (one of the quantized integer types, or int32); const for a
// const tensor.
template <typename TensorT, typename F>
void with_quantized(TensorT& t, F&& f) {
  switch (t.dtype()) {
    case DType::kUInt8: return f(t.template data<uint8_t>());
    case DType::kInt8: return f(t.template data<int8_t>());
    case DType::kUInt16: return f(t.template data<uint16_t>());
    case DType::kInt16: return f(t.template data<int16_t>());
    default: return f(t.template data<int32_t>());
  }
}

// --- QuantizeLinear -------------------------------------------------------------------------------------

class QuantizeLinearKernel final : public Kernel {
 public:
  explicit QuantizeLinearKernel(QuantRules r) : r_(r) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, ew::required_input(ctx, 0));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* scale, ew::required_input(ctx, 1));
    const Tensor* zp = ctx.input(2);
    const bool narrow_x = r_.narrow && is_narrow_float(x->dtype());
    if (x->dtype() != DType::kFloat32 && x->dtype() != DType::kInt32 && !narrow_x)
      return ctx.error("x must be float32" + std::string(r_.narrow ? ", float16, bfloat16" : "") + " or int32, got " +
                       x->describe());
    if (r_.narrow && !r_.own_scale_type && (narrow_x || is_narrow_float(scale->dtype())) &&
        scale->dtype() != x->dtype())
      return ctx.error("y_scale " + scale->describe() + " must have x's type (" + x->describe() + ")");
    if (zp && !quantized_type_ok(zp->dtype(), r_))
      return ctx.error("y_zero_point must be " + quantized_types(r_) + ", got " + zp->describe());
    if (zp && r_.output_dtype != DType::kUndefined && zp->dtype() != r_.output_dtype)
      return ctx.error("output_dtype " + std::string(dtype_name(r_.output_dtype)) + " differs from y_zero_point " +
                       zp->describe());
    QuantOperand what{"y"};
    what.narrow_scales = narrow_x || r_.own_scale_type;
    what.wide_zero_points = r_.wide;
    TANDEM_ASSIGN_OR_RETURN(const ScaleWalk walk, scale_walk(ctx, *x, *scale, r_, what));
    TANDEM_ASSIGN_OR_RETURN(const QuantParams p, read_quant_params(ctx, scale, zp, what));
    const DType out_type = p.zero_point_type != DType::kUndefined ? p.zero_point_type
                           : r_.output_dtype != DType::kUndefined ? r_.output_dtype
                                                                  : DType::kUInt8;
    Tensor& y = ctx.allocate_output(0, out_type, x->shape());
    with_quantized(y, [&](auto* out) {
      using Q = std::remove_pointer_t<decltype(out)>;
      if constexpr (!std::is_same_v<Q, int32_t>) {
        const int64_t n = x->numel();
        if (r_.precision != DType::kUndefined) {  // the division in the type `precision` names
          for (int64_t i = 0; i < n; ++i) {
            const int64_t c = walk.at(i);
            const double v = x->dtype() == DType::kFloat32 ? x->data<float>()[i]
                             : narrow_x                    ? narrow_to_float(x->dtype(), x->data<uint16_t>()[i])
                                                           : x->data<int32_t>()[i];
            out[i] = quantize_value<Q>(divide_in(r_.precision, v, p.scale_at(c)), p.zero_point_at(c));
          }
        } else if (x->dtype() == DType::kFloat32) {  // float32 division, as the spec's x / y_scale in float
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
      }
    });
    return Status::ok();
  }

 private:
  QuantRules r_;
};

// A float type attribute (DequantizeLinear's output_dtype, QuantizeLinear's precision): float32, float16 or
// bfloat16; kUndefined when absent (0).
Result<DType> float_side_type(const KernelInit& init, const char* name) {
  const int64_t t = attr_int(init.node(), name, 0);
  if (t == 0) return DType::kUndefined;
  const std::optional<DType> d = t > 0 && t <= std::numeric_limits<int32_t>::max() ? dtype_from_onnx(static_cast<int32_t>(t)) : std::nullopt;
  if (!d || (*d != DType::kFloat32 && !is_narrow_float(*d)))
    return init.error(std::string(name) + " " + std::to_string(t) + " is not float, float16 or bfloat16");
  return *d;
}

Result<QuantRules> quant_rules(const KernelInit& init, bool quantize) {
  const Node& n = init.node();
  QuantRules r;
  r.per_axis = n.opset >= 13;
  r.narrow = n.opset >= 19;
  r.wide = n.opset >= 21;
  r.own_scale_type = n.opset >= 23;
  r.axis = attr_int(n, "axis", 1);
  if (!r.wide) return r;
  r.block_size = attr_int(n, "block_size", 0);
  if (r.block_size < 0) return init.error("block_size must be 0 or more, got " + std::to_string(r.block_size));
  if (!quantize) {
    if (r.own_scale_type) {
      TANDEM_ASSIGN_OR_RETURN(r.output_dtype, float_side_type(init, "output_dtype"));
    }
    return r;
  }
  if (const int64_t t = attr_int(n, "output_dtype", 0); t != 0) {
    const std::optional<DType> d = dtype_from_onnx(static_cast<int32_t>(t));
    if (!d || !quantized_type_ok(*d, r))
      return init.error("output_dtype " + std::to_string(t) + " is not one of " + quantized_types(r) +
                        " (float8 and 4-bit types are not supported)");
    r.output_dtype = *d;
  }
  if (r.own_scale_type) {
    TANDEM_ASSIGN_OR_RETURN(r.precision, float_side_type(init, "precision"));
  }
  return r;
}

Result<KernelPtr> make_quantize(const KernelInit& init) {
  TANDEM_ASSIGN_OR_RETURN(QuantRules r, quant_rules(init, /*quantize=*/true));
  return KernelPtr(new QuantizeLinearKernel(r));
}

// --- DequantizeLinear -----------------------------------------------------------------------------------

class DequantizeLinearKernel final : public Kernel {
 public:
  explicit DequantizeLinearKernel(QuantRules r) : r_(r) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, ew::required_input(ctx, 0));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* scale, ew::required_input(ctx, 1));
    const Tensor* zp = ctx.input(2);
    if (!quantized_type_ok(x->dtype(), r_) && x->dtype() != DType::kInt32)
      return ctx.error("x must be " + std::string(r_.wide ? "uint8, int8, uint16, int16" : "uint8, int8") +
                       " or int32, got " + x->describe());
    if (zp && zp->dtype() != x->dtype())
      return ctx.error("x_zero_point " + zp->describe() + " must have x's type (" + x->describe() + ")");
    QuantOperand what{"x"};
    what.int32_zero_point = true;
    what.narrow_scales = r_.narrow;
    what.wide_zero_points = r_.wide;
    TANDEM_ASSIGN_OR_RETURN(const ScaleWalk walk, scale_walk(ctx, *x, *scale, r_, what));
    TANDEM_ASSIGN_OR_RETURN(const QuantParams p, read_quant_params(ctx, scale, zp, what));
    if (x->dtype() == DType::kInt32 &&
        std::any_of(p.zero_point.begin(), p.zero_point.end(), [](int32_t z) { return z != 0; }))
      return ctx.error("an int32 x has no zero point: x_zero_point must be 0, got " + zp->describe());
    // y has the scale's type (float32 before opset 19), or from opset 23 output_dtype's when given;
    // computed in float32, rounded to it once.
    const DType out_type = r_.output_dtype != DType::kUndefined                ? r_.output_dtype
                           : r_.narrow && is_narrow_float(scale->dtype()) ? scale->dtype()
                                                                          : DType::kFloat32;
    Tensor& y = ctx.allocate_output(0, out_type, x->shape());
    with_quantized(*x, [&](const auto* in) {
      for (int64_t i = 0; i < x->numel(); ++i) {
        const int64_t c = walk.at(i);
        const float v = static_cast<float>(int64_t{in[i]} - p.zero_point_at(c)) * p.scale_at(c);
        if (out_type == DType::kFloat32)
          y.data<float>()[i] = v;
        else
          y.data<uint16_t>()[i] = float_to_narrow(out_type, v);
      }
    });
    return Status::ok();
  }

 private:
  QuantRules r_;
};

Result<KernelPtr> make_dequantize(const KernelInit& init) {
  TANDEM_ASSIGN_OR_RETURN(QuantRules r, quant_rules(init, /*quantize=*/false));
  return KernelPtr(new DequantizeLinearKernel(r));
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
