// The vector softmax of one row (rnn_fast_isa.h's SoftmaxRowFn, Attention's float softmax), for every
// instruction set this CPU has, against softmax in double on random rows of lengths around the vector
// widths, and its rules: all -inf (or no elements) gives zeros, a NaN anywhere or a +inf gives NaN, an
// element more than 87.3 below the max gives exactly 0.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "runtime_cpu/kernels/rnn_fast_isa.h"

namespace tandem {
namespace {

using cpu::rnn::Isa;

std::vector<std::pair<std::string, Isa>> isas_here() {
  std::vector<std::pair<std::string, Isa>> out = {{"scalar", Isa::kScalar}};
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (avx2) out.emplace_back("avx2", Isa::kAvx2);
  if (avx2 && __builtin_cpu_supports("avx512f")) out.emplace_back("avx512", Isa::kAvx512);
  return out;
}

constexpr float kInf = std::numeric_limits<float>::infinity();

std::vector<float> softmax(std::vector<float> x, Isa isa) {
  cpu::rnn::kernels_for(isa).softmax_row(x.data(), static_cast<int64_t>(x.size()));
  return x;
}

TEST(SoftmaxRow, MatchesSoftmaxInDoubleOnRandomRows) {
  std::mt19937 rng(5);
  std::normal_distribution<float> value(0.0f, 3.0f);
  for (const auto& [name, isa] : isas_here())
    for (int n : {1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 100, 513}) {
      std::vector<float> x(static_cast<std::size_t>(n));
      for (float& e : x) e = value(rng);
      if (n > 3) x[static_cast<std::size_t>(n / 3)] = -kInf;  // a masked key
      double top = -kInf, sum = 0;
      for (float e : x) top = std::max<double>(top, e);
      for (float e : x) sum += std::exp(static_cast<double>(e) - top);
      const std::vector<float> got = softmax(x, isa);
      for (int i = 0; i < n; ++i) {
        const double want = std::exp(static_cast<double>(x[static_cast<std::size_t>(i)]) - top) / sum;
        EXPECT_NEAR(got[static_cast<std::size_t>(i)], want, 1e-6 * want + 1e-9) << name << " n " << n << " i " << i;
      }
      if (n > 3) {
        EXPECT_EQ(got[static_cast<std::size_t>(n / 3)], 0.0f) << name << " n " << n;
      }
    }
}

TEST(SoftmaxRow, MaskedEmptyNanAndInfiniteRows) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (const auto& [name, isa] : isas_here()) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(softmax({}, isa).empty());
    for (float e : softmax(std::vector<float>(19, -kInf), isa)) EXPECT_EQ(e, 0.0f);
    // A NaN first, in a whole vector, in the last part-vector, and beside -inf only (the max skips it).
    for (const std::vector<float>& row : {std::vector<float>{nan, 1, 2, 3, 4, 5, 6, 7, 8, 9},
                                          std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, nan, 1},
                                          std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 1, nan},
                                          std::vector<float>{nan, -kInf, -kInf}, std::vector<float>{-kInf, -kInf, nan}})
      for (float e : softmax(row, isa)) EXPECT_TRUE(std::isnan(e));
    for (float e : softmax({1, kInf, 2}, isa)) EXPECT_TRUE(std::isnan(e));  // exp(inf - inf), as the formula
    // 100 below the max: exp is below float's normal range, and the element gets exactly 0.
    const std::vector<float> far = softmax({0, -100, -87, 0}, isa);
    EXPECT_EQ(far[1], 0.0f);
    EXPECT_GT(far[2], 0.0f);
    EXPECT_NEAR(far[0], 0.5f, 1e-6);
  }
}

}  // namespace
}  // namespace tandem
