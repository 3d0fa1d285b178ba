// GridSample (opsets 16 and 20, 4-D): output[n, c, h, w] samples X[n, c] at grid[n, h, w] = (x, y), normalised so
// that -1 and 1 are the centres (align_corners) or the outer edges (otherwise) of the end pixels. Modes
// bilinear, nearest (round half to even) and bicubic (A = -0.75 over 4 x 4 pixels); padding zeros (pixels
// outside read 0), border (coordinates clamped) or reflection (coordinates mirrored at the end pixels'
// centres or outer edges, then clamped), with the same definitions as torch.nn.functional.grid_sample,
// which ONNX's op follows. Opset 20 names the modes linear, nearest and cubic and allows N-D input; tandem
// samples 4-D input only and says so for more. Bicubic pads each of its 16 taps. Arithmetic is in double; a coordinate that is
// NaN or far outside reads as a pixel outside.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/element_types.h"
#include "runtime_cpu/kernels/elementwise_kernels.h"
#include "runtime_cpu/kernels/register.h"

namespace tandem::cpu {
namespace {

using GridTypes = TypeList<float, double, Half>;

enum class Mode { kBilinear, kNearest, kBicubic };
enum class Padding { kZeros, kBorder, kReflection };

// Mirrors v into [low2 / 2, high2 / 2] (bounds given doubled, as both are whole or half pixels).
double reflect(double v, double low2, double high2) {
  if (low2 == high2) return 0;
  const double lo = low2 / 2, span = (high2 - low2) / 2;
  v = std::fabs(v - lo);
  const double extra = std::fmod(v, span);
  const double flips = std::floor(v / span);
  return std::fmod(flips, 2) == 0 ? extra + lo : span - extra + lo;
}

class GridSampleKernel final : public Kernel {
 public:
  GridSampleKernel(Mode mode, Padding padding, bool align_corners, int opset)
      : mode_(mode), padding_(padding), align_corners_(align_corners), opset_(opset) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, ew::required_input(ctx, 0));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* grid, ew::required_input(ctx, 1));
    if (x->rank() != 4)
      return ctx.error("X must be [N, C, H, W], got " + x->describe() +
                       (opset_ >= 20 && x->rank() > 4 ? " (opset 20 allows more spatial axes; tandem samples two)"
                                                     : ""));
    if (grid->rank() != 4 || grid->dim(3) != 2 || grid->dim(0) != x->dim(0))
      return ctx.error("grid must be [N, H_out, W_out, 2] with X's N " + std::to_string(x->dim(0)) + ", got " +
                       grid->describe());
    const int64_t n = x->dim(0), channels = x->dim(1), h = x->dim(2), w = x->dim(3);
    const int64_t oh = grid->dim(1), ow = grid->dim(2);
    // Zero-size tensors may have other dimensions up to 2^40, so these are tested one by one, not multiplied.
    const bool empty_output = n == 0 || channels == 0 || oh == 0 || ow == 0;
    if ((h == 0 || w == 0) && !empty_output) return ctx.error("X " + x->describe() + " has no pixels to sample");
    std::vector<double> g(static_cast<std::size_t>(grid->numel()));
    const bool grid_known = dispatch(grid->dtype(), GridTypes{}, [&](auto tag) {
      using T = typename decltype(tag)::type;
      for (std::size_t i = 0; i < g.size(); ++i) g[i] = static_cast<double>(ElementTraits<T>::load(grid->data<T>()[i]));
    });
    if (!grid_known) return ew::unsupported(ctx, "grid", *grid, GridTypes{});

    const bool known = dispatch(x->dtype(), GridTypes{}, [&](auto tag) {
      using T = typename decltype(tag)::type;
      using Tr = ElementTraits<T>;
      T* y = ctx.allocate_output(0, x->dtype(), {n, channels, oh, ow}).data<T>();
      if (empty_output) return;  // the loops below would still walk every image: 2^40 of X [2^40, 0, 2, 2]
      for (int64_t b = 0; b < n; ++b)
        for (int64_t i = 0; i < oh * ow; ++i) {
          const double gx = g[static_cast<std::size_t>((b * oh * ow + i) * 2)];
          const double gy = g[static_cast<std::size_t>((b * oh * ow + i) * 2 + 1)];
          const double sx = unnormalize(gx, w), sy = unnormalize(gy, h);
          for (int64_t c = 0; c < channels; ++c) {
            const T* plane = x->data<T>() + (b * channels + c) * h * w;
            const auto pixel = [&](double yy, double xx) {  // whole coordinates, padded; outside reads 0
              if (!(yy >= 0 && yy <= static_cast<double>(h - 1) && xx >= 0 && xx <= static_cast<double>(w - 1))) return 0.0;
              return static_cast<double>(Tr::load(plane[static_cast<int64_t>(yy) * w + static_cast<int64_t>(xx)]));
            };
            double v = 0;
            if (mode_ == Mode::kNearest) {
              v = pixel(std::nearbyint(pad(sy, h)), std::nearbyint(pad(sx, w)));
            } else if (mode_ == Mode::kBilinear) {
              const double px = pad(sx, w), py = pad(sy, h);
              const double x0 = std::floor(px), y0 = std::floor(py), fx = px - x0, fy = py - y0;
              v = pixel(y0, x0) * (1 - fx) * (1 - fy) + pixel(y0, x0 + 1) * fx * (1 - fy) +
                  pixel(y0 + 1, x0) * (1 - fx) * fy + pixel(y0 + 1, x0 + 1) * fx * fy;
            } else {
              const double x0 = std::floor(sx), y0 = std::floor(sy);
              double cx[4], cy[4];
              cubic_weights(sx - x0, cx);
              cubic_weights(sy - y0, cy);
              for (int j = 0; j < 4; ++j)
                for (int k = 0; k < 4; ++k)
                  v += cy[j] * cx[k] * pixel(pad(y0 - 1 + j, h), pad(x0 - 1 + k, w));
            }
            y[(b * channels + c) * oh * ow + i] = Tr::store(static_cast<compute_t<T>>(v));
          }
        }
    });
    return known ? Status::ok() : ew::unsupported(ctx, "X", *x, GridTypes{});
  }

 private:
  double unnormalize(double g, int64_t size) const {
    const double s = static_cast<double>(size);
    return align_corners_ ? (g + 1) / 2 * (s - 1) : ((g + 1) * s - 1) / 2;
  }

  // The coordinate padding gives: unchanged for zeros (pixel() reads 0 outside), else mirrored or clamped.
  double pad(double v, int64_t size) const {
    if (padding_ == Padding::kZeros) return v;
    const double hi = static_cast<double>(size - 1);
    if (padding_ == Padding::kReflection)
      v = align_corners_ ? reflect(v, 0, 2 * hi) : reflect(v, -1, 2 * hi + 1);
    return std::isnan(v) ? v : std::min(std::max(v, 0.0), hi);
  }

  static void cubic_weights(double t, double c[4]) {
    constexpr double A = -0.75;
    const auto near = [](double d) { return ((A + 2) * d - (A + 3)) * d * d + 1; };        // |d| <= 1
    const auto far = [](double d) { return ((A * d - 5 * A) * d + 8 * A) * d - 4 * A; };  // 1 < |d| < 2
    c[0] = far(t + 1);
    c[1] = near(t);
    c[2] = near(1 - t);
    c[3] = far(2 - t);
  }

  Mode mode_;
  Padding padding_;
  bool align_corners_;
  int opset_;
};

Result<KernelPtr> make_grid_sample(const KernelInit& init) {
  const Node& node = init.node();
  // Opset 20 renamed bilinear and bicubic to linear and cubic (the N-linear and N-cubic of 4-D input).
  const bool renamed = node.opset >= 20;
  const std::string m = attr_string(node, "mode", renamed ? "linear" : "bilinear");
  const std::string p = attr_string(node, "padding_mode", "zeros");
  Mode mode;
  if (m == (renamed ? "linear" : "bilinear"))
    mode = Mode::kBilinear;
  else if (m == "nearest")
    mode = Mode::kNearest;
  else if (m == (renamed ? "cubic" : "bicubic"))
    mode = Mode::kBicubic;
  else
    return init.error("mode '" + m + "' is not one of " +
                      (renamed ? "linear, nearest, cubic (opset 20)" : "bilinear, nearest, bicubic"));
  Padding padding;
  if (p == "zeros")
    padding = Padding::kZeros;
  else if (p == "border")
    padding = Padding::kBorder;
  else if (p == "reflection")
    padding = Padding::kReflection;
  else
    return init.error("padding_mode '" + p + "' is not one of zeros, border, reflection");
  const int64_t ac = attr_int(node, "align_corners", 0);
  if (ac != 0 && ac != 1) return init.error("align_corners must be 0 or 1, got " + std::to_string(ac));
  return KernelPtr(new GridSampleKernel(mode, padding, ac == 1, node.opset));
}

}  // namespace

void register_grid_sample_kernels(KernelRegistry& r) { r.add("GridSample", make_grid_sample); }

}  // namespace tandem::cpu
