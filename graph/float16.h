// The two 16-bit float formats ONNX uses, IEEE half (float16) and bfloat16, kept as bit patterns: exact
// conversions to float, and rounding conversions (to nearest even) from double.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

namespace tandem {

// Rounds `d` to nearest-even in a binary format with kExp exponent bits and kMant stored mantissa bits
// (IEEE half: 5/10, bfloat16: 8/7) and returns its bit pattern. Overflow gives infinity, values below half
// the smallest subnormal give a signed zero, NaN stays a quiet NaN.
template <int kExp, int kMant>
uint16_t round_to_narrow_float(double d) {
  static_assert(kExp + kMant == 15);
  const uint64_t u = std::bit_cast<uint64_t>(d);
  const uint16_t sign = static_cast<uint16_t>((u >> 63) << 15);
  const int exp = static_cast<int>((u >> 52) & 0x7ff);
  const uint64_t mant = u & ((uint64_t{1} << 52) - 1);
  constexpr int kBias = (1 << (kExp - 1)) - 1;
  constexpr uint16_t kInf = static_cast<uint16_t>(((1 << kExp) - 1) << kMant);
  if (exp == 0x7ff) {
    if (mant == 0) return sign | kInf;
    return static_cast<uint16_t>(sign | kInf | (1u << (kMant - 1)) | (mant >> (52 - kMant)));
  }
  if (exp == 0) return sign;  // a double subnormal is far below any narrow subnormal
  const int e = exp - 1023;
  if (e > kBias) return sign | kInf;
  // Value = m * 2^(e - 52) with the implicit bit in m; keep `shift` fewer bits of it.
  const uint64_t m = mant | (uint64_t{1} << 52);
  int shift = 52 - kMant;                                     // a normal result
  uint64_t base = static_cast<uint64_t>(e + kBias) << kMant;  // its biased exponent, placed
  if (e < 1 - kBias) {                                        // a subnormal result: exponent field 0
    shift += (1 - kBias) - e;
    base = 0;
    if (shift > 53) return sign;  // below half the smallest subnormal
  }
  uint64_t kept = m >> shift;
  const uint64_t rest = m & ((uint64_t{1} << shift) - 1), half = uint64_t{1} << (shift - 1);
  if (rest > half || (rest == half && (kept & 1))) ++kept;
  // A normal result carries its implicit bit in `kept`; drop it (the carry of a round-up lands in the
  // exponent field, which is what rounding 1.111..1 up to the next power of two needs).
  if (base) kept -= uint64_t{1} << kMant;
  const uint64_t bits = base + kept;
  return static_cast<uint16_t>(sign | (bits >= kInf ? kInf : bits));
}

inline float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  if (exp == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));
  if (exp == 0) {  // zero or subnormal: mant * 2^-24, exact in float
    const float v = static_cast<float>(mant) * 0x1p-24f;
    return sign ? -v : v;
  }
  return std::bit_cast<float>(sign | ((exp + 112) << 23) | (mant << 13));
}

inline float bfloat16_to_float(uint16_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b) << 16); }

}  // namespace tandem
