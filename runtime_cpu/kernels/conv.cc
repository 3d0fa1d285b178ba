// Conv (float32, 1 to 3 spatial dimensions): each image and group is one matrix product
// Y_g[M/group x out] = W_g[M/group x K] * col[K x out], K = C/group * kernel elements. `col` holds the input
// patches (im2col); a 1x1 kernel with unit strides and no padding reads the input in place. W's row-major
// layout [M, C/group, k...] already is that left operand, so constant weights need no repacking: the
// factory only checks them once. With constant weights and an output of a few positions (a 1-D Conv at
// batch 1) the product runs on panels of W packed at the first such run instead (panel_product.h).
#include <algorithm>
#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/conv_patches.h"
#include "runtime_cpu/kernels/float_conv_operands.h"
#include "runtime_cpu/kernels/gemm.h"
#include "runtime_cpu/kernels/panel_product.h"
#include "runtime_cpu/kernels/sub_families.h"
#include "runtime/window_geometry.h"

namespace tandem::cpu {
namespace {

class ConvKernel final : public Kernel {
 public:
  ConvKernel(WindowAttrs attrs, int64_t group, Tensor weights)
      : attrs_(std::move(attrs)), group_(group), weights_(std::move(weights)) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const FloatConvOperands ops, float_conv_operands(ctx, weights_));
    const Tensor* x = ops.x;
    const Tensor* w = ops.w;
    if (Status s = check_conv_operands(x->shape(), w->shape(), group_, attrs_.kernel_shape); !s)
      return ctx.error(s.message());
    const int64_t batch = x->dim(0), channels = x->dim(1), maps = w->dim(0);
    const std::vector<int64_t> in(x->shape().begin() + 2, x->shape().end());
    const std::vector<int64_t> kernel(w->shape().begin() + 2, w->shape().end());
    auto win = resolve_window(attrs_, in, kernel);
    if (!win) return ctx.error(win.status().message());
    TANDEM_ASSIGN_OR_RETURN(const Tensor* bias, float_conv_bias(ctx, maps));

    std::vector<int64_t> y_shape{batch, maps};
    y_shape.insert(y_shape.end(), win->out.begin(), win->out.end());
    Tensor& y = ctx.allocate_output(0, DType::kFloat32, y_shape);
    const Window3 w3 = to_window3(*win);
    const int64_t in_size = shape_numel(in), out_size = shape_numel(win->out);
    const int64_t group_channels = channels / group_, group_maps = maps / group_;
    const int64_t k = group_channels * shape_numel(kernel);
    bool direct = true;  // a 1x1 kernel over every input position: the image itself is the patch matrix
    for (std::size_t i = 0; i < 3; ++i)
      direct =
          direct && w3.kernel[i] == 1 && w3.stride[i] == 1 && w3.pad_begin[i] == 0 && w3.out[i] == w3.in[i];
    const int64_t rows = w3.out[0] * w3.out[1], width = w3.out[2];
    // Constant W and a few output positions: the product on W's panels, over the patches transposed (all
    // positions at once); otherwise sgemm over bands of patch rows.
    const std::vector<PanelMatrix>* panels = nullptr;
    if (weights_.defined() && out_size <= kPanelProductMaxColumns && out_size * k <= kPatchBudget)
      if (const std::vector<PanelMatrix>& p = packed(); !p.empty()) panels = &p;
    const int64_t band =
        direct || panels ? rows : std::max<int64_t>(1, std::min(rows, kPatchBudget / std::max<int64_t>(1, k * width)));
    std::vector<float> col(direct && !panels ? 0 : static_cast<std::size_t>(k * band * width));
    ctx.note_workspace(col.size() * sizeof(float));
    const float* px = x->data<float>();
    const float* pw = w->data<float>();
    float* py = y.data<float>();
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t g = 0; g < group_; ++g) {
        const float* xg = px + (n * channels + g * group_channels) * in_size;
        float* yg = py + (n * maps + g * group_maps) * out_size;
        if (panels) {
          im2row(xg, group_channels, w3, col.data());
          panel_multiply((*panels)[static_cast<std::size_t>(g)], col.data(), out_size, yg, out_size);
        } else {
          for (int64_t r = 0; r < rows; r += band) {
            const int64_t r_end = std::min(rows, r + band), cols = (r_end - r) * width;
            if (!direct) im2col(xg, group_channels, w3, r, r_end, col.data());
            if (Status s = sgemm(false, false, group_maps, cols, k, 1.0f, pw + g * group_maps * k, k,
                                 direct ? xg : col.data(), cols, 0.0f, yg + r * width, out_size);
                !s)
              return ctx.error(s.message());
          }
        }
        if (bias) add_row_bias(yg, bias->data<float>() + g * group_maps, group_maps, out_size);
      }
    return Status::ok();
  }

  int64_t own_weight_bytes() const override {
    if (!packed_.load(std::memory_order_acquire)) return -1;  // W read in place
    int64_t bytes = static_cast<int64_t>(weights_.nbytes());
    for (const PanelMatrix& p : panels_) bytes += static_cast<int64_t>(p.bytes());
    return bytes;
  }

 private:
  // Each group's W in panels, packed by the first run that needs them (a Conv whose outputs are wide never
  // holds them); empty when TANDEM_RNN_KERNEL=reference leaves every product to sgemm.
  const std::vector<PanelMatrix>& packed() const {
    std::call_once(pack_once_, [&] {
      const int64_t maps = weights_.dim(0), group_maps = maps / group_, k = weights_.numel() / maps;
      for (int64_t g = 0; g < group_; ++g) {
        PanelMatrix p = pack_panel_matrix(weights_.data<float>() + g * group_maps * k, group_maps, k);
        if (!p.isa) break;
        panels_.push_back(std::move(p));
      }
      packed_.store(!panels_.empty(), std::memory_order_release);
    });
    return panels_;
  }

  WindowAttrs attrs_;
  int64_t group_;
  Tensor weights_;  // W when it is an initializer, checked once; undefined when computed at run time
  mutable std::once_flag pack_once_;
  mutable std::vector<PanelMatrix> panels_;
  mutable std::atomic<bool> packed_{false};
};

Result<KernelPtr> make_conv(const KernelInit& init) {
  prepare_sgemm();
  auto attrs = read_window_attrs(init.node());
  if (!attrs) return init.error(attrs.status().message());
  const int64_t group = attr_int(init.node(), "group", 1);
  if (group < 1) return init.error("group must be 1 or more, got " + std::to_string(group));
  Tensor weights;
  if (TensorDataPtr w = init.constant_input(1)) {
    if (w->dtype != DType::kFloat32)
      return init.error("W must be float32, got " + std::string(dtype_name(w->dtype)));
    if (Status s = check_conv_operands({}, w->dims, group, attrs->kernel_shape); !s) return init.error(s.message());
    weights = Tensor::from_constant(w);
  }
  return KernelPtr(new ConvKernel(std::move(*attrs), group, std::move(weights)));
}

}  // namespace

void register_conv_kernels(KernelRegistry& r) { r.add("Conv", make_conv); }

}  // namespace tandem::cpu
