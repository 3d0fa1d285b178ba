// AffineGrid (opset 20): the sampling grid of a batch of affine transforms, GridSample's input. For 2-D,
// theta [N, 2, 3] and size [N, C, H, W] give grid[n, h, w] = theta[n] · (x_w, y_h, 1); for 3-D, theta
// [N, 3, 4] and size [N, C, D, H, W] give grid[n, d, h, w] = theta[n] · (x_w, y_h, z_d, 1). The base
// coordinates run over [-1, 1]: through the end pixels' centres with align_corners (-1 + 2i / (L - 1); a
// length of 1 gives -1, as ONNX's reference has it), else through their outer edges (-1 + (2i + 1) / L).
// Arithmetic in double. A grid of model size checks the run's control as it goes (OutputProgress).
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

class AffineGridKernel final : public Kernel {
 public:
  explicit AffineGridKernel(bool align_corners) : align_corners_(align_corners) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* theta, required_input(ctx, 0, "theta"));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* size_t_, required_input(ctx, 1, "size"));
    TANDEM_ASSIGN_OR_RETURN(std::vector<int64_t> size, read_ints(ctx, *size_t_, "size"));
    if (size.size() != 4 && size.size() != 5)
      return ctx.error("size must be [N, C, H, W] or [N, C, D, H, W], got " + std::to_string(size.size()) +
                       " values");
    const auto spatial = static_cast<int64_t>(size.size()) - 2;  // 2 or 3
    for (int64_t v : size)
      if (v < 0) return ctx.error("size holds a negative length " + std::to_string(v));
    const int64_t n = size[0];
    if (theta->rank() != 3 || theta->dim(0) != n || theta->dim(1) != spatial || theta->dim(2) != spatial + 1)
      return ctx.error("theta must be [" + std::to_string(n) + ", " + std::to_string(spatial) + ", " +
                       std::to_string(spatial + 1) + "] for size " + shape_string(size) + ", got " +
                       theta->describe());
    std::vector<int64_t> out_shape = {n};
    for (int64_t i = 2; i < static_cast<int64_t>(size.size()); ++i) out_shape.push_back(size[i]);
    out_shape.push_back(spatial);
    TANDEM_RETURN_IF_ERROR(check_output_size(ctx, out_shape, theta->dtype()));

    // The spatial lengths in output order (D,) H, W. Coordinates are computed as needed, not tabled: a
    // table per axis took model-sized memory before the output (found by the fuzzer).
    const std::vector<int64_t> lengths(size.begin() + 2, size.end());
    Status status;
    const bool known = dispatch(theta->dtype(), GridTypes{}, [&](auto tag) {
      using T = typename decltype(tag)::type;
      using Tr = ElementTraits<T>;
      const T* th = theta->data<T>();
      T* g = ctx.allocate_output(0, theta->dtype(), out_shape).data<T>();
      const int64_t points = shape_numel(out_shape) / std::max<int64_t>(1, n * spatial);
      OutputProgress progress(ctx, n * points * spatial, sizeof(T));
      std::vector<double> m(static_cast<std::size_t>(spatial * (spatial + 1)));
      for (int64_t b = 0; b < n; ++b) {
        for (std::size_t k = 0; k < m.size(); ++k)
          m[k] = static_cast<double>(Tr::load(th[b * static_cast<int64_t>(m.size()) + static_cast<int64_t>(k)]));
        for (int64_t p = 0; p < points; ++p) {
          if (status = progress.at((b * points + p) * spatial); !status) return;
          // The point's coordinates (x along W first, as theta's columns are ordered), then 1.
          double c[4];
          int64_t rest = p;
          for (int64_t a = spatial; a-- > 0;) {  // lengths[a] is output axis a: W last
            const int64_t len = lengths[static_cast<std::size_t>(a)];
            c[spatial - 1 - a] = coordinate(rest % len, len);
            rest /= len;
          }
          c[spatial] = 1.0;
          for (int64_t r = 0; r < spatial; ++r) {
            double v = 0;
            for (int64_t k = 0; k <= spatial; ++k) v += m[static_cast<std::size_t>(r * (spatial + 1) + k)] * c[k];
            g[(b * points + p) * spatial + r] = Tr::store(static_cast<compute_t<T>>(v));
          }
        }
      }
    });
    return known ? status : ew::unsupported(ctx, "theta", *theta, GridTypes{});
  }

 private:
  // The base coordinate of index i of an axis `length` long.
  double coordinate(int64_t i, int64_t length) const {
    const auto d = static_cast<double>(i), l = static_cast<double>(length);
    if (align_corners_) return length == 1 ? -1.0 : -1.0 + 2.0 * d / (l - 1.0);
    return -1.0 + (2.0 * d + 1.0) / l;
  }

  bool align_corners_;
};

Result<KernelPtr> make_affine_grid(const KernelInit& init) {
  const int64_t ac = attr_int(init.node(), "align_corners", 0);
  if (ac != 0 && ac != 1) return init.error("align_corners must be 0 or 1, got " + std::to_string(ac));
  return KernelPtr(new AffineGridKernel(ac == 1));
}

}  // namespace

void register_affine_grid_kernels(KernelRegistry& r) { r.add("AffineGrid", make_affine_grid); }

}  // namespace tandem::cpu
