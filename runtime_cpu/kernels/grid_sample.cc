// GridSample (opsets 16 and 20): output[n, c, h, w] samples X[n, c] at grid[n, h, w] = (x, y), normalised so
// that -1 and 1 are the centres (align_corners) or the outer edges (otherwise) of the end pixels. Modes
// bilinear, nearest (round half to even) and bicubic (A = -0.75 over 4 x 4 pixels); padding zeros (pixels
// outside read 0), border (coordinates clamped) or reflection (coordinates mirrored at the end pixels'
// centres or outer edges, then clamped), with the same definitions as torch.nn.functional.grid_sample,
// which ONNX's op follows. Opset 16 takes 4-D X. Opset 20 names the modes linear, nearest and cubic and
// takes any number of spatial axes: the grid's last axis holds one coordinate per spatial axis, innermost
// first, and every axis is interpolated alike (N-linear over 2^N corners; N-cubic over 4^N taps, here up
// to 3 axes). Cubic pads each of its taps. Arithmetic is in double; a coordinate that is NaN or far
// outside reads as a pixel outside.
#include <algorithm>
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

using GridTypes = TypeList<float, double, Half, BFloat16>;

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
    // Opset 16 samples 4-D X; 20 any X of rank 3 or more (one spatial axis or several).
    const std::size_t rank = x->rank();
    if (opset_ < 20 ? rank != 4 : rank < 3)
      return ctx.error("X must be " + std::string(opset_ < 20 ? "[N, C, H, W]" : "[N, C, D1, ...]") + ", got " +
                       x->describe());
    const std::size_t spatial = rank - 2;
    bool grid_ok = grid->rank() == rank && grid->dim(rank - 1) == static_cast<int64_t>(spatial) &&
                   grid->dim(0) == x->dim(0);
    if (!grid_ok)
      return ctx.error("grid must be " +
                       std::string(spatial == 2 ? "[N, H_out, W_out, 2]"
                                                : "[N, D1_out, ..., " + std::to_string(spatial) + "] of rank " +
                                                      std::to_string(rank)) +
                       " with X's N " + std::to_string(x->dim(0)) + ", got " + grid->describe());
    if (mode_ == Mode::kBicubic && spatial > 3)
      return ctx.error("cubic sampling over " + std::to_string(spatial) + " spatial axes (4^" +
                       std::to_string(spatial) + " taps per point) is not supported; up to 3 are");
    const int64_t n = x->dim(0), channels = x->dim(1);
    std::vector<int64_t> in(spatial), out_shape = {n, channels};
    int64_t points = 1, pixels = 1;
    bool empty_output = n == 0 || channels == 0;
    for (std::size_t a = 0; a < spatial; ++a) {
      in[a] = x->dim(a + 2);
      out_shape.push_back(grid->dim(a + 1));
      empty_output = empty_output || grid->dim(a + 1) == 0;
    }
    // Zero-size tensors may have other dimensions up to 2^40: sizes are multiplied only when none is empty.
    if (std::any_of(in.begin(), in.end(), [](int64_t v) { return v == 0; }) && !empty_output)
      return ctx.error("X " + x->describe() + " has no pixels to sample");
    if (!empty_output) {
      for (int64_t v : in) pixels *= v;
      for (std::size_t a = 0; a < spatial; ++a) points *= grid->dim(a + 1);
    }
    std::vector<double> g(empty_output ? 0 : static_cast<std::size_t>(grid->numel()));
    const bool grid_known = dispatch(grid->dtype(), GridTypes{}, [&](auto tag) {
      using T = typename decltype(tag)::type;
      for (std::size_t i = 0; i < g.size(); ++i) g[i] = static_cast<double>(ElementTraits<T>::load(grid->data<T>()[i]));
    });
    if (!grid_known) return ew::unsupported(ctx, "grid", *grid, GridTypes{});

    Status status;
    const bool known = dispatch(x->dtype(), GridTypes{}, [&](auto tag) {
      using T = typename decltype(tag)::type;
      using Tr = ElementTraits<T>;
      T* y = ctx.allocate_output(0, x->dtype(), out_shape).data<T>();
      if (empty_output) return;  // the loops below would still walk every image: 2^40 of X [2^40, 0, 2, 2]
      OutputProgress progress(ctx, n * channels * points, sizeof(T));
      std::vector<double> at(spatial);  // the point's unnormalised coordinate per axis, in X's axis order
      PointTaps taps;
      for (int64_t b = 0; b < n; ++b)
        for (int64_t p = 0; p < points; ++p) {
          if (status = progress.at((b * points + p) * channels); !status) return;
          // grid's last axis lists the coordinates innermost axis first: (x, y, z) for (W, H, D).
          const double* point = g.data() + (b * points + p) * static_cast<int64_t>(spatial);
          for (std::size_t a = 0; a < spatial; ++a) at[a] = unnormalize(point[spatial - 1 - a], in[a]);
          point_taps(in, at, taps);
          for (int64_t c = 0; c < channels; ++c) {
            const T* plane = x->data<T>() + (b * channels + c) * pixels;
            double v = 0;
            for (const auto& [offset, w] : taps.taps) v += w * static_cast<double>(Tr::load(plane[offset]));
            y[(b * channels + c) * points + p] = Tr::store(static_cast<compute_t<T>>(v));
          }
        }
    });
    if (!status) return status;
    return known ? Status::ok() : ew::unsupported(ctx, "X", *x, GridTypes{});
  }

 private:
  // One sampling point's taps: per axis the positions read and their weights (nearest 1, linear 2, cubic
  // 4, each cubic tap padded on its own), then every combination of one tap per axis, the last axis
  // fastest, as (offset in a plane of sizes `in`, weight); taps outside X (zeros padding) and of weight 0
  // are left out. Worked out once per point and used for every channel. `axis_*` and `combo` are scratch.
  struct PointTaps {
    std::vector<double> axis_pos, axis_weight;  // [axis][4]
    std::vector<int> axis_count, combo;
    std::vector<std::pair<int64_t, double>> taps;
  };

  void point_taps(const std::vector<int64_t>& in, const std::vector<double>& at, PointTaps& t) const {
    const std::size_t k = in.size();
    t.axis_pos.assign(4 * k, 0.0);
    t.axis_weight.assign(4 * k, 0.0);
    t.axis_count.assign(k, 1);
    for (std::size_t a = 0; a < k; ++a) {
      double* pos = t.axis_pos.data() + 4 * a;
      double* weight = t.axis_weight.data() + 4 * a;
      if (mode_ == Mode::kNearest) {
        pos[0] = std::nearbyint(pad(at[a], in[a]));
        weight[0] = 1;
      } else if (mode_ == Mode::kBilinear) {
        const double v = pad(at[a], in[a]), lo = std::floor(v), f = v - lo;
        pos[0] = lo, pos[1] = lo + 1, weight[0] = 1 - f, weight[1] = f;
        t.axis_count[a] = 2;
      } else {
        const double lo = std::floor(at[a]);
        cubic_weights(at[a] - lo, weight);
        for (int j = 0; j < 4; ++j) pos[j] = pad(lo - 1 + j, in[a]);
        t.axis_count[a] = 4;
      }
    }
    t.taps.clear();
    t.combo.assign(k, 0);
    while (true) {
      double w = 1;
      int64_t offset = 0;
      bool inside = true;
      for (std::size_t a = 0; a < k; ++a) {
        const double q = t.axis_pos[4 * a + static_cast<std::size_t>(t.combo[a])];
        w *= t.axis_weight[4 * a + static_cast<std::size_t>(t.combo[a])];
        inside = inside && q >= 0 && q <= static_cast<double>(in[a] - 1);
        offset = offset * in[a] + (inside ? static_cast<int64_t>(q) : 0);
      }
      if (inside && w != 0) t.taps.emplace_back(offset, w);
      std::size_t a = k;
      while (a-- > 0 && ++t.combo[a] == t.axis_count[a]) t.combo[a] = 0;
      if (a == static_cast<std::size_t>(-1)) break;
    }
  }

  double unnormalize(double g, int64_t size) const {
    const double s = static_cast<double>(size);
    return align_corners_ ? (g + 1) / 2 * (s - 1) : ((g + 1) * s - 1) / 2;
  }

  // The coordinate padding gives: unchanged for zeros (a tap outside reads 0), else mirrored or clamped.
  double pad(double v, int64_t size) const {
    if (padding_ == Padding::kZeros) return v;
    const double hi = static_cast<double>(size - 1);
    if (padding_ == Padding::kReflection)
      v = align_corners_ ? reflect(v, 0, 2 * hi) : reflect(v, -1, 2 * hi + 1);
    return std::isnan(v) ? v : std::min(std::max(v, 0.0), hi);
  }

  static void cubic_weights(double t, double* c) {
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
