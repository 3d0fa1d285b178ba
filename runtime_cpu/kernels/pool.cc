// MaxPool (with its optional Indices output), AveragePool, LpPool, GlobalMaxPool, GlobalAveragePool and
// GlobalLpPool, written directly: 1 to 3 spatial dimensions seen as three (Window3), one output element at a
// time. LpPool is (sum of |x|^p over the window's taps inside X)^(1/p): padding adds zeros.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/sub_families.h"
#include "runtime/window_geometry.h"

namespace tandem::cpu {
namespace {

// Kernel taps k in [0, kernel) whose position start + k * dilation lies in [lo, hi), as [first, last).
struct Taps {
  int64_t first, last;
  int64_t count() const { return last - first; }
};
Taps taps(int64_t start, int64_t dilation, int64_t kernel, int64_t lo, int64_t hi) {
  const int64_t first = start >= lo ? 0 : (lo - start + dilation - 1) / dilation;
  const int64_t last = std::min(kernel, start >= hi ? 0 : (hi - start + dilation - 1) / dilation);
  return {std::min(first, last), last};
}

// Calls f(od, oh, ow, taps_d, taps_h, taps_w, start) for every output position of one plane, with the
// taps that fall inside the input and the window's start coordinate in each dimension.
template <typename F>
void for_each_window(const Window3& w, F&& f) {
  for (int64_t od = 0; od < w.out[0]; ++od) {
    const int64_t sd = od * w.stride[0] - w.pad_begin[0];
    const Taps td = taps(sd, w.dilation[0], w.kernel[0], 0, w.in[0]);
    for (int64_t oh = 0; oh < w.out[1]; ++oh) {
      const int64_t sh = oh * w.stride[1] - w.pad_begin[1];
      const Taps th = taps(sh, w.dilation[1], w.kernel[1], 0, w.in[1]);
      for (int64_t ow = 0; ow < w.out[2]; ++ow) {
        const int64_t sw = ow * w.stride[2] - w.pad_begin[2];
        const Taps tw = taps(sw, w.dilation[2], w.kernel[2], 0, w.in[2]);
        f((od * w.out[1] + oh) * w.out[2] + ow, td, th, tw, std::array<int64_t, 3>{sd, sh, sw});
      }
    }
  }
}

template <typename T>
void max_pool(const T* x, int64_t planes, const Window3& w, bool column_major, T* y, int64_t* indices) {
  const int64_t in_size = w.in[0] * w.in[1] * w.in[2], out_size = w.out[0] * w.out[1] * w.out[2];
  for (int64_t p = 0; p < planes; ++p, x += in_size, y += out_size) {
    for_each_window(w, [&](int64_t o, Taps td, Taps th, Taps tw, std::array<int64_t, 3> start) {
      T best = std::numeric_limits<T>::lowest();
      int64_t best_d = -1, best_h = 0, best_w = 0;
      for (int64_t kd = td.first; kd < td.last; ++kd) {
        const int64_t id = start[0] + kd * w.dilation[0];
        for (int64_t kh = th.first; kh < th.last; ++kh) {
          const int64_t ih = start[1] + kh * w.dilation[1];
          const T* row = x + (id * w.in[1] + ih) * w.in[2];
          for (int64_t kw = tw.first; kw < tw.last; ++kw) {
            const int64_t iw = start[2] + kw * w.dilation[2];
            if (row[iw] > best || best_d < 0) {
              best = row[iw];
              best_d = id, best_h = ih, best_w = iw;
            }
          }
        }
      }
      y[o] = best;
      if (indices) {
        // Flat index into X, batch and channel included; storage_order 1 numbers spatial positions
        // column-major.
        const int64_t at = column_major ? best_d + (best_h + best_w * w.in[1]) * w.in[0]
                                        : (best_d * w.in[1] + best_h) * w.in[2] + best_w;
        indices[p * out_size + o] = best_d < 0 ? -1 : p * in_size + at;
      }
    });
  }
}

// |v|^p, with p = 1 and 2 exact.
double abs_pow(double v, int64_t p) {
  const double a = std::fabs(v);
  return p == 1 ? a : p == 2 ? a * a : std::pow(a, static_cast<double>(p));
}
double lp_root(double sum, int64_t p) { return p == 1 ? sum : p == 2 ? std::sqrt(sum) : std::pow(sum, 1.0 / p); }

// The sum of f(v) over the window's taps inside the plane x (padding adds nothing), in double.
template <typename T, typename F>
double sum_taps(const T* x, const Window3& w, Taps td, Taps th, Taps tw, const std::array<int64_t, 3>& start, F f) {
  double sum = 0.0;
  for (int64_t kd = td.first; kd < td.last; ++kd) {
    const int64_t id = start[0] + kd * w.dilation[0];
    for (int64_t kh = th.first; kh < th.last; ++kh) {
      const T* row = x + (id * w.in[1] + start[1] + kh * w.dilation[1]) * w.in[2];
      for (int64_t kw = tw.first; kw < tw.last; ++kw) sum += f(static_cast<double>(row[start[2] + kw * w.dilation[2]]));
    }
  }
  return sum;
}

template <typename T>
void lp_pool(const T* x, int64_t planes, const Window3& w, int64_t p_norm, T* y) {
  const int64_t in_size = w.in[0] * w.in[1] * w.in[2], out_size = w.out[0] * w.out[1] * w.out[2];
  for (int64_t p = 0; p < planes; ++p, x += in_size, y += out_size) {
    for_each_window(w, [&](int64_t o, Taps td, Taps th, Taps tw, std::array<int64_t, 3> start) {
      const double sum = sum_taps(x, w, td, th, tw, start, [&](double v) { return abs_pow(v, p_norm); });
      y[o] = static_cast<T>(lp_root(sum, p_norm));
    });
  }
}

template <typename T>
void average_pool(const T* x, int64_t planes, const Window3& w, bool count_include_pad, T* y) {
  const int64_t in_size = w.in[0] * w.in[1] * w.in[2], out_size = w.out[0] * w.out[1] * w.out[2];
  for (int64_t p = 0; p < planes; ++p, x += in_size, y += out_size) {
    for_each_window(w, [&](int64_t o, Taps td, Taps th, Taps tw, std::array<int64_t, 3> start) {
      const double sum = sum_taps(x, w, td, th, tw, start, [](double v) { return v; });
      int64_t count = td.count() * th.count() * tw.count();
      if (count_include_pad) {
        // Padding counts, but not the part of a ceil_mode window that hangs past the end padding.
        count = 1;
        for (std::size_t i = 0; i < 3; ++i)
          count *=
              taps(start[i], w.dilation[i], w.kernel[i], -w.pad_begin[i], w.in[i] + w.pad_end[i]).count();
      }
      y[o] = static_cast<T>(sum / static_cast<double>(count));
    });
  }
}

enum class PoolKind { kMax, kAverage, kLp };

const char* pool_name(PoolKind k) { return k == PoolKind::kMax ? "MaxPool" : k == PoolKind::kAverage ? "AveragePool" : "LpPool"; }

class PoolKernel final : public Kernel {
 public:
  PoolKernel(PoolKind kind, WindowAttrs attrs, bool count_include_pad, bool column_major, int64_t p)
      : kind_(kind),
        is_max_(kind == PoolKind::kMax),
        attrs_(std::move(attrs)),
        count_include_pad_(count_include_pad),
        column_major_(column_major),
        p_(p) {}

  Status run(KernelContext& ctx) const override {
    const Tensor* x = ctx.input(0);
    if (!x) return ctx.error("input 0 (X) is missing");
    const std::size_t spatial = attrs_.kernel_shape.size();
    if (x->rank() != spatial + 2)
      return ctx.error("X " + x->describe() + " must have rank " + std::to_string(spatial + 2) +
                       " for kernel_shape " + shape_string(attrs_.kernel_shape));
    const std::vector<int64_t> in(x->shape().begin() + 2, x->shape().end());
    auto win = resolve_window(attrs_, in, attrs_.kernel_shape);
    if (!win) return ctx.error(win.status().message());
    std::vector<int64_t> y_shape{x->dim(0), x->dim(1)};
    y_shape.insert(y_shape.end(), win->out.begin(), win->out.end());
    const Window3 w3 = to_window3(*win);
    const int64_t planes = x->dim(0) * x->dim(1);
    Tensor& y = ctx.allocate_output(0, x->dtype(), y_shape);
    int64_t* indices = nullptr;
    if (ctx.wants_output(1)) {
      if (!is_max_) return ctx.error(std::string(pool_name(kind_)) + " has one output");
      indices = ctx.allocate_output(1, DType::kInt64, y_shape).data<int64_t>();
    }
    switch (x->dtype()) {
      case DType::kFloat32:
        return run_typed<float>(*x, planes, w3, y, indices);
      case DType::kFloat64:
        return run_typed<double>(*x, planes, w3, y, indices);
      case DType::kInt8:
        if (is_max_) return run_typed<int8_t>(*x, planes, w3, y, indices);
        break;
      case DType::kUInt8:
        if (is_max_) return run_typed<uint8_t>(*x, planes, w3, y, indices);
        break;
      default:
        break;
    }
    return ctx.error(std::string(is_max_ ? "MaxPool supports float32, float64, int8 and uint8"
                                         : std::string(pool_name(kind_)) + " supports float32 and float64") +
                     ", got X " + x->describe());
  }

 private:
  template <typename T>
  Status run_typed(const Tensor& x, int64_t planes, const Window3& w3, Tensor& y, int64_t* indices) const {
    if (is_max_) {
      max_pool(x.data<T>(), planes, w3, column_major_, y.data<T>(), indices);
    } else if constexpr (std::is_floating_point_v<T>) {
      if (kind_ == PoolKind::kLp)
        lp_pool(x.data<T>(), planes, w3, p_, y.data<T>());
      else
        average_pool(x.data<T>(), planes, w3, count_include_pad_, y.data<T>());
    }
    return Status::ok();
  }

  PoolKind kind_;
  bool is_max_;
  WindowAttrs attrs_;
  bool count_include_pad_, column_major_;
  int64_t p_;  // LpPool's
};

// LpPool's and GlobalLpPool's p: an int from opset 2 on (a float at 1, which tandem reads if whole).
Result<int64_t> read_p(const KernelInit& init) {
  const Attribute* a = init.node().attribute("p");
  int64_t p = 2;
  if (a && a->kind == Attribute::Kind::kInt) p = a->i;
  if (a && a->kind == Attribute::Kind::kFloat) {
    if (a->f != std::floor(a->f) || !(a->f >= 1 && a->f <= 1e6))
      return init.error("p must be a whole number of 1 or more, got " + std::to_string(a->f));
    p = static_cast<int64_t>(a->f);
  }
  if (p < 1) return init.error("p must be 1 or more, got " + std::to_string(p));
  return p;
}

Result<KernelPtr> make_pool(const KernelInit& init, PoolKind kind) {
  const Node& n = init.node();
  auto attrs = read_window_attrs(n);
  if (!attrs) return init.error(attrs.status().message());
  if (attrs->kernel_shape.empty() || attrs->kernel_shape.size() > 3)
    return init.error("kernel_shape must have 1 to 3 entries, got " + shape_string(attrs->kernel_shape));
  const int64_t count_include_pad = attr_int(n, "count_include_pad", 0);
  const int64_t storage_order = attr_int(n, "storage_order", 0);
  if (count_include_pad != 0 && count_include_pad != 1)
    return init.error("count_include_pad must be 0 or 1, got " + std::to_string(count_include_pad));
  if (storage_order != 0 && storage_order != 1)
    return init.error("storage_order must be 0 or 1, got " + std::to_string(storage_order));
  int64_t p = 2;
  if (kind == PoolKind::kLp) {
    TANDEM_ASSIGN_OR_RETURN(p, read_p(init));
  }
  return KernelPtr(new PoolKernel(kind, std::move(*attrs), count_include_pad == 1, storage_order == 1, p));
}

// Over every spatial position of each (batch, channel) plane; the output keeps the rank with 1s.
class GlobalPoolKernel final : public Kernel {
 public:
  explicit GlobalPoolKernel(PoolKind kind, int64_t p = 2) : kind_(kind), p_(p) {}

  Status run(KernelContext& ctx) const override {
    const Tensor* x = ctx.input(0);
    if (!x) return ctx.error("input 0 (X) is missing");
    if (x->rank() < 2) return ctx.error("X must have rank 2 or more ([N, C, ...]), got " + x->describe());
    std::vector<int64_t> y_shape(x->rank(), 1);
    y_shape[0] = x->dim(0);
    y_shape[1] = x->dim(1);
    Tensor& y = ctx.allocate_output(0, x->dtype(), y_shape);
    const int64_t planes = x->dim(0) * x->dim(1), size = planes ? x->numel() / planes : 0;
    if (x->dtype() == DType::kFloat32) return run_typed(x->data<float>(), planes, size, y.data<float>());
    if (x->dtype() == DType::kFloat64) return run_typed(x->data<double>(), planes, size, y.data<double>());
    return ctx.error("X must be float32 or float64, got " + x->describe());
  }

 private:
  template <typename T>
  Status run_typed(const T* x, int64_t planes, int64_t size, T* y) const {
    for (int64_t p = 0; p < planes; ++p, x += size) {
      if (kind_ == PoolKind::kMax) {
        T best = size ? x[0] : -std::numeric_limits<T>::infinity();
        for (int64_t i = 1; i < size; ++i) best = x[i] > best ? x[i] : best;
        y[p] = best;
      } else if (kind_ == PoolKind::kLp) {
        double sum = 0.0;
        for (int64_t i = 0; i < size; ++i) sum += abs_pow(x[i], p_);
        y[p] = static_cast<T>(lp_root(sum, p_));
      } else {
        double sum = 0.0;
        for (int64_t i = 0; i < size; ++i) sum += x[i];
        y[p] = static_cast<T>(sum / static_cast<double>(size));
      }
    }
    return Status::ok();
  }

  PoolKind kind_;
  int64_t p_;  // GlobalLpPool's
};

}  // namespace

void register_pool_kernels(KernelRegistry& r) {
  r.add("MaxPool", [](const KernelInit& init) { return make_pool(init, PoolKind::kMax); });
  r.add("AveragePool", [](const KernelInit& init) { return make_pool(init, PoolKind::kAverage); });
  r.add("LpPool", [](const KernelInit& init) { return make_pool(init, PoolKind::kLp); });
  r.add("GlobalMaxPool",
        [](const KernelInit&) -> Result<KernelPtr> { return KernelPtr(new GlobalPoolKernel(PoolKind::kMax)); });
  r.add("GlobalAveragePool",
        [](const KernelInit&) -> Result<KernelPtr> { return KernelPtr(new GlobalPoolKernel(PoolKind::kAverage)); });
  r.add("GlobalLpPool", [](const KernelInit& init) -> Result<KernelPtr> {
    TANDEM_ASSIGN_OR_RETURN(const int64_t p, read_p(init));
    return KernelPtr(new GlobalPoolKernel(PoolKind::kLp, p));
  });
}

}  // namespace tandem::cpu
