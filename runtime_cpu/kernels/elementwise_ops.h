// The scalar functions of the elementwise ops, one functor each, applied to values of an element type's
// compute type (float for the 16-bit floats, bool for Bool). Kept branch-light so the loops around them
// vectorise. Integer arithmetic wraps modulo 2^n instead of overflowing (signed overflow is undefined).
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

namespace tandem::cpu::ops {

// Unsigned type at least as wide as `unsigned`, so that neither overflow nor promotion to a signed int
// can happen inside wrapping arithmetic on C.
template <typename C>
using Wrap = std::conditional_t<(sizeof(C) < sizeof(unsigned)), unsigned, std::make_unsigned_t<C>>;

template <typename C>
constexpr bool is_int_v = std::is_integral_v<C> && !std::is_same_v<C, bool>;

template <typename C>
C wrapping_neg(C x) {
  return static_cast<C>(Wrap<C>(0) - static_cast<Wrap<C>>(x));
}

// --- unary ------------------------------------------------------------------------------------------

struct Neg {
  template <typename C>
  C operator()(C x) const {
    if constexpr (is_int_v<C>)
      return wrapping_neg(x);
    else
      return -x;
  }
};
struct Abs {
  template <typename C>
  C operator()(C x) const {
    if constexpr (std::is_unsigned_v<C>)
      return x;
    else if constexpr (is_int_v<C>)
      return x < 0 ? wrapping_neg(x) : x;
    else
      return std::abs(x);
  }
};
struct Sqrt {
  template <typename C>
  C operator()(C x) const {
    return std::sqrt(x);
  }
};
struct Exp {
  template <typename C>
  C operator()(C x) const {
    return std::exp(x);
  }
};
struct Log {
  template <typename C>
  C operator()(C x) const {
    return std::log(x);
  }
};
struct Tanh {
  template <typename C>
  C operator()(C x) const {
    return std::tanh(x);
  }
};
struct Erf {
  template <typename C>
  C operator()(C x) const {
    return std::erf(x);
  }
};
struct Floor {
  template <typename C>
  C operator()(C x) const {
    return std::floor(x);
  }
};
struct Ceil {
  template <typename C>
  C operator()(C x) const {
    return std::ceil(x);
  }
};
struct Reciprocal {
  template <typename C>
  C operator()(C x) const {
    return C(1) / x;
  }
};
struct Not {
  bool operator()(bool x) const { return !x; }
};
// max(0, x), written so that NaN passes through as numpy's reference does.
struct Relu {
  template <typename C>
  C operator()(C x) const {
    return x < C(0) ? C(0) : x;
  }
};
struct Sign {
  template <typename C>
  C operator()(C x) const {
    if constexpr (std::is_unsigned_v<C>)
      return x > 0 ? C(1) : C(0);
    else
      return x > C(0) ? C(1) : (x < C(0) ? C(-1) : x);  // keeps 0 and NaN
  }
};
// 1 / (1 + e^-x) without overflow for large |x|.
struct Sigmoid {
  template <typename C>
  C operator()(C x) const {
    if (x >= C(0)) return C(1) / (C(1) + std::exp(-x));
    const C e = std::exp(x);
    return e / (C(1) + e);
  }
};
// log(1 + e^x) = max(x, 0) + log1p(e^-|x|), which neither overflows nor loses small results.
struct Softplus {
  template <typename C>
  C operator()(C x) const {
    return (x > C(0) ? x : C(0)) + std::log1p(std::exp(-std::abs(x)));
  }
};
struct LeakyRelu {
  float alpha;
  template <typename C>
  C operator()(C x) const {
    return x < C(0) ? C(alpha) * x : x;
  }
};
struct Elu {
  float alpha;
  template <typename C>
  C operator()(C x) const {
    return x < C(0) ? C(alpha) * std::expm1(x) : x;
  }
};
struct Selu {
  float alpha, gamma;
  template <typename C>
  C operator()(C x) const {
    return C(gamma) * (x <= C(0) ? C(alpha) * std::expm1(x) : x);
  }
};
// Gelu (opset 20): x * Phi(x) with Phi the standard normal's distribution function, exactly or by the tanh
// approximation.
struct Gelu {
  bool tanh_approximation;
  template <typename C>
  C operator()(C x) const {
    if (tanh_approximation) {
      const C k = C(0.7978845608028654);  // sqrt(2 / pi)
      return C(0.5) * x * (C(1) + std::tanh(k * (x + C(0.044715) * x * x * x)));
    }
    return C(0.5) * x * (C(1) + std::erf(x * C(0.7071067811865476)));  // x / sqrt(2)
  }
};
// Swish (opset 24): x * sigmoid(alpha * x), as its function body (alpha cast to X's type).
struct Swish {
  float alpha;
  template <typename C>
  C operator()(C x) const {
    return x * Sigmoid{}(C(alpha) * x);
  }
};
struct HardSigmoid {
  float alpha, beta;
  template <typename C>
  C operator()(C x) const {
    const C v = C(alpha) * x + C(beta);
    return v < C(0) ? C(0) : (v > C(1) ? C(1) : v);  // NaN passes through
  }
};

// --- binary -----------------------------------------------------------------------------------------

struct Add {
  template <typename C>
  C operator()(C a, C b) const {
    if constexpr (is_int_v<C>)
      return static_cast<C>(static_cast<Wrap<C>>(a) + static_cast<Wrap<C>>(b));
    else
      return a + b;
  }
};
struct Sub {
  template <typename C>
  C operator()(C a, C b) const {
    if constexpr (is_int_v<C>)
      return static_cast<C>(static_cast<Wrap<C>>(a) - static_cast<Wrap<C>>(b));
    else
      return a - b;
  }
};
struct Mul {
  template <typename C>
  C operator()(C a, C b) const {
    if constexpr (is_int_v<C>)
      return static_cast<C>(static_cast<Wrap<C>>(a) * static_cast<Wrap<C>>(b));
    else
      return a * b;
  }
};
// Integer division truncates toward zero (C++'s rule, which ONNX follows). A zero divisor is reported by
// the kernel before any division; here it gives 0 only to keep the function total. lowest / -1 wraps.
struct Div {
  static constexpr bool kChecksDivisor = true;
  template <typename C>
  C operator()(C a, C b) const {
    if constexpr (is_int_v<C>) {
      if constexpr (std::is_signed_v<C>) {
        if (b == C(-1)) return wrapping_neg(a);
      }
      return b == C(0) ? C(0) : static_cast<C>(a / b);
    } else {
      return a / b;
    }
  }
};
// NaN wins, as in numpy's minimum/maximum (the ONNX reference).
struct Min {
  template <typename C>
  C operator()(C a, C b) const {
    return (b < a || b != b) ? b : a;
  }
};
struct Max {
  template <typename C>
  C operator()(C a, C b) const {
    return (a < b || b != b) ? b : a;
  }
};
struct Equal {
  template <typename C>
  bool operator()(C a, C b) const {
    return a == b;
  }
};
struct Less {
  template <typename C>
  bool operator()(C a, C b) const {
    return a < b;
  }
};
struct Greater {
  template <typename C>
  bool operator()(C a, C b) const {
    return a > b;
  }
};
struct LessOrEqual {
  template <typename C>
  bool operator()(C a, C b) const {
    return a <= b;
  }
};
struct GreaterOrEqual {
  template <typename C>
  bool operator()(C a, C b) const {
    return a >= b;
  }
};
struct And {
  bool operator()(bool a, bool b) const { return a && b; }
};
struct Or {
  bool operator()(bool a, bool b) const { return a || b; }
};
struct Xor {
  bool operator()(bool a, bool b) const { return a != b; }
};

// Integer power by squaring, wrapping on overflow. A negative exponent gives what truncating the real
// result gives: 1 for base 1, ±1 for base -1, else 0 (also for base 0, where the real result is infinite).
template <typename C>
C int_pow(C base, int64_t e) {
  if (e < 0) {
    if (base == C(1)) return C(1);
    if constexpr (std::is_signed_v<C>) {
      if (base == C(-1)) return (e & 1) ? C(-1) : C(1);
    }
    return C(0);
  }
  Wrap<C> result = 1, b = static_cast<Wrap<C>>(base);
  for (uint64_t n = static_cast<uint64_t>(e); n; n >>= 1) {
    if (n & 1) result *= b;
    b *= b;
  }
  return static_cast<C>(result);
}

}  // namespace tandem::cpu::ops
