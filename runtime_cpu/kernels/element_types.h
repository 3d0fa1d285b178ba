// C++ types for tensor elements and dispatch on a run-time DType: the 16-bit floats (IEEE half and
// bfloat16, stored as bit patterns and computed in float), bool, the rounding conversions between them, and
// the type lists kernels are instantiated over.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "graph/dtype.h"
#include "graph/float16.h"

namespace tandem::cpu {

struct Half {
  uint16_t bits;
};
struct BFloat16 {
  uint16_t bits;
};
// A bool element: one byte, read as "not zero" so that a stray byte value cannot break a kernel.
struct Bool {
  uint8_t byte;
};

inline Half half_from_double(double d) { return Half{round_to_narrow_float<5, 10>(d)}; }
inline BFloat16 bfloat16_from_double(double d) { return BFloat16{round_to_narrow_float<8, 7>(d)}; }

// float16 and bfloat16: the 16-bit floats kernels widen to float32 and compute in.
inline bool is_narrow_float(DType t) { return t == DType::kFloat16 || t == DType::kBFloat16; }
// A float16 or bfloat16 element (its bits) widened exactly.
inline float narrow_to_float(DType t, uint16_t bits) {
  return t == DType::kFloat16 ? half_to_float(bits) : bfloat16_to_float(bits);
}
// A value rounded (once) to float16 or bfloat16, as bits.
inline uint16_t float_to_narrow(DType t, double v) {
  return t == DType::kFloat16 ? half_from_double(v).bits : bfloat16_from_double(v).bits;
}

// --- per-type traits: the DType, and the type arithmetic happens in ----------------------------------

template <typename T>
struct ElementTraits;

#define TANDEM_ELEMENT(T, D)                 \
  template <>                                \
  struct ElementTraits<T> {                  \
    static constexpr DType dtype = DType::D; \
    using Compute = T;                       \
    static Compute load(T x) { return x; }   \
    static T store(Compute c) { return c; }  \
  };
TANDEM_ELEMENT(float, kFloat32)
TANDEM_ELEMENT(double, kFloat64)
TANDEM_ELEMENT(int8_t, kInt8)
TANDEM_ELEMENT(int16_t, kInt16)
TANDEM_ELEMENT(int32_t, kInt32)
TANDEM_ELEMENT(int64_t, kInt64)
TANDEM_ELEMENT(uint8_t, kUInt8)
TANDEM_ELEMENT(uint16_t, kUInt16)
TANDEM_ELEMENT(uint32_t, kUInt32)
TANDEM_ELEMENT(uint64_t, kUInt64)
#undef TANDEM_ELEMENT

template <>
struct ElementTraits<Half> {
  static constexpr DType dtype = DType::kFloat16;
  using Compute = float;
  static float load(Half x) { return half_to_float(x.bits); }
  static Half store(float c) { return half_from_double(c); }
};
template <>
struct ElementTraits<BFloat16> {
  static constexpr DType dtype = DType::kBFloat16;
  using Compute = float;
  static float load(BFloat16 x) { return bfloat16_to_float(x.bits); }
  static BFloat16 store(float c) { return bfloat16_from_double(c); }
};
template <>
struct ElementTraits<Bool> {
  static constexpr DType dtype = DType::kBool;
  using Compute = bool;
  static bool load(Bool x) { return x.byte != 0; }
  static Bool store(bool c) { return Bool{static_cast<uint8_t>(c)}; }
};

template <typename T>
using compute_t = typename ElementTraits<T>::Compute;
template <typename T>
inline constexpr DType dtype_v = ElementTraits<T>::dtype;
template <typename T>
inline constexpr bool is_floating_v = std::is_floating_point_v<compute_t<T>>;

// --- dispatch ------------------------------------------------------------------------------------------

template <typename T>
struct Tag {
  using type = T;
};
template <typename... Ts>
struct TypeList {};

// Calls f(Tag<T>{}) for the T of `list` whose DType is `t`; false when none is.
template <typename F, typename... Ts>
bool dispatch(DType t, TypeList<Ts...>, F&& f) {
  return ((t == dtype_v<Ts> && (f(Tag<Ts>{}), true)) || ...);
}

template <typename... Ts>
std::string type_names(TypeList<Ts...>) {
  std::string s;
  ((s += (s.empty() ? "" : ", ") + std::string(dtype_name(dtype_v<Ts>))), ...);
  return s;
}

using FloatTypes = TypeList<float, double, Half, BFloat16>;
using SignedIntTypes = TypeList<int8_t, int16_t, int32_t, int64_t>;
using SignedTypes = TypeList<float, double, Half, BFloat16, int8_t, int16_t, int32_t, int64_t>;
using NumericTypes = TypeList<float, double, Half, BFloat16, int8_t, int16_t, int32_t, int64_t, uint8_t,
                              uint16_t, uint32_t, uint64_t>;
using NumericAndBoolTypes = TypeList<float, double, Half, BFloat16, int8_t, int16_t, int32_t, int64_t,
                                     uint8_t, uint16_t, uint32_t, uint64_t, Bool>;

// --- conversions with defined results for every input ------------------------------------------------

// Truncates toward zero like C++; where C++ leaves the result undefined, NaN gives 0 and values outside
// the integer's range give its nearest end.
template <typename I, typename F>
I float_to_int(F f) {
  if (f != f) return 0;
  const F t = std::trunc(f);
  if (t < static_cast<F>(std::numeric_limits<I>::lowest())) return std::numeric_limits<I>::lowest();
  if (t >= std::ldexp(F(1), std::numeric_limits<I>::digits)) return std::numeric_limits<I>::max();
  return static_cast<I>(t);
}

// An integer as a double rounded to odd at 53 bits: rounding that once more to 24 bits or fewer gives the
// correctly rounded result (a plain conversion could round twice onto a tie).
template <typename I>
double int_to_double_for_narrowing(I v) {
  if constexpr (sizeof(I) < 8) {
    return static_cast<double>(v);
  } else {
    const bool neg = v < 0;
    uint64_t mag = neg ? uint64_t{0} - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
    const int excess = std::bit_width(mag) - 53;
    if (excess > 0) {
      const bool lost = (mag & ((uint64_t{1} << excess) - 1)) != 0;
      mag = (mag >> excess) | (lost ? 1 : 0);
      const double r = std::ldexp(static_cast<double>(mag), excess);
      return neg ? -r : r;
    }
    const double r = static_cast<double>(mag);
    return neg ? -r : r;
  }
}

// Converts one element between any two of our types, as Cast does.
template <typename D, typename S>
D convert_element(S s) {
  using SC = compute_t<S>;
  const SC c = ElementTraits<S>::load(s);
  if constexpr (std::is_same_v<D, Bool>) {
    return Bool{static_cast<uint8_t>(c != SC(0))};  // NaN is not zero: true
  } else if constexpr (std::is_same_v<D, Half> || std::is_same_v<D, BFloat16>) {
    double d;
    if constexpr (std::is_integral_v<SC> && !std::is_same_v<SC, bool>)
      d = int_to_double_for_narrowing(c);
    else
      d = static_cast<double>(c);  // float and bool convert exactly
    if constexpr (std::is_same_v<D, Half>)
      return half_from_double(d);
    else
      return bfloat16_from_double(d);
  } else if constexpr (std::is_floating_point_v<D>) {
    return static_cast<D>(c);
  } else if constexpr (std::is_floating_point_v<SC>) {
    return float_to_int<D>(c);
  } else {
    return static_cast<D>(c);  // integers wrap modulo 2^n (defined since C++20); bool gives 0 or 1
  }
}

}  // namespace tandem::cpu
