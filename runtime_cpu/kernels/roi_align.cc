// RoiAlign: for each region (x1, y1, x2, y2, scaled by spatial_scale) an output_height x output_width grid of
// bins; each bin samples a regular sampling_ratio^2 grid of points (0: ceil(bin size) per axis, adaptive) by
// bilinear interpolation and pools them. The sample positions and weights are worked out once per region
// and shared by its channels.
//
// As ONNX's reference (a port of ONNX Runtime's) defines it: half_pixel (opset 16's default) shifts the
// scaled corners by -0.5; output_half_pixel (and opset 10, which has no such attribute) does not, and
// stretches regions smaller than 1 to 1. A sample point beyond [-1, H] x [-1, W] contributes 0 (and still
// counts in the average); between -1 and 0, or H - 1 and H, it is clamped to the edge. 'avg' averages the
// interpolated values; 'max' takes, over the bin's samples, the largest of the four weighted corner terms
// w_i * v_i of each sample, which is what the reference and ONNX Runtime compute (its departure from
// "max of interpolated values" is onnx/onnx#4764). Arithmetic is in double.
#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/element_types.h"
#include "runtime_cpu/kernels/elementwise_kernels.h"
#include "runtime_cpu/kernels/register.h"
#include "runtime_cpu/kernels/tensor_ops.h"

namespace tandem::cpu {
namespace {

using RoiTypes = TypeList<float, double, Half, BFloat16>;

// One sample point: four pixel offsets in the H x W plane and their bilinear weights (all 0 outside).
struct Sample {
  std::array<int64_t, 4> pos{};
  std::array<double, 4> w{};
};

Sample sample_at(double y, double x, int64_t height, int64_t width) {
  Sample s;
  if (y < -1.0 || y > static_cast<double>(height) || x < -1.0 || x > static_cast<double>(width)) return s;
  y = std::max(y, 0.0);
  x = std::max(x, 0.0);
  int64_t y_low = static_cast<int64_t>(y), x_low = static_cast<int64_t>(x), y_high, x_high;
  if (y_low >= height - 1) {
    y_high = y_low = height - 1;
    y = static_cast<double>(y_low);
  } else {
    y_high = y_low + 1;
  }
  if (x_low >= width - 1) {
    x_high = x_low = width - 1;
    x = static_cast<double>(x_low);
  } else {
    x_high = x_low + 1;
  }
  const double ly = y - static_cast<double>(y_low), lx = x - static_cast<double>(x_low);
  const double hy = 1 - ly, hx = 1 - lx;
  s.pos = {y_low * width + x_low, y_low * width + x_high, y_high * width + x_low, y_high * width + x_high};
  s.w = {hy * hx, hy * lx, ly * hx, ly * lx};
  return s;
}

// Samples per region beyond which it is refused: an adaptive grid over a huge region would take absurd time
// and memory.
constexpr double kMaxSamples = double(1 << 22);

class RoiAlignKernel final : public Kernel {
 public:
  RoiAlignKernel(bool max_mode, bool half_pixel, int64_t out_h, int64_t out_w, int64_t sampling_ratio, float scale)
      : max_mode_(max_mode), half_pixel_(half_pixel), out_h_(out_h), out_w_(out_w), sampling_ratio_(sampling_ratio),
        scale_(scale) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, ew::required_input(ctx, 0));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* rois, ew::required_input(ctx, 1));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* bi, ew::required_input(ctx, 2));
    if (x->rank() != 4) return ctx.error("X must be [N, C, H, W], got " + x->describe());
    if (rois->dtype() != x->dtype() || rois->rank() != 2 || rois->dim(1) != 4)
      return ctx.error("rois must be [num_rois, 4] of X's type, got " + rois->describe());
    if (bi->dtype() != DType::kInt64 || bi->rank() != 1 || bi->dim(0) != rois->dim(0))
      return ctx.error("batch_indices must be int64 [num_rois] (" + std::to_string(rois->dim(0)) + "), got " +
                       bi->describe());
    const int64_t n = x->dim(0), channels = x->dim(1), height = x->dim(2), width = x->dim(3);
    const int64_t num_rois = rois->dim(0);
    for (int64_t r = 0; r < num_rois; ++r) {
      const int64_t b = bi->data<int64_t>()[r];
      if (b < 0 || b >= n)
        return ctx.error("batch_indices[" + std::to_string(r) + "] = " + std::to_string(b) +
                         " is out of range for a batch of " + std::to_string(n));
    }
    if (num_rois > 0 && channels > 0 && height * width == 0)
      return ctx.error("X " + x->describe() + " has no pixels to sample");

    const std::vector<int64_t> out_shape = {num_rois, channels, out_h_, out_w_};
    TANDEM_RETURN_IF_ERROR(check_output_size(ctx, out_shape, x->dtype()));
    std::string failure;  // set by the loop below when a region cannot be sampled
    const bool known = dispatch(x->dtype(), RoiTypes{}, [&](auto tag) {
      using T = typename decltype(tag)::type;
      using Tr = ElementTraits<T>;
      T* y = ctx.allocate_output(0, x->dtype(), out_shape).data<T>();
      const T* px = x->data<T>();
      const T* pr = rois->data<T>();
      std::vector<Sample> samples;
      for (int64_t r = 0; r < num_rois; ++r) {
        const double offset = half_pixel_ ? 0.5 : 0.0;
        std::array<double, 4> c{};
        for (int k = 0; k < 4; ++k) c[k] = static_cast<double>(Tr::load(pr[r * 4 + k])) * scale_ - offset;
        if (!std::all_of(c.begin(), c.end(), [](double v) { return std::isfinite(v); })) {
          failure = "roi " + std::to_string(r) + " has a coordinate that is not finite";
          return;
        }
        double roi_w = c[2] - c[0], roi_h = c[3] - c[1];
        if (!half_pixel_) roi_w = std::max(roi_w, 1.0), roi_h = std::max(roi_h, 1.0);
        const double bin_h = roi_h / static_cast<double>(out_h_), bin_w = roi_w / static_cast<double>(out_w_);
        const double grid_hd = sampling_ratio_ > 0 ? static_cast<double>(sampling_ratio_) : std::ceil(bin_h);
        const double grid_wd = sampling_ratio_ > 0 ? static_cast<double>(sampling_ratio_) : std::ceil(bin_w);
        // A region of no (or negative) extent has no samples: its bins are 0. Decided before the size check
        // and the conversions, since a negative extent's grid may be any size (two negative ones multiplied
        // to a spurious "too many samples", one beyond int64 made an undefined conversion).
        const bool sampled = grid_hd > 0 && grid_wd > 0;
        if (sampled && grid_hd * grid_wd * static_cast<double>(out_h_ * out_w_) > kMaxSamples) {
          failure = "roi " + std::to_string(r) + " would take " + std::to_string(grid_hd) + " x " +
                    std::to_string(grid_wd) + " samples in each of its " + std::to_string(out_h_ * out_w_) +
                    " bins (more than 2^22 in all)";
          return;
        }
        const int64_t grid_h = sampled ? static_cast<int64_t>(grid_hd) : 0;
        const int64_t grid_w = sampled ? static_cast<int64_t>(grid_wd) : 0;
        const double count = static_cast<double>(std::max<int64_t>(grid_h * grid_w, 1));
        samples.clear();
        for (int64_t ph = 0; ph < out_h_; ++ph)
          for (int64_t pw = 0; pw < out_w_; ++pw)
            for (int64_t iy = 0; iy < grid_h; ++iy)
              for (int64_t ix = 0; ix < grid_w; ++ix)
                samples.push_back(sample_at(c[1] + static_cast<double>(ph) * bin_h +
                                                (static_cast<double>(iy) + 0.5) * bin_h / static_cast<double>(grid_h),
                                            c[0] + static_cast<double>(pw) * bin_w +
                                                (static_cast<double>(ix) + 0.5) * bin_w / static_cast<double>(grid_w),
                                            height, width));
        const int64_t per_bin = grid_h * grid_w;
        const int64_t b = bi->data<int64_t>()[r];
        for (int64_t ch = 0; ch < channels; ++ch) {
          const T* plane = px + (b * channels + ch) * height * width;
          T* out = y + (r * channels + ch) * out_h_ * out_w_;
          for (int64_t bin = 0; bin < out_h_ * out_w_; ++bin) {
            double acc = 0;
            for (int64_t s = 0; s < per_bin; ++s) {
              const Sample& sm = samples[static_cast<std::size_t>(bin * per_bin + s)];
              std::array<double, 4> t{};
              for (int k = 0; k < 4; ++k) t[k] = sm.w[k] * static_cast<double>(Tr::load(plane[sm.pos[k]]));
              if (max_mode_) {
                const double v = std::max({t[0], t[1], t[2], t[3]});
                acc = s == 0 ? v : std::max(acc, v);
              } else {
                acc += t[0] + t[1] + t[2] + t[3];
              }
            }
            out[bin] = Tr::store(static_cast<compute_t<T>>(max_mode_ ? acc : acc / count));
          }
        }
      }
    });
    if (!failure.empty()) return ctx.error(failure);
    return known ? Status::ok() : ew::unsupported(ctx, "X", *x, RoiTypes{});
  }

 private:
  bool max_mode_, half_pixel_;
  int64_t out_h_, out_w_, sampling_ratio_;
  double scale_;
};

Result<KernelPtr> make_roi_align(const KernelInit& init) {
  const Node& node = init.node();
  const std::string mode = attr_string(node, "mode", "avg");
  if (mode != "avg" && mode != "max") return init.error("mode '" + mode + "' is not one of avg, max");
  // Opset 10 has no coordinate_transformation_mode and behaves as output_half_pixel.
  const std::string ctm =
      node.opset >= 16 ? attr_string(node, "coordinate_transformation_mode", "half_pixel") : "output_half_pixel";
  if (ctm != "half_pixel" && ctm != "output_half_pixel")
    return init.error("coordinate_transformation_mode '" + ctm + "' is not one of half_pixel, output_half_pixel");
  const int64_t oh = attr_int(node, "output_height", 1), ow = attr_int(node, "output_width", 1);
  const int64_t sr = attr_int(node, "sampling_ratio", 0);
  const float scale = attr_float(node, "spatial_scale", 1.0f);
  constexpr int64_t kMaxSide = int64_t{1} << 16;
  if (oh < 1 || ow < 1 || oh > kMaxSide || ow > kMaxSide)
    return init.error("output_height and output_width must be in [1, 65536], got " + std::to_string(oh) + " and " +
                      std::to_string(ow));
  if (sr < 0 || sr > 1024) return init.error("sampling_ratio must be in [0, 1024], got " + std::to_string(sr));
  if (!std::isfinite(scale)) return init.error("spatial_scale must be finite");
  return KernelPtr(new RoiAlignKernel(mode == "max", ctm == "half_pixel", oh, ow, sr, scale));
}

}  // namespace

void register_roi_align_kernels(KernelRegistry& r) { r.add("RoiAlign", make_roi_align); }

}  // namespace tandem::cpu
