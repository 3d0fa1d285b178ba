// Vectorised gate activations for the fast RNN path: exp, sigmoid and tanh written once over a vector type
// V (rnn_fast_step.h lists what V provides).
//
// Included by each per-ISA file inside its target region (rnn_fast_avx512.cc ...), so everything here is
// a template over V with internal linkage: no function compiled for one ISA can be shared with another's.
//
// Accuracy: exp is Cephes' expf (range reduction by ln 2 in two parts, degree-5 polynomial; relative error
// about 2e-7); sigmoid is 1 / (1 + exp(-x)) with a true division; tanh is Cephes' tanhf (a polynomial for
// |x| < 0.625, where 1 - 2 / (exp(2|x|) + 1) would lose digits, that formula above). Every result is within
// a few float ulps of the reference path's std::exp / std::tanh, far inside the tests' 1e-5.
#pragma once

#include "runtime_cpu/kernels/rnn_activation.h"

namespace tandem::cpu::rnn {
namespace {

template <class V>
[[gnu::always_inline]] inline typename V::T exp_v(typename V::T x) {
  using T = typename V::T;
  // Clamped so 2^n stays in range (exp saturates to 0 or inf, as sigmoid and tanh want); x second, so a
  // NaN passes through min/max (they return their second operand when one is NaN).
  x = V::min(V::set1(88.3762626647949f), x);
  x = V::max(V::set1(-88.3762626647949f), x);
  const T n = V::floor(V::fma(x, V::set1(1.44269504088896341f), V::set1(0.5f)));
  x = V::fnma(n, V::set1(0.693359375f), x);
  x = V::fnma(n, V::set1(-2.12194440e-4f), x);
  const T z = V::mul(x, x);
  T y = V::set1(1.9875691500e-4f);
  y = V::fma(y, x, V::set1(1.3981999507e-3f));
  y = V::fma(y, x, V::set1(8.3334519073e-3f));
  y = V::fma(y, x, V::set1(4.1665795894e-2f));
  y = V::fma(y, x, V::set1(1.6666665459e-1f));
  y = V::fma(y, x, V::set1(5.0000001201e-1f));
  y = V::add(V::fma(y, z, x), V::set1(1.0f));
  return V::mul(y, V::pow2(n));
}

template <class V>
[[gnu::always_inline]] inline typename V::T sigmoid_v(typename V::T x) {
  const typename V::T one = V::set1(1.0f);
  return V::div(one, V::add(one, exp_v<V>(V::sub(V::zero(), x))));
}

template <class V>
[[gnu::always_inline]] inline typename V::T tanh_v(typename V::T x) {
  using T = typename V::T;
  const T ax = V::abs(x);
  const T z = V::mul(x, x);
  T p = V::set1(-5.70498872745e-3f);
  p = V::fma(p, z, V::set1(2.06390887954e-2f));
  p = V::fma(p, z, V::set1(-5.37397155531e-2f));
  p = V::fma(p, z, V::set1(1.33314422036e-1f));
  p = V::fma(p, z, V::set1(-3.33332819422e-1f));
  const T small = V::fma(V::mul(p, z), x, x);
  const T e = exp_v<V>(V::add(ax, ax));
  const T large = V::sub(V::set1(1.0f), V::div(V::set1(2.0f), V::add(e, V::set1(1.0f))));
  return V::select_lt(ax, V::set1(0.625f), small, V::copy_sign(large, x));
}

}  // namespace
}  // namespace tandem::cpu::rnn
