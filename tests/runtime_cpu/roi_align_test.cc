// RoiAlign: 'avg' against values computed with torch.nn.functional.grid_sample (torch 1.13, double; border
// padding with align_corners=True interpolates as RoiAlign's edge clamp does, and samples beyond
// [-1, H] x [-1, W] were masked to 0), 'max' on a hand-worked case, both modes on random cases against a
// direct per-sample loop, and the errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "tests/support/single_op.h"

namespace tandem {
namespace {

using namespace tandem::test;

// X[i] = ((i * 7) % 11) / 4 - 1 over [2, 2, 4, 5]; four regions, one reaching past the top left and one
// past the bottom right.
Tensor torch_x() {
  F32 v(80);
  for (int i = 0; i < 80; ++i) v[static_cast<std::size_t>(i)] = static_cast<float>((i * 7) % 11) / 4.0f - 1.0f;
  return f32({2, 2, 4, 5}, v);
}
const F32 kRois = {1, 0.5f, 7, 5, -4, -3, 3, 2, 2, 2, 2.5f, 2.2f, 6, 1, 12, 9.5f};

Tensor roi_align(int64_t opset, const std::string& ctm, int64_t sr) {
  SingleOp op(opset, "RoiAlign");
  op.in(torch_x()).in(f32({4, 4}, kRois)).in(i64({4}, {0, 1, 1, 0}))
      .attr("output_height", int64_t{2}).attr("output_width", int64_t{3}).attr("sampling_ratio", sr)
      .attr("spatial_scale", 0.5f);
  if (!ctm.empty()) op.attr("coordinate_transformation_mode", ctm);
  return op.out();
}

TEST(RoiAlign, AvgMatchesTorchGridSample) {
  const std::vector<double> out_half_adaptive = {
      1.02734375, 0.15625, -0.19921875, -0.55859375, 0.71875, -0.28125, 0.40625, -0.59375, 1.02734375, 0.96875,
      -0.03125, -0.55859375, 0.0, 0.114583333333, -0.190104166667, 0.0, 0.416666666667, -0.192708333333, 0.0,
      -0.231770833333, 0.408854166667, 0.0, -0.297526041667, 0.274739583333, 0.052083333333, 0.40625, 0.760416666667,
      0.072916666667, -0.03125, -0.135416666667, -0.583333333333, 0.0, 0.583333333333, -0.333333333333, 0.25,
      0.833333333333, 0.348958333333, 1.032986111111, 0.0, -0.160590277778, -0.484375, 0.0, 0.315104166667, 0.53125,
      0.0, 0.246527777778, 0.829861111111, 0.0};
  const std::vector<double> out_half_2 = {
      0.7158203125, 0.220703125, -0.0166015625, -0.3330078125, 0.43408203125, 0.02490234375, 0.39013671875,
      -0.26611328125, 0.7158203125, 0.68408203125, 0.02783203125, -0.3330078125, 0.0, 0.114583333333,
      -0.190104166667, 0.0, 0.416666666667, -0.192708333333, 0.0, -0.231770833333, 0.408854166667, 0.0,
      -0.297526041667, 0.274739583333, 0.052083333333, 0.40625, 0.760416666667, 0.072916666667, -0.03125,
      -0.135416666667, -0.583333333333, -0.0, 0.583333333333, -0.333333333333, 0.25, 0.833333333333, 0.341796875,
      1.15234375, 0.0, -0.125, -0.375, 0.0, 0.322265625, 0.53125, 0.0, 0.1875, 0.625, 0.0};
  const std::vector<double> half_adaptive = {
      0.03125, 0.40625, 0.3515625, -0.0078125, 0.3671875, -0.03125, 0.65625, -0.34375, 0.03125, 0.6171875, 0.21875,
      -0.0078125, 0.0, 0.0, 0.0, 0.0, 0.1484375, -0.119791666667, 0.0, 0.0, 0.0, 0.0, -0.2265625, 0.168619791667,
      -0.029166666667, -0.1125, -0.195833333333, -0.004166666667, -0.0875, -0.170833333333, -0.071614583333,
      -0.04609375, -0.020572916667, -0.12109375, -0.10703125, -0.09296875, -0.126736111111, 1.03125, 1.03125,
      0.163194444444, -0.359375, -0.359375, 0.517361111111, 0.28125, 0.28125, -0.586805555556, 1.163194444444,
      1.163194444444};
  std::vector<double> half_2 = half_adaptive;
  const std::vector<double> last_roi_2 = {0.1083984375, 0.89306640625, 0.515625,  0.22314453125, -0.29736328125, -0.181640625,
                                          0.3251953125, 0.30419921875, 0.140625, -0.2421875,     0.9453125,      0.58203125};
  std::copy(last_roi_2.begin(), last_roi_2.end(), half_2.end() - 12);
  const I64 shape = {4, 2, 2, 3};
  expect_near(roi_align(16, "output_half_pixel", 0), shape, out_half_adaptive, 1e-6, 1e-6);
  expect_near(roi_align(10, "", 0), shape, out_half_adaptive, 1e-6, 1e-6);  // opset 10: output_half_pixel
  expect_near(roi_align(16, "output_half_pixel", 2), shape, out_half_2, 1e-6, 1e-6);
  expect_near(roi_align(16, "", 0), shape, half_adaptive, 1e-6, 1e-6);  // opset 16's default: half_pixel
  expect_near(roi_align(16, "half_pixel", 2), shape, half_2, 1e-6, 1e-6);
}

TEST(RoiAlign, MaxTakesTheLargestWeightedCorner) {
  // One sample at (0.5, 0.5): the weights are all 1/4, so max gives 4/4 = 1 where avg gives 2.5.
  const auto run = [](const char* mode) {
    return SingleOp(16, "RoiAlign").in(f32({1, 1, 2, 2}, {1, 2, 3, 4})).in(f32({1, 4}, {0, 0, 1, 1})).in(i64({1}, {0}))
        .attr("coordinate_transformation_mode", "output_half_pixel").attr("sampling_ratio", int64_t{1})
        .attr("mode", mode).out();
  };
  expect_near(run("max"), {1, 1, 1, 1}, {1.0});
  expect_near(run("avg"), {1, 1, 1, 1}, {2.5});
}

// Direct loop: every sample's bilinear value from the four pixels around it, the spec's boundary rules.
std::vector<double> reference(const F32& x, I64 xs, const F32& rois, const I64& bidx, int64_t oh, int64_t ow, int64_t sr,
                              double scale, bool half, bool max_mode) {
  const int64_t c = xs[1], h = xs[2], w = xs[3];
  std::vector<double> out;
  for (std::size_t r = 0; r < bidx.size(); ++r) {
    const double off = half ? 0.5 : 0.0;
    const double x1 = rois[r * 4] * scale - off, y1 = rois[r * 4 + 1] * scale - off;
    double rw = rois[r * 4 + 2] * scale - off - x1, rh = rois[r * 4 + 3] * scale - off - y1;
    if (!half) rw = std::max(rw, 1.0), rh = std::max(rh, 1.0);
    const int64_t gh = sr > 0 ? sr : static_cast<int64_t>(std::ceil(rh / static_cast<double>(oh)));
    const int64_t gw = sr > 0 ? sr : static_cast<int64_t>(std::ceil(rw / static_cast<double>(ow)));
    for (int64_t ch = 0; ch < c; ++ch) {
      const auto px = [&](int64_t yy, int64_t xx) {
        return static_cast<double>(x[static_cast<std::size_t>(((bidx[r] * c + ch) * h + yy) * w + xx)]);
      };
      for (int64_t ph = 0; ph < oh; ++ph)
        for (int64_t pw = 0; pw < ow; ++pw) {
          double sum = 0, best = 0;
          bool first = true;
          for (int64_t iy = 0; iy < gh; ++iy)
            for (int64_t ix = 0; ix < gw; ++ix) {
              double yy = y1 + (static_cast<double>(ph) + (static_cast<double>(iy) + 0.5) / static_cast<double>(gh)) * rh / static_cast<double>(oh);
              double xx = x1 + (static_cast<double>(pw) + (static_cast<double>(ix) + 0.5) / static_cast<double>(gw)) * rw / static_cast<double>(ow);
              double terms[4] = {0, 0, 0, 0};
              if (yy >= -1 && yy <= static_cast<double>(h) && xx >= -1 && xx <= static_cast<double>(w)) {
                yy = std::clamp(yy, 0.0, static_cast<double>(h - 1));
                xx = std::clamp(xx, 0.0, static_cast<double>(w - 1));
                const int64_t y0 = static_cast<int64_t>(yy), x0 = static_cast<int64_t>(xx);
                const int64_t yn = std::min(y0 + 1, h - 1), xn = std::min(x0 + 1, w - 1);
                const double fy = yy - static_cast<double>(y0), fx = xx - static_cast<double>(x0);
                terms[0] = (1 - fy) * (1 - fx) * px(y0, x0);
                terms[1] = (1 - fy) * fx * px(y0, xn);
                terms[2] = fy * (1 - fx) * px(yn, x0);
                terms[3] = fy * fx * px(yn, xn);
              }
              sum += terms[0] + terms[1] + terms[2] + terms[3];
              const double m = *std::max_element(terms, terms + 4);
              best = first ? m : std::max(best, m);
              first = false;
            }
          out.push_back(max_mode ? best : sum / static_cast<double>(std::max<int64_t>(gh * gw, 1)));
        }
    }
  }
  return out;
}

TEST(RoiAlign, RandomAgainstDirectLoop) {
  std::mt19937 gen(23);
  std::uniform_real_distribution<float> val(-2, 2), coord(-3, 14);
  for (const I64& xs : {I64{1, 1, 6, 7}, I64{2, 3, 5, 9}, I64{3, 2, 10, 4}})
    for (int64_t sr : {int64_t{0}, int64_t{1}, int64_t{3}})
      for (bool half : {false, true})
        for (bool max_mode : {false, true}) {
          SCOPED_TRACE(::testing::Message() << "X " << xs[2] << "x" << xs[3] << " sr " << sr << (half ? " half" : "")
                                            << (max_mode ? " max" : " avg"));
          F32 x(static_cast<std::size_t>(shape_numel(xs)));
          for (auto& v : x) v = val(gen);
          const int64_t nr = 5;
          F32 rois;
          I64 bidx;
          for (int64_t r = 0; r < nr; ++r) {
            const float a = coord(gen), b = coord(gen), c = coord(gen), d = coord(gen);
            rois.insert(rois.end(), {std::min(a, b), std::min(c, d), std::max(a, b), std::max(c, d)});
            bidx.push_back(static_cast<int64_t>(gen() % static_cast<unsigned>(xs[0])));
          }
          const Tensor y = SingleOp(16, "RoiAlign").in(f32(xs, x)).in(f32({nr, 4}, rois)).in(i64({nr}, bidx))
                               .attr("output_height", int64_t{3}).attr("output_width", int64_t{2})
                               .attr("sampling_ratio", sr).attr("spatial_scale", 0.75f)
                               .attr("mode", max_mode ? "max" : "avg")
                               .attr("coordinate_transformation_mode", half ? "half_pixel" : "output_half_pixel").out();
          expect_near(y, {nr, xs[1], 3, 2}, reference(x, xs, rois, bidx, 3, 2, sr, 0.75, half, max_mode), 1e-5, 1e-5);
        }
}

// A region of negative extent has no samples and gives 0s, as in ONNX's reference, however large that
// extent: two negative grids multiplied to a spurious "too many samples" error, and one negative grid beside
// a grid past int64 (1e30 wide) was converted to int64 (undefined behaviour).
TEST(RoiAlign, RegionsOfNegativeExtentGiveZerosAtAnySize) {
  for (const F32& roi : {F32{1e9f, 1e9f, 0, 0}, F32{0, 1e30f, 1e30f, 0}}) {
    SCOPED_TRACE(roi[1]);
    expect_f32(SingleOp(16, "RoiAlign").in(iota({1, 1, 3, 3})).in(f32({1, 4}, roi)).in(i64({1}, {0})).out(), {1, 1, 1, 1},
               {0});
  }
}

TEST(RoiAlign, Errors) {
  const auto op = [](const Tensor& rois, const Tensor& bidx) {
    SingleOp s(16, "RoiAlign");
    s.in(iota({2, 1, 3, 3})).in(rois).in(bidx);
    return s;
  };
  expect_error(op(f32({1, 4}, {0, 0, 1, 1}), i64({1}, {2})).run(), "batch_indices[0] = 2 is out of range for a batch of 2");
  expect_error(op(f32({1, 4}, {0, 0, 1, 1}), i64({2}, {0, 0})).run(), "batch_indices must be int64 [num_rois] (1)");
  expect_error(op(f32({1, 3}, {0, 0, 1}), i64({1}, {0})).run(), "rois must be [num_rois, 4]");
  expect_error(op(f32({1, 4}, {0, 0, std::nanf(""), 1}), i64({1}, {0})).run(), "roi 0 has a coordinate that is not finite");
  expect_error(op(f32({1, 4}, {0, 0, 1e9f, 1e9f}), i64({1}, {0})).run(), "samples in each of its 1 bins (more than 2^22");
  expect_error(op(f32({1, 4}, {0, 0, 1, 1}), i64({1}, {0})).attr("mode", "min").run(), "mode 'min' is not one of avg, max");
  expect_error(op(f32({1, 4}, {0, 0, 1, 1}), i64({1}, {0})).attr("coordinate_transformation_mode", "asymmetric").run(),
               "coordinate_transformation_mode 'asymmetric'");
  expect_error(op(f32({1, 4}, {0, 0, 1, 1}), i64({1}, {0})).attr("output_height", int64_t{0}).run(),
               "output_height and output_width must be in [1, 65536]");
}

}  // namespace
}  // namespace tandem
