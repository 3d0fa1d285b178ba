// vector_math.h for every instruction set this CPU has: each function against the exact value (computed in
// double) on random inputs of several ranges and lengths around the vector widths, and on the special
// values; Softmax and LogSoftmax rows against the formula in double, their non-finite rows against the
// plain kernel's formula; Attention's softmax with its own rules for masked, empty and NaN rows.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "graph/float16.h"
#include "runtime_cpu/kernels/vector_math.h"
#include "tests/support/single_op.h"

namespace tandem {
namespace {

using cpu::VectorMath;
using cpu::rnn::Isa;

std::vector<std::pair<std::string, const VectorMath*>> tables_here() {
  std::vector<std::pair<std::string, const VectorMath*>> out = {{"scalar", &cpu::vector_math_for(Isa::kScalar)}};
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (avx2) out.emplace_back("avx2", &cpu::vector_math_for(Isa::kAvx2));
  if (avx2 && __builtin_cpu_supports("avx512f")) out.emplace_back("avx512", &cpu::vector_math_for(Isa::kAvx512));
  return out;
}

constexpr float kInf = std::numeric_limits<float>::infinity();
const float kNan = std::numeric_limits<float>::quiet_NaN();

// Random values in [-range, range] (some exactly 0), and the special ones.
std::vector<float> inputs(uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> x;
  for (float range : {1e-4f, 0.5f, 1.0f, 3.0f, 10.0f, 100.0f}) {
    std::uniform_real_distribution<float> u(-range, range);
    for (int i = 0; i < 997; ++i) x.push_back(u(rng));
  }
  for (float v : {0.0f, -0.0f, 0.5f, -0.5f, 0.49999997f, 1e-30f, -1e-30f, 87.0f, -87.0f, 88.5f, -88.5f, 88.7f,
                  88.75f, -95.0f, -103.0f, -104.0f, 200.0f, -200.0f, kInf, -kInf, 1.0f, 1.0000001f, 0.99999994f,
                  1.41421354f, 1.41421366f, 1e-40f, 1.4e-45f, 1.17549435e-38f, 3.4e38f})
    x.push_back(v);
  return x;
}

struct Case {
  std::string name;
  cpu::SpanFn VectorMath::*fn;
  std::function<double(double)> exact;
  double rel;  // allowed relative error (of the exact value, or of |x| for Gelu)
};

TEST(VectorMath, ElementwiseFunctionsAgainstTheExactValues) {
  const double kSqrt1_2 = std::sqrt(0.5), kK = std::sqrt(2.0 / M_PI);
  const std::vector<Case> cases = {
      {"exp", &VectorMath::exp, [](double v) { return std::exp(v) > 3.4028234663852886e38 ? INFINITY : std::exp(v); },
       4e-7},
      {"log", &VectorMath::log, [](double v) { return std::log(static_cast<double>(static_cast<float>(v))); }, 4e-7},
      {"tanh", &VectorMath::tanh, [](double v) { return std::tanh(v); }, 4e-7},
      {"sigmoid", &VectorMath::sigmoid, [](double v) { return 1.0 / (1.0 + std::exp(-v)); }, 4e-7},
      {"erf", &VectorMath::erf, [](double v) { return std::erf(v); }, 4e-7},
      // Gelu for x < 0 is x erfc(-x / sqrt 2) / 2 or x sigmoid(u): the rounding of the argument carries into
      // the exponential (relative error about |argument| * 6e-8). The plain loops' 1 + erf and 1 + tanh
      // cancel there, far worse (1.5e-5 at x = -2.9 for erf).
      {"gelu_erf", &VectorMath::gelu_erf, [&](double v) { return 0.5 * v * std::erfc(-v * kSqrt1_2); }, 2e-6},
      {"gelu_tanh", &VectorMath::gelu_tanh,
       [&](double v) { return v / (1.0 + std::exp(-2.0 * kK * (v + 0.044715 * v * v * v))); }, 1e-5}};
  const std::vector<float> x = inputs(3);
  for (const auto& [isa, table] : tables_here())
    for (const Case& c : cases) {
      // Every length up to 40 first (whole vectors and every part-vector), then the whole set.
      for (int n = 0; n <= 40; ++n) {
        std::vector<float> y(static_cast<std::size_t>(n), kNan);
        (table->*c.fn)(x.data() + 2000, y.data(), n);
        for (int i = 0; i < n; ++i) {
          const double v = x[static_cast<std::size_t>(2000 + i)], want = c.exact(v);
          if (std::isnan(want)) {  // log of a negative number
            EXPECT_TRUE(std::isnan(y[static_cast<std::size_t>(i)])) << isa << " " << c.name << " x " << v;
            continue;
          }
          EXPECT_NEAR(y[static_cast<std::size_t>(i)], want, c.rel * std::fabs(want) + 1e-37)
              << isa << " " << c.name << " n " << n << " x " << v;
        }
      }
      std::vector<float> y(x.size());
      (table->*c.fn)(x.data(), y.data(), static_cast<int64_t>(x.size()));
      for (std::size_t i = 0; i < x.size(); ++i) {
        const double v = x[i], want = c.exact(v);
        if (std::isnan(want)) {  // Gelu at -inf (-inf times 0, as the formula), log of a negative number
          EXPECT_TRUE(std::isnan(y[i])) << isa << " " << c.name << " x " << v;
          continue;
        }
        if (std::isinf(want)) {
          EXPECT_EQ(y[i], want) << isa << " " << c.name << " x " << v;
          continue;
        }
        // Gelu's results for x below -5 are below 1e-6 and lose relative digits (above): 1e-12 absolute;
        // exp's below float's normal range are subnormal, with fewer digits: two of their steps.
        const double floor = c.name.rfind("gelu", 0) == 0 ? 1e-12 : c.name == "exp" ? 3e-45 : 1e-37;
        EXPECT_NEAR(y[i], want, c.rel * std::fabs(want) + floor) << isa << " " << c.name << " x " << v;
      }
      // NaN stays NaN; in place works.
      std::vector<float> inplace = {kNan, 0.25f};
      (table->*c.fn)(inplace.data(), inplace.data(), 2);
      EXPECT_TRUE(std::isnan(inplace[0])) << isa << " " << c.name;
      EXPECT_NEAR(inplace[1], c.exact(0.25), c.rel * std::fabs(c.exact(0.25))) << isa << " " << c.name;
    }
}

// The formula the plain Softmax kernel computes, in double: exp(x - max) / sum, x - max - log(sum).
std::vector<double> softmax_formula(const std::vector<float>& x, bool log) {
  double m = -kInf, sum = 0;
  for (float v : x) m = std::max<double>(m, v);
  for (float v : x) sum += std::exp(static_cast<double>(v) - m);
  std::vector<double> y;
  for (float v : x) y.push_back(log ? v - m - std::log(sum) : std::exp(static_cast<double>(v) - m) / sum);
  return y;
}

TEST(VectorMath, SoftmaxRowsAgainstTheFormula) {
  std::mt19937 rng(9);
  std::normal_distribution<float> value(0.0f, 4.0f);
  for (const auto& [isa, table] : tables_here())
    for (bool log : {false, true})
      for (int n : {1, 2, 7, 8, 9, 16, 17, 33, 100, 1000, 4096}) {
        constexpr int kRows = 3;
        std::vector<float> x(static_cast<std::size_t>(kRows * n)), y(x.size(), kNan);
        for (float& e : x) e = value(rng);
        if (n > 3) x[static_cast<std::size_t>(n / 2)] = -kInf;
        table->softmax_rows(x.data(), y.data(), kRows, n, log);
        for (int r = 0; r < kRows; ++r) {
          const std::vector<float> row(x.begin() + r * n, x.begin() + (r + 1) * n);
          const std::vector<double> want = softmax_formula(row, log);
          for (int i = 0; i < n; ++i) {
            const double w = want[static_cast<std::size_t>(i)];
            const float got = y[static_cast<std::size_t>(r * n + i)];
            if (std::isinf(w)) {
              EXPECT_EQ(got, w) << isa << " log " << log << " n " << n;
              continue;
            }
            EXPECT_NEAR(got, w, 2e-6 * std::fabs(w) + (log ? 2e-6 : 1e-12)) << isa << " log " << log << " n " << n;
          }
        }
      }
}

TEST(VectorMath, SoftmaxRowsWithoutAFiniteMaxOrWithNanFollowTheFormula) {
  for (const auto& [isa, table] : tables_here())
    for (bool log : {false, true}) {
      SCOPED_TRACE(isa + (log ? " log" : ""));
      for (const std::vector<float>& row :
           {std::vector<float>(19, -kInf), std::vector<float>{1, kInf, 2}, std::vector<float>{kNan, 1, 2, 3, 4, 5, 6, 7, 8},
            std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 1, kNan}}) {
        std::vector<float> y(row.size());
        table->softmax_rows(row.data(), y.data(), 1, static_cast<int64_t>(row.size()), log);
        const std::vector<double> want = softmax_formula(row, log);
        // The formula's NaN where a NaN is in the row; without one, what the formula gives.
        bool nan_in = false;
        for (float v : row) nan_in = nan_in || std::isnan(v);
        for (std::size_t i = 0; i < row.size(); ++i) {
          if (nan_in || std::isnan(want[i]))
            EXPECT_TRUE(std::isnan(y[i])) << i;
          else
            EXPECT_EQ(y[i], static_cast<float>(want[i])) << i;
        }
      }
    }
}

TEST(VectorMath, AttentionSoftmaxMatchesSoftmaxInDoubleAndZeroesMaskedRows) {
  std::mt19937 rng(5);
  std::normal_distribution<float> value(0.0f, 3.0f);
  const auto run = [](const VectorMath* t, std::vector<float> x) {
    t->attention_softmax_row(x.data(), static_cast<int64_t>(x.size()));
    return x;
  };
  for (const auto& [isa, table] : tables_here()) {
    SCOPED_TRACE(isa);
    for (int n : {1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 100, 513}) {
      std::vector<float> x(static_cast<std::size_t>(n));
      for (float& e : x) e = value(rng);
      if (n > 3) x[static_cast<std::size_t>(n / 3)] = -kInf;  // a masked key
      const std::vector<double> want = softmax_formula(x, false);
      const std::vector<float> got = run(table, x);
      for (int i = 0; i < n; ++i)
        EXPECT_NEAR(got[static_cast<std::size_t>(i)], want[static_cast<std::size_t>(i)],
                    1e-6 * want[static_cast<std::size_t>(i)] + 1e-9)
            << "n " << n << " i " << i;
      if (n > 3) {
        EXPECT_EQ(got[static_cast<std::size_t>(n / 3)], 0.0f) << "n " << n;
      }
    }
    EXPECT_TRUE(run(table, {}).empty());
    for (float e : run(table, std::vector<float>(19, -kInf))) EXPECT_EQ(e, 0.0f);  // onnx/onnx#8068
    for (const std::vector<float>& row : {std::vector<float>{kNan, 1, 2, 3, 4, 5, 6, 7, 8, 9},
                                          std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 1, kNan},
                                          std::vector<float>{kNan, -kInf, -kInf}, std::vector<float>{-kInf, -kInf, kNan}})
      for (float e : run(table, row)) EXPECT_TRUE(std::isnan(e));
    for (float e : run(table, {1, kInf, 2})) EXPECT_TRUE(std::isnan(e));  // exp(inf - inf), as the formula
    const std::vector<float> far = run(table, {0, -100, -87, 0});  // 100 below the max: exactly 0
    EXPECT_EQ(far[1], 0.0f);
    EXPECT_GT(far[2], 0.0f);
    EXPECT_NEAR(far[0], 0.5f, 1e-6);
  }
}

// The kernels use the vector forms for float32, and TANDEM_ELEMENTWISE_KERNEL=reference gives the plain
// loops (their reference twin) back; both agree on random data.
TEST(VectorMath, KernelsAndTheirReferenceTwinAgree) {
  std::mt19937 rng(11);
  std::normal_distribution<float> value(0.0f, 3.0f);
  test::F32 x(517);
  for (float& e : x) e = value(rng);
  const auto run = [&](const std::string& op, bool reference, const std::string& attr = "") {
    if (reference) setenv("TANDEM_ELEMENTWISE_KERNEL", "reference", 1);
    test::SingleOp o(20, op);
    o.in(test::f32({11, 47}, x));
    if (!attr.empty()) o.attr("approximate", attr);
    if (op.find("Softmax") != std::string::npos) o.attr("axis", int64_t{-1});
    const Tensor y = o.out();
    unsetenv("TANDEM_ELEMENTWISE_KERNEL");
    return y;
  };
  setenv("TANDEM_ELEMENTWISE_KERNEL", "reference", 1);
  EXPECT_EQ(cpu::vector_math(), nullptr);
  unsetenv("TANDEM_ELEMENTWISE_KERNEL");
  EXPECT_NE(cpu::vector_math(), nullptr);
  for (const auto& [op, attr] : std::vector<std::pair<std::string, std::string>>{
           {"Exp", ""}, {"Log", ""}, {"Tanh", ""}, {"Sigmoid", ""}, {"Erf", ""}, {"Gelu", "none"}, {"Gelu", "tanh"}, {"Softmax", ""},
           {"LogSoftmax", ""}}) {
    const Tensor fast = run(op, false, attr), plain = run(op, true, attr);
    ASSERT_EQ(fast.numel(), plain.numel()) << op;
    for (int64_t i = 0; i < fast.numel(); ++i) {
      const float f = fast.data<float>()[i], p = plain.data<float>()[i];
      if (std::isnan(p)) {  // Log of a negative number
        EXPECT_TRUE(std::isnan(f)) << op;
        continue;
      }
      // The plain Gelu loses digits where 1 + erf cancels (x < -2): there the two agree to 1e-6 absolute.
      EXPECT_NEAR(f, p, 2e-6 * std::fabs(p) + 1e-6) << op << " " << attr << " x " << x[static_cast<std::size_t>(i)];
    }
  }
  // float16 through the vector form: within one float16 step of the plain loop (the two round float
  // results that differ in their last bits).
  Tensor h = Tensor::empty(DType::kFloat16, {11, 47});
  for (std::size_t i = 0; i < x.size(); ++i) h.data<uint16_t>()[i] = round_to_narrow_float<5, 10>(x[i]);
  for (const std::string op : {"Exp", "Log", "Tanh", "Sigmoid", "Erf", "Gelu"}) {
    const auto run16 = [&](bool reference) {
      if (reference) setenv("TANDEM_ELEMENTWISE_KERNEL", "reference", 1);
      const Tensor y = test::SingleOp(20, op).in(h).out();
      unsetenv("TANDEM_ELEMENTWISE_KERNEL");
      return y;
    };
    const Tensor fast = run16(false), plain = run16(true);
    ASSERT_EQ(fast.dtype(), DType::kFloat16) << op;
    for (int64_t i = 0; i < fast.numel(); ++i) {
      const float f = half_to_float(fast.data<uint16_t>()[i]), p = half_to_float(plain.data<uint16_t>()[i]);
      if (std::isinf(p) || std::isnan(p)) {
        EXPECT_TRUE(f == p || (std::isnan(f) && std::isnan(p))) << op << " " << f << " " << p;
        continue;
      }
      EXPECT_NEAR(f, p, std::fabs(p) / 1024 + 6e-8) << op << " x " << x[static_cast<std::size_t>(i)];
    }
  }
}

}  // namespace
}  // namespace tandem
