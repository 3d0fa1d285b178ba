// ConvInteger and QLinearConv (opset 10): Conv's geometry (runtime/window_geometry, 1 to 3 spatial
// dimensions, group, strides, dilations, pads, auto_pad) over 8-bit X and W with zero points. X and W are
// shifted by their zero points into int16 once, so padding, which ONNX fills with the zero point, is 0 in
// the patch matrix (conv_patches.h); each image and group is then one exact integer product (int_gemm):
// Y_g[M/group x out] = W_g[M/group x K] * col[K x out]. ConvInteger returns the int32 sums; QLinearConv
// adds the int32 bias and requantizes with x_scale * w_scale / y_scale. W's zero point (and QLinearConv's
// w_scale) go per tensor or per output channel. When W and its zero point are initializers (a layer's
// weights), W is shifted once when the kernel is made; otherwise on every run.
#include <algorithm>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "runtime/window_geometry.h"
#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/conv_patches.h"
#include "runtime_cpu/kernels/elementwise_kernels.h"
#include "runtime_cpu/kernels/int_gemm.h"
#include "runtime_cpu/kernels/quantization.h"
#include "runtime_cpu/kernels/register.h"

namespace tandem::cpu {
namespace {

struct ConvGeometry {
  std::vector<int64_t> y_shape;
  int64_t batch = 0, maps = 0, group_channels = 0, group_maps = 0, in_size = 0, out_size = 0, k = 0;
  Window3 w3;
};

Result<ConvGeometry> conv_geometry(const KernelContext& ctx, const WindowAttrs& attrs, int64_t group,
                                   const Tensor& x, const Tensor& w) {
  if (!is_8bit(x.dtype()) || !is_8bit(w.dtype()))
    return ctx.error("x and w must be uint8 or int8, got " + x.describe() + " and " + w.describe());
  if (x.rank() < 3 || x.rank() > 5)
    return ctx.error("x must be [N, C, D1, ...] with rank 3 to 5, got " + x.describe());
  if (Status s = check_conv_operands(x.shape(), w.shape(), group, attrs.kernel_shape); !s)
    return ctx.error(s.message());
  ConvGeometry g;
  const std::vector<int64_t> in(x.shape().begin() + 2, x.shape().end());
  const std::vector<int64_t> kernel(w.shape().begin() + 2, w.shape().end());
  auto win = resolve_window(attrs, in, kernel);
  if (!win) return ctx.error(win.status().message());
  g.batch = x.dim(0);
  g.maps = w.dim(0);
  g.group_channels = x.dim(1) / group;
  g.group_maps = g.maps / group;
  g.in_size = shape_numel(in);
  g.out_size = shape_numel(win->out);
  g.k = g.group_channels * shape_numel(kernel);
  g.w3 = to_window3(*win);
  g.y_shape = {g.batch, g.maps};
  g.y_shape.insert(g.y_shape.end(), win->out.begin(), win->out.end());
  return g;
}

// The sums of every image n and group of output maps, each [group_maps x out_size] in int64, handed to
// store(n, first map, sums). x16 and w16 are X and W with their zero points subtracted.
// `w_prepared`: w16 is the kernel's own copy, not scratch of this run.
template <typename Store>
void integer_conv(const ConvGeometry& c, int64_t group, const std::vector<int16_t>& x16,
                  const std::vector<int16_t>& w16, bool w_prepared, KernelContext& ctx, Store&& store) {
  const Window3& w3 = c.w3;
  bool direct = true;  // a 1x1 kernel over every input position: the image itself is the patch matrix
  for (std::size_t i = 0; i < 3; ++i)
    direct = direct && w3.kernel[i] == 1 && w3.stride[i] == 1 && w3.pad_begin[i] == 0 && w3.out[i] == w3.in[i];
  const int64_t rows = w3.out[0] * w3.out[1], width = w3.out[2];
  const int64_t band =
      direct ? rows : std::max<int64_t>(1, std::min(rows, kPatchBudget / std::max<int64_t>(1, c.k * width)));
  std::vector<int16_t> col(direct ? 0 : static_cast<std::size_t>(c.k * band * width));
  std::vector<int64_t> sums(static_cast<std::size_t>(c.group_maps * c.out_size));
  ctx.note_workspace((x16.size() + (w_prepared ? 0 : w16.size()) + col.size()) * sizeof(int16_t) +
                     sums.size() * sizeof(int64_t));
  for (int64_t n = 0; n < c.batch; ++n)
    for (int64_t g = 0; g < group; ++g) {
      const int16_t* xg = x16.data() + (n * c.group_channels * group + g * c.group_channels) * c.in_size;
      for (int64_t r = 0; r < rows; r += band) {
        const int64_t r_end = std::min(rows, r + band), cols = (r_end - r) * width;
        if (!direct) im2col(xg, c.group_channels, w3, r, r_end, col.data());
        int_gemm(c.group_maps, cols, c.k, w16.data() + g * c.group_maps * c.k, c.k, direct ? xg : col.data(),
                 direct ? c.out_size : cols, sums.data() + r * width, c.out_size);
      }
      store(n, g * c.group_maps, sums);
    }
}

// W shifted by its zero points `zp`, one for the tensor or one per output channel (W's first dimension).
std::vector<int16_t> shifted_weights(const Tensor& w, const std::vector<int32_t>& zp) {
  std::vector<int16_t> w16(static_cast<std::size_t>(w.numel()));
  const int64_t per_map = w.dim(0) ? w.numel() / w.dim(0) : 1;
  shift_to_int16(w, [&](int64_t i) { return zp[zp.size() == 1 ? 0 : static_cast<std::size_t>(i / per_map)]; },
                 w16.data());
  return w16;
}

// W shifted when the kernel is made: set when W (input w_at) and its zero point (w_at + 2; absent counts
// for ConvInteger, where it is optional) are initializers of a usable form; otherwise W is shifted on
// every run, whose checks then report any problem.
struct PreparedW {
  std::vector<int16_t> w16;
  bool ready = false;
  int64_t bytes() const { return ready ? static_cast<int64_t>(w16.size() * sizeof(int16_t)) : -1; }
};

PreparedW prepare_weights(const KernelInit& init, std::size_t w_at) {
  PreparedW p;
  const Node& n = init.node();
  const std::size_t zp_at = w_at + 2;
  const bool zp_given = zp_at < n.inputs.size() && n.inputs[zp_at] != kNoValue;
  const TensorDataPtr w_data = init.constant_input(w_at), zp_data = init.constant_input(zp_at);
  if (!w_data || (zp_given && !zp_data)) return p;
  const Tensor w = Tensor::from_constant(w_data);
  const Tensor zp = zp_data ? Tensor::from_constant(zp_data) : Tensor();
  if (w.rank() < 1) return p;
  if (auto values = constant_zero_points(zp.defined() ? &zp : nullptr, w.dtype(), w.dim(0))) {
    p.w16 = shifted_weights(w, *values);
    p.ready = true;
  }
  return p;
}

std::vector<int16_t> shifted_input(const Tensor& x, int32_t zero_point) {
  std::vector<int16_t> x16(static_cast<std::size_t>(x.numel()));
  shift_to_int16(x, [&](int64_t) { return zero_point; }, x16.data());
  return x16;
}

// A zero point (or scale / zero point pair) must come with its operand's type.
Status same_type(const KernelContext& ctx, const Tensor* zp, const std::string& name, const Tensor& operand,
                 const std::string& operand_name) {
  if (zp && zp->dtype() != operand.dtype())
    return ctx.error(name + " " + zp->describe() + " must have the type of " + operand_name + " " +
                     operand.describe());
  return Status::ok();
}

// --- ConvInteger ----------------------------------------------------------------------------------------

class ConvIntegerKernel final : public Kernel {
 public:
  ConvIntegerKernel(WindowAttrs attrs, int64_t group, PreparedW prepared)
      : attrs_(std::move(attrs)), group_(group), prepared_(std::move(prepared)) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, ew::required_input(ctx, 0));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* w, ew::required_input(ctx, 1));
    TANDEM_ASSIGN_OR_RETURN(const ConvGeometry c, conv_geometry(ctx, attrs_, group_, *x, *w));
    TANDEM_RETURN_IF_ERROR(same_type(ctx, ctx.input(2), "x_zero_point", *x, "x"));
    TANDEM_RETURN_IF_ERROR(same_type(ctx, ctx.input(3), "w_zero_point", *w, "w"));
    TANDEM_ASSIGN_OR_RETURN(const QuantParams zx, read_quant_params(ctx, nullptr, ctx.input(2), {"x"}));
    TANDEM_ASSIGN_OR_RETURN(
        const QuantParams zw,
        read_quant_params(ctx, nullptr, ctx.input(3), {"w", c.maps, "the output channels of w " + w->describe()}));
    const std::vector<int16_t> w_run = prepared_.ready ? std::vector<int16_t>() : shifted_weights(*w, zw.zero_point);
    Tensor& product = ctx.allocate_output(0, DType::kInt32, c.y_shape);
    if (product.numel() == 0) return Status::ok();  // else every image is still walked: 2^40 for x [2^40, 0, 5]
    int32_t* y = product.data<int32_t>();
    Status overflow = Status::ok();
    integer_conv(c, group_, shifted_input(*x, zx.zero_point_at(0)), prepared_.ready ? prepared_.w16 : w_run,
                 prepared_.ready, ctx,
                 [&](int64_t n, int64_t map, const std::vector<int64_t>& sums) {
                   int32_t* out = y + (n * c.maps + map) * c.out_size;
                   for (std::size_t j = 0; j < sums.size(); ++j) {
                     if (sums[j] > std::numeric_limits<int32_t>::max() ||
                         sums[j] < std::numeric_limits<int32_t>::lowest()) {
                       if (overflow.ok())
                         overflow = ctx.error("the sum at output element " +
                                              std::to_string((n * c.maps + map) * c.out_size + j) + " is " +
                                              std::to_string(sums[j]) + ", beyond int32 (ONNX accumulates in int32)");
                       continue;
                     }
                     out[j] = static_cast<int32_t>(sums[j]);
                   }
                 });
    return overflow;
  }

  int64_t own_weight_bytes() const override { return prepared_.bytes(); }
  // W (input 1) shifted when the kernel was made is not read again; its zero point still is.
  bool reads_constant_input(std::size_t i) const override { return !(prepared_.ready && i == 1); }

 private:
  WindowAttrs attrs_;
  int64_t group_;
  PreparedW prepared_;
};

// --- QLinearConv ----------------------------------------------------------------------------------------

class QLinearConvKernel final : public Kernel {
 public:
  QLinearConvKernel(WindowAttrs attrs, int64_t group, PreparedW prepared)
      : attrs_(std::move(attrs)), group_(group), prepared_(std::move(prepared)) {}

  Status run(KernelContext& ctx) const override {
    std::vector<const Tensor*> in(8);
    for (std::size_t i = 0; i < in.size(); ++i) {
      TANDEM_ASSIGN_OR_RETURN(in[i], ew::required_input(ctx, i));
    }
    const Tensor& x = *in[0];
    const Tensor& w = *in[3];
    TANDEM_ASSIGN_OR_RETURN(const ConvGeometry c, conv_geometry(ctx, attrs_, group_, x, w));
    TANDEM_RETURN_IF_ERROR(same_type(ctx, in[2], "x_zero_point", x, "x"));
    TANDEM_RETURN_IF_ERROR(same_type(ctx, in[5], "w_zero_point", w, "w"));
    TANDEM_ASSIGN_OR_RETURN(const QuantParams px, read_quant_params(ctx, in[1], in[2], {"x"}));
    TANDEM_ASSIGN_OR_RETURN(
        const QuantParams pw,
        read_quant_params(ctx, in[4], in[5], {"w", c.maps, "the output channels of w " + w.describe()}));
    TANDEM_ASSIGN_OR_RETURN(const QuantParams py, read_quant_params(ctx, in[6], in[7], {"y"}));
    const Tensor* bias = ctx.input(8);
    if (bias && (bias->dtype() != DType::kInt32 || bias->rank() != 1 || bias->dim(0) != c.maps))
      return ctx.error("B must be int32 [" + std::to_string(c.maps) + "], got " + bias->describe());
    // Per output map: x_scale * w_scale / y_scale in float32, applied to the exact sum (bias included) in
    // double, as ONNX's reference scales the int32 result in numpy.
    std::vector<float> mult(static_cast<std::size_t>(c.maps));
    for (int64_t m = 0; m < c.maps; ++m)
      mult[static_cast<std::size_t>(m)] = px.scale_at(0) * pw.scale_at(m) / py.scale_at(0);
    const std::vector<int16_t> w_run = prepared_.ready ? std::vector<int16_t>() : shifted_weights(w, pw.zero_point);
    Tensor& y = ctx.allocate_output(0, py.zero_point_type, c.y_shape);
    if (y.numel() == 0) return Status::ok();  // else every image is still walked: 2^40 for x [2^40, 0, 5]
    const auto requantize = [&](auto* out) {
      using Q = std::remove_pointer_t<decltype(out)>;
      integer_conv(c, group_, shifted_input(x, px.zero_point_at(0)), prepared_.ready ? prepared_.w16 : w_run,
                   prepared_.ready, ctx,
                   [&](int64_t n, int64_t map, const std::vector<int64_t>& sums) {
                     Q* o = out + (n * c.maps + map) * c.out_size;
                     for (int64_t mm = 0, j = 0; mm < c.group_maps; ++mm) {
                       const int64_t b = bias ? bias->data<int32_t>()[map + mm] : 0;
                       const double scale = mult[static_cast<std::size_t>(map + mm)];
                       for (int64_t i = 0; i < c.out_size; ++i, ++j)
                         o[j] = quantize_value<Q>(static_cast<double>(sums[static_cast<std::size_t>(j)] + b) * scale,
                                                  py.zero_point_at(0));
                     }
                   });
    };
    if (py.zero_point_type == DType::kUInt8)
      requantize(y.data<uint8_t>());
    else
      requantize(y.data<int8_t>());
    return Status::ok();
  }

  int64_t own_weight_bytes() const override { return prepared_.bytes(); }
  // w (input 3) shifted when the kernel was made is not read again; its scale and zero point still are.
  bool reads_constant_input(std::size_t i) const override { return !(prepared_.ready && i == 3); }

 private:
  WindowAttrs attrs_;
  int64_t group_;
  PreparedW prepared_;
};

Result<KernelPtr> make_integer_conv(const KernelInit& init, bool qlinear) {
  auto attrs = read_window_attrs(init.node());
  if (!attrs) return init.error(attrs.status().message());
  const int64_t group = attr_int(init.node(), "group", 1);
  if (group < 1) return init.error("group must be 1 or more, got " + std::to_string(group));
  if (qlinear) return KernelPtr(new QLinearConvKernel(std::move(*attrs), group, prepare_weights(init, 3)));
  return KernelPtr(new ConvIntegerKernel(std::move(*attrs), group, prepare_weights(init, 1)));
}

}  // namespace

void register_integer_conv_kernels(KernelRegistry& r) {
  r.add("ConvInteger", [](const KernelInit& init) { return make_integer_conv(init, false); });
  r.add("QLinearConv", [](const KernelInit& init) { return make_integer_conv(init, true); });
}

}  // namespace tandem::cpu
