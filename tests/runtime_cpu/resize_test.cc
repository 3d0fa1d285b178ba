// Resize (opsets 10, 13, 18) and Upsample (7, 9) through the real pipeline, beyond ONNX's backend cases:
// every nearest_mode and coordinate_transformation_mode, cubic with another coefficient and
// exclude_outside, tf_crop_and_resize's extrapolation, opset 18's antialias, axes and
// keep_aspect_ratio_policy, integer types, and the errors. Expected values come from an independent Python
// transcription of ONNX's reference algorithm (per-axis neighbours of the mapped coordinate in an
// edge-padded row, weighted by the mode's coefficients; antialias coefficients from ONNX 1.13's reference).
#include <gtest/gtest.h>

#include <limits>

#include "tests/support/single_op.h"

namespace tandem {
namespace {

using namespace tandem::test;

// (i % 7) * 1.5 - 2 over a [3, 5] grid.
Tensor grid(I64 shape = {3, 5}) {
  F32 v(15);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i % 7) * 1.5f - 2.0f;
  return f32(std::move(shape), v);
}

void near(const Tensor& t, const I64& shape, const std::vector<double>& want) { expect_near(t, shape, want, 1e-5, 2e-5); }

TEST(Resize, NearestModesAndCoordinateTransforms) {
  near(SingleOp(13, "Resize").in(grid()).skip().in(f32({2}, {0.7f, 0.5f})).attr("nearest_mode", "ceil").out(), {2, 2},
       {7, -0.5, 4, 7});
  // Rows hit exact halves (x / 2): round_prefer_ceil and round_prefer_floor differ there.
  near(SingleOp(13, "Resize").in(grid()).skip().in(f32({2}, {2.0f, 1.7f})).attr("nearest_mode", "round_prefer_ceil")
           .attr("coordinate_transformation_mode", "asymmetric").out(),
       {6, 8}, {-2, -0.5, -0.5, 1, 1, 2.5, 4, 4, 5.5, 7, 7, -2, -2, -0.5, 1, 1, 5.5, 7, 7, -2, -2, -0.5, 1, 1,
                2.5, 4, 4, 5.5, 5.5, 7, -2, -2, 2.5, 4, 4, 5.5, 5.5, 7, -2, -2, 2.5, 4, 4, 5.5, 5.5, 7, -2, -2});
  near(SingleOp(13, "Resize").in(grid()).skip().in(f32({2}, {2.0f, 1.7f}))
           .attr("coordinate_transformation_mode", "asymmetric").out(),
       {6, 8}, {-2, -0.5, -0.5, 1, 1, 2.5, 4, 4, -2, -0.5, -0.5, 1, 1, 2.5, 4, 4, 5.5, 7, 7, -2, -2, -0.5, 1, 1,
                5.5, 7, 7, -2, -2, -0.5, 1, 1, 2.5, 4, 4, 5.5, 5.5, 7, -2, -2, 2.5, 4, 4, 5.5, 5.5, 7, -2, -2});
  near(SingleOp(11, "Resize").in(grid()).in(f32({0}, {})).in(f32({2}, {2.0f, 0.8f})).attr("nearest_mode", "floor")
           .attr("coordinate_transformation_mode", "tf_half_pixel_for_nn").out(),
       {6, 4}, {-2, -0.5, 2.5, 4, -2, -0.5, 2.5, 4, 5.5, 7, -0.5, 1, 5.5, 7, -0.5, 1, 2.5, 4, 7, -2, 2.5, 4, 7, -2});
}

TEST(Resize, LinearAndCubic) {
  near(SingleOp(13, "Resize").in(grid()).skip().skip().in(i64({2}, {1, 7})).attr("mode", "linear")
           .attr("coordinate_transformation_mode", "pytorch_half_pixel").out(),
       {1, 7}, {-2.0, -1.142857, -0.071429, 1.0, 2.071429, 3.142857, 4.0});
  near(SingleOp(13, "Resize").in(grid()).skip().in(f32({2}, {1.7f, 0.6f})).attr("mode", "cubic")
           .attr("cubic_coeff_a", -0.5f).attr("exclude_outside", int64_t{1}).out(),
       {5, 3}, {-2.243939, 1.23124, 3.869171, 1.101704, -0.306998, 2.65088, 6.141828, -2.054685, 0.688536, 4.604141,
                2.35354, 0.42314, 2.661617, 5.947163, 0.528315});
  near(SingleOp(13, "Resize").in(grid()).skip().skip().in(i64({2}, {5, 3})).attr("mode", "cubic")
           .attr("coordinate_transformation_mode", "align_corners").out(),
       {5, 3}, {-2.0, 1.0, 4.0, 2.03125, -1.203125, 2.78125, 5.5, -2.0, 1.0, 4.703125, 1.46875, -0.78125, 2.5, 5.5, -2.0});
}

TEST(Resize, TfCropAndResizeExtrapolates) {
  near(SingleOp(13, "Resize").in(grid()).in(f32({4}, {0.2f, -0.3f, 1.1f, 0.9f})).skip().in(i64({2}, {4, 3}))
           .attr("mode", "linear").attr("coordinate_transformation_mode", "tf_crop_and_resize")
           .attr("extrapolation_value", 9.5f).out(),
       {4, 3}, {9.5, 1.96, 2.2, 9.5, 5.2, 0.4, 9.5, 4.66, 1.12, 9.5, 9.5, 9.5});
  near(SingleOp(13, "Resize").in(grid()).in(f32({4}, {-0.4f, 0.1f, 0.8f, 1.2f})).skip().in(i64({2}, {3, 4}))
           .attr("coordinate_transformation_mode", "tf_crop_and_resize").attr("extrapolation_value", -1.0f).out(),
       {3, 4}, {-1, -1, -1, -1, -2, 1, 2.5, -1, 2.5, 5.5, 7, -1});
  // A NaN in roi maps nowhere: every element it touches is the extrapolation value.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  near(SingleOp(13, "Resize").in(grid()).in(f32({4}, {nan, 0, 1, 1})).skip().in(i64({2}, {2, 2}))
           .attr("mode", "cubic").attr("coordinate_transformation_mode", "tf_crop_and_resize")
           .attr("extrapolation_value", 3.0f).out(),
       {2, 2}, {3, 3, 3, 3});
}

TEST(Resize, Opset18AntialiasAxesAndAspectRatio) {
  near(SingleOp(18, "Resize").in(grid()).skip().in(f32({2}, {0.6f, 0.4f})).attr("mode", "linear")
           .attr("antialias", int64_t{1}).out(),
       {1, 2}, {1.1875, 1.7125});
  near(SingleOp(18, "Resize").in(grid()).skip().in(f32({2}, {0.7f, 0.45f})).attr("mode", "cubic")
           .attr("antialias", int64_t{1}).out(),
       {2, 2}, {0.760566, 1.13969, 4.684187, 2.431909});
  near(SingleOp(18, "Resize").in(grid()).skip().in(f32({2}, {0.5f, 0.6f})).attr("mode", "cubic")
           .attr("antialias", int64_t{1}).attr("cubic_coeff_a", -0.5f).attr("exclude_outside", int64_t{1}).out(),
       {1, 3}, {2.510297, 1.210247, 1.810359});
  // Rows downscaled 3 -> 1 (antialiased), columns upscaled (plain linear).
  near(SingleOp(18, "Resize").in(grid()).skip().skip().in(i64({2}, {1, 7})).attr("mode", "linear")
           .attr("antialias", int64_t{1}).attr("coordinate_transformation_mode", "pytorch_half_pixel").out(),
       {1, 7}, {0.166667, 1.02381, 1.428571, 0.833333, 1.904762, 2.47619, 2.666667});
  // Upscaling both axes: antialias changes nothing (the reference's values with and without it agree).
  near(SingleOp(18, "Resize").in(grid()).skip().skip().in(i64({2}, {4, 7})).attr("mode", "linear")
           .attr("antialias", int64_t{1}).out(),
       {4, 7}, {-2.0, -1.142857, -0.071429, 1.0, 2.071429, 3.142857, 4.0, 2.6875, 3.544643, 2.741071, -0.875, 0.196429,
                1.267857, 2.125, 4.375, 5.232143, 4.428571, 0.8125, 1.883929, 1.267857, -0.125, 2.5, 3.357143, 4.428571,
                5.5, 6.571429, 3.142857, -2.0});
  // not_larger: sizes [6, 6] -> one scale min(6/3, 6/5) = 1.2 -> [4, 6]; not_smaller: [2, 4] -> 0.8 -> [2, 4].
  near(SingleOp(18, "Resize").in(grid()).skip().skip().in(i64({2}, {6, 6})).attr("mode", "linear")
           .attr("keep_aspect_ratio_policy", "not_larger").out(),
       {4, 6}, {-2.0, -0.875, 0.375, 1.625, 2.875, 4.0, 3.625, 4.75, 1.40625, -0.625, 0.625, 1.75,
                3.75, 4.875, 3.572917, 3.0, 2.71875, -0.75, 2.5, 3.625, 4.875, 6.125, 4.75, -2.0});
  near(SingleOp(18, "Resize").in(grid()).skip().skip().in(i64({2}, {2, 4})).attr("mode", "cubic")
           .attr("keep_aspect_ratio_policy", "not_smaller").out(),
       {2, 4}, {-1.031835, 0.486735, 1.411925, 3.564677, 5.464974, 4.513444, 1.163524, -0.156636});
  // axes: the same nearest resize as above over the first two axes of a [3, 5, 1] tensor.
  near(SingleOp(18, "Resize").in(grid({3, 5, 1})).skip().in(f32({2}, {2.0f, 1.7f})).attr("axes", I64{0, -2})
           .attr("nearest_mode", "round_prefer_ceil").attr("coordinate_transformation_mode", "asymmetric").out(),
       {6, 8, 1}, {-2, -0.5, -0.5, 1, 1, 2.5, 4, 4, 5.5, 7, 7, -2, -2, -0.5, 1, 1, 5.5, 7, 7, -2, -2, -0.5, 1, 1,
                2.5, 4, 4, 5.5, 5.5, 7, -2, -2, 2.5, 4, 4, 5.5, 5.5, 7, -2, -2, 2.5, 4, 4, 5.5, 5.5, 7, -2, -2});
}

TEST(Resize, Opset10AndUpsample) {
  // The backend tests of Resize-10: nearest rounds down when upscaling and up when downscaling.
  expect_f32(SingleOp(10, "Resize").in(f32({1, 1, 2, 4}, {1, 2, 3, 4, 5, 6, 7, 8})).in(f32({4}, {1, 1, 0.6f, 0.6f})).out(),
             {1, 1, 1, 2}, {1, 3});
  expect_f32(SingleOp(10, "Resize").in(f32({1, 1, 2, 2}, {1, 2, 3, 4})).in(f32({4}, {1, 1, 2, 3})).out(), {1, 1, 4, 6},
             {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4});
  // Linear is asymmetric: Upsample's spec example.
  const F32 up = {1, 1.5f, 2, 2, 2, 2.5f, 3, 3, 3, 3.5f, 4, 4, 3, 3.5f, 4, 4};
  expect_f32(SingleOp(10, "Resize").in(f32({2, 2}, {1, 2, 3, 4})).in(f32({2}, {2, 2})).attr("mode", "linear").out(),
             {4, 4}, up);
  expect_f32(SingleOp(9, "Upsample").in(f32({2, 2}, {1, 2, 3, 4})).in(f32({2}, {2, 2})).attr("mode", "linear").out(),
             {4, 4}, up);
  expect_f32(SingleOp(7, "Upsample").in(f32({2, 2}, {1, 2, 3, 4})).attr("scales", F32{2, 2}).attr("mode", "linear").out(),
             {4, 4}, up);
  expect_f32(SingleOp(7, "Upsample").in(f32({1, 2}, {1, 2})).attr("scales", F32{1, 3}).out(), {1, 6}, {1, 1, 1, 2, 2, 2});
}

TEST(Resize, IntegerAndBoolTypes) {
  // Nearest copies any type exactly; linear over integers truncates toward zero (0, 63.75, 191.25, 255).
  Tensor n = SingleOp(13, "Resize").in(i64({2}, {-7, int64_t{1} << 60})).skip().in(f32({1}, {2})).out();
  EXPECT_EQ(values_of<int64_t>(n), (I64{-7, -7, int64_t{1} << 60, int64_t{1} << 60}));
  Tensor u = SingleOp(13, "Resize").in(make_tensor<uint8_t>({2}, {0, 255})).skip().in(f32({1}, {2})).attr("mode", "linear").out();
  EXPECT_EQ(values_of<uint8_t>(u), (std::vector<uint8_t>{0, 63, 191, 255}));
  Tensor b = SingleOp(13, "Resize").in(make_bool_tensor({2}, {true, false})).skip().in(f32({1}, {1.5f})).out();
  EXPECT_EQ(values_of<uint8_t>(b), (std::vector<uint8_t>{1, 1, 0}));
  expect_error(SingleOp(13, "Resize").in(make_bool_tensor({2}, {true, false})).skip().in(f32({1}, {2})).attr("mode", "linear").run(),
               "linear mode over bool is not supported");
}

// An output with no elements is made at once, however long its other axes: the per-axis maps of output
// positions were built first, 72 GB for an axis of 3e9 (std::bad_alloc; found by fuzzing).
TEST(Resize, AnEmptyOutputBuildsNoMapsForItsLongAxes) {
  for (const char* mode : {"nearest", "linear", "cubic"}) {
    auto y = SingleOp(13, "Resize").in(f32({0, 2}, {})).skip().skip().in(i64({2}, {0, 3000000000})).attr("mode", mode).run();
    ASSERT_TRUE(y.is_ok()) << mode << ": " << y.status().message();
    EXPECT_EQ((*y)[0].shape(), (I64{0, 3000000000})) << mode;
  }
}

TEST(Resize, Errors) {
  const Tensor x = grid();
  expect_error(SingleOp(13, "Resize").in(x).skip().in(f32({2}, {2, 2})).attr("mode", "bicubic").run(),
               "mode 'bicubic' is not supported (nearest, linear, cubic are)");
  expect_error(SingleOp(13, "Resize").in(x).skip().in(f32({2}, {2, 2})).attr("coordinate_transformation_mode", "half_pixel_symmetric").run(),
               "coordinate_transformation_mode 'half_pixel_symmetric' is not supported");
  expect_error(SingleOp(13, "Resize").in(x).skip().in(f32({2}, {2, 2})).attr("nearest_mode", "round").run(),
               "nearest_mode 'round' is not supported");
  expect_error(SingleOp(18, "Resize").in(x).skip().skip().in(i64({2}, {2, 2})).attr("keep_aspect_ratio_policy", "fit").run(),
               "keep_aspect_ratio_policy 'fit' is not supported");
  expect_error(SingleOp(13, "Resize").in(x).skip().in(f32({3}, {2, 2, 2})).run(), "scales has 3 entries for 2 axes");
  expect_error(SingleOp(13, "Resize").in(x).skip().in(f32({2}, {2, 0})).run(), "must be positive");
  expect_error(SingleOp(13, "Resize").in(x).skip().in(f32({2}, {2, 2})).in(i64({2}, {4, 4})).run(), "both scales and sizes");
  expect_error(SingleOp(13, "Resize").in(x).skip().in(f32({2}, {2, 2})).attr("coordinate_transformation_mode", "tf_crop_and_resize").run(),
               "tf_crop_and_resize needs roi");
  expect_error(SingleOp(9, "Upsample").in(x).in(f32({2}, {1, 0.5f})).run(), "must be >= 1");
}

}  // namespace
}  // namespace tandem
