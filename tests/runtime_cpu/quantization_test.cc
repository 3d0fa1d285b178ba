// The quantization kernels through the real pipeline. Expected values are worked out by hand from the
// spec's formulas (round half to even, saturation) or come from independent references: the integer
// products are checked against the float32 MatMul and Conv kernels run on the zero-point-shifted values
// (exact in float32 while every sum stays below 2^24, which the sizes here guarantee), and int_gemm against
// its triple-loop twin, including sums past int32. The weight operands (B, W) and their zero points run as
// graph inputs, as initializers (shifted once when the kernel is made) and one of each.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "runtime_cpu/kernels/int_gemm.h"
#include "tests/support/single_op.h"

namespace tandem {
namespace {

using namespace tandem::test;
using U8 = std::vector<uint8_t>;
using S8 = std::vector<int8_t>;

Tensor u8(I64 shape, const U8& v) { return make_tensor<uint8_t>(std::move(shape), v); }
Tensor s8(I64 shape, const S8& v) { return make_tensor<int8_t>(std::move(shape), v); }

// A random uint8 or int8 tensor over the type's whole range.
Tensor random_8bit(DType t, I64 shape, std::mt19937& rng) {
  Tensor out = Tensor::empty(t, std::move(shape));
  std::uniform_int_distribution<int> d(t == DType::kUInt8 ? 0 : -128, t == DType::kUInt8 ? 255 : 127);
  for (int64_t i = 0; i < out.numel(); ++i) {
    if (t == DType::kUInt8)
      out.data<uint8_t>()[i] = static_cast<uint8_t>(d(rng));
    else
      out.data<int8_t>()[i] = static_cast<int8_t>(d(rng));
  }
  return out;
}

int32_t at(const Tensor& t, int64_t i) {
  return t.dtype() == DType::kUInt8 ? t.data<uint8_t>()[i] : t.dtype() == DType::kInt8 ? t.data<int8_t>()[i] : t.data<int32_t>()[i];
}

// t - zero_point(i) as float32 (the independent route: a float kernel on these values).
template <typename ZeroPointOf>
Tensor shifted_float(const Tensor& t, ZeroPointOf zp) {
  Tensor out = Tensor::empty(DType::kFloat32, t.shape());
  for (int64_t i = 0; i < t.numel(); ++i) out.data<float>()[i] = static_cast<float>(at(t, i) - zp(i));
  return out;
}

void expect_ints(const Tensor& got, DType type, const I64& shape, const std::vector<int32_t>& want) {
  ASSERT_TRUE(got.defined());
  EXPECT_EQ(got.dtype(), type);
  ASSERT_EQ(got.shape(), shape);
  ASSERT_EQ(got.numel(), static_cast<int64_t>(want.size()));
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(at(got, static_cast<int64_t>(i)), want[i]) << "element " << i;
}

// An int32 result equal, element for element, to a float32 one holding exact integers.
void expect_same_ints(const Tensor& got, const Tensor& want_float) {
  ASSERT_TRUE(got.defined() && want_float.defined());
  ASSERT_EQ(got.shape(), want_float.shape());
  ASSERT_EQ(got.dtype(), DType::kInt32);
  int bad = 0;
  for (int64_t i = 0; i < got.numel() && bad < 5; ++i)
    if (got.data<int32_t>()[i] != static_cast<int32_t>(want_float.data<float>()[i]))
      ADD_FAILURE() << "element " << i << ": " << got.data<int32_t>()[i] << " vs " << want_float.data<float>()[i], ++bad;
}

// Where a weight operand (B, W) and its zero point come from: graph inputs (computed at run time, shifted
// on every run), initializers (shifted once when the kernel is made), or one of each (the per-run path).
enum class Weights { kComputed, kConstant, kConstantOperand, kConstantZeroPoint };
const Weights kAllWeights[] = {Weights::kComputed, Weights::kConstant, Weights::kConstantOperand,
                               Weights::kConstantZeroPoint};
const char* weights_name(Weights w) {
  switch (w) {
    case Weights::kComputed: return "computed weights";
    case Weights::kConstant: return "constant weights and zero point";
    case Weights::kConstantOperand: return "constant weights, computed zero point";
    default: return "computed weights, constant zero point";
  }
}
// Adds `t` to `op` as a graph input or an initializer; `zero_point` says which of the pair it is.
SingleOp& add_weight(SingleOp& op, const Tensor& t, Weights w, bool zero_point) {
  const bool constant = w == Weights::kConstant || (w == Weights::kConstantOperand && !zero_point) ||
                        (w == Weights::kConstantZeroPoint && zero_point);
  return constant ? op.constant(t) : op.in(t);
}

// --- int_gemm ---------------------------------------------------------------------------------------------

using IntGemmFn = void (*)(int64_t, int64_t, int64_t, const int16_t*, int64_t, const int16_t*, int64_t, int64_t*,
                          int64_t);

// Every path this CPU can take: the dispatcher, the portable loop, and AVX2's where the CPU has it.
std::vector<std::pair<const char*, IntGemmFn>> int_gemm_paths() {
  std::vector<std::pair<const char*, IntGemmFn>> paths = {{"int_gemm", cpu::int_gemm},
                                                          {"portable", cpu::int_gemm_portable}};
#if defined(__x86_64__) || defined(__i386__)
  if (__builtin_cpu_supports("avx2")) paths.emplace_back("avx2", cpu::int_gemm_avx2);
#endif
  return paths;
}

TEST(IntGemm, MatchesTheTripleLoopOnRandomShiftedOperands) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> d(-255, 255);
  struct S { int64_t m, n, k, pad; };
  // Rows past a tile of 4, columns past a block of 256 and past AVX2's strips of 16 and 64 (those of 64
  // for fewer than 4 rows), K odd and past a block of 256, leading dimensions wider.
  const S shapes[] = {S{1, 1, 1, 0},     S{4, 8, 3, 0},    S{7, 5, 300, 3},  S{9, 300, 17, 1}, S{5, 260, 513, 0},
                      S{3, 4, 0, 0},     S{1, 200, 777, 2}, S{3, 130, 256, 0}, S{2, 64, 2, 0},   S{6, 48, 255, 5},
                      S{1, 16, 1, 0}};
  for (const auto& [name, fn] : int_gemm_paths())
    for (const S s : shapes) {
      std::vector<int16_t> a(static_cast<std::size_t>(s.m * (s.k + s.pad))), b(static_cast<std::size_t>(s.k * (s.n + s.pad)));
      for (auto& v : a) v = static_cast<int16_t>(d(rng));
      for (auto& v : b) v = static_cast<int16_t>(d(rng));
      for (std::size_t i = 0; i < a.size(); i += 5) a[i] = 0;  // zero runs: the skipped products
      std::vector<int64_t> fast(static_cast<std::size_t>(s.m * (s.n + s.pad)), -1), ref(fast);
      fn(s.m, s.n, s.k, a.data(), s.k + s.pad, b.data(), s.n + s.pad, fast.data(), s.n + s.pad);
      cpu::int_gemm_reference(s.m, s.n, s.k, a.data(), s.k + s.pad, b.data(), s.n + s.pad, ref.data(), s.n + s.pad);
      for (int64_t i = 0; i < s.m; ++i)
        for (int64_t j = 0; j < s.n; ++j)
          ASSERT_EQ(fast[i * (s.n + s.pad) + j], ref[i * (s.n + s.pad) + j])
              << name << " " << s.m << "x" << s.n << "x" << s.k << " at " << i << "," << j;
    }
}

TEST(IntGemm, SumsPastInt32AreExact) {
  // 40000 * 255 * 255 = 2,601,000,000 > 2^31 - 1, in 18 columns: AVX2's 16-column strip and its tail.
  const int64_t k = 40000, n = 18;
  std::vector<int16_t> a(k, 255), b(static_cast<std::size_t>(n * k));
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < n; ++j) b[static_cast<std::size_t>(i * n + j)] = j % 2 ? -255 : 255;
  for (const auto& [name, fn] : int_gemm_paths()) {
    std::vector<int64_t> c(static_cast<std::size_t>(n));
    fn(1, n, k, a.data(), k, b.data(), n, c.data(), n);
    for (int64_t j = 0; j < n; ++j) EXPECT_EQ(c[static_cast<std::size_t>(j)], j % 2 ? -2601000000 : 2601000000) << name << " " << j;
  }
}

// --- QuantizeLinear ---------------------------------------------------------------------------------------

TEST(QuantizeLinear, RoundsHalfToEvenAndSaturates) {
  // x / 2: 0, 0.5, 1.5, 2.5, -0.5, -1.5, 500, -500 -> 0, 0, 2, 2, 0, -2, then + 128 and saturate.
  const Tensor x = f32({8}, {0, 1, 3, 5, -1, -3, 1000, -1000});
  for (int64_t opset : {10, 13})
    expect_ints(SingleOp(opset, "QuantizeLinear").in(x).in(f32({}, {2})).in(u8({}, {128})).out({DType::kUInt8}), DType::kUInt8,
                {8}, {128, 128, 130, 130, 128, 126, 255, 0});
  // int8 with a negative zero point: 200 - 3 and -200 - 3 saturate, 2.5 and 1.5 both round to 2.
  expect_ints(SingleOp(13, "QuantizeLinear").in(f32({4}, {100, -100, 1.25f, 0.75f})).in(f32({}, {0.5f})).in(s8({}, {-3}))
                  .out({DType::kInt8}),
              DType::kInt8, {4}, {127, -128, -1, -1});
  // No zero point: uint8 with zero point 0, negatives saturate at 0.
  expect_ints(SingleOp(13, "QuantizeLinear").in(f32({3}, {-4, 4.5f, 300})).in(f32({}, {1})).out({DType::kUInt8}), DType::kUInt8,
              {3}, {0, 4, 255});
  // int32 x: 7 / 2 = 3.5 -> 4, -3.5 -> -4, 2^30 saturates.
  expect_ints(SingleOp(13, "QuantizeLinear").in(i32({3}, {7, -7, 1 << 30})).in(f32({}, {2})).in(s8({}, {0})).out({DType::kInt8}),
              DType::kInt8, {3}, {4, -4, 127});
}

TEST(QuantizeLinear, PerAxisAlongAnyAxis) {
  const Tensor x = f32({2, 3}, {10, 20, 40, -10, -20, -40});
  // axis 1 (the default): scales 1, 2, 4 and zero points 0, 10, 20 by column.
  expect_ints(SingleOp(13, "QuantizeLinear").in(x).in(f32({3}, {1, 2, 4})).in(u8({3}, {0, 10, 20})).out({DType::kUInt8}),
              DType::kUInt8, {2, 3}, {10, 20, 30, 0, 0, 10});
  expect_ints(SingleOp(13, "QuantizeLinear").in(x).in(f32({3}, {1, 2, 4})).in(u8({3}, {0, 10, 20})).attr("axis", int64_t{-1})
                  .out({DType::kUInt8}),
              DType::kUInt8, {2, 3}, {10, 20, 30, 0, 0, 10});
  // axis 0: one scale per row.
  expect_ints(SingleOp(13, "QuantizeLinear").in(x).in(f32({2}, {10, 20})).in(s8({2}, {1, -1})).attr("axis", int64_t{0})
                  .out({DType::kInt8}),
              DType::kInt8, {2, 3}, {2, 3, 5, -1, -2, -3});  // -0.5 rounds to -0
}

TEST(QuantizeLinear, PerAxisEqualsPerTensorSliceBySlice) {
  std::mt19937 rng(3);
  std::normal_distribution<float> d(0, 60);
  Tensor x = Tensor::empty(DType::kFloat32, {2, 4, 5});
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = d(rng);
  const F32 scales{0.5f, 1, 0.25f, 3};
  const S8 zps{0, -20, 17, 5};
  const Tensor per_axis =
      SingleOp(13, "QuantizeLinear").in(x).in(f32({4}, scales)).in(s8({4}, zps)).out({DType::kInt8});
  ASSERT_TRUE(per_axis.defined());
  bool saturated = false;
  for (int64_t c = 0; c < 4; ++c) {
    F32 slice;
    for (int64_t n = 0; n < 2; ++n)
      for (int64_t i = 0; i < 5; ++i) slice.push_back(x.data<float>()[(n * 4 + c) * 5 + i]);
    const Tensor one = SingleOp(13, "QuantizeLinear").in(f32({10}, slice)).in(f32({}, {scales[c]})).in(s8({}, {zps[c]}))
                           .out({DType::kInt8});
    for (int64_t n = 0, j = 0; n < 2; ++n)
      for (int64_t i = 0; i < 5; ++i, ++j) {
        const int8_t got = per_axis.data<int8_t>()[(n * 4 + c) * 5 + i];
        EXPECT_EQ(got, one.data<int8_t>()[j]) << "channel " << c;
        saturated = saturated || got == 127 || got == -128;
      }
  }
  EXPECT_TRUE(saturated) << "the data should reach the saturation ends";
}

TEST(QuantizeLinear, RefusesBadScalesAndZeroPoints) {
  const Tensor x = iota({2, 3});
  expect_error(SingleOp(13, "QuantizeLinear").in(x).in(f32({2}, {1, 2})).run({DType::kUInt8}),
               "y_scale must be a scalar or a 1-D tensor of 3 (the size of axis 1 of x float32 [2,3]), got float32 [2]");
  expect_error(SingleOp(13, "QuantizeLinear").in(x).in(f32({3}, {1, 2, 3})).in(u8({}, {0})).run({DType::kUInt8}),
               "y_zero_point uint8 [] and y_scale float32 [3] must have one shape");
  expect_error(SingleOp(13, "QuantizeLinear").in(x).in(f32({3}, {1, 2, 3})).attr("axis", int64_t{2}).run({DType::kUInt8}),
               "axis");
  // Opset 10 knows only per-tensor quantization.
  expect_error(SingleOp(10, "QuantizeLinear").in(x).in(f32({3}, {1, 2, 3})).run({DType::kUInt8}),
               "y_scale must be a scalar (per-tensor quantization), got float32 [3]");
  expect_error(SingleOp(13, "QuantizeLinear").in(x).in(f32({1, 1}, {1})).run({DType::kUInt8}), "y_scale must be");
}

// An axis of length 0 has a per-axis scale and zero point of length 0 (ONNX's reference reshapes them to
// [1, 0] against x [2, 0]; ONNX Runtime 1.30 runs it): both ops give x's empty shape. A scale [0] was taken
// for one value and refused ("must be a scalar").
TEST(QuantizeLinear, PerAxisOverAnEmptyAxis) {
  const Tensor none = f32({0}, {});
  EXPECT_EQ(SingleOp(13, "QuantizeLinear").in(f32({2, 0}, {})).in(none).in(u8({0}, {})).out({DType::kUInt8}).shape(),
            (I64{2, 0}));
  EXPECT_EQ(SingleOp(13, "DequantizeLinear").in(s8({2, 0}, {})).in(none).in(s8({0}, {})).out({DType::kFloat32}).shape(),
            (I64{2, 0}));
  // Along an axis that is not empty, [0] is still the wrong length.
  expect_error(SingleOp(13, "QuantizeLinear").in(f32({0, 3}, {})).in(none).run({DType::kUInt8}),
               "y_scale must be a scalar or a 1-D tensor of 3");
}

// --- DequantizeLinear -------------------------------------------------------------------------------------

TEST(DequantizeLinear, PerTensorPerAxisAndInt32) {
  expect_f32(SingleOp(13, "DequantizeLinear").in(s8({4}, {-128, -1, 0, 127})).in(f32({}, {0.5f})).in(s8({}, {-1})).out({DType::kFloat32}),
             {4}, {-63.5f, 0, 0.5f, 64});
  expect_f32(SingleOp(10, "DequantizeLinear").in(u8({3}, {0, 10, 255})).in(f32({}, {2})).out({DType::kFloat32}), {3}, {0, 20, 510});
  expect_f32(SingleOp(13, "DequantizeLinear").in(u8({2, 2}, {10, 10, 20, 20})).in(f32({2}, {1, 3})).in(u8({2}, {10, 0}))
                 .attr("axis", int64_t{0}).out({DType::kFloat32}),
             {2, 2}, {0, 0, 60, 60});
  expect_f32(SingleOp(13, "DequantizeLinear").in(i32({3}, {-1000000, 0, 7})).in(f32({}, {0.25f})).in(i32({}, {0})).out({DType::kFloat32}),
             {3}, {-250000, 0, 1.75f});
  expect_error(SingleOp(13, "DequantizeLinear").in(i32({1}, {5})).in(f32({}, {1})).in(i32({}, {3})).run({DType::kFloat32}),
               "an int32 x has no zero point: x_zero_point must be 0");
  expect_error(SingleOp(13, "DequantizeLinear").in(u8({2, 2}, {1, 2, 3, 4})).in(f32({3}, {1, 2, 3})).run({DType::kFloat32}),
               "x_scale must be a scalar or a 1-D tensor of 2 (the size of axis 1 of x uint8 [2,2])");
}

TEST(DequantizeLinear, UndoesQuantizeLinearWithinHalfAStep) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> d(-1.5f, 2.5f);
  F32 v(64);
  for (float& f : v) f = d(rng);
  const float scale = 4.0f / 255;
  const Tensor q = SingleOp(13, "QuantizeLinear").in(f32({64}, v)).in(f32({}, {scale})).in(u8({}, {96})).out({DType::kUInt8});
  const Tensor back = SingleOp(13, "DequantizeLinear").in(q).in(f32({}, {scale})).in(u8({}, {96})).out({DType::kFloat32});
  ASSERT_TRUE(back.defined());
  for (std::size_t i = 0; i < v.size(); ++i) EXPECT_LE(std::abs(back.data<float>()[i] - v[i]), scale / 2 * 1.001f) << i;
}

// --- DynamicQuantizeLinear --------------------------------------------------------------------------------

void expect_dynamic(const F32& x, const U8& y, float scale, uint8_t zero_point) {
  auto r = SingleOp(11, "DynamicQuantizeLinear", 3).in(f32({static_cast<int64_t>(x.size())}, x))
               .run({DType::kUInt8, DType::kFloat32, DType::kUInt8});
  ASSERT_TRUE(r) << r.status().message();
  expect_ints((*r)[0], DType::kUInt8, {static_cast<int64_t>(x.size())}, std::vector<int32_t>(y.begin(), y.end()));
  ASSERT_EQ((*r)[1].shape(), I64{});
  EXPECT_FLOAT_EQ((*r)[1].data<float>()[0], scale);
  EXPECT_EQ((*r)[2].data<uint8_t>()[0], zero_point);
}

TEST(DynamicQuantizeLinear, RangeIncludesZero) {
  // Values worked out with the spec's formula in float32 (numpy).
  expect_dynamic({1, 2, 3}, {85, 170, 255}, 3.0f / 255, 0);           // min widened to 0
  expect_dynamic({-1, -2}, {128, 0}, 2.0f / 255, 255);                // max widened to 0; -127.49999 -> -127
  expect_dynamic({-1, 0.5f, 3}, {0, 96, 255}, 4.0f / 255, 64);        // zero point 63.75 -> 64
  // All zeros: max == min, so the scale is 1/255 (ONNX's reference) and nothing divides by zero.
  expect_dynamic({0, 0, 0}, {0, 0, 0}, 1.0f / 255, 0);
}

// --- MatMulInteger ----------------------------------------------------------------------------------------

TEST(MatMulInteger, SpecExampleByHand) {
  // (A - 12) * B, worked out by hand: row 0 is (-1, -5, -9) . columns (1, 2, 3) and (4, 5, 6).
  expect_ints(SingleOp(10, "MatMulInteger").in(u8({4, 3}, {11, 7, 3, 10, 6, 2, 9, 5, 1, 8, 4, 0})).in(u8({3, 2}, {1, 4, 2, 5, 3, 6}))
                  .in(u8({}, {12})).in(u8({}, {0})).out({DType::kInt32}),
              DType::kInt32, {4, 2}, {-38, -83, -44, -98, -50, -113, -56, -128});
}

struct MatMulCase {
  I64 a, b;
  DType ta, tb;
  int za_form, zb_form;  // 0: none, 1: scalar, 2: 1-D per row / column, 3: N-D per matrix line
};

TEST(MatMulInteger, MatchesFloatMatMulOnRandomData) {
  std::mt19937 rng(5);
  const DType u = DType::kUInt8, s = DType::kInt8;
  const std::vector<MatMulCase> cases = {
      {{4, 3}, {3, 2}, u, u, 1, 1},          {{5, 7}, {7, 6}, s, s, 2, 2},
      {{2, 3, 5, 7}, {7, 4}, u, s, 2, 1},    {{1, 5, 6}, {3, 6, 2}, s, u, 1, 2},
      {{6}, {6, 3}, u, u, 1, 2},             {{2, 6}, {6}, s, u, 2, 0},
      {{3, 1, 4, 8}, {2, 8, 5}, u, u, 0, 2}, {{2, 3, 4}, {2, 4, 5}, u, s, 3, 3},
      {{2, 3, 4}, {1, 4, 5}, s, s, 3, 3},    {{9, 40}, {40, 33}, u, u, 2, 2},
  };
  for (const MatMulCase& c : cases)
    for (Weights where : kAllWeights) {
      SCOPED_TRACE(shape_string(c.a) + " x " + shape_string(c.b) + ", " + weights_name(where));
      const Tensor a = random_8bit(c.ta, c.a, rng), b = random_8bit(c.tb, c.b, rng);
      const int64_t k = c.a.back(), m = c.a.size() > 1 ? c.a[c.a.size() - 2] : 1, n = c.b.size() > 1 ? c.b.back() : 1;
      // Zero point tensors in the chosen form, and the zero point of each element of A and B.
      auto zero_points = [&](DType t, int form, bool is_a, const I64& shape) -> Tensor {
        const int64_t lines = is_a ? m : n;
        I64 zs = form == 1 ? I64{} : I64{lines};
        if (form == 3) {
          zs = shape;
          zs[zs.size() - (is_a ? 1 : 2)] = 1;
        }
        return random_8bit(t, zs, rng);
      };
      SingleOp op(10, "MatMulInteger");
      op.in(a);
      add_weight(op, b, where, false);
      Tensor za, zb;
      if (c.za_form) za = zero_points(c.ta, c.za_form, true, c.a);
      if (c.zb_form) zb = zero_points(c.tb, c.zb_form, false, c.b);
      if (za.defined()) op.in(za);
      else if (zb.defined()) op.skip();
      if (zb.defined()) add_weight(op, zb, where, true);
      const auto zp_a = [&](int64_t i) {
        if (!za.defined()) return 0;
        if (c.za_form == 1) return at(za, 0);
        if (c.za_form == 2) return at(za, i / k % m);
        return at(za, i / k);  // [batch..., m, 1]: one per row of each matrix
      };
      const auto zp_b = [&](int64_t i) {
        if (!zb.defined()) return 0;
        if (c.zb_form == 1) return at(zb, 0);
        if (c.zb_form == 2) return at(zb, i % n);
        return at(zb, i / (k * n) * n + i % n);  // [batch..., 1, n]
      };
      const Tensor want = SingleOp(13, "MatMul").in(shifted_float(a, zp_a)).in(shifted_float(b, zp_b)).out();
      expect_same_ints(op.out({DType::kInt32}), want);
    }
}

TEST(MatMulInteger, RefusesBadShapesAndReportsInt32Overflow) {
  const Tensor a = u8({2, 3}, U8(6, 1)), b = u8({3, 2}, U8(6, 1));
  expect_error(SingleOp(10, "MatMulInteger").in(a).in(u8({2, 2}, U8(4, 1))).run({DType::kInt32}), "inner dimensions differ");
  expect_error(SingleOp(10, "MatMulInteger").in(u8({2, 2, 3}, U8(12, 1))).in(u8({3, 3, 2}, U8(18, 1))).run({DType::kInt32}),
               "batch dimensions");
  expect_error(SingleOp(10, "MatMulInteger").in(a).in(b).in(u8({3}, {1, 2, 3})).run({DType::kInt32}),
               "a_zero_point must be a scalar, a 1-D tensor of 2 (the rows of A uint8 [2,3])");
  expect_error(SingleOp(10, "MatMulInteger").in(a).in(b).skip().in(u8({3}, {1, 2, 3})).run({DType::kInt32}),
               "b_zero_point must be a scalar, a 1-D tensor of 2 (the columns of B uint8 [3,2])");
  // Constant B with a constant zero point of a wrong shape is not prepared: the run says what is wrong.
  expect_error(SingleOp(10, "MatMulInteger").in(a).constant(b).skip().constant(u8({3}, {1, 2, 3})).run({DType::kInt32}),
               "b_zero_point must be a scalar, a 1-D tensor of 2 (the columns of B uint8 [3,2])");
  // 40000 products of 255 * 255 sum to 2,601,000,000: past int32, an error rather than a wrapped value.
  const int64_t k = 40000;
  expect_error(SingleOp(10, "MatMulInteger").in(u8({1, k}, U8(k, 255))).in(u8({k, 1}, U8(k, 255))).run({DType::kInt32}),
               "beyond int32");
  // The same K with alternating signs stays in range and is exact: 20000 * 255 * 127 - 20000 * 255 * 128.
  S8 alternating(k);
  for (int64_t i = 0; i < k; ++i) alternating[i] = i % 2 ? -128 : 127;
  expect_ints(SingleOp(10, "MatMulInteger").in(u8({1, k}, U8(k, 255))).in(s8({k, 1}, alternating)).out({DType::kInt32}),
              DType::kInt32, {1, 1}, {-20000 * 255});
}

// --- QLinearMatMul ----------------------------------------------------------------------------------------

// saturate(round_half_even(acc * (sa * sb / sy)) + zy): the spec's requantization, from a float result of
// exact integers (the float MatMul of the shifted operands).
template <typename Q>
std::vector<int32_t> requantized(const Tensor& acc, const std::vector<float>& mult, int32_t zy) {
  std::vector<int32_t> out;
  for (int64_t i = 0; i < acc.numel(); ++i) {
    const double v = std::nearbyint(static_cast<double>(acc.data<float>()[i]) * mult[static_cast<std::size_t>(i) % mult.size()]) + zy;
    out.push_back(static_cast<int32_t>(std::clamp<double>(v, std::numeric_limits<Q>::lowest(), std::numeric_limits<Q>::max())));
  }
  return out;
}

TEST(QLinearMatMul, MatchesRequantizedFloatMatMul) {
  std::mt19937 rng(9);
  int64_t saturated = 0;
  for (const auto& [as, bs] : std::vector<std::pair<I64, I64>>{{{2, 4}, {4, 3}}, {{2, 5, 16}, {16, 7}}, {{3, 1, 2, 6}, {2, 6, 4}}}) {
    SCOPED_TRACE(shape_string(as) + " x " + shape_string(bs));
    const Tensor a = random_8bit(DType::kUInt8, as, rng), b = random_8bit(DType::kInt8, bs, rng);
    const float sa = 0.02f, sb = 0.05f, sy = 0.4f;
    const int32_t za = 120, zb = -3, zy = 10;
    const Tensor acc = SingleOp(13, "MatMul").in(shifted_float(a, [&](int64_t) { return za; }))
                           .in(shifted_float(b, [&](int64_t) { return zb; })).out();
    const Tensor y = SingleOp(10, "QLinearMatMul").in(a).in(f32({}, {sa})).in(u8({}, {static_cast<uint8_t>(za)}))
                         .in(b).in(f32({}, {sb})).in(s8({}, {static_cast<int8_t>(zb)}))
                         .in(f32({}, {sy})).in(s8({}, {static_cast<int8_t>(zy)})).out({DType::kInt8});
    const std::vector<int32_t> want = requantized<int8_t>(acc, {sa * sb / sy}, zy);
    expect_ints(y, DType::kInt8, acc.shape(), want);
    saturated += std::count(want.begin(), want.end(), 127) + std::count(want.begin(), want.end(), -128);
  }
  EXPECT_NE(saturated, 0) << "the data should saturate somewhere";
}

TEST(QLinearMatMul, PerRowAndPerColumnScales) {
  // a - za = [[1, 2], [3, 4]] by rows (zero points 1 and 2), b - zb = identity * (1, 2) by columns.
  const Tensor y = SingleOp(10, "QLinearMatMul").in(u8({2, 2}, {2, 3, 5, 6})).in(f32({2}, {1, 2})).in(u8({2}, {1, 2}))
                       .in(u8({2, 2}, {1, 0, 0, 2})).in(f32({2}, {1, 0.5f})).in(u8({2}, {0, 0}))
                       .in(f32({}, {1})).in(u8({}, {0})).out({DType::kUInt8});
  // acc = [[1, 4], [3, 8]]; scales a_s[r] * b_s[c]: [[1, 0.5], [2, 1]] -> [[1, 2], [6, 8]].
  expect_ints(y, DType::kUInt8, {2, 2}, {1, 2, 6, 8});
  expect_error(SingleOp(10, "QLinearMatMul").in(u8({2, 2}, U8(4, 1))).in(f32({3}, {1, 1, 1})).in(u8({3}, U8(3, 0)))
                   .in(u8({2, 2}, U8(4, 1))).in(f32({}, {1})).in(u8({}, {0})).in(f32({}, {1})).in(u8({}, {0}))
                   .run({DType::kUInt8}),
               "a_scale must be a scalar or a 1-D tensor of 2 (the rows of a uint8 [2,2])");
}

TEST(QLinearMatMul, PerColumnWeightsConstantOrComputed) {
  // b's zero points and scales per column, b and its zero points as inputs or initializers: every placement
  // matches the requantized float product (a prepared b shifted by the wrong zero points would not).
  std::mt19937 rng(21);
  const int64_t n = 6;
  for (Weights where : kAllWeights) {
    SCOPED_TRACE(weights_name(where));
    const Tensor a = random_8bit(DType::kUInt8, {3, 5, 12}, rng), b = random_8bit(DType::kInt8, {12, n}, rng);
    const Tensor zb = random_8bit(DType::kInt8, {n}, rng);
    std::vector<float> sb(static_cast<std::size_t>(n)), mult;
    const float sa = 0.02f, sy = 0.3f;
    for (std::size_t j = 0; j < sb.size(); ++j) sb[j] = 0.01f * static_cast<float>(j + 1), mult.push_back(sa * sb[j] / sy);
    const int32_t za = 128, zy = 3;
    SingleOp op(10, "QLinearMatMul");
    op.in(a).in(f32({}, {sa})).in(u8({}, {static_cast<uint8_t>(za)}));
    add_weight(op, b, where, false).in(f32({n}, sb));
    add_weight(op, zb, where, true).in(f32({}, {sy})).in(s8({}, {static_cast<int8_t>(zy)}));
    const Tensor acc = SingleOp(13, "MatMul").in(shifted_float(a, [&](int64_t) { return za; }))
                           .in(shifted_float(b, [&](int64_t i) { return at(zb, i % n); })).out();
    expect_ints(op.out({DType::kInt8}), DType::kInt8, acc.shape(), requantized<int8_t>(acc, mult, zy));
  }
}

// --- ConvInteger and QLinearConv --------------------------------------------------------------------------

struct ConvCase {
  I64 x, w;
  int64_t group;
  I64 strides, pads, dilations;
  bool per_channel;
};

SingleOp& conv_attrs(SingleOp& op, const ConvCase& c) {
  op.attr("group", c.group);
  if (!c.strides.empty()) op.attr("strides", c.strides);
  if (!c.pads.empty()) op.attr("pads", c.pads);
  if (!c.dilations.empty()) op.attr("dilations", c.dilations);
  return op;
}

const std::vector<ConvCase>& conv_cases() {
  static const std::vector<ConvCase> cases = {
      {{1, 1, 5, 5}, {2, 1, 3, 3}, 1, {}, {}, {}, false},
      {{2, 3, 7, 6}, {4, 3, 3, 2}, 1, {2, 1}, {1, 0, 2, 1}, {}, true},
      {{1, 4, 9, 9}, {6, 2, 3, 3}, 2, {}, {2, 2, 2, 2}, {2, 2}, true},
      {{2, 3, 10}, {5, 3, 4}, 1, {3}, {1, 2}, {}, true},           // 1-D
      {{1, 2, 4, 5, 3}, {3, 2, 2, 3, 1}, 1, {}, {1, 0, 0, 0, 1, 0}, {}, false},  // 3-D
      {{1, 6, 4, 4}, {6, 1, 1, 1}, 6, {}, {}, {}, true},           // 1x1 depthwise: the direct path
      {{1, 3, 4, 4}, {5, 3, 1, 1}, 1, {}, {}, {}, true},           // 1x1: the image is the patch matrix
  };
  return cases;
}

TEST(ConvInteger, MatchesFloatConvOnRandomData) {
  std::mt19937 rng(13);
  for (const ConvCase& c : conv_cases())
    for (const auto& [tx, tw] : {std::pair{DType::kUInt8, DType::kInt8}, std::pair{DType::kInt8, DType::kUInt8}})
      for (Weights where : kAllWeights) {
        SCOPED_TRACE(shape_string(c.x) + " * " + shape_string(c.w) + ", " + weights_name(where));
        const Tensor x = random_8bit(tx, c.x, rng), w = random_8bit(tw, c.w, rng);
        const Tensor zx = random_8bit(tx, {}, rng);
        const Tensor zw = random_8bit(tw, c.per_channel ? I64{c.w[0]} : I64{}, rng);
        const int64_t per_map = w.numel() / c.w[0];
        SingleOp op(10, "ConvInteger");
        op.in(x);
        add_weight(op, w, where, false).in(zx);
        add_weight(op, zw, where, true);
        SingleOp ref(11, "Conv");
        ref.in(shifted_float(x, [&](int64_t) { return at(zx, 0); }))
            .in(shifted_float(w, [&](int64_t i) { return c.per_channel ? at(zw, i / per_map) : at(zw, 0); }));
        const Tensor want = conv_attrs(ref, c).out();
        expect_same_ints(conv_attrs(op, c).out({DType::kInt32}), want);
      }
}

TEST(ConvInteger, PaddingIsTheZeroPointAndErrors) {
  // x - 1 = 1..9 around a border of zero point (1): a 2x2 sum of ones with pads 1 (ONNX's example).
  const Tensor x = u8({1, 1, 3, 3}, {2, 3, 4, 5, 6, 7, 8, 9, 10});
  expect_ints(SingleOp(10, "ConvInteger").in(x).in(u8({1, 1, 2, 2}, U8(4, 1))).in(u8({}, {1})).attr("pads", I64{1, 1, 1, 1})
                  .out({DType::kInt32}),
              DType::kInt32, {1, 1, 4, 4}, {1, 3, 5, 3, 5, 12, 16, 9, 11, 24, 28, 15, 7, 15, 17, 9});
  expect_error(SingleOp(10, "ConvInteger").in(x).in(u8({2, 1, 2, 2}, U8(8, 1))).skip().in(u8({3}, {1, 2, 3})).run({DType::kInt32}),
               "w_zero_point must be a scalar or a 1-D tensor of 2 (the output channels of w uint8 [2,1,2,2])");
  expect_error(SingleOp(10, "ConvInteger").in(x).in(u8({1, 2, 2, 2}, U8(8, 1))).run({DType::kInt32}), "channels");
  expect_error(SingleOp(10, "ConvInteger").in(x).in(u8({1, 1, 2, 2}, U8(4, 1))).in(u8({2}, {1, 1})).run({DType::kInt32}),
               "x_zero_point must be a scalar (per-tensor quantization)");
}

TEST(QLinearConv, MatchesRequantizedFloatConvWithBias) {
  std::mt19937 rng(17);
  for (const ConvCase& c : conv_cases())
    for (Weights where : kAllWeights) {
      SCOPED_TRACE(shape_string(c.x) + " * " + shape_string(c.w) + ", " + weights_name(where));
      const int64_t maps = c.w[0], per_map = shape_numel(c.w) / maps;
      const Tensor x = random_8bit(DType::kUInt8, c.x, rng), w = random_8bit(DType::kInt8, c.w, rng);
      const int32_t zx = 100;
      std::vector<float> w_scale(static_cast<std::size_t>(c.per_channel ? maps : 1));
      std::vector<int8_t> w_zp(w_scale.size());
      std::vector<int32_t> bias(static_cast<std::size_t>(maps));
      for (std::size_t m = 0; m < w_scale.size(); ++m) w_scale[m] = 0.01f * static_cast<float>(m + 1), w_zp[m] = static_cast<int8_t>(m * 3) - 4;
      for (std::size_t m = 0; m < bias.size(); ++m) bias[m] = static_cast<int32_t>(m * 700) - 1500;
      const float sx = 0.03f, sy = 0.5f;
      const int32_t zy = 5;
      const I64 per = c.per_channel ? I64{maps} : I64{};
      SingleOp op(10, "QLinearConv");
      op.in(x).in(f32({}, {sx})).in(u8({}, {static_cast<uint8_t>(zx)}));
      add_weight(op, w, where, false).in(f32(per, w_scale));
      add_weight(op, s8(per, w_zp), where, true).in(f32({}, {sy})).in(s8({}, {static_cast<int8_t>(zy)})).in(i32({maps}, bias));
      SingleOp ref(11, "Conv");
      ref.in(shifted_float(x, [&](int64_t) { return zx; }))
          .in(shifted_float(w, [&](int64_t i) { return int32_t{w_zp[c.per_channel ? static_cast<std::size_t>(i / per_map) : 0]}; }));
      Tensor acc = conv_attrs(ref, c).out();
      ASSERT_TRUE(acc.defined());
      // Bias and scale per output map: the requantization of (acc + bias) * sx * w_scale[m] / sy.
      const int64_t out_size = acc.numel() / (acc.dim(0) * maps);
      std::vector<int32_t> want;
      for (int64_t i = 0; i < acc.numel(); ++i) {
        const auto m = static_cast<std::size_t>(i / out_size % maps);
        const float mult = sx * w_scale[c.per_channel ? m : 0] / sy;
        const double v = std::nearbyint((static_cast<double>(acc.data<float>()[i]) + bias[m]) * mult) + zy;
        want.push_back(static_cast<int32_t>(std::clamp(v, -128.0, 127.0)));
      }
      expect_ints(conv_attrs(op, c).out({DType::kInt8}), DType::kInt8, acc.shape(), want);
    }
}

TEST(QLinearConv, RefusesBadBiasAndScales) {
  const Tensor x = u8({1, 1, 3, 3}, U8(9, 3)), w = u8({2, 1, 2, 2}, U8(8, 1));
  auto op = [&] {
    SingleOp o(10, "QLinearConv");
    o.in(x).in(f32({}, {1})).in(u8({}, {0})).in(w);
    return o;
  };
  expect_error(op().in(f32({3}, {1, 1, 1})).in(u8({3}, U8(3, 0))).in(f32({}, {1})).in(u8({}, {0})).run({DType::kUInt8}),
               "w_scale must be a scalar or a 1-D tensor of 2 (the output channels of w uint8 [2,1,2,2])");
  expect_error(op().in(f32({}, {1})).in(u8({}, {0})).in(f32({}, {1})).in(u8({}, {0})).in(i32({3}, {1, 2, 3})).run({DType::kUInt8}),
               "B must be int32 [2], got int32 [3]");
  expect_error(op().in(f32({}, {1})).in(u8({}, {0})).in(f32({2}, {1, 1})).in(u8({2}, {0, 0})).run({DType::kUInt8}),
               "y_scale must be a scalar (per-tensor quantization)");
}

// Zero-size tensors may have other dimensions up to 2^40: each of these walked 2^40 empty batches or images
// (hours; found by the fuzzer) where the output is empty at once.
TEST(IntegerProducts, EmptyOutputsOfHugeZeroSizeBatchesComeAtOnce) {
  constexpr int64_t kHuge = int64_t{1} << 40;
  const Tensor a = Tensor::empty(DType::kUInt8, {kHuge, 0, 3}), b = u8({3, 2}, U8(6, 1));
  EXPECT_EQ(SingleOp(10, "MatMulInteger").in(a).in(b).out({DType::kInt32}).shape(), (I64{kHuge, 0, 2}));
  EXPECT_EQ(SingleOp(10, "QLinearMatMul")
                .in(a).in(f32({}, {1})).in(u8({}, {0}))
                .in(b).in(f32({}, {1})).in(u8({}, {0}))
                .in(f32({}, {1})).in(u8({}, {0}))
                .out({DType::kUInt8}).shape(),
            (I64{kHuge, 0, 2}));
  const Tensor x = Tensor::empty(DType::kUInt8, {kHuge, 0, 5}), w = Tensor::empty(DType::kUInt8, {0, 0, 1});
  EXPECT_EQ(SingleOp(10, "ConvInteger").in(x).in(w).out({DType::kInt32}).shape(), (I64{kHuge, 0, 5}));
  EXPECT_EQ(SingleOp(10, "QLinearConv")
                .in(x).in(f32({}, {1})).in(u8({}, {0}))
                .in(w).in(f32({}, {1})).in(u8({}, {0}))
                .in(f32({}, {1})).in(u8({}, {0}))
                .out({DType::kUInt8}).shape(),
            (I64{kHuge, 0, 5}));
}

// The window geometry (shared with Conv and the pools) worked sizes out unchecked: a stride of 2^63 - 1 with
// SAME padding wrapped ceil(in / stride) round to -1 (an allocation error for [1, 1, -1]; undefined
// behaviour), a dilation of 2^62 wrapped the window's extent. The first is a plain one-window convolution;
// the second an error naming the dimension.
TEST(ConvInteger, HugeStridesAndDilationsDoNotOverflow) {
  const Tensor x = u8({1, 1, 3}, {1, 2, 3}), w = u8({1, 1, 2}, {1, 1});
  expect_ints(SingleOp(10, "ConvInteger").in(x).in(w).attr("strides", I64{INT64_MAX}).attr("auto_pad", "SAME_UPPER")
                  .out({DType::kInt32}),
              DType::kInt32, {1, 1, 1}, {3});
  const auto r = SingleOp(10, "ConvInteger").in(x).in(u8({1, 1, 3}, {1, 1, 1})).attr("dilations", I64{int64_t{1} << 62})
                     .run({DType::kInt32});
  expect_error(r, "node 'n' (ConvInteger)");
  expect_error(r, "the output size in spatial dimension 0 of input [3] overflows int64");
}

// --- types -----------------------------------------------------------------------------------------------

// Types outside the ops' constraints, or zero points of another type than their operand, are refused when
// the model is imported (the schema's type check), naming the operand; the kernels check again at run time.
TEST(QuantizationTypes, RefusedNamingTheOperand) {
  expect_error(SingleOp(13, "QuantizeLinear").in(make_tensor<double>({2}, {1, 2})).in(f32({}, {1})).run({DType::kUInt8}),
               "x typestr: T1, has unsupported type: tensor(double)");
  expect_error(SingleOp(10, "MatMulInteger").in(i32({2, 2}, {1, 2, 3, 4})).in(u8({2, 2}, U8(4, 1))).run({DType::kInt32}),
               "A typestr: T1, has unsupported type: tensor(int32)");
  expect_error(SingleOp(10, "MatMulInteger").in(u8({2, 2}, U8(4, 1))).in(u8({2, 2}, U8(4, 1))).in(s8({}, {1})).run({DType::kInt32}),
               "a_zero_point has inconsistent type tensor(int8)");
  expect_error(SingleOp(13, "DequantizeLinear").in(u8({2}, U8(2, 1))).in(f32({}, {1})).in(s8({}, {1})).run({DType::kFloat32}),
               "x_zero_point has inconsistent type tensor(int8)");
  expect_error(SingleOp(10, "ConvInteger").in(u8({1, 1, 3, 3}, U8(9, 1))).in(u8({1, 1, 2, 2}, U8(4, 1))).in(s8({}, {1})).run({DType::kInt32}),
               "x_zero_point has inconsistent type tensor(int8)");
  expect_error(SingleOp(10, "QLinearConv").in(u8({1, 1, 3, 3}, U8(9, 1))).in(f32({}, {1})).in(u8({}, {0})).in(u8({1, 1, 2, 2}, U8(4, 1)))
                   .in(f32({}, {1})).in(u8({}, {0})).in(f32({}, {1})).in(u8({}, {0})).in(f32({1}, {1})).run({DType::kUInt8}),
               "B typestr: T4, has unsupported type: tensor(float)");
  expect_error(SingleOp(10, "ConvInteger").in(u8({1, 3, 3}, U8(9, 1))).in(u8({1, 1, 2, 2}, U8(4, 1))).run({DType::kInt32}),
               "node 'n' (ConvInteger): X [1,3,3] and W [1,1,2,2] differ in rank");
}

}  // namespace
}  // namespace tandem
