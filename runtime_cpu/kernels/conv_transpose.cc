// ConvTranspose (float32, 1 to 3 spatial dimensions), the gradient of Conv with respect to its input: each
// input element scatters W times itself into the output. Per image and group that is one matrix product and
// a col2im: col[K x in] = W_g^T * X_g with K = M/group * kernel elements (W's row-major [C, M/group, k...]
// is W_g = [C/group x K], so the product reads it transposed in place), then every column entry is added to
// the output position its input position and kernel offset land on.
#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "runtime/overflow_check.h"
#include "runtime/window_geometry.h"
#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/float_conv_operands.h"
#include "runtime_cpu/kernels/gemm.h"
#include "runtime_cpu/kernels/sub_families.h"
#include "runtime_cpu/kernels/tensor_ops.h"

namespace tandem::cpu {
namespace {

// The attributes beyond Conv's that fix the output: output_padding and output_shape (spatial only; a list
// of rank + 2 entries, as some exporters write, keeps its trailing ones).
struct TransposeAttrs {
  WindowAttrs window;
  std::vector<int64_t> output_padding, output_shape;
  int64_t group = 1;
};

// Everything resolved, seen as three spatial dimensions (leading ones of size 1).
struct Geometry {
  std::array<int64_t, 3> in{1, 1, 1}, out{1, 1, 1}, kernel{1, 1, 1}, stride{1, 1, 1}, dilation{1, 1, 1},
      pad_begin{0, 0, 0};
  std::vector<int64_t> out_spatial;
};

int64_t floor_div2(int64_t v) { return v >> 1; }  // arithmetic shift: floor(v / 2), INT64_MIN included

Result<Geometry> resolve(const TransposeAttrs& a, const std::vector<int64_t>& in,
                         const std::vector<int64_t>& kernel) {
  const std::size_t r = in.size();
  const WindowAttrs& w = a.window;
  auto sized = [&](const std::vector<int64_t>& v, std::size_t n, const char* what) -> Status {
    if (!v.empty() && v.size() != n)
      return Status::error(std::string(what) + " " + shape_string(v) + " needs " + std::to_string(n) +
                           " entries for " + std::to_string(r) + " spatial dimensions");
    return Status::ok();
  };
  TANDEM_RETURN_IF_ERROR(sized(w.strides, r, "strides"));
  TANDEM_RETURN_IF_ERROR(sized(w.dilations, r, "dilations"));
  TANDEM_RETURN_IF_ERROR(sized(w.pads, 2 * r, "pads"));
  TANDEM_RETURN_IF_ERROR(sized(a.output_padding, r, "output_padding"));
  std::vector<int64_t> out_shape = a.output_shape;
  if (out_shape.size() == r + 2) out_shape.erase(out_shape.begin(), out_shape.begin() + 2);
  TANDEM_RETURN_IF_ERROR(sized(out_shape, r, "output_shape"));
  Geometry g;
  const std::size_t lead = 3 - r;
  // A zero-size X or W may have other dimensions up to 2^40, so sizes are worked out with overflow checks
  // (a stride of 2^62 wrapped them round to nonsense: undefined behaviour).
  OverflowCheck check;
  for (std::size_t i = 0; i < r; ++i) {
    const int64_t s = w.strides.empty() ? 1 : w.strides[i], d = w.dilations.empty() ? 1 : w.dilations[i];
    const int64_t out_pad = a.output_padding.empty() ? 0 : a.output_padding[i];
    const int64_t extent = check.add(check.mul(kernel[i] - 1, d), 1);
    // The output before padding is cut off.
    const int64_t full = check.add(check.add(check.mul(s, in[i] - 1), out_pad), extent);
    int64_t out = 0, begin = 0;
    if (!out_shape.empty() || w.auto_pad == "SAME_UPPER" || w.auto_pad == "SAME_LOWER") {
      // The output size is given (or in * stride for SAME); the difference is padding, split with the odd
      // element at the end for SAME_UPPER and at the start otherwise. It is negative when the output is
      // larger than what the input reaches: the extra positions stay zero.
      out = !out_shape.empty() ? out_shape[i] : check.mul(in[i], s);
      const int64_t total = check.add(full, -out);
      begin = w.auto_pad == "SAME_UPPER" ? floor_div2(total) : total - floor_div2(total);
    } else {
      const bool explicit_pads = w.auto_pad == "NOTSET" && !w.pads.empty();
      begin = explicit_pads ? w.pads[i] : 0;
      out = check.add(check.add(full, -begin), explicit_pads ? -w.pads[i + r] : 0);
    }
    if (check.overflowed())
      return Status::error("the output size along spatial axis " + std::to_string(i) +
                           " overflows int64 (strides, dilations, pads, output_padding or output_shape too large)");
    if (out < 0)
      return Status::error("the output would have " + std::to_string(out) + " elements along spatial axis " +
                           std::to_string(i));
    g.in[lead + i] = in[i];
    g.out[lead + i] = out;
    g.kernel[lead + i] = kernel[i];
    g.stride[lead + i] = s;
    g.dilation[lead + i] = d;
    g.pad_begin[lead + i] = begin;
    g.out_spatial.push_back(out);
  }
  return g;
}

// Input positions i in [0, in) whose output coordinate i * stride + offset lies in [0, out).
std::pair<int64_t, int64_t> reaching_inputs(int64_t offset, int64_t stride, int64_t in, int64_t out) {
  const int64_t first = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  const int64_t last = out - 1 - offset < 0 ? 0 : (out - 1 - offset) / stride + 1;
  const int64_t hi = std::min(last, in);
  return {std::min(first, hi), hi};
}

// Adds the column matrix of one image group, for the input rows [row_begin, row_end) (a row is one (d, h)
// input position, in[2] elements wide), into the output y [maps, out...].
void col2im(const float* col, int64_t maps, const Geometry& g, int64_t row_begin, int64_t row_end, float* y) {
  const auto& in = g.in;
  const auto& out = g.out;
  const int64_t width = in[2], ld = (row_end - row_begin) * width, out_size = out[0] * out[1] * out[2];
  for (int64_t m = 0; m < maps; ++m)
    for (int64_t kd = 0; kd < g.kernel[0]; ++kd)
      for (int64_t kh = 0; kh < g.kernel[1]; ++kh)
        for (int64_t kw = 0; kw < g.kernel[2]; ++kw, col += ld) {
          const int64_t off_d = kd * g.dilation[0] - g.pad_begin[0];
          const int64_t off_h = kh * g.dilation[1] - g.pad_begin[1];
          const int64_t off_w = kw * g.dilation[2] - g.pad_begin[2];
          const auto [w_lo, w_hi] = reaching_inputs(off_w, g.stride[2], width, out[2]);
          for (int64_t r = row_begin; r < row_end; ++r) {
            const int64_t od = r / in[1] * g.stride[0] + off_d, oh = r % in[1] * g.stride[1] + off_h;
            if (od < 0 || od >= out[0] || oh < 0 || oh >= out[1]) continue;
            const float* src = col + (r - row_begin) * width;
            float* row = y + m * out_size + (od * out[1] + oh) * out[2];
            for (int64_t iw = w_lo; iw < w_hi; ++iw) row[iw * g.stride[2] + off_w] += src[iw];
          }
        }
}

// The column matrix is built a band of input rows at a time, so it stays bounded (about 4 MiB).
constexpr int64_t kColumnBudget = int64_t{1} << 20;  // floats

Status check_weights(const std::vector<int64_t>& x_shape, const std::vector<int64_t>& w_shape, int64_t group,
                     const std::vector<int64_t>& kernel_attr) {
  TANDEM_RETURN_IF_ERROR(check_conv_weights(w_shape, group, kernel_attr, "input channels"));
  if (!x_shape.empty()) {
    if (x_shape.size() != w_shape.size())
      return Status::error("X " + shape_string(x_shape) + " and W " + shape_string(w_shape) +
                           " differ in rank");
    if (x_shape[1] != w_shape[0])
      return Status::error("X has " + std::to_string(x_shape[1]) + " channels but W " +
                           shape_string(w_shape) + " expects " + std::to_string(w_shape[0]));
  }
  return Status::ok();
}

class ConvTransposeKernel final : public Kernel {
 public:
  ConvTransposeKernel(TransposeAttrs attrs, Tensor weights)
      : attrs_(std::move(attrs)), weights_(std::move(weights)) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const FloatConvOperands ops, float_conv_operands(ctx, weights_));
    const Tensor* x = ops.x;
    const Tensor* w = ops.w;
    const int64_t group = attrs_.group;
    if (Status s = check_weights(x->shape(), w->shape(), group, attrs_.window.kernel_shape); !s)
      return ctx.error(s.message());
    const int64_t batch = x->dim(0), channels = x->dim(1), group_maps = w->dim(1), maps = group_maps * group;
    const std::vector<int64_t> in(x->shape().begin() + 2, x->shape().end());
    const std::vector<int64_t> kernel(w->shape().begin() + 2, w->shape().end());
    auto geo = resolve(attrs_, in, kernel);
    if (!geo) return ctx.error(geo.status().message());
    TANDEM_ASSIGN_OR_RETURN(const Tensor* bias, float_conv_bias(ctx, maps));

    std::vector<int64_t> y_shape{batch, maps};
    y_shape.insert(y_shape.end(), geo->out_spatial.begin(), geo->out_spatial.end());
    TANDEM_RETURN_IF_ERROR(check_output_size(ctx, y_shape, DType::kFloat32));  // output_shape is an attribute
    Tensor& y = ctx.allocate_output(0, DType::kFloat32, y_shape);
    if (y.numel() == 0) return Status::ok();  // else every image is still walked: 2^40 for X [2^40, 0, 5]
    float* py = y.data<float>();
    const int64_t out_size = shape_numel(geo->out_spatial), in_size = shape_numel(in);
    std::fill(py, py + y.numel(), 0.0f);
    const int64_t group_channels = channels / group, k = group_maps * shape_numel(kernel);
    const int64_t rows = geo->in[0] * geo->in[1], width = geo->in[2];
    const int64_t band = std::max<int64_t>(1, std::min(rows, kColumnBudget / std::max<int64_t>(1, k * width)));
    std::vector<float> col(static_cast<std::size_t>(k * band * width));
    ctx.note_workspace(col.size() * sizeof(float));
    const float* px = x->data<float>();
    const float* pw = w->data<float>();
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t g = 0; g < group; ++g) {
        const float* xg = px + (n * channels + g * group_channels) * in_size;
        float* yg = py + (n * maps + g * group_maps) * out_size;
        for (int64_t r = 0; r < rows; r += band) {
          const int64_t r_end = std::min(rows, r + band), cols = (r_end - r) * width;
          if (Status s = sgemm(true, false, k, cols, group_channels, 1.0f, pw + g * group_channels * k, k,
                               xg + r * width, in_size, 0.0f, col.data(), cols);
              !s)
            return ctx.error(s.message());
          col2im(col.data(), group_maps, *geo, r, r_end, yg);
        }
        if (bias) add_row_bias(yg, bias->data<float>() + g * group_maps, group_maps, out_size);
      }
    return Status::ok();
  }

 private:
  TransposeAttrs attrs_;
  Tensor weights_;  // W when it is an initializer, checked once; undefined when computed at run time
};

Result<KernelPtr> make_conv_transpose(const KernelInit& init) {
  prepare_sgemm();
  auto window = read_window_attrs(init.node());
  if (!window) return init.error(window.status().message());
  TransposeAttrs a;
  a.window = std::move(*window);
  a.group = attr_int(init.node(), "group", 1);
  a.output_padding = attr_ints(init.node(), "output_padding");
  a.output_shape = attr_ints(init.node(), "output_shape");
  if (a.group < 1) return init.error("group must be 1 or more, got " + std::to_string(a.group));
  for (int64_t v : a.output_padding)
    if (v < 0) return init.error("output_padding " + shape_string(a.output_padding) + " has a negative entry");
  for (int64_t v : a.output_shape)
    if (v < 0) return init.error("output_shape " + shape_string(a.output_shape) + " has a negative entry");
  // Bounded so that col2im's offset arithmetic cannot overflow (resolve checks the sizes themselves).
  constexpr int64_t kMax = int64_t{1} << 32;
  for (const auto* list : {&a.window.strides, &a.window.dilations, &a.window.pads})
    for (int64_t v : *list)
      if (v > kMax) return init.error("strides, dilations and pads must be at most 2^32, got " + std::to_string(v));
  Tensor weights;
  if (TensorDataPtr w = init.constant_input(1)) {
    if (w->dtype != DType::kFloat32)
      return init.error("W must be float32, got " + std::string(dtype_name(w->dtype)));
    if (Status s = check_weights({}, w->dims, a.group, a.window.kernel_shape); !s) return init.error(s.message());
    weights = Tensor::from_constant(w);
  }
  return KernelPtr(new ConvTransposeKernel(std::move(a), std::move(weights)));
}

}  // namespace

void register_conv_transpose_kernels(KernelRegistry& r) { r.add("ConvTranspose", make_conv_transpose); }

}  // namespace tandem::cpu
