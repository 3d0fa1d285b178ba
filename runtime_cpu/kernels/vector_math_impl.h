// The vector math of vector_math.h, written once over a vector type V (rnn_fast_step.h's contract: load,
// store, set1, zero, add, sub, mul, div, min, max, fma, fnma, floor, pow2, abs, copy_sign, select_lt, kLanes)
// and compiled per instruction set: rnn_fast_avx512.cc, rnn_fast_avx2.cc and rnn_fast_scalar.cc include it
// inside their target region, after <cmath> and <limits> outside it; hence internal linkage throughout.
//
// Accuracy against the exact values (vector_math_test): exp, log, tanh, sigmoid and erf within 4e-7 relative,
// Gelu within 2e-6 (erf) and 1e-5 (tanh) where its results are above 1e-12. The plain loops they stand in for use the C library per element.
#pragma once

#include "runtime_cpu/kernels/rnn_fast_math.h"
#include "runtime_cpu/kernels/vector_math.h"

namespace tandem::cpu::rnn {
namespace {

// Applies f (a function object of one vector: a struct rather than a lambda, whose call operator would not
// be compiled for the target instruction set) to x[0, n) into y: whole vectors, then the last part-vector
// through a buffer.
template <class V, class F>
[[gnu::always_inline]] inline void map_span(const float* x, float* y, int64_t n, const F& f) {
  constexpr int L = V::kLanes;
  int64_t i = 0;
  for (; i + L <= n; i += L) V::store(y + i, f(V::load(x + i)));
  if (i == n) return;
  alignas(64) float part[L] = {};
  for (int64_t k = i; k < n; ++k) part[k - i] = x[k];
  V::store(part, f(V::load(part)));
  for (int64_t k = i; k < n; ++k) y[k] = part[k - i];
}

// (e^(x/2))^2: e^x where exp_v alone cannot reach (it stops at e^-87.34 and e^88.38), halving exactly and
// squaring rather than shifting x, whose rounding would cost digits: subnormal results below, inf where e^x
// overflows above. Twice exp_v's relative error.
template <class V>
[[gnu::always_inline]] inline typename V::T exp_squared_half_v(typename V::T x) {
  const typename V::T h = exp_v<V>(V::mul(x, V::set1(0.5f)));
  return V::mul(h, h);
}

// e^d for d <= 0, subnormal results included.
template <class V>
[[gnu::always_inline]] inline typename V::T exp_nonpositive_v(typename V::T d) {
  return V::select_lt(d, V::set1(-87.3365447f), exp_squared_half_v<V>(d), exp_v<V>(d));
}

// ln x, Cephes' logf: x = m 2^e with m in [sqrt(1/2), sqrt 2), ln x = e ln 2 + ln(1 + f) for f = m - 1
// (exact), ln(1 + f) = f - f^2/2 + f^3 P(f), and ln 2 in two parts. Subnormal x is scaled by 2^23 first.
// ln of a negative number or NaN is NaN, of 0 -inf, of inf inf.
template <class V>
[[gnu::always_inline]] inline typename V::T log_v(typename V::T x) {
  using T = typename V::T;
  constexpr float kLeastNormal = 1.17549435e-38f;
  const T xs = V::select_lt(x, V::set1(kLeastNormal), V::mul(x, V::set1(8388608.0f)), x);
  T e = V::add(V::exponent(xs), V::select_lt(x, V::set1(kLeastNormal), V::set1(-23.0f), V::zero()));
  T m = V::mantissa(xs);
  const T sqrt2 = V::set1(1.41421356237f);
  e = V::select_lt(sqrt2, m, V::add(e, V::set1(1.0f)), e);
  m = V::select_lt(sqrt2, m, V::mul(m, V::set1(0.5f)), m);
  const T f = V::sub(m, V::set1(1.0f));
  const T z = V::mul(f, f);
  T p = V::set1(7.0376836292e-2f);
  for (float c : {-1.1514610310e-1f, 1.1676998740e-1f, -1.2420140846e-1f, 1.4249322787e-1f, -1.6668057665e-1f,
                  2.0000714765e-1f, -2.4999993993e-1f, 3.3333331174e-1f})
    p = V::fma(p, f, V::set1(c));
  T y = V::mul(V::mul(p, f), z);
  y = V::fma(e, V::set1(-2.12194440e-4f), y);
  y = V::fnma(z, V::set1(0.5f), y);
  T r = V::fma(e, V::set1(0.693359375f), V::add(f, y));
  constexpr float kInf = std::numeric_limits<float>::infinity();
  r = V::add(r, V::mul(x, V::zero()));                             // NaN for NaN and inf
  r = V::select_lt(V::set1(3.40282347e38f), x, V::set1(kInf), r);  // inf
  r = V::select_lt(x, V::set1(1.4e-45f), V::set1(-kInf), r);       // 0 and -0 (negatives: below)
  return V::select_lt(x, V::zero(), V::set1(std::numeric_limits<float>::quiet_NaN()), r);
}

// e^x over float's whole range: inf above 88.72, subnormal results below -87.34.
template <class V>
[[gnu::always_inline]] inline typename V::T exp_full_v(typename V::T x) {
  return V::select_lt(V::set1(87.0f), x, exp_squared_half_v<V>(x), exp_nonpositive_v<V>(x));
}

// 1 / (1 + e^-x) as 1 / (1 + e) for x >= 0 and e / (1 + e) below, with e = e^-|x|, which cannot overflow and
// keeps small results to the last subnormal (as the plain loop's two branches).
template <class V>
[[gnu::always_inline]] inline typename V::T accurate_sigmoid_v(typename V::T x) {
  using T = typename V::T;
  const T e = exp_nonpositive_v<V>(V::sub(V::zero(), V::abs(x)));
  const T r = V::div(V::set1(1.0f), V::add(V::set1(1.0f), e));
  return V::select_lt(x, V::zero(), V::mul(e, r), r);
}

// erfc(|x|) for |x| >= 0.5, Numerical Recipes' Chebyshev fit (erfcc: fractional error below 1.2e-7):
// t e^(-z^2 + P(t)) with t = 1 / (1 + z/2).
template <class V>
[[gnu::always_inline]] inline typename V::T erfc_abs_v(typename V::T z) {
  using T = typename V::T;
  const T t = V::div(V::set1(1.0f), V::fma(z, V::set1(0.5f), V::set1(1.0f)));
  T p = V::set1(0.17087277f);
  for (float c : {-0.82215223f, 1.48851587f, -1.13520398f, 0.27886807f, -0.18628806f, 0.09678418f, 0.37409196f,
                  1.00002368f, -1.26551223f})
    p = V::fma(p, t, V::set1(c));
  return V::mul(t, exp_v<V>(V::fnma(z, z, p)));
}

// erf(x) for |x| < 0.5: its odd Taylor series to x^15 (the next term is below 1e-10 relative there).
template <class V>
[[gnu::always_inline]] inline typename V::T erf_small_v(typename V::T x) {
  using T = typename V::T;
  const T z = V::mul(x, x);
  T p = V::set1(-1.4925650358406252e-05f);
  for (float c : {1.2055332981789664e-04f, -8.548327023450852e-04f, 5.223977625442187e-03f, -2.686617064513125e-02f,
                  1.1283791670955126e-01f, -3.761263890318375e-01f, 1.1283791670955126f})
    p = V::fma(p, z, V::set1(c));
  return V::mul(x, p);
}

template <class V>
[[gnu::always_inline]] inline typename V::T erf_v(typename V::T x) {
  const typename V::T ax = V::abs(x);
  return V::select_lt(ax, V::set1(0.5f), erf_small_v<V>(x),
                      V::copy_sign(V::sub(V::set1(1.0f), erfc_abs_v<V>(ax)), x));
}

// x (1 + erf(x / sqrt 2)) / 2; for x < 0 as x erfc(|x| / sqrt 2) / 2, which keeps the small results that
// 1 + erf would cancel away.
template <class V>
[[gnu::always_inline]] inline typename V::T gelu_erf_v(typename V::T x) {
  using T = typename V::T;
  const T u = V::mul(x, V::set1(0.7071067811865476f));
  const T au = V::abs(u);
  const T erfc = erfc_abs_v<V>(au);
  const T one_plus_erf =
      V::select_lt(au, V::set1(0.5f), V::add(V::set1(1.0f), erf_small_v<V>(u)),
                   V::select_lt(x, V::zero(), erfc, V::sub(V::set1(2.0f), erfc)));
  return V::mul(V::mul(V::set1(0.5f), x), one_plus_erf);
}

// x (1 + tanh(k (x + 0.044715 x^3))) / 2 = x sigmoid(2 k (x + 0.044715 x^3)), k = sqrt(2 / pi).
template <class V>
[[gnu::always_inline]] inline typename V::T gelu_tanh_v(typename V::T x) {
  const typename V::T inner = V::mul(x, V::fma(V::mul(x, x), V::set1(0.044715f), V::set1(1.0f)));
  return V::mul(x, accurate_sigmoid_v<V>(V::mul(inner, V::set1(2.0f * 0.7978845608028654f))));
}

template <class V>
struct TanhOp {
  typename V::T operator()(typename V::T v) const { return tanh_v<V>(v); }
};
template <class V>
struct ExpOp {
  typename V::T operator()(typename V::T v) const { return exp_full_v<V>(v); }
};
template <class V>
struct LogOp {
  typename V::T operator()(typename V::T v) const { return log_v<V>(v); }
};
template <class V>
struct SigmoidOp {
  typename V::T operator()(typename V::T v) const { return accurate_sigmoid_v<V>(v); }
};
template <class V>
struct ErfOp {
  typename V::T operator()(typename V::T v) const { return erf_v<V>(v); }
};
template <class V>
struct GeluErfOp {
  typename V::T operator()(typename V::T v) const { return gelu_erf_v<V>(v); }
};
template <class V>
struct GeluTanhOp {
  typename V::T operator()(typename V::T v) const { return gelu_tanh_v<V>(v); }
};
// v * factor.
template <class V>
struct ScaleOp {
  typename V::T factor;
  typename V::T operator()(typename V::T v) const { return V::mul(v, factor); }
};
// (v - a) - b.
template <class V>
struct ShiftOp {
  typename V::T a, b;
  typename V::T operator()(typename V::T v) const { return V::sub(V::sub(v, a), b); }
};
// exp(v - m), 0 where v - m is below -87.3 (float's least normal is e^-87.34).
template <class V>
struct ExpShiftedOp {
  typename V::T m;
  typename V::T operator()(typename V::T v) const {
    const typename V::T d = V::sub(v, m);
    return V::select_lt(d, V::set1(-87.3365447f), V::zero(), exp_v<V>(d));
  }
};

template <class V, template <class> class Op>
void span_of(const float* x, float* y, int64_t n) {
  map_span<V>(x, y, n, Op<V>{});
}

// The largest element of x[0, n) over whole vectors (-inf for none); a NaN may or may not be skipped (max
// returns its second operand when one is NaN): callers find NaN through the sum of exponentials instead.
template <class V>
float row_max(const float* x, int64_t n) {
  constexpr int L = V::kLanes;
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  typename V::T top = V::set1(kNegInf);
  int64_t i = 0;
  for (; i + L <= n; i += L) top = V::max(top, V::load(x + i));
  alignas(64) float lanes[L];
  V::store(lanes, top);
  float m = kNegInf;
  for (int k = 0; k < L; ++k) m = lanes[k] > m ? lanes[k] : m;
  for (; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

// e = exp(x - m) into y (an element more than 87.3 below m: 0); returns the sum of e. The sum is kept in
// float for 64 vectors at a time, then added in double, so a long row loses no more than a short one.
template <class V>
float exp_shifted(const float* x, float* y, int64_t n, float m) {
  using T = typename V::T;
  constexpr int L = V::kLanes;
  const ExpShiftedOp<V> exp_of{V::set1(m)};
  alignas(64) float lanes[L];
  double total = 0;
  int64_t i = 0;
  while (i + L <= n) {
    T sum = V::zero();
    for (const int64_t end = n - L < i + 63 * L ? n - L : i + 63 * L; i <= end; i += L) {
      const T e = exp_of(V::load(x + i));
      V::store(y + i, e);
      sum = V::add(sum, e);
    }
    V::store(lanes, sum);
    for (int k = 0; k < L; ++k) total += lanes[k];
  }
  if (i < n) {
    alignas(64) float part[L];
    for (int k = 0; k < L; ++k) part[k] = i + k < n ? x[i + k] : -std::numeric_limits<float>::infinity();
    V::store(part, exp_of(V::load(part)));
    for (int64_t k = i; k < n; ++k) {
      y[k] = part[k - i];
      total += part[k - i];
    }
  }
  return static_cast<float>(total);
}

// AttentionSoftmaxFn (vector_math.h).
template <class V>
void attention_softmax_row(float* x, int64_t n) {
  const float m = row_max<V>(x, n);
  if (m == -std::numeric_limits<float>::infinity()) {  // every element -inf, or none, unless one is NaN
    bool nan = false;
    for (int64_t i = 0; i < n; ++i) nan = nan || std::isnan(x[i]);
    for (int64_t i = 0; i < n; ++i) x[i] = nan ? std::numeric_limits<float>::quiet_NaN() : 0.0f;
    return;
  }
  const float s = exp_shifted<V>(x, x, n, m);
  if (std::isnan(s)) {
    for (int64_t i = 0; i < n; ++i) x[i] = std::numeric_limits<float>::quiet_NaN();
    return;
  }
  map_span<V>(x, x, n, ScaleOp<V>{V::set1(1.0f / s)});
}

// SoftmaxRowsFn (vector_math.h). A row whose max is not finite (all -inf, +inf, no elements) takes the
// plain formula, so its NaNs are the formula's; a NaN elsewhere makes the sum, and so the row, NaN.
template <class V>
void softmax_rows(const float* x, float* y, int64_t rows, int64_t n, bool log) {
  for (int64_t r = 0; r < rows; ++r, x += n, y += n) {
    const float m = row_max<V>(x, n);
    if (!std::isfinite(m)) {
      double sum = 0;
      for (int64_t i = 0; i < n; ++i) sum += std::exp(x[i] - m);
      for (int64_t i = 0; i < n; ++i)
        y[i] = log ? static_cast<float>(x[i] - m - std::log(sum)) : static_cast<float>(std::exp(x[i] - m) / sum);
      continue;
    }
    const float s = exp_shifted<V>(x, y, n, m);
    if (log)  // (x - m) - log(s): the first difference exact near the max, as the plain loop's
      map_span<V>(x, y, n, ShiftOp<V>{V::set1(m), V::set1(std::log(s))});
    else
      map_span<V>(y, y, n, ScaleOp<V>{V::set1(1.0f / s)});
  }
}

template <class V>
VectorMath vector_math_of() {
  return VectorMath{&span_of<V, ExpOp>,      &span_of<V, LogOp>,      &span_of<V, TanhOp>,
                    &span_of<V, SigmoidOp>,  &span_of<V, ErfOp>,      &span_of<V, GeluErfOp>,
                    &span_of<V, GeluTanhOp>, &softmax_rows<V>,        &attention_softmax_row<V>};
}

}  // namespace
}  // namespace tandem::cpu::rnn
