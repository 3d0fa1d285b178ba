// Resize (opsets 10, 11, 13, 18) and the deprecated Upsample (7, 9). Resizing is separable: for each axis,
// every output index reads a few input indices ("taps") with weights, found from the output coordinate
// mapped back into the input (coordinate_transformation_mode) and the mode's kernel. Nearest copies one
// element (any type, exactly); linear and cubic sum weighted taps axis by axis in double. The weights follow
// ONNX's reference implementation: taps beyond the edges read the edge element, exclude_outside drops them
// and renormalises, antialias (opset 18) stretches the kernel by 1/scale when downscaling and normalises, and
// tf_crop_and_resize gives extrapolation_value wherever an axis maps outside the input.
#include <cmath>
#include <cstring>
#include <new>
#include <optional>
#include <span>
#include <type_traits>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/element_types.h"
#include "runtime_cpu/kernels/sub_families.h"
#include "runtime_cpu/kernels/tensor_ops.h"

namespace tandem::cpu {
namespace {

enum class Mode { kNearest, kLinear, kCubic };
// kHalfPixelSymmetric: opset 19.
enum class Coord {
  kHalfPixel,
  kPytorchHalfPixel,
  kAlignCorners,
  kAsymmetric,
  kTfHalfPixelForNn,
  kTfCropAndResize,
  kHalfPixelSymmetric
};
// kSimple: Resize-10 and Upsample, whose spec leaves rounding open; as onnxruntime (and the backend tests
// of Resize-10): down when upscaling, up when downscaling an axis.
enum class Nearest { kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil, kSimple };
enum class AspectPolicy { kStretch, kNotLarger, kNotSmaller };

struct Options {
  Mode mode = Mode::kNearest;
  Coord coord = Coord::kHalfPixel;
  Nearest nearest = Nearest::kRoundPreferFloor;
  double cubic_a = -0.75;
  bool exclude_outside = false;
  double extrapolation = 0.0;
  bool antialias = false;
  std::vector<int64_t> axes;  // empty: every axis
  AspectPolicy policy = AspectPolicy::kStretch;
  int opset = 13;
  bool upsample = false;                      // Upsample: inputs X and (from 9) scales
  std::optional<std::vector<float>> scales;  // Upsample-7's attribute
};

struct Tap {
  int64_t index;
  double weight;
};

// How one axis resizes: per output index its taps, and whether it falls outside the input
// (tf_crop_and_resize only). `identity`: every output index reads its own input index. The taps of all
// output indices lie in one array (a vector per index took several times the bytes, in as many mallocs).
struct AxisMap {
  std::vector<Tap> taps;
  std::vector<int64_t> first = {0};  // output index y's taps are taps[first[y], first[y + 1])
  std::vector<bool> outside;
  bool identity = true;
  bool any_outside = false;

  int64_t size() const { return static_cast<int64_t>(first.size()) - 1; }
  std::span<const Tap> of(int64_t y) const {
    const auto b = static_cast<std::size_t>(first[static_cast<std::size_t>(y)]);
    const auto e = static_cast<std::size_t>(first[static_cast<std::size_t>(y) + 1]);
    return {taps.data() + b, e - b};
  }
};

// The input coordinate of output index x. `out_len` is the output length as ONNX's reference takes it: in *
// scale unrounded when scales are given (align_corners depends on it), the size when sizes are.
double source_coordinate(const Options& o, double x, double scale, int64_t in, int64_t out, double out_len,
                         double roi_start, double roi_end) {
  switch (o.coord) {
    case Coord::kHalfPixel:
      return (x + 0.5) / scale - 0.5;
    case Coord::kPytorchHalfPixel:
      return out > 1 ? (x + 0.5) / scale - 0.5 : 0.0;
    case Coord::kAlignCorners:
      return out_len == 1.0 ? 0.0 : x * static_cast<double>(in - 1) / (out_len - 1.0);
    case Coord::kAsymmetric:
      return x / scale;
    case Coord::kTfHalfPixelForNn:
      return (x + 0.5) / scale;
    case Coord::kHalfPixelSymmetric: {
      // half_pixel about the input's centre: the output's rounding (out against the unrounded scale * in,
      // the spec's output_width) is shared between both ends rather than all taken at the end. With sizes
      // and a keep_aspect_ratio_policy, scale is the one kept ratio and out its rounded product, so this
      // is not out_len (the size) there.
      const double adjustment = static_cast<double>(out) / (scale * static_cast<double>(in));
      return static_cast<double>(in) / 2.0 * (1.0 - adjustment) + (x + 0.5) / scale - 0.5;
    }
    case Coord::kTfCropAndResize:
      if (out > 1)
        return roi_start * static_cast<double>(in - 1) +
               x * (roi_end - roi_start) * static_cast<double>(in - 1) / static_cast<double>(out - 1);
      return 0.5 * (roi_start + roi_end) * static_cast<double>(in - 1);
  }
  return x;
}

int64_t nearest_index(Nearest mode, double x, double scale) {
  const double f = std::floor(x);
  if (x == f) return static_cast<int64_t>(f);
  const double r = x - f;
  switch (mode) {
    case Nearest::kRoundPreferFloor:
      return static_cast<int64_t>(r <= 0.5 ? f : f + 1);
    case Nearest::kRoundPreferCeil:
      return static_cast<int64_t>(r < 0.5 ? f : f + 1);
    case Nearest::kFloor:
      return static_cast<int64_t>(f);
    case Nearest::kCeil:
      return static_cast<int64_t>(f + 1);
    case Nearest::kSimple:
      return static_cast<int64_t>(scale < 1.0 ? f + 1 : f);
  }
  return static_cast<int64_t>(f);
}

double cubic_weight(double x, double a) {
  x = std::abs(x);
  if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0.0;
}

AxisMap map_axis(const Options& o, int64_t in, int64_t out, double scale, double out_len, double roi_start,
                 double roi_end) {
  AxisMap m;
  m.first.reserve(static_cast<std::size_t>(out) + 1);
  m.outside.assign(static_cast<std::size_t>(out), false);
  // The kernel is stretched by 1/scale when antialiasing a downscale.
  const double stretch = o.antialias && scale < 1.0 ? scale : 1.0;
  std::vector<Tap> taps;  // output index y's, then appended to the map's
  auto close_position = [&] {
    m.taps.insert(m.taps.end(), taps.begin(), taps.end());
    m.first.push_back(static_cast<int64_t>(m.taps.size()));
  };
  for (int64_t y = 0; y < out; ++y) {
    taps.clear();
    const double x = source_coordinate(o, static_cast<double>(y), scale, in, out, out_len, roi_start, roi_end);
    // Outside the input (or NaN, from a NaN roi): the extrapolation value.
    if (o.coord == Coord::kTfCropAndResize && !(x >= 0 && x <= static_cast<double>(in - 1))) {
      m.outside[static_cast<std::size_t>(y)] = true;
      m.any_outside = true;
      m.identity = false;
      taps.push_back({0, 0.0});
      close_position();
      continue;
    }
    if (o.mode == Mode::kNearest) {
      taps.push_back({std::clamp<int64_t>(nearest_index(o.nearest, x, scale), 0, in - 1), 1.0});
    } else {
      const double f = std::floor(x), r = x - f;
      // Offsets from floor(x) with a non-zero weight: [1 - support/stretch, support/stretch] (a tap whose
      // argument lands exactly on the support's edge weighs 0 and is harmless).
      const double support = o.mode == Mode::kLinear ? 1.0 : 2.0;
      const auto first = static_cast<int64_t>(std::floor(-support / stretch) + 1);
      const int64_t last = 1 - first;  // inclusive: the window is symmetric about the point
      double total = 0.0;
      std::vector<Tap> raw;
      for (int64_t i = first; i <= last; ++i) {
        const double arg = (static_cast<double>(i) - r) * stretch;
        const double w = o.mode == Mode::kLinear ? std::max(0.0, 1.0 - std::abs(arg)) : cubic_weight(arg, o.cubic_a);
        const auto idx = static_cast<int64_t>(f) + i;
        if (o.exclude_outside && (idx < 0 || idx >= in)) continue;
        raw.push_back({idx, w});
        total += w;
      }
      const bool normalise = o.antialias || o.exclude_outside;
      for (Tap t : raw) {
        if (t.weight == 0.0) continue;
        t.index = std::clamp<int64_t>(t.index, 0, in - 1);
        if (normalise) t.weight /= total;
        taps.push_back(t);
      }
      if (taps.empty()) taps.push_back({std::clamp<int64_t>(static_cast<int64_t>(f), 0, in - 1), 0.0});
    }
    if (taps.size() != 1 || taps[0].index != y || taps[0].weight != 1.0) m.identity = false;
    close_position();
  }
  if (out != in) m.identity = false;
  return m;
}

// One separable pass over `axis`: src has `shape`, the result has shape[axis] = map's output length.
Result<std::vector<double>> resize_pass(const KernelContext& ctx, const std::vector<double>& src,
                                        const std::vector<int64_t>& shape, std::size_t axis, const AxisMap& m) {
  int64_t outer = 1, inner = 1;
  for (std::size_t d = 0; d < axis; ++d) outer *= shape[d];
  for (std::size_t d = axis + 1; d < shape.size(); ++d) inner *= shape[d];
  const int64_t in = shape[axis], out = m.size();
  std::vector<double> dst(static_cast<std::size_t>(outer * out * inner), 0.0);
  // Its elements are not the output's (the first pass has the input's length on the other axes): say which.
  OutputProgress progress(ctx, outer * out * inner, sizeof(double),
                          "pass over axis " + std::to_string(axis) + ": element");
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t y = 0; y < out; ++y) {
      TANDEM_RETURN_IF_ERROR(progress.at((o * out + y) * inner));
      double* d = dst.data() + (o * out + y) * inner;
      for (const Tap& t : m.of(y)) {
        const double* s = src.data() + (o * in + t.index) * inner;
        for (int64_t i = 0; i < inner; ++i) d[i] += t.weight * s[i];
      }
    }
  return dst;
}

// Whether output element `flat` (of `shape`) lies outside the input along some axis.
class OutsideTest {
 public:
  OutsideTest(const std::vector<int64_t>& shape, const std::vector<AxisMap>& maps) : shape_(shape), maps_(maps) {
    for (const AxisMap& m : maps) any_ = any_ || m.any_outside;
  }
  bool any() const { return any_; }
  bool operator()(int64_t flat) const {
    for (std::size_t d = shape_.size(); d-- > 0;) {
      const int64_t i = flat % shape_[d];
      flat /= shape_[d];
      if (maps_[d].any_outside && maps_[d].outside[static_cast<std::size_t>(i)]) return true;
    }
    return false;
  }

 private:
  const std::vector<int64_t>& shape_;
  const std::vector<AxisMap>& maps_;
  bool any_ = false;
};

template <typename T>
T from_double(double v) {
  using C = compute_t<T>;
  if constexpr (std::is_floating_point_v<C>)
    return ElementTraits<T>::store(static_cast<C>(v));
  else
    return float_to_int<T>(v);  // truncated toward zero, saturating
}

class ResizeKernel final : public Kernel {
 public:
  explicit ResizeKernel(Options o) : o_(std::move(o)) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "X"));
    TANDEM_RETURN_IF_ERROR(check_movable(ctx, *x, "X"));
    const std::size_t rank = x->rank();
    if (rank == 0) return ctx.error("X must have rank >= 1, got a scalar");
    std::vector<int64_t> axes;
    if (o_.axes.empty()) {
      for (std::size_t d = 0; d < rank; ++d) axes.push_back(static_cast<int64_t>(d));
    } else {
      TANDEM_ASSIGN_OR_RETURN(axes, normalize_axes(ctx, o_.axes, static_cast<int64_t>(rank), "axes"));
    }
    std::vector<double> scale(rank, 1.0), roi_start(rank, 0.0), roi_end(rank, 1.0);
    std::vector<int64_t> out = x->shape();
    TANDEM_RETURN_IF_ERROR(output_geometry(ctx, *x, axes, scale, roi_start, roi_end, out));
    const bool from_scales = !has_sizes(ctx);
    TANDEM_RETURN_IF_ERROR(check_output_size(ctx, out, x->dtype()));
    for (std::size_t d = 0; d < rank; ++d)
      if (x->dim(d) == 0 && out[d] > 0)
        return ctx.error("axis " + std::to_string(d) + " of X " + x->describe() + " is empty and cannot be resized to " +
                         std::to_string(out[d]));
    // The output first: the per-axis maps hold taps for each output position of their axis, so an output
    // with no elements (another axis 0) must not build them for an axis of billions (a 96 GB map; found by
    // fuzzing). A non-empty output needs them: 24 bytes or more per output position of each axis, more
    // than the output itself when one axis holds nearly all of it (docs/ARCHITECTURE.md).
    Tensor& y = ctx.allocate_output(0, x->dtype(), out);
    if (y.numel() == 0) return Status::ok();
    std::vector<AxisMap> maps(rank);
    for (std::size_t d = 0; d < rank; ++d) {
      const double out_len = from_scales ? scale[d] * static_cast<double>(x->dim(d)) : static_cast<double>(out[d]);
      try {
        maps[d] = map_axis(o_, x->dim(d), out[d], scale[d], out_len, roi_start[d], roi_end[d]);
      } catch (const std::bad_alloc&) {
        return ctx.error("the taps of output axis " + std::to_string(d) + " do not fit in memory (" +
                         std::to_string(out[d]) + " positions, at least 24 bytes each)");
      }
    }
    const OutsideTest outside(out, maps);
    if (o_.mode == Mode::kNearest) return gather_nearest(ctx, *x, maps, outside, y);
    Status status;
    const bool known = dispatch(x->dtype(), NumericTypes{}, [&](auto tag) {
      status = interpolate<typename decltype(tag)::type>(ctx, *x, maps, outside, y);
    });
    if (!status) return status;
    if (!known)
      return ctx.error(std::string(o_.mode == Mode::kLinear ? "linear" : "cubic") + " mode over " +
                       std::string(dtype_name(x->dtype())) + " is not supported (" + type_names(NumericTypes{}) +
                       " are; nearest takes any type)");
    return Status::ok();
  }

 private:
  bool has_sizes(const KernelContext& ctx) const {
    const Tensor* s = ctx.input(3);
    return !o_.upsample && o_.opset >= 11 && s && s->numel() > 0;
  }

  // Fills scale, roi and the output shape from scales or sizes (and roi), by opset.
  Status output_geometry(const KernelContext& ctx, const Tensor& x, const std::vector<int64_t>& axes,
                         std::vector<double>& scale, std::vector<double>& roi_start, std::vector<double>& roi_end,
                         std::vector<int64_t>& out) const {
    const std::size_t n = axes.size();
    std::vector<float> scales;
    std::vector<int64_t> sizes;
    if (o_.scales) {
      scales = *o_.scales;
    } else {
      const std::size_t scales_at = o_.upsample || o_.opset < 11 ? 1 : 2;
      if (const Tensor* s = ctx.input(scales_at); s && s->numel() > 0) {
        if (s->dtype() != DType::kFloat32 || s->rank() != 1)
          return ctx.error("scales must be a 1-D float32 tensor, got " + s->describe());
        scales.assign(s->data<float>(), s->data<float>() + s->numel());
      }
      if (has_sizes(ctx)) {
        TANDEM_ASSIGN_OR_RETURN(sizes, read_ints(ctx, *ctx.input(3), "sizes"));
      }
    }
    if (scales.empty() == sizes.empty())
      return ctx.error(scales.empty() ? "neither scales nor sizes is given" : "both scales and sizes are given");
    if (!scales.empty() && scales.size() != n)
      return ctx.error("scales has " + std::to_string(scales.size()) + " entries for " + std::to_string(n) + " axes");
    if (!sizes.empty() && sizes.size() != n)
      return ctx.error("sizes has " + std::to_string(sizes.size()) + " entries for " + std::to_string(n) + " axes");
    if (o_.coord == Coord::kTfCropAndResize) {
      const Tensor* r = ctx.input(1);
      if (!r || r->numel() == 0) return ctx.error("coordinate_transformation_mode tf_crop_and_resize needs roi");
      if (r->numel() != static_cast<int64_t>(2 * n))
        return ctx.error("roi has " + std::to_string(r->numel()) + " entries, expected " + std::to_string(2 * n));
      if (r->dtype() != DType::kFloat32 && r->dtype() != DType::kFloat64 && r->dtype() != DType::kFloat16)
        return ctx.error("roi must be float16, float32 or float64, got " + r->describe());
      for (std::size_t i = 0; i < n; ++i) {
        const auto d = static_cast<std::size_t>(axes[i]);
        roi_start[d] = element_as_double(*r, static_cast<int64_t>(i));
        roi_end[d] = element_as_double(*r, static_cast<int64_t>(i + n));
      }
    }
    if (!scales.empty()) {
      // floor(in * scale), as ONNX's reference and onnxruntime compute it (roi does not enter).
      for (std::size_t i = 0; i < n; ++i) {
        const auto d = static_cast<std::size_t>(axes[i]);
        if (!(scales[i] > 0.0f) || !std::isfinite(scales[i]))
          return ctx.error("scales[" + std::to_string(i) + "] = " + std::to_string(scales[i]) + " must be positive");
        if (o_.upsample && scales[i] < 1.0f)
          return ctx.error("Upsample's scales[" + std::to_string(i) + "] = " + std::to_string(scales[i]) +
                           " must be >= 1");
        scale[d] = static_cast<double>(scales[i]);
        const double size = std::floor(scale[d] * static_cast<double>(x.dim(d)));
        if (size > 9.0e15) return ctx.error("scales " + std::to_string(scales[i]) + " make the output too large");
        out[d] = static_cast<int64_t>(size);
      }
      return Status::ok();
    }
    for (std::size_t i = 0; i < n; ++i)
      if (sizes[i] < 0) return ctx.error("sizes has the negative entry " + std::to_string(sizes[i]));
    if (o_.policy == AspectPolicy::kStretch) {
      for (std::size_t i = 0; i < n; ++i) {
        const auto d = static_cast<std::size_t>(axes[i]);
        out[d] = sizes[i];
        scale[d] = x.dim(d) > 0 ? static_cast<double>(sizes[i]) / static_cast<double>(x.dim(d)) : 1.0;
      }
      return Status::ok();
    }
    // One scale for every resized axis: the smallest (not_larger) or largest (not_smaller) ratio.
    double common = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const auto d = static_cast<std::size_t>(axes[i]);
      if (x.dim(d) == 0) return ctx.error("keep_aspect_ratio_policy cannot keep the ratio of an empty axis");
      const double s = static_cast<double>(sizes[i]) / static_cast<double>(x.dim(d));
      common = i == 0 ? s : (o_.policy == AspectPolicy::kNotLarger ? std::min(common, s) : std::max(common, s));
    }
    for (std::size_t i = 0; i < n; ++i) {
      const auto d = static_cast<std::size_t>(axes[i]);
      scale[d] = common;
      out[d] = static_cast<int64_t>(std::floor(common * static_cast<double>(x.dim(d)) + 0.5));  // halves up
    }
    return Status::ok();
  }

  Status gather_nearest(const KernelContext& ctx, const Tensor& x, const std::vector<AxisMap>& maps,
                        const OutsideTest& outside, Tensor& y) const {
    const std::size_t rank = x.rank(), elem = dtype_size(x.dtype());
    std::vector<std::byte> fill(elem, std::byte{0});
    if (outside.any()) {
      auto v = scalar_bytes(x.dtype(), o_.extrapolation);
      if (!v) return ctx.error("extrapolation_value: " + v.status().message());
      fill = *v;
    }
    const std::vector<int64_t> strides = row_major_strides(x.shape());
    // Per axis and output index, the input offset it reads (every axis has a map: the output is not empty).
    std::vector<std::vector<int64_t>> offset(rank);
    for (std::size_t d = 0; d < rank; ++d)
      for (int64_t i = 0; i < maps[d].size(); ++i) offset[d].push_back(maps[d].of(i)[0].index * strides[d]);
    Status status;
    with_element_type(x.dtype(), [&](auto tag) {
      using U = decltype(tag);
      if constexpr (!std::is_same_v<U, std::string>) {  // Resize is not given strings (not take_strings)
        const U* src = static_cast<const U*>(x.raw());
        U* dst = static_cast<U*>(y.raw());
        U v;
        std::memcpy(&v, fill.data(), sizeof(U));
        std::vector<std::size_t> pos(rank, 0);
        OutputProgress progress(ctx, y.numel(), sizeof(U));
        for (int64_t i = 0; i < y.numel(); ++i) {
          if (status = progress.at(i); !status) return;
          int64_t off = 0;
          for (std::size_t d = 0; d < rank; ++d) off += offset[d][pos[d]];
          dst[i] = src[off];
          for (std::size_t d = rank; d-- > 0;) {
            if (++pos[d] < offset[d].size()) break;
            pos[d] = 0;
          }
        }
        if (outside.any())
          for (int64_t i = 0; i < y.numel(); ++i)
            if (outside(i)) dst[i] = v;
      }
    });
    return status;
  }

  // Axis by axis in double; each pass checks the run's control as it goes (a model-sized resize ran past
  // the run's time limit; found by the fuzzer).
  template <typename T>
  Status interpolate(const KernelContext& ctx, const Tensor& x, const std::vector<AxisMap>& maps,
                     const OutsideTest& outside, Tensor& y) const {
    const T* src = x.data<T>();
    std::vector<double> buf(static_cast<std::size_t>(x.numel()));
    for (std::size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<double>(ElementTraits<T>::load(src[i]));
    std::vector<int64_t> shape = x.shape();
    // Innermost axes first, as the reference nests them.
    for (std::size_t d = shape.size(); d-- > 0;) {
      if (maps[d].identity) continue;
      TANDEM_ASSIGN_OR_RETURN(buf, resize_pass(ctx, buf, shape, d, maps[d]));
      shape[d] = maps[d].size();
    }
    T* dst = y.data<T>();
    const T fill = from_double<T>(o_.extrapolation);
    for (int64_t i = 0; i < y.numel(); ++i)
      dst[i] = outside.any() && outside(i) ? fill : from_double<T>(buf[static_cast<std::size_t>(i)]);
    return Status::ok();
  }

  Options o_;
};

template <typename E>
Result<E> pick(const KernelInit& init, const std::string& attr, const std::string& fallback,
               const std::vector<std::pair<std::string, E>>& choices) {
  const std::string v = attr_string(init.node(), attr, fallback);
  std::string names;
  for (const auto& [name, e] : choices) {
    if (name == v) return e;
    names += (names.empty() ? "" : ", ") + name;
  }
  return init.error(attr + " '" + v + "' is not supported (" + names + " are)");
}

Result<KernelPtr> make_resize(const KernelInit& init) {
  const Node& n = init.node();
  Options o;
  o.opset = n.opset;
  if (n.opset < 11) {
    // Resize-10: nearest or linear, asymmetric coordinates.
    TANDEM_ASSIGN_OR_RETURN(o.mode, pick<Mode>(init, "mode", "nearest",
                                               {{"nearest", Mode::kNearest}, {"linear", Mode::kLinear}}));
    o.coord = Coord::kAsymmetric;
    o.nearest = Nearest::kSimple;
    return KernelPtr(new ResizeKernel(std::move(o)));
  }
  TANDEM_ASSIGN_OR_RETURN(o.mode, pick<Mode>(init, "mode", "nearest",
                                             {{"nearest", Mode::kNearest}, {"linear", Mode::kLinear},
                                              {"cubic", Mode::kCubic}}));
  std::vector<std::pair<std::string, Coord>> coords = {
      {"half_pixel", Coord::kHalfPixel},         {"pytorch_half_pixel", Coord::kPytorchHalfPixel},
      {"align_corners", Coord::kAlignCorners},   {"asymmetric", Coord::kAsymmetric},
      {"tf_half_pixel_for_nn", Coord::kTfHalfPixelForNn}, {"tf_crop_and_resize", Coord::kTfCropAndResize}};
  if (n.opset >= 19) coords.emplace_back("half_pixel_symmetric", Coord::kHalfPixelSymmetric);
  TANDEM_ASSIGN_OR_RETURN(o.coord, pick<Coord>(init, "coordinate_transformation_mode", "half_pixel", coords));
  TANDEM_ASSIGN_OR_RETURN(o.nearest, pick<Nearest>(init, "nearest_mode", "round_prefer_floor",
                                                   {{"round_prefer_floor", Nearest::kRoundPreferFloor},
                                                    {"round_prefer_ceil", Nearest::kRoundPreferCeil},
                                                    {"floor", Nearest::kFloor}, {"ceil", Nearest::kCeil}}));
  o.cubic_a = attr_float(n, "cubic_coeff_a", -0.75f);
  const int64_t exclude = attr_int(n, "exclude_outside", 0);
  if (exclude != 0 && exclude != 1)
    return init.error("exclude_outside must be 0 or 1, got " + std::to_string(exclude));
  o.exclude_outside = exclude == 1;
  o.extrapolation = attr_float(n, "extrapolation_value", 0.0f);
  if (n.opset >= 18) {
    const int64_t antialias = attr_int(n, "antialias", 0);
    if (antialias != 0 && antialias != 1)
      return init.error("antialias must be 0 or 1, got " + std::to_string(antialias));
    o.antialias = antialias == 1 && o.mode != Mode::kNearest;  // nearest ignores it
    o.axes = attr_ints(n, "axes");
    TANDEM_ASSIGN_OR_RETURN(o.policy, pick<AspectPolicy>(init, "keep_aspect_ratio_policy", "stretch",
                                                         {{"stretch", AspectPolicy::kStretch},
                                                          {"not_larger", AspectPolicy::kNotLarger},
                                                          {"not_smaller", AspectPolicy::kNotSmaller}}));
  }
  return KernelPtr(new ResizeKernel(std::move(o)));
}

// Upsample: Resize-10's semantics with scales >= 1, as an attribute (7) or an input (9).
Result<KernelPtr> make_upsample(const KernelInit& init) {
  const Node& n = init.node();
  Options o;
  o.opset = n.opset;
  o.upsample = true;
  TANDEM_ASSIGN_OR_RETURN(o.mode, pick<Mode>(init, "mode", "nearest",
                                             {{"nearest", Mode::kNearest}, {"linear", Mode::kLinear}}));
  o.coord = Coord::kAsymmetric;
  o.nearest = Nearest::kSimple;
  if (n.opset < 9) {
    if (!has_attr(n, "scales")) return init.error("attribute 'scales' is required");
    o.scales = attr_floats(n, "scales");
  }
  return KernelPtr(new ResizeKernel(std::move(o)));
}

}  // namespace

void register_resize_kernels(KernelRegistry& r) {
  r.add("Resize", make_resize);
  r.add("Upsample", make_upsample);
}

}  // namespace tandem::cpu
