// MaxRoiPool: hand-worked bins, rounding half away from zero, NaN and empty bins, float64 and float16
// against float32 on the same values, and the errors. (tests/data/newer_opsets has cases against ONNX
// Runtime and ONNX's reference semantics.)
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "graph/float16.h"
#include "tests/support/single_op.h"

namespace tandem {
namespace {

using namespace tandem::test;

SingleOp max_roi_pool(const Tensor& x, const Tensor& rois, const I64& pooled, float scale = 1.0f) {
  SingleOp op(17, "MaxRoiPool");
  op.in(x).in(rois).attr("pooled_shape", pooled).attr("spatial_scale", scale);
  return op;
}

TEST(MaxRoiPool, EachBinIsTheLargestElementUnderIt) {
  // X = 0..15 over 4 x 4; the whole plane in 2 x 2 bins: each quadrant's bottom-right element.
  expect_f32(max_roi_pool(iota({1, 1, 4, 4}), f32({1, 5}, {0, 0, 0, 3, 3}), {2, 2}).out(), {1, 1, 2, 2},
             {5, 7, 13, 15});
  // Rows 0..1 (y1 0, y2 1) in 2 bins of 1 row, columns 1..3 in one bin.
  expect_f32(max_roi_pool(iota({1, 1, 4, 4}), f32({1, 5}, {0, 1, 0, 3, 1}), {2, 1}).out(), {1, 1, 2, 1},
             {3, 7});
}

TEST(MaxRoiPool, CoordinatesRoundHalfAwayFromZero) {
  // x1 = y1 = 0.5 and x2 = y2 = 2.5 round to 1 and 3 (rows and columns 1..3: 15); rounding half to even
  // would give 0 and 2 (10).
  expect_f32(max_roi_pool(iota({1, 1, 4, 4}), f32({1, 5}, {0, 0.5f, 0.5f, 2.5f, 2.5f}), {1, 1}).out(), {1, 1, 1, 1},
             {15});
  // Scaled by 0.5: 1 and 5 become 0.5 and 2.5, then 1 and 3 again.
  expect_f32(max_roi_pool(iota({1, 1, 4, 4}), f32({1, 5}, {0, 1, 1, 5, 5}), {1, 1}, 0.5f).out(), {1, 1, 1, 1}, {15});
}

TEST(MaxRoiPool, NegativeElementsNanAndBinsOutsideX) {
  F32 v(16);
  for (std::size_t i = 0; i < 16; ++i) v[i] = -1.0f - static_cast<float>(i);  // all negative
  v[10] = std::nanf("");
  // Whole plane in 2 x 2 bins: top-left's largest is -1 (ONNX Runtime would give FLT_MIN); the bottom-right
  // quadrant holds the NaN. A region wholly outside X gives zeros.
  const Tensor y = max_roi_pool(f32({1, 1, 4, 4}, v), f32({2, 5}, {0, 0, 0, 3, 3, 0, 10, 10, 12, 12}), {2, 2}).out();
  ASSERT_EQ(y.shape(), (I64{2, 1, 2, 2}));
  const float* p = y.data<float>();
  EXPECT_EQ(p[0], -1.0f);
  EXPECT_EQ(p[1], -3.0f);
  EXPECT_EQ(p[2], -9.0f);
  EXPECT_TRUE(std::isnan(p[3]));
  for (int i = 4; i < 8; ++i) EXPECT_EQ(p[i], 0.0f) << i;
}

// The same values in float64 and in float16 (whole numbers and halves, exact in both) give float32's
// output, on random regions over a random batch.
TEST(MaxRoiPool, Float64AndFloat16AgreeWithFloat32) {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> value(-64, 64), coord(-4, 22), batch(0, 2);
  const I64 shape = {3, 2, 9, 11};
  F32 x(static_cast<std::size_t>(shape_numel(shape))), rois;
  for (float& e : x) e = static_cast<float>(value(rng)) / 2;
  for (int r = 0; r < 12; ++r)
    for (int k = 0; k < 5; ++k) rois.push_back(static_cast<float>(k == 0 ? batch(rng) : coord(rng)));
  const Tensor want = max_roi_pool(f32(shape, x), f32({12, 5}, rois), {3, 4}, 0.5f).out();
  ASSERT_TRUE(want.defined());

  const auto as_double = [](const I64& s, const F32& f) {
    return make_tensor<double>(s, std::vector<double>(f.begin(), f.end()));
  };
  const Tensor d = max_roi_pool(as_double(shape, x), as_double({12, 5}, rois), {3, 4}, 0.5f).out();
  const auto as_half = [](const I64& s, const F32& f) {
    Tensor t = Tensor::empty(DType::kFloat16, s);
    for (std::size_t i = 0; i < f.size(); ++i) t.data<uint16_t>()[i] = round_to_narrow_float<5, 10>(f[i]);
    return t;
  };
  const Tensor h = max_roi_pool(as_half(shape, x), as_half({12, 5}, rois), {3, 4}, 0.5f).out();
  ASSERT_EQ(d.shape(), want.shape());
  ASSERT_EQ(h.shape(), want.shape());
  for (int64_t i = 0; i < want.numel(); ++i) {
    EXPECT_EQ(d.data<double>()[i], want.data<float>()[i]) << i;
    EXPECT_EQ(half_to_float(h.data<uint16_t>()[i]), want.data<float>()[i]) << i;
  }
}

// Coordinates far outside X, as ONNX's reference takes them: the extent is the exact difference of the
// rounded ends, rounded once to float (2^24 + 2 here, not 2^24, which would leave the bin empty), and one
// far end moves the bins as it would (only the last of three reaches X).
TEST(MaxRoiPool, CoordinatesFarOutsideX) {
  expect_f32(max_roi_pool(iota({1, 1, 4, 4}), f32({1, 5}, {0, -16777216.0f, 0, 1, 3}), {1, 1}).out(), {1, 1, 1, 1},
             {13});
  expect_f32(max_roi_pool(iota({1, 1, 2, 4}), f32({1, 5}, {0, -0x1p60f, 0, 0x1p59f, 1}), {1, 3}).out(), {1, 1, 1, 3},
             {0, 0, 7});
}

TEST(MaxRoiPool, Errors) {
  const Tensor x = iota({2, 1, 4, 4});
  expect_error(max_roi_pool(x, f32({1, 5}, {2, 0, 0, 1, 1}), {1, 1}).run(),
               "roi 0 has batch index 2.000000, out of range for a batch of 2");
  expect_error(max_roi_pool(x, f32({1, 5}, {-1, 0, 0, 1, 1}), {1, 1}).run(), "out of range for a batch of 2");
  expect_error(max_roi_pool(x, f32({1, 4}, {0, 0, 1, 1}), {1, 1}).run(),
               "rois must be [num_rois, 5] (batch index, x1, y1, x2, y2) of X's type, got float32 [1,4]");
  // Shape inference refuses a ranked X of another rank first; an unranked one reaches the kernel.
  expect_error(max_roi_pool(iota({1, 4, 4}), f32({1, 5}, {0, 0, 0, 1, 1}), {1, 1}).run(),
               "shape inference: Attribute pooled_shape has incorrect length");
  SingleOp unranked(17, "MaxRoiPool");
  unranked.unranked(iota({1, 4, 4})).in(f32({1, 5}, {0, 0, 0, 1, 1})).attr("pooled_shape", I64{1, 1});
  expect_error(unranked.run(), "X must be [N, C, H, W], got float32 [1,4,4]");
  expect_error(max_roi_pool(x, f32({1, 5}, {0, 0, std::nanf(""), 1, 1}), {1, 1}).run(),
               "roi 0 has a value that is not finite");
  expect_error(max_roi_pool(x, f32({1, 5}, {0, 0, 0, 3e38f, 1}), {1, 1}, 10.0f).run(),
               "roi 0 has a value that is not finite (or is not once scaled)");
  expect_error(max_roi_pool(x, f32({1, 5}, {0, 0, 0, 1, 1}), {0, 1}).run(),
               "pooled_shape must be two sides in [1, 65536], got [0,1]");
  expect_error(max_roi_pool(x, f32({1, 5}, {0, 0, 0, 1, 1}), {1, 1, 1}).run(), "pooled_shape has incorrect length");
  expect_error(max_roi_pool(x, f32({1, 5}, {0, 0, 0, 1, 1}), {1, 1}, INFINITY).run(), "spatial_scale must be finite");
}

}  // namespace
}  // namespace tandem
