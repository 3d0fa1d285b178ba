// MaxRoiPool (Fast R-CNN's RoI pooling): each region [batch, x1, y1, x2, y2] of `rois`, scaled by
// spatial_scale and rounded half away from zero to whole pixels, is divided into pooled_shape bins, and
// each bin is the largest element of X under it, per channel; a bin clipped away entirely is 0.
//
// As ONNX's reference defines it: coordinates and bin edges in float32 (float64 for float64 X), a region
// of no extent made 1 x 1, bin [floor(i * size), ceil((i + 1) * size)) offset by the region's start and
// clipped to X, a NaN under a bin making it NaN (numpy's max). ONNX Runtime starts each bin's max at
// FLT_MIN, the smallest positive float, so a bin of negative elements comes out as 1.2e-38 there; the
// reference and this kernel give the largest element.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/element_types.h"
#include "runtime_cpu/kernels/elementwise_kernels.h"
#include "runtime_cpu/kernels/register.h"
#include "runtime_cpu/kernels/tensor_ops.h"

namespace tandem::cpu {
namespace {

using RoiPoolTypes = TypeList<float, double, Half, BFloat16>;

// One axis of a bin: [start, end) in X's pixels, clipped to [0, size].
struct Span {
  int64_t start = 0, end = 0;
};

// The bins of one axis of a region: `first` and `last` its rounded scaled coordinates, in C (float, or
// double for float64 X) as the reference computes them.
template <class C>
std::vector<Span> bin_spans(C first, C last, int64_t bins, int64_t size) {
  // Rounded coordinates are whole numbers: their difference is taken in double (exact below 2^53, as the
  // reference's integers), made at least 1 (a region of no extent is 1 x 1), then rounded once to C.
  const double lo = static_cast<double>(first), hi = static_cast<double>(last);
  const C extent = static_cast<C>(std::max(hi - lo + 1.0, 1.0));
  const C bin = extent / static_cast<C>(bins);
  std::vector<Span> spans(static_cast<std::size_t>(bins));
  // An edge of an infinite extent (a float region wider than float's range) can be NaN: taken as 0.
  const auto clip = [&](double v) {
    return std::isnan(v) ? int64_t{0} : static_cast<int64_t>(std::clamp(v, 0.0, static_cast<double>(size)));
  };
  for (int64_t i = 0; i < bins; ++i) {
    // The edges' products in C, the offset added in double, as the reference does.
    const double start = static_cast<double>(std::floor(static_cast<C>(i) * bin)) + lo;
    const double end = static_cast<double>(std::ceil(static_cast<C>(i + 1) * bin)) + lo;
    spans[static_cast<std::size_t>(i)] = {clip(start), clip(end)};
  }
  return spans;
}

class MaxRoiPoolKernel final : public Kernel {
 public:
  MaxRoiPoolKernel(int64_t pooled_h, int64_t pooled_w, float scale)
      : pooled_h_(pooled_h), pooled_w_(pooled_w), scale_(scale) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, ew::required_input(ctx, 0));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* rois, ew::required_input(ctx, 1));
    if (x->rank() != 4) return ctx.error("X must be [N, C, H, W], got " + x->describe());
    if (rois->dtype() != x->dtype() || rois->rank() != 2 || rois->dim(1) != 5)
      return ctx.error("rois must be [num_rois, 5] (batch index, x1, y1, x2, y2) of X's type, got " +
                       rois->describe());
    const int64_t n = x->dim(0), channels = x->dim(1), height = x->dim(2), width = x->dim(3);
    const int64_t num_rois = rois->dim(0);
    const std::vector<int64_t> out_shape = {num_rois, channels, pooled_h_, pooled_w_};
    TANDEM_RETURN_IF_ERROR(check_output_size(ctx, out_shape, x->dtype()));

    std::string failure;  // set by the loop below when a region is malformed
    const bool known = dispatch(x->dtype(), RoiPoolTypes{}, [&](auto tag) {
      using T = typename decltype(tag)::type;
      using Tr = ElementTraits<T>;
      using C = std::conditional_t<std::is_same_v<T, double>, double, float>;
      T* y = ctx.allocate_output(0, x->dtype(), out_shape).data<T>();
      const T* px = x->data<T>();
      const T* pr = rois->data<T>();
      const C scale = static_cast<C>(scale_);
      for (int64_t r = 0; r < num_rois; ++r) {
        C roi[5];
        for (int k = 0; k < 5; ++k) roi[k] = static_cast<C>(Tr::load(pr[r * 5 + k]));
        for (int k = 0; k < 5; ++k)
          if (!std::isfinite(roi[k]) || !std::isfinite(k == 0 ? roi[k] : roi[k] * scale)) {
            failure = "roi " + std::to_string(r) + " has a value that is not finite (or is not once scaled)";
            return;
          }
        const double batch = std::trunc(static_cast<double>(roi[0]));
        if (batch < 0 || batch >= static_cast<double>(n)) {
          failure = "roi " + std::to_string(r) + " has batch index " + std::to_string(static_cast<double>(roi[0])) +
                    ", out of range for a batch of " + std::to_string(n);
          return;
        }
        const auto b = static_cast<int64_t>(batch);
        const std::vector<Span> rows = bin_spans<C>(std::round(roi[2] * scale), std::round(roi[4] * scale), pooled_h_, height);
        const std::vector<Span> cols = bin_spans<C>(std::round(roi[1] * scale), std::round(roi[3] * scale), pooled_w_, width);
        for (int64_t ch = 0; ch < channels; ++ch) {
          const T* plane = px + (b * channels + ch) * height * width;
          T* out = y + (r * channels + ch) * pooled_h_ * pooled_w_;
          for (int64_t ph = 0; ph < pooled_h_; ++ph)
            for (int64_t pw = 0; pw < pooled_w_; ++pw) {
              const Span& sh = rows[static_cast<std::size_t>(ph)];
              const Span& sw = cols[static_cast<std::size_t>(pw)];
              T& o = out[ph * pooled_w_ + pw];
              if (sh.end <= sh.start || sw.end <= sw.start) {
                o = Tr::store(static_cast<compute_t<T>>(0));
                continue;
              }
              // The largest element, or NaN when one is (an element of X, so stored exactly).
              T best = plane[sh.start * width + sw.start];
              auto largest = Tr::load(best);
              for (int64_t h = sh.start; h < sh.end; ++h)
                for (int64_t w = sw.start; w < sw.end; ++w) {
                  const T v = plane[h * width + w];
                  const auto value = Tr::load(v);
                  if (!std::isnan(largest) && (std::isnan(value) || value > largest)) {
                    best = v;
                    largest = value;
                  }
                }
              o = best;
            }
        }
      }
    });
    if (!failure.empty()) return ctx.error(failure);
    return known ? Status::ok() : ew::unsupported(ctx, "X", *x, RoiPoolTypes{});
  }

 private:
  int64_t pooled_h_, pooled_w_;
  float scale_;
};

Result<KernelPtr> make_max_roi_pool(const KernelInit& init) {
  const Node& node = init.node();
  if (!node.attribute("pooled_shape")) return init.error("pooled_shape is required");
  const std::vector<int64_t> pooled = attr_ints(node, "pooled_shape");
  constexpr int64_t kMaxSide = int64_t{1} << 16;
  if (pooled.size() != 2 || pooled[0] < 1 || pooled[1] < 1 || pooled[0] > kMaxSide || pooled[1] > kMaxSide)
    return init.error("pooled_shape must be two sides in [1, 65536], got " + shape_string(pooled));
  const float scale = attr_float(node, "spatial_scale", 1.0f);
  if (!std::isfinite(scale)) return init.error("spatial_scale must be finite");
  return KernelPtr(new MaxRoiPoolKernel(pooled[0], pooled[1], scale));
}

}  // namespace

void register_max_roi_pool_kernels(KernelRegistry& r) { r.add("MaxRoiPool", make_max_roi_pool); }

}  // namespace tandem::cpu
