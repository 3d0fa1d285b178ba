// The fast RNN step in portable C++ (any CPU): one float per "vector", blocks of 8 hidden units. The
// compiler may vectorise it for the baseline instruction set; the AVX2 and AVX-512 files are the fast ones.
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "runtime_cpu/kernels/rnn_fast_step.h"
#include "runtime_cpu/kernels/vector_math_impl.h"

namespace tandem::cpu::rnn {
namespace {

struct Scalar {
  using T = float;
  static constexpr int kLanes = 1, kBlock = 8, kMaxAcc = 32;
  static T load(const float* p) { return *p; }
  static void store(float* p, T x) { *p = x; }
  static T set1(float x) { return x; }
  static T zero() { return 0.0f; }
  static T add(T a, T b) { return a + b; }
  static T sub(T a, T b) { return a - b; }
  static T mul(T a, T b) { return a * b; }
  static T div(T a, T b) { return a / b; }
  // As the vector instructions: the second operand when either is NaN.
  static T min(T a, T b) { return a < b ? a : b; }
  static T max(T a, T b) { return a > b ? a : b; }
  static T fma(T a, T b, T c) { return a * b + c; }  // std::fma is a slow library call without FMA hardware
  static T fnma(T a, T b, T c) { return c - a * b; }
  static T floor(T x) { return std::floor(x); }
  static T pow2(T n) {
    if (std::isnan(n)) return n;
    return std::bit_cast<float>(static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23);
  }
  static T abs(T x) { return std::fabs(x); }
  static T copy_sign(T mag, T sign) { return std::copysign(mag, sign); }
  static T select_lt(T a, T b, T x, T y) { return a < b ? x : y; }
  static T exponent(T x) { return static_cast<float>(static_cast<int32_t>((std::bit_cast<uint32_t>(x) >> 23) & 0xff) - 127); }
  static T mantissa(T x) { return std::bit_cast<float>((std::bit_cast<uint32_t>(x) & 0x007fffffu) | 0x3f800000u); }
};

}  // namespace

const IsaKernels& scalar_kernels() {
  static const IsaKernels k{Scalar::kBlock, &step<Scalar>, &panel_product<Scalar>};
  return k;
}

const VectorMath& scalar_vector_math() {
  static const VectorMath m = vector_math_of<Scalar>();
  return m;
}

}  // namespace tandem::cpu::rnn
