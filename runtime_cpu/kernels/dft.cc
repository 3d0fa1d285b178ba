// DFT (opsets 17 and 20): the Fourier transform along one axis of a real ([..., 1]) or complex ([..., 2])
// signal, giving a complex [..., 2] result. The axis is an attribute at 17 (default 1), an input at 20
// (a scalar, default -2). dft_length zero-pads or truncates the axis before the transform;
// onesided keeps the first dft_length / 2 + 1 bins (the rest of a real signal's spectrum mirrors them);
// inverse transforms back with the 1/n scale. Computed in double (fourier.h), stored in the input's type.
#include <algorithm>
#include <string>
#include <vector>

#include "runtime_cpu/kernels/fourier.h"
#include "runtime_cpu/kernels/register.h"
#include "runtime_cpu/kernels/signal_common.h"
#include "runtime_cpu/kernels/tensor_ops.h"

namespace tandem::cpu {
namespace {

template <typename T>
void transform(const Tensor& x, int64_t axis, int64_t length, int64_t out_len, bool inverse, Tensor& y) {
  const auto& s = x.shape();
  const std::size_t r = s.size();
  int64_t outer = 1, inner = 1;
  for (std::size_t d = 0; d < static_cast<std::size_t>(axis); ++d) outer *= s[d];
  for (std::size_t d = static_cast<std::size_t>(axis) + 1; d + 1 < r; ++d) inner *= s[d];
  const int64_t n_in = s[static_cast<std::size_t>(axis)], comps = s[r - 1], used = std::min(n_in, length);
  const FourierPlan plan(length, inverse);
  std::vector<Complex> buf(static_cast<std::size_t>(length)), res(static_cast<std::size_t>(length));
  const T* px = x.data<T>();
  T* py = y.data<T>();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      std::fill(buf.begin(), buf.end(), Complex(0.0));
      for (int64_t j = 0; j < used; ++j) {
        const T* e = px + ((o * n_in + j) * inner + i) * comps;
        const double re = static_cast<double>(ElementTraits<T>::load(e[0]));
        const double im = comps == 2 ? static_cast<double>(ElementTraits<T>::load(e[1])) : 0.0;
        buf[static_cast<std::size_t>(j)] = Complex(re, im);
      }
      plan.run(buf.data(), res.data());
      for (int64_t k = 0; k < out_len; ++k) {
        T* e = py + ((o * out_len + k) * inner + i) * 2;
        e[0] = ElementTraits<T>::store(static_cast<compute_t<T>>(res[static_cast<std::size_t>(k)].real()));
        e[1] = ElementTraits<T>::store(static_cast<compute_t<T>>(res[static_cast<std::size_t>(k)].imag()));
      }
    }
}

class DftKernel final : public Kernel {
 public:
  // axis_input: the axis comes from input 2 (opset 20), `axis` being its default.
  DftKernel(int64_t axis, bool axis_input, bool onesided, bool inverse)
      : axis_(axis), axis_input_(axis_input), onesided_(onesided), inverse_(inverse) {}

  Status run(KernelContext& ctx) const override {
    const Tensor* x = ctx.input(0);
    if (!x) return ctx.error("input is required");
    const auto r = static_cast<int64_t>(x->rank());
    if (r < 2 || (x->shape().back() != 1 && x->shape().back() != 2))
      return ctx.error("input must be [batch, ..., 1] (real) or [batch, ..., 2] (complex), got " + x->describe());
    if (axis_input_ && onesided_ && x->shape().back() == 2)  // opset 20, as ONNX's own inference says
      return ctx.error("onesided needs a real input ([..., 1]), got a complex one: " + x->describe());
    int64_t given = axis_;
    if (const Tensor* a = axis_input_ ? ctx.input(2) : nullptr) {
      auto v = read_scalar_int(*a, "axis");
      if (!v) return ctx.error(v.status().message());
      given = *v;
    }
    const int64_t axis = given < 0 ? given + r : given;
    if (axis < 0 || axis > r - 2)
      return ctx.error("axis " + std::to_string(given) + " is outside [" + std::to_string(-r) + ", -2] and [0, " +
                       std::to_string(r - 2) + "] for input " + x->describe());
    int64_t length = x->dim(static_cast<std::size_t>(axis));
    if (const Tensor* l = ctx.input(1)) {
      auto v = read_scalar_int(*l, "dft_length");
      if (!v) return ctx.error(v.status().message());
      if (*v < 1 || *v > (int64_t{1} << 30))
        return ctx.error("dft_length must be in [1, 2^30], got " + std::to_string(*v));
      length = *v;
    }
    const int64_t out_len = length == 0 ? 0 : onesided_ ? length / 2 + 1 : length;  // an empty axis: empty
    std::vector<int64_t> shape = x->shape();
    shape[static_cast<std::size_t>(axis)] = out_len;
    shape.back() = 2;
    TANDEM_RETURN_IF_ERROR(check_output_size(ctx, shape, x->dtype()));
    Tensor& y = ctx.allocate_output(0, x->dtype(), shape);
    if (y.numel() == 0) return Status::ok();
    if (!dispatch(x->dtype(), FloatTypes{}, [&](auto tag) {
          transform<typename decltype(tag)::type>(*x, axis, length, out_len, inverse_, y);
        }))
      return ctx.error("input must be a floating-point type, got " + x->describe());
    return Status::ok();
  }

 private:
  int64_t axis_;
  bool axis_input_, onesided_, inverse_;
};

Result<KernelPtr> make_dft(const KernelInit& init) {
  const Node& n = init.node();
  const int64_t onesided = attr_int(n, "onesided", 0), inverse = attr_int(n, "inverse", 0);
  if ((onesided != 0 && onesided != 1) || (inverse != 0 && inverse != 1))
    return init.error("onesided and inverse must be 0 or 1, got " + std::to_string(onesided) + " and " +
                      std::to_string(inverse));
  if (n.opset >= 20) {
    if (onesided == 1 && inverse == 1)  // as the importer's inference (and DFT-17's) refuses it
      return init.error("onesided and inverse cannot both be 1");
    return KernelPtr(new DftKernel(-2, true, onesided == 1, inverse == 1));
  }
  return KernelPtr(new DftKernel(attr_int(n, "axis", 1), false, onesided == 1, inverse == 1));
}

}  // namespace

void register_dft_kernels(KernelRegistry& r) { r.add("DFT", make_dft); }

}  // namespace tandem::cpu
