// What the quantization kernels share: ONNX's rounding and saturation, and reading a scale / zero-point
// pair, one value for the whole tensor or one per index along a dimension (an axis, the rows of a matrix,
// the output channels of a convolution).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "graph/float16.h"
#include "graph/status.h"
#include "runtime/kernel.h"
#include "runtime_cpu/kernels/element_types.h"

namespace tandem::cpu {

inline bool is_8bit(DType t) { return t == DType::kUInt8 || t == DType::kInt8; }

// saturate(round(scaled) + zero_point) into Q (uint8 or int8): round half to even (the default rounding
// mode, which nearbyint follows without raising inexact), saturation at Q's ends. The spec leaves NaN open;
// here it quantizes as 0 would, to the zero point, rather than reaching an undefined conversion.
template <typename Q, typename F>
Q quantize_value(F scaled, int32_t zero_point) {
  constexpr F lo = static_cast<F>(std::numeric_limits<Q>::lowest());
  constexpr F hi = static_cast<F>(std::numeric_limits<Q>::max());
  const F r = (std::isnan(scaled) ? F(0) : std::nearbyint(scaled)) + static_cast<F>(zero_point);
  return static_cast<Q>(std::clamp(r, lo, hi));
}

// A scale and its zero point: one value each (per tensor) or `count` values (per index).
struct QuantParams {
  std::vector<float> scale;         // empty when the op has no scale (MatMulInteger, ConvInteger)
  std::vector<int32_t> zero_point;  // {0} when the zero point is omitted
  DType zero_point_type = DType::kUndefined;  // kUndefined when omitted

  bool per_tensor() const { return zero_point.size() == 1 && scale.size() <= 1; }
  float scale_at(int64_t i) const { return scale.size() == 1 ? scale[0] : scale[static_cast<std::size_t>(i)]; }
  int32_t zero_point_at(int64_t i) const {
    return zero_point.size() == 1 ? zero_point[0] : zero_point[static_cast<std::size_t>(i)];
  }
};

// What one scale / zero-point pair may be.
struct QuantOperand {
  QuantOperand(std::string n, int64_t c = -1, std::string meaning = {})
      : name(std::move(n)), count(c), count_meaning(std::move(meaning)) {}
  std::string name;               // "y": the inputs are "y_scale" and "y_zero_point"
  int64_t count = -1;             // per-index length allowed besides one value; -1: one value only
  std::string count_meaning;      // what count is, for messages ("the size of axis 1 of x uint8 [1,3,2]")
  bool int32_zero_point = false;  // DequantizeLinear also takes int32 (whose zero point must be 0)
  bool narrow_scales = false;     // the scale may also be float16 or bfloat16 (QuantizeLinear-19 and after)
  bool wide_zero_points = false;  // the zero point may also be uint16 or int16 (QuantizeLinear-21 and after)
  std::vector<int64_t> shape;     // non-empty: scale and zero point have exactly this shape (blocked)
};

// Reads scale (float32, or float16 and bfloat16 widened exactly where `what` allows them; nullptr when the op
// has none) and zero point (uint8 or int8, 16-bit where `what` allows them; nullptr: omitted, i.e. 0). Each
// must be a scalar, a 1-element 1-D tensor, or 1-D with `count` elements (or have exactly `what.shape`, for
// blocked quantization), and the two must agree in size. Errors name the operands and what they got.
Result<QuantParams> read_quant_params(const KernelContext& ctx, const Tensor* scale, const Tensor* zero_point,
                                      const QuantOperand& what);

// The elements of a uint8, int8, uint16, int16 or int32 tensor as int32.
std::vector<int32_t> int_values(const Tensor& t);

// The zero points of a constant 8-bit operand of `operand_type` as read_quant_params reads them (one value,
// or `count` values along a dimension; {0} when `zero_point` is absent), for kernels that shift a constant
// operand once when they are made. nullopt when the zero point is not of the operand's type or of one of
// those shapes, or the operand is not 8-bit: the kernel then leaves the operand to the per-run path, which
// reports why.
std::optional<std::vector<int32_t>> constant_zero_points(const Tensor* zero_point, DType operand_type, int64_t count);

}  // namespace tandem::cpu
