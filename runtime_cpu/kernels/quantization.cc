#include "runtime_cpu/kernels/quantization.h"


namespace tandem::cpu {
namespace {

// The number of values an operand holds: 1 for a scalar or 1-element 1-D tensor, `count` for a 1-D
// tensor of that many; -1 when its shape is neither. Blocked (a `shape` given): that shape's count, or -1.
int64_t operand_size(const Tensor& t, int64_t count, const std::vector<int64_t>* shape = nullptr) {
  if (shape && !shape->empty()) return t.shape() == *shape ? count : -1;
  if (t.rank() == 0 || (t.rank() == 1 && t.dim(0) == 1)) return 1;
  if (t.rank() == 1 && count >= 0 && t.dim(0) == count) return count;
  return -1;
}

std::string allowed_shapes(const QuantOperand& what) {
  if (!what.shape.empty()) return shape_string(what.shape) + " (" + what.count_meaning + ")";
  if (what.count < 0) return "a scalar (per-tensor quantization)";
  return "a scalar or a 1-D tensor of " + std::to_string(what.count) + " (" + what.count_meaning + ")";
}

}  // namespace

std::vector<int32_t> int_values(const Tensor& t) {
  std::vector<int32_t> v(static_cast<std::size_t>(t.numel()));
  for (std::size_t i = 0; i < v.size(); ++i)
    v[i] = t.dtype() == DType::kUInt8    ? t.data<uint8_t>()[i]
           : t.dtype() == DType::kInt8   ? t.data<int8_t>()[i]
           : t.dtype() == DType::kUInt16 ? t.data<uint16_t>()[i]
           : t.dtype() == DType::kInt16  ? t.data<int16_t>()[i]
                                         : t.data<int32_t>()[i];
  return v;
}

std::optional<std::vector<int32_t>> constant_zero_points(const Tensor* zero_point, DType operand_type, int64_t count) {
  if (!is_8bit(operand_type)) return std::nullopt;
  if (!zero_point) return std::vector<int32_t>{0};
  const int64_t size = operand_size(*zero_point, count);
  if (zero_point->dtype() != operand_type || size < 0) return std::nullopt;
  std::vector<int32_t> v = int_values(*zero_point);
  v.resize(static_cast<std::size_t>(size));  // a 1-element 1-D tensor is one value
  return v;
}

Result<QuantParams> read_quant_params(const KernelContext& ctx, const Tensor* scale, const Tensor* zero_point,
                                      const QuantOperand& what) {
  QuantParams p;
  const std::string scale_name = what.name + "_scale", zp_name = what.name + "_zero_point";
  int64_t size = 1;
  if (scale) {
    const DType t = scale->dtype();
    const bool narrow = what.narrow_scales && is_narrow_float(t);
    if (t != DType::kFloat32 && !narrow)
      return ctx.error(scale_name + " must be float32" + std::string(what.narrow_scales ? ", float16 or bfloat16" : "") +
                       ", got " + scale->describe());
    size = operand_size(*scale, what.count, &what.shape);
    if (size < 0) return ctx.error(scale_name + " must be " + allowed_shapes(what) + ", got " + scale->describe());
    p.scale.resize(static_cast<std::size_t>(size));
    for (int64_t i = 0; i < size; ++i)
      p.scale[static_cast<std::size_t>(i)] =
          t == DType::kFloat32 ? scale->data<float>()[i] : narrow_to_float(t, scale->data<uint16_t>()[i]);
  }
  if (!zero_point) {
    p.zero_point = {0};
    return p;
  }
  const bool int32_ok = what.int32_zero_point && zero_point->dtype() == DType::kInt32;
  const bool wide_ok =
      what.wide_zero_points && (zero_point->dtype() == DType::kUInt16 || zero_point->dtype() == DType::kInt16);
  if (!is_8bit(zero_point->dtype()) && !int32_ok && !wide_ok)
    return ctx.error(zp_name + " must be uint8 or int8" + std::string(what.wide_zero_points ? ", uint16, int16" : "") +
                     std::string(what.int32_zero_point ? " or int32" : "") + ", got " + zero_point->describe());
  const int64_t zp_size = operand_size(*zero_point, what.count, &what.shape);
  if (zp_size < 0)
    return ctx.error(zp_name + " must be " + allowed_shapes(what) + ", got " + zero_point->describe());
  if (scale && zp_size != size)
    return ctx.error(zp_name + " " + zero_point->describe() + " and " + scale_name + " " + scale->describe() +
                     " must have one shape");
  p.zero_point = int_values(*zero_point);
  p.zero_point.resize(static_cast<std::size_t>(zp_size));  // a 1-element 1-D tensor is one value
  p.zero_point_type = zero_point->dtype();
  return p;
}

}  // namespace tandem::cpu
